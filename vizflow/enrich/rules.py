"""The built-in tagging rules: ``TagCondition`` and ``TagRunning``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

import numba
import numpy as np
import polars as pl
from numba.core.errors import NumbaError

from vizflow._grouping import by_group_runs
from vizflow.enrich.base import State, TagRule
from vizflow.enrich.compile import (
    CompiledRule,
    RowError,
    as_numpy,
    check_function,
    jit_rule,
    read_columns,
    return_dtype,
)
from vizflow.exceptions import CompileError, SchemaError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

__all__ = ["TagCondition", "TagRunning"]

T = TypeVar("T")


class _FunctionRule(TagRule):
    """A rule around one user function; compiled with numba unless ``jit=False``."""

    def __init__(self, name: str, fn: Any, *, inputs: Sequence[str] | None, jit: bool) -> None:
        if not isinstance(name, str) or not name:
            msg = f"{type(self).__name__}: name must be a non-empty string, got {name!r}"
            raise VizflowError(msg)
        self.name = name
        self.fn = fn
        self.jit = jit
        self._inputs = None if inputs is None else list(inputs)

    @property
    def output_columns(self) -> list[str]:
        return [self.name]

    def resolve_inputs(self, available: Sequence[str]) -> list[str]:
        """Return the columns this rule reads: declared ``inputs`` or those named in its code."""
        if self._inputs is not None:
            return self._inputs
        return read_columns(self.fn, available)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _with_compiled(
        self, records: np.ndarray, n_args: int, run: Callable[[CompiledRule, tuple[Any, ...]], T]
    ) -> T:
        """``run(compiled rule, values to pass)``; values compiled in if they do not compile as arguments."""
        compiled = jit_rule(self.fn, records.dtype, rule=self.name, n_args=n_args)
        try:
            return run(compiled, compiled.values(self.fn))
        except CompileError:
            if not compiled.takes_values:
                raise
        compiled = jit_rule(self.fn, records.dtype, rule=self.name, n_args=n_args, bake=True)
        return run(compiled, compiled.values(self.fn))


def _run(kernel: Any, *args: Any, values: tuple[Any, ...], rule: str) -> Any:
    """Call a compiled pass; an exception raised by the user's function names its position."""
    pos = np.zeros(1, dtype=np.int64)
    try:
        return kernel(*args, pos, *values)
    except Warning:  # e.g. a numba warning turned into an error by the caller's filters
        raise
    except NumbaError as exc:  # the pass itself did not compile for this rule
        msg = f"rule {rule!r} does not compile with numba: {str(exc).strip().splitlines()[0]}"
        raise CompileError(msg) from None
    except Exception as exc:  # raised inside the user's compiled function (ZeroDivisionError...)
        raise RowError(int(pos[0]), f"{type(exc).__name__}: {exc}") from exc


