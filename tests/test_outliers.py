"""The robust year-to-year outlier rule on synthetic series and on the real Eigersund 2010 error."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.outliers import flag_outliers, outlier_mask
from helpers.schema import conform


def series(values: list[float | None], indicator: str = "home_service_users") -> pl.DataFrame:
    return conform(pl.DataFrame({
        "kommunenr": ["0001"] * len(values), "structure": ["as_reported"] * len(values),
        "year": list(range(2007, 2007 + len(values))), "indicator": [indicator] * len(values),
        "value": values,
    }, schema_overrides={"value": pl.Float64, "year": pl.Int32}))


def test_single_year_dip_is_flagged():
    mask = outlier_mask(series([700, 701, 606, 64, 707, 673, 682]))
    assert mask.to_list() == [False, False, False, True, False, False, False]


def test_persistent_level_shift_is_not_flagged():
    assert not outlier_mask(series([100, 102, 101, 300, 305, 302, 301])).any()


def test_small_counts_are_not_flagged():
    assert not outlier_mask(series([3, 4, 12, 3, 4, 3])).any()


def test_flag_is_added_to_existing_flags():
    frame = series([700, 701, 606, 64, 707, 673]).with_columns(pl.lit("x").alias("flag"))
    flagged = flag_outliers(frame)
    assert flagged["flag"].to_list()[3] == "outlier;x"  # a sorted set


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=50, max_value=5000), min_size=5, max_size=15), st.floats(1.0, 1.3))
def test_smooth_growth_is_never_flagged(start, growth):
    values = [start[0] * growth**k for k in range(len(start))]
    assert not outlier_mask(series(values)).any()


def test_real_eigersund_2010_is_flagged(built_table):
    eigersund = built_table.filter(pl.col("kommunenr") == "1101", pl.col("year") == 2010)
    flags = dict(eigersund.filter(pl.col("structure") == "2024").select("indicator", "flag").iter_rows())
    assert "outlier" in flags["home_service_users"]
    assert "outlier" in flags["home_nursing_hours_per_year"]
    neighbours = built_table.filter(pl.col("kommunenr") == "1101", pl.col("year").is_in([2009, 2011]),
                                    pl.col("indicator") == "home_service_users")
    assert neighbours["flag"].null_count() == neighbours.height
