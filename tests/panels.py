"""Small hand-made panels in the tidy schema, for tests whose answers are worked out by hand."""

from __future__ import annotations

import polars as pl

from helpers.sources.schema import conform

RATE = "long_term_users_80plus_per_100_80plus"
COUNT = "long_term_users"
BEFORE, AFTER = (2016, 2019), (2021, 2024)
Series = dict[str, dict[int, float | None]]


def make_panel(series: Series, indicator: str = RATE, *, status: dict | None = None, flag: dict | None = None,
               structure: str = "2024") -> pl.DataFrame:
    """A tidy panel from {kommunenr: {year: value}}; status/flag keyed by (kommunenr, year)."""
    status, flag = status or {}, flag or {}
    rows = [
        {"kommunenr": code, "kommune": f"K{code}", "structure": structure, "year": year, "indicator": indicator,
         "value": value, "unit": "prosent", "status": status.get((code, year)), "flag": flag.get((code, year)),
         "source": "test"}
        for code, years in series.items()
        for year, value in years.items()
    ]
    return conform(pl.DataFrame(rows, infer_schema_length=None))


def steps(levels: dict[str, tuple[float, float]]) -> Series:
    """Flat series: the first level in 2016–2019, the second in 2021–2024 (2020 left out)."""
    return {
        code: {year: (b if year <= 2019 else a) for year in (*range(2016, 2020), *range(2021, 2025))}
        for code, (b, a) in levels.items()
    }


def only(frame: pl.DataFrame, **where: object) -> dict:
    """The one row matching `where`, as a dict."""
    rows = frame.filter(**where).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]
