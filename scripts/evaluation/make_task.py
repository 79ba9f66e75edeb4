#!/usr/bin/env python3
"""Turns one function of a real project into a task: the function's body is removed, and the module keeps only
what the function needs (its imports, constants and helpers, and the top-level calls that fill them), so a small
model sees a short file. The project's own tests of the function are the verify command.

    make_task.py MODULE.py FUNCTION OUT.py

Only the standard library is used.
"""
import ast
import sys


def names_used(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def defined_names(statement):
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    if isinstance(statement, ast.Assign):
        return {n.id for target in statement.targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    if isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and isinstance(statement.target, ast.Name):
        return {statement.target.id}
    return set()


def extract(source, function, also=(), stub=True):
    """The module cut down to `function` (its body removed unless `stub` is false) and what it and the names in
    `also` need."""
    tree = ast.parse(source)
    body = tree.body
    definitions = {}
    for index, statement in enumerate(body):
        for name in defined_names(statement):
            definitions.setdefault(name, []).append(index)
    target = next(
        i for i, s in enumerate(body) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == function
    )
    keep = {target}
    for name in also:
        keep.update(definitions.get(name, []))
    pending = list(keep)
    while pending:
        index = pending.pop()
        for name in names_used(body[index]):
            for definition in definitions.get(name, []):
                if definition not in keep:
                    keep.add(definition)
                    pending.append(definition)
        # Top-level calls that touch what is kept (rules appended to a list, directly or through the function
        # they call) are kept with it.
        kept_names = set().union(*(defined_names(body[k]) for k in keep))
        for other, statement in enumerate(body):
            if other not in keep and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                reached = names_used(statement)
                for name in list(reached):
                    for definition in definitions.get(name, []):
                        if isinstance(body[definition], (ast.FunctionDef, ast.AsyncFunctionDef)):
                            reached |= names_used(body[definition])
                if reached & kept_names:
                    keep.add(other)
                    pending.append(other)
    for index, statement in enumerate(body):
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            keep.add(index)
    exported = _exported(body, set().union(*(defined_names(body[k]) for k in keep)))
    parts = []
    for index in sorted(keep | set(exported)):
        if index in exported:
            parts.append(exported[index])
            continue
        statement = body[index]
        text = ast.get_source_segment(source, statement, padded=True)
        if statement.decorator_list if hasattr(statement, "decorator_list") else False:
            first = statement.decorator_list[0]
            text = "\n".join(source.splitlines()[first.lineno - 1 : statement.end_lineno])
        if index == target and stub:
            lines = source.splitlines()
            header_end = statement.body[0].lineno - 1
            docstring = ast.get_docstring(statement, clean=False)
            head = "\n".join(lines[statement.lineno - 1 : header_end])
            indent = " " * statement.body[0].col_offset
            stub = head + "\n"
            if docstring is not None and isinstance(statement.body[0], ast.Expr):
                first_body = statement.body[0]
                stub += "\n".join(lines[first_body.lineno - 1 : first_body.end_lineno]) + "\n"
            stub += f"{indent}raise NotImplementedError(\"{function}\")"
            text = stub
        parts.append(text)
    return "\n\n\n".join(parts) + "\n"


def _exported(body, kept):
    """{index: text} of a literal `__all__` of the module, cut to the names the slice keeps: a package that reads
    its modules' `__all__` when it is imported (funcy, toolz) needs one, and one that names what the slice lacks
    breaks `import *`."""
    found = {}
    for index, statement in enumerate(body):
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == "__all__"
                and isinstance(statement.value, (ast.List, ast.Tuple))
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in statement.value.elts)):
            names = [e.value for e in statement.value.elts if e.value in kept]
            found[index] = f"__all__ = {names!r}"
    return found


if __name__ == "__main__":
    module, function, out = sys.argv[1:4]
    with open(module, encoding="utf-8") as handle:
        source = handle.read()
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(extract(source, function))
