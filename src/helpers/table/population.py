"""Population denominators on the borders of any code.

KOSTRA's 80+ rates divide by the population at 31 December of the report year, which is SSB's
1 January figure of the next year (07459), on the borders of the code the figure was reported under.

Two sources, in this order:
1. the panel's 2024-area totals: a code's population is the sum over the 2024 areas whose union is exactly
   its area (`Reforms.exact_areas`). An area's 1 January figure is unreliable in a year when a code then
   valid spread over several 2024 areas: the compiler put the whole code into one area (e.g. 1507 Ålesund
   2020–2023, which held today's 1508 and 1580). Such figures are not used;
2. where (1) gives nothing (`no_population`, `population_gap`): the code's own 1 January figure from SSB's
   07459 per historic code (`ssb/befolkning_07459_1jan_2005_2022.csv`), e.g. 0220 Asker before 2020, when
   the code on that date still had the same borders. A code is there only for the dates it was in use, so
   0220's 31.12.2019 denominator (1.1.2020, when the code was gone) stays missing, and so does Trondheim's
   (5001 kept its number but took in Klæbu on 1.1.2020).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from helpers import paths
from helpers.sources.indicators import BY_ID
from helpers.sources.panel import POPULATION_COLUMNS, read_csv_checked
from helpers.sources.schema import conform
from helpers.table.reforms import Reforms

AREA_YEAR = 2024
POPULATION_SOURCE = "SSB 07459 via panel (sum of 2024 areas, 1.1. året etter)"
HISTORIC_SOURCE = "SSB 07459 per historisk kode (1.1. året etter)"
POPULATION_INDICATORS = tuple(POPULATION_COLUMNS.values())
HISTORIC_FILE = paths.RAW / "ssb" / "befolkning_07459_1jan_2005_2022.csv"


def read_historic_population(path: Path | None = None) -> pl.DataFrame:
    """Population on 1 January per code as it was then: kommunenr, year_jan1 and the population indicators."""
    path = Path(path) if path is not None else HISTORIC_FILE
    frame = read_csv_checked(path, {"kommunenr", "år", *POPULATION_COLUMNS}, {"kommunenr": pl.String})
    return frame.select(
        "kommunenr",
        pl.col("år").cast(pl.Int32).alias("year_jan1"),
        *[pl.col(column).cast(pl.Float64).alias(name) for column, name in POPULATION_COLUMNS.items()],
    )


def unreliable_area_years(reforms: Reforms, years: Iterable[int]) -> set[tuple[str, int]]:
    """(area, 1 January year) pairs whose panel population mixes land of several 2024 areas."""
    out = set()
    for year in years:
        for code in reforms.valid_codes(min(year, reforms.latest_year)):
            areas = reforms.successors(code, min(year, reforms.latest_year), AREA_YEAR)
            if len(areas) > 1:
                out.update((area, year) for area in areas)
    return out


def _same_borders(reforms: Reforms, code: str, code_year: int, jan1: int) -> bool:
    """True when `code` on 1 January of `jan1` covers the same land as `code` in `code_year` (a code can keep
    its number through a merger: 5001 Trondheim took in Klæbu on 1.1.2020)."""
    if code not in reforms.valid_codes(min(jan1, reforms.latest_year)):
        return False
    first, last = sorted((code_year, min(jan1, reforms.latest_year)))
    return not reforms.borders_changed(code, code_year, first, last)


def population_rows(
    reforms: Reforms,
    area_population: pl.DataFrame,
    codes_by_year: Iterable[tuple[str, int, int]],
    structure: str,
    historic: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Tidy population rows for (code, code_year, report year) triples, on the code's own borders.

    `historic` (from `read_historic_population`) fills the rows the 2024-area sums leave missing.
    """
    lookup = {
        (area, year): values
        for area, year, *values in area_population.select(
            "area", "year_jan1", *POPULATION_INDICATORS
        ).iter_rows()
    }
    own = {} if historic is None else {
        (code, year): values
        for code, year, *values in historic.select("kommunenr", "year_jan1", *POPULATION_INDICATORS).iter_rows()
    }
    years_available = set(area_population["year_jan1"].unique().to_list())
    unreliable = unreliable_area_years(reforms, years_available)
    rows = []
    for code, code_year, year in codes_by_year:
        areas = reforms.exact_areas(code, code_year, AREA_YEAR)
        jan1 = year + 1
        values: list[float | None] = [None] * len(POPULATION_INDICATORS)
        status, flag, source = None, None, POPULATION_SOURCE
        if areas is None:
            status, flag = ".", "no_population"
        elif any((area, jan1) in unreliable for area in areas):
            status, flag = ".", "population_gap"
        elif any((area, jan1) not in lookup for area in areas):
            status, flag = "..", ("population_gap" if jan1 in years_available else None)
        else:
            values = [sum(lookup[(area, jan1)][i] for area in areas) for i in range(len(POPULATION_INDICATORS))]
        if flag is not None and (code, jan1) in own and _same_borders(reforms, code, code_year, jan1):
            values, status, flag, source = list(own[(code, jan1)]), None, None, HISTORIC_SOURCE
        for indicator, value in zip(POPULATION_INDICATORS, values, strict=True):
            rows.append((code, year, indicator, value, status if value is None else None, flag, source))
    frame = pl.DataFrame(
        rows,
        schema={"kommunenr": pl.String, "year": pl.Int32, "indicator": pl.String, "value": pl.Float64,
                "status": pl.String, "flag": pl.String, "source": pl.String},
        orient="row",
    )
    return conform(
        frame.with_columns(
            pl.lit(structure).alias("structure"),
            pl.col("indicator").replace_strict({i: BY_ID[i].unit for i in POPULATION_INDICATORS}).alias("unit"),
        )
    )
