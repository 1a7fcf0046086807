"""Flag implausible values: a one-year dip or spike that both sides of the series disagree with.

Rule, per series (one kommune, structure and indicator; values sorted by year, missing years skipped):
  0. x = ln(max(v, floor)): counts are floored at `COUNT_FLOOR` = 5 (SSB does not publish counts of 1–4, so a
     0 or a 3 in a small series says "under 5", not "collapsed"), levels at `LEVEL_FLOOR`;
  1. interior values: L = mean of the (up to) two previous x, R = mean of the (up to) two following x; the
     departure D = min(|x − L|, |x − R|), counted only when x lies on the same side of both (a dip below both
     or a spike above both). A level shift that persists has x ≈ R in its first year, so D ≈ 0: the first
     year of a lasting shift is never flagged, and neither is the last year before it;
  2. the departure needed is `K` × s, where s = 1.4826 × median |x_t − x_{t−1}| over the series' other
     steps (the two steps into and out of the value are left out, so the dip cannot hide itself), but never
     less than ln `MIN_RATIO` (halved or doubled against both sides) and never more than ln `LARGE_RATIO`
     (a fall of 60 % or a rise to 2.5 times): a series' own noise can raise the bar, but not above that cap,
     so a large isolated dip is caught even in a small, noisy series;
  3. for counts the departure must also exceed counting noise: D × √ref ≥ `Z` (ref = the level on the side
     nearer to the value; a Poisson count of level m has a log standard deviation of about 1/√m);
  4. the first and last value of a series have one side only and cannot tell a one-year error from the
     start of a new level. They are flagged only when they depart from both of the two nearest values in
     the same direction by at least ln `EDGE_RATIO` (a fall of two thirds, or three times), and for counts
     when that side's level is at least `EDGE_MIN_COUNT` and the counting-noise test holds.

Trade-off. False positives: a genuine one-year event (a ward closed for a year, a one-off reporting change)
is flagged; such values stay in the table and can be included on purpose. False negatives, by design: an
interior departure smaller than a halving or doubling; a moderate one (between ×2 and ×2.5) in a series
whose ordinary year-to-year moves are as large; any departure in counts under about 12 where Poisson noise
alone explains it; two bad years in a row that agree with each other (they look like a short level); and a
last-year jump under three times, which only next year's figure can confirm or refute.
Measured on simulated Poisson series (benchmarks/outliers.py): with nothing wrong, 0–4 values in 1000 are
flagged (up to 9 at a level of 15 with 20 % extra year-to-year noise); a one-year fall to 35 % is caught in
91–100 % of steady series from a level of 60, 71 % at 30, about 40 % at 15, and in 60–70 % of series with 20 %
extra noise. On the snapshot it flags 151 reported values (the earlier one-sided rule: 183; 72 in common; of
the 111 no longer flagged, 43 are first or last years of a series, most others the first year of a new level,
the last of the old one, or one of two odd years in a row; the 79 new ones are mostly isolated dips and spikes
in small series). With the sums and rates that inherit the flag:
282 values as reported and 279 on 2024 borders (before: 324 and 321).
Flagged values stay in the table; analyses exclude them by default and say so.
Example: 1101 Eigersund reported 64 home-service users for 2010 against 606–707 in 2007–2012 (D ≈ 2.3).
"""

from __future__ import annotations

import math

import polars as pl

from helpers.sources.indicators import BY_ID
from helpers.table.flags import add_flag

COUNT_FLOOR = 5.0
LEVEL_FLOOR = 0.5
K = 3.0
MIN_RATIO = 2.0
LARGE_RATIO = 2.5
EDGE_RATIO = 3.0
EDGE_MIN_COUNT = 20.0
Z = 3.0
SERIES_KEYS = ("kommunenr", "structure", "indicator")
_EPS = 1e-9


def _within(k: int) -> pl.Expr:
    """True where the row `k` places away belongs to the same series."""
    return pl.col("_series").shift(k) == pl.col("_series")


def _neighbour(k: int) -> pl.Expr:
    return pl.when(_within(k)).then(pl.col("_x").shift(k))


