"""Everything the before/after report shows, computed once from checked parameters (no plotting).

The notebook calls `prepare_report` and then only lays out text, tables and charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from helpers import paths
from helpers.breaks import reform_breaks
from helpers.compare import (
    NAMED_GROUPS,
    Comparison,
    ItsResult,
    compare,
    comparison_group,
    interrupted_time_series,
)
from helpers.indicators import BY_ID
from helpers.live import kostra_groups
from helpers.parameters import ReportParameters
from helpers.reforms import Reforms
from helpers.schema import AS_REPORTED


@dataclass(frozen=True)
class ReportData:
    """The results behind one before/after report."""

    params: ReportParameters
    panel: pl.DataFrame
    comparison: Comparison
    its: dict[str, ItsResult]
    reform_breaks: dict[int, str]
    missing_indicators: list[str]

    def its_table(self) -> pl.DataFrame:
        """One row per indicator: ITS level and slope change with 95 % interval, or the reason it was refused."""
        rows = []
        for indicator, result in self.its.items():
            rows.append({
                "indicator": BY_ID[indicator].display,
                "n_pre": result.n_pre, "n_post": result.n_post,
                "level_change": result.level_change, "ci_low": result.level_ci_low, "ci_high": result.level_ci_high,
                "level_p": result.level_p, "slope_change": result.slope_change,
                "reason": result.reason or "",
            })
        return pl.DataFrame(rows, schema={"indicator": pl.String, "n_pre": pl.Int64, "n_post": pl.Int64,
                                          "level_change": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                                          "level_p": pl.Float64, "slope_change": pl.Float64, "reason": pl.String})


def _available(panel: pl.DataFrame, kommune: str, ids: tuple[str, ...], first: int, last: int,
               before: tuple[int, int], after: tuple[int, int]) -> tuple[list[str], list[str]]:
    own = panel.filter(pl.col("kommunenr") == kommune, pl.col("value").is_not_null(), pl.col("flag").is_null(),
                       pl.col("year").is_between(first, last))
    present = []
    for indicator in ids:
        years = set(own.filter(pl.col("indicator") == indicator)["year"].to_list())
        if years & set(range(before[0], before[1] + 1)) and years & set(range(after[0], after[1] + 1)):
            present.append(indicator)
    return present, [i for i in ids if i not in present]


def codes_on_structure(reforms: Reforms, codes: list[str], structure: str, year: int) -> list[str]:
    """Comparison codes (current or historic) as the codes of the analysed structure; on `as_reported`,
    the codes valid in `year` (e.g. 3201 Bærum → 0219 for 2013)."""
    target_year = year if structure == AS_REPORTED else int(structure)
    out: list[str] = []
    for code in codes:
        code_year = next(y for y in range(reforms.latest_year, 2006, -1) if code in reforms.valid_codes(y))
        out.extend(c for c in sorted(reforms.successors(code, code_year, target_year)) if c not in out)
    return out


def prepare_report(params: ReportParameters, table: pl.DataFrame, reforms: Reforms,
                   detailed: bool = True) -> ReportData:
    """Comparison group, before/after, DiD with placebos, pre-trends and (when `detailed`) ITS."""
    panel = table.filter(pl.col("structure") == params.structure)
    present, missing = _available(panel, params.kommune, params.indicators, params.first_year, params.last_year,
                                  params.before, params.after)
    groups = kostra_groups(paths.RAW) if params.comparison == "kostragruppe" else None
    how: str | list[str] = params.comparison if isinstance(params.comparison, str) else list(params.comparison)
    if isinstance(how, str) and how in NAMED_GROUPS:
        how = list(NAMED_GROUPS[how])
    if not isinstance(how, str):
        how = codes_on_structure(reforms, how, params.structure, params.before[1])
    group = comparison_group(panel, params.kommune, how, year=params.before[1], kostragruppe=groups,
                             indicators=present)
    result = compare(panel, params.kommune, group, present, params.before, params.after,
                     pre_start=params.first_year)
    its = {
        indicator: interrupted_time_series(panel, params.kommune, indicator, params.after[0],
                                           start=params.first_year, end=params.after[1])
        for indicator in (present if detailed else [])
    }
    code_year = params.before[1] if params.structure == AS_REPORTED else int(params.structure)
    breaks = reform_breaks(reforms, params.kommune, min(code_year, reforms.latest_year), params.first_year,
                           params.last_year)
    return ReportData(params, panel, result, its, breaks, missing)
