#!/usr/bin/env python3
"""The pre-registered statistics of the evaluation (docs/EVALUATION.md, "Pre-registration"):
  - each arm's solve rate (hidden grade) with its Wilson 95 % interval;
  - the primary test, B against A on the same tasks: exact McNemar (one-sided binomial on the discordant tasks),
    with b (A solved, B not), c (B solved, A not) and a 95 % interval of the difference from a bootstrap that
    resamples projects, then tasks within them;
  - with several runs per task, the mean per-task difference and a sign-flip permutation test;
  - secondary comparisons Holm-corrected;
  - a plot of solved tasks against tokens per arm (PNG).

    stats.py RESULTS.jsonl [RESULTS.jsonl …] [--plot docs/images/evaluation.png] [--markdown]

Only the standard library, except the plot (matplotlib, installed into .build/ci-venvs/eval when asked).
"""
import argparse
import json
import math
import os
import random
import sys
from collections import defaultdict

PRIMARY = ("B", "A")
SECONDARY = (("B", "C"), ("B", "D"), ("E", "B"))


def wilson(successes, n, z=1.959963984540054):
    """Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def binomial_tail(k, n, p=0.5):
    """P(X >= k) for X ~ Binomial(n, p), exactly."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))


def mcnemar(b, c, one_sided=True):
    """Exact McNemar: b tasks only the control solved, c only the treatment; p of c or more of the b + c
    discordant tasks going to the treatment under H0 (one-sided), or its two-sided double (capped at 1)."""
    n = b + c
    if n == 0:
        return 1.0
    upper = binomial_tail(c, n)
    if one_sided:
        return upper
    lower = 1 - binomial_tail(c + 1, n)
    return min(1.0, 2 * min(upper, lower))


def holm(p_values):
    """Holm-adjusted p-values, in the order given."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def cluster_bootstrap(pairs, replicates=10000, seed=20261207):
    """95 % interval of the mean difference (treatment − control) over tasks, resampling projects and then the
    tasks within each drawn project. `pairs` is [(project, control 0/1 or mean, treatment …)]."""
    by_project = defaultdict(list)
    for project, control, treatment in pairs:
        by_project[project].append(treatment - control)
    projects = sorted(by_project)
    if not projects:
        return (0.0, 0.0)
    generator = random.Random(seed)
    means = []
    for _ in range(replicates):
        drawn = []
        for _ in projects:
            differences = by_project[generator.choice(projects)]
            drawn.extend(generator.choice(differences) for _ in differences)
        means.append(sum(drawn) / len(drawn))
    means.sort()
    return (means[int(0.025 * replicates)], means[int(0.975 * replicates) - 1])


def sign_flip(differences, replicates=20000, seed=20261207):
    """One-sided p of a mean per-task difference this large if each task's sign were a coin flip."""
    observed = sum(differences)
    if not differences:
        return 1.0
    generator = random.Random(seed)
    at_least = 0
    for _ in range(replicates):
        total = sum(d if generator.random() < 0.5 else -d for d in differences)
        if total >= observed - 1e-12:
            at_least += 1
    return (at_least + 1) / (replicates + 1)


