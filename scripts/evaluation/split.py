"""The visible/hidden split of a task's tests. The tests that call the function are cut into units (a test
function or method, or one row of its parametrize table when it has exactly one table written out as a list),
the units are ordered by a hash of their id and dealt alternately to the visible gate and the hidden grade. The
visible test file is the original with the hidden units removed (their rows taken out of the table, and the
module-level tables only they used), so the task's repository never holds a hidden test.
"""
import ast
import hashlib


def _calls(node, function):
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            callee = call.func
            if (isinstance(callee, ast.Attribute) and callee.attr == function) or (
                    isinstance(callee, ast.Name) and callee.id == function):
                return True
        # A function handed to a helper (`check(function, …)`) or looked up by name counts too.
        if isinstance(call, ast.Name) and call.id == function and isinstance(call.ctx, ast.Load):
            return True
        if isinstance(call, ast.Attribute) and call.attr == function:
            return True
    return False


def tests(tree):
    """(qualified name, node) of each test function and test method."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test") or (
                isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Attribute) and b.attr == "TestCase" or isinstance(b, ast.Name)
                    and b.id == "TestCase" for b in node.bases)):
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name.startswith("test"):
                    yield f"{node.name}::{method.name}", method


def _table(tree, test):
    """The list or tuple literal of the test's only parametrize decorator, if it has one and no other list says
    something per row (`ids=`)."""
    tables = [d for d in test.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
              and d.func.attr == "parametrize"]
    if len(tables) != 1 or len(tables[0].args) < 2 or len(tables[0].args) > 2 or tables[0].keywords:
        return None
    rows = tables[0].args[1]
    if isinstance(rows, ast.Name):
        # A table other tests read too is theirs as well: its rows are not one test's to deal.
        readers = [d for _, other in tests(tree) for d in other.decorator_list if isinstance(d, ast.Call)
                   and isinstance(d.func, ast.Attribute) and d.func.attr == "parametrize" and len(d.args) > 1
                   and isinstance(d.args[1], ast.Name) and d.args[1].id == rows.id]
        if len(readers) > 1:
            return None
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == rows.id):
                rows = node.value
                break
    if isinstance(rows, (ast.List, ast.Tuple)) and len(rows.elts) >= 2 and not any(
            isinstance(e, ast.Starred) for e in rows.elts):
        return rows
    return None


def units(source, function):
    """The units of the tests that call `function`: dicts with id, test (qualified name) and row (or None)."""
    tree = ast.parse(source)
    found = []
    for name, test in tests(tree):
        if not _calls(test, function):
            continue
        table = _table(tree, test)
        if table is None:
            found.append({"id": name, "test": name, "row": None})
        else:
            found.extend({"id": f"{name}[{i}]", "test": name, "row": i} for i in range(len(table.elts)))
    return found


def deal(test_file, found):
    """Splits units into (visible, hidden) by the hash of `test_file::id`, alternately, visible first."""
    ordered = sorted(found, key=lambda u: hashlib.sha256(f"{test_file}::{u['id']}".encode()).hexdigest())
    return ordered[0::2], ordered[1::2]


def node_ids(collected, test_file, chosen):
    """pytest node ids of the chosen units among `collected` (the ids pytest listed, in its order)."""
    by_test = {}
    for node in collected:
        path, _, rest = node.partition("::")
        if path != test_file:
            continue
        by_test.setdefault(rest.split("[")[0], []).append(node)
    ids = []
    for unit in chosen:
        nodes = by_test.get(unit["test"], [])
        if unit["row"] is None:
            ids.extend(nodes)
        elif unit["row"] < len(nodes):
            ids.append(nodes[unit["row"]])
    return ids


def visible_source(source, function, hidden):
    """The test file without the hidden units: their functions removed, their rows taken out of the table, and
    module-level assignments nothing uses any more."""
    tree = ast.parse(source)
    hidden_tests = {u["test"] for u in hidden if u["row"] is None}
    hidden_rows = {}
    for unit in hidden:
        if unit["row"] is not None:
            hidden_rows.setdefault(unit["test"], set()).add(unit["row"])
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    cuts = []  # (start, end) character spans to remove
    for name, test in tests(tree):
        if name in hidden_tests:
            first = min([test.lineno] + [d.lineno for d in test.decorator_list])
            cuts.append((starts[first - 1], starts[test.end_lineno]))
        elif name in hidden_rows:
            table = _table(tree, test)
            for index in hidden_rows[name]:
                element = table.elts[index]
                start = starts[element.lineno - 1] + element.col_offset
                end = starts[element.end_lineno - 1] + element.end_col_offset
                # The comma after the row goes with it.
                rest = source[end:]
                stripped = rest.lstrip(" \t")
                if stripped.startswith(","):
                    end += len(rest) - len(stripped) + 1
                cuts.append((start, end))
    previous = None
    for start, end in sorted(set(cuts), reverse=True):
        if previous is not None and end > previous:
            continue  # inside a cut already made
        source = source[:start] + source[end:]
        previous = start
    return _without_unused_tables(source)


def _without_unused_tables(source):
    while True:
        tree = ast.parse(source)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        unused = [node for node in tree.body if isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name) and node.targets[0].id not in used
                  and node.targets[0].id.isupper()]
        if not unused:
            return source
        lines = source.splitlines(keepends=True)
        for node in sorted(unused, key=lambda n: n.lineno, reverse=True):
            del lines[node.lineno - 1: node.end_lineno]
        source = "".join(lines)
