"""The project's own rules: raw data intact, dependency lists agree, notebooks without outputs."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers import paths
from helpers.sources.manifest import read_manifest, verify_manifest

MANIFESTS = sorted(paths.RAW.rglob("MANIFEST.csv"))


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: str(p.relative_to(paths.RAW)))
def test_every_raw_file_matches_its_manifest_sha256(manifest):
    assert verify_manifest(manifest) == []


def test_every_raw_file_is_listed_in_a_manifest():
    listed = {(m.parent / row["file"]).resolve() for m in MANIFESTS for row in read_manifest(m)}
    files = {
        p.resolve() for p in paths.RAW.rglob("*")
        if p.is_file() and p.name not in ("MANIFEST.csv", "README.md") and "live" not in p.parts
    }
    assert files - listed == set(), "raw files without a manifest row"


def test_manifest_names_source_and_licence():
    for row in read_manifest(paths.RAW / "MANIFEST.csv"):
        assert row["source"] and row["licence"], row["file"]
        if row["ssb_tables"]:
            assert "CC BY 4.0" in row["licence"]


def test_provenance_lives_inside_the_repository():
    """Each raw file is described in data/raw/README.md; no manifest row points to a file outside the repo."""
    readme = (paths.RAW / "README.md").read_text(encoding="utf-8")
    for row in read_manifest(paths.RAW / "MANIFEST.csv"):
        assert Path(row["file"]).name in readme, f"describe {row['file']} in data/raw/README.md"
        text = " ".join(row.values())
        assert "shared/" not in text and "SOURCES.md" not in text, row["file"]


def test_tests_write_nothing_into_the_reports_folder():
    """Screenshots and pages of tests go to pytest's temporary folders, not the user's reports/."""
    for test in sorted((paths.ROOT / "tests").glob("*.py")):
        if test.name == "test_project_rules.py":
            continue
        text = test.read_text(encoding="utf-8")
        assert "paths.REPORTS" not in text and 'project_root() / "reports"' not in text, test.name


def _normalise(requirement: str) -> tuple[str, str]:
    name, version = requirement.split("==")
    return re.sub(r"[-_.]+", "-", name.strip().lower()), version.strip()


def _project() -> dict:
    return tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_agrees_with_pyproject():
    project = _project()
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = dict(_normalise(r) for r in pip_section if "==" in r)
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    assert dict(_normalise(r) for r in wanted) == env_pins


def test_lock_pins_the_same_versions_as_pyproject():
    project = _project()
    pins = dict(_normalise(r) for group in (project["dependencies"], *project["optional-dependencies"].values())
                for r in group)
    lock = dict(_normalise(line) for line in (paths.ROOT / "requirements.lock").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert {name: lock.get(name) for name in pins} == pins


def test_test_and_lint_tools_are_not_runtime_dependencies():
    runtime = {_normalise(r)[0] for r in _project()["dependencies"]}
    assert not runtime & {"pytest", "pytest-xdist", "hypothesis", "ruff", "jupytext", "pre-commit"}


@pytest.mark.parametrize("notebook", sorted(paths.NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    dirty = [
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert dirty == [], f"{notebook.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("notebook", sorted(paths.NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_have_a_tagged_parameters_cell(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)


@pytest.mark.parametrize("notebook", sorted(paths.NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_is_in_sync_with_its_paired_text_file(notebook):
    """jupytext.toml pairs notebooks/X.ipynb with notebooks/py/X.py (py:percent); after editing either side,
    `.venv/bin/jupytext --sync notebooks/*.ipynb` brings the other along."""
    import jupytext

    paired = paths.NOTEBOOKS / "py" / f"{notebook.stem}.py"
    assert paired.exists(), f"{paired} is missing: run `.venv/bin/jupytext --sync {notebook}`"

    def cells(path):
        return [(cell.cell_type, cell.source.strip(), cell.metadata.get("tags", []))
                for cell in jupytext.read(path).cells]

    assert cells(notebook) == cells(paired), f"{notebook.name} and {paired.name} differ: run jupytext --sync"
    # the runner reads the engine a notebook asks for from this metadata: the text file must carry it too
    assert (jupytext.read(notebook).metadata.get("omsorgskapasitet")
            == jupytext.read(paired).metadata.get("omsorgskapasitet")), f"{paired.name} lacks the notebook's metadata"


def test_a_derived_indicator_needs_only_its_catalogue_entry(monkeypatch):
    """CONTRIBUTING's recipe: an indicator made from others is one catalogue entry; the build derives it."""
    import polars as pl

    from helpers.sources import indicators
    from helpers.sources.schema import conform
    from helpers.table.rates import derive

    new = indicators.Indicator("long_term_share_of_users", "Langtidsbrukere per 100 brukere (beregnet)",
                               "per 100 brukere", "rate", "sykehjem", ("11645",),
                               numerator=("long_term_users",), denominator="care_users_total", scale=100.0)
    monkeypatch.setattr(indicators, "CATALOGUE", (*indicators.CATALOGUE, new))
    monkeypatch.setitem(indicators.BY_ID, new.id, new)
    rows = conform(pl.DataFrame({
        "kommunenr": ["3203"] * 3, "kommune": ["Asker"] * 3, "structure": ["2024"] * 3, "year": [2019] * 3,
        "indicator": ["long_term_users", "home_service_users", "residents_24h_housing"],
        "value": [410.0, 2800.0, 495.0],
    }))
    derived = derive(rows).filter(pl.col("indicator") == new.id)
    # care_users_total = 2 800 + 410 is derived first, then the new rate: 410 / 3 210 × 100
    assert derived["value"].to_list() == [pytest.approx(410 / 3210 * 100)]
    assert derived["unit"].to_list() == ["per 100 brukere"]
