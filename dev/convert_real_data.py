"""Build the real sample shipped in vizflow/datasets/data/ from ../shared/data (run once).

    python dev/convert_real_data.py [--shared ../shared/data]

Reads the DataYes Level-2 files of 600519.SH / 000333.SZ for 2023-02-01..03 with the readers in
vizflow.datasets.real and writes two parquet files (zstd): the trades, and the quotes with the best
bid/ask, their sizes (bid_size/ask_size, level 1 only), mid, last, volume and phase. The
provenance and licence notes are in vizflow/datasets/data/PROVENANCE.md; keep them with any copy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from vizflow.datasets import real

HERE = Path(__file__).resolve().parents[1]
OUT = HERE / "vizflow" / "datasets" / "data"


def convert(shared: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    folder = shared / "cn_l2_datayes_600519_000333_202302"
    trades, quotes = [], []
    for day in real.SAMPLE_DATES:
        trades.append(real.read_datayes_trades(folder / f"{day}_600519_SH_trade.csv.gz", day))
        quotes.append(real.read_datayes_sh_snapshots(folder / f"{day}_600519_SH_snapshot.csv.gz", day))
        quotes.append(real.read_datayes_sz_snapshots(folder / f"{day}_000333_SZ_snapshot.csv.gz", day))
    return pl.concat(trades), pl.concat(quotes).sort("date", "symbol", "ticktime", maintain_order=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=HERE.parent / "shared" / "data")
    args = parser.parse_args()
    trades, quotes = convert(args.shared)
    trades.write_parquet(OUT / "cn_l2_600519_202302_trades.parquet", compression="zstd", compression_level=19)
    quotes.write_parquet(OUT / "cn_l2_600519_202302_quotes.parquet", compression="zstd", compression_level=19)
    print(f"trades {trades.shape}, quotes {quotes.shape} -> {OUT}")


if __name__ == "__main__":
    main()
