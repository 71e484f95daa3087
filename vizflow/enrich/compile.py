"""Compiling users' rule functions with numba: which columns they read, record types, caching.

numba bakes the values of the globals and closure variables a function reads into its compiled
code. The memo of compiled rules is therefore keyed on the code *and* those values (see
:func:`jit_rule`): a rule re-created in a loop with a new global threshold compiles again, the
same rule with the same values compiles once per process.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import types
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from vizflow.exceptions import CompileError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "CompileError",
    "RowError",
    "check_function",
    "jit_rule",
    "python_function",
    "read_columns",
    "records_of",
    "return_dtype",
]

_JITTED: dict[Any, Any] = {}
"""Compiled rules by :func:`_memo_key`."""

_GLOBALS: dict[types.CodeType, tuple[tuple[str, ...], ...]] = {}
"""Per code object: the global names (and ``module.attr`` chains) it and its nested code read."""

_LOCAL_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST", "LOAD_DEREF"})
"""Opcodes that push an argument or local (3.12 adds LOAD_FAST_CHECK; 3.13 fuses two loads in one)."""

_RECORD_DTYPES = (
    pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64,
    pl.Float32, pl.Float64, pl.Boolean,
)  # fmt: skip


class RowError(Exception):
    """A compiled pass failed at sorted position ``args[0]``; ``args[1]`` says why.

    Raised by the rules' ``compute`` and turned by the Enricher into a :class:`DataError` naming
    the rule, the input row, its keys and its time.
    """


def check_function(fn: Any, n_args: int, *, rule: str, jit: bool, shape: str) -> None:
    """Refuse, when the rule is built, a function that cannot be called as ``fn(*n_args)``.

    ``shape`` shows the expected form in the message, e.g. ``"lambda r: r['qty'] > 100"``.

    Raises
    ------
    CompileError
        Not callable, not a Python function while ``jit`` (numba compiles only those), or the
        wrong number of arguments.
    """
    if not callable(fn):
        msg = f"rule {rule!r}: expected a function like {shape}, got {type(fn).__name__} {fn!r}"
        raise CompileError(msg)
    if jit and python_function(fn) is None:
        msg = (
            f"rule {rule!r}: numba compiles Python functions and lambdas only, got "
            f"{type(fn).__name__} {fn!r}; wrap it ({shape}) or pass jit=False"
        )
        raise CompileError(msg)
    try:
        signature = inspect.signature(python_function(fn) or fn)
    except (TypeError, ValueError):  # some builtins have none; the call will tell
        return
    try:
        signature.bind(*range(n_args))
    except TypeError:
        msg = (
            f"rule {rule!r}: the function takes {_describe(signature)}; expected {n_args} "
            f"positional argument(s), as in {shape}"
        )
        raise CompileError(msg) from None


def python_function(fn: Any) -> types.FunctionType | None:
    """Return the Python function behind ``fn``: itself, a numba function's ``py_func``, or None."""
    if isinstance(fn, types.FunctionType):
        return fn
    inner = getattr(fn, "py_func", None)
    is_dispatcher = hasattr(fn, "nopython_signatures")
    return inner if is_dispatcher and isinstance(inner, types.FunctionType) else None


def _describe(signature: inspect.Signature) -> str:
    names = list(signature.parameters)
    return f"{len(names)} argument(s) {tuple(names)}" if names else "no arguments"


