"""The two-sided outlier rule on constructed series, hypothesis properties, and the real Eigersund 2010 error."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.sources.schema import conform
from helpers.table.outliers import flag_outliers, outlier_mask


def series(values: list[float | None], indicator: str = "home_service_users") -> pl.DataFrame:
    return conform(pl.DataFrame({
        "kommunenr": ["0001"] * len(values), "structure": ["as_reported"] * len(values),
        "year": list(range(2007, 2007 + len(values))), "indicator": [indicator] * len(values),
        "value": values,
    }, schema_overrides={"value": pl.Float64, "year": pl.Int32}))


def test_single_year_dip_is_flagged():
    mask = outlier_mask(series([700, 701, 606, 64, 707, 673, 682]))
    assert mask.to_list() == [False, False, False, True, False, False, False]


def test_steady_series_with_a_one_year_65_percent_dip():
    mask = outlier_mask(series([100, 102, 98, 101, 35, 99, 103, 100]))
    assert mask.to_list() == [False, False, False, False, True, False, False, False]


def test_noisy_small_series_alone_is_not_flagged_but_its_collapse_is():
    noisy = [22, 30, 18, 27, 24, 16, 29, 21]  # year-to-year moves of 25-50 %
    assert not outlier_mask(series(noisy)).any()
    collapsed = [22, 30, 18, 27, 8, 16, 29, 21]  # one year at a third of the level around it
    assert outlier_mask(series(collapsed)).to_list()[4]
    assert outlier_mask(series(collapsed)).sum() == 1


def test_persistent_level_shift_is_not_flagged_in_its_first_year():
    assert not outlier_mask(series([100, 102, 101, 300, 305, 302, 301])).any()
    # a shift late in the series, confirmed by one more year (the old rule flagged 300 here)
    assert not outlier_mask(series([100, 101, 99, 100, 102, 300, 310])).any()
    assert not outlier_mask(series([700, 690, 710, 240, 230, 235])).any()


def test_small_counts_are_not_flagged():
    # counts under 5 are not published by SSB; 0 or 3 in a small series means "under 5"
    assert not outlier_mask(series([3, 4, 12, 3, 4, 3])).any()
    assert not outlier_mask(series([6, 6, 0, 7, 7, 8])).any()
    assert outlier_mask(series([60, 66, 0, 70, 71, 68])).to_list()[2]


def test_first_and_last_years_need_a_threefold_departure():
    assert outlier_mask(series([7, 74, 89, 82, 89, 90])).to_list()[0]  # 0938 Bygland 2007
    assert not outlier_mask(series([40, 74, 89, 82, 89, 90])).any()  # could be the old level
    assert not outlier_mask(series([89, 82, 89, 90, 170])).any()  # last year: unconfirmed, under ×3
    assert not outlier_mask(series([0, 0, 0, 0, 104])).any()  # a service that starts (small side)


def test_levels_use_the_same_rule():
    hours = [2.1, 1.7, 1.6, 6.2, 2.1, 1.8]  # 4619 Eidfjord, average hours per week, 2023
    mask = outlier_mask(series(hours, "allotted_hours_per_week_home_nursing"))
    assert mask.to_list() == [False, False, False, True, False, False]


def test_flag_is_added_to_existing_flags():
    frame = series([700, 701, 606, 64, 707, 673]).with_columns(pl.lit("x").alias("flag"))
    flagged = flag_outliers(frame)
    assert flagged["flag"].to_list()[3] == "outlier;x"  # a sorted set


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=50, max_value=5000), min_size=5, max_size=15), st.floats(1.0, 1.3))
def test_smooth_growth_is_never_flagged(start, growth):
    values = [start[0] * growth**k for k in range(len(start))]
    assert not outlier_mask(series(values)).any()


levels = st.floats(min_value=1, max_value=10_000)


@settings(max_examples=60, deadline=None)
@given(levels, levels, st.integers(2, 8), st.integers(2, 8))
def test_a_persistent_shift_of_any_size_is_never_flagged(before, after, n_before, n_after):
    assert not outlier_mask(series([before] * n_before + [after] * n_after)).any()


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=20, max_value=10_000), st.floats(min_value=0.0, max_value=0.35), st.integers(2, 6),
       st.integers(2, 6), st.lists(st.floats(-0.08, 0.08), min_size=12, max_size=12))
def test_an_isolated_collapse_to_a_third_in_a_steady_series_is_always_flagged(level, share, left, right, noise):
    values = [level * (1 + e) for e in noise[: left + right]]
    values.insert(left, level * share)
    mask = outlier_mask(series(values)).to_list()
    assert mask[left] and sum(mask) == 1


def test_real_eigersund_2010_is_flagged(built_table):
    eigersund = built_table.filter(pl.col("kommunenr") == "1101", pl.col("year") == 2010)
    flags = dict(eigersund.filter(pl.col("structure") == "2024").select("indicator", "flag").iter_rows())
    assert "outlier" in flags["home_service_users"]
    assert "outlier" in flags["home_nursing_hours_per_year"]
    reported = dict(eigersund.filter(pl.col("structure") == "as_reported").select("indicator", "flag").iter_rows())
    assert "outlier" in reported["home_service_users"] and "outlier" in reported["long_term_users"]
    neighbours = built_table.filter(pl.col("kommunenr") == "1101", pl.col("year").is_in([2009, 2011]),
                                    pl.col("indicator") == "home_service_users")
    assert neighbours["flag"].null_count() == neighbours.height
