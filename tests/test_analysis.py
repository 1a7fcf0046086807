"""helpers.analysis on small panels whose answers are worked out by hand in the comments."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panels import AFTER, BEFORE, COUNT, RATE, make_panel, only, steps

from helpers import analysis
from helpers.analysis._inference import leave_one_out_medians
from helpers.errors import InputError


def group_of(codes: list[str], kommune: str = "0001") -> analysis.ComparisonGroup:
    return analysis.ComparisonGroup(kommune=kommune, name=f"K{kommune}", codes=tuple(codes), how="list")


def compare(panel: pl.DataFrame, codes: list[str], ids: list[str] | str = RATE, **kw) -> analysis.Comparison:
    return analysis.compare(panel, "0001", group_of(codes), ids, BEFORE, AFTER, pre_start=BEFORE[0], **kw)


# --- window levels ------------------------------------------------------------------------------------------


def test_before_after_levels_suppressed_and_flagged() -> None:
    # before: 2016=6, 2017=8, 2018 suppressed (":" with a stray 0 that must not count), 2019 missing
    #   → mean(6, 8) = 7; after: 2021=5, 2022=6, 2023=99 flagged (excluded), 2024=7 → mean(5, 6, 7) = 6
    panel = make_panel({"0001": {2016: 6.0, 2017: 8.0, 2018: 0.0, 2021: 5.0, 2022: 6.0, 2023: 99.0, 2024: 7.0}},
                       status={("0001", 2018): ":"}, flag={("0001", 2023): "outlier;split"})
    row = only(analysis.before_after(panel, "0001", [RATE], BEFORE, AFTER), indicator=RATE)
    assert (row["before"], row["after"], row["change"]) == (7.0, 6.0, -1.0)
    assert row["pct_change"] == pytest.approx(-100 / 7)
    assert row["scale"] == "abs" and row["stat"] == -1.0  # a rate is compared in its own unit
    assert (row["n_before"], row["n_after"], row["n_suppressed"], row["n_excluded"]) == (2, 3, 1, 1)
    assert row["missing_before"] == [2018, 2019] and row["missing_after"] == [2023]
    kept = only(analysis.before_after(panel, "0001", RATE, BEFORE, AFTER, exclude_flagged=False), indicator=RATE)
    assert kept["after"] == pytest.approx((5 + 6 + 99 + 7) / 4) and kept["n_excluded"] == 0


def test_counts_are_compared_in_per_cent() -> None:
    panel = make_panel(steps({"0001": (200, 250)}), COUNT)
    row = only(analysis.before_after(panel, "0001", COUNT, BEFORE, AFTER), indicator=COUNT)
    assert row["scale"] == "pct" and row["stat"] == pytest.approx(25.0) and row["change"] == 50


def test_a_count_at_zero_before_has_no_per_cent_change_and_the_reason_says_so() -> None:
    """Not 'no data': the kommune has figures (0, then 3), but a per cent change from 0 is undefined."""
    panel = make_panel(steps({"0001": (0, 3)} | {f"{100 + i:04d}": (100 + i, 110 + 2 * i) for i in range(5)}),
                       COUNT)
    estimates = compare(panel, [f"{100 + i:04d}" for i in range(5)], COUNT).did.estimates
    row = only(estimates, indicator=COUNT)
    assert row["kommune_stat"] is None and row["p_value"] is None and row["reason"] == "zero_base"


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: pl.concat([p, p.with_columns(structure=pl.lit("as_reported"))]), "kommunestrukturer"),
    (lambda p: pl.concat([p, p.head(1)]), "dupliserte"),
    (lambda p: p.drop("flag"), "mangler kolonner"),
])
def test_bad_panels_are_refused(change, message: str) -> None:
    with pytest.raises(InputError, match=message):
        analysis.before_after(change(make_panel(steps({"0001": (1.0, 2.0)}))), "0001", RATE, BEFORE, AFTER)


def test_bad_arguments_are_refused() -> None:
    panel = make_panel(steps({"0001": (1.0, 2.0)}))
    with pytest.raises(InputError, match="Ugyldige perioder"):
        analysis.before_after(panel, "0001", RATE, (2016, 2021), AFTER)
    with pytest.raises(InputError, match=r"finnes ikke.*Mente du kommunenummer 0001"):
        analysis.before_after(panel, "K0001", RATE, BEFORE, AFTER)
    with pytest.raises(InputError, match="unknown indicator"):
        analysis.before_after(panel, "0001", ["nope"], BEFORE, AFTER)


@pytest.mark.parametrize("value", [220, "220", "abcd", None, "０２２０"])
def test_kommune_parameter_must_be_four_ascii_digits(value) -> None:
    with pytest.raises(InputError, match="firesifret"):
        analysis.check_kommune(value)


# --- placebo inference ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-30, 30), min_size=2, max_size=12))
def test_leave_one_out_median_is_the_median_of_the_others(values: list[int]) -> None:
    import numpy as np

    array = np.array(values, dtype=float)
    expected = [float(np.median(np.delete(array, i))) for i in range(len(values))]
    assert leave_one_out_medians(array).tolist() == pytest.approx(expected)


def test_known_did_rank_and_p_value() -> None:
    # rates, so the comparable change is the change itself. Kommune 10 → 15 (+5); group +1, +2, +3 (median 2).
    # Difference 5 − 2 = 3. Placebos against the median of all other units: 1 − median(5, 2, 3) = −2,
    # 2 − median(5, 1, 3) = −1, 3 − median(5, 1, 2) = 1. |3| is the largest: rank 1 of 4, p = 1/4.
    panel = make_panel(steps({"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23)}))
    result = compare(panel, ["0100", "0110", "0120"])
    row = only(result.did.estimates, indicator=RATE)
    assert row["difference"] == pytest.approx(3) and row["group_median_stat"] == pytest.approx(2)
    assert (row["rank"], row["n_units"], row["n_group"], row["p_value"]) == (1, 4, 3, 0.25)
    assert row["at_floor"] and row["p_floor"] == 0.25
    deviations = dict(zip(result.did.placebo["kommunenr"], result.did.placebo["deviation"], strict=True))
    assert deviations == pytest.approx({"0001": 3, "0100": -2, "0110": -1, "0120": 1})
    summary = only(result.group_summary, indicator=RATE)
    assert (summary["median_stat"], summary["q1_stat"], summary["q3_stat"]) == (2, 1.5, 2.5)


def test_ties_count_against_the_kommune() -> None:
    # kommune +4, group 0, 0, +4, −4 → the median of the others is 0: difference 4. Placebos:
    # 0 − median(4, 0, 4, −4) = −2 (twice), 4 − median(4, 0, 0, −4) = 4 (a tie), −4 − median(4, 0, 0, 4) = −6.
    # |deviations| 4, 2, 2, 4, 6 → at least 4: the kommune, the tie and 6 → rank 3 of 5, p = 0.6.
    levels = {"0001": (0, 4), "0100": (5, 5), "0110": (5, 5), "0120": (5, 9), "0130": (9, 5)}
    row = only(compare(make_panel(steps(levels)), list(levels)[1:]).did.estimates, indicator=RATE)
    assert (row["difference"], row["rank"], row["n_units"]) == (4, 3, 5)
    assert row["p_value"] == pytest.approx(0.6)


def test_missing_kommune_window_and_tiny_group() -> None:
    series = steps({"0001": (10, 15), "0100": (20, 21), "0110": (20, 22)})
    series["0001"] = {year: value for year, value in series["0001"].items() if year < 2020}
    row = only(compare(make_panel(series), ["0100", "0110"]).did.estimates, indicator=RATE)
    assert row["difference"] is None and row["p_value"] is None and row["reason"] == "no_kommune_data"
    tiny = only(compare(make_panel(steps({"0001": (10, 15), "0100": (20, 21)})), ["0100"]).did.estimates,
                indicator=RATE)
    assert tiny["difference"] == 4 and tiny["p_value"] is None and tiny["reason"] == "too_few_units"


def test_small_denominators_stay_out_of_the_group() -> None:
    # 0140 has a small denominator: out of the statistics and the ranking (its −100 would dominate).
    levels = {"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23), "0140": (150, 50)}
    panel = make_panel(steps(levels), flag={("0140", 2017): "small_denominator"})
    result = compare(panel, list(levels)[1:], exclude_flagged=False)
    summary = only(result.group_summary, indicator=RATE)
    assert (summary["n_group"], summary["n_used"], summary["n_small_denominator"]) == (4, 3, 1)
    assert only(result.did.estimates, indicator=RATE)["difference"] == pytest.approx(3)
    assert "0140" not in result.did.placebo["kommunenr"].to_list()


changes = st.lists(st.integers(min_value=-50, max_value=50), min_size=2, max_size=8)


@settings(max_examples=25, deadline=None)
@given(group=changes, own=st.integers(-50, 50), shift=st.integers(-1000, 1000))
def test_did_properties(group: list[int], own: int, shift: int) -> None:
    import statistics

    levels = {"0001": (100.0, 100.0 + own)} | {f"{i + 100:04d}": (50.0, 50.0 + c) for i, c in enumerate(group)}
    row = only(compare(make_panel(steps(levels)), list(levels)[1:]).did.estimates, indicator=RATE)
    assert row["difference"] == pytest.approx(own - statistics.median(group))
    assert 1 / row["n_units"] <= row["p_value"] <= 1
    assert row["p_value"] == pytest.approx(row["rank"] / row["n_units"])
    # adding a constant to every level changes neither the difference nor p (rates compare absolute changes)
    shifted = {code: (b + shift, a + shift) for code, (b, a) in levels.items()}
    again = only(compare(make_panel(steps(shifted)), list(levels)[1:]).did.estimates, indicator=RATE)
    assert again["difference"] == pytest.approx(row["difference"], abs=1e-9)
    assert again["p_value"] == row["p_value"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=3, max_size=40), st.sampled_from([0.05, 0.1, 0.2]))
def test_placebo_p_holds_its_size_in_any_pool(values: list[float], alpha: float) -> None:
    # every unit of a pool in turn as the "treated": at most α of them may reach p ≤ α
    units = pl.DataFrame({"indicator": "x", "kommunenr": [f"{i:04d}" for i in range(len(values))],
                          "kommune": "k", "is_treated": False, "stat": values})
    ranked = analysis.placebo_ranks(units, "stat")
    assert (ranked["p_value"] <= alpha + 1e-12).mean() <= alpha + 1e-12


def test_holm() -> None:
    assert analysis.holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert analysis.holm([0.5, 0.9]) == [1.0, 1.0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=10))
def test_holm_is_never_below_the_raw_p_and_keeps_the_order(ps: list[float | None]) -> None:
    adjusted = analysis.holm(ps)
    pairs = [(p, a) for p, a in zip(ps, adjusted, strict=True) if p is not None]
    assert all(a >= p - 1e-12 and a <= 1 for p, a in pairs)
    ordered = sorted(pairs)
    assert all(ordered[i][1] <= ordered[i + 1][1] + 1e-12 for i in range(len(ordered) - 1))


# --- pre-trend ------------------------------------------------------------------------------------------------


def trend_panel(own_slope: float, n_group: int = 12) -> pl.DataFrame:
    """Group slopes 0.9, 0.92, …; the kommune's slope as given; all 2012–2019 (a rate: slopes in its unit)."""
    slopes = {"0001": own_slope} | {f"{100 + i:04d}": 0.9 + 0.02 * i for i in range(n_group)}
    return make_panel({code: {year: 10 + slope * (year - 2012) for year in range(2012, 2020)}
                       for code, slope in slopes.items()})


