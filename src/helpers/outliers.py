"""Flag implausible values with a robust year-to-year test per kommune and indicator.

Rule (applied to each series of one kommune, structure and indicator, sorted by year):
  1. m = the median of the up to four nearest values (two years before, two after; at least two present);
  2. d = ln((v + 1) / (m + 1)), the log ratio of the value to its neighbours;
  3. s = 1.4826 × median |ln(v_t + 1) − ln(v_{t-1} + 1)| over the series (the series' own robust
     year-to-year volatility), at least `MIN_SCALE`;
  4. the value is flagged `outlier` when |d| ≥ ln(`MIN_RATIO`) (at least halved or doubled against its
     neighbours) AND |d| ≥ `K` × s, and — for counts — the neighbours' median is at least `MIN_COUNT`
     (small counts move a lot by nature).
Flagged values stay in the table; analyses exclude them by default and say so.
Example: 1101 Eigersund reported 64 home-service users for 2010 against 606–707 in 2009–2013 (d ≈ −2.3).
"""

from __future__ import annotations

import math

import polars as pl

from helpers.flags import add_flag
from helpers.indicators import BY_ID

MIN_RATIO = 2.0
K = 6.0
MIN_SCALE = 0.05
MIN_COUNT = 20.0
SERIES_KEYS = ("kommunenr", "structure", "indicator")


def outlier_mask(frame: pl.DataFrame) -> pl.Series:
    """Boolean Series (aligned with `frame`'s rows) marking outliers by the module's rule."""
    counts = [i for i, spec in BY_ID.items() if spec.kind == "count"]
    log_value = (pl.col("value") + 1).log()
    with_index = frame.with_row_index("_row")
    # one integer per series, so the window functions below group on a single cheap key
    work = (
        with_index.filter(pl.col("value").is_not_null())
        .with_columns(pl.struct(SERIES_KEYS).rank("dense").alias("_series"))
        .sort("_series", "year")
    )
    same = [pl.col("_series").shift(k) == pl.col("_series") for k in (2, 1, -1, -2)]
    work = (
        work.with_columns(
            pl.concat_list([pl.when(ok).then(pl.col("value").shift(k)) for ok, k in zip(same, (2, 1, -1, -2),
                                                                                       strict=True)])
            .list.drop_nulls().alias("_neighbours"),
            pl.when(same[1]).then((log_value - log_value.shift(1)).abs()).alias("_step"),
        )
        .with_columns(
            pl.col("_neighbours").list.median().alias("_m"),
            pl.col("_neighbours").list.len().alias("_n"),
            (pl.col("_step").median().over("_series") * 1.4826).clip(lower_bound=MIN_SCALE).alias("_s"),
        )
        .with_columns((((pl.col("value") + 1) / (pl.col("_m") + 1)).log()).abs().alias("_d"))
        .with_columns(
            (
                (pl.col("_n") >= 2)
                & (pl.col("_d") >= math.log(MIN_RATIO))
                & (pl.col("_d") >= K * pl.col("_s"))
                & (~pl.col("indicator").is_in(counts) | (pl.col("_m") >= MIN_COUNT))
            ).alias("_outlier")
        )
    )
    flagged = with_index.select("_row").join(work.select("_row", "_outlier"), on="_row", how="left")
    return flagged.sort("_row")["_outlier"].fill_null(False).alias("outlier")


def flag_outliers(frame: pl.DataFrame, indicators: set[str] | None = None) -> pl.DataFrame:
    """`frame` with `outlier` added to the flag of implausible values (only for `indicators` if given)."""
    mask = outlier_mask(frame)
    if indicators is not None:
        mask = mask & frame["indicator"].is_in(sorted(indicators))
    return frame.with_columns(add_flag(pl.col("flag"), "outlier", pl.lit(mask)).alias("flag"))
