#!/usr/bin/env python3
"""Does the loop turn a weak model into working code more often than one session does? (docs/EVALUATION.md)

Runs task instances (generate.py; a frozen set from freeze.py) in arms, with the same model, server, sampling,
aider version and flags, reply cap and task text in each:
  A  one bare aider session, the visible test file given read-only;
  B  a Flotilla mission: fresh sessions, the gate's output and the critic fed back, up to 3 attempts;
  C  aider's own test loop: one session with --test-cmd ./verify.sh --auto-test (up to 3 reflections);
  D  best of 3: three sessions at once (`Speculate: 3`), the gate choosing, no feedback;
  E  B with --review block.
Each arm works on a fresh copy of the task's repository; afterwards the module it left is graded apart from the arm,
against the hidden tests (tasks.grade: in bubblewrap, outcomes from a signed report, risky names flagged). Every row
is appended to --results as one JSON line as soon as it ends, so a run cut short goes on where it stopped when
started again with the same arguments.

    scripts/evaluate --tasks scripts/evaluation/test-set.json --arms A,B --run 1 --results FILE.jsonl

Sampling: temperature 0.7, top-p 0.8, top-k 20 (Qwen2.5-Coder's defaults), seed = run × 1000 + the task's index,
in every arm and for the critic. Needs the local model (scripts/local-model), aider
(FLOTILLA_TEST_AIDER or .build/ci-venvs/aider), a built flotilla, and PyPI for the sdists and pytest.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tasks  # noqa: E402
from generate import evaluation_python  # noqa: E402

ALIAS = "qwen2.5-coder-1.5b-instruct"
ARMS = ("A", "B", "C", "D", "E")
TEMPERATURE, TOP_P, TOP_K = 0.7, 0.8, 20
SESSION_SECONDS = 240


def tokens(output):
    """(sent, received) from aider's `Tokens:` lines; a reply cut at the model's limit prints only an estimate."""
    sent = received = 0
    for line in output.splitlines():
        match = re.search(r"Tokens: ([\d.]+)(k?) sent.*?([\d.]+)(k?) received", line)
        if match:
            sent += int(float(match.group(1)) * (1000 if match.group(2) else 1))
            received += int(float(match.group(3)) * (1000 if match.group(4) else 1))
        match = re.match(r"(Input|Output) tokens: ~([\d,]+) of", line.strip())
        if match:
            value = int(match.group(2).replace(",", ""))
            if match.group(1) == "Input":
                sent += value
            else:
                received += value
    return sent, received


class Server:
    """llama-server with one slot, its log kept; `rate(start, end)` is the mean generation speed of the replies
    it finished in that window (tokens per second), the load check of each row."""

    def __init__(self, binary, model, port, log):
        self.speeds = []
        self.log = open(log, "a", buffering=1)
        self.process = subprocess.Popen([binary, "-m", model, "--alias", ALIAS, "--host", "127.0.0.1", "--port",
                                         str(port), "-c", "16384", "--parallel", "1", "-t", str(os.cpu_count() or 2),
                                         "--jinja"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def watch():
            for line in self.process.stdout:
                self.log.write(line)
                if "listening on http" in line:
                    ready.set()
                match = re.search(r"(?<!prompt )eval time =.*?([\d.]+) tokens per second", line)
                if match:
                    self.speeds.append((time.time(), float(match.group(1))))

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(300):
            self.process.kill()
            raise SystemExit(f"llama-server did not start (its log: {log})")

    def rate(self, start, end):
        speeds = [speed for moment, speed in self.speeds if start <= moment <= end]
        return round(sum(speeds) / len(speeds), 1) if speeds else None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def read(directory, path):
    """A file an arm left, or "" when it removed it."""
    try:
        with open(os.path.join(directory, path), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def aider_session(instance, directory, aider, url, cap, seed, home, test_loop=False):
    settings = os.path.join(home, "model-settings.yml")
    with open(settings, "w") as handle:
        handle.write(f"- name: aider/extra_params\n  extra_params:\n    max_tokens: {cap}\n"
                     f"    temperature: {TEMPERATURE}\n    top_p: {TOP_P}\n    seed: {seed}\n"
                     f"    extra_body:\n      top_k: {TOP_K}\n")
    env = dict(os.environ, HOME=home, OPENAI_API_KEY="sk-local", LITELLM_LOCAL_MODEL_COST_MAP="True")
    command = [aider, "--message", tasks.task_text(instance), "--yes-always", "--no-auto-commits",
               "--no-dirty-commits", "--no-gitignore", "--no-check-update", "--no-show-model-warnings",
               "--no-show-release-notes", "--analytics-disable", "--no-pretty", "--no-stream", "--map-tokens", "0",
               "--model", f"openai/{ALIAS}", "--openai-api-base", url, "--edit-format", "whole",
               "--model-settings-file", settings, "--chat-history-file", os.path.join(home, "chat.md"),
               "--input-history-file", os.path.join(home, "input"), "--read", instance["test_file"],
               instance["module"]]
    timeout = SESSION_SECONDS
    if test_loop:
        # aider runs the test command after its edit and reflects on a failure, up to 3 times: 4 replies.
        command[1:1] = ["--test-cmd", "./verify.sh", "--auto-test"]
        timeout = 4 * SESSION_SECONDS
    result, seconds = tasks.run(command, cwd=directory, env=env, timeout=timeout)
    sent, received = tokens(result.stdout)
    module, test_text = read(directory, instance["module"]), read(directory, instance["test_file"])
    return {"module": module, "test_text": test_text, "log": result.stdout, "seconds": seconds,
            "input_tokens": sent, "output_tokens": received, "sessions": 1, "timed_out": result.returncode is None}


def mission(instance, directory, flotilla, aider, url, cap, seed, home, arm):
    env = dict(os.environ, HOME=home, OPENAI_API_KEY="sk-local")
    extra = ["--agents", "1", "--attempt-timeout", str(SESSION_SECONDS)]
    if arm == "D":
        with open(os.path.join(directory, "ACCEPTANCE.md")) as handle:
            checklist = handle.read()
        with open(os.path.join(directory, "ACCEPTANCE.md"), "w") as handle:
            handle.write(checklist.replace("\n- [ ]", "\nSpeculate: 3\n- [ ]", 1))
        tasks.run(["git", "-c", "user.name=eval", "-c", "user.email=eval@localhost", "commit", "-qam", "best of 3"],
                  cwd=directory)
        # Three sessions share a server that answers one request at a time: each may take three times as long.
        extra = ["--agents", "3", "--attempt-timeout", str(3 * SESSION_SECONDS)]
    elif arm == "E":
        extra += ["--review", "block"]
    command = [flotilla, "run", "--verify", "./verify.sh", "--backend", "aider", "--agent-binary", aider,
               "--model", f"openai/{ALIAS}", "--agent-base-url", url, "--pass-env", "OPENAI_API_KEY",
               "--max-attempts", "3", "--max-output-tokens", str(cap), "--critic-url", url, "--critic-model", ALIAS,
               "--temperature", str(TEMPERATURE), "--top-p", str(TOP_P), "--top-k", str(TOP_K), "--seed", str(seed),
               "--agent-arg", "--edit-format", "--agent-arg", "whole", "--agent-arg", instance["module"],
               "--output", "json"] + extra
    result, seconds = tasks.run(command, cwd=directory, env=env, timeout=3 * 4 * SESSION_SECONDS + 600)
    try:
        status = json.loads(tasks.run([flotilla, "status", "--output", "json"], cwd=directory)[0].stdout or "{}")
        history = json.loads(tasks.run([flotilla, "history", status["id"], "--output", "json"],
                                       cwd=directory)[0].stdout or "{}")
    except (json.JSONDecodeError, KeyError):
        return {"infrastructure_failure": f"the mission did not start: {(result.stdout or '')[-1500:]}"}
    attempts = history.get("attempts", [])
    calls = history.get("model_calls", [])
    landed_at = next((index + 1 for index, a in enumerate(attempts) if a.get("outcome") == "landed"), None)
    shown = tasks.run(["git", "show", f"HEAD:{instance['module']}"], cwd=directory)[0]
    test_shown = tasks.run(["git", "show", f"HEAD:{instance['test_file']}"], cwd=directory)[0]
    return {"module": shown.stdout, "test_text": test_shown.stdout, "log": result.stdout or "", "seconds": seconds,
            "input_tokens": sum(a.get("input_tokens", 0) for a in attempts + calls),
            "output_tokens": sum(a.get("output_tokens", 0) for a in attempts + calls),
            "critic_tokens": sum(c.get("input_tokens", 0) + c.get("output_tokens", 0) for c in calls),
            "sessions": len(attempts), "landed": status.get("state") == "completed", "landed_at": landed_at,
            "outcomes": [f"{a.get('outcome')}: {(a.get('reason') or '')[:160]}".rstrip(": ") for a in attempts],
            "reviews": sum(1 for c in calls if c.get("role") == "reviewer"), "state": status.get("state")}


def run_arm(arm, instance, task_directory, broken, visible, options, tools, seed, logs):
    directory = tempfile.mkdtemp(prefix=f"eval-{arm}-")
    home = tempfile.mkdtemp(prefix="eval-home-")
    try:
        shutil.rmtree(directory)
        shutil.copytree(task_directory, directory, symlinks=True)
        if arm in ("A", "C"):
            outcome = aider_session(instance, directory, tools["aider"], tools["url"], options.max_output_tokens,
                                    seed, home, test_loop=arm == "C")
        else:
            outcome = mission(instance, directory, tools["flotilla"], tools["aider"], tools["url"],
                              options.max_output_tokens, seed, home, arm)
            outputs = os.path.join(directory, ".flotilla", "missions")
            if os.path.isdir(outputs):
                shutil.copytree(outputs, os.path.join(logs, "missions"), dirs_exist_ok=True)
        if "infrastructure_failure" in outcome:
            return outcome
        with open(os.path.join(logs, "session.log"), "w") as handle:
            handle.write(outcome.pop("log"))
        module, test_text = outcome.pop("module"), outcome.pop("test_text")
        graded = tasks.grade(instance, options.cache, tools["python"], module)
        outcome.update(graded, unchanged=module == broken, test_file_changed=test_text != visible,
                       gate_passed=graded["visible"] == graded["visible_of"],
                       tokens=outcome["input_tokens"] + outcome["output_tokens"])
        return outcome
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", required=True, help="a task list (JSON) from generate.py or freeze.py")
    parser.add_argument("--arms", default="A,B", help="comma-separated arms among A, B, C, D, E (default A,B)")
    parser.add_argument("--run", type=int, required=True, help="the run's number: seeds are run × 1000 + task")
    parser.add_argument("--samples", type=int, default=1, help="sessions per task and arm (calibration: 2)")
    parser.add_argument("--results", required=True, help="append one JSON line per row here (resumable)")
    parser.add_argument("--only", help="comma-separated task ids")
    parser.add_argument("--max-output-tokens", type=int, default=1500, help="cap of one model reply (default 1500)")
    parser.add_argument("--flotilla", default=os.path.join(ROOT, ".build/debug/flotilla"))
    parser.add_argument("--stop-after", type=float, help="start no task after this many hours")
    options = parser.parse_args()
    # Stopped with SIGTERM, the run still stops its model server and keeps every row written so far.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    arms = options.arms.split(",")
    for arm in arms:
        if arm not in ARMS:
            parser.error(f"--arms: unknown arm {arm!r} (A, B, C, D, E)")
    try:
        with open(options.tasks) as handle:
            instances = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"--tasks {options.tasks}: {error}")
    if isinstance(instances, dict):
        instances = instances["tasks"]
    # A task's seed comes from its place in the whole list, whatever --only picks.
    places = {instance["id"]: place for place, instance in enumerate(instances)}
    if options.only:
        wanted = options.only.split(",")
        unknown = set(wanted) - {i["id"] for i in instances}
        if unknown:
            parser.error(f"--only: unknown task id(s) {', '.join(sorted(unknown))}")
        instances = [i for i in instances if i["id"] in wanted]
    done = set()
    if os.path.exists(options.results):
        with open(options.results) as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    done.add((row["run"], row["task"], row["arm"], row.get("sample", 0)))
    options.cache = os.path.join(ROOT, ".build/evaluation/sdists")
    environment = dict(line.split("=", 1) for line in subprocess.run(
        [os.path.join(ROOT, "scripts/local-model")], text=True, stdout=subprocess.PIPE, check=True).stdout.split())
    tools = {"aider": os.environ.get("FLOTILLA_TEST_AIDER") or os.path.join(ROOT, ".build/ci-venvs/aider/bin/aider"),
             "flotilla": options.flotilla, "python": evaluation_python()}
    logs_root = os.path.join(os.path.dirname(os.path.abspath(options.results)), f"logs-run-{options.run}")
    os.makedirs(logs_root, exist_ok=True)
    port = 18500 + os.getpid() % 1000
    server = Server(environment["FLOTILLA_TEST_LLAMA_SERVER"], environment["FLOTILLA_TEST_MODEL"], port,
                    os.path.join(logs_root, "llama-server.log"))
    tools["url"] = f"http://127.0.0.1:{port}/v1"
    # The order of tasks, and of the arms within each task, is shuffled per run (seeded by the run's number).
    shuffle = random.Random(options.run)
    order = list(range(len(instances)))
    shuffle.shuffle(order)
    started = time.monotonic()
    try:
        for position, index in enumerate(order):
            if options.stop_after and time.monotonic() - started > options.stop_after * 3600:
                print(f"stopping: --stop-after {options.stop_after} h", file=sys.stderr)
                break
            instance = instances[index]
            plan = [(arm, sample) for arm in arms for sample in range(options.samples)]
            shuffle.shuffle(plan)
            plan = [(arm, sample) for arm, sample in plan if (options.run, instance["id"], arm, sample) not in done]
            if not plan:
                continue
            work = tempfile.mkdtemp(prefix="eval-task-")
            try:
                task_directory = os.path.join(work, "task")
                visible = tasks.make_task(instance, options.cache, tools["python"], task_directory)
                with open(os.path.join(task_directory, instance["module"]), encoding="utf-8") as handle:
                    broken = handle.read()
                for arm, sample in plan:
                    seed = options.run * 1000 + places[instance["id"]] + 100_000 * sample
                    logs = os.path.join(logs_root, f"{instance['id'].replace(':', '-')}-{arm}-{sample}")
                    os.makedirs(logs, exist_ok=True)
                    start = time.time()
                    outcome = run_arm(arm, instance, task_directory, broken, visible, options, tools, seed, logs)
                    row = {"run": options.run, "task": instance["id"], "project": instance["project"],
                           "tier": instance["tier"], "arm": arm, "sample": sample, "seed": seed, "order": position,
                           "tokens_per_second": server.rate(start, time.time()), **outcome}
                    with open(options.results, "a") as handle:
                        handle.write(json.dumps(row, sort_keys=True) + "\n")
                    shown = ("task", "arm", "sample", "solved", "gate_passed", "sessions", "tokens", "seconds",
                             "tokens_per_second", "suspect", "infrastructure_failure")
                    print(json.dumps({k: row.get(k) for k in shown}), file=sys.stderr, flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
