"""The KLASS 131 crosswalk on the real change list."""

from __future__ import annotations

import dataclasses

import pytest

from helpers.errors import DataError, InputError
from helpers.table.reforms import Restoration, load_reforms, read_restorations


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


def test_haram_2024_has_the_borders_of_haram_before_2020(reforms):
    # data/raw/reforms/restored_borders.csv, from Stortinget's decision: the border follows old Haram's
    assert reforms.successors("1534", 2015, 2024) == {"1580"}
    assert reforms.exact_areas("1534", 2019, 2024) == {"1580"}
    assert reforms.predecessors("1580", 2024, 2019) == {"1534"}
    # the rest of 1507 is today's Ålesund, forward and backward
    for old in ("1504", "1523", "1529", "1546"):
        assert reforms.successors(old, 2019, 2024) == {"1508"}
    assert reforms.predecessors("1508", 2024, 2012) == {"1504", "1523", "1529", "1546"}
    assert reforms.successors("1580", 2024, 2012) == {"1534"}
    assert reforms.successors("1508", 2024, 2012) == {"1504", "1523", "1529", "1546"}
    # what 1507 reported 2020–2023 still spreads over both
    assert reforms.successors("1507", 2021, 2024) == {"1508", "1580"}
    assert reforms.successors("1580", 2024, 2021) == {"1507"}
    assert reforms.successors("1534", 2019, 2021) == {"1507"}


def test_without_the_restoration_table_the_old_codes_stay_split(tmp_path):
    plain = load_reforms(restored=tmp_path / "absent.csv")
    assert plain.restorations == ()
    assert plain.successors("1534", 2015, 2024) == {"1508", "1580"}


def test_restoration_rows_are_checked_against_klass(reforms, tmp_path):
    assert read_restorations() == reforms.restorations and len(reforms.restorations) == 1
    wrong = dataclasses.replace(reforms, restorations=(Restoration("1580", 2024, "1535", 2019),))
    with pytest.raises(DataError, match="no merger of 1535"):
        wrong.check_restorations()
    wrong = dataclasses.replace(reforms, restorations=(Restoration("3203", 2024, "1534", 2019),))
    with pytest.raises(DataError, match="does not split 1507 into 3203"):
        wrong.check_restorations()
    broken = tmp_path / "restored.csv"
    broken.write_text("code,valid_from\n1580,2024\n", encoding="utf-8")
    with pytest.raises(DataError, match="columns"):
        read_restorations(broken)


def test_crosswalk_relations(reforms):
    cw = reforms.crosswalk([2019, 2023], 2024)
    relation = {(c, y): r for c, y, _, _, r in cw.iter_rows()}
    assert relation[("0220", 2019)] == "merged"
    assert relation[("3025", 2023)] == "renumbered"
    assert relation[("1507", 2023)] == "split"
    assert relation[("1534", 2019)] == "renumbered" and relation[("1504", 2019)] == "merged"
    assert relation[("0301", 2019)] == "same"


@pytest.mark.parametrize("year", [1850, 2006, 2031])
def test_impossible_structure_year_is_a_clear_error(reforms, year):
    with pytest.raises(InputError, match=f"impossible structure year {year}"):
        reforms.check_structure_year(year)


def test_unknown_kommune_code_is_a_clear_error(reforms):
    with pytest.raises(InputError, match="unknown kommune code '9876'"):
        reforms.check_code("9876")
    assert reforms.check_code("220") == "0220"


def test_area_changes_tell_mergers_splits_and_new_numbers_apart(reforms):
    # Asker: 0220 + 0627 + 0628 → 3025 (2020), 3025 → 3203 (2024)
    assert reforms.area_changes("3203", 2024, 2007, 2024) == ((2020, "merger"), (2024, "renumbered"))
    # Bærum only changed number: 0219 → 3024 (2020) → 3201 (2024); its borders never changed
    assert reforms.area_changes("3201", 2024, 2007, 2024) == ((2020, "renumbered"), (2024, "renumbered"))
    assert reforms.borders_changed("3201", 2024, 2007, 2024) == ()
    # Trondheim kept 5001 when Klæbu joined in 2020: the pair 5001 → 5001 is the continuing code, not a rename
    assert (2020, "merger") in reforms.area_changes("5001", 2024, 2007, 2024)
    # Haram: part of Ålesund from 2020, split off again in 2024
    assert reforms.area_changes("1580", 2024, 2007, 2024) == ((2020, "merger"), (2024, "split"))
    # a pure name change (1514 Sande keeps its code in 2020) is no change at all
    assert reforms.area_changes("1514", 2024, 2007, 2024) == ()
    # a historic code, seen from its own year: old Asker was unchanged 2007–2016
    assert reforms.borders_changed("0220", 2013, 2007, 2016) == ()
    assert reforms.borders_changed("0220", 2013, 2007, 2021) == (2020,)


@pytest.mark.parametrize("code", ["３２０３", "２２０", "٣٢٠٣", "32０3"])
def test_digits_other_than_0_to_9_are_refused_as_such(reforms, code):
    """Fullwidth and other Unicode digits pass str.isdigit() and int(); they were padded to e.g. '0２２０'."""
    with pytest.raises(InputError, match=f"invalid kommune code {code!r}: write it with the digits 0-9"):
        reforms.check_code(code)
