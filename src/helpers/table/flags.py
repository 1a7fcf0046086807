"""Polars expressions for quality flags and SSB status symbols, and the last pass that makes them tidy.

Flags are a `;`-joined, sorted, de-duplicated set of names (vocabulary in `schema.FLAG_LABELS`): every
expression here returns them in that form. When several missing inputs carry different SSB symbols, the most
informative one is reported (`:` before `..` before `.`).

`tidy_flags_and_symbols` runs once on the built table:
- rows outside the years an indicator's series exists (`indicators.series_years`: users 67–79 only to 2016,
  nurse FTEs from 2015, long-term users from 2009) that have no value get SSB's `.` (not applicable) and the
  reason `discontinued` or `not_started` instead of `..` (missing) and whatever flags the missing inputs had;
- `outlier` is removed from rows without a value (an outlier is a value that is there but implausible; an
  empty sum or rate whose input was an outlier is empty for another reason, which its other flags give);
- every flag string is put in sorted set form.
"""

from __future__ import annotations

import polars as pl

from helpers.sources.indicators import BY_ID, series_years

STATUS_PRIORITY = {":": 0, "..": 1, "...": 2, ".": 3, "-": 4}
DISCONTINUED = "discontinued"
NOT_STARTED = "not_started"


def _as_set(names: pl.Expr) -> pl.Expr:
    """A list-of-names expression as a sorted, de-duplicated `;`-joined string (null when empty)."""
    clean = names.list.eval(pl.element().filter(pl.element().is_not_null() & (pl.element() != ""))).list.unique()
    return pl.when(clean.list.len() > 0).then(clean.list.sort().list.join(";"))


def sorted_flags(flag: pl.Expr) -> pl.Expr:
    """`flag` as a sorted, de-duplicated set (`b;a;b` → `a;b`; empty → null)."""
    return _as_set(flag.str.split(";"))


def union_flags(column: str = "flag") -> pl.Expr:
    """Aggregation: sorted union of the `;`-joined flags in a group, or null when there are none."""
    flags = (
        pl.col(column).drop_nulls().str.split(";")
        .list.explode(keep_nulls=False, empty_as_null=False).unique().sort()
    )
    return pl.when(flags.len() > 0).then(flags.str.join(";")).otherwise(None)


def add_flag(flag: pl.Expr, new: str, condition: pl.Expr) -> pl.Expr:
    """`flag` with `new` added (as a sorted set) where `condition` holds."""
    return pl.when(condition).then(sorted_flags(pl.concat_str(flag.fill_null(""), pl.lit(";" + new)))).otherwise(flag)


def remove_flag(flag: pl.Expr, name: str, condition: pl.Expr) -> pl.Expr:
    """`flag` without `name` where `condition` holds (null when nothing is left)."""
    kept = _as_set(flag.str.split(";").list.eval(pl.element().filter(pl.element() != name)))
    return pl.when(condition).then(kept).otherwise(flag)


def worst_status(column: str = "status") -> pl.Expr:
    """Aggregation: the most informative SSB symbol among a group's missing inputs."""
    ranked = pl.col(column).replace_strict(STATUS_PRIORITY, default=9, return_dtype=pl.Int32)
    return pl.col(column).sort_by(ranked).drop_nulls().first()


def has_flag(name: str, column: str = "flag") -> pl.Expr:
    """True where the `;`-joined flag column contains `name`."""
    return pl.col(column).fill_null("").str.split(";").list.contains(name)


def _scope_frame() -> pl.DataFrame:
    rows = [(i, *series_years(i)) for i in BY_ID]
    return pl.DataFrame(rows, schema={"indicator": pl.String, "_first": pl.Int32, "_last": pl.Int32}, orient="row")


def tidy_flags_and_symbols(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (tidy rows) with out-of-series years marked `.`, no `outlier` on empty rows, and every flag a
    sorted set (see module docstring)."""
    scoped = frame.join(_scope_frame(), on="indicator", how="left").with_columns(
        pl.col("value").is_null().alias("_empty"))
    # the flag strings are few: tidy each distinct (flag, empty) once and join the result back
    distinct = scoped.select("flag", "_empty").unique().filter(pl.col("flag").is_not_null())
    tidy = distinct.with_columns(
        sorted_flags(remove_flag(pl.col("flag"), "outlier", pl.col("_empty"))).alias("_tidy"))
    scoped = scoped.join(tidy, on=["flag", "_empty"], how="left", nulls_equal=False)
    before = pl.col("_empty") & pl.col("_first").is_not_null() & (pl.col("year") < pl.col("_first"))
    after = pl.col("_empty") & pl.col("_last").is_not_null() & (pl.col("year") > pl.col("_last"))
    return scoped.with_columns(
        pl.when(before | after).then(pl.lit(".")).otherwise(pl.col("status")).alias("status"),
        pl.when(before).then(pl.lit(NOT_STARTED))
        .when(after).then(pl.lit(DISCONTINUED))
        .otherwise(pl.col("_tidy"))
        .alias("flag"),
    ).drop("_first", "_last", "_empty", "_tidy")
