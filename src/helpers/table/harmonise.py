"""Harmonise tidy rows to the kommune structure of one year.

- counts are summed over the predecessors of each target code;
- rates are recomputed from harmonised numerators and denominators (see `rates.py`), never averaged;
- levels (averages published without numerator) are kept only where borders did not change;
- a code split between several targets makes the targets' value missing (status `.`, flag `split`);
- a target with a predecessor that has no figure gets no sum (status of the missing figure, flag
  `partial_merge`), because the sum would be too small.
Every output row carries the structure year in `structure`.
"""

from __future__ import annotations

import polars as pl

from helpers.sources.schema import conform
from helpers.table.flags import add_flag, union_flags, worst_status
from helpers.table.reforms import Reforms


def mapping_for_years(reforms: Reforms, years: list[int], structure_year: int) -> pl.DataFrame:
    """Crosswalk of codes valid in each year (as reported) to `structure_year`."""
    return reforms.crosswalk(sorted(set(years)), structure_year).select("code", "year", "target", "n_targets")


def mapping_from_structure(reforms: Reforms, years: list[int], code_year: int, structure_year: int) -> pl.DataFrame:
    """Crosswalk for a source already on one structure (e.g. 2024 areas), repeated for every year.

    A target is also marked split for a year when a code valid *in that year* spread over several of
    the source's areas: the source's own figure for that area and year mixes land of other areas.
    """
    reforms.check_structure_year(structure_year)
    rows = []
    for year in sorted(set(years)):
        split_areas = {
            area
            for code in reforms.valid_codes(year)
            if len(areas := reforms.successors(code, year, code_year)) > 1
            for area in areas
        }
        for code in sorted(reforms.valid_codes(code_year)):
            targets = reforms.successors(code, code_year, structure_year)
            n_targets = len(targets) if code not in split_areas else max(2, len(targets))
            rows.extend((code, year, target, n_targets) for target in sorted(targets))
    return pl.DataFrame(
        rows, schema={"code": pl.String, "year": pl.Int32, "target": pl.String, "n_targets": pl.Int32},
        orient="row",
    )


def _join_contributions(rows: pl.DataFrame, mapping: pl.DataFrame) -> pl.DataFrame:
    """Every expected (code, year, indicator) with its figure, or nulls where the source has no row.

    Only years in which the source has the indicator at all are expected.
    """
    indicator_years = rows.select("indicator", "year", "unit", "source").unique(subset=["indicator", "year"])
    expected = mapping.join(indicator_years, on="year")
    return expected.join(
        rows.select(pl.col("kommunenr").alias("code"), "year", "indicator", "value", "status", "flag"),
        on=["code", "year", "indicator"],
        how="left",
    )


def _by_target(rows: pl.DataFrame, mapping: pl.DataFrame, *aggregations: pl.Expr) -> pl.DataFrame:
    """Contributions grouped per target, year and indicator: unit, source, `split`, `n_sources` and more."""
    return _join_contributions(rows, mapping).group_by("target", "year", "indicator").agg(
        pl.col("unit").first(),
        pl.col("source").first(),
        (pl.col("n_targets") > 1).any().alias("split"),
        pl.len().alias("n_sources"),
        *aggregations,
    )


def harmonise_counts(rows: pl.DataFrame, mapping: pl.DataFrame, structure_year: int) -> pl.DataFrame:
    """Sum count indicators over predecessors onto `structure_year` (see module docstring)."""
    grouped = _by_target(
        rows, mapping,
        pl.col("value").is_null().any().alias("incomplete"),
        pl.col("value").sum().alias("total"),
        worst_status().alias("worst_status"),
        union_flags().alias("child_flags"),
    )
    value_ok = ~pl.col("split") & ~pl.col("incomplete")
    flag = pl.when(pl.col("split")).then(pl.lit("split")).otherwise(pl.col("child_flags"))
    flag = add_flag(flag, "partial_merge", ~pl.col("split") & pl.col("incomplete") & (pl.col("n_sources") > 1))
    return conform(
        grouped.with_columns(
            pl.col("target").alias("kommunenr"),
            pl.lit(str(structure_year)).alias("structure"),
            pl.when(value_ok).then(pl.col("total")).alias("value"),
            pl.when(pl.col("split")).then(pl.lit("."))
            .when(pl.col("incomplete")).then(pl.col("worst_status").fill_null(".."))
            .alias("status"),
            flag.alias("flag"),
        )
    )


def harmonise_levels(rows: pl.DataFrame, mapping: pl.DataFrame, structure_year: int) -> pl.DataFrame:
    """Keep level indicators where the target has exactly one whole predecessor; else missing."""
    grouped = _by_target(
        rows, mapping,
        pl.col("value").first().alias("single_value"),
        pl.col("status").first().alias("single_status"),
        pl.col("flag").first().alias("single_flag"),
    )
    whole = ~pl.col("split") & (pl.col("n_sources") == 1)
    return conform(
        grouped.with_columns(
            pl.col("target").alias("kommunenr"),
            pl.lit(str(structure_year)).alias("structure"),
            pl.when(whole).then(pl.col("single_value")).alias("value"),
            pl.when(whole & pl.col("single_value").is_null()).then(pl.col("single_status").fill_null(".."))
            .when(~whole).then(pl.lit(".")).alias("status"),
            pl.when(whole).then(pl.col("single_flag"))
            .when(pl.col("split")).then(pl.lit("split"))
            .otherwise(pl.lit("not_harmonisable")).alias("flag"),
        )
    )
