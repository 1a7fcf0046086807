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


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = dict(_normalise(r) for r in pip_section if "==" in r)
    assert dict(_normalise(r) for r in project) == env_pins


def test_lock_pins_the_same_versions_as_pyproject():
    project = dict(_normalise(r) for r in tomllib.loads(
        (paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    lock = dict(_normalise(line) for line in (paths.ROOT / "requirements.lock").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert {name: lock.get(name) for name in project} == project


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
