"""How a result moves when the comparison group changes, and placebo runs that check the tests' size.

`sensitivity` re-runs the DiD for the report's indicators with the groups in VARIANTS. A conclusion that
holds for one group only is a conclusion about that group.

`did_size_runs` and `its_size_runs` run the tests on kommuner where nothing happened (each comparison
kommune in turn as if it were the treated one); the share with p ≤ 0.05 should stay near 5 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from helpers.analysis._did import did_estimates
from helpers.analysis._groups import ComparisonGroup, select_group
from helpers.analysis._inference import placebo_ranks
from helpers.analysis._its import MIN_POST_FOR_P, MIN_PRE_POINTS, fit_years, segmented_fit, series_by_unit
from helpers.analysis._panel import Window, names, of_codes
from helpers.analysis._windows import changes, in_group_stats
from helpers.errors import InputError
from helpers.table.reforms import Reforms

#: (variant id, how, n, reform_clean); "report" is the report's own group.
VARIANTS: tuple[tuple[str, str, int, bool], ...] = (
    ("matched_10", "matched", 10, True),
    ("matched_20", "matched", 20, True),
    ("matched_40", "matched", 40, True),
    ("all_clean", "all", 0, True),
    ("all", "all", 0, False),
    ("size_20_with_reforms", "similar_size", 20, False),
)


def sensitivity(panel: pl.DataFrame, kommune: str, ids: Sequence[str], before: Window, after: Window, *,
                pre_start: int, reforms: Reforms, report_group: ComparisonGroup,
                kostragruppe: Mapping[str, str] | None = None) -> pl.DataFrame:
    """One row per group variant and indicator: n_group, difference, rank, n_units, p_value, at_floor.

    Variants that cannot be formed (e.g. too few kommuner) are left out."""
    groups: list[tuple[str, ComparisonGroup]] = [("report", report_group)]
    for variant, how, n, clean in VARIANTS:
        try:
            groups.append((variant, select_group(
                panel, kommune, how, before=before, after=after, pre_start=pre_start, reforms=reforms,
                n=max(n, 1), reform_clean=clean, indicators=ids, kostragruppe=kostragruppe)))
        except InputError:
            continue
        if groups[-1][1].codes == report_group.codes:
            groups.pop()  # the same kommuner as the report's own group: one column is enough
    labels = names(panel)
    all_codes = sorted({c for _, group in groups for c in group.codes} | {kommune})
    prep = of_codes(panel, all_codes, ids)
    every = changes(prep, all_codes, ids, before, after, labels)
    own = every.filter(pl.col("kommunenr") == kommune)
    estimates = did_estimates(own, {variant: every.filter(pl.col("kommunenr").is_in(list(group.codes)))
                                    for variant, group in groups}, ids)
    return pl.concat([
        estimates[variant].select(
            pl.lit(variant).alias("variant"), pl.lit(len(group.codes), dtype=pl.Int32).alias("n_group_chosen"),
            "indicator", "scale", "difference", "n_units", "rank", "p_value", "at_floor")
        for variant, group in groups
    ])


def did_size_runs(panel: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], before: Window,
                  after: Window) -> pl.DataFrame:
    """Each of `codes` as if treated against the others: indicator, kommunenr, p_value."""
    prep = of_codes(panel, codes, ids)
    pool = changes(prep, list(codes), ids, before, after, names(panel)).filter(in_group_stats("stat"))
    units = pool.select("indicator", "kommunenr", "kommune", "stat", is_treated=pl.lit(False))
    return placebo_ranks(units, "stat").select("indicator", "kommunenr", "n_units", "p_value")


def its_size_runs(panel: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], before: Window, after: Window,
                  *, pre_start: int) -> pl.DataFrame:
    """Each of `codes` as if treated, its ITS level-change p calibrated on the others with the same years (exactly
    what `interrupted_time_series` gives it against them): indicator, kommunenr, n_years, t_level, p_value."""
    span, gap = fit_years(before, after, pre_start)
    prep = of_codes(panel, codes, ids)
    rows = []
    for (code, indicator), part in series_by_unit(prep, span, gap).items():
        years = part["year"].to_list()
        n_pre = sum(year < after[0] for year in years)
        if n_pre >= MIN_PRE_POINTS and len(years) - n_pre >= MIN_POST_FOR_P:
            t_level = segmented_fit(part["year"].to_numpy().astype(float), part["value"].to_numpy(), after[0])[1]
            rows.append((f"{indicator}|{years}", indicator, code, code, False, t_level, len(years)))
    units = pl.DataFrame(rows, schema={"pool": pl.String, "indicator": pl.String, "kommunenr": pl.String,
                                       "kommune": pl.String, "is_treated": pl.Boolean, "t_level": pl.Float64,
                                       "n_years": pl.Int32}, orient="row")
    # a pool per indicator and set of years: only series with the same years are compared
    ranked = placebo_ranks(units.drop("indicator").rename({"pool": "indicator"}), "t_level", centred=False)
    return ranked.join(units.select("pool", "kommunenr", "indicator", "n_years"),
                       left_on=["indicator", "kommunenr"], right_on=["pool", "kommunenr"]).select(
        pl.col("indicator_right").alias("indicator"), "kommunenr", "n_years", "t_level", "n_units", "p_value")
