"""Synthetic control (Abadie 2021) on the outcome alone: a weighted mix of comparison kommuner that tracks the
kommune before the break; the gap after is compared with the same gap for every donor (in-space placebos).

Counts are first turned into an index (each unit's pre-period mean = 100), since a weighted average of
kommuner of other sizes cannot reproduce a count. The gap and the fit error are then in index points.
Warnings (codes; `helpers.present.text` words them): `more_donors_than_years` (the weights are not pinned down by the
pre-period), `poor_fit` (pre-period RMSPE above POOR_FIT_PCT % of the kommune's mean pre-level) and
`outside_donor_range` (the kommune's pre-level lies outside all donors', so no convex mix can match it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from helpers.analysis._inference import treated_rank
from helpers.analysis._its import MIN_PRE_POINTS
from helpers.analysis._panel import Window, names, of_codes
from helpers.analysis._windows import comparison_scale

POOR_FIT_PCT = 5.0
MIN_DONORS = 2


@dataclass(frozen=True, eq=False)
class SyntheticControl:
    """Weights, the fitted series and the placebo test of one indicator; `reason` says why it was refused."""

    kommunenr: str
    indicator: str
    break_year: int
    indexed: bool
    reason: str | None = None
    weights: pl.DataFrame | None = None
    series: pl.DataFrame | None = None
    n_pre: int = 0
    n_donors: int = 0
    pre_rmspe: float | None = None
    post_rmspe: float | None = None
    fit_error_pct: float | None = None
    mean_gap_after: float | None = None
    warnings: tuple[str, ...] = ()
    rank: int | None = None
    n_units: int = 0
    p_value: float | None = None

    @property
    def ok(self) -> bool:
        """True when the synthetic control was estimated."""
        return self.reason is None


def convex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Weights w ≥ 0 with Σw = 1 minimising |target − donors·w|² (NNLS with a heavy sum-to-one row)."""
    from scipy.optimize import nnls  # only when needed

    penalty = 1e3 * (1.0 + float(np.abs(donors).max(initial=0.0)) + float(np.abs(target).max(initial=0.0)))
    matrix = np.vstack([donors, np.full((1, donors.shape[1]), penalty)])
    weights, _ = nnls(matrix, np.append(target, penalty))
    total = weights.sum()
    return weights / total if total > 0 else np.full(donors.shape[1], 1 / donors.shape[1])


def _fit(target: np.ndarray, donors: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, float, float]:
    weights = convex_weights(target[pre], donors[pre])
    gap = target - donors @ weights
    return weights, float(np.sqrt(np.mean(gap[pre] ** 2))), float(np.sqrt(np.mean(gap[~pre] ** 2)))


def synthetic_control(panel: pl.DataFrame, kommune: str, donors: list[str], indicator: str, before: Window,
                      after: Window, *, pre_start: int, exclude_flagged: bool = True) -> SyntheticControl:
    """Synthetic control of `indicator` for `kommune` from `donors`, fitted on pre_start..before[1]."""
    return synthetic_controls(panel, kommune, donors, [indicator], before, after, pre_start=pre_start,
                              exclude_flagged=exclude_flagged)[indicator]


def _donor_series(rows: pl.DataFrame, kommune: str, used: dict[str, list[int]], labels: pl.DataFrame
                  ) -> dict[str, pl.DataFrame]:
    """Per indicator, the donors with a usable value in every year the kommune has one (no small denominator),
    by kommunenr, each with its values in year order: one group-by over all indicators."""
    wanted = pl.DataFrame([(indicator, year) for indicator, years in used.items() for year in years],
                          schema={"indicator": pl.String, "year": rows.schema["year"]}, orient="row")
    counts = pl.DataFrame({"indicator": list(used), "n_used": [len(years) for years in used.values()]},
                          schema={"indicator": pl.String, "n_used": pl.UInt32})
    complete = (
        rows.filter(pl.col("kommunenr") != kommune).join(wanted, on=["indicator", "year"], how="semi")
        .group_by("indicator", "kommunenr")
        .agg(pl.col("value").sort_by("year"), small=pl.col("small_denominator").any(),
             n=pl.col("value").is_not_null().sum(), rows=pl.len())
        .join(counts, on="indicator")
        .filter((pl.col("n") == pl.col("n_used")) & (pl.col("rows") == pl.col("n_used")) & ~pl.col("small"))
        .drop("n_used")
        .sort("indicator", "kommunenr")
        .join(labels, on="kommunenr", how="left", maintain_order="left")
    )
    return {key[0]: part for key, part in complete.partition_by("indicator", as_dict=True).items()}


