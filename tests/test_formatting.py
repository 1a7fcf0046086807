"""Norwegian number formatting: hand-picked cases and properties over many floats."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.present.formatting import MINUS, MISSING, NBSP, format_number, format_percent


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (7.6, 1, "7,6"),
        (-1.1, 1, f"{MINUS}1,1"),
        (1234567.891, 2, f"1{NBSP}234{NBSP}567,89"),
        (-1234.5, 0, f"{MINUS}1{NBSP}234"),  # round-half-even on the binary value: 1234.5 → 1234
        (999.96, 1, f"1{NBSP}000,0"),
        (-0.04, 1, "0,0"),  # rounds to zero: no minus sign
        (0.0, 0, "0"),
        (12.0, 0, "12"),
    ],
)
def test_format_number_cases(x: float, decimals: int, expected: str) -> None:
    assert format_number(x, decimals) == expected


def test_sign_missing_and_percent() -> None:
    assert format_number(0.4, 1, sign=True) == "+0,4"
    assert format_number(-0.4, 1, sign=True) == f"{MINUS}0,4"
    assert format_number(0.0, 1, sign=True) == "0,0"
    assert format_number(None) == MISSING
    assert format_number(math.nan) == MISSING
    assert format_percent(12.5) == f"12,5{NBSP}%"
    assert format_percent(-3.25, 2, sign=True) == f"{MINUS}3,25{NBSP}%"
    assert format_percent(None) == MISSING
    with pytest.raises(ValueError, match="decimals"):
        format_number(1.0, -1)


def _parse(text: str) -> float:
    return float(text.replace(NBSP, "").replace(",", ".").replace(MINUS, "-"))


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(x=finite, decimals=st.integers(min_value=0, max_value=4))
def test_round_trip_and_layout(x: float, decimals: int) -> None:
    text = format_number(x, decimals)
    assert _parse(text) == float(f"{x:.{decimals}f}")
    assert "." not in text and "-" not in text and " " not in text
    integer_part = text.lstrip(MINUS).split(",")[0]
    assert re.fullmatch(r"\d{1,3}(\u00a0\d{3})*", integer_part)
    assert (text.count(",") == 1) == (decimals > 0)
    assert text.startswith(MINUS) == (_parse(text) < 0)


@given(x=finite, decimals=st.integers(min_value=0, max_value=3))
def test_percent_is_number_plus_sign(x: float, decimals: int) -> None:
    assert format_percent(x, decimals) == format_number(x, decimals) + f"{NBSP}%"


def test_display_tables_left_align_text_and_right_align_numbers() -> None:
    import polars as pl

    from helpers.present.tables import display_table

    frame = pl.DataFrame({"kommune": ["Bodø", "Ås"], "brukere": [1552.0, 12.5], "år": [2015, 2016]})
    page = display_table(frame, rename={"kommune": "Kommune"})._repr_html_()
    assert page.count('style="text-align:left"') == 3  # the header and two cells of the text column
    assert '<th style="text-align:left">Kommune</th><th>brukere</th>' in page
    assert '<td style="text-align:left">Bodø</td><td>1\u00a0552,0</td><td>2015</td>' in page
