"""helpers.compare on small panels whose answers are worked out by hand in the comments."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import compare
from helpers.errors import InputError
from helpers.formatting import MINUS, NBSP
from helpers.schema import conform

RATE = "long_term_users_80plus_per_100_80plus"
COUNT = "long_term_users"
BEFORE, AFTER = (2016, 2019), (2021, 2024)
Series = dict[str, dict[int, float | None]]


def make_panel(
    series: Series, indicator: str = RATE, *, status: dict | None = None, flag: dict | None = None
) -> pl.DataFrame:
    """A tidy panel from {kommunenr: {year: value}}; status/flag keyed by (kommunenr, year)."""
    status, flag = status or {}, flag or {}
    rows = [
        {
            "kommunenr": code,
            "kommune": f"K{code}",
            "structure": "2024",
            "year": year,
            "indicator": indicator,
            "value": value,
            "unit": "prosent",
            "status": status.get((code, year)),
            "flag": flag.get((code, year)),
            "source": "test",
        }
        for code, years in series.items()
        for year, value in years.items()
    ]
    return conform(pl.DataFrame(rows, infer_schema_length=None))


def steps(levels: dict[str, tuple[float, float]]) -> Series:
    """Flat series: the first level in 2016–2019, the second in 2021–2024 (2020 left out)."""
    return {
        code: {year: (b if year <= 2019 else a) for year in (*range(2016, 2020), *range(2021, 2025))}
        for code, (b, a) in levels.items()
    }


def only(frame: pl.DataFrame, **where: object) -> dict:
    rows = frame.filter(**where).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# ---------------------------------------------------------------------------------------------------------
# before_after
# ---------------------------------------------------------------------------------------------------------


def test_before_after_levels_suppressed_flagged_and_notes() -> None:
    # before: 2016=6, 2017=8, 2018 suppressed (":" with a stray 0 that must not count), 2019 missing
    #   → mean(6, 8) = 7 over 2 years; after: 2021=5, 2022=6, 2023=99 flagged outlier (excluded), 2024=7
    #   → mean(5, 6, 7) = 6 over 3 years; change = −1, percent = −1/7 = −14.29 %.
    panel = make_panel(
        {"0001": {2016: 6.0, 2017: 8.0, 2018: 0.0, 2021: 5.0, 2022: 6.0, 2023: 99.0, 2024: 7.0}},
        status={("0001", 2018): ":"},
        flag={("0001", 2023): "outlier;split"},
    )
    row = only(compare.before_after(panel, "0001", [RATE], BEFORE, AFTER), indicator=RATE)
    assert (row["before"], row["after"], row["change"]) == (7.0, 6.0, -1.0)
    assert row["pct_change"] == pytest.approx(-100 / 7)
    assert (row["n_before"], row["n_after"], row["n_suppressed"], row["n_excluded"]) == (2, 3, 1, 1)
    assert row["missing_before"] == [2018, 2019] and row["missing_after"] == [2023]
    assert row["notes"] == (
        "mangler år i førperioden: 2018, 2019; mangler år i etterperioden: 2023; "
        "1 skjulte celler (:, små tall); 1 flaggede verdier utelatt"
    )
    assert row["label"].startswith("Langtidsbrukere 80+") and row["decimals"] == 1

    kept = only(
        compare.before_after(panel, "0001", RATE, BEFORE, AFTER, exclude_flagged=False), indicator=RATE
    )
    assert kept["after"] == pytest.approx((5 + 6 + 99 + 7) / 4) and kept["n_excluded"] == 0


def test_before_after_indicator_without_data_gets_a_row() -> None:
    panel = make_panel(steps({"0001": (1.0, 2.0)}))
    frame = compare.before_after(panel, "0001", [RATE, COUNT], BEFORE, AFTER)
    assert frame["indicator"].to_list() == [RATE, COUNT]
    row = only(frame, indicator=COUNT)
    assert row["change"] is None and row["n_before"] == 0
    assert "ingen tall i førperioden 2016–2019" in row["notes"]


@pytest.mark.parametrize(
    ("panel_change", "message"),
    [
        (lambda p: pl.concat([p, p.with_columns(structure=pl.lit("as_reported"))]), "kommunestrukturer"),
        (lambda p: pl.concat([p, p.head(1)]), "dupliserte"),
        (lambda p: p.drop("flag"), "mangler kolonner"),
    ],
)
def test_bad_panels_are_refused(panel_change, message: str) -> None:
    panel = panel_change(make_panel(steps({"0001": (1.0, 2.0)})))
    with pytest.raises(InputError, match=message):
        compare.before_after(panel, "0001", RATE, BEFORE, AFTER)


def test_bad_arguments_are_refused() -> None:
    panel = make_panel(steps({"0001": (1.0, 2.0)}))
    with pytest.raises(InputError, match="Ugyldige perioder"):
        compare.before_after(panel, "0001", RATE, (2016, 2021), AFTER)
    with pytest.raises(InputError, match=r"finnes ikke.*Mente du kommunenummer 0001"):
        compare.before_after(panel, "K0001", RATE, BEFORE, AFTER)
    with pytest.raises(InputError, match="unknown indicator"):
        compare.before_after(panel, "0001", ["nope"], BEFORE, AFTER)


# ---------------------------------------------------------------------------------------------------------
# comparison groups
# ---------------------------------------------------------------------------------------------------------


def size_panel() -> pl.DataFrame:
    population = {"0001": 1000.0, "0002": 1100.0, "0003": 900.0, "0004": 1300.0, "0005": 700.0, "0006": None}
    series = {code: {2019: value, 2018: 5000.0} for code, value in population.items()}
    return make_panel(series, "population_80plus")


def test_similar_size_takes_the_nearest_with_ties_by_code() -> None:
    # distances from 1000 in 2019: 0002 → 100, 0003 → 100, 0004 → 300, 0005 → 300, 0006 has no value
    group = compare.comparison_group(size_panel(), "0001", "similar_size", n=3, year=2019)
    assert group.codes == ("0002", "0003", "0004") and len(group) == 3 and list(group) == list(group.codes)
    assert "innbyggere 80+ i 2019" in group.description and f"1{NBSP}300" in group.description
    # default year: the kommune's latest year with the figure (2019)
    assert compare.comparison_group(size_panel(), "0001", "similar_size", n=1).codes == ("0002",)
    with pytest.raises(InputError, match="mangler innbyggere 80\\+"):
        compare.comparison_group(size_panel(), "0006", "similar_size", year=2019)


def test_all_named_explicit_and_kostragruppe() -> None:
    panel = size_panel()
    assert compare.comparison_group(panel, "0001", "all").codes == ("0002", "0003", "0004", "0005", "0006")
    assert compare.comparison_group(panel, "0001", ["0003", "0001", "0003"]).codes == ("0003",)
    mapping = {"0001": "K10", "0002": "K10", "0005": "K10", "0003": "K2", "9999": "K10"}
    assert compare.comparison_group(panel, "0001", "kostragruppe", kostragruppe=mapping).codes == (
        "0002",
        "0005",
    )
    with pytest.raises(InputError, match="KLASS 112"):
        compare.comparison_group(panel, "0001", "kostragruppe")
    named = make_panel({code: {2019: 1.0} for code in ("3203", *compare.NAMED_GROUPS["naboer"])})
    assert set(compare.comparison_group(named, "3203", "naboer").codes) == {"3201", "3312", "3301"}
    with pytest.raises(InputError, match="unknown group"):
        compare.comparison_group(panel, "0001", "venner")


@pytest.mark.parametrize("how", [["0001"], [], ["0007"]])
def test_empty_or_unknown_group_is_an_input_error(how: list[str]) -> None:
    message = "finnes ikke i panelet" if how == ["0007"] else "Sammenligningsgruppen er tom"
    with pytest.raises(InputError, match=message):
        compare.comparison_group(size_panel(), "0001", how)
    with pytest.raises(InputError, match=message):
        compare.difference_in_differences(size_panel(), "0001", how, "population_80plus", BEFORE, AFTER)


# ---------------------------------------------------------------------------------------------------------
# group summary and difference-in-differences
# ---------------------------------------------------------------------------------------------------------


def test_known_did_rank_and_p_value() -> None:
    # kommune 10 → 15 (change 5); group changes 1, 2, 3 (mean 2, median 2, quartiles 1.5 and 2.5).
    # DiD = 5 − 2 = 3. Placebos (each member against the other two): 1 − 2.5 = −1.5, 2 − 2 = 0, 3 − 1.5 = 1.5.
    # |effects| 3, 1.5, 0, 1.5 → only the kommune reaches 3: rank 1, p = 1/4.
    panel = make_panel(steps({"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23)}))
    group = ["0100", "0110", "0120"]
    did = compare.difference_in_differences(panel, "0001", group, RATE, BEFORE, AFTER)
    row = only(did.estimates, indicator=RATE)
    assert row["did"] == pytest.approx(3) and row["group_mean_change"] == pytest.approx(2)
    assert (row["rank"], row["n_units"], row["n_group"], row["p_value"]) == (1, 4, 3, 0.25)
    assert dict(zip(did.placebo["kommunenr"], did.placebo["effect"], strict=True)) == pytest.approx(
        {"0001": 3, "0100": -1.5, "0110": 0, "0120": 1.5}
    )
    summary = only(compare.group_summary(panel, "0001", group, RATE, BEFORE, AFTER), indicator=RATE)
    assert (summary["median_change"], summary["q1_change"], summary["q3_change"]) == (2, 1.5, 2.5)
    assert (summary["median_before"], summary["median_after"]) == (20, 22)
    assert (summary["n_exceeded"], summary["n_used"]) == (3, 3)


def test_permutation_rank_counts_ties_and_larger_placebos() -> None:
    # kommune change 4; group changes 0, 0, 10, −10 (mean 0) → DiD 4.
    # Placebos: 0 − mean(0, 10, −10) = 0 (twice); 10 − mean(0, 0, −10) = 13.33; −10 − mean(0, 0, 10) = −13.33.
    # Units with |effect| ≥ 4: the two ±13.33 and the kommune → rank 3 of 5, p = 3/5.
    levels = {"0001": (0, 4), "0100": (5, 5), "0110": (5, 5), "0120": (5, 15), "0130": (15, 5)}
    did = compare.difference_in_differences(
        make_panel(steps(levels)), "0001", list(levels)[1:], RATE, BEFORE, AFTER
    )
    row = only(did.estimates, indicator=RATE)
    assert (row["did"], row["rank"], row["n_units"], row["p_value"]) == (4, 3, 5, 0.6)


def test_missing_kommune_window_gives_no_did() -> None:
    series = steps({"0001": (10, 15), "0100": (20, 21), "0110": (20, 22)})
    series["0001"] = {year: value for year, value in series["0001"].items() if year < 2020}
    did = compare.difference_in_differences(make_panel(series), "0001", ["0100", "0110"], RATE, BEFORE, AFTER)
    row = only(did.estimates, indicator=RATE)
    assert row["did"] is None and row["p_value"] is None and "ingen DiD" in row["note"]
    assert did.placebo["is_treated"].to_list() == [False, False]


def test_single_member_group_has_did_but_no_placebo() -> None:
    panel = make_panel(steps({"0001": (10, 15), "0100": (20, 21)}))
    row = only(
        compare.difference_in_differences(panel, "0001", ["0100"], RATE, BEFORE, AFTER).estimates,
        indicator=RATE,
    )
    assert row["did"] == 4 and row["p_value"] is None and row["rank"] is None and "placebotest" in row["note"]


@pytest.mark.parametrize("exclude_flagged", [True, False])
def test_small_denominator_and_missing_members_are_kept_out_and_reported(exclude_flagged: bool) -> None:
    # 0140 has a small denominator in 2017 → out of statistics and ranking either way (its −100 would
    # otherwise dominate); 0150 has no after-window. Group used: changes 1, 2, 3 as in the known DiD.
    levels = {"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23), "0140": (150, 50)}
    series = steps(levels)
    series["0150"] = {2016: 1.0}
    panel = make_panel(series, flag={("0140", 2017): "small_denominator"})
    group = ["0100", "0110", "0120", "0140", "0150"]
    summary = only(
        compare.group_summary(panel, "0001", group, RATE, BEFORE, AFTER, exclude_flagged=exclude_flagged),
        indicator=RATE,
    )
    assert (summary["n_group"], summary["n_used"], summary["n_small_denominator"], summary["n_missing"]) == (
        5,
        3,
        1,
        1,
    )
    assert "1 kommuner med liten nevner holdt utenfor" in summary["note"]
    assert summary["median_change"] == 2
    did = compare.difference_in_differences(
        panel, "0001", group, RATE, BEFORE, AFTER, exclude_flagged=exclude_flagged
    )
    assert only(did.estimates, indicator=RATE)["did"] == pytest.approx(3)
    assert "0140" not in did.placebo["kommunenr"].to_list()


def _naive_p(own: float, group: list[float]) -> float:
    effects = [own - sum(group) / len(group)]
    for i, change in enumerate(group):
        rest = group[:i] + group[i + 1 :]
        effects.append(change - sum(rest) / len(rest))
    return sum(abs(e) >= abs(effects[0]) - 1e-9 for e in effects) / len(effects)


changes = st.lists(st.integers(min_value=-50, max_value=50), min_size=2, max_size=7)


@settings(max_examples=40, deadline=None)
@given(group=changes, own=st.integers(min_value=-50, max_value=50), shift=st.integers(-1000, 1000))
def test_did_properties(group: list[int], own: int, shift: int) -> None:
    levels = {"0001": (100.0, 100.0 + own)} | {
        f"{i + 100:04d}": (50.0, 50.0 + c) for i, c in enumerate(group)
    }
    codes = list(levels)[1:]
    did = compare.difference_in_differences(make_panel(steps(levels)), "0001", codes, RATE, BEFORE, AFTER)
    row = only(did.estimates, indicator=RATE)
    assert row["did"] == pytest.approx(own - sum(group) / len(group))
    assert row["p_value"] == pytest.approx(_naive_p(own, [float(c) for c in group]))
    assert 1 / row["n_units"] <= row["p_value"] <= 1
    # adding a constant to every value leaves the DiD and its p-value unchanged
    shifted = {code: (b + shift, a + shift) for code, (b, a) in levels.items()}
    again = only(
        compare.difference_in_differences(
            make_panel(steps(shifted)), "0001", codes, RATE, BEFORE, AFTER
        ).estimates,
        indicator=RATE,
    )
    assert again["did"] == pytest.approx(row["did"], abs=1e-9) and again["p_value"] == row["p_value"]


@settings(max_examples=25, deadline=None)
@given(group=changes)
def test_did_is_zero_when_kommune_changes_like_the_group_mean(group: list[int]) -> None:
    mean = sum(group) / len(group)
    levels = {"0001": (100.0, 100.0 + mean)} | {
        f"{i + 100:04d}": (50.0, 50.0 + c) for i, c in enumerate(group)
    }
    row = only(
        compare.difference_in_differences(
            make_panel(steps(levels)), "0001", list(levels)[1:], RATE, BEFORE, AFTER
        ).estimates,
        indicator=RATE,
    )
    assert row["did"] == pytest.approx(0, abs=1e-9)


# ---------------------------------------------------------------------------------------------------------
# pre-trend
# ---------------------------------------------------------------------------------------------------------


def trend_panel(own_slope: float, n_group: int = 12) -> pl.DataFrame:
    """Group slopes 0.9, 0.92, … (spread out); the kommune's slope as given; all 2012–2019."""
    slopes = {"0001": own_slope} | {f"{100 + i:04d}": 0.9 + 0.02 * i for i in range(n_group)}
    return make_panel(
        {
            code: {year: 10 + slope * (year - 2012) for year in range(2012, 2020)}
            for code, slope in slopes.items()
        }
    )