def pre_trend(panel: pl.DataFrame, n_group: int, start: int = 2012) -> dict:
    codes = [f"{100 + i:04d}" for i in range(n_group)]
    prep = analysis.prepare(panel, [RATE])
    from helpers.analysis._panel import names

    return only(analysis.pre_trend(prep, "0001", codes, [RATE], (start, 2019), names(panel)), indicator=RATE)


def test_pre_trend_not_detected_deviating_and_insufficient() -> None:
    same = pre_trend(trend_panel(1.01), 12)  # the group's median slope is 0.9 + 0.02·5.5 = 1.01
    assert same["slope_difference"] == pytest.approx(0, abs=1e-9) and same["verdict"] == "not_detected"
    assert (same["pre_start"], same["pre_end"], same["n_years"]) == (2012, 2019, 8)
    steep = pre_trend(trend_panel(3.0), 12)  # slope 3 against 1.01: the most extreme of 13, p = 1/13 ≤ 0.10
    assert (steep["rank"], steep["n_units"], steep["verdict"]) == (1, 13, "deviating")
    assert steep["p_value"] == pytest.approx(1 / 13)
    assert pre_trend(trend_panel(3.0, 3), 3)["verdict"] == "insufficient"  # 4 units cannot reach p ≤ 0.10
    short = pre_trend(trend_panel(3.0), 12, start=2018)  # two years: no slope
    assert short["kommune_slope"] is None and short["verdict"] == "insufficient"


