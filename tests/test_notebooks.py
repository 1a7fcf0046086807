"""Every notebook runs end to end with papermill (against a temporary processed folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import papermill as pm
import pytest

from helpers import paths

pytestmark = pytest.mark.notebook


def run_notebook(name: str, tmp_path: Path, **parameters) -> dict:
    """Execute notebooks/<name> with `parameters`; return the executed notebook as JSON."""
    os.environ["OMSORGSKAPASITET_PROCESSED"] = str(tmp_path / "processed")
    try:
        out = tmp_path / name
        pm.execute_notebook(str(paths.NOTEBOOKS / name), str(out), parameters=parameters, kernel_name="python3",
                            cwd=str(paths.NOTEBOOKS), progress_bar=False)
    finally:
        os.environ.pop("OMSORGSKAPASITET_PROCESSED", None)
    return json.loads(out.read_text())


def outputs_text(notebook: dict) -> str:
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for key in ("text/html", "text/markdown", "text/plain"):
                if key in data:
                    parts.append("".join(data[key]))
            parts.append("".join(output.get("text", "")))
    return "\n".join(parts)


def test_cleaning_notebook_runs_and_writes_the_table(tmp_path):
    notebook = run_notebook("01_rens_indikatorer.ipynb", tmp_path)
    assert (tmp_path / "processed" / "indicators.parquet").exists()
    text = outputs_text(notebook)
    assert "328 290" in text.replace("\u00a0", " ")  # rows in the table, Norwegian thousands separator
    assert "Eigersund" in text  # the known reporting error is listed among the flagged values
    assert "Røyken" in text and "Hurum" in text  # Asker's crosswalk


def test_cleaning_notebook_stops_on_a_bad_parameter_with_one_message(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as info:
        run_notebook("01_rens_indikatorer.ipynb", tmp_path, structure_year=1999)
    assert info.value.ename == "InputError"
    assert "impossible structure year 1999" in info.value.evalue
    assert "check_cleaning_parameters" in info.value.source  # stopped in the first cell after the parameters
    assert len(info.value.traceback) == 1  # one message, no traceback into helpers
    assert not (tmp_path / "processed" / "indicators.parquet").exists()
