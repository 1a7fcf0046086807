"""Data-quality summaries of the indicator table for the cleaning notebook (no plotting).

Coverage per indicator and year, missing values by SSB symbol, flags, jumps in the panel's population
series, and the reform crosswalk behind one kommune.
"""

from __future__ import annotations

import polars as pl

from helpers.indicators import catalogue_frame
from helpers.panel import population_by_area, read_panel
from helpers.population import unreliable_area_years
from helpers.reforms import Reforms
from helpers.schema import FLAG_LABELS, STATUS_LABELS

POPULATION_JUMP = 0.10


def coverage(table: pl.DataFrame, structure: str) -> pl.DataFrame:
    """Share of kommuner with a value, per indicator and year (columns: indicator, year, n, with_value, share)."""
    return (
        table.filter(pl.col("structure") == structure)
        .group_by("indicator", "year")
        .agg(pl.len().alias("n"), pl.col("value").is_not_null().sum().alias("with_value"))
        .with_columns((pl.col("with_value") / pl.col("n")).alias("share"))
        .sort("indicator", "year")
    )


def missing_by_status(table: pl.DataFrame, structure: str) -> pl.DataFrame:
    """Missing values per indicator and SSB symbol, with the symbol's meaning."""
    return (
        table.filter(pl.col("structure") == structure, pl.col("value").is_null())
        .group_by("indicator", "status").len()
        .with_columns(pl.col("status").replace_strict(STATUS_LABELS, default="?").alias("meaning"))
        .sort("indicator", "status")
    )


def flag_counts(table: pl.DataFrame, structure: str) -> pl.DataFrame:
    """How many rows carry each quality flag, with the flag's meaning."""
    return (
        table.filter(pl.col("structure") == structure, pl.col("flag").is_not_null())
        .select(pl.col("flag").str.split(";").alias("flag")).explode("flag")
        .group_by("flag").len()
        .with_columns(pl.col("flag").replace_strict(FLAG_LABELS, default="?").alias("meaning"))
        .sort("len", descending=True)
    )


def flagged_values(table: pl.DataFrame, flag: str = "outlier", structure: str = "as_reported") -> pl.DataFrame:
    """Rows carrying `flag` that still have a value (e.g. the outliers kept in the table)."""
    return table.filter(
        pl.col("structure") == structure, pl.col("value").is_not_null(),
        pl.col("flag").fill_null("").str.split(";").list.contains(flag),
    ).select("kommunenr", "kommune", "year", "indicator", "value", "flag").sort("kommunenr", "indicator", "year")


def population_jumps(reforms: Reforms, areas: pl.DataFrame | None = None) -> pl.DataFrame:
    """Year-to-year changes above 10 % in the panel's population of each 2024 area, with whether a
    code valid that year spread over several areas (then the figure mixes areas and is not used)."""
    if areas is None:
        areas = population_by_area(read_panel())
    jumps = (
        areas.sort("area", "year_jan1")
        .with_columns((pl.col("population_total") / pl.col("population_total").shift(1).over("area") - 1)
                      .alias("change"))
        .filter(pl.col("change").abs() > POPULATION_JUMP)
    )
    unreliable = unreliable_area_years(reforms, set(jumps["year_jan1"].to_list()) | {y - 1 for y in jumps["year_jan1"]})
    notes = []
    for area, year in jumps.select("area", "year_jan1").iter_rows():
        if (area, year) in unreliable or (area, year - 1) in unreliable:
            notes.append("delt kode: tallet blander områder (brukes ikke som nevner)")
        else:
            notes.append("ikke forklart av kodeendring (reell endring eller grensejustering)")
    return jumps.with_columns(
        pl.col("area").replace_strict(reforms.names, default=None).alias("kommune"),
        pl.Series("explanation", notes, dtype=pl.String),
    ).select("area", "kommune", "year_jan1", "population_total", "change", "explanation")


def kommune_crosswalk(reforms: Reforms, kommune: str, structure_year: int, years: range) -> pl.DataFrame:
    """Which reported codes make up `kommune` (a code of `structure_year`) in each year, and how."""
    cw = reforms.crosswalk(list(years), structure_year)
    return (
        cw.filter(pl.col("target") == kommune)
        .with_columns(pl.col("code").replace_strict(reforms.names, default=None).alias("name"))
        .group_by("relation", "code", "name").agg(pl.col("year").min().alias("fra"), pl.col("year").max().alias("til"))
        .sort("fra", "code")
    )


def indicator_labels() -> pl.DataFrame:
    """Catalogue ids with their Norwegian labels, units, domains and tables (for tables in reports)."""
    return catalogue_frame().select("indicator", "label", "unit", "domain", "tables")