def test_pre_trend_parallel_and_diverging() -> None:
    group = [f"{100 + i:04d}" for i in range(12)]
    # parallel: the kommune's slope equals the group mean slope (0.9 + 0.02·5.5 = 1.01) → difference 0
    parallel = only(compare.pre_trend(trend_panel(1.01), "0001", group, RATE, pre_end=2019), indicator=RATE)
    assert parallel["slope_diff"] == pytest.approx(0, abs=1e-9) and parallel["verdict"] == "consistent"
    assert parallel["kommune_slope"] == pytest.approx(1.01) and parallel[
        "group_median_slope"
    ] == pytest.approx(1.01)
    assert (parallel["pre_start"], parallel["pre_end"], parallel["n_years"]) == (2012, 2019, 8)
    # diverging: slope 3 vs 1.01 → the most extreme of 13 units, p = 1/13 ≤ 0.10
    diverging = only(compare.pre_trend(trend_panel(3.0), "0001", group, RATE, pre_end=2019), indicator=RATE)
    assert diverging["slope_diff"] == pytest.approx(3 - 1.01)
    assert (diverging["rank"], diverging["n_units"], diverging["verdict"]) == (1, 13, "diverging")
    assert diverging["p_value"] == pytest.approx(1 / 13)
    # too few units for p ≤ 0.10, and too few years from pre_start
    small = only(
        compare.pre_trend(trend_panel(3.0, 3), "0001", group[:3], RATE, pre_end=2019), indicator=RATE
    )
    assert small["verdict"] == "insufficient" and small["verdict_label"] == "for lite data til å vurdere"
    short = only(
        compare.pre_trend(trend_panel(3.0), "0001", group, RATE, pre_end=2019, pre_start=2018), indicator=RATE
    )
    assert short["kommune_slope"] is None and short["verdict"] == "insufficient"