class TagCondition(_FunctionRule):
    """Tag each row with a boolean condition.

    Parameters
    ----------
    name
        Output column.
    condition
        ``lambda r: r["qty"] > 10000`` (compiled with numba; ``r`` is one row as a numba record
        over the columns the function names; a number returned counts as ``bool(x)``), or a
        Polars expression giving a Boolean, which runs vectorised per ``by`` group in ``sort_by``
        order (``expr.over(by)`` on the sorted frame): ``pl.col("price").shift(1)`` is the
        previous row of the same symbol in time.
    inputs
        Columns the function reads; inferred from its code when omitted.
    jit
        ``False`` runs the function in Python on dict rows (slow; for functions numba cannot
        compile).

    Raises
    ------
    CompileError
        ``condition`` is neither a function of one argument nor an expression.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"symbol": ["a", "a", "b"], "qty": [500, 20000, 12000]})
    >>> vf.enrich(df, [vf.TagCondition("is_large", lambda r: r["qty"] > 10000)], by="symbol")
    shape: (3, 3)
    ┌────────┬───────┬──────────┐
    │ symbol ┆ qty   ┆ is_large │
    │ ---    ┆ ---   ┆ ---      │
    │ str    ┆ i64   ┆ bool     │
    ╞════════╪═══════╪══════════╡
    │ a      ┆ 500   ┆ false    │
    │ a      ┆ 20000 ┆ true     │
    │ b      ┆ 12000 ┆ true     │
    └────────┴───────┴──────────┘
    """

    def __init__(
        self,
        name: str,
        condition: Callable[[Any], bool] | pl.Expr,
        *,
        inputs: Sequence[str] | None = None,
        jit: bool = True,
    ) -> None:
        super().__init__(name, condition, inputs=inputs, jit=jit)
        self.expr = condition if isinstance(condition, pl.Expr) else None
        if self.expr is None:
            check_function(condition, 1, rule=name, jit=jit, shape="lambda r: r['qty'] > 100")
        self.elementwise = self.expr is not None and is_elementwise(self.expr)

    def resolve_inputs(self, available: Sequence[str]) -> list[str]:
        """Return the columns this rule reads (for an expression: the columns it refers to)."""
        if self.expr is not None:
            return self.expr.meta.root_names()
        return super().resolve_inputs(available)

    def process(self, row: dict[str, Any], state: State) -> dict[str, Any]:
        """Python path: ``{name: condition(row)}``."""
        return {self.name: bool(self.fn(row))}

    def compute(self, records: np.ndarray, offsets: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Compiled path: one pass over all rows; a number is a condition as in ``bool(x)``."""
        return self._with_compiled(records, 1, lambda compiled, values: self._pass(records, compiled, values))

    def _pass(
        self, records: np.ndarray, compiled: CompiledRule, values: tuple[Any, ...]
    ) -> NDArray[np.bool_]:
        arg_types = (numba.from_dtype(records.dtype), *map(numba.typeof, values))
        as_numpy(return_dtype(compiled.function, arg_types, rule=self.name), rule=self.name)
        out = np.empty(records.size, dtype=np.bool_)
        _run(compiled.condition, records, out, values=values, rule=self.name)
        return out


class TagRunning(_FunctionRule):
    """Tag each row with a running value: ``value = update(previous value, row)`` per symbol.

    The value starts at ``initial`` for each symbol's first row (state resets when the symbol
    changes) and rows are visited in ``sort_by`` order.

    Parameters
    ----------
    name
        Output column.
    update
        ``lambda prev, r: prev + 1`` (compiled with numba; see :class:`TagCondition`).
    initial
        The value before a symbol's first row. Its type and the function's return type decide
        the output dtype (``0`` with integer columns gives Int64, or UInt64 when every integer
        column read is unsigned; any float makes it Float64). An integer value that would
        overflow raises :class:`~vizflow.DataError` naming the row.
    inputs, jit
        As for :class:`TagCondition`.

    Raises
    ------
    CompileError
        ``update`` is not a function of two arguments, or (compiled) ``initial`` is not a number
        or a boolean.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"symbol": ["a", "a", "b", "a"], "t": [1, 2, 1, 3], "q": [5, 7, 1, 2]})
    >>> rules = [
    ...     vf.TagRunning("seq", lambda p, r: p + 1, 0),
    ...     vf.TagRunning("cum", lambda p, r: p + r["q"], 0),
    ... ]
    >>> vf.enrich(df, rules, by="symbol", sort_by="t")
    shape: (4, 5)
    ┌────────┬─────┬─────┬─────┬─────┐
    │ symbol ┆ t   ┆ q   ┆ seq ┆ cum │
    │ ---    ┆ --- ┆ --- ┆ --- ┆ --- │
    │ str    ┆ i64 ┆ i64 ┆ i64 ┆ i64 │
    ╞════════╪═════╪═════╪═════╪═════╡
    │ a      ┆ 1   ┆ 5   ┆ 1   ┆ 5   │
    │ a      ┆ 2   ┆ 7   ┆ 2   ┆ 12  │
    │ b      ┆ 1   ┆ 1   ┆ 1   ┆ 1   │
    │ a      ┆ 3   ┆ 2   ┆ 3   ┆ 14  │
    └────────┴─────┴─────┴─────┴─────┘
    """

    def __init__(
        self,
        name: str,
        update: Callable[[Any, Any], Any],
        initial: Any,
        *,
        inputs: Sequence[str] | None = None,
        jit: bool = True,
    ) -> None:
        if isinstance(update, pl.Expr):
            msg = f"TagRunning {name!r}: update must be a function (prev, row) -> value"
            raise VizflowError(msg)
        super().__init__(name, update, inputs=inputs, jit=jit)
        check_function(update, 2, rule=name, jit=jit, shape="lambda prev, r: prev + r['qty']")
        if jit and not isinstance(initial, _NUMBERS):
            msg = (
                f"TagRunning {name!r}: initial={initial!r}; a compiled running value starts from a "
                "number or a boolean (e.g. 0, 0.0 or float('nan') for 'none yet'), or pass jit=False"
            )
            raise CompileError(msg)
        self.initial = initial

    def process(self, row: dict[str, Any], state: State) -> dict[str, Any]:
        """Python path: update the value kept in ``state`` (reset per symbol)."""
        value = self.fn(state.running.get(self.name, self.initial), row)
        state.running[self.name] = value
        return {self.name: value}

    def compute(self, records: np.ndarray, offsets: NDArray[np.int64]) -> NDArray[Any]:
        """Compiled path: one pass, state reset at each segment; integer values checked for overflow."""
        return self._with_compiled(
            records, 2, lambda compiled, values: self._pass(records, offsets, compiled, values)
        )

    def compute_ordered(
        self, records: np.ndarray, order: NDArray[np.int64], offsets: NDArray[np.int64]
    ) -> NDArray[Any]:
        """Compiled path for rows in input order, visited in their (key, time) order: values in input order.

        ``order[k]`` is the input row at sorted position ``k`` and group ``g`` is sorted positions
        ``offsets[g]:offsets[g + 1]``; ``records`` are in input order. Same values as
        :meth:`compute` on the records gathered by ``order``, put back in input order, without
        the gather and the scatter. A failing row is named by its sorted position.
        """
        return self._with_compiled(
            records, 2, lambda compiled, values: self._pass(records, offsets, compiled, values, order=order)
        )

    def compute_keyed(self, records: np.ndarray, codes: NDArray[np.int64], n_keys: int) -> NDArray[Any]:
        """Compiled path for rows in input order, each key's rows in time order: a value per key code.

        ``codes[i]`` (in ``0..n_keys-1``) is row ``i``'s key; the rows of one key must already be
        in time order (keys may interleave, as in a feed). Same values as :meth:`compute` on
        the rows sorted by key.
        """
        keyed = (codes, n_keys)
        return self._with_compiled(
            records, 2, lambda compiled, values: self._pass(records, keyed, compiled, values)
        )

    def _pass(
        self,
        records: np.ndarray,
        rows: NDArray[np.int64] | tuple[NDArray[np.int64], int],
        compiled: CompiledRule,
        values: tuple[Any, ...],
        *,
        order: NDArray[np.int64] | None = None,
    ) -> NDArray[Any]:
        """Run the pass over ``rows``: group offsets (sorted rows) or ``(codes, n_keys)`` (keyed).

        With ``order``, the offsets are of sorted positions and the records in input order (the
        ``ordered`` passes). Passes over group offsets run on runs of whole groups in threads.
        """
        value_types = tuple(map(numba.typeof, values))
        record = numba.from_dtype(records.dtype)
        state = _initial_type(self.initial, records.dtype)
        ret = state
        for _ in range(4):  # widen the state type until update(state, r) returns the same type
            ret = return_dtype(compiled.function, (state, record, *value_types), rule=self.name)
            if ret == state:
                break
            state = ret
        else:
            msg = f"TagRunning {self.name!r}: the value's type does not settle (last: {ret})"
            raise SchemaError(msg)
        dtype = as_numpy(state, rule=self.name)
        out = np.empty(records.size, dtype=dtype)
        initial = dtype.type(self.initial)
        integer = dtype.kind in "iu"
        check = "sum" if integer and self._integer_step(compiled, state, record, value_types) else ""
        data = (records, initial, out)
        wrapped = -1
        if check == "sum":  # a running sum of integer steps: integer tests, no float shadow
            try:
                wrapped = self._passes(compiled, check, rows=rows, order=order, data=data, values=values)
            except CompileError:  # not for these types after all: the general check below
                check = ""
        if check != "sum":
            if integer and self._has_float_shadow(compiled.function, record, value_types):
                check = "shadow"
            wrapped = self._passes(compiled, check, rows=rows, order=order, data=data, values=values)
        checked = bool(check)
        if checked and wrapped >= 0:
            kind = pl.Series(out[:0]).dtype
            msg = (
                f"the running {kind} value overflows here (it would wrap around); start from a "
                "float (initial=0.0) or use smaller units"
            )
            raise RowError(wrapped, msg)
        return out

    def _passes(
        self,
        compiled: CompiledRule,
        check: str,
        *,
        rows: NDArray[np.int64] | tuple[NDArray[np.int64], int],
        order: NDArray[np.int64] | None,
        data: tuple[np.ndarray, Any, NDArray[Any]],
        values: tuple[Any, ...],
    ) -> int:
        """Run the pass for ``rows`` with ``check`` ("sum", "shadow" or none); the wrapped position or -1.

        ``data`` is the records, the initial value and the output.
        """
        records, initial, out = data
        summed = compiled.running_sum[out.dtype.kind == "i"] if check == "sum" else (None, None, None)
        args: tuple[Any, ...]
        if isinstance(rows, tuple):
            codes, n_keys = rows
            start = np.full(n_keys, initial, dtype=out.dtype)
            if check == "sum":
                kernel, args = summed[2], (codes, start, records, out)
            elif check == "shadow":
                shadow = np.full(n_keys, float(initial), dtype=np.float64)
                kernel, args = compiled.running_keyed_checked, (codes, start, shadow, records, out)
            else:
                kernel, args = compiled.running_keyed, (codes, start, records, out)
            wrapped = _run(kernel, *args, values=values, rule=self.name)
            return -1 if wrapped is None else int(wrapped)
        kernels = {
            "sum": summed[:2],
            "shadow": (compiled.running_checked, compiled.running_ordered_checked),
            "": (compiled.running, compiled.running_ordered),
        }
        kernel = kernels[check][order is not None]
        head = () if order is None else (order,)
        offsets = rows
        ends = by_group_runs(  # each run of groups its own pass (and failing position), in threads
            offsets,
            lambda a, b: _run(
                kernel,
                *head,
                offsets[a : b + 1],
                records,
                initial,
                out,
                values=values,
                rule=self.name,
            ),
        )
        return next((int(w) for w in ends if w is not None and w >= 0), -1)

    def _integer_step(
        self, compiled: CompiledRule, state: Any, record: Any, value_types: tuple[Any, ...]
    ) -> bool:
        """Whether the rule is a running sum of an int64 or uint64 value by integers of its signedness."""
        if compiled.step is None:
            return False
        try:
            step = return_dtype(compiled.step, (state, record, *value_types), rule=self.name)
        except CompileError:
            return False
        integer = numba.types.Integer
        same_sign = getattr(step, "signed", None) == getattr(state, "signed", None)
        wide = getattr(state, "bitwidth", None) == 64  # noqa: PLR2004 - int64 and uint64 values only
        return isinstance(step, integer) and isinstance(state, integer) and same_sign and wide

    def _has_float_shadow(self, jitted: Any, record: Any, value_types: tuple[Any, ...]) -> bool:
        """Whether the function also runs on a float value (the overflow check's shadow)."""
        try:
            ret = return_dtype(jitted, (numba.float64, record, *value_types), rule=self.name)
        except CompileError:  # e.g. bitwise operations: integers only, left unchecked
            return False
        return isinstance(ret, numba.types.Number)


_NUMBERS = (bool, int, float, np.bool_, np.integer, np.floating)

_ELEMENTWISE = frozenset(
    {"Abs", "Negate", "FillNull", "IsNull", "IsNotNull", "Not", "IsNan", "IsNotNan", "IsFinite",
     "IsInfinite", "IsIn", "IsBetween", "AllHorizontal", "AnyHorizontal"}
)  # fmt: skip
"""Functions whose value on a row depends on that row only (a short list; others are per group)."""


def is_elementwise(expr: pl.Expr) -> bool:
    """Whether ``expr`` is surely row by row: columns, scalars, operators, casts and a few functions.

    Such an expression gives the same values per group in time order as over the whole frame,
    so it needs no sort. Anything not recognised (``shift``, ``mean``, ``cum_sum``, a Python
    function, a Polars version's new node) counts as not elementwise: evaluated per group.

    Examples
    --------
    >>> is_elementwise(pl.col("qty") > 100), is_elementwise(pl.col("px") > pl.col("px").shift(1))
    (True, False)
    """
    try:
        tree = json.loads(expr.meta.serialize(format="json"))
    except Exception:  # e.g. a Python function is not serialisable: per group
        return False
    return _elementwise_node(tree)


def _elementwise_node(node: Any) -> bool:
    if not (isinstance(node, dict) and len(node) == 1):
        return False
    ((kind, body),) = node.items()
    if kind == "Column":
        return True
    if kind == "Literal":  # a scalar broadcasts; a Series literal does not
        return isinstance(body, dict) and set(body) <= {"Dyn", "Scalar"}
    children: list[Any]
    if kind == "BinaryExpr":
        children = [body["left"], body["right"]]
    elif kind == "Cast":
        children = [body["expr"]]
    elif kind == "Alias":
        children = [body[0]]
    elif kind == "Ternary":
        children = [body["predicate"], body["truthy"], body["falsy"]]
    elif kind == "Function" and _function_name(body["function"]) in _ELEMENTWISE:
        children = body["input"]
        if _function_name(body["function"]) == "IsIn" and "Literal" not in children[-1]:
            return False  # is_in(pl.col("b")): membership in the whole column (or group)
    else:
        return False
    return all(_elementwise_node(c) for c in children)


def _function_name(function: Any) -> str | None:
    """``"Abs"``, ``{"Boolean": "IsNull"}``, ``{"Boolean": {"IsBetween": {...}}}`` -> the name."""
    if isinstance(function, str):
        return function
    inner = function.get("Boolean") if isinstance(function, dict) and len(function) == 1 else None
    if isinstance(inner, dict) and len(inner) == 1:
        inner = next(iter(inner))
    return inner if isinstance(inner, str) else None


def _initial_type(initial: Any, record: np.dtype) -> Any:
    """Return the numba type of the start value: UInt64 for a non-negative int over unsigned columns only.

    A Python int is an int64 to numba, and int64 + uint64 stays int64: a UInt64 sum past 2**63
    would then overflow. Over unsigned integer columns (and no signed ones) the value starts as
    a uint64 instead, so UInt64 stays UInt64, as in Polars' ``cum_sum``.
    """
    kinds = {field[0].kind for field in (record.fields or {}).values()}
    unsigned = "u" in kinds and "i" not in kinds
    if type(initial) is int and initial >= 0 and unsigned and record.names != ("__none",):
        return numba.uint64
    return numba.typeof(initial)
