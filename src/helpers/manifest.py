"""MANIFEST.csv files: one row per raw file with its source, SSB tables, date, sha256 and licence."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

from helpers.atomic import atomic_write_text
from helpers.errors import DataError

MANIFEST_COLUMNS = ("file", "source", "ssb_tables", "description", "retrieved", "sha256", "licence")
SSB_LICENCE = "CC BY 4.0; Statistisk sentralbyrå (SSB); figures processed by omsorgskapasitet"


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path | str) -> list[dict[str, str]]:
    """Rows of a MANIFEST.csv as dicts; raises DataError when columns are missing."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(MANIFEST_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: manifest lacks columns {sorted(missing)}; expected {MANIFEST_COLUMNS}.")
        return list(reader)


def write_manifest(path: Path | str, rows: Iterable[dict[str, str]]) -> Path:
    """Write a complete MANIFEST.csv atomically (used for new fetch folders only, never the snapshot's)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in MANIFEST_COLUMNS})
    return atomic_write_text(path, buffer.getvalue())


def verify_manifest(path: Path | str) -> list[str]:
    """Problems found when recomputing every sha256 of a manifest (empty list = all files intact)."""
    path = Path(path)
    problems = []
    for row in read_manifest(path):
        file = path.parent / row["file"]
        if not file.exists():
            problems.append(f"{file}: listed in {path.name} but missing")
        elif sha256_file(file) != row["sha256"].strip():
            problems.append(f"{file}: sha256 differs from {path.name} (raw data must stay as received)")
    return problems
