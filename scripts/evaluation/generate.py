#!/usr/bin/env python3
"""Generates the candidate task instances from the pinned projects (projects.py), in three tiers:
  T1  one procedural bug in a function (mutate.py);
  T2  the body of a short function (at most 8 statements) removed, its header and docstring kept;
  T3  the body of a longer function (9 to 25 statements) removed, or two procedural bugs in one function.

A function is a candidate when its module's slice (the function and what it, the test file and the package need
of the module) is at most --max-lines lines, at least 4 test cases call it, and those pass 3 times in a row on
the original slice. Its tests are split into a visible and a hidden half (split.py). An instance is kept only
when its broken module fails at least one visible and one hidden test. Every choice is deterministic (sorted, or
ordered by a hash), so the same sdists give the same list.

    generate.py [--out candidates.json] [--only PROJECT,…] [--max-lines 150]

Writes the candidates (JSON) and prints why each function was left out with --verbose.
"""
import argparse
import ast
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mutate  # noqa: E402
import split  # noqa: E402
import tasks  # noqa: E402
from make_task import extract  # noqa: E402
from projects import PROJECTS  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))


def reexports(base, module_path):
    """{package: names its __init__ imports from the module}, for each package above the module."""
    target = tasks.module_name(module_path)
    with open(os.path.join(base, module_path), encoding="utf-8") as handle:
        source = handle.read()
    found = {}
    parts = module_path.split("/")[:-1]
    while parts:
        init = "/".join(parts + ["__init__.py"])
        path = os.path.join(base, init)
        if os.path.exists(path) and init != module_path:
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            names = set()
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and tasks.imported_module(init, node) == target:
                    for alias in node.names:
                        names |= tasks.public_names(source) if alias.name == "*" else {alias.asname or alias.name}
            found[tasks.module_name(init)] = names
        parts = parts[:-1]
    return found


def names_needed(base, module_path, test_file, function, tests):
    """The module's names the test file takes from it, directly or through its packages' re-exports, at import
    time and in `tests` (the function's tests). The package's other files import only what the slice keeps
    (tasks.prune_imports)."""
    target = tasks.module_name(module_path)
    packages = reexports(base, module_path)
    with open(os.path.join(base, test_file), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    scopes = import_time(tree) + [test for qualified, test in split.tests(tree) if qualified in tests]
    nodes = [child for scope in scopes for child in ast.walk(scope)]
    # Names imported from the module count only where used: the imports of the rest are pruned.
    used = {n.id for scope in scopes if not isinstance(scope, (ast.Import, ast.ImportFrom))
            for n in ast.walk(scope) if isinstance(n, ast.Name)}
    needed, aliases = set(), {}
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            source = tasks.imported_module(test_file, node)
            for alias in node.names:
                if (alias.asname or alias.name) not in used and (source == target or source in packages):
                    continue
                if source == target:
                    needed.add(alias.name)
                elif source in packages and alias.name in packages[source]:
                    needed.add(alias.name)
                elif f"{source}.{alias.name}" == target:
                    aliases[alias.asname or alias.name] = None  # the module itself
                elif f"{source}.{alias.name}" in packages:
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == target:
                    aliases[alias.asname or alias.name] = None
                elif alias.name in packages:
                    aliases[alias.asname or alias.name] = alias.name
    for node in nodes:
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if owner in aliases:
                package = aliases[owner]
                if package is None or node.attr in packages.get(package, set()):
                    needed.add(node.attr)
    needed.discard(function)
    return sorted(needed)


def import_time(tree):
    """What a module runs when imported: its statements, without function and class bodies (decorators, bases
    and class-level statements kept)."""
    scopes = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scopes.extend(node.decorator_list)
        elif isinstance(node, ast.ClassDef):
            scopes.extend(node.decorator_list + node.bases)
            scopes.extend(s for s in node.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))
        else:
            scopes.append(node)
    return scopes


def defined(source):
    return {name for node in ast.parse(source).body for name in tasks.defined_names(node)}


