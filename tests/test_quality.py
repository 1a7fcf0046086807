"""Coverage counts, the national comparison and the sources table for the cleaning report."""

from __future__ import annotations

import polars as pl

from helpers import paths
from helpers.sources.descriptions import DESCRIPTIONS_NB, short_version, sources_table
from helpers.table import quality


def test_coverage_counts_add_up_and_name_the_reasons(built_table):
    counts = quality.coverage_counts(built_table, "2024", ["home_service_users", "nurse_ftes"])
    parts = ["with_value", "missing", "suppressed", "split", "not_applicable"]
    assert (counts.select(pl.sum_horizontal(parts))["with_value"] == counts["kommuner"]).all()
    assert counts["indicator"].unique(maintain_order=True).to_list() == ["home_service_users", "nurse_ftes"]
    users_2024 = counts.filter(pl.col("indicator") == "home_service_users", pl.col("year") == 2024).row(0, named=True)
    assert users_2024["kommuner"] == users_2024["with_value"] == 357
    # 1508 and 1580 cannot divide what 1507 reported for 2021
    users_2021 = counts.filter(pl.col("indicator") == "home_service_users", pl.col("year") == 2021).row(0, named=True)
    assert users_2021["split"] == 2
    nurses_2012 = counts.filter(pl.col("indicator") == "nurse_ftes", pl.col("year") == 2012).row(0, named=True)
    assert nurses_2012["not_applicable"] == 357 and nurses_2012["missing"] == 0


def test_summed_share_matches_ssbs_national_figure(built_table):
    check = quality.national_share_check(built_table, paths.RAW / "ssb" / "ssb_12209_v2_response.json")
    assert check["year"].to_list() == [2019, 2023]
    assert check["ssb"].to_list() == [30.0, 26.9]  # 12209, region EAK "Landet"
    assert (check["difference"].abs() < 0.06).all()
    assert check.filter(pl.col("year") == 2023)["kommuner_used"][0] == 350


def test_panel_gaps_list_codes_without_rows(reforms):
    gaps = quality.panel_gaps(reforms)
    first = gaps.filter(pl.col("year") == 2007).row(0, named=True)
    assert first["codes"] == 21 and "0237 Eidsvoll" in first["names"] and "1805 Narvik" in first["names"]
    assert 0 < first["population_share_today"] < 0.05
    assert gaps["year"].max() == 2019  # from 2020 every valid code has a row


def test_sources_table_is_short_and_norwegian():
    table = sources_table()
    manifest = pl.read_csv(paths.RAW / "MANIFEST.csv", infer_schema_length=0)
    assert table.height == manifest.height
    assert set(manifest["file"]) <= set(DESCRIPTIONS_NB)  # every snapshot file has a Norwegian description
    assert table.filter(pl.col("Fil") == "ssb/paneldata_2007_2025_bred.csv")["Versjon"][0] == "commit ccec304"
    assert table["sha256"].str.len_chars().max() == 12
    norwegian = short_version("compiled 2026-12-03 from the sources named")
    assert norwegian == "satt sammen 2026-12-03 fra kildene som er nevnt"
    assert not table["Versjon"].str.contains(r"[0-9a-f]{20}").any()
