"""MANIFEST.csv files: one row per raw file with its source, SSB tables, date, sha256 and licence.

`verify_raw` is the check every build (and every report batch) makes before reading data/raw: the manifest
exists, every listed file exists with its sha256, and every file is listed. Files of a live fetch
(`ssb/live/<stamp>/`) are listed in that folder's own manifest, written by the fetch.
"""

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
    """Rows of a MANIFEST.csv as dicts; raises DataError when it cannot be read or columns are missing."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = set(MANIFEST_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"{path}: manifest lacks columns {sorted(missing)}; expected {MANIFEST_COLUMNS}.")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV manifest ({exc}); restore it from git.") from None


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
    problems: list[str] = []
    for file, expected in _checked_rows(path, path.parent, problems).items():
        problem = _file_problem(file, expected, path, RESTORE.format(path=file))
        if problem:
            problems.append(problem)
    return problems


LIVE = Path("ssb") / "live"
NOT_DATA = ("MANIFEST.csv", "README.md")
RESTORE = ("raw files stay as received: restore it with `git checkout -- {path}` (a new version of a source "
           "goes in as a new file with its own row)")
REFETCH = "a fetch folder stays as fetched: delete the folder and run `python -m helpers fetch` again"


def _checked_rows(manifest: Path, folder: Path, problems: list[str]) -> dict[Path, str]:
    """{file: expected sha256} of a manifest's rows; bad paths and duplicates go to `problems`."""
    listed: dict[Path, str] = {}
    for row in read_manifest(manifest):
        name = (row.get("file") or "").strip()
        file = (folder / name).resolve()
        if not name or Path(name).is_absolute() or not file.is_relative_to(folder.resolve()):
            problems.append(f"{manifest}: row with file {name!r}: must be a path inside {folder}")
        elif file in listed:
            problems.append(f"{manifest}: {name} is listed twice; keep one row")
        else:
            listed[file] = (row.get("sha256") or "").strip().lower()
    return listed


def _file_problem(file: Path, expected: str, manifest: Path, fix: str) -> str | None:
    """What is wrong with one listed file (missing, or another sha256), or None when it is intact."""
    if not file.is_file():
        return f"{file}: listed in {manifest} but missing; {fix}"
    actual = sha256_file(file)
    if actual != expected:
        return f"{file}: sha256 {actual} differs from {expected or '(none)'} in {manifest}; {fix}"
    return None


def _unlisted(folder: Path, listed: dict[Path, str], skip_live: bool) -> list[Path]:
    """Files below `folder` that no manifest row names (hidden files and README/MANIFEST aside)."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or path.name in NOT_DATA or not path.is_file():
            continue
        if skip_live and relative.is_relative_to(LIVE):
            continue
        if path.resolve() not in listed:
            files.append(path)
    return files


def verify_raw(raw: Path | str, live_run: Path | str | None = None) -> dict[str, str]:
    """Check `raw` (data/raw) against its MANIFEST.csv, and `live_run` (a fetch folder a build reads)
    against its own; return {path relative to `raw`: sha256} of every verified file.

    DataError listing each problem with the file and what to do: no manifest, a listed file missing or
    changed, a file not listed.
    """
    raw = Path(raw)
    problems: list[str] = []
    verified: dict[str, str] = {}
    folders = [(raw, True)] + ([(Path(live_run), False)] if live_run is not None else [])
    for folder, is_snapshot in folders:
        manifest = folder / "MANIFEST.csv"
        if not manifest.is_file():
            what = f"restore it with `git checkout -- {manifest}`" if is_snapshot else REFETCH
            problems.append(f"{manifest}: missing; every raw file is checked against it: {what}")
            continue
        listed = _checked_rows(manifest, folder, problems)
        for file, expected in listed.items():
            shown = file.relative_to(raw.resolve()) if file.is_relative_to(raw.resolve()) else file
            fix = RESTORE.format(path=raw / shown) if is_snapshot else REFETCH
            problem = _file_problem(file, expected, manifest, fix)
            if problem:
                problems.append(problem)
            else:
                verified[Path(shown).as_posix()] = expected
        for file in _unlisted(folder, listed, skip_live=is_snapshot):
            problems.append(f"{file}: not listed in {manifest}; add a row for it (file, source, ssb_tables, "
                            f"description, retrieved, sha256 {sha256_file(file)}, licence) or move it out of "
                            f"{folder}")
    if problems:
        raise DataError(f"{raw} does not match its manifest ({len(problems)} problem"
                        f"{'s' if len(problems) > 1 else ''}); nothing was read:\n" + "\n".join(problems))
    return dict(sorted(verified.items()))
