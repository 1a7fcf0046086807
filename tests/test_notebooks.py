"""Every notebook runs end to end with papermill (against a temporary processed folder)."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest
import support
from support import outputs_text

pytestmark = pytest.mark.notebook


def run_notebook(name: str, tmp_path: Path, **parameters) -> dict:
    """notebooks/<name> run against a temporary processed folder (notebook 01 builds into it)."""
    return support.run_notebook(name, tmp_path / name, processed=tmp_path / "processed", **parameters)


def test_cleaning_notebook_runs_and_writes_the_table(tmp_path):
    notebook = run_notebook("01_rens_indikatorer.ipynb", tmp_path)
    assert (tmp_path / "processed" / "indicators.parquet").exists()
    text = outputs_text(notebook)
    assert "328 301" in text.replace("\u00a0", " ")  # rows in the table, Norwegian thousands separator
    assert "Eigersund" in text  # the known reporting error is listed among the flagged values
    assert "Røyken" in text and "Hurum" in text  # Asker's crosswalk
    assert "IPLOS 2019" in text and "Ålesund og Haram" in text  # the whole caveats register
    assert "commit ccec304" in text and "ccec3043e06540e7" not in text  # short versions in the sources table
    assert "Panel per historisk kommunenummer" in text  # Norwegian descriptions
    assert "Ikke aktuelt (.)" in text and "SSB, landet (%)" in text and "1612 Hemne" in text  # coverage, shown


def test_cleaning_notebook_stops_on_a_bad_parameter_with_one_message(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as info:
        run_notebook("01_rens_indikatorer.ipynb", tmp_path, structure="1999")
    assert info.value.ename == "InputError"
    assert "impossible structure year 1999" in info.value.evalue
    assert "check_cleaning_parameters" in info.value.source  # stopped in the first cell after the parameters
    assert len(info.value.traceback) == 1  # one message, no traceback into helpers
    assert not (tmp_path / "processed" / "indicators.parquet").exists()


def test_before_after_report_for_asker_on_2024_borders(tmp_path):
    notebook = run_notebook("02_for_etter_kapasitet.ipynb", tmp_path, kommune="3203", structure="2024")
    text = outputs_text(notebook).replace("\u00a0", " ")
    assert "Asker (3203): kapasitet før 2012–2013 og etter 2015–2016" in text
    # 0220 + 0627 + 0628 summed: 2 476 (2012) and 2 532 (2013) home-service users → mean 2 504
    assert "Brukere av hjemmetjenester i alt økte med 6,6 % fra 2 504 i 2012–2013 til 2 670 i 2015–2016 (+165)" in text
    assert "de 20 kommunene som lignet mest på Asker (3203) før endringen" in text
    assert "Abadie" in text and "Lopez Bernal" in text and "Holm" in text
    assert "Kommunesammensl" in json.dumps(notebook)  # the 2020 reform drawn in the charts (å is escaped)


def test_before_after_report_for_old_asker_as_reported(tmp_path):
    notebook = run_notebook("02_for_etter_kapasitet.ipynb", tmp_path)  # the defaults: 0220 as reported
    text = outputs_text(notebook).replace("\u00a0", " ")
    assert "Asker (0220)" in text and "slik tallene ble rapportert" in text
    assert "Brukere av hjemmetjenester i alt økte med 12,9 % fra 1 552 i 2012–2013 til 1 752 i 2015–2016 (+200)" in text
    # 80+ rates on old Asker's own borders, from SSB's population per historic code
    assert "Brukere av hjemmetjenester 80+ per 100 innbyggere 80+ økte med 0,3 prosentpoeng" in text
    assert "Asker: 2 335" in text  # inhabitants 80+ of 0220 on 1 January 2014
    assert "Hvor mye avhenger resultatet av gruppen" in text and "Alle med uendrede grenser" in text
    assert "ventes omtrent" in text and "Holm-justering" in text
    assert "færre enn 3 år etter bruddet" in text  # two after-years: the ITS gives no p
    # entries of the caveats register that touch 0220's figures 2007–2016, and none that do not
    assert "Skjulte små tall:" in text and "Nevneren for 80+-ratene:" in text and "Brudd 2019" not in text


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"kommune": "9876"}, "unknown kommune code '9876'"),
        ({"before": [2015, 2016], "after": [2012, 2013]}, "'after' must start after 'before' ends"),
        ({"before": [2001, 2002]}, "years outside the data"),
        ({"indicators": ["home_service_users", "beds_per_robot"]}, "unknown indicator id 'beds_per_robot'"),
        ({"comparison": []}, "the comparison group is empty"),
        ({"structure": "1850"}, "impossible structure year 1850"),
        ({"comparison": "kostragruppe"}, "needs the KOSTRA grouping: run `python -m helpers fetch` first"),
    ],
)
def test_before_after_report_stops_in_the_first_cell_on_bad_parameters(tmp_path, parameters, message):
    with pytest.raises(pm.PapermillExecutionError) as info:
        run_notebook("02_for_etter_kapasitet.ipynb", tmp_path, **parameters)
    assert info.value.ename == "InputError"
    assert message in info.value.evalue
    assert "check_report_parameters" in info.value.source
    assert len(info.value.traceback) == 1


def test_before_after_report_takes_the_windows_and_group_the_command_line_makes(tmp_path):
    """`report --kommune 3203 --before 2012 --after 2014-2016 --comparison 3201,3301,3312,0301`: the command
    line accepted such windows and the notebook then refused them ("must be two years")."""
    from helpers.reports import reportsets

    report = reportsets.before_after_set("3203", reportsets.parse_years("2012"), reportsets.parse_years("2014-2016"),
                                         comparison=reportsets.parse_comparison("3201,3301,3312,0301"))
    notebook = run_notebook("02_for_etter_kapasitet.ipynb", tmp_path, **report.parameters)
    text = outputs_text(notebook).replace("\u00a0", " ")
    assert "Asker (3203): kapasitet før 2012 og etter 2014–2016" in text
    assert "Sammenlignet med: 4 valgte kommuner" in text
    assert "Brukere av hjemmetjenester i alt økte med 6,6 % fra 2 476 i 2012 til 2 639 i 2014–2016 (+163)" in text