# ---------------------------------------------------------------------------------------------------------
# interrupted time series
# ---------------------------------------------------------------------------------------------------------


def test_its_recovers_a_known_level_shift() -> None:
    rng = random.Random(7)
    # value = 50 + 0.5·(year − 2020) + 4·post + noise(sd 0.3); no slope change
    series = {
        year: 50 + 0.5 * (year - 2020) + (4 if year >= 2020 else 0) + rng.gauss(0, 0.3)
        for year in range(2008, 2025)
    }
    result = compare.interrupted_time_series(make_panel({"0001": series}), "0001", RATE, 2020)
    assert result.ok and (result.n_pre, result.n_post) == (12, 5)
    assert result.level_change == pytest.approx(4, abs=0.6)
    assert result.level_ci_low < 4 < result.level_ci_high and result.level_p < 0.01
    assert result.slope_change == pytest.approx(0, abs=0.3) and result.pre_slope == pytest.approx(
        0.5, abs=0.1
    )
    assert result.series is not None and result.series.columns == [
        "year",
        "value",
        "fitted",
        "counterfactual",
    ]


@pytest.mark.parametrize(
    ("years", "text"), [((2018, 2019, 2020, 2021), "2 før"), ((2017, 2018, 2019, 2020), "1 etter")]
)
def test_its_refuses_short_series(years: tuple[int, ...], text: str) -> None:
    result = compare.interrupted_time_series(
        make_panel({"0001": dict.fromkeys(years, 1.0)}), "0001", RATE, 2020
    )
    assert not result.ok and result.level_change is None and text in result.reason


