"""Difference in differences with placebo inference, and the pre-trend check that goes with it.

DiD: the kommune's comparable change (per cent for counts, the unit for rates; see `_windows`) minus the
median comparable change of the comparison group. Its rank and p come from the same statistic
(`_inference.placebo_ranks`, centred on the median of the other units), so "larger than in k of n" and p can
never disagree. Holm-adjusted p over the report's indicators sits beside the raw p.

Pre-trend: the same test on the pre-period slope (per cent a year for counts). A p at or below
PRETREND_ALPHA is a *deviating* pre-trend; above it nothing is shown, which is not the same as parallel
trends. With fewer than PRETREND_MIN_UNITS units p cannot reach the threshold, so the check is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from helpers.analysis._inference import holm, placebo_ranks, treated_test
from helpers.analysis._windows import in_group_stats, in_order, slopes

ALPHA = 0.05
PRETREND_ALPHA = 0.10
MIN_PRE_YEARS = 3
PRETREND_MIN_UNITS = math.ceil(1 / PRETREND_ALPHA)
_KEY = "\x1f"  # between a group's name and an indicator in the one ranking of did_estimates


def _units(own: pl.DataFrame, members: pl.DataFrame, stat: str) -> pl.DataFrame:
    """The kommune's row and the usable group rows, in the placebo layout."""
    return pl.concat([
        own.select("indicator", "kommunenr", "kommune", stat, is_treated=pl.lit(True)),
        members.filter(in_group_stats(stat)).select("indicator", "kommunenr", "kommune", stat,
                                                    is_treated=pl.lit(False)),
    ])


@dataclass(frozen=True)
class DidResult:
    """Per indicator: `estimates` (scale, kommune_stat, group_median_stat, difference, n_group, n_units, rank,
    p_value, p_floor, at_floor, p_holm, reason); `placebo`: every unit's deviation and rank."""

    estimates: pl.DataFrame
    placebo: pl.DataFrame


def difference_in_differences(own: pl.DataFrame, members: pl.DataFrame, ids: Sequence[str]) -> DidResult:
    """DiD of the kommune (`own`: `_windows.changes` rows of one code) against the group (`members`)."""
    ranked = placebo_ranks(_units(own, members, "stat"), "stat")
    return DidResult(_estimates(own, members, ranked, ids), ranked)


def did_estimates(own: pl.DataFrame, groups: Mapping[str, pl.DataFrame], ids: Sequence[str]
                  ) -> dict[str, pl.DataFrame]:
    """`difference_in_differences(own, members, ids).estimates` for each named group of members, the placebo
    ranks of all of them computed in one pass (each group and indicator ranked on its own, as before)."""
    if not groups:
        return {}
    keyed = pl.concat([_units(own, members, "stat").with_columns(indicator=pl.lit(name + _KEY) + pl.col("indicator"))
                       for name, members in groups.items()])
    ranked = placebo_ranks(keyed, "stat")
    key = pl.col("indicator").str.split(_KEY)
    parts = ranked.with_columns(_group=key.list.first(), indicator=key.list.last())
    by_group = {name[0]: part.drop("_group") for name, part in parts.partition_by("_group", as_dict=True).items()}
    empty = ranked.clear()
    return {name: _estimates(own, members, by_group.get(name, empty), ids) for name, members in groups.items()}


def _estimates(own: pl.DataFrame, members: pl.DataFrame, ranked: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """The DiD estimates per indicator from the placebo ranks of the kommune and its group."""
    test = treated_test(ranked, ids)
    n_group = members.filter(in_group_stats("stat")).group_by("indicator").agg(n_group=pl.len().cast(pl.Int32))
    estimates = (
        in_order(own.select("indicator", "scale", kommune_stat="stat", zero_base=(pl.col("scale") == "pct")
                            & (pl.col("before") == 0) & pl.col("after").is_not_null()), ids)
        .join(test.rename({"deviation": "difference", "centre": "group_median_stat"}), on="indicator", how="left",
              maintain_order="left")
        .join(n_group, on="indicator", how="left", maintain_order="left")
        .with_columns(pl.col("n_group").fill_null(0))
    )
    reason = (
        pl.when(pl.col("kommune_stat").is_null() & pl.col("zero_base")).then(pl.lit("zero_base"))
        .when(pl.col("kommune_stat").is_null()).then(pl.lit("no_kommune_data"))
        .when(pl.col("n_group") == 0).then(pl.lit("no_group_data"))
        .when(pl.col("p_value").is_null()).then(pl.lit("too_few_units"))
    )
    estimates = estimates.with_columns(
        difference=pl.when(pl.col("n_group") > 0).then(pl.col("difference")),
        reason=reason,
        p_holm=pl.Series(holm(estimates["p_value"].to_list()), dtype=pl.Float64),
    ).select("indicator", "scale", "kommune_stat", "group_median_stat", "difference", "n_group", "n_units", "rank",
             "p_value", "p_floor", "at_floor", "p_holm", "reason")
    return estimates


def pre_trend(prep: pl.DataFrame, kommune: str, codes: Sequence[str], ids: Sequence[str], pre: tuple[int, int],
              names: pl.DataFrame) -> pl.DataFrame:
    """Per indicator: the kommune's and the group's pre-period slopes, the slope difference, its placebo rank
    and p, and a verdict: `deviating` (p ≤ PRETREND_ALPHA), `not_detected` or `insufficient`."""
    own = slopes(prep, [kommune], ids, pre, names, min_years=MIN_PRE_YEARS)
    members = slopes(prep, codes, ids, pre, names, min_years=MIN_PRE_YEARS)
    test = treated_test(placebo_ranks(_units(own, members, "slope"), "slope"), ids)
    group = members.filter(in_group_stats("slope")).group_by("indicator").agg(
        group_median_slope=pl.col("slope").median())
    verdict = (
        pl.when(pl.col("kommune_slope").is_null() | (pl.col("n_units") < PRETREND_MIN_UNITS))
        .then(pl.lit("insufficient"))
        .when(pl.col("p_value") <= PRETREND_ALPHA + 1e-12).then(pl.lit("deviating"))
        .otherwise(pl.lit("not_detected"))
    )
    return (
        in_order(own.select("indicator", "scale", pre_start="first_year", n_years="n_years", kommune_slope="slope"),
                 ids)
        .with_columns(pre_end=pl.lit(pre[1], dtype=pl.Int32))
        .join(group, on="indicator", how="left", maintain_order="left")
        .join(test.rename({"deviation": "slope_difference"}).drop("centre"), on="indicator", how="left",
              maintain_order="left")
        .with_columns(verdict=verdict)
        .select("indicator", "scale", "pre_start", "pre_end", "n_years", "kommune_slope", "group_median_slope",
                "slope_difference", "n_units", "rank", "p_value", "p_floor", "verdict")
    )
