"""Compiling users' rule functions with numba: which columns they read, record types, caching.

numba bakes the values of the globals and closure variables a function reads into its compiled
code. vizflow therefore rewrites a rule so that the numbers, booleans and arrays it reads are
parameters, passed at each call (:func:`jit_rule`): a threshold set per date compiles nothing.
The values that stay compiled in (strings, functions) key a bounded memo of compiled rules,
and rules that call only numpy/math are cached on disk for other processes
(:mod:`vizflow.enrich.rule_cache`).
"""

from __future__ import annotations

import builtins
import dis
import inspect
import math
import sys
import threading
import types
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import polars as pl
from numba.core.errors import NumbaError
from numba.core.types import unliteral
from numba.np.numpy_support import as_dtype

from vizflow.enrich.rule_cache import cached_module, forget_module
from vizflow.enrich.rule_source import (
    FunctionNode,
    definition_with_parameters,
    function_node,
    running_sum_step,
)
from vizflow.exceptions import CompileError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "MEMO_SIZE",
    "CompileError",
    "CompiledRule",
    "RowError",
    "check_function",
    "is_argument",
    "jit_rule",
    "memo_size",
    "python_function",
    "read_columns",
    "record_arrays",
    "records_from",
    "records_of",
    "return_dtype",
]

_GLOBALS: dict[types.CodeType, tuple[tuple[str, ...], ...]] = {}
"""Per code object: the global names (and ``module.attr`` chains) it and its nested code read."""

_GLOBALS_SIZE = 4096

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
    if len(_GLOBALS) >= _GLOBALS_SIZE:  # code built by exec in a loop is new each time
        _GLOBALS.clear()
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


_SCALARS = (bool, int, float, complex, np.bool_, np.number)


