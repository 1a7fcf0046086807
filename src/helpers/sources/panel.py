"""Readers for the compiled CSV files of the snapshot: the 2007–2025 panel and the 11643 hours file.

The panel has one row per historic kommune code (`kommunenr_hist`) and year; its indicator columns are
what that code reported. Its population columns are totals of the 2024 area (`kommunenr_2024`) on
1 January, repeated on every historic row of that area: they are read separately, once per area.
An empty cell means no figure; the compiler did not keep SSB's symbol, so such cells get status `..`
and the flag `symbol_not_kept`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from helpers import paths
from helpers.errors import DataError
from helpers.sources.indicators import BY_ID
from helpers.sources.schema import AS_REPORTED, conform

PANEL_FILE = paths.RAW / "ssb" / "paneldata_2007_2025_bred.csv"
HOURS_FILE = paths.RAW / "ssb" / "timer_11643_helsetjenester_i_heimen.csv"

PANEL_INDICATORS: dict[str, str] = {
    "Y_1_a_ialt": "home_service_users",
    "Y_1_a_0_66": "home_service_users_0_66",
    "Y_1_a_67_79": "home_service_users_67_79",
    "Y_1_a_80p": "home_service_users_80plus",
    "Y_2_ialt": "residents_24h_housing",
    "Y_4_ialt": "allotted_hours_per_week_home_nursing",
    "Y_3_a_ialt": "long_term_users",
    "Y_3_a_0_66": "long_term_users_0_66",
    "Y_3_a_67_79": "long_term_users_67_79",
    "Y_3_a_80p": "long_term_users_80plus",
    "Y_5_ialt": "nurse_ftes",
}
PANEL_SOURCES: dict[str, str] = {
    "Y_1": "SSB 04686/12292 via panel",
    "Y_2": "SSB 04686/12292 via panel",
    "Y_4": "SSB 04686/12292 via panel (mean of both where they overlap)",
    "Y_3": "SSB 11645 via panel",
    "Y_5": "SSB 11924/14534 via panel (mean of both where they overlap)",
}
POPULATION_COLUMNS: dict[str, str] = {
    "folk_80p": "population_80plus",
    "folk_67_79": "population_67_79",
    "folk_ialt": "population_total",
}
_CODE_COLUMNS = {"kommunenr_2024": pl.String, "kommunenr_hist": pl.String}


def read_csv_checked(path: Path, required: set[str], overrides: dict[str, pl.DataType],
                     numeric: tuple[str, ...] = ()) -> pl.DataFrame:
    """A raw CSV file, or DataError naming it and what is wrong: missing, unparsable, columns missing, or a
    cell of a `numeric` column that is not a number (with its line and value)."""
    try:
        frame = pl.read_csv(path, schema_overrides=overrides, infer_schema_length=None)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; restore data/raw from git.") from None
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(exc).splitlines()[0]}); the file is corrupt "
                        "or truncated — restore it from git.") from None
    missing = required - set(frame.columns)
    if missing:
        raise DataError(f"{path}: columns {sorted(missing)} are missing; is this the right file?")
    for column in numeric:
        if frame.schema[column] != pl.String:
            continue
        cell = pl.col(column).str.strip_chars()
        bad = frame.with_row_index("line", offset=2).filter(cell.is_not_null(), cell != "",
                                                            cell.cast(pl.Float64, strict=False).is_null())
        if bad.height:
            line, value = bad["line"][0], bad[column][0]
            raise DataError(f"{path}: line {line}, column {column!r}: {value!r} is not a number "
                            f"({bad.height} such cell(s)); correct the file and its sha256 in MANIFEST.csv, or "
                            "restore it from git.")
    return frame


def _is_kommune_code(column: str) -> pl.Expr:
    return pl.col(column).str.contains(r"^\d{4}$")


def read_panel(path: Path | None = None) -> pl.DataFrame:
    """The panel file as a typed wide frame (codes as zero-padded strings)."""
    path = Path(path) if path is not None else PANEL_FILE
    required = {"kommunenr_2024", "kommunenr_hist", "år", *PANEL_INDICATORS, *POPULATION_COLUMNS}
    frame = read_csv_checked(path, required, dict(_CODE_COLUMNS),
                             numeric=("år", *PANEL_INDICATORS, *POPULATION_COLUMNS))
    bad_codes = frame.filter(~_is_kommune_code("kommunenr_2024") | ~_is_kommune_code("kommunenr_hist"))
    if bad_codes.height:
        raise DataError(f"{path}: kommune codes must be four digits; offending rows:\n{bad_codes.head(5)}")
    return frame


def panel_as_reported(panel: pl.DataFrame) -> pl.DataFrame:
    """The panel's indicator columns as tidy rows on the borders of the code they were reported under."""
    long = panel.unpivot(
        index=["kommunenr_hist", "år"], on=list(PANEL_INDICATORS), variable_name="column", value_name="value"
    )
    return conform(
        long.with_columns(
            pl.col("kommunenr_hist").alias("kommunenr"),
            pl.lit(AS_REPORTED).alias("structure"),
            pl.col("år").alias("year"),
            pl.col("column").replace_strict(PANEL_INDICATORS).alias("indicator"),
            pl.col("value").cast(pl.Float64),
            pl.when(pl.col("value").is_null()).then(pl.lit("..")).alias("status"),
            pl.when(pl.col("value").is_null()).then(pl.lit("symbol_not_kept")).alias("flag"),
            pl.col("column").str.slice(0, 3).replace_strict(PANEL_SOURCES).alias("source"),
        ).with_columns(
            pl.col("indicator").replace_strict({k: v.unit for k, v in BY_ID.items()}).alias("unit"),
        )
    )


