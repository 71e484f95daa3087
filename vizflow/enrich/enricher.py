"""``Enricher``: run tagging rules per symbol in time order, compiled where possible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import polars as pl

from vizflow._grouping import Segments, segments
from vizflow._keys import as_keys, check_dates_in_keys, date_columns
from vizflow._validate import require_columns, require_no_nulls
from vizflow.enrich.base import ExpandingRule, State, TagRule
from vizflow.enrich.compile import RowError, record_arrays, records_from
from vizflow.enrich.presorted import row_order
from vizflow.enrich.rules import TagCondition, TagRunning
from vizflow.exceptions import DataError, SchemaError, VizflowError
from vizflow.kernels.scatter import scatter_nb

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from vizflow._typing import FrameT

__all__ = ["Enricher", "enrich"]


class _Compiled(Protocol):
    """A rule with a compiled pass: values in sorted order from the records and group offsets."""

    def compute(self, records: np.ndarray, offsets: NDArray[np.int64]) -> NDArray[Any]: ...


_INT64_MAX = 2**63 - 1


class Enricher:
    """Tag rows per symbol, in time order, with stateful rules in one call.

    Parameters
    ----------
    rules
        :class:`~vizflow.TagCondition`, :class:`~vizflow.TagRunning`, your own
        :class:`~vizflow.TagRule` subclasses, and at most one row-expanding rule
        (:class:`~vizflow.FIFOMatch`).
    by
        Group column(s), e.g. ``"symbol"`` or ``["date", "symbol"]``: state resets when the key
        changes. Keys of any dtype (integers, strings, Categorical/Enum, Date, Boolean) are
        matched by value. ``None`` or ``[]``: the whole frame is one group.
    sort_by
        Column(s) giving the order within a group, e.g. ``"elapsed_seconds"``. Rows with equal
        keys keep their input order.
    state_class
        The :class:`~vizflow.State` subclass handed to custom rules on the Python path; one
        instance per run, ``reset(key)`` at each new group (the key's value, a tuple for several
        key columns, None without keys).

    Raises
    ------
    DataError
        The frame spans several dates (a ``date`` column with several values, or a Date/Datetime
        column over several days) that are not among ``by``: state would run from one day into
        the next. Also a compiled rule that fails on a row (a division by zero, an integer
        value that overflows), naming the rule, the row, its key and time.
    CompileError
        A rule's function numba cannot compile, or of the wrong arity.

    Notes
    -----
    How a rule runs:

    * a function rule (``TagCondition``/``TagRunning`` with a function) is compiled with numba,
      with a pass over the whole frame, once per shape: the numbers and arrays it reads from
      globals and closures are passed at each call, so a new value compiles nothing (see
      :func:`~vizflow.enrich.compile.jit_rule`); the row it sees is a numba record of the columns
      it reads (numeric or boolean; nulls there are an error);
    * a ``TagCondition`` with a Polars expression runs vectorised per group, in ``sort_by``
      order (``pl.col("price").shift(1)`` is the previous row of the same key, in time), as
      ``expr.over(by)`` on the sorted frame; its values come back in input row order;
    * ``jit=False`` rules and custom :class:`TagRule` s without ``compute`` run on the Python
      path, a loop over dict rows (about 100x slower; for logic numba cannot compile);
    * an :class:`~vizflow.enrich.base.ExpandingRule` runs last on the sorted, tagged frame and
      may turn a row into several.

    Input already in ``(by, sort_by)`` order is recognised in one compiled pass and not sorted
    (see :func:`~vizflow.enrich.presorted.presorted_segments` for the key and time dtypes
    covered); a rule set of row-by-row conditions needs no order at all, and rows in time order
    with keys interleaved (a feed) run as they are when the rules are compiled conditions and
    running values (a value per key). Other rows are ordered by one packed word a row (see
    :func:`~vizflow.enrich.presorted.packed_order`), and compiled conditions and running values
    read them where they are: a running value visits the rows through that order and writes
    each value at its row (no gather of the columns, no scatter of the values).

    On a LazyFrame nothing runs at call time: the rules are a plan node run at ``collect()``
    (any engine), over only the columns they read plus the keys and the order; the node needs
    all rows of those columns in memory at once (a group's state runs through all its rows in
    time order, and rows of a group may be anywhere in the input). A rule on the Python path
    has a dtype known only from data and needs a DataFrame. Output rows are in input order,
    except with an expanding rule, whose output is in (by, sort_by) order of the rows it came
    from.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame(
    ...     {"symbol": ["a", "b", "a"], "t": [2, 1, 1], "side": [1, -1, -1], "qty": [300, 100, 200]}
    ... )
    >>> enricher = vf.Enricher(
    ...     [vf.TagRunning("position", lambda p, r: p + r["side"] * r["qty"], 0)],
    ...     by="symbol",
    ...     sort_by="t",
    ... )
    >>> enricher.run(df)["position"].to_list()
    [100, -100, -200]
    """

    def __init__(
        self,
        rules: Sequence[TagRule],
        by: str | Sequence[str] = "symbol",
        sort_by: str | Sequence[str] | None = None,
        state_class: type[State] = State,
    ) -> None:
        self.rules = list(rules)
        self.by = as_keys(by, where="Enricher", name="by")
        self.sort_by = as_keys(sort_by, where="Enricher", name="sort_by")
        self.state_class = state_class
        if not self.rules:
            msg = "Enricher: no rules given"
            raise VizflowError(msg)
        for rule in self.rules:
            if not isinstance(rule, TagRule):
                msg = f"Enricher: {rule!r} is not a TagRule (e.g. vf.TagCondition, vf.TagRunning)"
                raise VizflowError(msg)
        expanding = [r for r in self.rules if r.expands_rows]
        if len(expanding) > 1:
            msg = f"Enricher: at most one row-expanding rule per run, got {expanding}"
            raise VizflowError(msg)
        names = [c for rule in self.rules for c in rule.output_columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"Enricher: several rules write the column(s) {duplicates}; rename one"
            raise VizflowError(msg)

    def run(self, frame: FrameT) -> FrameT:
        """Apply the rules; see the class docstring for the order of output rows."""
        schema = frame.collect_schema()
        where = "enrich"
        require_columns(schema, [*self.by, *self.sort_by], where=where)
        names = schema.names()
        inputs = {id(r): _inputs(r, names) for r in self.rules}
        require_columns(schema, sorted({c for cols in inputs.values() for c in cols}), where=where)
        clash = [c for r in self.rules for c in r.output_columns if c in schema]
        if clash:
            msg = f"enrich: output column(s) {clash} already exist in the frame; drop or rename them"
            raise VizflowError(msg)

        if isinstance(frame, pl.DataFrame):
            return self._apply(frame, inputs)
        return self._plan(frame, schema, inputs)

    def _plan(self, frame: pl.LazyFrame, schema: pl.Schema, inputs: dict[int, list[str]]) -> pl.LazyFrame:
        """Build the rules as a plan node run at ``collect()``; its schema comes from an empty frame.

        Ordinary rules read only their inputs, the keys, the order and the date columns: the node
        gets just those (so projections of other columns still reach the scan) and sits beside
        the frame in a horizontal concat. An expanding rule changes the rows, so its node takes
        the whole frame. No predicate is pushed below the node (a filter would change state).
        """
        probe = self._apply(pl.DataFrame(schema=schema), inputs).schema
        unknown = [c for c, dtype in probe.items() if dtype == pl.Null and c not in schema]
        if unknown:
            msg = (
                f"enrich: the dtype of {unknown} (a rule on the Python path: jit=False or a custom "
                "TagRule) is known only from the data, so a lazy chain cannot declare it; run "
                "enrich on a DataFrame (collect first) or use a compiled rule"
            )
            raise VizflowError(msg)
        if any(r.expands_rows for r in self.rules):
            return frame.map_batches(lambda df: self._apply(df, inputs), schema=probe)
        tags = [c for r in self.rules for c in r.output_columns]
        time_col = self.sort_by[0] if len(self.sort_by) == 1 else None
        reads = [*self.by, *self.sort_by, *(c for cols in inputs.values() for c in cols)]
        reads += date_columns(schema, self.by, time_col=time_col)
        node = frame.select(list(dict.fromkeys(reads))).map_batches(
            lambda df: self._apply(df, inputs).select(tags), schema={c: probe[c] for c in tags}
        )
        return pl.concat([frame, node], how="horizontal")

    def _apply(self, df: pl.DataFrame, inputs: dict[int, list[str]]) -> pl.DataFrame:
        """Run the rules on the rows of ``df`` (at call time for a DataFrame, else at collect)."""
        where = "enrich"
        time_col = self.sort_by[0] if len(self.sort_by) == 1 else None
        check_dates_in_keys(df, self.by, where=where, time_col=time_col)
        self._check_sort_range(df)
        seg, keyed = self._segments(df)
        tags = self._tag(df, seg, inputs, keyed)
        out = df.with_columns(tags)
        expanding = next((r for r in self.rules if r.expands_rows), None)
        if expanding is not None:
            assert isinstance(expanding, ExpandingRule)
            # The rule sees only the columns it reads (all when it does not say), sorted; the
            # output is one gather of the input rows (sorted position source[k] is input row
            # order[source[k]]), not a gather of the sorted frame after a gather of the whole.
            reads = inputs[id(expanding)]
            wanted = [*self.by, *self.sort_by, *reads, *(t.name for t in tags)] if reads else out.columns
            seen = out.select(list(dict.fromkeys(wanted)))
            tagged = seen if seg.order is None else seen.gather(pl.Series(seg.order))
            row_index = seg.row_index(df.height)
            source, columns = expanding.expand(tagged, seg.offsets, row_index, self.by)
            rows = source if seg.order is None else seg.order[source]
            out = out.gather(pl.Series(rows)).with_columns([s.alias(name) for name, s in columns.items()])
        return out

    def _segments(self, df: pl.DataFrame) -> tuple[Segments, tuple[NDArray[np.int64], int] | None]:
        """Return how to visit the rows: their (by, sort_by) order, and key codes for a keyed pass.

        Rules that see one row at a time (compiled conditions, elementwise expressions) give the
        same values in any order: with only those, the rows stay as they are, in one group.
        Rows already in (by, sort_by) order are found in one pass. Rows whose keys interleave
        but each key's rows are in time order (a feed), with only those rules and compiled
        ``TagRunning`` rules, stay as they are too: the running values are kept per key code
        (the second item). Anything else is sorted.
        """
        whole = Segments(None, np.array([0, df.height], dtype=np.int64))
        nested = any(df.schema[c].is_nested() for c in [*self.by, *self.sort_by])  # segments() refuses
        if not nested and not any(map(_needs_order, self.rules)):
            return whole, None
        if nested:
            return segments(df, self.by, self.sort_by), None
        return row_order(df, self.by, self.sort_by, keyed=all(map(_keyed_pass, self.rules)))

    def _check_sort_range(self, df: pl.DataFrame) -> None:
        """Refuse UInt64 order values above 2**63 - 1: times are ordered (and differenced) in int64."""
        for c in self.sort_by:
            top = df.get_column(c).max() if df.schema[c] == pl.UInt64 else None
            if isinstance(top, int) and top > _INT64_MAX:
                msg = (
                    f"enrich: sort_by column {c!r} holds UInt64 values above 2**63 - 1 (max {top}); "
                    f"times are compared in int64: subtract an origin first, e.g. "
                    f"pl.col({c!r}) - pl.col({c!r}).min()"
                )
                raise DataError(msg)

    def _tag(
        self,
        df: pl.DataFrame,
        seg: Segments,
        inputs: dict[int, list[str]],
        keyed: tuple[NDArray[np.int64], int] | None = None,
    ) -> list[pl.Series]:
        """Each ordinary rule's column(s), in input row order (``keyed``: per key code, unsorted)."""
        compiled = [
            r for r in self.rules
            if hasattr(r, "compute") and getattr(r, "jit", True) and getattr(r, "expr", None) is None
            and not r.expands_rows
        ]  # fmt: skip
        record_cols = sorted({c for r in compiled for c in inputs[id(r)]}, key=df.columns.index)
        require_no_nulls(df, record_cols, where="enrich")
        # Conditions and built-in running values read the input rows where they are (a running
        # value visits them through the order); other compiled rules read columns gathered into it.
        gathered = [r for r in compiled if seg.order is not None and not _reads_in_place(r)]
        gather_cols = sorted({c for r in gathered for c in inputs[id(r)]}, key=df.columns.index)
        in_place_cols = {c for r in compiled if r not in gathered for c in inputs[id(r)]}
        in_place = record_arrays(df, [c for c in record_cols if c in in_place_cols], where="enrich")
        arrays: dict[str, np.ndarray] = {}
        if gather_cols:
            # Gather the few columns in sorted order first: a structured-array gather is ~5x slower.
            assert seg.order is not None
            source = df.select(gather_cols).gather(pl.Series(seg.order))
            arrays = record_arrays(source, gather_cols, where="enrich")
        python_rules = []
        series: list[pl.Series] = []
        for rule in self.rules:
            if rule.expands_rows:
                continue
            if getattr(rule, "expr", None) is not None:
                series.append(self._expression(df, seg, rule))
            elif rule in compiled:
                # Each rule reads a record of its own columns only (one column: a view, no copy).
                reads = [c for c in record_cols if c in inputs[id(rule)]]
                # A failing position is sorted for a gathered rule or a running value, else a row.
                where = seg if rule in gathered or isinstance(rule, TagRunning) else _whole(df.height)
                try:
                    if rule in gathered:
                        records = records_from(arrays, reads, df.height)
                        values = _unsort(cast("_Compiled", rule).compute(records, seg.offsets), seg.order)
                    else:
                        records = records_from(in_place, reads, df.height)
                        values = self._in_place(rule, records, seg, keyed)
                except RowError as exc:
                    raise self._row_error(df, where, rule, inputs[id(rule)], exc) from exc.__cause__
                series.append(pl.Series(rule.output_columns[0], values))
            else:
                python_rules.append(rule)
        if python_rules:
            ordered = df if seg.order is None else df.gather(pl.Series(seg.order))
            series.extend(
                values if seg.order is None else values.scatter(seg.order, values.clone())
                for values in self._python_path(ordered, seg.offsets, python_rules, inputs)
            )
        return series

    @staticmethod
    def _in_place(
        rule: TagRule, records: np.ndarray, seg: Segments, keyed: tuple[NDArray[np.int64], int] | None
    ) -> NDArray[Any]:
        """Values of a rule reading the input rows where they are (see :func:`_reads_in_place`)."""
        if isinstance(rule, TagRunning) and keyed is not None:
            return rule.compute_keyed(records, *keyed)
        if isinstance(rule, TagRunning) and seg.order is not None:
            return rule.compute_ordered(records, seg.order, seg.offsets)
        return cast("_Compiled", rule).compute(records, seg.offsets)

    def _expression(self, df: pl.DataFrame, seg: Segments, rule: Any) -> pl.Series:
        """Evaluate a TagCondition expression per ``by`` group in sorted order, in input order."""
        name = rule.output_columns[0]
        if rule.elementwise:  # row by row: the same per group in time order, without the sort
            ordered, expr, order = df, rule.expr, None
        else:
            wanted = set(rule.expr.meta.root_names()) | set(self.by)
            ordered, order = df.select(c for c in df.columns if c in wanted), seg.order
            if order is not None:
                ordered = ordered.gather(pl.Series(order))
            expr = rule.expr.over(self.by) if self.by else rule.expr
        try:
            values = ordered.with_columns(expr.alias(name)).get_column(name)
        except pl.exceptions.PolarsError as exc:
            msg = f"enrich: rule {name!r}: cannot evaluate {rule.expr} per group of {self.by}: {exc}"
            raise DataError(msg) from exc
        if values.dtype != pl.Boolean:
            msg = (
                f"enrich: rule {name!r}: the expression {rule.expr} gives {values.dtype}; a "
                "TagCondition expression must give Boolean, e.g. pl.col('qty') > 100"
            )
            raise SchemaError(msg)
        return values if order is None else values.scatter(order, values.clone())

    def _row_error(
        self, df: pl.DataFrame, seg: Segments, rule: Any, reads: list[str], exc: RowError
    ) -> DataError:
        """Build the DataError for a compiled rule that failed at a sorted position."""
        position, detail = exc.args
        row = int(seg.row_index(df.height)[position])
        where = ", ".join(f"{c}={df.get_column(c)[row]!r}" for c in [*self.by, *self.sort_by])
        values = {c: df.get_column(c)[row] for c in reads}
        name = rule.output_columns[0]
        msg = f"enrich: rule {name!r} failed at row {row} ({where}) reading {values}: {detail}"
        return DataError(msg)

    def _python_path(
        self,
        ordered: pl.DataFrame,
        offsets: NDArray[np.int64],
        rules: list[TagRule],
        inputs: dict[int, list[str]],
    ) -> list[pl.Series]:
        """Run rules in Python, row by row: a dict per row, a State reset per group."""
        columns = sorted({c for r in rules for c in inputs[id(r)]} | set(self.by))
        rows = ordered.select(columns).rows(named=True)
        values: dict[str, list[Any]] = {c: [] for r in rules for c in r.output_columns}
        state = self.state_class()
        for g in range(offsets.size - 1):
            lo, hi = int(offsets[g]), int(offsets[g + 1])
            if lo == hi:
                continue
            state.running = {}
            first = rows[lo]
            key = tuple(first[c] for c in self.by)
            state.reset(key[0] if len(key) == 1 else key or None)
            for i in range(lo, hi):
                for rule in rules:
                    result = rule.process(rows[i], state)
                    if isinstance(result, list):
                        msg = f"enrich: rule {rule!r} returned several rows; subclass ExpandingRule"
                        raise VizflowError(msg)
                    for name in rule.output_columns:
                        values[name].append(result[name])
        return [pl.Series(name, vals) for name, vals in values.items()]


