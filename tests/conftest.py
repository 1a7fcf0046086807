"""Shared fixtures: the indicator table is built once per test process into a temporary folder."""

from __future__ import annotations

import polars as pl
import pytest

from helpers import paths
from helpers.table.build import build_indicators
from helpers.table.reforms import Reforms, load_reforms

ROOT = paths.ROOT


@pytest.fixture(scope="session")
def reforms() -> Reforms:
    return load_reforms()


@pytest.fixture(scope="session")
def built_table(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("processed") / "indicators.parquet"
    return build_indicators(out=out)


@pytest.fixture(scope="session")
def raw_panel() -> pl.DataFrame:
    return pl.read_csv(
        paths.RAW / "ssb" / "paneldata_2007_2025_bred.csv",
        schema_overrides={"kommunenr_2024": pl.String, "kommunenr_hist": pl.String},
    )
