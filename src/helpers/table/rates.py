"""Derived indicators: sums of counts and rates, computed from numerators and denominators on the same
borders (never by averaging rates). Flags of every input are carried to the result; a denominator
under `SMALL_DENOMINATOR` adds `small_denominator` so that rankings can leave the rate out.
"""

from __future__ import annotations

import polars as pl

from helpers.sources import indicators as catalogue
from helpers.sources.indicators import Indicator
from helpers.sources.schema import conform
from helpers.table.flags import add_flag, union_flags, worst_status

SMALL_DENOMINATOR = 50.0


def derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows for every catalogue indicator defined from others (counts first, then rates).

    `frame` holds tidy rows of one structure; the returned rows have the same structure.
    """
    columns = ["kommunenr", "kommune", "structure", "year", "indicator", "value", "status", "flag"]
    by_indicator = {key[0]: part for key, part in frame.select(columns).partition_by("indicator", as_dict=True).items()}
    out = []
    for kind in ("count", "rate"):
        for indicator in catalogue.CATALOGUE:  # read at call time: a new entry is derived with no other change
            if indicator.kind != kind or not indicator.numerator:
                continue
            inputs = list(indicator.numerator) + ([indicator.denominator] if indicator.denominator else [])
            present = [by_indicator[name] for name in inputs if name in by_indicator]
            if not present:
                continue
            wide = _combine(pl.concat(present, how="vertical_relaxed"), indicator, inputs)
            out.append(wide)
            by_indicator[indicator.id] = wide.select(columns)
    if not out:
        return conform(frame.clear())
    return conform(pl.concat(out, how="vertical_relaxed"))


def _combine(parts: pl.DataFrame, indicator: Indicator, inputs: list[str]) -> pl.DataFrame:
    keys = ["kommunenr", "structure", "year"]
    grouped = parts.group_by(keys).agg(
        pl.col("kommune").drop_nulls().first(),
        *[pl.col("value").filter(pl.col("indicator") == name).first().alias(f"v{i}") for i, name in enumerate(inputs)],
        pl.col("indicator").n_unique().alias("n_inputs"),
        worst_status().alias("worst_status"),
        union_flags().alias("flags"),
    )
    numerators = [pl.col(f"v{i}") for i in range(len(indicator.numerator))]
    numerator = pl.sum_horizontal(numerators) if len(numerators) > 1 else numerators[0]
    complete = pl.all_horizontal([pl.col(f"v{i}").is_not_null() for i in range(len(inputs))]) & (
        pl.col("n_inputs") == len(inputs)
    )
    flags = pl.col("flags")
    if indicator.denominator:
        denominator = pl.col(f"v{len(inputs) - 1}")
        value = pl.when(complete & (denominator > 0)).then(numerator / denominator * indicator.scale)
        small = complete & (denominator < SMALL_DENOMINATOR)
        flags = add_flag(flags, "small_denominator", small)
        status = (
            pl.when(value.is_not_null()).then(None)
            .when(complete).then(pl.lit("."))
            .otherwise(pl.col("worst_status").fill_null(".."))
        )
    else:
        value = pl.when(complete).then(numerator)
        status = pl.when(complete).then(None).otherwise(pl.col("worst_status").fill_null(".."))
    source = "beregnet: " + " + ".join(indicator.numerator)
    if indicator.denominator:
        source += f" / {indicator.denominator}"
    return grouped.with_columns(
        pl.lit(indicator.id).alias("indicator"),
        value.cast(pl.Float64).alias("value"),
        status.alias("status"),
        flags.alias("flag"),
        pl.lit(indicator.unit).alias("unit"),
        pl.lit(source).alias("source"),
    ).select("kommunenr", "kommune", "structure", "year", "indicator", "value", "unit", "status", "flag", "source")
