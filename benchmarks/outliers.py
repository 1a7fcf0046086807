"""How often the outlier rule (helpers.table.outliers) flags by chance, and how often it catches a real collapse.

Simulated 17-year count series (Poisson at a level m, optionally with extra year-to-year noise of log sd 0.2,
which is what real kommune series look like): the share of values flagged when nothing is wrong (false
flags per 1000 values), and the share of series in which a one-year fall to 35 % of the level (a 65 % dip)
in year 9 is flagged. Run: `.venv/bin/python benchmarks/outliers.py` (seeded; about 10 s).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from helpers.sources.schema import conform
from helpers.table.outliers import outlier_mask

YEARS = 17
DIP_AT = 8


def _series(rng: np.random.Generator, level: float, noise: float, n: int, dip: bool) -> pl.DataFrame:
    lam = level * np.exp(rng.normal(0.0, noise, (n, YEARS))) if noise else np.full((n, YEARS), float(level))
    if dip:
        lam[:, DIP_AT] *= 0.35
    values = rng.poisson(lam).astype(float)
    frame = pl.DataFrame({
        "kommunenr": np.repeat([f"{i:04d}" for i in range(n)], YEARS),
        "year": np.tile(np.arange(2007, 2007 + YEARS), n).astype(np.int32),
        "value": values.ravel(),
    })
    return conform(frame.with_columns(pl.lit("as_reported").alias("structure"),
                                      pl.lit("home_service_users").alias("indicator")))


def main() -> None:
    rng = np.random.default_rng(2024)
    print(f"{'level':>6} {'extra noise':>11} {'false flags / 1000 values':>26} {'65 % dip caught':>16}")
    for level in (8, 15, 30, 60, 200, 1000):
        for noise in (0.0, 0.2):
            calm = _series(rng, level, noise, 1500, dip=False)
            false_rate = outlier_mask(calm).mean() * 1000
            dipped = _series(rng, level, noise, 500, dip=True)
            caught = dipped.with_columns(outlier_mask(dipped)).filter(pl.col("year") == 2007 + DIP_AT)["outlier"].mean()
            print(f"{level:>6} {noise:>11.1f} {false_rate:>26.2f} {caught * 100:>15.0f}%")


if __name__ == "__main__":
    main()