def _departures(frame: pl.DataFrame) -> pl.DataFrame:
    """Per value: the departure D, the reference level, whether it is an interior or edge value, its position."""
    l1, l2, r1, r2 = (_neighbour(k) for k in (1, 2, -1, -2))
    left = pl.mean_horizontal(l1, l2)
    right = pl.mean_horizontal(r1, r2)
    x = pl.col("_x")
    interior = l1.is_not_null() & r1.is_not_null()
    same_side = ((x - left) * (x - right)) > 0
    d_interior = pl.min_horizontal((x - left).abs(), (x - right).abs())
    ref_interior = pl.when((x - left).abs() <= (x - right).abs()).then(left).otherwise(right)
    # an edge value: the two values on its only side
    e1 = pl.when(l1.is_null()).then(r1).otherwise(l1)
    e2 = pl.when(l1.is_null()).then(r2).otherwise(l2)
    edge = ~interior & e1.is_not_null() & e2.is_not_null() & (((x - e1) * (x - e2)) > 0)
    d_edge = pl.min_horizontal((x - e1).abs(), (x - e2).abs())
    ref_edge = pl.when((x - e1).abs() <= (x - e2).abs()).then(e1).otherwise(e2)
    return frame.with_columns(
        pl.int_range(pl.len()).over("_series").alias("_pos"),
        pl.when(_within(1)).then((x - x.shift(1)).abs()).alias("_step"),
        pl.when(interior & same_side).then(pl.lit("interior")).when(edge).then(pl.lit("edge")).alias("_where"),
        pl.when(interior).then(d_interior).otherwise(d_edge).alias("_d"),
        pl.when(interior).then(ref_interior).otherwise(ref_edge).exp().alias("_ref"),
    )


def _volatility(work: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """For the candidate `rows`: s = 1.4826 × median of the series' steps other than the two around the value."""
    steps = work.filter(pl.col("_step").is_not_null()).select("_series", pl.col("_pos").alias("_at"), "_step")
    return (
        rows.select("_row", "_series", "_pos")
        .join(steps, on="_series")
        .filter((pl.col("_at") != pl.col("_pos")) & (pl.col("_at") != pl.col("_pos") + 1))
        .group_by("_row")
        .agg((pl.col("_step").median() * 1.4826).alias("_s"), pl.len().alias("_steps"))
        .with_columns(pl.when(pl.col("_steps") >= 3).then(pl.col("_s")).otherwise(0.0).alias("_s"))
        .select("_row", "_s")
    )


def outlier_mask(frame: pl.DataFrame) -> pl.Series:
    """Boolean Series (aligned with `frame`'s rows) marking outliers by the module's rule."""
    counts = [i for i, spec in BY_ID.items() if spec.kind == "count"]
    is_count = pl.col("indicator").is_in(counts)
    with_index = frame.with_row_index("_row")
    # one integer per series, so the window functions below group on a single cheap key
    work = (
        with_index.filter(pl.col("value").is_not_null())
        .with_columns(
            pl.struct(SERIES_KEYS).rank("dense").alias("_series"),
            pl.col("value").clip(lower_bound=pl.when(is_count).then(COUNT_FLOOR).otherwise(LEVEL_FLOOR))
            .log().alias("_x"),
        )
        .sort("_series", "year")
    )
    work = _departures(work)
    noise_ok = ~is_count | (pl.col("_d") * pl.col("_ref").sqrt() >= Z)
    interior = work.filter(pl.col("_where") == "interior", pl.col("_d") >= math.log(MIN_RATIO) - _EPS, noise_ok)
    need = (K * pl.col("_s")).clip(math.log(MIN_RATIO), math.log(LARGE_RATIO))
    interior = interior.join(_volatility(work, interior), on="_row", how="left").filter(
        pl.col("_d") >= need - _EPS
    )
    edge = work.filter(
        pl.col("_where") == "edge", pl.col("_d") >= math.log(EDGE_RATIO) - _EPS, noise_ok,
        ~is_count | (pl.col("_ref") >= EDGE_MIN_COUNT),
    )
    flagged = set(interior["_row"].to_list()) | set(edge["_row"].to_list())
    return with_index["_row"].is_in(sorted(flagged)).alias("outlier")


def flag_outliers(frame: pl.DataFrame, indicators: set[str] | None = None) -> pl.DataFrame:
    """`frame` with `outlier` added to the flag of implausible values (only for `indicators` if given)."""
    mask = outlier_mask(frame)
    if indicators is not None:
        mask = mask & frame["indicator"].is_in(sorted(indicators))
    return frame.with_columns(add_flag(pl.col("flag"), "outlier", pl.lit(mask)).alias("flag"))