def load(paths):
    """Rows of results files (one JSON object per line: run, task, project, arm, solved, …)."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise SystemExit(f"{path}:{number}: not a JSON line ({error.msg})")
    return [row for row in rows if not row.get("infrastructure_failure")]


def compare(rows, treatment, control):
    """The paired comparison of two arms over the tasks both ran, in every run both ran."""
    outcome = defaultdict(dict)  # (task) -> {(arm, run): solved}
    projects = {}
    for row in rows:
        outcome[row["task"]][(row["arm"], row["run"])] = bool(row["solved"])
        projects[row["task"]] = row["project"]
    single = []  # (project, control, treatment) per task and run
    per_task = []  # (project, mean control, mean treatment) per task
    b = c = 0
    for task, results in sorted(outcome.items()):
        runs = sorted({run for arm, run in results if (treatment, run) in results and (control, run) in results})
        if not runs:
            continue
        controls = [results[(control, run)] for run in runs]
        treatments = [results[(treatment, run)] for run in runs]
        for x, y in zip(controls, treatments):
            single.append((projects[task], int(x), int(y)))
            b += x and not y
            c += y and not x
        per_task.append((projects[task], sum(controls) / len(runs), sum(treatments) / len(runs)))
    return {"treatment": treatment, "control": control, "pairs": len(single), "tasks": len(per_task), "b": b,
            "c": c, "p_mcnemar": mcnemar(b, c),
            "difference": (sum(t - x for _, x, t in per_task) / len(per_task)) if per_task else 0.0,
            "difference_ci": cluster_bootstrap(per_task),
            "p_sign_flip": sign_flip([t - x for _, x, t in per_task])}


def summary(rows):
    arms = defaultdict(lambda: {"n": 0, "solved": 0, "gate": 0, "landed_wrong": 0, "tokens": 0, "seconds": 0.0,
                                "unchanged": 0, "suspect": 0})
    for row in rows:
        arm = arms[row["arm"]]
        arm["n"] += 1
        arm["solved"] += bool(row["solved"])
        arm["gate"] += bool(row.get("gate_passed"))
        arm["landed_wrong"] += bool(row.get("landed")) and not row["solved"]
        arm["tokens"] += row.get("tokens", 0)
        arm["seconds"] += row.get("seconds", 0.0)
        arm["unchanged"] += bool(row.get("unchanged"))
        arm["suspect"] += bool(row["solved"] and row.get("suspect"))
    for arm in arms.values():
        arm["interval"] = wilson(arm["solved"], arm["n"])
    return dict(sorted(arms.items()))


def markdown(rows):
    lines = ["| arm | solved | rate (95 % Wilson) | gate passed | landed but wrong | unchanged | solved, suspect | "
             "tokens | hours |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for name, arm in summary(rows).items():
        low, high = arm["interval"]
        rate = arm["solved"] / arm["n"] if arm["n"] else 0
        lines.append(f"| {name} | {arm['solved']}/{arm['n']} | {rate:.0%} ({low:.0%}–{high:.0%}) | {arm['gate']} | "
                     f"{arm['landed_wrong']} | {arm['unchanged']} | {arm['suspect']} | {arm['tokens']:,} | "
                     f"{arm['seconds'] / 3600:.2f} |")
    arms = {row["arm"] for row in rows}
    comparisons = [compare(rows, *PRIMARY)] if set(PRIMARY) <= arms else []
    secondary = [compare(rows, *pair) for pair in SECONDARY if set(pair) <= arms]
    adjusted = holm([s["p_mcnemar"] for s in secondary])
    lines += ["", "| comparison | pairs | b (control only) | c (treatment only) | exact McNemar p (one-sided) | "
              "Holm | mean difference (95 % cluster bootstrap) | sign-flip p |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    for comparison, holm_p in [(c, None) for c in comparisons] + list(zip(secondary, adjusted)):
        low, high = comparison["difference_ci"]
        lines.append(f"| {comparison['treatment']} vs {comparison['control']} | {comparison['pairs']} | "
                     f"{comparison['b']} | {comparison['c']} | {comparison['p_mcnemar']:.3g} | "
                     f"{'primary' if holm_p is None else f'{holm_p:.3g}'} | {comparison['difference']:+.1%} "
                     f"({low:+.1%} to {high:+.1%}) | {comparison['p_sign_flip']:.3g} |")
    return "\n".join(lines)


def plot(rows, path):
    """Solved tasks against cumulative tokens, one line per arm, tasks in the order they ran."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        raise SystemExit("the plot needs matplotlib: scripts/evaluate --plot installs it into .build/ci-venvs/eval")
    figure, axes = pyplot.subplots(figsize=(7, 4.5), dpi=120)
    for arm in sorted({row["arm"] for row in rows}):
        ordered = sorted((row for row in rows if row["arm"] == arm), key=lambda r: (r["run"], r.get("order", 0)))
        tokens, solved, xs, ys = 0, 0, [0], [0]
        for row in ordered:
            tokens += row.get("tokens", 0)
            solved += bool(row["solved"])
            xs.append(tokens / 1000)
            ys.append(solved)
        axes.step(xs, ys, where="post", label=f"{arm} ({solved}/{len(ordered)})")
    axes.set_xlabel("tokens (thousands, cumulative, critic and reviewer included)")
    axes.set_ylabel("tasks solved (hidden grade)")
    axes.set_title("Solved tasks against tokens spent, per arm")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="results files (JSON lines) written by evaluate.py")
    parser.add_argument("--plot", help="write the plot here (PNG)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of Markdown")
    options = parser.parse_args()
    rows = load(options.results)
    if not rows:
        raise SystemExit("no results in " + ", ".join(options.results))
    if options.json:
        arms = {row["arm"] for row in rows}
        print(json.dumps({"arms": summary(rows), "comparisons": [compare(rows, *pair) for pair in
                                                                  (PRIMARY,) + SECONDARY if set(pair) <= arms]},
                         indent=1))
    else:
        print(markdown(rows))
    if options.plot:
        plot(rows, options.plot)


if __name__ == "__main__":
    sys.exit(main())
