"""Interrupted time series on a kommune's own series, with a p-value calibrated on placebo kommuner.

Model (OLS): value = b0 + b1·t + level_change·post + slope_change·t·post, t = year − break year, post = year ≥
break year. Before-years are the pre-period up to the last before-year; after-years are the after window.
The years between (a gap year, the reform year itself) belong to neither and are left out of the fit.

Why not the model's own p-value: on real KOSTRA series where nothing happened (the comparison kommuner,
same years) ordinary OLS p-values with t(n − 4) reject at 5 % in 15–25 % of series, and Newey–West errors do
worse (with two after-years the after segment is fitted exactly, so its noise never reaches the errors). The
series are short, trending and autocorrelated. So the level change is judged by its t-statistic's rank
among the same t-statistics of the comparison kommuner (`_inference.placebo_ranks`, not centred), which holds
its size when the kommune is exchangeable with them. With fewer than MIN_POST_FOR_P after-years the estimate
is shown without a p: two after-points fix the after segment's level and slope by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from helpers.analysis._inference import treated_rank
from helpers.analysis._panel import Window, of_codes

MIN_PRE_POINTS = 3
MIN_POST_POINTS = 2
MIN_POST_FOR_P = 3
MIN_UNITS_FOR_P = 3


@dataclass(frozen=True, eq=False)
class ItsResult:
    """Segmented regression of one kommune's series. `reason` says why nothing was estimated; `no_p_reason`
    (`few_after_years`, `few_placebos`) why an estimate has no p. `series`: year, value, fitted,
    counterfactual (the pre-trend carried on) and part (`before`, `gap`, `after`)."""

    kommunenr: str
    indicator: str
    break_year: int
    gap_years: tuple[int, ...]
    n_pre: int
    n_post: int
    reason: str | None = None
    level_change: float | None = None
    slope_change: float | None = None
    pre_slope: float | None = None
    t_level: float | None = None
    rank: int | None = None
    n_units: int = 0
    p_value: float | None = None
    p_floor: float | None = None
    no_p_reason: str | None = None
    series: pl.DataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when the model was estimated."""
        return self.reason is None


def segmented_fit(years: np.ndarray, values: np.ndarray, break_year: int) -> tuple[np.ndarray, float | None]:
    """OLS coefficients (b0, b1, level_change, slope_change) and the level change's t-statistic."""
    time = years - break_year
    post = (years >= break_year).astype(float)
    design = np.column_stack([np.ones_like(time), time, post, time * post])
    params, *_ = np.linalg.lstsq(design, values, rcond=None)
    dof = len(values) - 4
    residual = values - design @ params
    if dof <= 0:
        return params, None
    variance = residual @ residual / dof * np.linalg.pinv(design.T @ design)[2, 2]
    if not np.isfinite(variance) or variance <= 0:
        return params, None
    return params, float(params[2] / np.sqrt(variance))


def fit_years(before: Window, after: Window, pre_start: int) -> tuple[tuple[int, int], tuple[int, ...]]:
    """The span of years fitted, and the years between the windows that are left out."""
    return (pre_start, after[1]), tuple(range(before[1] + 1, after[0]))


def _fit_rows(prep: pl.DataFrame, span: tuple[int, int], gap: Sequence[int]) -> pl.DataFrame:
    """Usable rows in `span` outside `gap`."""
    return prep.filter(pl.col("value").is_not_null(), pl.col("year").is_between(*span),
                       ~pl.col("year").is_in(list(gap)))


def series_by_unit(prep: pl.DataFrame, span: tuple[int, int],
                   gap: Sequence[int]) -> dict[tuple[str, str], pl.DataFrame]:
    """Usable rows in `span` outside `gap`, by (kommunenr, indicator), sorted by year."""
    rows = _fit_rows(prep, span, gap)
    return {key: part.sort("year") for key, part in rows.partition_by(["kommunenr", "indicator"], as_dict=True).items()}


def series_arrays(prep: pl.DataFrame, span: tuple[int, int],
                  gap: Sequence[int]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """`series_by_unit` as (years, values) arrays, from one group-by."""
    grouped = _fit_rows(prep, span, gap).group_by("kommunenr", "indicator").agg(
        pl.col("year").sort(), pl.col("value").sort_by("year"))
    return {(code, indicator): (np.array(years), np.array(values, dtype=float))
            for code, indicator, years, values in grouped.iter_rows()}


def _counts(years: np.ndarray | None, break_year: int) -> tuple[int, int]:
    if years is None:
        return 0, 0
    post = int((years >= break_year).sum())
    return len(years) - post, post


def interrupted_time_series(panel: pl.DataFrame, kommune: str, ids: Sequence[str], before: Window, after: Window,
                            *, pre_start: int, placebo_codes: Sequence[str] = (),
                            exclude_flagged: bool = True) -> dict[str, ItsResult]:
    """ITS per indicator for `kommune`, the level change's p calibrated on `placebo_codes`."""
    span, gap = fit_years(before, after, pre_start)
    break_year = after[0]
    prep = of_codes(panel, [kommune, *placebo_codes], ids, exclude_flagged)
    series = series_arrays(prep, span, gap)
    year_type = prep.schema["year"]
    out = {}
    for indicator in ids:
        own_years, values = series.get((kommune, indicator), (None, None))
        n_pre, n_post = _counts(own_years, break_year)
        base = {"kommunenr": kommune, "indicator": indicator, "break_year": break_year, "gap_years": gap,
                "n_pre": n_pre, "n_post": n_post}
        if own_years is None or n_pre < MIN_PRE_POINTS or n_post < MIN_POST_POINTS:
            out[indicator] = ItsResult(**base, reason="too_few_points")
            continue
        years = own_years.astype(float)
        params, t_level = segmented_fit(years, values, break_year)
        t_values = [t_level]
        for code in placebo_codes:
            other = series.get((code, indicator))
            if other is None or not np.array_equal(other[0], own_years):
                continue  # only a series with the same years gives a comparable t-statistic
            t_values.append(segmented_fit(other[0].astype(float), other[1], break_year)[1])
        rank, n_units = treated_rank([t for t in t_values if t is not None]) if t_level is not None else (None, 0)
        no_p = ("few_after_years" if n_post < MIN_POST_FOR_P
                else "few_placebos" if n_units < MIN_UNITS_FOR_P else None)
        counterfactual = params[0] + params[1] * (years - break_year)
        frame = pl.DataFrame({"year": pl.Series(own_years, dtype=year_type), "value": values}).with_columns(
            fitted=pl.Series(np.column_stack([np.ones_like(years), years - break_year, years >= break_year,
                                              (years - break_year) * (years >= break_year)]) @ params),
            counterfactual=pl.Series(counterfactual),
            part=pl.when(pl.col("year") >= break_year).then(pl.lit("after")).otherwise(pl.lit("before")),
        )
        out[indicator] = ItsResult(
            **base, level_change=float(params[2]), slope_change=float(params[3]), pre_slope=float(params[1]),
            t_level=t_level, n_units=n_units, no_p_reason=no_p,
            rank=None if no_p else rank,
            p_value=None if no_p else rank / n_units,
            p_floor=None if no_p else 1 / n_units,
            series=frame,
        )
    return out