# --- interrupted time series ---------------------------------------------------------------------------------


def its_panel(shift: float, seed: int, n_group: int = 19) -> pl.DataFrame:
    """Linear trend plus noise 2008–2024; the kommune (0001) jumps by `shift` from 2021; 2020 is a gap year."""
    rng = random.Random(seed)
    series = {}
    for i, code in enumerate(["0001", *[f"{100 + j:04d}" for j in range(n_group)]]):
        jump = shift if code == "0001" else 0.0
        series[code] = {y: 50 + 0.3 * i + 0.5 * (y - 2020) + (jump if y >= 2021 else 0) + rng.gauss(0, 0.3)
                        for y in range(2008, 2025)}
    return make_panel(series)


def test_its_leaves_out_the_gap_year_and_calibrates_p() -> None:
    panel = its_panel(4.0, seed=7)
    codes = [f"{100 + j:04d}" for j in range(19)]
    result = analysis.interrupted_time_series(panel, "0001", [RATE], (2016, 2019), (2021, 2024), pre_start=2008,
                                              placebo_codes=codes)[RATE]
    assert result.ok and result.gap_years == (2020,) and (result.n_pre, result.n_post) == (12, 4)
    assert 2020 not in result.series["year"].to_list()
    assert result.level_change == pytest.approx(4, abs=0.6) and result.pre_slope == pytest.approx(0.5, abs=0.1)
    # calibrated on 19 kommuner without a jump: the largest |t| of 20, p = 1/20 (the floor)
    assert (result.rank, result.n_units, result.p_value, result.p_floor) == (1, 20, 0.05, 0.05)


