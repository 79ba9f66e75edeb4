"""A task instance made into files, and graded.

An instance (a dict of the task list) names a project, a module, a function, its tier and kind (`body_removed`
or `mutation`), the names the module's slice keeps, the mutations, the test file, and its visible, hidden and
pass-to-pass test ids. From the pinned sdist it becomes:
  - the task's repository (git, one commit): the project with the module cut to the slice and broken, the visible
    test file only, `verify.sh` running the visible tests, ACCEPTANCE.md;
  - the grade: outside any sandbox, in a fresh directory, the original slice's project and the original test file
    with the module an arm left behind put in; solved when every test that passed on the original slice passes.
"""
import ast
import atexit
import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_task import defined_names, extract  # noqa: E402
import mutate  # noqa: E402
import split  # noqa: E402
from projects import project as project_named  # noqa: E402

TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test|tests|test[^/]*)\.py$")


def run(command, cwd=None, env=None, timeout=None):
    """Runs command, output merged; past `timeout` it is killed and its status is None."""
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=cwd, env=env, timeout=timeout, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        if isinstance(output, bytes):
            output = output.decode("utf-8", "replace")
        result = subprocess.CompletedProcess(command, None, output + f"\n(killed after {timeout} s)\n")
    return result, time.monotonic() - started


_sdists = {}


def sdist(project, cache):
    """The sdist's unpacked folder and its archive's SHA-256, downloaded once into `cache` (hashed once a run)."""
    if (project.folder, cache) not in _sdists:
        _sdists[(project.folder, cache)] = _fetch(project, cache)
    return _sdists[(project.folder, cache)]


def _fetch(project, cache):
    folder = os.path.join(cache, project.folder)
    archives = [f for f in os.listdir(cache) if f.startswith(project.folder) and f.endswith(".tar.gz")] \
        if os.path.isdir(cache) else []
    if not archives:
        os.makedirs(cache, exist_ok=True)
        result, _ = run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                         "-d", cache, project.requirement], timeout=300)
        if result.returncode != 0:
            raise SystemExit(f"pip download {project.requirement} failed:\n{result.stdout[-2000:]}")
        archives = [f for f in os.listdir(cache) if f.startswith(project.folder) and f.endswith(".tar.gz")]
    archive = os.path.join(cache, archives[0])
    if not os.path.isdir(folder):
        with tarfile.open(archive) as handle:
            handle.extractall(cache, filter="data")
    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return folder, digest


def laid_out(instance, cache):
    """The folder holding the instance's project as a task's repository lays it out."""
    project = project_named(instance["project"])
    return layout(project, sdist(project, cache)[0])


def original(instance, cache, path):
    """A file of the project as the sdist has it."""
    with open(os.path.join(laid_out(instance, cache), path), encoding="utf-8") as handle:
        return handle.read()


def module_source(instance, cache):
    return original(instance, cache, instance["module"])


_layouts = {}


def layout(project, folder):
    """The project's files as a task's repository lays them out (built once per process, in a temporary
    folder)."""
    if folder in _layouts:
        return _layouts[folder]
    base = tempfile.mkdtemp(prefix=f"eval-layout-{project.name}-")
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    for source, destination in project.files.items():
        origin = os.path.join(folder, source)
        goal = os.path.join(base, destination)
        if os.path.isdir(origin):
            shutil.copytree(origin, goal, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            os.makedirs(os.path.dirname(goal) or base, exist_ok=True)
            shutil.copy(origin, goal)
    _layouts[folder] = base
    return base


def slices(instance, source):
    """(original slice, broken slice) of the module."""
    also = instance.get("keep", [])
    original = extract(source, instance["function"], also, stub=False)
    if instance["kind"] == "body_removed":
        broken = extract(source, instance["function"], also, stub=True)
    else:
        broken = mutate.apply(original, instance["mutations"])
    return original, broken


def write_project(instance, cache, directory, module_text, test_text):
    """The project laid out in `directory` with the module and the test file given; the project's other test
    files are left out."""
    project = project_named(instance["project"])
    shutil.copytree(laid_out(instance, cache), directory, symlinks=True)
    for root, _, files in os.walk(directory):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), directory)
            if TEST_FILE.search(relative) and relative not in project.helpers and name != "__init__.py":
                os.remove(os.path.join(root, name))
    with open(os.path.join(directory, instance["module"]), encoding="utf-8") as handle:
        before = handle.read()
    with open(os.path.join(directory, instance["module"]), "w", encoding="utf-8") as handle:
        handle.write(module_text)
    with open(os.path.join(directory, instance["test_file"]), "w", encoding="utf-8") as handle:
        handle.write(test_text)
    prune_imports(directory, instance["module"], before, module_text, instance["test_file"])


