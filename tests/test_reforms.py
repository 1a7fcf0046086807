"""The KLASS 131 crosswalk on the real change list."""

from __future__ import annotations

import pytest

from helpers.errors import InputError


@pytest.mark.parametrize(("year", "count"), [(2007, 431), (2019, 422), (2020, 356), (2023, 356), (2024, 357)])
def test_number_of_kommuner_per_year(reforms, year, count):
    assert len(reforms.valid_codes(year)) == count


def test_asker_merger_and_renumbering(reforms):
    for old in ("0220", "0627", "0628"):
        assert reforms.successors(old, 2019, 2024) == {"3203"}
        assert reforms.successors(old, 2019, 2020) == {"3025"}
    assert reforms.predecessors("3203", 2024, 2019) == {"0220", "0627", "0628"}
    assert reforms.successors("3203", 2024, 2019) == {"0220", "0627", "0628"}


def test_alesund_split_2024_is_detected(reforms):
    assert reforms.successors("1507", 2023, 2024) == {"1508", "1580"}
    assert reforms.is_split("1507", 2023, 2024)
    assert reforms.exact_areas("1507", 2023, 2024) == {"1508", "1580"}
    assert reforms.exact_areas("0220", 2019, 2024) is None


def test_crosswalk_relations(reforms):
    cw = reforms.crosswalk([2019, 2023], 2024)
    relation = {(c, y): r for c, y, _, _, r in cw.iter_rows()}
    assert relation[("0220", 2019)] == "merged"
    assert relation[("3025", 2023)] == "renumbered"
    assert relation[("1507", 2023)] == "split"
    assert relation[("0301", 2019)] == "same"


@pytest.mark.parametrize("year", [1850, 2006, 2031])
def test_impossible_structure_year_is_a_clear_error(reforms, year):
    with pytest.raises(InputError, match=f"impossible structure year {year}"):
        reforms.check_structure_year(year)


def test_unknown_kommune_code_is_a_clear_error(reforms):
    with pytest.raises(InputError, match="unknown kommune code '9876'"):
        reforms.check_code("9876")
    assert reforms.check_code("220") == "0220"


@pytest.mark.parametrize("code", ["３２０３", "２２０", "٣٢٠٣", "32０3"])
def test_digits_other_than_0_to_9_are_refused_as_such(reforms, code):
    """Fullwidth and other Unicode digits pass str.isdigit() and int(); they were padded to e.g. '0２２０'."""
    with pytest.raises(InputError, match=f"invalid kommune code {code!r}: write it with the digits 0-9"):
        reforms.check_code(code)
