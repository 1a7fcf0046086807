"""Reading the processed table: a clone per caller, clear errors for a damaged or missing file, and no import
of the build machinery unless a build is needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from helpers.errors import DataError, InputError
from helpers.table.processed import load_indicators, read_table, table_for_structure


def test_each_caller_gets_its_own_copy_of_a_table_read_once(tmp_path: Path) -> None:
    path = tmp_path / "indicators.parquet"
    pl.DataFrame({"structure": ["2024", "as_reported"], "value": [1.0, 2.0]}).write_parquet(path)
    first = load_indicators(path)
    first.drop_in_place("value")
    assert read_table(path).columns == ["structure", "value"]
    assert table_for_structure("2024", path).height == 2  # a structure the table holds: the table itself
    assert table_for_structure("as_reported", path).height == 2


def test_a_damaged_or_missing_table_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    damaged = tmp_path / "indicators.parquet"
    damaged.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"indicators.parquet: cannot be read .* rebuild it with"):
        read_table(damaged)
    with pytest.raises(InputError, match=r"missing.parquet does not exist; run `python -m helpers build` first"):
        load_indicators(tmp_path / "missing.parquet", build_if_missing=False)


def test_reading_the_table_does_not_import_the_build() -> None:
    code = ("import sys; from helpers.table import processed; "
            "print('helpers.table.build' in sys.modules, 'dataframely' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
