"""Procedural bugs for tier-1 (one bug) and tier-3 (two bugs) tasks, after SWE-smith's procedural strategies:
flip an operator, swap a comparison's or an arithmetic's operands, change an integer constant, invert an `if`,
remove an `if` without `else`, remove an assignment. Each mutation is a text edit at the node's position, so the
rest of the file keeps its formatting, comments and docstring.

    mutations(source, function)   -> every mutation of `function`'s body, in a stable order
    apply(source, [mutation…])    -> the source with the mutations applied

A mutation is a dict (JSON in the task list): op, line, col, end_line, end_col (1-based lines, 0-based columns of
the replaced span), old and new text.
"""
import ast

FLIPS = {
    ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.FloorDiv: "/", ast.Mod: "//",
    ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
    ast.In: "not in", ast.NotIn: "in", ast.Is: "is not", ast.IsNot: "is",
}
SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}


def _offsets(source):
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _span(source, starts, line, col, end_line, end_col):
    return source[starts[line - 1] + col: starts[end_line - 1] + end_col]


def _mutation(source, starts, op, line, col, end_line, end_col, new):
    return {"op": op, "line": line, "col": col, "end_line": end_line, "end_col": end_col,
            "old": _span(source, starts, line, col, end_line, end_col), "new": new}


def _between(source, starts, left, right):
    """Where the text between two nodes is, as (line, col, end_line, end_col)."""
    return left.end_lineno, left.end_col_offset, right.lineno, right.col_offset


def _docstring(function):
    first = function.body[0] if function.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def target(tree, name):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise KeyError(f"no top-level function {name!r}")


def statements(function):
    """The statements of a function's body, nested ones included, its docstring not."""
    docstring = _docstring(function)
    return [node for node in ast.walk(function) if isinstance(node, ast.stmt) and node is not function
            and node is not docstring]


def mutations(source, name):
    tree = ast.parse(source)
    function = target(tree, name)
    starts = _offsets(source)
    docstring = _docstring(function)
    found = []
    for node in ast.walk(function):
        if node is docstring:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in FLIPS:
            where = _between(source, starts, node.left, node.right)
            text = _span(source, starts, *where)
            symbol = SYMBOLS[type(node.op)]
            if text.strip() == symbol:
                found.append(_mutation(source, starts, "flip_operator", *where,
                                       text.replace(symbol, FLIPS[type(node.op)], 1)))
            left = _span(source, starts, node.left.lineno, node.left.col_offset, node.left.end_lineno,
                         node.left.end_col_offset)
            right = _span(source, starts, node.right.lineno, node.right.col_offset, node.right.end_lineno,
                          node.right.end_col_offset)
            if type(node.op) in (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod) and "\n" not in left + right:
                found.append(_mutation(source, starts, "swap_operands", node.lineno, node.col_offset,
                                       node.end_lineno, node.end_col_offset, f"{right} {text.strip()} {left}"))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in FLIPS:
            where = _between(source, starts, node.left, node.comparators[0])
            text = _span(source, starts, *where)
            symbol = SYMBOLS[type(node.ops[0])]
            if text.strip() == symbol:
                found.append(_mutation(source, starts, "flip_comparison", *where,
                                       text.replace(symbol, FLIPS[type(node.ops[0])], 1)))
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            where = _between(source, starts, node.values[0], node.values[1])
            text = _span(source, starts, *where)
            symbol = "and" if isinstance(node.op, ast.And) else "or"
            if text.strip() == symbol:
                found.append(_mutation(source, starts, "flip_boolean", *where,
                                       text.replace(symbol, "or" if symbol == "and" else "and", 1)))
        elif (isinstance(node, ast.Constant) and type(node.value) is int and node.lineno == node.end_lineno):
            found.append(_mutation(source, starts, "change_constant", node.lineno, node.col_offset,
                                   node.end_lineno, node.end_col_offset, str(node.value + 1)))
        elif isinstance(node, ast.If):
            test = node.test
            found.append(_mutation(source, starts, "invert_if", test.lineno, test.col_offset, test.end_lineno,
                                   test.end_col_offset,
                                   "not (" + _span(source, starts, test.lineno, test.col_offset, test.end_lineno,
                                                   test.end_col_offset) + ")"))
            if not node.orelse and _alone_on_lines(source, starts, node):
                found.append(_removal(source, starts, "remove_if", node))
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and _alone_on_lines(source, starts, node):
            found.append(_removal(source, starts, "remove_assignment", node))
    # A removal that would leave an empty block is not a mutation the file can hold.
    found = [m for m in found if not _empties_a_block(function, m)]
    found.sort(key=lambda m: (m["line"], m["col"], m["op"]))
    return found


def _alone_on_lines(source, starts, node):
    lines = source.splitlines()
    before = lines[node.lineno - 1][: node.col_offset]
    after = lines[node.end_lineno - 1][node.end_col_offset:]
    return not before.strip() and not after.strip().rstrip(";")


def _removal(source, starts, op, node):
    """Removes the node's whole lines (replaced by nothing)."""
    end = len(source.splitlines()[node.end_lineno - 1])
    mutation = _mutation(source, starts, op, node.lineno, 0, node.end_lineno, end, "")
    mutation["removes_lines"] = True
    return mutation


def _empties_a_block(function, mutation):
    if not mutation.get("removes_lines"):
        return False
    for node in ast.walk(function):
        if not isinstance(node, ast.stmt):
            continue
        if node is not function and node.lineno >= mutation["line"] and node.end_lineno <= mutation["end_line"]:
            continue  # removed with the mutation
        for block in ("body", "orelse", "finalbody"):
            statements_ = getattr(node, block, None)
            if isinstance(statements_, list) and statements_ and all(isinstance(s, ast.stmt) for s in statements_):
                inside = [s for s in statements_ if s.lineno >= mutation["line"] and s.end_lineno <= mutation["end_line"]]
                if len(inside) == len(statements_):
                    return True
    return False


def apply(source, chosen):
    """Applies mutations that do not overlap, last first so earlier positions stay valid."""
    starts = _offsets(source)
    spans = sorted(((starts[m["line"] - 1] + m["col"], starts[m["end_line"] - 1] + m["end_col"], m) for m in chosen),
                   reverse=True)
    previous_start = None
    for start, end, mutation in spans:
        if previous_start is not None and end > previous_start:
            raise ValueError("mutations overlap")
        if source[start:end] != mutation["old"]:
            raise ValueError(f"mutation at line {mutation['line']} does not match the source")
        if mutation.get("removes_lines"):
            # The whole lines go, with their line break.
            line_end = source.find("\n", end)
            end = len(source) if line_end < 0 else line_end + 1
        source = source[:start] + mutation["new"] + source[end:]
        previous_start = start
    return source


def overlaps(first, second):
    return not ((first["end_line"], first["end_col"]) <= (second["line"], second["col"])
                or (second["end_line"], second["end_col"]) <= (first["line"], first["col"]))
