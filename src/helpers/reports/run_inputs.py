"""What a report's HTML depends on, and what a finished run leaves behind.

- Inputs: the processed table and every raw file (each verified against its manifest first), package
  versions, the helpers source and the git commit; `fingerprint` hashes them with the notebook and its
  parameters, so that an unchanged report can be skipped.
- State: reports/.state/<name>.json of each finished run (status, fingerprint, parameters, seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.reports.reportsets import ReportSet
from helpers.source_digest import helpers_digest  # noqa: F401  (part of this module's interface)
from helpers.sources.manifest import sha256_file, verify_raw

STATE_DIR = ".state"
VERSION_PACKAGES = ("polars", "altair", "papermill", "nbconvert", "vl-convert-python")


def built_live_run(root: Path) -> Path | None:
    """The fetch folder the processed table was built from (build_info.json), or None for the snapshot."""
    try:
        info = json.loads(paths.build_info(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = info.get("live_run") if isinstance(info, dict) else None
    return paths.raw_dir(root) / run if isinstance(run, str) and run else None


def input_hashes(root: Path) -> dict[str, str]:
    """{path relative to the root: sha256} of what the reports read: the processed table and every raw file,
    each verified against its manifest first (DataError naming the file when one does not match)."""
    raw = verify_raw(paths.raw_dir(root), built_live_run(root))
    hashes = {f"data/raw/{name}": digest for name, digest in raw.items()}
    # the tables notebooks read (helpers.table.processed.table_for_structure): the default one and any other
    # structure year's, from the processed folder the notebooks are pointed at
    for table in sorted(paths.processed_dir(root).glob("indicators*.parquet")):
        hashes[f"processed/{table.name}"] = sha256_file(table)
    return hashes


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a report (shown in its stamp)."""
    versions = {"python": sys.version.split()[0]}
    for package in (*VERSION_PACKAGES, "omsorgskapasitet"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "ikke installert"
    return versions


def git_commit(root: Path) -> str:
    """`git rev-parse HEAD` at the root, or '' when git or the repository is absent."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def data_summary(root: Path) -> tuple[str, dict[str, str]]:
    """(data vintage text, {kommunenr: name}) from data/processed/indicators.parquet, if present."""
    parquet = paths.indicators_parquet(root)
    if not parquet.exists():
        return "Øyeblikksbilde i data/raw (se sjekksummene under Reproduserbarhet)", {}
    import polars as pl

    try:
        frame = pl.read_parquet(parquet, columns=["kommunenr", "kommune", "structure", "year"])
    except (pl.exceptions.PolarsError, OSError):
        return "data/processed/indicators.parquet (kunne ikke leses)", {}
    first, last = frame["year"].min(), frame["year"].max()
    names = (
        frame.sort("structure")  # a structure year ("2024") sorts before "as_reported": its name wins
        .select("kommunenr", "kommune")
        .drop_nulls()
        .unique("kommunenr", keep="first", maintain_order=True)
        .sort("kommunenr")
    )
    text = f"SSB-tall for {first}–{last}, fra data/processed/indicators.parquet"
    return text, dict(zip(names["kommunenr"], names["kommune"], strict=True))


def fingerprint(report: ReportSet, notebook_sha256: str, inputs: dict[str, str], versions: dict[str, str],
                code: str, static: bool, shared_assets: bool = False) -> str:
    """sha256 of everything a report's HTML depends on (except the run time and git commit)."""
    payload = {
        "notebook": report.notebook,
        "notebook_sha256": notebook_sha256,
        "output": report.output,
        "parameters": report.parameters,
        "inputs": inputs,
        "versions": versions,
        "helpers": code,
        "static": static,
        **({"shared_assets": True} if shared_assets else {}),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def state_path(reports_dir: Path, name: str) -> Path:
    """reports/.state/<name>.json."""
    return reports_dir / STATE_DIR / f"{name}.json"


def read_state(reports_dir: Path, name: str) -> dict[str, Any]:
    """The recorded state of a report, or {} when none (or unreadable)."""
    try:
        return json.loads(state_path(reports_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def all_states(reports_dir: Path) -> list[dict[str, Any]]:
    """Every recorded state, for the index."""
    folder = reports_dir / STATE_DIR
    states = [read_state(reports_dir, path.stem) for path in sorted(folder.glob("*.json"))]
    return [state for state in states if state.get("name")]


def kernel_env(root: Path) -> dict[str, str]:
    """Environment the notebooks get from the batch: the project root and SOURCE_DATE_EPOCH if set (an empty
    one is left out: IPython reads it as a number)."""
    env = {"OMSORGSKAPASITET_ROOT": str(root)}
    if os.environ.get("SOURCE_DATE_EPOCH"):
        env["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
    return env
