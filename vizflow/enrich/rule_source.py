"""A rule function's own source, rewritten so the values it reads become parameters.

numba bakes the globals and closure values a function reads into its machine code. To compile
a rule once and pass those values at run time, vizflow finds the function's definition in its
source file (``linecache``: files, notebook cells), checks that it is the code Python runs (the
definition recompiled gives the same bytecode), and writes it again as a ``def`` whose extra
parameters carry those names (:func:`definition_with_parameters`). A function without such
source (``exec``, ``python -c``, an edited file) gets None: its values stay baked in.
"""

from __future__ import annotations

import ast
import copy
import linecache
import types
from collections import OrderedDict
from typing import Any

__all__ = ["FunctionNode", "definition_with_parameters", "function_node", "running_sum_step"]

FunctionNode = ast.Lambda | ast.FunctionDef

_NODES: OrderedDict[types.CodeType, FunctionNode | None] = OrderedDict()
_NODES_SIZE = 256
"""The definitions found, by code object (an LRU: code built by ``exec`` in a loop is new each time)."""


def function_node(code: types.CodeType) -> FunctionNode | None:
    """Return the ``lambda`` or ``def`` that compiled to ``code``, or None if it cannot be told.

    Examples
    --------
    >>> node = function_node((lambda r: r["qty"] > 10).__code__)
    >>> node is None or ast.unparse(node) == "lambda r: r['qty'] > 10"
    True
    """
    if code in _NODES:
        _NODES.move_to_end(code)
        return _NODES[code]
    node = _find(code)
    _NODES[code] = node
    if len(_NODES) > _NODES_SIZE:
        _NODES.popitem(last=False)
    return node


def _find(code: types.CodeType) -> FunctionNode | None:
    text = "".join(linecache.getlines(code.co_filename))
    if not text:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    positions = [p for p in code.co_positions() if None not in p and p[2] != p[3]]  # not RESUME (0, 0)
    candidates = []
    for node in ast.walk(tree):
        if not isinstance(node, FunctionNode) or _first_line(node) != code.co_firstlineno:
            continue
        if (node.name if isinstance(node, ast.FunctionDef) else "<lambda>") != code.co_name:
            continue
        start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
        if all(
            start <= (line, col) and (end_line, end_col) <= end for line, end_line, col, end_col in positions
        ):
            candidates.append(node)
    # the innermost candidate whose recompiled bytecode is the function's own
    candidates.sort(key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0, -n.lineno, -n.col_offset))
    imports = _module_imports(tree)
    return next((n for n in candidates if _same_code(n, code, imports)), None)


def _module_imports(tree: ast.Module) -> list[ast.stmt]:
    """Return the module-level imports of ``tree`` (``from __future__`` first), in order.

    They change how the function compiles: CPython 3.11+ loads ``name.attr`` in a call such as
    ``math.sqrt(x)`` as a plain attribute, not a method, when ``name`` was bound by an import in
    the module's top-level scope; a ``__future__`` import changes annotations.
    """
    found: list[ast.stmt] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            for child in ast.iter_child_nodes(node):
                visit(child)

    visit(tree)
    return sorted(found, key=lambda n: not (isinstance(n, ast.ImportFrom) and n.module == "__future__"))


def _first_line(node: FunctionNode) -> int:
    if isinstance(node, ast.FunctionDef):
        return min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return node.lineno


