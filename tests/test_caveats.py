"""The caveats register: every entry valid, and each report gets exactly the entries that touch its figures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers.errors import DataError
from helpers.table import caveats


def ids(entries) -> list[str]:
    return [entry.id for entry in entries]


def test_the_register_is_valid_and_holds_the_known_breaks():
    register = caveats.load_caveats()
    assert len(ids(register)) == len(set(ids(register))) >= 10
    breaks = {c.id: c.year for c in register if c.kind == "break"}
    assert breaks == {"iplos_2019": 2019, "kommunereform_2020": 2020, "kostra_groups_2020": 2020,
                      "private_reporting_2024": 2024}


def test_a_break_applies_only_when_it_separates_two_years_of_the_analysis():
    # old Asker 2007–2016: no break inside; the merger report 2007–2022: IPLOS 2019 and the 2020 reform
    old = ids(caveats.applicable(2007, 2016, "0220", ["home_service_users"]))
    assert "iplos_2019" not in old and "kommunereform_2020" not in old and "suppressed_cells" in old
    merger = ids(caveats.applicable(2007, 2022, "3203", ["home_service_users"]))
    assert merger[:3] == ["iplos_2019", "kommunereform_2020", "kostra_groups_2020"]  # breaks first
    assert "iplos_2019" not in ids(caveats.applicable(2019, 2022, "3203", ["home_service_users"]))  # 2019 is first


def test_years_indicators_and_kommuner_narrow_an_entry():
    nurses = ["nurse_ftes_per_100_users"]
    assert "nurse_ftes_from_2015" in ids(caveats.applicable(2012, 2016, "3203", nurses))
    assert "nurse_ftes_from_2015" not in ids(caveats.applicable(2016, 2020, "3203", nurses))
    assert "nurse_ftes_from_2015" not in ids(caveats.applicable(2012, 2016, "3203", ["home_service_users"]))
    assert "haram_restored" in ids(caveats.applicable(2015, 2022, "1580"))
    assert "haram_restored" not in ids(caveats.applicable(2015, 2022, "3203"))
    definitions = caveats.applicable(2007, 2022, "3203", nurses, ("definition",))
    assert ids(definitions) == ["care_users_definition", "mean_of_two_tables"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e[0].pop("year"), "a break needs its first year"),
    (lambda e: e[1].update(indicators=["beds_per_robot"]), "catalogue ids"),
    (lambda e: e[1].update(kommuner=[220]), "quoted four-digit codes"),
    (lambda e: e.append(dict(e[0])), "duplicate ids"),
    (lambda e: e[2].update(years=[2015]), "years must be"),
    (lambda e: e[3].update(colour="red"), r"unknown fields \['colour'\]"),
])
def test_a_broken_register_names_the_file_and_the_entry(tmp_path: Path, change, message):
    entries = yaml.safe_load(caveats.REGISTER.read_text(encoding="utf-8"))
    change(entries)
    path = tmp_path / "caveats.yml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match=message) as caught:
        caveats.load_caveats(path)
    assert str(path) in str(caught.value)
