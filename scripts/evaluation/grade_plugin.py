"""A pytest plugin the grade loads (`-p grade_plugin`) before any test or conftest: it records each test's outcome
from pytest's own reports and writes them, signed, to the report file the harness named. tasks.run_tests reads
that file, never pytest's printed summary, so a module that prints "PASSED …", exits early or kills its process
leaves no valid report (nothing passes) rather than a forged one.

The key arrives on a pipe the harness wrote and closed (FLOTILLA_GRADE_KEY_FD), read and closed here at import,
before the module under test is imported: the module cannot read it from the environment or the pipe. It could
still find it in this plugin's memory; see docs/EVALUATION.md.
"""
import hashlib
import hmac
import json
import os

_descriptor = os.environ.pop("FLOTILLA_GRADE_KEY_FD", None)
_report = os.environ.pop("FLOTILLA_GRADE_REPORT", None)
_key = b""
if _descriptor is not None:
    with os.fdopen(int(_descriptor), "rb") as pipe:
        _key = pipe.read()
_outcomes = {}
_RANK = {"PASSED": 0, "SKIPPED": 1, "FAILED": 2, "ERROR": 3}


def pytest_runtest_logreport(report):
    """A test's outcome is the worst of its phases: a failed setup or teardown is an ERROR, as pytest prints it."""
    if report.passed:
        outcome = "PASSED" if report.when == "call" else None
    elif report.skipped:
        outcome = "SKIPPED"
    else:
        outcome = "FAILED" if report.when == "call" else "ERROR"
    if outcome is None:
        return
    known = _outcomes.get(report.nodeid)
    if known is None or _RANK[outcome] > _RANK[known]:
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session, exitstatus):
    if not _report or not _key:
        return
    payload = json.dumps({"outcomes": _outcomes, "exitstatus": int(exitstatus)}, sort_keys=True)
    signature = hmac.new(_key, payload.encode(), hashlib.sha256).hexdigest()
    with open(_report, "w", encoding="utf-8") as handle:
        json.dump({"payload": payload, "signature": signature}, handle)
