"""The before/after comparison of one kommune with one group: every estimate at once, as numbers.

`compare` runs window levels and changes, the group summary, DiD with placebo inference and the pre-trend
check, and the yearly series for charts. Words come from `helpers.present.text`; charts from `helpers.present.charts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from helpers.analysis._did import DidResult, difference_in_differences, pre_trend
from helpers.analysis._groups import ComparisonGroup
from helpers.analysis._panel import (
    Window,
    check_ids,
    check_kommune_in_panel,
    check_panel,
    check_windows,
    names,
    of_codes,
    prepared,
    years_between,
)
from helpers.analysis._windows import changes, in_order, peer_summary
from helpers.sources import indicators as catalogue

GROUP_MEDIAN = "group_median"


@dataclass(frozen=True, eq=False)
class Comparison:
    """All before/after results for one kommune against one group (numbers; see `compare`)."""

    kommunenr: str
    kommune: str
    group: ComparisonGroup
    before: Window
    after: Window
    pre: Window
    before_after: pl.DataFrame
    group_changes: pl.DataFrame
    group_summary: pl.DataFrame
    did: DidResult
    pre_trend: pl.DataFrame
    series: pl.DataFrame

    @property
    def indicators(self) -> list[str]:
        """The indicator ids, in report order."""
        return self.before_after["indicator"].to_list()


def _checked(panel: pl.DataFrame, kommune: str, indicators: str | Iterable[str], before: Window,
             after: Window) -> list[str]:
    check_windows(before, after)
    check_panel(panel)
    check_kommune_in_panel(panel, kommune)
    return check_ids(indicators)


def before_after(panel: pl.DataFrame, kommune: str, indicators: str | Iterable[str], before: Window,
                 after: Window, *, exclude_flagged: bool = True) -> pl.DataFrame:
    """Per indicator: the kommune's window levels and changes with catalogue labels, in the order given."""
    ids = _checked(panel, kommune, indicators, before, after)
    own = changes(prepared(panel, tuple(ids), exclude_flagged), [kommune], ids, before, after, names(panel))
    return _labelled(own, ids)


def _labelled(own: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    labels = catalogue.catalogue_frame(ids).select("indicator", "label", "short_label", "unit", "kind", "domain",
                                                   "decimals")
    return in_order(own, ids).join(labels, on="indicator", how="left", maintain_order="left")


def series_frame(panel: pl.DataFrame, kommune: str, group: Iterable[str], indicators: str | Iterable[str], *,
                 start: int | None = None, end: int | None = None, exclude_flagged: bool = True) -> pl.DataFrame:
    """Per indicator and year: the kommune's value and the group's median and quartiles (for charts)."""
    ids = check_ids(indicators)
    codes = [c for c in group if c != kommune]
    rows = years_between(of_codes(panel, [kommune, *codes], ids, exclude_flagged), start, end)
    in_group = pl.col("kommunenr").is_in(codes) & pl.col("value").is_not_null() & ~pl.col("small_denominator")
    group_stats = rows.filter(in_group).group_by("indicator", "year").agg(
        group_median=pl.col("value").median(),
        group_q1=pl.col("value").quantile(0.25, "linear"),
        group_q3=pl.col("value").quantile(0.75, "linear"),
        n_group=pl.len().cast(pl.Int32),
    )
    own = rows.filter(pl.col("kommunenr") == kommune).select("indicator", "year", kommune_value="value")
    label = names(panel.filter(pl.col("kommunenr") == kommune))
    return (
        rows.select("indicator", "year").unique()
        .join(own, on=["indicator", "year"], how="left")
        .join(group_stats, on=["indicator", "year"], how="left")
        .join(catalogue.catalogue_frame(ids), on="indicator", how="left")
        .with_columns(kommunenr=pl.lit(kommune), kommune=pl.lit(label["kommune"][0] if label.height else kommune),
                      n_group=pl.col("n_group").fill_null(0))
        .sort("order", "year")
        .select("indicator", "label", "short_label", "unit", "domain", "domain_label", "decimals", "order",
                "kommunenr", "kommune", "year", "kommune_value", "group_median", "group_q1", "group_q3", "n_group")
    )


def compare(panel: pl.DataFrame, kommune: str, group: ComparisonGroup, indicators: str | Iterable[str],
            before: Window, after: Window, *, pre_start: int | None = None,
            exclude_flagged: bool = True) -> Comparison:
    """Window levels, changes, group summary, DiD, pre-trend and the yearly series, for one group."""
    ids = _checked(panel, kommune, indicators, before, after)
    codes = [c for c in group.codes if c != kommune]
    labels = names(panel)
    prep = of_codes(panel, [kommune, *codes], ids, exclude_flagged)
    own = changes(prep, [kommune], ids, before, after, labels)
    members = changes(prep, codes, ids, before, after, labels)
    pre = (pre_start if pre_start is not None else before[0], before[1])
    own_rows = _labelled(own, ids)
    return Comparison(
        kommunenr=kommune,
        kommune=own_rows["kommune"][0],
        group=group,
        before=before,
        after=after,
        pre=pre,
        before_after=own_rows,
        group_changes=members,
        group_summary=peer_summary(members, ids),
        did=difference_in_differences(own, members, ids),
        pre_trend=pre_trend(prep, kommune, codes, ids, pre, labels),
        series=series_frame(panel, kommune, codes, ids, exclude_flagged=exclude_flagged),
    )
