"""Population denominators on the borders of any code, from the panel's 2024-area totals.

KOSTRA's 80+ rates divide by the population at 31 December of the report year, which is SSB's
1 January figure of the next year (07459), on the borders of the code the figure was reported under.
The panel holds population only for 2024 areas; a code's population is the sum over the 2024 areas whose
union is exactly its area (`Reforms.exact_areas`). An area's 1 January figure is unreliable in a year
when a code then valid spread over several 2024 areas: the compiler put the whole code into one area
(e.g. 1507 Ålesund 2020–2023, which held today's 1508 and 1580). Such figures are not used.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from helpers.indicators import BY_ID
from helpers.panel import POPULATION_COLUMNS
from helpers.reforms import Reforms
from helpers.schema import conform

AREA_YEAR = 2024
POPULATION_SOURCE = "SSB 07459 via panel (sum of 2024 areas, 1.1. året etter)"
POPULATION_INDICATORS = tuple(POPULATION_COLUMNS.values())


def unreliable_area_years(reforms: Reforms, years: Iterable[int]) -> set[tuple[str, int]]:
    """(area, 1 January year) pairs whose panel population mixes land of several 2024 areas."""
    out = set()
    for year in years:
        for code in reforms.valid_codes(min(year, reforms.latest_year)):
            areas = reforms.successors(code, min(year, reforms.latest_year), AREA_YEAR)
            if len(areas) > 1:
                out.update((area, year) for area in areas)
    return out


def population_rows(
    reforms: Reforms,
    area_population: pl.DataFrame,
    codes_by_year: Iterable[tuple[str, int, int]],
    structure: str,
) -> pl.DataFrame:
    """Tidy population rows for (code, code_year, report year) triples, on the code's own borders."""
    lookup = {
        (area, year): values
        for area, year, *values in area_population.select(
            "area", "year_jan1", *POPULATION_INDICATORS
        ).iter_rows()
    }
    years_available = set(area_population["year_jan1"].unique().to_list())
    unreliable = unreliable_area_years(reforms, years_available)
    rows = []
    for code, code_year, year in codes_by_year:
        areas = reforms.exact_areas(code, code_year, AREA_YEAR)
        jan1 = year + 1
        values: list[float | None] = [None] * len(POPULATION_INDICATORS)
        status, flag = None, None
        if areas is None:
            status, flag = ".", "no_population"
        elif any((area, jan1) in unreliable for area in areas):
            status, flag = ".", "population_gap"
        elif any((area, jan1) not in lookup for area in areas):
            status, flag = "..", ("population_gap" if jan1 in years_available else None)
        else:
            values = [sum(lookup[(area, jan1)][i] for area in areas) for i in range(len(POPULATION_INDICATORS))]
        for indicator, value in zip(POPULATION_INDICATORS, values, strict=True):
            rows.append((code, year, indicator, value, status if value is None else None, flag))
    frame = pl.DataFrame(
        rows,
        schema={"kommunenr": pl.String, "year": pl.Int32, "indicator": pl.String, "value": pl.Float64,
                "status": pl.String, "flag": pl.String},
        orient="row",
    )
    return conform(
        frame.with_columns(
            pl.lit(structure).alias("structure"),
            pl.col("indicator").replace_strict({i: BY_ID[i].unit for i in POPULATION_INDICATORS}).alias("unit"),
            pl.lit(POPULATION_SOURCE).alias("source"),
        )
    )