def _same_code(node: FunctionNode, code: types.CodeType, imports: list[ast.stmt]) -> bool:
    """Whether ``node``, compiled with ``code``'s closure variables as cells, gives ``code``."""
    inner: ast.stmt
    if isinstance(node, ast.FunctionDef):
        inner = copy.copy(node)  # shallow: the original keeps its decorators
        inner.decorator_list = []
    else:
        inner = ast.Assign(targets=[ast.Name("__vizflow_f__", ast.Store())], value=node)
    cells: list[ast.stmt] = [
        ast.Assign(targets=[ast.Name(name, ast.Store())], value=ast.Constant(None))
        for name in code.co_freevars
    ]
    outer = _function(
        "__vizflow_outer__",
        ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        [*cells, inner],
    )
    module = ast.fix_missing_locations(ast.Module(body=[*imports, outer], type_ignores=[]))
    try:
        compiled = compile(module, code.co_filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return False
    found = [c for c in _nested(compiled) if c.co_name == code.co_name and _equal(c, code)]
    return bool(found)


def _nested(code: types.CodeType) -> list[types.CodeType]:
    out = []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.append(const)
            out.extend(_nested(const))
    return out


def _equal(a: types.CodeType, b: types.CodeType) -> bool:
    """Compare instructions, names and constants (nested code compared alike; lines may differ)."""
    if (a.co_code, a.co_names, a.co_varnames, a.co_freevars, a.co_cellvars, a.co_argcount) != (
        b.co_code, b.co_names, b.co_varnames, b.co_freevars, b.co_cellvars, b.co_argcount,
    ):  # fmt: skip
        return False
    if len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts, strict=True):
        if isinstance(x, types.CodeType) and isinstance(y, types.CodeType):
            if not _equal(x, y):
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def definition_with_parameters(node: FunctionNode, name: str, extra: tuple[str, ...]) -> str | None:
    """Source of ``def name(<the function's parameters>, *extra)`` with the function's body.

    Defaults, annotations and decorators are dropped (the caller passes every argument); a
    function with ``*args``, ``**kwargs`` or keyword-only parameters gives None.

    Examples
    --------
    >>> node = ast.parse("lambda p, r: p + r['qty'] * scale").body[0].value
    >>> print(definition_with_parameters(node, "rule", ("scale",)))
    def rule(p, r, scale):
        return p + r['qty'] * scale
    """
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs:
        return None
    params = [ast.arg(a.arg) for a in [*args.posonlyargs, *args.args]] + [ast.arg(e) for e in extra]
    arguments = ast.arguments(posonlyargs=[], args=params, kwonlyargs=[], kw_defaults=[], defaults=[])
    body: list[ast.stmt] = [ast.Return(node.body)] if isinstance(node, ast.Lambda) else node.body
    return ast.unparse(ast.fix_missing_locations(_function(name, arguments, body)))


def _function(name: str, arguments: ast.arguments, body: list[ast.stmt]) -> ast.FunctionDef:
    """Build a bare ``def`` node (``type_params`` exists from Python 3.12 on)."""
    fields: dict[str, Any] = {"name": name, "args": arguments, "body": body, "decorator_list": []}
    if "type_params" in ast.FunctionDef._fields:
        fields["type_params"] = []
    return ast.FunctionDef(**fields)


def running_sum_step(node: FunctionNode) -> tuple[FunctionNode, str] | None:
    """Split a running rule ``prev + step``, ``step + prev`` or ``prev - step`` into its step.

    Returns a function of the same parameters returning ``step`` (which must not read
    ``prev``, the first parameter), and how the value is made from it: ``"prev + step"``,
    ``"step + prev"`` or ``"prev - step"``. Such a rule's integer value overflows exactly when
    the sign of ``step`` says it should grow (shrink) and it does not: a test on integers,
    without evaluating the rule a second time in float. None for any other form.

    Examples
    --------
    >>> step, form = running_sum_step(ast.parse("lambda p, r: p + r['side'] * r['qty']").body[0].value)
    >>> ast.unparse(step), form
    ("lambda p, r: r['side'] * r['qty']", 'prev + step')
    >>> running_sum_step(ast.parse("lambda p, r: p + p * r['x']").body[0].value) is None
    True
    """
    if isinstance(node, ast.Lambda):
        body = node.body
    elif len(node.body) == 1 and isinstance(node.body[0], ast.Return) and node.body[0].value is not None:
        body = node.body[0].value
    else:
        return None
    params = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
    if not params or not isinstance(body, ast.BinOp) or not isinstance(body.op, ast.Add | ast.Sub):
        return None
    prev = params[0]

    def is_prev(e: ast.expr) -> bool:
        return isinstance(e, ast.Name) and e.id == prev

    def reads_prev(e: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id == prev for n in ast.walk(e))

    if is_prev(body.left) and not reads_prev(body.right):
        step, form = body.right, "prev + step" if isinstance(body.op, ast.Add) else "prev - step"
    elif isinstance(body.op, ast.Add) and is_prev(body.right) and not reads_prev(body.left):
        step, form = body.left, "step + prev"
    else:
        return None
    return ast.Lambda(args=node.args, body=step), form
