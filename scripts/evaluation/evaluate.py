#!/usr/bin/env python3
"""Does the loop turn a weak model into working code more often than one session does?

Each task is a function of a real project (pinned sdists from PyPI) with its body removed (make_task.py) and the
project's own tests of it as the verify command. Each task runs in each arm (--arms) with the same model, agent and settings:
  bare       one bare aider session, then the tests;
  plain      a Flotilla mission: fresh sessions, the gate's output and a critic's review fed back, up to --attempts;
  best-of-3  the same mission, each attempt run as three candidates at once (`Speculate: 3`; --attempts counts
             every candidate, so the same budget of sessions as plain);
  review     the plain mission with --review block: the critic's model scores what passed the gate before it lands.
Prints a Markdown table (and writes JSON with --json) of solved, attempts, tokens and wall time per task and arm.

    scripts/evaluate [--attempts 4] [--arms bare,plain] [--json results.json] [--only camelize,...]

Needs: the local model (scripts/local-model), aider (FLOTILLA_TEST_AIDER or .build/ci-venvs/aider), a built
flotilla (swift build), PyPI for the sdists and pytest.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_task import extract  # noqa: E402

ALIAS = "qwen2.5-coder-1.5b-instruct"
# (project, version, module inside the sdist, module path in the task, tests inside the sdist, tests in the task,
#  function)
INFLECTION = ("inflection", "0.5.1", "inflection/__init__.py", "inflection.py", "test_inflection.py",
              "test_inflection.py")
PYTIMEPARSE = ("pytimeparse", "1.1.8", "pytimeparse/timeparse.py", "pytimeparse/timeparse.py",
               "pytimeparse/tests/testtimeparse.py", "pytimeparse/tests/testtimeparse.py")
TASKS = [INFLECTION + (name,) for name in (
    "camelize", "dasherize", "humanize", "ordinal", "ordinalize", "parameterize", "titleize", "underscore",
    "tableize")] + [PYTIMEPARSE + ("timeparse",)]
EXTRA_FILES = {"pytimeparse": ["pytimeparse/__init__.py", "pytimeparse/tests/__init__.py"]}


def run(command, cwd=None, env=None, timeout=None, capture=True):
    """Runs command; past `timeout` it is killed and counts as failed (exit status None), with what it printed."""
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=cwd, env=env, timeout=timeout, text=True,
                                stdout=subprocess.PIPE if capture else None,
                                stderr=subprocess.STDOUT if capture else None)
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        if isinstance(output, bytes):
            output = output.decode("utf-8", "replace")
        result = subprocess.CompletedProcess(command, None, output + f"\n(killed after {timeout} s)\n")
    return result, time.monotonic() - started


def sdist(project, version, cache):
    folder = os.path.join(cache, f"{project}-{version}")
    if not os.path.isdir(folder):
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", cache,
             f"{project}=={version}"])
        with tarfile.open(os.path.join(cache, f"{project}-{version}.tar.gz")) as archive:
            archive.extractall(cache)
    return folder


def tests_calling(path, function):
    """pytest node ids of the tests (functions, or methods of test classes) that call `function`."""
    import ast
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())

    def calls(node):
        for call in ast.walk(node):
            if isinstance(call, ast.Call):
                target = call.func
                if (isinstance(target, ast.Attribute) and target.attr == function) or (
                        isinstance(target, ast.Name) and target.id == function):
                    return True
        return False

    ids = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and calls(node):
            ids.append(node.name)
        if isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name.startswith("test") and calls(method):
                    ids.append(f"{node.name}::{method.name}")
    return ids


def module_level_attributes(path, module):
    """Names the test module reads as `module.NAME` outside its test functions (tables in decorators)."""
    import ast
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    names = set()
    for node in tree.body:
        scopes = [node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scopes = list(node.decorator_list)
        for scope in scopes:
            for child in ast.walk(scope):
                if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == module:
                    names.add(child.attr)
    return sorted(names)


def make_repository(task, cache, python, directory):
    project, version, module, target, tests, test_target, function = task
    source = sdist(project, version, cache)
    os.makedirs(directory)
    for relative in EXTRA_FILES.get(project, []) + [test_target]:
        os.makedirs(os.path.dirname(os.path.join(directory, relative)) or directory, exist_ok=True)
        shutil.copy(os.path.join(source, relative if relative != test_target else tests),
                    os.path.join(directory, relative))
    with open(os.path.join(source, module), encoding="utf-8") as handle:
        original = handle.read()
    # What the test module itself reads of the module at import time (tables in decorators) stays too.
    also = module_level_attributes(os.path.join(source, tests), os.path.splitext(os.path.basename(target))[0])
    os.makedirs(os.path.dirname(os.path.join(directory, target)) or directory, exist_ok=True)
    nodes = " ".join(f"'{test_target}::{node}'" for node in tests_calling(os.path.join(source, tests), function))
    with open(os.path.join(directory, "verify.sh"), "w") as handle:
        handle.write(f"#!/bin/sh\nexec {python} -m pytest -q -p no:cacheprovider {nodes}\n")
    os.chmod(os.path.join(directory, "verify.sh"), 0o755)
    # The task is sound: the project's own function passes its tests, the stub fails them.
    for body, passes in ((extract(original, function, also, stub=False), True), (extract(original, function, also), False)):
        with open(os.path.join(directory, target), "w", encoding="utf-8") as handle:
            handle.write(body)
        checked, _ = run(["./verify.sh"], cwd=directory)
        if (checked.returncode == 0) != passes:
            raise SystemExit(f"{function}: the {'original' if passes else 'stub'} should "
                             f"{'pass' if passes else 'fail'} its tests:\n{checked.stdout[-3000:]}")
    with open(os.path.join(directory, "ACCEPTANCE.md"), "w") as handle:
        handle.write(f"# Implement {function}\n\n## {function.capitalize()}\n"
                     f"- [ ] `{function}` in {target} does what its docstring says, and the tests of it in "
                     f"{test_target} pass\n")
    with open(os.path.join(directory, ".gitignore"), "w") as handle:
        handle.write("__pycache__/\n")
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=eval", "-c", "user.email=eval@localhost", "commit", "-qm", "task"]):
        run(command, cwd=directory)
    return target, test_target


def tokens(output):
    """aider's `Tokens:` lines; when a reply hit the model's limit it prints only its estimate, which counts then."""
    sent = received = estimated = 0
    for line in output.splitlines():
        match = re.search(r"Tokens: ([\d.]+)(k?) sent.*?([\d.]+)(k?) received", line)
        if match:
            sent += int(float(match.group(1)) * (1000 if match.group(2) else 1))
            received += int(float(match.group(3)) * (1000 if match.group(4) else 1))
        match = re.match(r"(Input|Output) tokens: ~([\d,]+) of", line.strip())
        if match:
            estimated += int(match.group(2).replace(",", ""))
    return sent + received or estimated


def bare(task, directory, target, test_target, aider, url, cap):
    function = task[-1]
    home = tempfile.mkdtemp(prefix="eval-home-")
    settings = os.path.join(home, "model-settings.yml")
    with open(settings, "w") as handle:
        handle.write(f"- name: aider/extra_params\n  extra_params:\n    max_tokens: {cap}\n")
    message = (f"Implement the function `{function}` in {target}: replace its `raise NotImplementedError` with a "
               f"body that does what its docstring says. The tests of it in {test_target} must pass.")
    env = dict(os.environ, HOME=home, OPENAI_API_KEY="sk-local", LITELLM_LOCAL_MODEL_COST_MAP="True")
    result, seconds = run([aider, "--message", message, "--yes-always", "--no-auto-commits", "--no-dirty-commits",
                           "--no-gitignore", "--no-check-update", "--no-show-model-warnings",
                           "--no-show-release-notes", "--analytics-disable", "--no-pretty", "--no-stream",
                           "--map-tokens", "0", "--model", f"openai/{ALIAS}", "--openai-api-base", url,
                           "--edit-format", "whole", "--model-settings-file", settings,
                           "--chat-history-file", os.path.join(home, "chat.md"),
                           "--input-history-file", os.path.join(home, "input"), target],
                          cwd=directory, env=env, timeout=600)
    verified, _ = run(["./verify.sh"], cwd=directory, timeout=300)
    logs = os.path.join(ROOT, ".build/evaluation/logs")
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, f"{function}-bare.log"), "w") as handle:
        handle.write(result.stdout + "\n--- verify\n" + verified.stdout)
    shutil.rmtree(home, ignore_errors=True)
    return {"solved": verified.returncode == 0, "attempts": 1, "tokens": tokens(result.stdout),
            "seconds": round(seconds, 1)}


def mission(task, directory, target, flotilla, aider, url, attempts, cap, arm="plain"):
    home = tempfile.mkdtemp(prefix="eval-home-")
    env = dict(os.environ, HOME=home, OPENAI_API_KEY="sk-local")
    extra = []
    if arm == "best-of-3":
        with open(os.path.join(directory, "ACCEPTANCE.md")) as handle:
            checklist = handle.read()
        with open(os.path.join(directory, "ACCEPTANCE.md"), "w") as handle:
            handle.write(checklist.replace("\n- [ ]", "\nSpeculate: 3\n- [ ]", 1))
        run(["git", "-c", "user.name=eval", "-c", "user.email=eval@localhost", "commit", "-qam", "best of 3"],
            cwd=directory)
        # Three sessions share a model server that answers one request at a time: each gets three times as long.
        extra = ["--agents", "3", "--attempt-timeout", "1800"]
    elif arm == "review":
        extra = ["--agents", "1", "--attempt-timeout", "600", "--review", "block"]
    else:
        extra = ["--agents", "1", "--attempt-timeout", "600"]
    result, seconds = run([flotilla, "run", "--verify", "./verify.sh", "--backend", "aider", "--agent-binary", aider,
                           "--model", f"openai/{ALIAS}", "--agent-base-url", url, "--pass-env",
                           "OPENAI_API_KEY", "--max-attempts", str(attempts),
                           "--max-output-tokens", str(cap), "--critic-url", url, "--critic-model", ALIAS,
                           "--agent-arg", "--edit-format", "--agent-arg", "whole", "--agent-arg", target,
                           "--output", "json"] + extra, cwd=directory, env=env, timeout=3600)
    status = json.loads(run([flotilla, "status", "--output", "json"], cwd=directory)[0].stdout)
    if "id" not in status:
        raise SystemExit(f"the mission did not start: {result.stdout[-2000:]}")
    history = json.loads(run([flotilla, "history", status["id"], "--output", "json"], cwd=directory)[0].stdout)
    used = sum(a.get("input_tokens", 0) + a.get("output_tokens", 0) for a in history.get("attempts", []))
    critic = sum(c.get("input_tokens", 0) + c.get("output_tokens", 0) for c in history.get("model_calls", []))
    logs = os.path.join(ROOT, ".build/evaluation/logs")
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, f"{task[-1]}-{arm}.log"), "w") as handle:
        handle.write(result.stdout or "")
    # Each session's prompt and transcript, to read what the model answered (the task's directory is removed).
    sessions = os.path.join(logs, f"{task[-1]}-{arm}-sessions")
    shutil.rmtree(sessions, ignore_errors=True)
    outputs = os.path.join(directory, ".flotilla", "missions", status["id"], "agent_outputs")
    if os.path.isdir(outputs):
        shutil.copytree(outputs, sessions)
    shutil.rmtree(home, ignore_errors=True)
    reviews = [c for c in history.get("model_calls", []) if c.get("role") == "reviewer"]
    return {"solved": result.returncode == 0 and status.get("state") == "completed",
            "attempts": len(history.get("attempts", [])), "tokens": used + critic, "critic_tokens": critic,
            "seconds": round(seconds, 1), "state": status.get("state"),
            # What became of each attempt (landed, gate_failed, rejected with the review's or the ranking's reason…).
            "outcomes": [f"{a.get('outcome')}: {(a.get('reason') or '')[:160]}".rstrip(": ")
                         for a in history.get("attempts", [])],
            "reviews": len(reviews), "review_errors": sum(1 for c in reviews if c.get("error"))}


def serve(server, model, port):
    process = subprocess.Popen([server, "-m", model, "--alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
                                "-c", "16384", "--parallel", "1", "-t", str(os.cpu_count() or 2), "--jinja"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()

    def watch():
        for line in process.stdout:
            if "listening on http" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(180):
        process.kill()
        raise SystemExit("llama-server did not start")
    return process


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=4, help="attempts a mission may make (default 4)")
    parser.add_argument("--max-output-tokens", type=int, default=1500, help="cap of one model reply (default 1500)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--only", help="comma-separated function names, run in that order")
    parser.add_argument("--arms", default="bare,plain",
                        help="comma-separated arms: bare, plain, best-of-3, review (default bare,plain)")
    parser.add_argument("--flotilla", default=os.path.join(ROOT, ".build/debug/flotilla"),
                        help="the flotilla binary (default: .build/debug/flotilla)")
    options = parser.parse_args()
    arms = options.arms.split(",")
    for arm in arms:
        if arm not in ("bare", "plain", "best-of-3", "review"):
            parser.error(f"--arms: unknown arm {arm!r} (bare, plain, best-of-3, review)")
    # --only also sets the order, so that the tasks that matter most run first when time is short.
    chosen = options.only.split(",") if options.only else [task[-1] for task in TASKS]
    unknown = set(chosen) - {task[-1] for task in TASKS}
    if unknown:
        parser.error(f"--only: unknown function(s) {', '.join(sorted(unknown))}")
    environment = dict(line.split("=", 1) for line in subprocess.run(
        [os.path.join(ROOT, "scripts/local-model")], text=True, stdout=subprocess.PIPE, check=True).stdout.split())
    aider = os.environ.get("FLOTILLA_TEST_AIDER") or os.path.join(ROOT, ".build/ci-venvs/aider/bin/aider")
    flotilla = options.flotilla
    venv = os.path.join(ROOT, ".build/ci-venvs/eval")
    if not os.path.exists(os.path.join(venv, "bin/pytest")):
        run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin/pip"), "install", "--quiet", "pytest==8.3.3"])
    python = os.path.join(venv, "bin/python")
    cache = os.path.join(ROOT, ".build/evaluation")
    os.makedirs(cache, exist_ok=True)
    port = 18500 + os.getpid() % 1000
    server = serve(environment["FLOTILLA_TEST_LLAMA_SERVER"], environment["FLOTILLA_TEST_MODEL"], port)
    url = f"http://127.0.0.1:{port}/v1"
    results = []
    try:
        for task in sorted((t for t in TASKS if t[-1] in chosen), key=lambda t: chosen.index(t[-1])):
            work = tempfile.mkdtemp(prefix=f"eval-{task[-1]}-")
            target, test_target = make_repository(task, cache, python, os.path.join(work, "task"))
            row = {"project": f"{task[0]} {task[1]}", "function": task[-1]}
            for arm in arms:
                directory = os.path.join(work, arm)
                shutil.copytree(os.path.join(work, "task"), directory, symlinks=True)
                if arm == "bare":
                    row[arm] = bare(task, directory, target, test_target, aider, url, options.max_output_tokens)
                else:
                    row[arm] = mission(task, directory, target, flotilla, aider, url, options.attempts,
                                       options.max_output_tokens, arm)
                print(json.dumps({"function": task[-1], "arm": arm, **row[arm]}), file=sys.stderr, flush=True)
            results.append(row)
            shutil.rmtree(work, ignore_errors=True)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(results, handle, indent=2)
    header = "| task |" + "".join(f" {arm}: solved | attempts | tokens | s |" for arm in arms)
    print(header)
    print("|---|" + "---|---:|---:|---:|" * len(arms))
    for row in results:
        cells = "".join(f" {'yes' if row[arm]['solved'] else 'no'} | {row[arm]['attempts']} | {row[arm]['tokens']} | "
                        f"{row[arm]['seconds']} |" for arm in arms)
        print(f"| {row['project']}: `{row['function']}` |{cells}")
    print("\nSolved: " + ", ".join(f"{arm} {sum(r[arm]['solved'] for r in results)}/{len(results)}" for arm in arms))


if __name__ == "__main__":
    main()