def read_columns(fn: Callable[..., Any], available: Iterable[str]) -> list[str]:
    """Columns a rule function reads: the column names in its code, globals and closure.

    ``lambda r: r["qty"] > 10000`` reads ``qty``; so do ``r.qty``, and ``r[COL]`` where the global
    or closure variable ``COL`` holds ``"qty"``. Constants of nested functions count too. Local
    and argument names (``r``, ``p``) and functions (``max``) are not column reads. A name built
    at run time (``r["q" + "ty"]``) is not seen: declare ``inputs=``.

    Examples
    --------
    >>> read_columns(lambda p, r: p + r["side"] * r["qty"], ["qty", "side", "price", "p", "r"])
    ['qty', 'side']

    ``r.qty`` right after another argument (on Python 3.13 one fused opcode loads ``p`` and ``r``;
    this read was missed there):

    >>> read_columns(lambda p, r: max(p, r.qty), ["qty", "p", "r"])
    ['qty']
    """
    function = python_function(fn)
    if function is None:  # a callable object (jit=False): it may read any column
        return list(available)
    names: set[str] = set()
    for code in _codes(function.__code__):
        names.update(c for c in code.co_consts if isinstance(c, str))
        previous = None
        for ins in dis.get_instructions(code):
            # r.qty: an attribute of an argument or local (not of a module: math.sqrt)
            if ins.opname in {"LOAD_ATTR", "LOAD_METHOD"} and previous in _LOCAL_LOADS:
                names.add(ins.argval)
            previous = ins.opname
    for _, value in _read_values(function):
        names.update(v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, str))
    wanted = list(available)
    return sorted(names & set(wanted), key=wanted.index)


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and the code objects nested in it (inner functions, comprehensions)."""
    stack = [code]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))


def _global_reads(code: types.CodeType) -> tuple[tuple[str, ...], ...]:
    """Return the globals ``code`` reads, as chains: ``("THRESH",)``, ``("cfg", "limit")`` for a module."""
    try:
        return _GLOBALS[code]
    except KeyError:
        pass
    chains: list[tuple[str, ...]] = []
    for inner in _codes(code):
        chain: list[str] = []
        for ins in dis.get_instructions(inner):
            if ins.opname in {"LOAD_GLOBAL", "LOAD_NAME"}:
                if chain:
                    chains.append(tuple(chain))
                chain = [ins.argval]
            elif ins.opname in {"LOAD_ATTR", "LOAD_METHOD"} and chain:
                chain.append(ins.argval)
            elif chain:
                chains.append(tuple(chain))
                chain = []
        if chain:
            chains.append(tuple(chain))
    _GLOBALS[code] = result = tuple(dict.fromkeys(chains))
    return result


_MISSING = object()


def _read_values(fn: Any) -> list[tuple[str, Any]]:
    """``(name, value)`` of every global (and module attribute) and closure cell ``fn`` reads."""
    values: list[tuple[str, Any]] = []
    namespace = getattr(fn, "__globals__", {})
    for chain in _global_reads(fn.__code__):
        value = namespace.get(chain[0], getattr(builtins, chain[0], _MISSING))
        values.append((chain[0], value))
        for depth, attr in enumerate(chain[1:], start=2):
            if not isinstance(value, types.ModuleType):  # numba freezes module attributes too
                break
            value = getattr(value, attr, _MISSING)
            values.append((".".join(chain[:depth]), value))
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        try:
            values.append((name, cell.cell_contents))
        except ValueError:  # an empty cell: the variable is not assigned yet
            values.append((name, _MISSING))
    return values


def _frozen(value: Any) -> Any:
    """Return a hashable stand-in, equal only for values numba compiles alike (or raise TypeError)."""
    if isinstance(value, float):  # 0.0 and -0.0, or 1 and 1.0, compile differently
        return (type(value), value.hex())
    if isinstance(value, tuple):
        return (tuple, tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value), value)


def _memo_key(fn: Any, record: np.dtype) -> Any:
    """Return the memo key of ``fn``: its code and the values it reads now (None if unhashable)."""
    try:
        return (
            fn.__code__,
            record,
            tuple((name, _frozen(value)) for name, value in _read_values(fn)),
            _frozen(fn.__defaults__),
            _frozen(tuple(sorted((fn.__kwdefaults__ or {}).items()))),
        )
    except TypeError:  # e.g. a numpy array global: numba freezes it, so compile afresh
        return None


def jit_rule(fn: Callable[..., Any], record: np.dtype, *, rule: str) -> Any:
    """``numba.njit(fn)`` for rows of dtype ``record``, memoised on the code and the values it reads.

    A lambda re-created with the same code and the same values of the globals and closure cells
    it reads reuses the compiled function; a new value of a global it reads (``THRESH = 250``)
    compiles afresh, so the rule always sees the values of the time of the call. A value that
    cannot be hashed (a numpy array) is never memoised. Each record dtype gets its own compiled
    function: numba would otherwise call a function compiled for fewer fields through its
    experimental record subtyping. A function already compiled with ``numba.njit`` is used as
    it is (its globals are numba's business).

    Raises
    ------
    CompileError
        ``fn`` is not a Python function.
    """
    import numba

    if python_function(fn) is None:
        msg = f"rule {rule!r}: numba compiles Python functions and lambdas only, got {type(fn).__name__}"
        raise CompileError(msg)
    if not isinstance(fn, types.FunctionType):  # already a numba function: numba's own rules
        return fn
    key = _memo_key(fn, record)
    jitted = _JITTED.get(key) if key is not None else None
    # The cached function compiles new signatures from its own globals and cells: still the same?
    if jitted is not None and _memo_key(jitted.py_func, record) == key:
        return jitted
    jitted = numba.njit(fn)
    if key is not None:
        _JITTED[key] = jitted
    return jitted


def records_of(frame: pl.DataFrame, columns: list[str], *, where: str) -> np.ndarray:
    """Copy ``columns`` (integer, float or boolean only) into a structured array, one record per row.

    Raises
    ------
    SchemaError
        A column of another dtype (string, Decimal, temporal, nested), with the cast to use.
    """
    fields = []
    for name in columns:
        dtype = frame.schema[name]
        if dtype not in _RECORD_DTYPES:
            msg = (
                f"{where}: column {name!r} has dtype {dtype}; compiled rules read integer, float "
                f"or boolean columns only. {_encode_hint(name, dtype)}, or use jit=False"
            )
            raise SchemaError(msg)
        fields.append((name, _numpy_dtype(dtype)))
    if not fields:  # numba records need a field; a rule reading nothing gets a 1-byte dummy
        return np.zeros(frame.height, dtype=[("__none", np.uint8)])
    out = np.empty(frame.height, dtype=fields)
    for name in columns:
        out[name] = frame.get_column(name).to_numpy()
    return out


def _encode_hint(name: str, dtype: pl.DataType) -> str:
    if dtype.is_decimal() or dtype.is_numeric():
        return f"Cast it first, e.g. pl.col({name!r}).cast(pl.Float64)"
    if dtype.is_temporal():
        return f"Cast it first, e.g. pl.col({name!r}).to_physical()"
    return f"Encode it first, e.g. pl.col({name!r}).replace_strict({{'B': 1, 'S': -1}})"


def _numpy_dtype(dtype: pl.DataType) -> np.dtype:
    return pl.Series([], dtype=dtype).to_numpy().dtype


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
    except (numba.core.errors.NumbaError, TypeError) as exc:
        reason = next(
            (line.strip() for line in str(exc).splitlines() if line.strip() and "Failed" not in line),
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        hint = (
            "The rule reads a column vizflow did not find in its code (e.g. a name built at run "
            "time): declare the columns it reads with inputs=[...]"
            if "not found in record" in reason
            else "Use only numeric columns and arithmetic/comparisons on r['column'] (no strings, "
            "dicts or Python objects), or pass jit=False to run it in Python (slow)"
        )
        msg = f"rule {rule!r} does not compile with numba: {reason}. {hint}"
        raise CompileError(msg) from None
    for sig in jitted.nopython_signatures:
        if tuple(sig.args) == tuple(arg_types):
            return numba.core.types.unliteral(sig.return_type)
    msg = f"rule {rule!r}: numba compiled no signature for {arg_types}"  # pragma: no cover
    raise CompileError(msg)


def as_numpy(numba_type: Any, *, rule: str) -> np.dtype:
    """Return the numpy dtype of a rule's value type.

    Raises
    ------
    CompileError
        The rule returns something that is not a number or a boolean (a string, None, a tuple).
    """
    import numba
    from numba.np.numpy_support import as_dtype

    try:
        dtype = as_dtype(numba_type)
    except (numba.core.errors.NumbaError, NotImplementedError):
        dtype = None
    if dtype is None or dtype.kind not in "biuf":
        msg = (
            f"rule {rule!r} returns {numba_type}; a compiled rule must return a number or a "
            "boolean (encode strings as numbers, return a NaN rather than None), or pass jit=False"
        )
        raise CompileError(msg) from None
    return dtype
