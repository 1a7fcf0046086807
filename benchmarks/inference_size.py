"""Size of the report's tests on kommuner where nothing happened: how often p < 0.05 when there is no change.

Every kommune of 2024 whose borders did not change in the years used is in turn treated as if something had
happened at the after-window's first year; each test should reject in about 5 % of these runs. Printed per
window set: the ITS level change with its ordinary OLS p (t with n − 4 df), with Newey–West errors
(maxlags 1, as the project used before), and with the placebo-calibrated p the reports use; and the DiD p
over the whole pool and with each kommune's own matched group (every third kommune).

Run: `.venv/bin/python benchmarks/inference_size.py` (about a minute).
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
from scipy import stats

from helpers import analysis
from helpers.analysis._its import fit_years, series_by_unit
from helpers.errors import InputError
from helpers.sources.indicators import DEFAULT_REPORT_SET
from helpers.table.processed import load_indicators
from helpers.table.reforms import load_reforms

IDS = [i for i in DEFAULT_REPORT_SET if i != "institution_places_per_100_80plus"]
WINDOWS = [((2012, 2013), (2015, 2017)), ((2016, 2017), (2019, 2021)), ((2018, 2019), (2021, 2023))]
PRE_START = 2007


def hac_share(panel: pl.DataFrame, codes: list[str], before: tuple[int, int], after: tuple[int, int]) -> float:
    """Share of series with Newey–West p < 0.05 for the level change (the project's earlier ITS errors)."""
    from statsmodels.regression.linear_model import OLS

    span, gap = fit_years(before, after, PRE_START)
    hits = total = 0
    for part in series_by_unit(analysis.prepare(panel.filter(pl.col("kommunenr").is_in(codes)), IDS),
                               span, gap).values():
        years = part["year"].to_numpy().astype(float)
        post = (years >= after[0]).astype(float)
        if post.sum() < 3 or (1 - post).sum() < 3:
            continue
        time = years - after[0]
        design = np.column_stack([np.ones_like(time), time, post, time * post])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = OLS(part["value"].to_numpy(), design).fit(cov_type="HAC", cov_kwds={"maxlags": 1}, use_t=True)
        if np.isfinite(fit.pvalues[2]):
            total += 1
            hits += fit.pvalues[2] < 0.05
    return hits / total


def main() -> None:
    table, reforms = load_indicators(), load_reforms()
    panel = table.filter(pl.col("structure") == "2024")
    print("share of tests with p < 0.05 on kommuner where nothing happened (target: near 0.05, at most 0.10)")
    for before, after in WINDOWS:
        codes = [c for c in sorted(reforms.valid_codes(2024)) if not reforms.borders_changed(c, 2024, PRE_START,
                                                                                               after[1])]
        its = analysis.its_size_runs(panel, codes, IDS, before, after, pre_start=PRE_START)
        naive = 2 * stats.t.sf(np.abs(its["t_level"].to_numpy()), its["n_years"].to_numpy() - 4)
        did = analysis.did_size_runs(panel, codes, IDS, before, after)
        print(f"\n{before[0]}–{before[1]} vs {after[0]}–{after[1]}: {len(codes)} kommuner with unchanged borders")
        print(f"  ITS, OLS p with t(n−4)      : {np.nanmean(naive < 0.05):.3f}  ({its.height} series)")
        print(f"  ITS, Newey–West p (maxlags 1): {hac_share(panel, codes, before, after):.3f}")
        print(f"  ITS, placebo-calibrated p    : {(its['p_value'] < 0.05).mean():.3f}   <- the reports")
        print(f"  DiD, placebo p (whole pool)  : {(did['p_value'] <= 0.05).mean():.3f}  ({did.height} tests)")
    before, after = (2012, 2013), (2015, 2016)
    codes = [c for c in sorted(reforms.valid_codes(2024)) if not reforms.borders_changed(c, 2024, PRE_START, 2016)]
    p_values = []
    for code in codes[::3]:
        try:
            group = analysis.select_group(panel, code, before=before, after=after, pre_start=PRE_START,
                                          reforms=reforms, indicators=IDS)
        except InputError:
            continue
        result = analysis.compare(panel, code, group, IDS, before, after, pre_start=PRE_START)
        p_values += result.did.estimates["p_value"].drop_nulls().to_list()
    print(f"\nDiD with each kommune's own matched group, 2012–2013 vs 2015–2016 (every third kommune): "
          f"{np.mean(np.array(p_values) <= 0.05):.3f}  ({len(p_values)} tests)")


if __name__ == "__main__":
    main()