def is_argument(value: Any) -> bool:
    """Whether a value a rule reads is passed to the compiled rule at run time (not baked in).

    Numbers, booleans, numeric numpy arrays and tuples of numbers are arguments; strings (column
    names), None, functions, modules and other objects are compiled into the rule.

    Examples
    --------
    >>> is_argument(2.5), is_argument(np.arange(3)), is_argument((1, 2.0)), is_argument("qty")
    (True, True, True, False)
    """
    if isinstance(value, tuple):
        return bool(value) and all(isinstance(v, _SCALARS) and is_argument(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufc"
    if not isinstance(value, _SCALARS):
        return False
    try:  # a Python int past 64 bits has no numba type
        numba.typeof(value)
    except ValueError:
        return False
    return True


MEMO_SIZE = 64
"""How many compiled rules a process keeps (least recently used first out)."""

_MEMO: OrderedDict[Any, CompiledRule] = OrderedDict()
"""Compiled rules by :func:`_plan` key, least recently used first."""

_BAKED: OrderedDict[tuple[types.CodeType, np.dtype, int], None] = OrderedDict()
"""Rules (code, record dtype, row arguments) that compile only with their values compiled in."""

_LOCK = threading.Lock()

_RULE = "__vizflow_rule__"
_STEP = "__vizflow_step__"

_PASSES = """
@__vizflow_njit__
def __vizflow_condition__(records, out, pos_out{values}):
    for i in range(records.size):
        pos_out[0] = i
        out[i] = __vizflow_rule__(records[i]{values})


@__vizflow_njit__
def __vizflow_running__(offsets, records, initial, out, pos_out{values}):
    for g in range(offsets.size - 1):
        prev = initial
        for i in range(offsets[g], offsets[g + 1]):
            pos_out[0] = i
            prev = __vizflow_rule__(prev, records[i]{values})
            out[i] = prev


@__vizflow_njit__
def __vizflow_running_checked__(offsets, records, initial, out, pos_out{values}):
    for g in range(offsets.size - 1):
        prev = initial
        shadow = float(initial)
        for i in range(offsets[g], offsets[g + 1]):
            pos_out[0] = i
            prev = __vizflow_rule__(prev, records[i]{values})
            shadow = __vizflow_rule__(shadow, records[i]{values})
            out[i] = prev
            if abs(float(prev) - shadow) > {wrap!r}:
                return i
    return -1


@__vizflow_njit__
def __vizflow_running_ordered__(order, offsets, records, initial, out, pos_out{values}):
    for g in range(offsets.size - 1):
        prev = initial
        for k in range(offsets[g], offsets[g + 1]):
            pos_out[0] = k
            i = order[k]
            prev = __vizflow_rule__(prev, records[i]{values})
            out[i] = prev


@__vizflow_njit__
def __vizflow_running_ordered_checked__(order, offsets, records, initial, out, pos_out{values}):
    for g in range(offsets.size - 1):
        prev = initial
        shadow = float(initial)
        for k in range(offsets[g], offsets[g + 1]):
            pos_out[0] = k
            i = order[k]
            prev = __vizflow_rule__(prev, records[i]{values})
            shadow = __vizflow_rule__(shadow, records[i]{values})
            out[i] = prev
            if abs(float(prev) - shadow) > {wrap!r}:
                return k
    return -1


@__vizflow_njit__
def __vizflow_running_keyed__(codes, state, records, out, pos_out{values}):
    for i in range(records.size):
        pos_out[0] = i
        c = codes[i]
        value = __vizflow_rule__(state[c], records[i]{values})
        state[c] = value
        out[i] = value


@__vizflow_njit__
def __vizflow_running_keyed_checked__(codes, state, shadow, records, out, pos_out{values}):
    for i in range(records.size):
        pos_out[0] = i
        c = codes[i]
        value = __vizflow_rule__(state[c], records[i]{values})
        mirror = __vizflow_rule__(shadow[c], records[i]{values})
        state[c] = value
        shadow[c] = mirror
        out[i] = value
        if abs(float(value) - mirror) > {wrap!r}:
            return i
    return -1
"""
_SUM_PASSES = """
@__vizflow_njit__
def __vizflow_running_sum{kind}__(offsets, records, initial, out, pos_out{values}):
    zero = initial - initial
    for g in range(offsets.size - 1):
        prev = initial
        for i in range(offsets[g], offsets[g + 1]):
            pos_out[0] = i
            step = __vizflow_step__(prev, records[i]{values})
            wide = step + zero
            if {wraps}:
                return i
            prev = {form}
            out[i] = prev
    return -1


@__vizflow_njit__
def __vizflow_running_ordered_sum{kind}__(order, offsets, records, initial, out, pos_out{values}):
    zero = initial - initial
    for g in range(offsets.size - 1):
        prev = initial
        for k in range(offsets[g], offsets[g + 1]):
            pos_out[0] = k
            i = order[k]
            step = __vizflow_step__(prev, records[i]{values})
            wide = step + zero
            if {wraps}:
                return k
            prev = {form}
            out[i] = prev
    return -1


@__vizflow_njit__
def __vizflow_running_keyed_sum{kind}__(codes, state, records, out, pos_out{values}):
    for i in range(records.size):
        pos_out[0] = i
        c = codes[i]
        prev = state[c]
        step = __vizflow_step__(prev, records[i]{values})
        zero = prev - prev
        wide = step + zero
        if {wraps}:
            return i
        prev = {form}
        state[c] = prev
        out[i] = prev
    return -1
"""
"""Checked passes of a running sum (``prev + step``, ``step + prev``, ``prev - step``; see
:func:`~vizflow.enrich.rule_source.running_sum_step`) of an int64 or a uint64 value: the step
(``wide``: in the value's type) is checked before the value is built from it as the rule builds
it; no float64 shadow. Branch-free (a step's sign may change at every row), and no value past
the bounds is ever computed in signed arithmetic (the compiler may assume a signed sum does not
wrap and drop a test on it): int64 sums are redone in uint64, where wrapping is defined, and
wrapped when both operands' signs differ from the result's; a uint64 sum wraps when the step is
larger than the room left."""

_U64 = "__vizflow_np__.uint64"
_WRAPS = {
    (
        "prev + step",
        True,
    ): f"(((prev ^ wide) ^ -1) & (prev ^ __vizflow_np__.int64({_U64}(prev) + {_U64}(wide)))) < 0",
    (
        "prev - step",
        True,
    ): f"((prev ^ wide) & (prev ^ __vizflow_np__.int64({_U64}(prev) - {_U64}(wide)))) < 0",
    ("prev + step", False): "prev > ~zero - wide",
    ("prev - step", False): "prev < wide",
}
"""When a step takes the value past the bounds of its type, by form and signedness (``~zero`` is
the largest uint64)."""

"""The compiled passes over all rows. They call the rule by name, not as an argument (a function
argument defeats numba's disk cache); ``{values}`` are the values the rule reads.
The ``keyed`` passes run the rows in input order with each key's value in ``state[code]`` (rows
already in time order within each key, keys interleaved: no sort); the ``ordered`` passes visit
input rows through a (key, time) order (``order[k]``, sorted position ``k``) and write each value
at its input row: no gather of the columns into that order, no scatter of the values back.
The passes release the GIL: runs of whole groups may run in threads. ``running_checked`` carries a
float64 shadow of an integer value: a gap of more than
:data:`WRAP` between them means the integer wrapped around (a sum past 2**63)."""

WRAP = 2.0**62
"""A gap between an integer value and its float64 shadow that only wrapping around explains."""

_SAFE_MODULES = frozenset({"numpy", "math", "cmath", "numba", "operator"})
"""Modules whose functions a rule cached on disk may call (user modules may change under it)."""


@dataclass(frozen=True)
class CompiledRule:
    """A rule compiled once, with its passes; the values it reads are passed at each call.

    ``function(*row_arguments, *values)`` is the rule; ``condition``, ``running``,
    ``running_checked``, their ``running_ordered`` twins (input rows visited through an order)
    and their ``running_keyed`` twins (a value per key code, rows in input order) are the passes
    over all rows (each taking the values last). ``names``
    are the globals and closure variables passed as arguments, after the function's defaults
    (``n_defaults`` of them).
    """

    function: Any
    condition: Any
    running: Any
    running_checked: Any
    running_ordered: Any
    running_ordered_checked: Any
    running_keyed: Any
    running_keyed_checked: Any
    step: Any
    """A running sum's step (None for other rules)."""
    running_sum: dict[bool, tuple[Any, Any, Any]]
    """Its checked passes without a float shadow (sorted, ordered, keyed; None for other rules),
    for an int64 value (True) and a uint64 one (False)."""
    names: tuple[str, ...]
    n_defaults: int
    module: str | None
    """The cached module's name (on disk), or None (compiled in memory for this process only)."""

    @property
    def takes_values(self) -> bool:
        """Whether the compiled rule takes values as arguments (else they are compiled in)."""
        return bool(self.names) or self.n_defaults > 0

    def values(self, fn: Any) -> tuple[Any, ...]:
        """Return the values to pass now: ``fn``'s last defaults, then its globals and cells by name."""
        defaults = tuple(getattr(fn, "__defaults__", None) or ())
        current = dict(_read_values(fn)) if self.names else {}
        return (*defaults[len(defaults) - self.n_defaults :], *(current[n] for n in self.names))


def _plan(
    fn: types.FunctionType, record: np.dtype, n_args: int, *, bake: bool = False
) -> tuple[Any, tuple[str, ...], int, dict[str, Any]]:
    """Memo key, argument names, defaults passed and baked values of ``fn`` (key None: unhashable).

    The key holds the code, the record dtype and the values compiled into the rule; a value
    passed as an argument stands in the key as its name only, so a new value hits the memo.
    ``n_defaults`` is -1 when the rule cannot take arguments (no source found, a default that
    is not a number, or ``bake``): every value is compiled in and keys the memo then.
    """
    reads = _read_values(fn)
    defaults = fn.__defaults__ or ()
    n_defaults = max(fn.__code__.co_argcount - n_args, 0)
    tail = defaults[len(defaults) - n_defaults :] if n_defaults else ()
    if bake or not all(map(is_argument, tail)) or rewritable(fn) is None:
        n_defaults = -1
    if n_defaults < 0:
        baked = dict(reads)
    else:
        baked = {name: value for name, value in reads if "." in name or not is_argument(value)}
    passed = tuple(name for name, _ in reads if name not in baked)
    try:
        key = (
            fn.__code__,
            record,
            n_args,
            passed,
            tuple((name, _frozen(value)) for name, value in baked.items()),
            n_defaults if n_defaults >= 0 else _frozen(defaults),
            _frozen(tuple(sorted((fn.__kwdefaults__ or {}).items()))),
        )
    except TypeError:  # e.g. a list or a dict global: compiled afresh every time
        key = None
    return key, passed, n_defaults, baked


def rewritable(fn: types.FunctionType) -> FunctionNode | None:
    """Return the definition of ``fn`` that can be rewritten with parameters, or None."""
    node = function_node(fn.__code__)
    if node is None or node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
        return None
    return node


def jit_rule(
    fn: Callable[..., Any], record: np.dtype, *, rule: str, n_args: int = 1, bake: bool = False
) -> CompiledRule:
    """Compile ``fn`` for rows of dtype ``record`` once; the values it reads become arguments.

    The numbers, booleans and numeric arrays ``fn`` reads from its globals, closure cells and
    defaults are parameters of the compiled rule (see :class:`CompiledRule`), so a new value
    (a threshold set per date) compiles nothing and the rule always sees the values of the
    time of the call. Other values (strings, functions, module attributes) are compiled in, and
    the memo is keyed on them: a new one compiles afresh. The memo keeps :data:`MEMO_SIZE`
    rules (least recently used out). Rules whose source vizflow cannot find (``exec``) and
    numba functions keep all their values compiled in. A rule that calls only builtins,
    numpy, math and the like is cached on disk (:func:`~vizflow.enrich.rule_cache.cache_dir`),
    so other processes load it instead of compiling it. ``n_args`` is how many arguments the
    passes give the rule per row (1 for a condition, 2 for a running value). ``bake=True``
    compiles every value in, as numba does (for a rule that does not compile with its values
    as arguments, e.g. an index into a tuple of mixed types); the rule's code is then always
    compiled that way in this process.

    Raises
    ------
    CompileError
        ``fn`` is not a Python function.

    Examples
    --------
    >>> record = np.dtype([("qty", np.int64)])
    >>> limit = 10
    >>> compiled = jit_rule(lambda r: r["qty"] > limit, record, rule="big")
    >>> compiled.names
    ('limit',)
    """
    if python_function(fn) is None:
        msg = f"rule {rule!r}: numba compiles Python functions and lambdas only, got {type(fn).__name__}"
        raise CompileError(msg)
    if not isinstance(fn, types.FunctionType):  # already a numba function: numba's own rules
        return _lookup(("dispatcher", fn, record)) or _store(("dispatcher", fn, record), _around(fn))
    key, names, n_defaults, baked = _plan(fn, record, n_args)
    if bake or (fn.__code__, record, n_args) in _BAKED:
        with _LOCK:
            _BAKED[fn.__code__, record, n_args] = None
            while len(_BAKED) > MEMO_SIZE:
                _BAKED.popitem(last=False)
        key, names, n_defaults, baked = _plan(fn, record, n_args, bake=True)
    compiled = _lookup(key) if key is not None else None
    if compiled is None:
        compiled = _compile(fn, record, names, n_defaults, baked)
        if key is not None:
            compiled = _store(key, compiled)
    return compiled


def memo_size() -> int:
    """How many compiled rules the process holds now (at most :data:`MEMO_SIZE`)."""
    return len(_MEMO)


def _lookup(key: Any) -> CompiledRule | None:
    with _LOCK:
        compiled = _MEMO.get(key)
        if compiled is not None:
            _MEMO.move_to_end(key)
        return compiled


def _store(key: Any, compiled: CompiledRule) -> CompiledRule:
    """Keep ``compiled`` (or the one another thread stored first); drop the least recently used."""
    with _LOCK:
        compiled = _MEMO.setdefault(key, compiled)
        _MEMO.move_to_end(key)
        while len(_MEMO) > MEMO_SIZE:
            _, evicted = _MEMO.popitem(last=False)
            if all(c.module != evicted.module for c in _MEMO.values()):
                forget_module(evicted.module)
    return compiled


def _compile(
    fn: types.FunctionType, record: np.dtype, names: tuple[str, ...], n_defaults: int, baked: dict[str, Any]
) -> CompiledRule:
    """Compile the rule with ``names`` (after ``n_defaults`` defaults) as parameters, or all baked."""
    node = rewritable(fn) if n_defaults >= 0 else None
    definition = None if node is None else definition_with_parameters(node, _RULE, names)
    if definition is None:  # no source to rewrite: everything baked in, as numba does
        return _around(numba.njit(fn))
    passes = _passes(n_defaults + len(names))
    summed = running_sum_step(node) if node is not None else None
    if summed is not None:
        step = definition_with_parameters(summed[0], _STEP, names)
        if step is not None:
            passes += f"\n\n@__vizflow_njit__\n{step}\n{_sum_passes(n_defaults + len(names), summed[1])}"
    lines = _literal_lines(baked)
    if lines is not None:
        header = f'"""vizflow rule {fn.__qualname__}, rows {record.descr} (generated; do not edit)."""'
        imports = [
            header,
            "from numba import njit",
            "import numpy as __vizflow_np__",
            *lines,
            "__vizflow_njit__ = njit(cache=True, nogil=True)",
        ]
        text = "\n".join([*imports, "", "", "@__vizflow_njit__", definition, passes])
        module = cached_module(text)
        if module is not None:
            return _compiled_from(vars(module), names, n_defaults, module=module.__name__)
    namespace = {k: v for k, v in baked.items() if "." not in k and v is not _MISSING}
    namespace |= {"__vizflow_njit__": numba.njit(nogil=True), "__vizflow_np__": np, "__builtins__": builtins}
    text = "\n".join(["@__vizflow_njit__", definition, passes])
    exec(compile(text, f"<vizflow rule {fn.__qualname__}>", "exec"), namespace)
    return _compiled_from(namespace, names, n_defaults, module=None)


def _passes(n_values: int) -> str:
    values = "".join(f", __vizflow_v{i}" for i in range(n_values))
    return _PASSES.replace("{values}", values).replace("{wrap!r}", repr(WRAP))


def _sum_passes(n_values: int, form: str) -> str:
    """Return the checked passes of a running sum whose value is ``form`` (see :data:`_SUM_PASSES`)."""
    values = "".join(f", __vizflow_v{i}" for i in range(n_values))
    text = _SUM_PASSES.replace("{values}", values).replace("{form}", form)
    wraps = "prev + step" if form == "step + prev" else form
    return "\n\n".join(
        text.replace("{kind}", kind).replace("{wraps}", _WRAPS[wraps, signed])
        for kind, signed in (("", True), ("_unsigned", False))
    )


def _compiled_from(
    namespace: dict[str, Any], names: tuple[str, ...], n_defaults: int, *, module: str | None
) -> CompiledRule:
    return CompiledRule(
        function=namespace[_RULE],
        condition=namespace["__vizflow_condition__"],
        running=namespace["__vizflow_running__"],
        running_checked=namespace["__vizflow_running_checked__"],
        running_ordered=namespace["__vizflow_running_ordered__"],
        running_ordered_checked=namespace["__vizflow_running_ordered_checked__"],
        running_keyed=namespace["__vizflow_running_keyed__"],
        running_keyed_checked=namespace["__vizflow_running_keyed_checked__"],
        step=namespace.get(_STEP),
        running_sum={
            signed: (
                namespace.get(f"__vizflow_running_sum{suffix}__"),
                namespace.get(f"__vizflow_running_ordered_sum{suffix}__"),
                namespace.get(f"__vizflow_running_keyed_sum{suffix}__"),
            )
            for signed, suffix in ((True, ""), (False, "_unsigned"))
        },
        names=names,
        n_defaults=n_defaults,
        module=module,
    )


def _around(rule: Any) -> CompiledRule:
    """Build the passes around an already compiled rule that takes no values (all baked in)."""
    namespace = {_RULE: rule, "__vizflow_njit__": numba.njit(nogil=True), "__builtins__": builtins}
    exec(compile(_passes(0), "<vizflow passes>", "exec"), namespace)
    return _compiled_from(namespace, (), 0, module=None)


def _literal_lines(baked: dict[str, Any]) -> list[str] | None:
    """Return module lines that recreate the baked values, or None if one cannot be written safely.

    Builtins need no line; numpy, math and the like, and their functions (``from math import
    sqrt``), are imported; strings, None and tuples of them are written as literals. Anything
    else (a user's function or module) keeps the rule in memory: its code could change without
    the cached rule knowing.
    """
    lines = []
    for name, value in baked.items():
        if "." in name:  # an attribute read through a module: the module's line decides
            continue
        if getattr(builtins, name, _MISSING) is value:
            continue
        home = _safe_home(value)
        if isinstance(value, types.ModuleType) and home is not None:
            lines.append(f"import {value.__name__} as {name}")
        elif home is not None:
            lines.append(f"from {home} import {value.__name__} as {name}")
        elif _literal(value):
            lines.append(f"{name} = {value!r}")
        else:
            return None
    return lines


def _safe_home(value: Any) -> str | None:
    """Return the module of ``value`` (a module, or a function found there by name) if numpy, math..."""
    home: str | None
    if isinstance(value, types.ModuleType):
        home = value.__name__
    else:
        home = getattr(value, "__module__", None)
        module = sys.modules.get(home) if isinstance(home, str) else None
        if module is None or getattr(module, getattr(value, "__name__", ""), None) is not value:
            return None
    return home if isinstance(home, str) and home.partition(".")[0] in _SAFE_MODULES else None


def _literal(value: Any) -> bool:
    """Whether ``repr(value)`` is Python source giving the same value (``nan`` and ``inf`` are not)."""
    if isinstance(value, tuple):
        return all(map(_literal, value))
    if type(value) is float:
        return math.isfinite(value)
    return value is None or type(value) in {str, bool, int}


def record_arrays(frame: pl.DataFrame, columns: list[str], *, where: str) -> dict[str, np.ndarray]:
    """Return ``columns`` (integer, float or boolean only) as numpy arrays, each converted once.

    Raises
    ------
    SchemaError
        A column of another dtype (string, Decimal, temporal, nested), with the cast to use.
    """
    for name in columns:
        dtype = frame.schema[name]
        if dtype not in _RECORD_DTYPES:
            msg = (
                f"{where}: column {name!r} has dtype {dtype}; compiled rules read integer, float "
                f"or boolean columns only. {_encode_hint(name, dtype)}, or use jit=False"
            )
            raise SchemaError(msg)
    return {name: frame.get_column(name).to_numpy() for name in columns}


def records_from(arrays: dict[str, np.ndarray], columns: list[str], n: int) -> np.ndarray:
    """Return a read-only structured array of ``columns``, one record per row.

    One column is a view of its array (no copy: a record of one field is that field); several
    are copied into records. A rule that reads no column gets one record of a 1-byte dummy
    field (numba records need one), repeated ``n`` times without a copy. Always read-only,
    so that the compiled passes see one array type.

    Examples
    --------
    >>> qty = np.array([5, 7], dtype=np.int64)
    >>> records = records_from({"qty": qty}, ["qty"], 2)
    >>> records["qty"].tolist(), np.shares_memory(records, qty)
    ([5, 7], True)
    """
    if not columns:  # one record seen n times (a zero stride): nothing to read per row
        out = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=[("__none", np.uint8)]), (n,), (0,))
    elif len(columns) == 1 and arrays[columns[0]].flags.c_contiguous:
        values = arrays[columns[0]]
        out = values.view(np.dtype([(columns[0], values.dtype)]))
    else:
        out = np.empty(n, dtype=[(name, arrays[name].dtype) for name in columns])
        for name in columns:
            out[name] = arrays[name]
    view = out.view()
    view.flags.writeable = False
    return view


