"""Placebo (permutation) inference and the correction for testing many indicators.

One kommune is "treated"; ordinary standard errors mean nothing with one treated unit. Instead every unit
of the pool — the kommune and each comparison kommune — gets the same statistic, and the kommune's rank
among them is the evidence:

- with `centred=True` a unit's *deviation* is its value minus the median of all the other units of the pool
  (the kommune's deviation is thus its value minus the comparison group's median);
- without, the deviation is the value itself (for statistics that are already a departure from a unit's
  own history, such as an ITS t-statistic);
- rank = the number of units whose |deviation| is at least the kommune's (1 = the most extreme; ties count
  against the kommune), and p = rank / n_units.

Because every unit is treated the same way, p is exact when the kommune is exchangeable with the group:
the share of units with p ≤ α is at most α. The smallest possible p is 1 / n_units (its *floor*).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

TIE_TOLERANCE = 1e-9
UNIT_COLUMNS = ("indicator", "kommunenr", "kommune", "is_treated")


def leave_one_out_medians(values: np.ndarray) -> np.ndarray:
    """For each element, the median of all the other elements (NaN when there are none)."""
    n = len(values)
    if n < 2:
        return np.full(n, np.nan)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    position = np.empty(n, dtype=int)
    position[order] = np.arange(n)
    m = n - 1  # the length after leaving one out

    def kth(k: np.ndarray) -> np.ndarray:
        # the k-th smallest of the rest: skip the left-out element's own position
        return ordered[np.where(k < position, k, k + 1)]

    if m % 2:
        return kth(np.full(n, m // 2))
    return (kth(np.full(n, m // 2 - 1)) + kth(np.full(n, m // 2))) / 2


def _ranks(deviation: np.ndarray) -> np.ndarray:
    size = np.abs(deviation)
    ordered = np.sort(size)
    # units with |deviation| >= this one's (within a relative tolerance, so equal values tie)
    return len(size) - np.searchsorted(ordered, size - TIE_TOLERANCE * (1 + size), side="left")


def treated_rank(values: Sequence[float]) -> tuple[int, int]:
    """(rank, n_units) of the first of `values` among all of them, as `placebo_ranks(..., centred=False)` ranks
    it: for a statistic that is already a departure from a unit's own history (`values` has no nulls)."""
    deviation = np.array(values, dtype=float)
    return int(_ranks(np.nan_to_num(deviation, nan=0.0))[0]), len(deviation)


def placebo_ranks(units: pl.DataFrame, stat: str, *, centred: bool = True) -> pl.DataFrame:
    """Every unit's deviation, rank and p within its indicator (see the module docstring).

    `units` has UNIT_COLUMNS and `stat`; rows with a null `stat` are left out. Returns UNIT_COLUMNS, `stat`,
    centre, deviation, rank, n_units and p_value, sorted by indicator and deviation.
    """
    rows = units.filter(pl.col(stat).is_not_null())
    schema = {**dict(units.select(*UNIT_COLUMNS, stat).schema), "centre": pl.Float64, "deviation": pl.Float64,
              "rank": pl.Int32, "n_units": pl.Int32}
    if not rows.height:
        return pl.DataFrame(schema=schema).with_columns(p_value=pl.lit(None, dtype=pl.Float64))
    # the indicators in order of first appearance, each one's rows in their order (one frame, no partitions)
    groups = rows.select(group=pl.col("indicator").rank("dense").cast(pl.Int64))["group"].to_numpy()
    first_seen = np.full(groups.max() + 1, len(groups))
    np.minimum.at(first_seen, groups, np.arange(len(groups)))
    order = np.argsort(first_seen[groups], kind="stable")
    values = rows[stat].to_numpy().astype(float)[order]
    bounds = np.flatnonzero(np.diff(first_seen[groups][order])) + 1
    centre, deviation = np.empty(len(values)), np.empty(len(values))
    ranks, n_units = np.empty(len(values), dtype=np.int64), np.empty(len(values), dtype=np.int64)
    for start, end in zip([0, *bounds], [*bounds, len(values)], strict=True):
        part = values[start:end]
        centre[start:end] = leave_one_out_medians(part) if centred else np.nan
        deviation[start:end] = part - (centre[start:end] if centred else 0.0)
        ranks[start:end] = _ranks(np.nan_to_num(deviation[start:end], nan=0.0))
        n_units[start:end] = end - start
    return (
        rows.select(*UNIT_COLUMNS, stat)[order]
        .with_columns(
            centre=pl.Series(centre).fill_nan(None),
            deviation=pl.Series(deviation),
            rank=pl.Series(ranks, dtype=pl.Int32),
            n_units=pl.Series(n_units, dtype=pl.Int32),
        )
        .with_columns(p_value=pl.col("rank") / pl.col("n_units"))
        .sort("indicator", "deviation", nulls_last=True)
    )


def treated_test(ranked: pl.DataFrame, ids: Sequence[str], *, min_units: int = 3) -> pl.DataFrame:
    """Per indicator, the treated kommune's deviation, centre, rank, n_units, p_value and p floor.

    With fewer than `min_units` units (the kommune and at least two others) no p is given.
    """
    treated = ranked.filter("is_treated").select("indicator", "deviation", "centre", "rank", "n_units", "p_value")
    order = pl.DataFrame({"indicator": list(ids)}, schema={"indicator": pl.String})
    testable = pl.col("n_units") >= min_units
    return (
        order.join(treated, on="indicator", how="left", maintain_order="left")
        .with_columns(
            rank=pl.when(testable).then(pl.col("rank")),
            p_value=pl.when(testable).then(pl.col("p_value")),
            p_floor=pl.when(testable).then(1 / pl.col("n_units")),
            n_units=pl.col("n_units").fill_null(0),
        )
        .with_columns(at_floor=(pl.col("rank") == 1).fill_null(False))
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (family = the non-missing p-values; missing stay missing)."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for step, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - step) * p))
        out[i] = running
    return out


def expected_by_chance(n_tests: int, alpha: float) -> float:
    """How many of `n_tests` independent tests reach p ≤ α when nothing happened."""
    return n_tests * alpha