# ---------------------------------------------------------------------------------------------------------
# frames for charts, sentences and the one-call comparison
# ---------------------------------------------------------------------------------------------------------


def test_series_frame_median_band_and_small_denominator() -> None:
    panel = make_panel(
        {
            "0001": {2019: 1.0},
            "0100": {2019: 2.0},
            "0110": {2019: 4.0},
            "0120": {2019: 10.0},
            "0130": {2019: 99.0},
        },
        flag={("0130", 2019): "small_denominator"},
    )
    row = only(
        compare.series_frame(panel, "0001", ["0100", "0110", "0120", "0130"], RATE, exclude_flagged=False),
        year=2019,
    )
    assert (row["kommune_value"], row["group_median"], row["group_q1"], row["group_q3"], row["n_group"]) == (
        1.0,
        4.0,
        3.0,
        7.0,
        3,
    )
    assert row["domain"] == "sykehjem" and row["kommune"] == "K0001"


def test_sentence_in_norwegian() -> None:
    # Before 7.6, after 6.5 (−1.1); group changes −0.2, −0.4, −0.6 → median −0.4; the fall exceeds all three.
    levels = {"0001": (7.6, 6.5), "0100": (5.0, 4.8), "0110": (5.0, 4.6), "0120": (5.0, 4.4)}
    result = compare.compare(
        make_panel(steps(levels)), "0001", ["0100", "0110", "0120"], [RATE], BEFORE, AFTER
    )
    assert result.sentences["sentence"][0] == (
        "Langtidsbrukere 80+ per 100 innbyggere 80+ falt fra 7,6 i 2016–2019 til 6,5 i 2021–2024 "
        f"({MINUS}1,1); i sammenligningsgruppen endret medianen seg med {MINUS}0,4; "
        "nedgangen er større enn i 3 av 3 kommuner; "
        f"forskjellen mot gruppens gjennomsnitt er {MINUS}0,7 (placebo-p = 0,25)."
    )
    assert result.kommune == "K0001" and result.group.how == "list"
    assert result.slopes.height == 4 and set(result.slopes["series"]) == {"K0001", compare.GROUP_MEDIAN_LABEL}
    assert only(result.slopes, series="K0001", period_order=0)["value_text"] == "7,6"