def records_of(frame: pl.DataFrame, columns: list[str], *, where: str) -> np.ndarray:
    """Copy ``columns`` (integer, float or boolean only) into a structured array, one record per row.

    :func:`record_arrays` then :func:`records_from` (one column: a view, not a copy).

    Raises
    ------
    SchemaError
        A column of another dtype (string, Decimal, temporal, nested), with the cast to use.
    """
    return records_from(record_arrays(frame, columns, where=where), columns, frame.height)


def _encode_hint(name: str, dtype: pl.DataType) -> str:
    if dtype.is_decimal() or dtype.is_numeric():
        return f"Cast it first, e.g. pl.col({name!r}).cast(pl.Float64)"
    if dtype.is_temporal():
        return f"Cast it first, e.g. pl.col({name!r}).to_physical()"
    return f"Encode it first, e.g. pl.col({name!r}).replace_strict({{'B': 1, 'S': -1}})"


def return_dtype(jitted: Any, arg_types: tuple[Any, ...], *, rule: str) -> Any:
    """Compile ``jitted`` for ``arg_types`` and return the numba return type.

    Raises
    ------
    CompileError
        Naming the rule, with numba's reason in one line and what to do.
    """
    try:
        jitted.compile(arg_types)
    except (NumbaError, TypeError) as exc:
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
            return unliteral(sig.return_type)
    msg = f"rule {rule!r}: numba compiled no signature for {arg_types}"  # pragma: no cover
    raise CompileError(msg)


def as_numpy(numba_type: Any, *, rule: str) -> np.dtype:
    """Return the numpy dtype of a rule's value type.

    Raises
    ------
    CompileError
        The rule returns something that is not a number or a boolean (a string, None, a tuple).
    """
    try:
        dtype = as_dtype(numba_type)
    except (NumbaError, NotImplementedError):
        dtype = None
    if dtype is None or dtype.kind not in "biuf":
        msg = (
            f"rule {rule!r} returns {numba_type}; a compiled rule must return a number or a "
            "boolean (encode strings as numbers, return a NaN rather than None), or pass jit=False"
        )
        raise CompileError(msg) from None
    return dtype
