"""Window levels and changes: the one rule for "the level in a period" and "the change between two".

The level of a window is the mean of the window's years that have a usable value (see `_panel.usable`);
years without one are listed, never filled. The change is after − before, and the relative change is in
per cent of the before-level.

Kommuner of different sizes are compared on one *comparable change* (`stat`): for counts the relative
change in per cent (a large kommune's count moves more in persons), for rates and levels the absolute change
in the indicator's own unit (percentage points for shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from helpers.analysis._panel import Window, period_label, window_years
from helpers.sources import indicators as catalogue

Scale = Literal["pct", "abs"]
CHANGE_COLUMNS = (
    "kommunenr", "kommune", "indicator", "period_before", "period_after", "before", "after", "change",
    "pct_change", "stat", "scale", "n_before", "n_after", "missing_before", "missing_after", "n_suppressed",
    "n_excluded", "small_denominator",
)  # fmt: skip


def comparison_scale(indicator: str) -> Scale:
    """How kommuner are compared on `indicator`: relative change for counts, absolute otherwise."""
    return "pct" if catalogue.get(indicator).kind == "count" else "abs"


def _scales(ids: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame({"indicator": list(ids), "scale": [comparison_scale(i) for i in ids]})


def _window_stats(prep: pl.DataFrame, window: Window, name: str) -> pl.DataFrame:
    return (
        prep.filter(pl.col("year").is_between(*window))
        .group_by("kommunenr", "indicator")
        .agg(
            pl.col("value").mean().alias(name),
            pl.col("value").count().cast(pl.Int32).alias(f"n_{name}"),
            pl.col("year").filter(pl.col("value").is_not_null()).cast(pl.Int32).alias(f"_years_{name}"),
            pl.col("suppressed").sum().alias(f"_suppressed_{name}"),
            pl.col("excluded").sum().alias(f"_excluded_{name}"),
            pl.col("small_denominator").any().alias(f"_small_{name}"),
        )
    )


def changes(prep: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], before: Window, after: Window,
            names: pl.DataFrame) -> pl.DataFrame:
    """One row per (kommunenr, indicator) of codes × ids: window levels, changes and diagnostics.

    `prep` comes from `_panel.prepare`. Columns: CHANGE_COLUMNS.
    """
    prep = prep.filter(pl.col("kommunenr").is_in(list(codes)))
    grid = pl.DataFrame({"kommunenr": list(codes)}, schema={"kommunenr": pl.String}).join(
        pl.DataFrame({"indicator": list(ids)}, schema={"indicator": pl.String}), how="cross")
    frame = grid.join(names, on="kommunenr", how="left")
    for window, name in ((before, "before"), (after, "after")):
        frame = frame.join(_window_stats(prep, window, name), on=["kommunenr", "indicator"], how="left")
        frame = frame.with_columns(
            pl.col(f"n_{name}").fill_null(0),
            pl.lit(window_years(window), dtype=pl.List(pl.Int32))
            .list.set_difference(pl.col(f"_years_{name}").fill_null(pl.lit([], dtype=pl.List(pl.Int32))))
            .list.sort()
            .alias(f"missing_{name}"),
        )
    pct = pl.when(pl.col("before") != 0).then((pl.col("after") - pl.col("before")) / pl.col("before").abs() * 100)
    return (
        frame.join(_scales(ids), on="indicator", how="left")
        .with_columns(change=pl.col("after") - pl.col("before"), pct_change=pct)
        .with_columns(
            stat=pl.when(pl.col("scale") == "pct").then(pl.col("pct_change")).otherwise(pl.col("change")),
            n_suppressed=(pl.col("_suppressed_before").fill_null(0) + pl.col("_suppressed_after").fill_null(0))
            .cast(pl.Int32),
            n_excluded=(pl.col("_excluded_before").fill_null(0) + pl.col("_excluded_after").fill_null(0))
            .cast(pl.Int32),
            small_denominator=pl.col("_small_before").fill_null(False) | pl.col("_small_after").fill_null(False),
            period_before=pl.lit(period_label(before)),
            period_after=pl.lit(period_label(after)),
        )
        .select(CHANGE_COLUMNS)
    )


def in_order(frame: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """`frame` with one row per id in `ids`, in that order (missing ids as null rows)."""
    order = pl.DataFrame({"indicator": list(ids)}, schema={"indicator": pl.String})
    return order.join(frame, on="indicator", how="left", maintain_order="left")


def in_group_stats(stat: str = "stat") -> pl.Expr:
    """Group rows that enter statistics and rankings: a value and no small denominator."""
    return pl.col(stat).is_not_null() & ~pl.col("small_denominator")


def peer_summary(members: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """Per indicator: the group's median levels, the median and quartiles of its changes (in the indicator's
    unit and on the comparable scale), and how many members were used or kept out, with why."""
    used = in_group_stats("stat")
    summary = members.group_by("indicator").agg(
        n_group=pl.len().cast(pl.Int32),
        n_used=used.sum().cast(pl.Int32),
        n_missing=(pl.col("stat").is_null() & ~pl.col("small_denominator")).sum().cast(pl.Int32),
        n_small_denominator=pl.col("small_denominator").sum().cast(pl.Int32),
        n_excluded_values=pl.col("n_excluded").sum().cast(pl.Int32),
        n_suppressed_values=pl.col("n_suppressed").sum().cast(pl.Int32),
        median_before=pl.col("before").filter(used).median(),
        median_after=pl.col("after").filter(used).median(),
        median_change=pl.col("change").filter(used).median(),
        median_stat=pl.col("stat").filter(used).median(),
        q1_stat=pl.col("stat").filter(used).quantile(0.25, "linear"),
        q3_stat=pl.col("stat").filter(used).quantile(0.75, "linear"),
    )
    return in_order(summary, ids).join(_scales(ids), on="indicator", how="left", maintain_order="left")


def slopes(prep: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], window: Window,
           names: pl.DataFrame, *, min_years: int) -> pl.DataFrame:
    """OLS slope per year of each series in `window`, on the comparable scale: per cent a year for counts
    (slope of the log-level × 100; needs positive values), the unit a year otherwise. Null with fewer than
    `min_years` usable years. Columns: kommunenr, kommune, indicator, scale, n_years, first_year, slope,
    small_denominator."""
    rows = (
        prep.filter(pl.col("kommunenr").is_in(list(codes)), pl.col("year").is_between(*window))
        .join(_scales(ids), on="indicator", how="left")
        .with_columns(y=pl.when(pl.col("scale") == "abs").then(pl.col("value"))
                      .when(pl.col("value") > 0).then(pl.col("value").log() * 100))
    )
    has = pl.col("y").is_not_null()
    x = pl.col("year").cast(pl.Float64).filter(has)
    y = pl.col("y").filter(has)
    fitted = rows.group_by("kommunenr", "indicator").agg(
        n_years=has.sum().cast(pl.Int32),
        first_year=pl.col("year").filter(has).min(),
        small_denominator=pl.col("small_denominator").any(),
        slope=((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum(),
    )
    grid = pl.DataFrame({"kommunenr": list(codes)}, schema={"kommunenr": pl.String}).join(
        _scales(ids), how="cross")
    return (
        grid.join(names, on="kommunenr", how="left")
        .join(fitted, on=["kommunenr", "indicator"], how="left")
        .with_columns(
            pl.col("n_years").fill_null(0),
            pl.col("small_denominator").fill_null(False),
            slope=pl.when(pl.col("n_years") >= min_years).then(pl.col("slope")),
        )
        .select("kommunenr", "kommune", "indicator", "scale", "n_years", "first_year", "slope", "small_denominator")
    )