def _needs_order(rule: TagRule) -> bool:
    """Whether a rule's values depend on the order of rows (all but row-by-row conditions)."""
    if type(rule) is not TagCondition:  # a subclass may keep state in its own compute
        return True
    if rule.expr is not None:
        return not rule.elementwise
    return not rule.jit


def _reads_in_place(rule: TagRule) -> bool:
    """Whether a compiled rule reads the input rows in input order whatever their order.

    Row-by-row conditions need no order; a built-in running value visits the rows through the
    order (or keeps a value per key on a feed). A subclass may read records in sorted order.
    """
    return not _needs_order(rule) or type(rule) is TagRunning


def _whole(n: int) -> Segments:
    """Return the rows as they are, in one group."""
    return Segments(None, np.array([0, n], dtype=np.int64))


def _keyed_pass(rule: TagRule) -> bool:
    """Whether a rule runs on rows in input order with a value per key (or needs no order)."""
    return not _needs_order(rule) or (type(rule) is TagRunning and rule.jit)


def _inputs(rule: TagRule, names: list[str]) -> list[str]:
    resolve = getattr(rule, "resolve_inputs", None)
    if resolve is not None:
        return list(resolve(names))
    try:
        return list(rule.inputs)
    except NotImplementedError:
        return []


def _unsort(values: NDArray[Any], order: NDArray[np.int64] | None) -> NDArray[Any]:
    """Put values computed in sorted order back in input order."""
    if order is None:
        return values
    out = np.empty_like(values)
    scatter_nb(values, order, out)
    return out


def enrich(
    frame: FrameT,
    rules: Sequence[TagRule],
    by: str | Sequence[str] = "symbol",
    sort_by: str | Sequence[str] | None = None,
    state_class: type[State] = State,
) -> FrameT:
    """Apply ``rules`` per ``by`` group in ``sort_by`` order: ``Enricher(...).run(frame)``.

    See :class:`Enricher` for how rules run and the order of output rows.

    Examples
    --------
    >>> import polars as pl, vizflow as vf
    >>> df = pl.DataFrame({"symbol": ["a", "a", "b"], "qty": [1, 2, 3]})
    >>> vf.enrich(df, [vf.TagRunning("seq", lambda p, r: p + 1, 0)], by="symbol")["seq"].to_list()
    [1, 2, 1]
    """
    return Enricher(rules, by=by, sort_by=sort_by, state_class=state_class).run(frame)
