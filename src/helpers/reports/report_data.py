"""Everything the before/after report shows, computed once from checked parameters (no plotting, no prose).

The notebook calls `prepare_report` and then only lays out text, tables and charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from helpers import analysis, paths
from helpers.reports.parameters import ReportParameters
from helpers.sources.live import kostra_groups
from helpers.sources.schema import AS_REPORTED
from helpers.table.breaks import reform_breaks
from helpers.table.reforms import Reforms


@dataclass(frozen=True, eq=False)
class ReportData:
    """The results behind one before/after report."""

    params: ReportParameters
    panel: pl.DataFrame
    comparison: analysis.Comparison
    its: dict[str, analysis.ItsResult]
    synthetic: dict[str, analysis.SyntheticControl]
    sensitivity: pl.DataFrame
    reform_breaks: dict[int, str]
    missing_indicators: list[str]


def _available(panel: pl.DataFrame, kommune: str, ids: tuple[str, ...], before: tuple[int, int],
               after: tuple[int, int]) -> tuple[list[str], list[str]]:
    """Indicators with a usable value for the kommune in both windows, and the others."""
    own = panel.filter(pl.col("kommunenr") == kommune, analysis.usable())
    years = own.group_by("indicator").agg(pl.col("year"))
    present = {
        row["indicator"] for row in years.iter_rows(named=True)
        if any(before[0] <= y <= before[1] for y in row["year"]) and any(after[0] <= y <= after[1] for y in row["year"])
    }
    return [i for i in ids if i in present], [i for i in ids if i not in present]


def comparison_group(params: ReportParameters, panel: pl.DataFrame, reforms: Reforms,
                     indicators: list[str]) -> analysis.ComparisonGroup:
    """The report's comparison group from its `comparison` parameter (codes mapped onto the structure)."""
    how: str | list[str] = params.comparison if isinstance(params.comparison, str) else list(params.comparison)
    if not isinstance(how, str):
        how = analysis.codes_on_structure(reforms, how, params.structure, params.before[1])
    groups = kostra_groups(paths.RAW) if how == "kostragruppe" else None
    return analysis.select_group(panel, params.kommune, how, before=params.before, after=params.after,
                                 pre_start=params.first_year, reforms=reforms, indicators=indicators,
                                 kostragruppe=groups)


def prepare_report(params: ReportParameters, table: pl.DataFrame, reforms: Reforms,
                   detailed: bool = True) -> ReportData:
    """Group, before/after, DiD with placebos, pre-trends, the sensitivity table and (when `detailed`) ITS
    and synthetic control."""
    # the same content as the last report's panel: the same object, whose derived answers are kept (_memo)
    panel = analysis.canonical(table.filter(pl.col("structure") == params.structure))
    present, missing = _available(panel, params.kommune, params.indicators, params.before, params.after)
    group = comparison_group(params, panel, reforms, present)
    window = {"before": params.before, "after": params.after}
    result = analysis.compare(panel, params.kommune, group, present, **window, pre_start=params.first_year)
    sensitivity = analysis.sensitivity(panel, params.kommune, present, **window, pre_start=params.first_year,
                                       reforms=reforms, report_group=group)
    its, synthetic = {}, {}
    if detailed:
        its = analysis.interrupted_time_series(panel, params.kommune, present, **window, pre_start=params.first_year,
                                               placebo_codes=list(group.codes))
        synthetic = analysis.synthetic_controls(panel, params.kommune, list(group.codes), present, **window,
                                                pre_start=params.first_year)
    code_year = params.before[1] if params.structure == AS_REPORTED else int(params.structure)
    breaks = reform_breaks(reforms, params.kommune, min(code_year, reforms.latest_year), params.first_year,
                           params.last_year)
    return ReportData(params, panel.clone(), result, its, synthetic, sensitivity, breaks, missing)
