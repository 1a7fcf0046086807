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


@pytest.mark.parametrize("detailed", ["False", 0, None, "nei"])
def test_detailed_must_be_true_or_false(detailed: object) -> None:
    """`detailed` is checked before anything else is read: "False" from a YAML quote is not False."""
    from helpers.reports.parameters import check_report_parameters

    with pytest.raises(InputError, match=r"detailed: .* is neither True nor False"):
        check_report_parameters(None, "3203", "2024", 2012, 2015, "default", "matched", detailed=detailed)
