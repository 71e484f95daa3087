"""run_local against a plain reference: whatever each date does, the others keep their outcome.

Hypothesis draws a plan (dates in any order, with repeats; per date a fault, a number of
transient failures, an existing output) and the expected summary is worked out by hand from it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from polars.exceptions import PanicException

import vizflow as vf

ALL_DATES = [f"202401{d:02d}" for d in (2, 3, 4, 5, 8, 9, 10)]
FAULTS = ["ok", "exception", "panic", "sys.exit", "keyboard", "not a frame", "no input"]
RAISED = {
    "exception": lambda: RuntimeError("boom"),
    "panic": lambda: PanicException("polars panicked"),
    "sys.exit": lambda: SystemExit(2),
    "keyboard": lambda: KeyboardInterrupt("from the pipeline"),
}
EXPECTED_REASON = {
    "exception": "RuntimeError: boom",
    "panic": "PanicException: polars panicked",
    "sys.exit": "SystemExit: 2",
    "keyboard": "KeyboardInterrupt: from the pipeline",
    "not a frame": "VizflowError: run: pipeline 'pipeline' returned int for {day}; expected a polars",
    "no input": "FileNotFoundError: ",
}

plans = st.fixed_dictionaries(
    {
        "dates": st.lists(st.sampled_from(ALL_DATES), min_size=0, max_size=9),
        "fault": st.fixed_dictionaries({d: st.sampled_from(FAULTS) for d in ALL_DATES}),
        "transient": st.fixed_dictionaries({d: st.integers(0, 2) for d in ALL_DATES}),
        "exists": st.fixed_dictionaries({d: st.booleans() for d in ALL_DATES}),
        "retries": st.integers(0, 2),
        "skip_existing": st.booleans(),
        "as_date": st.booleans(),
    }
)


def _expected(plan: dict) -> dict[str, tuple[str, str]]:
    """date -> (status, start of the reason), by reading the plan, the way a user would."""
    out = {}
    for day in dict.fromkeys(plan["dates"]):
        fault, transient = plan["fault"][day], plan["transient"][day]
        if plan["skip_existing"] and plan["exists"][day]:
            out[day] = ("skipped", "output exists")
        elif fault != "ok":
            out[day] = ("failed", EXPECTED_REASON[fault].format(day=day))
        elif transient > plan["retries"]:
            out[day] = ("failed", "OSError: transient")
        else:
            out[day] = ("succeeded", "")
    return out


@given(plan=plans)
def test_outcomes_match_the_plan_whatever_each_date_does(plan):
    root = Path(tempfile.mkdtemp())
    try:
        config = vf.Config(input_dir=root / "in", output_dir=root / "out", input_pattern="{date}.parquet")
        for day in ALL_DATES:
            if plan["fault"][day] != "no input":
                vf.save(pl.DataFrame({"day": [day]}), config.get_file_path(day))
            if plan["exists"][day]:
                vf.save(pl.DataFrame({"day": ["old"]}), config.get_output_path(day))
        attempts: dict[str, int] = {}

        def pipeline(lf: pl.LazyFrame, ctx: vf.Context) -> pl.LazyFrame | int:
            attempts[ctx.date] = attempts.get(ctx.date, 0) + 1
            fault = plan["fault"][ctx.date]
            if fault in RAISED:
                raise RAISED[fault]()
            if fault == "not a frame":
                return 1
            if attempts[ctx.date] <= plan["transient"][ctx.date]:
                msg = "transient"
                raise OSError(msg)
            return lf.with_columns(pl.lit("new").alias("run"))

        dates = (
            [dt.datetime.strptime(d, "%Y%m%d").date() for d in plan["dates"]]
            if plan["as_date"]
            else plan["dates"]
        )
        result = vf.run_local(
            pipeline, config, dates, skip_existing=plan["skip_existing"], retries=plan["retries"]
        )

        expected = _expected(plan)
        assert [r.date for r in result.results] == list(expected)  # input order, repeats once
        for r in result.results:
            status, reason = expected[r.date]
            assert (r.status, r.reason[: len(reason)]) == (status, reason), r
            written = config.get_output_path(r.date)
            if status == "succeeded":
                assert vf.load(written).collect().rows() == [(r.date, "new")]
            elif plan["exists"][r.date]:
                assert vf.load(written).collect().rows() == [("old",)]  # never touched
            else:
                assert not written.exists()
    finally:
        shutil.rmtree(root)
