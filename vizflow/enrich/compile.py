"""Compiling users' rule functions with numba: which columns they read, record types, caching."""

from __future__ import annotations

import dis
import types
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from vizflow.exceptions import SchemaError, VizflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["CompileError", "jit_rule", "read_columns", "records_of", "return_dtype"]

_JITTED: dict[Any, Any] = {}


class CompileError(VizflowError):
    """numba could not compile a rule's function."""


def read_columns(fn: Callable[..., Any], available: Iterable[str]) -> list[str]:
    """Columns a rule function reads: the string constants in its code that name a column.

    ``lambda r: r["qty"] > 10000`` reads ``qty``. Constants of nested functions count too. A name
    that only appears built at run time (``r["q" + "ty"]``) is not seen: declare ``inputs=``.

    Examples
    --------
    >>> read_columns(lambda p, r: p + r["side"] * r["qty"], ["qty", "side", "price"])
    ['qty', 'side']
    """
    names: set[str] = set()
    stack = [fn.__code__]
    while stack:
        code = stack.pop()
        for const in code.co_consts:
            if isinstance(const, str):
                names.add(const)
            elif isinstance(const, types.CodeType):
                stack.append(const)
        names.update(i.argval for i in dis.get_instructions(code) if isinstance(i.argval, str))
    wanted = set(available)
    return sorted(names & wanted, key=list(available).index)


def records_of(frame: pl.DataFrame, columns: list[str], *, where: str) -> np.ndarray:
    """Copy ``columns`` (numeric or boolean only) into a structured array, one record per row."""
    fields = []
    for name in columns:
        dtype = frame.schema[name]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            msg = (
                f"{where}: column {name!r} has dtype {dtype}; compiled rules read numeric or "
                f"boolean columns only. Encode it first, e.g. "
                f"pl.col({name!r}).replace_strict({{'B': 1, 'S': -1}}), or use jit=False"
            )
            raise SchemaError(msg)
        fields.append((name, _numpy_dtype(dtype)))
    if not fields:  # numba records need a field; a rule reading nothing gets a 1-byte dummy
        return np.zeros(frame.height, dtype=[("__none", np.uint8)])
    out = np.empty(frame.height, dtype=fields)
    for name in columns:
        out[name] = frame.get_column(name).to_numpy()
    return out


def _numpy_dtype(dtype: pl.DataType) -> np.dtype:
    return pl.Series([], dtype=dtype).to_numpy().dtype


def jit_rule(fn: Callable[..., Any], *, rule: str) -> Any:
    """``numba.njit(fn)``, memoised: the same function (or code without closure) compiles once."""
    import numba

    key: Any = fn
    if fn.__closure__ is None and not fn.__defaults__:
        key = fn.__code__  # a lambda re-created in a loop is the same rule
    try:
        return _JITTED[key]
    except (KeyError, TypeError):
        pass
    if not callable(fn) or not hasattr(fn, "__code__"):
        msg = f"rule {rule!r}: expected a Python function or lambda, got {type(fn).__name__}"
        raise VizflowError(msg)
    jitted = numba.njit(fn)
    _JITTED[key] = jitted
    return jitted


def return_dtype(jitted: Any, arg_types: tuple[Any, ...], *, rule: str) -> Any:
    """Compile ``jitted`` for ``arg_types`` and return the numba return type.

    Raises
    ------
    CompileError
        Naming the rule, with numba's reason in one line and what to do.
    """
    import numba

    try:
        jitted.compile(arg_types)
    except numba.core.errors.TypingError as exc:
        reason = next(
            (line.strip() for line in str(exc).splitlines() if line.strip() and "Failed" not in line),
            str(exc).splitlines()[0] if str(exc) else "unknown",
        )
        msg = (
            f"rule {rule!r} does not compile with numba: {reason}. Use only numeric columns and "
            "arithmetic/comparisons on r['column'] (no strings, dicts or Python objects), or "
            "pass jit=False to run it in Python (slow)"
        )
        raise CompileError(msg) from None
    for sig in jitted.nopython_signatures:
        if tuple(sig.args) == tuple(arg_types):
            return numba.core.types.unliteral(sig.return_type)
    msg = f"rule {rule!r}: numba compiled no signature for {arg_types}"  # pragma: no cover
    raise CompileError(msg)
