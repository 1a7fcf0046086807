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

from helpers.analysis._inference import placebo_ranks
from helpers.analysis._its import MIN_PRE_POINTS
from helpers.analysis._panel import Window, names, prepare
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
    indexed = comparison_scale(indicator) == "pct"
    base = {"kommunenr": kommune, "indicator": indicator, "break_year": after[0], "indexed": indexed}
    years = [*range(pre_start, before[1] + 1), *range(after[0], after[1] + 1)]
    rows = prepare(panel.filter(pl.col("kommunenr").is_in([kommune, *donors]), pl.col("year").is_in(years)),
                   [indicator], exclude_flagged)
    own = rows.filter(pl.col("kommunenr") == kommune, pl.col("value").is_not_null()).sort("year")
    used = own["year"].to_list()
    pre = np.array([year <= before[1] for year in used])
    if pre.sum() < MIN_PRE_POINTS or (~pre).sum() < 1:
        return SyntheticControl(**base, reason="too_few_points", n_pre=int(pre.sum()))
    complete = (
        rows.filter(pl.col("kommunenr") != kommune, pl.col("year").is_in(used))
        .group_by("kommunenr")
        .agg(pl.col("value").sort_by("year"), small=pl.col("small_denominator").any(),
             n=pl.col("value").is_not_null().sum(), rows=pl.len())
        .filter((pl.col("n") == len(used)) & (pl.col("rows") == len(used)) & ~pl.col("small"))
        .sort("kommunenr")
        .join(names(panel), on="kommunenr", how="left", maintain_order="left")
    )
    if complete.height < MIN_DONORS:
        return SyntheticControl(**base, reason="too_few_donors", n_pre=int(pre.sum()), n_donors=complete.height)
    target = own["value"].to_numpy().astype(float)
    matrix = np.array(complete["value"].to_list(), dtype=float).T  # years × donors
    if indexed:
        target = target / target[pre].mean() * 100
        matrix = matrix / matrix[pre].mean(axis=0) * 100
    weights, pre_rmspe, post_rmspe = _fit(target, matrix, pre)
    units = [(kommune, True, post_rmspe / pre_rmspe if pre_rmspe > 0 else np.inf)]
    for j, code in enumerate(complete["kommunenr"]):
        _, placebo_pre, placebo_post = _fit(matrix[:, j], np.delete(matrix, j, axis=1), pre)
        units.append((code, False, placebo_post / placebo_pre if placebo_pre > 0 else np.inf))
    ranked = placebo_ranks(pl.DataFrame(
        [(indicator, code, code, treated, min(ratio, 1e12)) for code, treated, ratio in units],
        schema={"indicator": pl.String, "kommunenr": pl.String, "kommune": pl.String, "is_treated": pl.Boolean,
                "ratio": pl.Float64}, orient="row"), "ratio", centred=False).filter("is_treated")
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
        warnings=tuple(warnings), rank=int(ranked["rank"][0]), n_units=int(ranked["n_units"][0]),
        p_value=float(ranked["p_value"][0]),
    )
