"""The notebooks' parameter checks that the command line relies on."""

from __future__ import annotations

import pytest

from helpers.errors import InputError
from helpers.reports.parameters import check_years


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (2012, (2012, 2012)), ("2012", (2012, 2012)), ([2012], (2012, 2012)), ([2012, 2014], (2012, 2014)),
        ((2012, 2014), (2012, 2014)), ("2012-2014", (2012, 2014)), ("2012–2014", (2012, 2014)),
        ([2012, 2013, 2014], (2012, 2014)), (["2012", "2013"], (2012, 2013)),
    ],
)
def test_a_window_is_one_year_or_first_and_last(window: object, expected: tuple[int, int]) -> None:
    assert check_years(window, "before") == expected


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ([2012, 2014, 2016], "must be consecutive"), ("２０１２", "must be one year or a window"),
        (True, "must be one year or a window"), ([], "must be one year or a window"),
        ("2012,2014", "must be one year or a window"), ([2014, 2012], "first year after last (2014 > 2012)"),
        ("2_012", "must be one year or a window"), (2012.5, "must be one year or a window"),
    ],
)
def test_other_windows_are_refused_with_what_is_accepted(window: object, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_years(window, "before")
