"""Data-quality summaries of the indicator table for the cleaning notebook (no plotting).

Coverage per indicator and year (and why values are missing), sums over kommuner against SSB's national
figure, kommune codes the panel has no row for, missing values by SSB symbol, flags, jumps in the panel's
population series, and the reform crosswalk behind one kommune.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from helpers.sources import jsonstat
from helpers.sources.indicators import catalogue_frame
from helpers.sources.panel import population_by_area, read_panel
from helpers.sources.schema import FLAG_LABELS, STATUS_LABELS
from helpers.table.flags import has_flag
from helpers.table.population import unreliable_area_years
from helpers.table.reforms import Reforms

POPULATION_JUMP = 0.10
NATIONAL_REGION = "EAK"  # "Landet" in SSB's KOSTRA region dimension


def coverage(table: pl.DataFrame, structure: str) -> pl.DataFrame:
    """Share of kommuner with a value, per indicator and year (columns: indicator, year, n, with_value, share)."""
    return (
        table.filter(pl.col("structure") == structure)
        .group_by("indicator", "year")
        .agg(pl.len().alias("n"), pl.col("value").is_not_null().sum().alias("with_value"))
        .with_columns((pl.col("with_value") / pl.col("n")).alias("share"))
        .sort("indicator", "year")
    )


def coverage_counts(table: pl.DataFrame, structure: str, indicators: list[str] | None = None) -> pl.DataFrame:
    """Per indicator and year: kommuner, with a value, missing (`..`/`...`), suppressed (`:`), split between
    successors (`split`), and not applicable for another reason (`.`: not on these borders, or the series did not
    exist that year). The five reasons add up to `kommuner`."""
    rows = table.filter(pl.col("structure") == structure)
    if indicators is not None:
        rows = rows.filter(pl.col("indicator").is_in(indicators))
    empty = pl.col("value").is_null()
    split = empty & has_flag("split")
    counts = (
        rows.group_by("indicator", "year")
        .agg(
            pl.len().alias("kommuner"),
            (~empty).sum().alias("with_value"),
            (empty & pl.col("status").is_in(["..", "..."])).sum().alias("missing"),
            (empty & (pl.col("status") == ":")).sum().alias("suppressed"),
            split.sum().alias("split"),
            (empty & ~split & (pl.col("status") == ".")).sum().alias("not_applicable"),
        )
    )
    order = {i: n for n, i in enumerate(indicators or sorted(counts["indicator"].unique().to_list()))}
    return counts.with_columns(pl.col("indicator").replace_strict(order, default=len(order)).alias("_o")) \
        .sort("_o", "year").drop("_o")


def national_share_check(table: pl.DataFrame, share_file: Path) -> pl.DataFrame:
    """SSB's national share of 80+ using home services (12209, region `EAK`) against the same share summed over
    kommuner as reported: Σ users 80+ / Σ inhabitants 80+ × 100 over kommuner with both figures.

    Columns: year, ssb (SSB's national figure), summed, difference, kommuner_used, kommuner_without (codes
    valid that year left out for lack of a figure).
    """
    long = jsonstat.read(share_file)
    region = next(c for c in long.columns if c.startswith("KOKkommuneregion") and not c.endswith("_label"))
    national = long.filter(pl.col(region) == NATIONAL_REGION).select(
        pl.col("Tid").cast(pl.Int32).alias("year"), pl.col("value").alias("ssb"))
    parts = (
        table.filter(pl.col("structure") == "as_reported",
                     pl.col("indicator").is_in(["home_service_users_80plus", "population_80plus"]),
                     pl.col("year").is_in(national["year"].to_list()))
        .pivot("indicator", index=["kommunenr", "year"], values="value")
    )
    both = pl.col("home_service_users_80plus").is_not_null() & pl.col("population_80plus").is_not_null()
    summed = parts.group_by("year").agg(
        (pl.col("home_service_users_80plus").filter(both).sum()
         / pl.col("population_80plus").filter(both).sum() * 100).alias("summed"),
        both.sum().alias("kommuner_used"),
        (~both).sum().alias("kommuner_without"),
    )
    return national.join(summed, on="year").with_columns(
        (pl.col("summed") - pl.col("ssb")).alias("difference")
    ).select("year", "ssb", "summed", "difference", "kommuner_used", "kommuner_without").sort("year")


def panel_gaps(reforms: Reforms, panel: pl.DataFrame | None = None) -> pl.DataFrame:
    """Kommune codes valid in a year that have no row at all in the panel file, per year: how many, which, and
    the share of today's (2024) inhabitants living in the 2024 kommuner their land belongs to.

    A sum over kommuner of any panel indicator leaves these codes out, so it falls short of SSB's national
    total for that year.
    """
    panel = read_panel() if panel is None else panel
    areas = population_by_area(panel)
    latest = areas.filter(pl.col("year_jan1") == areas["year_jan1"].max())
    population = dict(latest.select("area", "population_total").iter_rows())
    total = sum(population.values())
    rows = []
    for year in sorted(set(panel["år"].to_list())):
        present = set(panel.filter(pl.col("år") == year)["kommunenr_hist"].to_list())
        code_year = min(year, reforms.latest_year)
        absent = sorted(reforms.valid_codes(code_year) - present)
        if not absent:
            continue
        touched = {a for code in absent for a in reforms.successors(code, code_year, reforms.latest_year)}
        share = sum(population.get(a, 0.0) for a in touched) / total if total else None
        rows.append((year, len(absent), ", ".join(f"{c} {reforms.name(c)}" for c in absent), share))
    return pl.DataFrame(rows, schema={"year": pl.Int32, "codes": pl.Int64, "names": pl.String,
                                      "population_share_today": pl.Float64}, orient="row")


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
