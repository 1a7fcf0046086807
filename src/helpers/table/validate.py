"""Validate the tidy indicator table on every build; fail loudly with the offending rows.

Checks: column types; four-digit kommune codes; unique keys (kommunenr, structure, year, indicator);
value and status consistent (a missing value carries SSB's symbol, a present value none); flags a sorted
set, and `outlier` only on rows with a value; years in
range; indicator ids from the catalogue; codes valid for their year per KLASS 131 (as reported: valid
in the report year; harmonised: valid in the structure year).
"""

from __future__ import annotations

import dataframely as dy
import polars as pl

from helpers.errors import DataError
from helpers.sources.indicators import BY_ID
from helpers.sources.schema import AS_REPORTED, STATUS_LABELS
from helpers.table.flags import has_flag, sorted_flags
from helpers.table.reforms import FIRST_DATA_YEAR, Reforms

LAST_DATA_YEAR = 2030


class TidyIndicators(dy.Schema):
    """The tidy indicator table (see helpers.sources.schema)."""

    kommunenr = dy.String(primary_key=True, regex=r"^\d{4}$")
    kommune = dy.String(nullable=True)
    structure = dy.String(primary_key=True, regex=r"^(as_reported|\d{4})$")
    year = dy.Int32(primary_key=True, min=FIRST_DATA_YEAR, max=LAST_DATA_YEAR)
    indicator = dy.String(primary_key=True, check={"known_indicator": lambda col: col.is_in(sorted(BY_ID))})
    value = dy.Float64(nullable=True, allow_inf=False, allow_nan=False)
    unit = dy.String(nullable=True)
    status = dy.String(nullable=True, check={"ssb_symbol": lambda col: col.is_in(sorted(STATUS_LABELS))})
    flag = dy.String(nullable=True)
    source = dy.String(nullable=True)

    @dy.rule()
    def value_status_consistent(cls) -> pl.Expr:
        """A missing value has SSB's symbol; a present value has none."""
        return pl.col("value").is_null() == pl.col("status").is_not_null()

    @dy.rule()
    def flags_sorted_set(cls) -> pl.Expr:
        """Flags are a sorted, de-duplicated `;`-joined set."""
        return pl.col("flag").is_null() | (pl.col("flag") == sorted_flags(pl.col("flag")))

    @dy.rule()
    def outlier_has_value(cls) -> pl.Expr:
        """Only a value that is there can be an outlier."""
        return pl.col("value").is_not_null() | ~has_flag("outlier")


def _codes_invalid_for_year(frame: pl.DataFrame, reforms: Reforms) -> pl.DataFrame:
    pairs = frame.select("kommunenr", "structure", "year").unique()
    code_year = pl.when(pl.col("structure") == AS_REPORTED).then(pl.col("year")).otherwise(
        pl.col("structure").cast(pl.Int32, strict=False)
    ).clip(upper_bound=reforms.latest_year)
    pairs = pairs.with_columns(code_year.alias("code_year"))
    valid = pl.DataFrame(
        [(code, year) for year in pairs["code_year"].unique().to_list() for code in reforms.valid_codes(year)],
        schema={"kommunenr": pl.String, "code_year": pl.Int32},
        orient="row",
    )
    return pairs.join(valid, on=["kommunenr", "code_year"], how="anti")


def validate(frame: pl.DataFrame, reforms: Reforms) -> pl.DataFrame:
    """`frame` if it passes every check; DataError listing the failed rules and offending rows."""
    result = TidyIndicators.filter(frame, cast=False)
    problems = []
    failure = result.failure
    if len(failure):
        counts = failure.counts()
        problems.append(f"schema rules failed: {counts}\n{failure.invalid().head(20)}")
    invalid_codes = _codes_invalid_for_year(frame, reforms)
    if invalid_codes.height:
        problems.append(f"{invalid_codes.height} kommune codes not valid for their year per KLASS 131:\n"
                        f"{invalid_codes.head(20)}")
    if problems:
        raise DataError("The indicator table failed validation:\n" + "\n".join(problems))
    return frame
