"""Where the project's folders and files are: one function each, every override honoured at call time.

OMSORGSKAPASITET_ROOT overrides the project root (read when this module is imported, for the constants) and
OMSORGSKAPASITET_PROCESSED the folder of generated tables (read on every call: tests and the runner point
notebooks at a temporary one).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project's root folder (the one holding data/, notebooks/ and src/)."""
    env = os.environ.get("OMSORGSKAPASITET_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def package_dir() -> Path:
    """The `helpers` package folder (its source is part of every report's fingerprint)."""
    return Path(__file__).resolve().parent


def raw_dir(root: Path | None = None) -> Path:
    """data/raw: the snapshot as received."""
    return (root or project_root()) / "data" / "raw"


def processed_dir(root: Path | None = None) -> Path:
    """data/processed (or OMSORGSKAPASITET_PROCESSED): the generated tables."""
    env = os.environ.get("OMSORGSKAPASITET_PROCESSED")
    return Path(env) if env else (root or project_root()) / "data" / "processed"


def indicators_parquet(root: Path | None = None, structure_year: int | str | None = None) -> Path:
    """The indicator table (the default build), or the one built for another `structure_year`."""
    name = "indicators.parquet" if structure_year is None else f"indicators_{structure_year}.parquet"
    return processed_dir(root) / name


def build_info(root: Path | None = None) -> Path:
    """build_info.json beside the indicator table."""
    return processed_dir(root) / "build_info.json"


def notebooks_dir(root: Path | None = None) -> Path:
    """notebooks/."""
    return (root or project_root()) / "notebooks"


def reports_dir(root: Path | None = None) -> Path:
    """reports/: the rendered pages."""
    return (root or project_root()) / "reports"


def cache_dir() -> Path:
    """Per-user cache folder ($XDG_CACHE_HOME/omsorgskapasitet or ~/.cache/omsorgskapasitet)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "omsorgskapasitet"


ROOT = project_root()
RAW = raw_dir(ROOT)
NOTEBOOKS = notebooks_dir(ROOT)
REPORTS = reports_dir(ROOT)
