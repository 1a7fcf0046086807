"""Polars expressions for combining quality flags and SSB status symbols across inputs.

Flags are `;`-joined strings (vocabulary in `schema.FLAG_LABELS`); when several missing inputs carry
different SSB symbols, the most informative one is reported (`:` before `..` before `.`).
"""

from __future__ import annotations

import polars as pl

STATUS_PRIORITY = {":": 0, "..": 1, "...": 2, ".": 3, "-": 4}


def union_flags(column: str = "flag") -> pl.Expr:
    """Aggregation: sorted union of the `;`-joined flags in a group, or null when there are none."""
    flags = (
        pl.col(column).drop_nulls().str.split(";")
        .list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
    )
    return pl.when(flags.len() > 0).then(flags.str.join(";")).otherwise(None)


def add_flag(flag: pl.Expr, new: str, condition: pl.Expr) -> pl.Expr:
    """`flag` with `new` appended where `condition` holds."""
    return (
        pl.when(condition & flag.is_null()).then(pl.lit(new))
        .when(condition).then(pl.concat_str(flag, pl.lit(";" + new)))
        .otherwise(flag)
    )


def worst_status(column: str = "status") -> pl.Expr:
    """Aggregation: the most informative SSB symbol among a group's missing inputs."""
    ranked = pl.col(column).replace_strict(STATUS_PRIORITY, default=9, return_dtype=pl.Int32)
    return pl.col(column).sort_by(ranked).drop_nulls().first()


def has_flag(name: str, column: str = "flag") -> pl.Expr:
    """True where the `;`-joined flag column contains `name`."""
    return pl.col(column).fill_null("").str.split(";").list.contains(name)
