"""Where the project's folders are. OMSORGSKAPASITET_ROOT overrides the root and OMSORGSKAPASITET_PROCESSED
the folder of generated tables (tests run notebooks against a temporary one)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project's root folder (the one holding data/, notebooks/ and src/)."""
    env = os.environ.get("OMSORGSKAPASITET_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


ROOT = project_root()
RAW = ROOT / "data" / "raw"
PROCESSED = Path(os.environ.get("OMSORGSKAPASITET_PROCESSED") or ROOT / "data" / "processed")
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
INDICATORS_PARQUET = PROCESSED / "indicators.parquet"