def collect(python, directory, test_file):
    result, _ = tasks.run([python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-o",
                           "addopts=", test_file], cwd=directory, timeout=120)
    return [line.strip() for line in result.stdout.splitlines() if line.startswith(test_file + "::")]


def run_ids(python, directory, ids):
    return tasks.run_tests(python, directory, ids)[0]


def order(items, salt):
    return sorted(items, key=lambda item: hashlib.sha256(f"{salt}:{json.dumps(item, sort_keys=True)}".encode())
                  .hexdigest())


class Generator:
    def __init__(self, cache, python, max_lines, verbose):
        self.cache, self.python, self.max_lines, self.verbose = cache, python, max_lines, verbose
        self.skipped = []

    def skip(self, where, why):
        self.skipped.append(f"{where}: {why}")
        if self.verbose:
            print(f"  skip {where}: {why}", file=sys.stderr)

    def project(self, project):
        folder, digest = tasks.sdist(project, self.cache)
        base = tasks.layout(project, folder)
        found = []
        for module_path in project.modules:
            with open(os.path.join(base, module_path), encoding="utf-8") as handle:
                source = handle.read()
            tree = ast.parse(source)
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                    found.extend(self.function(project, digest, base, module_path, source, node))
        return found

    def function(self, project, digest, base, module_path, source, node):
        name = node.name
        where = f"{project.name} {module_path}:{name}"
        best = None
        for test_file in project.tests:
            with open(os.path.join(base, test_file), encoding="utf-8") as handle:
                test_source = handle.read()
            try:
                units = split.units(test_source, name)
            except SyntaxError:
                continue
            if units and (best is None or len(units) > len(best[1])):
                best = (test_file, units, test_source)
        if best is None:
            self.skip(where, "no test calls it")
            return []
        test_file, units, test_source = best
        keep = [n for n in names_needed(base, module_path, test_file, name, {u['test'] for u in units})
                if n in defined(source)]
        try:
            original = extract(source, name, keep, stub=False)
        except Exception as error:  # a module the slicer cannot cut
            self.skip(where, f"cannot slice: {error}")
            return []
        lines = original.count("\n")
        if lines > self.max_lines:
            self.skip(where, f"slice of {lines} lines")
            return []
        instance = {"project": project.name, "version": project.version, "sdist_sha256": digest,
                    "module": module_path, "function": name, "keep": keep, "test_file": test_file,
                    "slice_lines": lines, "statements": len(mutate.statements(node))}
        with tempfile.TemporaryDirectory(prefix="eval-gen-") as directory:
            repository = os.path.join(directory, "repo")
            tasks.write_project(instance, self.cache, repository, original, test_source)
            collected = collect(self.python, repository, test_file)
            visible_units, hidden_units = split.deal(test_file, units)
            visible = split.node_ids(collected, test_file, visible_units)
            hidden = split.node_ids(collected, test_file, hidden_units)
            if len(visible) + len(hidden) < 4 or not visible or not hidden:
                self.skip(where, f"{len(visible)} visible and {len(hidden)} hidden test cases")
                return []
            # The whole file once (what passes there is graded too), the function's tests twice more.
            found = run_ids(self.python, repository, [test_file])
            passing = {node for node, outcome in found.items() if outcome == "PASSED"}
            for _ in range(2):
                found = run_ids(self.python, repository, visible + hidden)
                passing -= {node for node in visible + hidden if found.get(node) != "PASSED"}
            if not set(visible + hidden) <= passing:
                self.skip(where, "its tests do not all pass 3 times on the original slice")
                return []
            instance.update(visible=visible, hidden=hidden, visible_units=visible_units, hidden_units=hidden_units,
                            pass_to_pass=sorted(passing - set(visible) - set(hidden)))
            # The visible file alone, as the task's repository will hold it: its tests run and pass there too.
            try:
                visible_text = split.visible_source(test_source, name, hidden_units)
            except SyntaxError as error:
                self.skip(where, f"its visible test file does not parse ({error.msg})")
                return []
            with tempfile.TemporaryDirectory(prefix="eval-gen-") as alone:
                shown = os.path.join(alone, "repo")
                tasks.write_project(instance, self.cache, shown, original, visible_text)
                # pytest numbers a table's rows (`args0`, `args1`…): with hidden rows cut, the visible file's ids
                # of the same rows can differ from the whole file's. verify.sh runs the visible file's.
                verify = split.node_ids(collect(self.python, shown, test_file), test_file,
                                        split.renumbered(visible_units, hidden_units))
                found = run_ids(self.python, shown, verify)
                if len(verify) != len(visible) or any(found.get(node) != "PASSED" for node in verify):
                    self.skip(where, "the visible test file alone does not pass on the original slice")
                    return []
                instance["verify"] = verify

            def breaks(module_text):
                with open(os.path.join(repository, module_path), "w", encoding="utf-8") as handle:
                    handle.write(module_text)
                outcome = run_ids(self.python, repository, visible + hidden)
                return (any(outcome.get(n) != "PASSED" for n in visible)
                        and any(outcome.get(n) != "PASSED" for n in hidden))

            made = []
            statements = instance["statements"]
            if statements <= 25:
                tier = "T2" if statements <= 8 else "T3"
                removed = dict(instance, tier=tier, kind="body_removed", mutations=[])
                if breaks(tasks.slices(removed, source)[1]):
                    made.append(removed)
            candidates = order(mutate.mutations(original, name), f"{project.name}:{name}")[:12]
            first = None
            for mutation in candidates:
                if breaks(mutate.apply(original, [mutation])):
                    first = mutation
                    made.append(dict(instance, tier="T1", kind="mutation", mutations=[mutation]))
                    break
            if first is not None and statements >= 6:
                for mutation in candidates:
                    if mutation is first or mutation["line"] == first["line"] or mutate.overlaps(mutation, first):
                        continue
                    if breaks(mutate.apply(original, [mutation])) and breaks(mutate.apply(original, [first, mutation])):
                        made.append(dict(instance, tier="T3", kind="mutation", mutations=[first, mutation]))
                        break
        for instance in made:
            suffix = {"body_removed": "body", "mutation": f"bug{len(instance['mutations'])}"}[instance["kind"]]
            instance["id"] = f"{project.name}:{name}:{suffix}"
        if not made:
            self.skip(where, "no version of it fails both halves")
        return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, ".build/evaluation/candidates.json"))
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument("--max-lines", type=int, default=150, help="longest module slice (default 150)")
    parser.add_argument("--verbose", action="store_true", help="say why each function was left out")
    options = parser.parse_args()
    chosen = [p for p in PROJECTS if not options.only or p.name in options.only.split(",")]
    cache = os.path.join(ROOT, ".build/evaluation/sdists")
    python = evaluation_python()
    generator = Generator(cache, python, options.max_lines, options.verbose)
    instances = []
    for project in chosen:
        made = generator.project(project)
        tiers = {t: sum(1 for i in made if i["tier"] == t) for t in ("T1", "T2", "T3")}
        print(f"{project.name} {project.version}: {len(made)} instances ({tiers})", file=sys.stderr, flush=True)
        instances.extend(made)
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as handle:
        json.dump(instances, handle, indent=1, sort_keys=True)
    print(f"{len(instances)} candidates from {len({i['project'] for i in instances})} projects → {options.out}",
          file=sys.stderr)


def evaluation_python():
    """A virtual environment with pytest, under .build (made once)."""
    venv = os.path.join(ROOT, ".build/ci-venvs/eval")
    python = os.path.join(venv, "bin/python")
    if not os.path.exists(os.path.join(venv, "bin/pytest")):
        tasks.run([sys.executable, "-m", "venv", venv])
        result, _ = tasks.run([os.path.join(venv, "bin/pip"), "install", "--quiet", "pytest==8.3.3"], timeout=600)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise SystemExit(f"could not install pytest:\n{result.stdout[-2000:]}")
    return python


if __name__ == "__main__":
    main()