def population_by_area(panel: pl.DataFrame) -> pl.DataFrame:
    """Population of each 2024 area on 1 January, once per area and year.

    Columns: area (2024 code), year_jan1, population_80plus, population_67_79, population_total.
    Raises DataError when the repeated values of one area and year disagree.
    """
    pops = panel.select(
        pl.col("kommunenr_2024").alias("area"), pl.col("år").cast(pl.Int32).alias("year_jan1"),
        *[pl.col(c).cast(pl.Float64).alias(name) for c, name in POPULATION_COLUMNS.items()],
    )
    empty = pops.filter(pl.any_horizontal(pl.col(name).is_null() for name in POPULATION_COLUMNS.values()))
    if empty.height:
        raise DataError(f"{PANEL_FILE.name}: population cells are empty in {empty.height} rows (the file is "
                        f"truncated or edited — restore it from git):\n{empty.head(5)}")
    distinct = pops.unique()
    clash = distinct.group_by("area", "year_jan1").len().filter(pl.col("len") > 1)
    if clash.height:
        raise DataError(f"{PANEL_FILE.name}: population differs between rows of the same 2024 area and year:\n"
                        f"{clash.head(10)}")
    return distinct.sort("area", "year_jan1")


def read_hours(path: Path | None = None) -> pl.DataFrame:
    """The 11643 hours file: area (2024 code), year, hours, and the codes the compiler summed.

    Rows that are not kommuner (e.g. `21-22`, Svalbard and Jan Mayen) are left out.
    """
    path = Path(path) if path is not None else HOURS_FILE
    frame = read_csv_checked(path, {"kommunenr_2024", "år", "timer", "kilder"}, {"kommunenr_2024": pl.String},
                             numeric=("år", "timer"))
    return frame.filter(_is_kommune_code("kommunenr_2024")).select(
        pl.col("kommunenr_2024").alias("area"),
        pl.col("år").cast(pl.Int32).alias("year"),
        pl.col("timer").cast(pl.Float64).alias("value"),
        pl.col("kilder").str.split("+").alias("summed_codes"),
    )
