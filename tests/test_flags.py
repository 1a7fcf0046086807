"""Flags are sorted sets, empty rows carry no `outlier`, and series that did not exist yet (or any more) are
marked not applicable (`.`) with the reason."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.errors import DataError
from helpers.sources.indicators import series_years
from helpers.sources.schema import FLAG_LABELS, conform
from helpers.table.flags import add_flag, remove_flag, sorted_flags, tidy_flags_and_symbols
from helpers.table.validate import validate

names = st.sampled_from(sorted(FLAG_LABELS))


@settings(max_examples=100, deadline=None)
@given(st.lists(names, max_size=6), names)
def test_flags_are_always_a_sorted_set(parts, new):
    frame = pl.DataFrame({"flag": [";".join(parts) or None]}, schema={"flag": pl.String})
    added = frame.select(add_flag(pl.col("flag"), new, pl.lit(True)))["flag"][0]
    assert added == ";".join(sorted({*parts, new}))
    tidy = frame.select(sorted_flags(pl.col("flag")))["flag"][0]
    assert tidy == (";".join(sorted(set(parts))) or None)
    removed = frame.select(remove_flag(pl.col("flag"), new, pl.lit(True)))["flag"][0]
    assert removed == (";".join(sorted(set(parts) - {new})) or None)


def _rows(indicator: str, year: int, value: float | None, flag: str | None) -> pl.DataFrame:
    return conform(pl.DataFrame({
        "kommunenr": ["0301"], "structure": ["as_reported"], "year": [year], "indicator": [indicator],
        "value": [value], "status": [None if value is not None else ".."], "flag": [flag],
    }, schema_overrides={"year": pl.Int32, "value": pl.Float64}))


def test_tidy_marks_series_scope_and_drops_outlier_from_empty_rows():
    frame = pl.concat([
        _rows("home_service_users_67_79", 2017, None, "symbol_not_kept"),
        _rows("home_service_users_67_79", 2016, None, "symbol_not_kept"),
        _rows("nurse_ftes_per_100_users", 2014, None, "split"),
        _rows("care_24h_total", 2012, None, "partial_merge;outlier"),
        _rows("care_24h_total", 2013, 40.0, "partial_merge;outlier;outlier"),
    ])
    tidy = tidy_flags_and_symbols(frame)
    assert tidy["status"].to_list() == [".", "..", ".", "..", None]
    assert tidy["flag"].to_list() == ["discontinued", "symbol_not_kept", "not_started", "partial_merge",
                                      "outlier;partial_merge"]


def test_series_years_follow_the_inputs():
    assert series_years("home_service_users_67_79") == (None, 2016)
    assert series_years("nurse_ftes_per_1000_80plus") == (2015, None)
    assert series_years("care_24h_per_100_80plus") == (2009, None)
    assert series_years("home_service_users") == (None, None)


def test_built_table_symbols_and_flags(built_table):
    flags = built_table["flag"].drop_nulls()
    assert (flags == flags.str.split(";").list.unique().list.sort().list.join(";")).all()
    outlier_empty = built_table.filter(pl.col("value").is_null(),
                                       pl.col("flag").fill_null("").str.contains("outlier"))
    assert outlier_empty.height == 0
    for structure in ("as_reported", "2024"):
        gone = built_table.filter(pl.col("structure") == structure, pl.col("year") > 2016,
                                  pl.col("indicator") == "home_service_users_67_79")
        assert gone.height > 3000 and set(gone["status"]) == {"."} and set(gone["flag"]) == {"discontinued"}
        early = built_table.filter(pl.col("structure") == structure, pl.col("year") < 2015,
                                   pl.col("indicator").str.starts_with("nurse_ftes"))
        assert set(early["status"]) == {"."} and set(early["flag"]) == {"not_started"}
    # inside the series a missing figure stays missing (..), and values are untouched
    asker = built_table.filter(pl.col("kommunenr") == "3203", pl.col("structure") == "2024",
                               pl.col("indicator") == "nurse_ftes", pl.col("year") == 2015)
    assert asker["value"][0] is not None and asker["status"][0] is None


def test_validation_rejects_unsorted_flags_and_outlier_on_empty_rows(built_table, reforms):
    sample = built_table.filter(pl.col("kommunenr") == "0301", pl.col("structure") == "2024")
    assert validate(sample, reforms) is sample
    unsorted = sample.with_columns(pl.when(pl.col("year") == 2012).then(pl.lit("split;outlier"))
                                   .otherwise(pl.col("flag")).alias("flag"))
    with pytest.raises(DataError, match="flags_sorted_set"):
        validate(unsorted, reforms)
    empty_outlier = sample.with_columns(
        pl.when(pl.col("value").is_null()).then(pl.lit("outlier")).otherwise(pl.col("flag")).alias("flag"))
    with pytest.raises(DataError, match="outlier_has_value"):
        validate(empty_outlier, reforms)
