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


def _parametrize(test):
    tables = [d for d in test.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
              and d.func.attr == "parametrize"]
    return tables[0] if len(tables) == 1 and len(tables[0].args) == 2 else None


def _row_ids(test):
    """The literal `ids=` list of the test's table, cut with its rows, or None."""
    table = _parametrize(test)
    return next((k.value for k in table.keywords if k.arg == "ids"), None) if table is not None else None


def _table(tree, test, function):
    """The list or tuple literal of the test's only parametrize decorator, if it has one and nothing else says
    something per row but a literal `ids=` list of one id a row (cut with them)."""
    table = _parametrize(test)
    if table is None or any(k.arg != "ids" for k in table.keywords):
        return None
    ids = _row_ids(test)
    rows = table.args[1]
    if isinstance(rows, ast.Name):
        # A table another test of the function reads too is theirs as well: its rows are not one test's to deal
        # (cut for both, a row one keeps could be a row the other hides). Tests of other functions may share it:
        # they are not the task's, and in the visible file they lose the hidden rows as well.
        readers = [d for _, other in tests(tree) if _calls(other, function) for d in other.decorator_list
                   if isinstance(d, ast.Call)
                   and isinstance(d.func, ast.Attribute) and d.func.attr == "parametrize" and len(d.args) > 1
                   and isinstance(d.args[1], ast.Name) and d.args[1].id == rows.id]
        if len(readers) > 1:
            return None
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == rows.id):
                rows = node.value
                break
    if not isinstance(rows, (ast.List, ast.Tuple)) or len(rows.elts) < 2 or any(
            isinstance(e, ast.Starred) for e in rows.elts):
        return None
    if ids is not None and not (isinstance(ids, (ast.List, ast.Tuple)) and len(ids.elts) == len(rows.elts)
                                and not any(isinstance(e, ast.Starred) for e in ids.elts)):
        return None
    return rows


def units(source, function):
    """The units of the tests that call `function`: dicts with id, test (qualified name) and row (or None)."""
    tree = ast.parse(source)
    found = []
    for name, test in tests(tree):
        if not _calls(test, function):
            continue
        table = _table(tree, test, function)
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


def renumbered(visible, hidden):
    """The visible units as the visible file numbers them: the rows of a table after a hidden row move up."""
    cut = {}
    for unit in hidden:
        if unit["row"] is not None:
            cut.setdefault(unit["test"], []).append(unit["row"])
    return [unit if unit["row"] is None else
            dict(unit, row=unit["row"] - sum(1 for row in cut.get(unit["test"], []) if row < unit["row"]))
            for unit in visible]


def visible_source(source, function, hidden):
    """The test file without the hidden units: their functions removed, their rows taken out of the table, and
    module-level assignments nothing uses any more."""
    tree = ast.parse(source)
    hidden_tests = {u["test"] for u in hidden if u["row"] is None}
    hidden_rows = {}
    for unit in hidden:
        if unit["row"] is not None:
            hidden_rows.setdefault(unit["test"], set()).add(unit["row"])
    # ast's column offsets count UTF-8 bytes: the cuts are made in the encoded text.
    data = source.encode("utf-8")
    lines = data.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    cuts = []  # (start, end) byte spans to remove
    for name, test in tests(tree):
        if name in hidden_tests:
            first = min([test.lineno] + [d.lineno for d in test.decorator_list])
            cuts.append((starts[first - 1], starts[test.end_lineno]))
        elif name in hidden_rows:
            table, ids = _table(tree, test, function), _row_ids(test)
            for index in hidden_rows[name]:
                for element in [table.elts[index]] + ([ids.elts[index]] if ids is not None else []):
                    start = starts[element.lineno - 1] + element.col_offset
                    end = starts[element.end_lineno - 1] + element.end_col_offset
                    # The comma after the row goes with it.
                    rest = data[end:]
                    stripped = rest.lstrip(b" \t")
                    if stripped.startswith(b","):
                        end += len(rest) - len(stripped) + 1
                    cuts.append((start, end))
    previous = None
    for start, end in sorted(set(cuts), reverse=True):
        if previous is not None and end > previous:
            continue  # inside a cut already made
        data = data[:start] + data[end:]
        previous = start
    source = data.decode("utf-8")
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
        lines = source.encode("utf-8").splitlines(keepends=True)
        for node in sorted(unused, key=lambda n: n.lineno, reverse=True):
            del lines[node.lineno - 1: node.end_lineno]
        source = b"".join(lines).decode("utf-8")
