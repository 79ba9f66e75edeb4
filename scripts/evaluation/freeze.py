#!/usr/bin/env python3
"""Applies the selection rule to the calibration run and freezes the test and development sets.

The rule (docs/EVALUATION.md, "Pre-registration"; written before any calibration was run):
  1. Each candidate's calibration score is how many of its two bare sessions (arm A, run 0, samples 0 and 1)
     solved it on the hidden grade. A candidate with an infrastructure failure in either session is left out.
  2. The test set takes --size tasks (default 40): 40 % scored 1/2, at most 25 % scored 2/2, and the rest scored
     0/2 from tiers T1 and T2 only (the tasks where feedback, not luck, would have to help).
  3. Within each score the candidates are taken in the order of the SHA-256 of their id, skipping one whose
     project already has 5 tasks in the set, or whose tier already has its share (40 % T1, 35 % T2, 25 % T3,
     rounded up) while others remain. A score short of its share is filled from score 1, then 0 (T1/T2), then 2.
  4. The development set takes --dev-size (default 20) of the candidates left, by the same rule and caps.
  5. Each set is written with the SHA-256 of its canonical JSON; the test set's hash also goes to
     test-set.sha256 beside this script, committed before the first main run. A task is never dropped
     afterwards because of an arm's outcome.

    freeze.py CANDIDATES.json CALIBRATION.jsonl [--size 40] [--dev-size 20] [--out-dir scripts/evaluation]
"""
import argparse
import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TIER_SHARES = {"T1": 0.40, "T2": 0.35, "T3": 0.25}
PER_PROJECT = 5


def canonical_hash(items):
    return hashlib.sha256(json.dumps(items, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def scores(candidates, rows):
    """{task id: solved sessions of two}, for candidates with two clean calibration sessions."""
    sessions = {}
    for row in rows:
        if row.get("arm") != "A" or row.get("run") != 0:
            continue
        sessions.setdefault(row["task"], {})[row.get("sample", 0)] = row
    found = {}
    for candidate in candidates:
        runs = sessions.get(candidate["id"], {})
        if set(runs) >= {0, 1} and not any(runs[s].get("infrastructure_failure") for s in (0, 1)):
            found[candidate["id"]] = sum(bool(runs[s].get("solved")) for s in (0, 1))
    return found


def choose(candidates, score, size, taken):
    """`size` candidates by the rule, none of `taken`."""
    by_hash = sorted((c for c in candidates if c["id"] in score and c["id"] not in taken),
                     key=lambda c: hashlib.sha256(c["id"].encode()).hexdigest())
    shares = {1: round(0.40 * size), 2: math.floor(0.25 * size)}
    shares[0] = size - shares[1] - shares[2]
    tier_caps = {tier: math.ceil(share * size) for tier, share in TIER_SHARES.items()}
    chosen, projects, tiers = [], {}, {}

    def eligible(candidate, wanted_score, strict_tiers):
        if score[candidate["id"]] != wanted_score or candidate in chosen:
            return False
        if wanted_score == 0 and candidate["tier"] == "T3":
            return False
        if projects.get(candidate["project"], 0) >= PER_PROJECT:
            return False
        return not strict_tiers or tiers.get(candidate["tier"], 0) < tier_caps[candidate["tier"]]

    def take(wanted_score, count):
        for strict in (True, False):
            for candidate in by_hash:
                if count == 0:
                    return 0
                if eligible(candidate, wanted_score, strict):
                    chosen.append(candidate)
                    projects[candidate["project"]] = projects.get(candidate["project"], 0) + 1
                    tiers[candidate["tier"]] = tiers.get(candidate["tier"], 0) + 1
                    count -= 1
        return count

    short = sum(take(wanted, shares[wanted]) for wanted in (1, 2, 0))
    for wanted in (1, 0, 2):
        short = take(wanted, short) if short else 0
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidates")
    parser.add_argument("calibration")
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--dev-size", type=int, default=20)
    parser.add_argument("--out-dir", default=HERE)
    options = parser.parse_args()
    with open(options.candidates) as handle:
        candidates = json.load(handle)
    rows = []
    with open(options.calibration) as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise SystemExit(f"{options.calibration}:{number}: not a JSON line ({error.msg})")
    score = scores(candidates, rows)
    test = choose(candidates, score, options.size, set())
    development = choose(candidates, score, options.dev_size, {c["id"] for c in test})
    for name, chosen in (("test-set", test), ("dev-set", development)):
        tasks = sorted(chosen, key=lambda c: c["id"])
        digest = canonical_hash(tasks)
        with open(os.path.join(options.out_dir, f"{name}.json"), "w") as handle:
            json.dump({"sha256": digest, "calibration_scores": {c["id"]: score[c["id"]] for c in tasks},
                       "tasks": tasks}, handle, indent=1, sort_keys=True)
        counts = {s: sum(1 for c in tasks if score[c["id"]] == s) for s in (0, 1, 2)}
        tiers = {t: sum(1 for c in tasks if c["tier"] == t) for t in TIER_SHARES}
        projects = len({c["project"] for c in tasks})
        print(f"{name}: {len(tasks)} tasks from {projects} projects; scores 0/1/2: {counts}; tiers {tiers}; "
              f"sha256 {digest}", file=sys.stderr)
        if name == "test-set":
            with open(os.path.join(options.out_dir, "test-set.sha256"), "w") as handle:
                handle.write(digest + "\n")
    if len(test) < options.size:
        raise SystemExit(f"only {len(test)} tasks met the rule for a test set of {options.size}")


if __name__ == "__main__":
    main()
