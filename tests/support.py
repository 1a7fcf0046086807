"""Small helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from helpers import paths


def value_of(table: pl.DataFrame, kommunenr: str, structure: str, year: int, indicator: str) -> float | None:
    """The single value of one key in the tidy table (asserts the key exists once)."""
    rows = table.filter(
        pl.col("kommunenr") == kommunenr, pl.col("structure") == structure, pl.col("year") == year,
        pl.col("indicator") == indicator,
    )
    assert rows.height == 1, f"expected one row for {kommunenr}/{structure}/{year}/{indicator}, got {rows.height}"
    return rows["value"][0]


def copy_raw(tmp: Path) -> Path:
    """A writable copy of data/raw for tests that corrupt a file."""
    import shutil

    target = tmp / "raw"
    shutil.copytree(paths.RAW, target, ignore=shutil.ignore_patterns("live"))
    return target


def start_chromium(width: int = 1280):
    """A started headless Chromium, or a skipped test (with the reason) where none can run."""
    import pytest

    from helpers.browser import BrowserError, HeadlessChromium, find_chromium

    if find_chromium() is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run installs it)")
    browser = HeadlessChromium(width=width)
    try:
        browser.start()
    except BrowserError as exc:
        browser.close()
        pytest.skip(f"Chromium would not start here: {exc}")
    return browser