def module_name(path):
    """`pkg/mod.py` → `pkg.mod`; `pkg/__init__.py` → `pkg`."""
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_module(relative, node):
    """The absolute name of the module an ImportFrom in the file `relative` reads."""
    if not node.level:
        return node.module or ""
    here = module_name(relative)
    package = here if relative.endswith("__init__.py") else here.rpartition(".")[0]
    anchor = package.split(".") if package else []
    if node.level > 1:
        anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def public_names(source):
    """What `from module import *` takes: `__all__` when it is a literal list, else the names without `_`."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets) \
                and isinstance(node.value, (ast.List, ast.Tuple)):
            return {e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return {name for node in tree.body for name in defined_names(node) if not name.startswith("_")}


def prune_imports(directory, module_path, original, module_text, test_file):
    """The project's files (the task's test file too, the other tests being gone) import from the sliced module,
    directly or through a package that re-exports it, only the names the slice still defines: the rest of the
    module is not part of the task, and a test that needs it fails on the original slice too (so it grades
    nothing)."""
    target = module_name(module_path)
    try:
        kept = {name for node in ast.parse(module_text).body for name in defined_names(node)}
    except SyntaxError:
        return  # an agent's module that does not parse: the tests say so
    files = []
    for root, _, names in os.walk(directory):
        for name in names:
            relative = os.path.relpath(os.path.join(root, name), directory)
            if name.endswith(".py") and relative != module_path and (
                    relative == test_file or not TEST_FILE.search(relative)):
                files.append(relative)
    trees = {}
    for relative in files:
        try:
            with open(os.path.join(directory, relative), encoding="utf-8") as handle:
                source = handle.read()
            trees[relative] = (source, ast.parse(source))
        except (SyntaxError, UnicodeDecodeError):
            continue
    # What each package above the module re-exports of it, read before any file is changed.
    gone = {target: None}
    for relative, (_, tree) in trees.items():
        if relative.endswith("__init__.py") and target.startswith(module_name(relative) + "."):
            names = set()
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and imported_module(relative, node) == target:
                    for alias in node.names:
                        names |= public_names(original) if alias.name == "*" else {alias.asname or alias.name}
            gone[module_name(relative)] = names - kept
    for relative, (source, tree) in trees.items():
        lines = source.splitlines(keepends=True)
        edits = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or any(a.name == "*" for a in node.names):
                continue
            origin = imported_module(relative, node)
            if origin not in gone:
                continue
            missing = (lambda a: a.name not in kept) if gone[origin] is None else (lambda a: a.name in gone[origin])
            names = [a for a in node.names if not missing(a)]
            if len(names) == len(node.names):
                continue
            indent = lines[node.lineno - 1][: node.col_offset]
            text = indent + (ast.unparse(ast.ImportFrom(module=node.module, names=names, level=node.level))
                             if names else "pass")
            edits.append((node.lineno, node.end_lineno, text + "\n"))
        for first, last, text in sorted(edits, reverse=True):
            lines[first - 1: last] = [text]
        if edits:
            with open(os.path.join(directory, relative), "w", encoding="utf-8") as handle:
                handle.write("".join(lines))


def sandbox():
    """bubblewrap's command prefix for running a module the harness does not trust: the whole file system
    read-only, no network, its own process tree; `run_tests` adds the project's folder and its report's, writable
    (and a temporary folder in the latter). /tmp stays as it is, read-only: the harness, its interpreter or a clone of
    the repository may live there (CI's does), and hiding it hid them. Checked once a run: without a working
    bubblewrap the harness stops and says so."""
    global _sandbox
    if _sandbox is None:
        prefix = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                  "--unshare-all", "--die-with-parent", "--new-session"]
        try:
            result, _ = run(prefix + ["true"], timeout=60)
        except OSError as error:
            raise SystemExit(f"the grade runs modules in bubblewrap, which is not installed ({error}): "
                             "apt-get install bubblewrap")
        if result.returncode != 0:
            raise SystemExit(f"the grade runs modules in bubblewrap, which fails here: {result.stdout.strip()}")
        _sandbox = prefix
    return _sandbox


_sandbox = None


def run_tests(python, directory, ids, timeout=300):
    """Runs the tests `ids` in the project at `directory` in the sandbox. Returns ({node id: PASSED|FAILED|
    ERROR|SKIPPED}, timed out, output). The outcomes come from grade_plugin's signed report, not from what the
    run printed: a run that leaves no report, or one that does not verify, passed nothing."""
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="eval-report-") as reports:
        report = os.path.join(reports, "report.json")
        scratch = os.path.join(reports, "tmp")
        os.mkdir(scratch)
        reader, writer = os.pipe()
        os.write(writer, key)
        os.close(writer)
        env = dict(os.environ, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1", FLOTILLA_GRADE_REPORT=report,
                   FLOTILLA_GRADE_KEY_FD=str(reader), TMPDIR=scratch)
        command = sandbox() + ["--bind", directory, directory, "--bind", reports, reports, "--chdir", directory,
                               python, "-m", "pytest", "-q", "-rA", "-p", "grade_plugin", "-p", "no:cacheprovider",
                               "--no-header", "-o", "addopts="] + ids
        try:
            result = subprocess.run(command, cwd=directory, env=env, timeout=timeout, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(reader,))
            output, timed_out = result.stdout, False
        except subprocess.TimeoutExpired as expired:
            output, timed_out = expired.stdout or "", True
            if isinstance(output, bytes):
                output = output.decode("utf-8", "replace")
        finally:
            os.close(reader)
        return verified(report, key), timed_out, output


def verified(report, key):
    """The outcomes of a signed report, or {} when it is missing or its signature does not match."""
    try:
        with open(report, encoding="utf-8") as handle:
            signed = json.load(handle)
        payload, signature = signed["payload"], signed["signature"]
        if not hmac.compare_digest(hmac.new(key, payload.encode(), hashlib.sha256).hexdigest(), signature):
            return {}
        return {str(node): str(outcome) for node, outcome in json.loads(payload)["outcomes"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


# Names a module under test has no business using unless its original slice uses them too: the ways a module could
# reach the test run itself (its process, pytest, the interpreter's tables, the files around it).
RISKY = {"pytest", "_pytest", "conftest", "modules", "exit", "_exit", "atexit", "_getframe", "gc", "inspect",
         "builtins", "__builtins__", "__import__", "importlib", "subprocess", "ctypes", "signal", "open", "os",
         "sys", "environ", "settrace", "setprofile"}


def risky_names(source):
    """The risky names a module's code uses (names, attributes, imports), and "PASSED" if a string holds it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.update(node.name.split("."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(node.module.split("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "PASSED" in node.value:
            found.add("PASSED")
    return found & (RISKY | {"PASSED"})


def suspect(module_text, original_text):
    """The risky names the arm's module uses that its original slice does not (sorted): a solved row that has any
    is read before it is reported."""
    return sorted(risky_names(module_text) - risky_names(original_text))


def task_text(instance):
    function, module, tests = instance["function"], instance["module"], instance["test_file"]
    if instance["kind"] == "body_removed":
        return (f"Implement the function `{function}` in {module}: replace its `raise NotImplementedError` with a "
                f"body that does what its docstring and name say. The tests of it in {tests} must pass.")
    bugs = "a bug" if len(instance["mutations"]) == 1 else f"{len(instance['mutations'])} bugs"
    return (f"The function `{function}` in {module} has {bugs}: the tests of it in {tests} fail. Fix "
            f"`{function}` so that they pass.")


def make_task(instance, cache, python, directory):
    """The task's repository (one commit). Returns the test file's visible text."""
    source = module_source(instance, cache)
    _, broken = slices(instance, source)
    tests = original(instance, cache, instance["test_file"])
    visible = split.visible_source(tests, instance["function"], instance["hidden_units"])
    write_project(instance, cache, directory, broken, visible)
    # The visible tests as the visible file names them (a table's row ids may be renumbered there).
    ids = " ".join(shlex.quote(node) for node in instance["verify"])
    with open(os.path.join(directory, "verify.sh"), "w") as handle:
        handle.write(f"#!/bin/sh\nexec {python} -m pytest -q -p no:cacheprovider -o addopts= {ids}\n")
    os.chmod(os.path.join(directory, "verify.sh"), 0o755)
    with open(os.path.join(directory, "ACCEPTANCE.md"), "w") as handle:
        title = instance["function"].replace("_", " ").capitalize()
        handle.write(f"# {task_text(instance)}\n\n## {title}\n- [ ] {task_text(instance)}\n")
    with open(os.path.join(directory, ".gitignore"), "w") as handle:
        handle.write("__pycache__/\n*.pyc\n.pytest_cache/\n")
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=eval", "-c", "user.email=eval@localhost", "commit", "-qm", "task"]):
        run(command, cwd=directory)
    return visible


def grade(instance, cache, python, module_text):
    """Grades a module an arm left: the original test file, the original slice's project. Returns a dict:
    solved (every test that passed on the original passes), hidden (hidden tests passed of all), visible,
    pass_to_pass, and the first lines of what failed."""
    with tempfile.TemporaryDirectory(prefix="eval-grade-") as parent:
        directory = os.path.join(parent, "project")
        write_project(instance, cache, directory, module_text, original(instance, cache, instance["test_file"]))
        found, timed_out, _ = run_tests(python, directory, [instance["test_file"]])

    def passed(ids):
        return sum(1 for node in ids if found.get(node) == "PASSED")

    expected = instance["visible"] + instance["hidden"] + instance["pass_to_pass"]
    failing = [node for node in expected if found.get(node) != "PASSED"]
    return {"solved": not failing, "hidden": passed(instance["hidden"]), "hidden_of": len(instance["hidden"]),
            "visible": passed(instance["visible"]), "visible_of": len(instance["visible"]),
            "pass_to_pass": passed(instance["pass_to_pass"]), "pass_to_pass_of": len(instance["pass_to_pass"]),
            "failing": failing[:5], "timed_out": timed_out,
            "suspect": suspect(module_text, slices(instance, module_source(instance, cache))[0])}
