"""Row orders users have (a feed in time order, shuffled) and a forced threaded sort, for the tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import vizflow._grouping as grouping
from vizflow.enrich import presorted

if TYPE_CHECKING:
    import polars as pl
    import pytest


def arrange(df: pl.DataFrame, arrangement: str, seed: int, time_col: str = "t") -> pl.DataFrame:
    """``df`` in time order with keys interleaved (``"by time"``, a feed) or shuffled by ``seed``."""
    if arrangement == "by time":
        return df.sort(time_col, nulls_last=True, maintain_order=True)
    return df.sample(fraction=1.0, shuffle=True, seed=seed)


def force_threads(mp: pytest.MonkeyPatch) -> None:
    """Split every frame into runs of groups sorted in three threads, however small."""
    mp.setattr(grouping, "_ROWS_PER_THREAD", 1)
    mp.setattr(grouping, "POOL_THREADS", 3)
    mp.setattr(presorted, "POOL_THREADS", 3)
