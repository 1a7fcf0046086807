"""The report's Norwegian sentences, rendered for constructed results: the words must follow the numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.present import text
from helpers.present.formatting import MINUS, NBSP

CAUSAL = ("effekt", "førte til", "fører til", "skyldes", "på grunn av", "forårsak", "bidro til", "resulterte",
          "takket være", "som følge av", "virket", "påvirket")


def row(**overrides) -> dict:
    """A merged indicator row (before_after + DiD + pre-trend) for a rate, rising, with a placebo test."""
    base = {
        "label": "Langtidsbrukere 80+ per 100 innbyggere 80+ (beregnet)", "unit": "prosent", "decimals": 1,
        "kommune": "Asker", "before": 9.0, "after": 9.6, "change": 0.6, "pct_change": 6.7, "stat": 0.6,
        "scale": "abs", "period_before": "2012–2013", "period_after": "2015–2016", "group_median_stat": 0.1,
        "difference": 0.5, "rank": 5, "n_units": 21, "p_value": 5 / 21, "at_floor": False, "reason": None,
        "verdict": "not_detected", "pre_start": 2007, "pre_end": 2013, "pretrend_p": 0.6,
    }
    return base | overrides


def test_a_rise() -> None:
    sentence = text.change_sentence(row())
    assert sentence == (
        "Langtidsbrukere 80+ per 100 innbyggere 80+ økte med 0,6 prosentpoeng fra 9,0 i 2012–2013 til 9,6 i "
        "2015–2016; medianendringen i sammenligningsgruppen var +0,1 prosentpoeng; forskjellen er +0,5 "
        "prosentpoeng; like stort eller større avvik fra medianen av de andre har 4 av de 20 andre kommunene "
        "(placebo-p = 0,24)."
    )


def test_a_fall_of_a_count_in_per_cent() -> None:
    sentence = text.change_sentence(row(
        label="Brukere av hjemmetjenester i alt", unit="personer", decimals=0, before=1551.5, after=1400.0,
        change=-151.5, pct_change=-9.8, stat=-9.8, scale="pct", group_median_stat=1.7, difference=-11.5))
    assert sentence.startswith(f"Brukere av hjemmetjenester i alt falt med 9,8{NBSP}% fra 1{NBSP}552 i 2012–2013 "
                               f"til 1{NBSP}400 i 2015–2016 ({MINUS}152)")
    assert f"medianendringen i sammenligningsgruppen var +1,7{NBSP}%" in sentence
    assert f"forskjellen er {MINUS}11,5 prosentpoeng" in sentence


@pytest.mark.parametrize("change", [0.04, -0.04, 0.0])
def test_unchanged_never_stands_next_to_a_rise_or_fall(change: float) -> None:
    sentence = text.change_sentence(row(after=9.0 + change, change=change, stat=change, difference=-0.06))
    assert "var omtrent uendret (fra 9,0 i 2012–2013 til 9,0 i 2015–2016)" in sentence
    assert not re.search(r"økte|falt|økningen|nedgangen", sentence)


def test_p_at_its_floor_says_so() -> None:
    sentence = text.change_sentence(row(rank=1, p_value=1 / 21, at_floor=True, difference=2.0))
    assert "ingen av de 20 andre kommunene har like stort avvik" in sentence
    assert "(placebo-p = 1/21 (minste mulige))" in sentence and "0,05" not in sentence


def test_a_deviating_pre_trend_is_named_in_the_sentence() -> None:
    sentence = text.change_sentence(row(verdict="deviating", pretrend_p=0.0476))
    assert sentence.endswith("Merk: avvikende utvikling før (2007–2013, placebo-p = 0,05), så forskjellen kan "
                             "speile en utvikling som startet tidligere.")
    assert "avvikende" not in text.change_sentence(row(verdict="not_detected"))


def test_missing_data_and_no_test() -> None:
    assert text.change_sentence(row(after=None, change=None, stat=None)) == (
        "Langtidsbrukere 80+ per 100 innbyggere 80+: Asker mangler tall i etterperioden, så endringen kan ikke "
        "beregnes.")
    no_test = text.change_sentence(row(difference=0.5, p_value=None, rank=None, reason="too_few_units"))
    assert "placebo" not in no_test and "forskjellen er +0,5 prosentpoeng" in no_test


@given(n_units=st.integers(3, 400), data=st.data())
def test_rank_words_and_p_give_the_same_number(n_units: int, data) -> None:
    rank = data.draw(st.integers(1, n_units))
    sentence = text.change_sentence(row(rank=rank, n_units=n_units, p_value=rank / n_units, at_floor=rank == 1))
    if rank == 1:
        assert f"ingen av de {n_units - 1} andre" in sentence and f"1/{n_units} (minste mulige)" in sentence
    else:
        k, m = map(int, re.search(r"har (\d+) av de (\d+) andre", sentence).groups())
        p = float(re.search(r"placebo-p = (\d+,\d+)", sentence).group(1).replace(",", "."))
        assert (k + 1, m + 1) == (rank, n_units) and p == pytest.approx((k + 1) / (m + 1), abs=0.005 + 1e-9)


@pytest.mark.parametrize("overrides", [{}, {"stat": -0.6, "change": -0.6, "after": 8.4}, {"verdict": "deviating"},
                                       {"rank": 1, "at_floor": True, "p_value": 1 / 21}])
def test_no_causal_words(overrides: dict) -> None:
    sentence = text.change_sentence(row(**overrides)).lower()
    assert not [word for word in CAUSAL if word in sentence]


def test_chance_line() -> None:
    line = text.chance_line(n_tests=9, n_significant=1, n_holm=0, alpha=0.05)
    assert line == ("1 av 9 indikatorer med placebotest har p ≤ 0,05. Med 9 tester ventes omtrent 0,5 slike "
                    "resultater ved ren tilfeldighet; etter Holm-justering for flere tester gjenstår 0.")


def test_every_reason_synthetic_control_can_refuse_with_has_words() -> None:
    """A refusal the analysis gives must be explainable in the report (a missing key fails the report)."""
    import re

    from helpers import paths
    from helpers.present.text._report import SYNTHETIC_REFUSED

    source = (paths.package_dir() / "analysis" / "_synthetic.py").read_text(encoding="utf-8")
    reasons = set(re.findall(r'reason="(\w+)"', source))
    assert {"too_few_points", "too_few_donors", "zero_base"} <= reasons
    assert reasons <= set(SYNTHETIC_REFUSED)


@pytest.mark.parametrize(("after", "words"), [(0.0, "var uendret (fra 0 i 2012–2013 til 0 i 2015–2016)"),
                                              (3.0, "økte (fra 0 i 2012–2013 til 3 i 2015–2016)")])
def test_a_count_from_zero_has_no_per_cent_change_and_says_why(after: float, words: str) -> None:
    """Utsira's home-nursing hours were 0 before: no per cent change, no comparison, and not 'missing'."""
    sentence = text.change_sentence(row(
        label="Timer", unit="timer", decimals=0, before=0.0, after=after, change=after, pct_change=None,
        stat=None, scale="pct", group_median_stat=None, difference=None, rank=None, n_units=0, p_value=None,
        reason="zero_base"))
    assert sentence == (f"Timer {words}; nivået før var 0, så endringen kan ikke regnes i prosent og ikke "
                        "sammenlignes med gruppen.")
    assert "mangler" not in sentence and "omtrent" not in sentence