def synthetic_controls(panel: pl.DataFrame, kommune: str, donors: list[str], ids: list[str], before: Window,
                       after: Window, *, pre_start: int, exclude_flagged: bool = True) -> dict[str, SyntheticControl]:
    """`synthetic_control` for each of `ids`, the rows of all of them read and grouped at once."""
    years = [*range(pre_start, before[1] + 1), *range(after[0], after[1] + 1)]
    rows = of_codes(panel, [kommune, *donors], ids, exclude_flagged).filter(pl.col("year").is_in(years))
    own_rows = rows.filter(pl.col("kommunenr") == kommune, pl.col("value").is_not_null()).sort("year")
    own_by = {key[0]: part for key, part in own_rows.partition_by("indicator", as_dict=True).items()}
    used = {indicator: own_by[indicator]["year"].to_list() if indicator in own_by else [] for indicator in ids}
    donor_series = _donor_series(rows, kommune, used, names(panel))
    empty = pl.DataFrame(schema={"kommunenr": pl.String, "value": pl.List(pl.Float64), "kommune": pl.String})
    return {indicator: _synthetic(kommune, indicator, before, after, own_by.get(indicator), used[indicator],
                                  donor_series.get(indicator, empty))
            for indicator in ids}


def _synthetic(kommune: str, indicator: str, before: Window, after: Window, own: pl.DataFrame | None,
               used: list[int], complete: pl.DataFrame) -> SyntheticControl:
    indexed = comparison_scale(indicator) == "pct"
    base = {"kommunenr": kommune, "indicator": indicator, "break_year": after[0], "indexed": indexed}
    pre = np.array([year <= before[1] for year in used])
    if own is None or pre.sum() < MIN_PRE_POINTS or (~pre).sum() < 1:
        return SyntheticControl(**base, reason="too_few_points", n_pre=int(pre.sum()))
    target = own["value"].to_numpy().astype(float)
    matrix = np.array(complete["value"].to_list(), dtype=float).T.reshape(len(used), -1)  # years × donors
    if indexed:  # an index needs a before-level above zero: donors without one are left out
        if not target[pre].mean() > 0:
            return SyntheticControl(**base, reason="zero_base", n_pre=int(pre.sum()))
        base_levels = matrix[pre].mean(axis=0)
        keep = base_levels > 0
        complete, matrix = complete.filter(pl.Series(keep)), matrix[:, keep] / base_levels[keep] * 100
        target = target / target[pre].mean() * 100
    if complete.height < MIN_DONORS:
        return SyntheticControl(**base, reason="too_few_donors", n_pre=int(pre.sum()), n_donors=complete.height)
    weights, pre_rmspe, post_rmspe = _fit(target, matrix, pre)
    ratios = [post_rmspe / pre_rmspe if pre_rmspe > 0 else np.inf]
    for j in range(complete.height):
        _, placebo_pre, placebo_post = _fit(matrix[:, j], np.delete(matrix, j, axis=1), pre)
        ratios.append(placebo_post / placebo_pre if placebo_pre > 0 else np.inf)
    rank, n_units = treated_rank([min(ratio, 1e12) for ratio in ratios])
    synthetic = matrix @ weights
    level = float(np.abs(target[pre]).mean())
    warnings = []
    if complete.height > pre.sum():
        warnings.append("more_donors_than_years")
    fit_error = pre_rmspe / level * 100 if level > 0 else None
    if fit_error is None or fit_error > POOR_FIT_PCT:
        warnings.append("poor_fit")
    own_level, donor_levels = target[pre].mean(), matrix[pre].mean(axis=0)
    if own_level > donor_levels.max() or own_level < donor_levels.min():
        warnings.append("outside_donor_range")
    return SyntheticControl(
        **base,
        weights=complete.select("kommunenr", "kommune", weight=pl.Series(weights)).sort("weight", descending=True),
        series=pl.DataFrame({"year": used, "kommune_value": target, "synthetic": synthetic}).with_columns(
            gap=pl.col("kommune_value") - pl.col("synthetic"),
            part=pl.when(pl.col("year") <= before[1]).then(pl.lit("before")).otherwise(pl.lit("after"))),
        n_pre=int(pre.sum()), n_donors=complete.height, pre_rmspe=pre_rmspe, post_rmspe=post_rmspe,
        fit_error_pct=fit_error, mean_gap_after=float(np.mean((target - synthetic)[~pre])),
        warnings=tuple(warnings), rank=rank, n_units=n_units, p_value=rank / n_units,
    )