def test_its_gives_no_p_with_two_after_years() -> None:
    panel = its_panel(4.0, seed=3)
    codes = [f"{100 + j:04d}" for j in range(19)]
    result = analysis.interrupted_time_series(panel, "0001", [RATE], (2016, 2019), (2021, 2022), pre_start=2008,
                                              placebo_codes=codes)[RATE]
    assert result.ok and result.n_post == 2 and result.level_change is not None
    assert result.p_value is None and result.no_p_reason == "few_after_years"


def test_its_refuses_short_series() -> None:
    panel = make_panel({"0001": dict.fromkeys((2018, 2019, 2021, 2022), 1.0)})
    result = analysis.interrupted_time_series(panel, "0001", [RATE], (2018, 2019), (2021, 2022), pre_start=2018)
    assert not result[RATE].ok and result[RATE].reason == "too_few_points"


# --- synthetic control -----------------------------------------------------------------------------------------


def test_synthetic_control_recovers_weights_gap_and_warns() -> None:
    # the kommune is 0.3·A + 0.7·B every year, plus 3 from 2021; C and D are not needed; 2020 is a gap year
    years = range(2012, 2025)
    donors = {
        "0100": {y: 10.0 + (y - 2012) for y in years},
        "0110": {y: 20.0 + 0.5 * (y - 2012) + (y % 2) for y in years},
        "0120": {y: 30.0 - (y - 2012) for y in years},
        "0130": {y: 12.0 + 0.1 * (y - 2012) ** 2 for y in years},
    }
    own = {y: 0.3 * donors["0100"][y] + 0.7 * donors["0110"][y] + (3 if y >= 2021 else 0) for y in years}
    donors["0140"] = {y: 1.0 for y in years if y != 2015}  # incomplete: not a donor
    sc = analysis.synthetic_control(make_panel({"0001": own} | donors), "0001", list(donors), RATE, (2012, 2019),
                                    (2021, 2024), pre_start=2012)
    assert sc.ok and not sc.indexed and sc.n_donors == 4 and sc.n_pre == 8
    weights = dict(zip(sc.weights["kommunenr"], sc.weights["weight"], strict=True))
    assert weights == pytest.approx({"0100": 0.3, "0110": 0.7, "0120": 0, "0130": 0}, abs=1e-4)
    assert sc.mean_gap_after == pytest.approx(3, abs=1e-3) and sc.fit_error_pct == pytest.approx(0, abs=1e-2)
    assert 2020 not in sc.series["year"].to_list()
    assert (sc.rank, sc.n_units, sc.p_value) == (1, 5, 0.2) and sc.warnings == ()
    # a kommune above every donor cannot be matched: warned as outside the range and as a poor fit
    high = {y: v + 100 for y, v in own.items()}
    far = analysis.synthetic_control(make_panel({"0001": high} | donors), "0001", list(donors), RATE, (2012, 2019),
                                     (2021, 2024), pre_start=2012)
    assert {"outside_donor_range", "poor_fit"} <= set(far.warnings)
    short = analysis.synthetic_control(make_panel({"0001": own} | donors), "0001", list(donors), RATE, (2016, 2019),
                                       (2021, 2024), pre_start=2016)
    # from 2016 the incomplete 0140 has every year: 5 donors for 4 years, so the weights are not pinned down
    assert short.n_donors == 5 and "more_donors_than_years" in short.warnings
    assert analysis.synthetic_control(make_panel({"0001": own}), "0001", [], RATE, (2012, 2019), (2021, 2024),
                                      pre_start=2012).reason == "too_few_donors"