def test_sentence_when_the_kommune_lacks_data() -> None:
    frame = pl.DataFrame(
        [
            {
                "indicator": RATE,
                "label": "Noe (beregnet)",
                "decimals": 1,
                "kommune": "K1",
                "before": 1.0,
                "after": None,
                "change": None,
                "period_before": "2016–2019",
                "period_after": "2021–2024",
            }
        ]
    )
    sentence = compare.summary_sentences(frame)["sentence"][0]
    assert sentence == "Noe: K1 mangler tall i etterperioden, så endringen kan ikke beregnes."


def test_compare_matches_the_single_functions() -> None:
    levels = {"0001": (10, 15), "0100": (20, 21), "0110": (20, 22), "0120": (20, 23)}
    panel = make_panel(steps(levels))
    group = compare.ComparisonGroup(("0100", "0110", "0120"), "list", "tre")
    result = compare.compare(panel, "0001", group, [RATE], BEFORE, AFTER)
    did = compare.difference_in_differences(panel, "0001", group, [RATE], BEFORE, AFTER)
    assert result.did.equals(did.estimates) and result.placebo.equals(did.placebo)
    assert result.before_after.equals(compare.before_after(panel, "0001", [RATE], BEFORE, AFTER))
    assert result.pre_trend.equals(compare.pre_trend(panel, "0001", group, [RATE], pre_end=2019))
    assert not math.isnan(result.group_summary["median_change"][0])


# ---------------------------------------------------------------------------------------------------------
# synthetic control
# ---------------------------------------------------------------------------------------------------------


def test_synthetic_control_recovers_weights_and_gap() -> None:
    # the kommune is 0.3·A + 0.7·B in every year, plus 3 from 2020 on; C and D are not needed
    years = range(2012, 2025)
    donors = {
        "0100": {y: 10.0 + (y - 2012) for y in years},
        "0110": {y: 20.0 + 0.5 * (y - 2012) + (y % 2) for y in years},
        "0120": {y: 30.0 - (y - 2012) for y in years},
        "0130": {y: 12.0 + 0.1 * (y - 2012) ** 2 for y in years},
    }
    own = {y: 0.3 * donors["0100"][y] + 0.7 * donors["0110"][y] + (3 if y >= 2020 else 0) for y in years}
    donors["0140"] = {y: 1.0 for y in years if y != 2015}  # incomplete: not a donor
    result = compare.synthetic_control(make_panel({"0001": own} | donors), "0001", list(donors), RATE, 2020)
    assert result.ok and result.weights is not None and result.series is not None
    weights = dict(zip(result.weights["kommunenr"], result.weights["weight"], strict=True))
    assert weights == pytest.approx({"0100": 0.3, "0110": 0.7, "0120": 0, "0130": 0}, abs=1e-4)
    assert result.mean_gap_after == pytest.approx(3, abs=1e-3) and result.pre_rmspe == pytest.approx(0, abs=1e-3)
    assert (result.rank, result.p_value) == (1, 0.2)
    assert result.placebo is not None and result.placebo.height == 5


def test_synthetic_control_refuses_without_donors_or_years() -> None:
    panel = make_panel({"0001": dict.fromkeys(range(2015, 2023), 1.0), "0100": {2015: 1.0}})
    assert "donors" in compare.synthetic_control(panel, "0001", ["0100"], RATE, 2020).reason
    assert "1 før" in compare.synthetic_control(panel, "0001", ["0100"], RATE, 2016).reason