def test_synthetic_control_indexes_counts() -> None:
    years = range(2012, 2025)
    donors = {f"{100 + i:04d}": {y: (100 + 50 * i) * (1 + 0.01 * i * (y - 2012)) for y in years} for i in range(3)}
    own = {y: 10 * donors["0101"][y] for y in years}  # ten times the size of 0101: only an index can match it
    sc = analysis.synthetic_control(make_panel({"0001": own} | donors, COUNT), "0001", list(donors), COUNT,
                                    (2012, 2019), (2021, 2024), pre_start=2012)
    assert sc.indexed and sc.fit_error_pct == pytest.approx(0, abs=0.1)
    assert sc.series.filter(pl.col("part") == "before")["kommune_value"].mean() == pytest.approx(100)


def test_synthetic_control_needs_a_before_level_above_zero_to_index() -> None:
    """A count at 0 in every before-year has no index (and no per cent change): refused with its reason;
    donors at 0 before are left out of the donor pool rather than dividing by zero."""
    years = range(2012, 2025)
    donors = {f"{100 + i:04d}": {y: (100 + 50 * i) * (1 + 0.01 * i * (y - 2012)) for y in years} for i in range(3)}
    zero = {y: 0.0 if y <= 2019 else 3.0 for y in years}
    refused = analysis.synthetic_control(make_panel({"0001": zero} | donors, COUNT), "0001", list(donors), COUNT,
                                         (2012, 2019), (2021, 2024), pre_start=2012)
    assert not refused.ok and refused.reason == "zero_base"
    own = {y: 10 * donors["0101"][y] for y in years}
    sc = analysis.synthetic_control(make_panel({"0001": own, "0140": zero} | donors, COUNT), "0001",
                                    [*donors, "0140"], COUNT, (2012, 2019), (2021, 2024), pre_start=2012)
    assert sc.ok and sc.n_donors == 3 and "0140" not in sc.weights["kommunenr"].to_list()
    alone = analysis.synthetic_control(make_panel({"0001": own, "0140": zero, "0100": donors["0100"]}, COUNT),
                                       "0001", ["0140", "0100"], COUNT, (2012, 2019), (2021, 2024), pre_start=2012)
    assert alone.reason == "too_few_donors" and alone.n_donors == 1


# --- the comparison at once and the series for charts -----------------------------------------------------------


def test_series_frame_median_band_and_small_denominator() -> None:
    panel = make_panel({"0001": {2019: 1.0}, "0100": {2019: 2.0}, "0110": {2019: 4.0}, "0120": {2019: 10.0},
                        "0130": {2019: 99.0}}, flag={("0130", 2019): "small_denominator"})
    row = only(analysis.series_frame(panel, "0001", ["0100", "0110", "0120", "0130"], RATE, exclude_flagged=False),
               year=2019)
    assert (row["kommune_value"], row["group_median"], row["group_q1"], row["group_q3"], row["n_group"]) == (
        1.0, 4.0, 3.0, 7.0, 3)


def test_compare_holds_the_single_results() -> None:
    levels = {"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23)}
    panel = make_panel(steps(levels))
    result = compare(panel, ["0100", "0110", "0120"])
    assert result.before_after.select(analysis.changes(
        analysis.prepare(panel, [RATE]), ["0001"], [RATE], BEFORE, AFTER,
        pl.DataFrame({"kommunenr": ["0001"], "kommune": ["K0001"]})).columns).equals(
        analysis.before_after(panel, "0001", [RATE], BEFORE, AFTER).select(result.group_changes.columns))
    assert result.indicators == [RATE] and result.kommune == "K0001" and result.pre == (2016, 2019)
