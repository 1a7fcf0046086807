"""The full build from the real snapshot: known figures, the 12209 reconciliation, and bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest
from support import accept_change, copy_raw, value_of

from helpers.errors import DataError, InputError
from helpers.sources.manifest import sha256_file
from helpers.table.build import build_indicators
from helpers.table.reconcile import reconcile_share_80plus
from helpers.table.validate import validate


def test_asker_2019_home_service_users_on_2024_borders_sum_the_three_predecessors(built_table, raw_panel):
    parts = raw_panel.filter(pl.col("år") == 2019, pl.col("kommunenr_hist").is_in(["0220", "0627", "0628"]))
    assert parts.height == 3
    expected = parts["Y_1_a_ialt"].sum()
    assert expected == 1886 + 601 + 348
    assert value_of(built_table, "3203", "2024", 2019, "home_service_users") == expected
    assert value_of(built_table, "0220", "as_reported", 2019, "home_service_users") == 1886


def test_asker_structure_column_and_names(built_table):
    asker = built_table.filter(pl.col("kommunenr") == "3203")
    assert set(asker["structure"]) == {"2024", "as_reported"}
    assert set(asker["kommune"]) == {"Asker"}
    assert asker.filter(pl.col("structure") == "as_reported")["year"].min() == 2024


def test_ssb_published_share_for_old_asker_2019(built_table):
    assert value_of(built_table, "0220", "as_reported", 2019, "ssb_share_80plus_home_services") == 22.1
    row = built_table.filter(pl.col("kommunenr") == "3203", pl.col("structure") == "2024", pl.col("year") == 2019,
                             pl.col("indicator") == "ssb_share_80plus_home_services")
    assert row["value"][0] is None and row["flag"][0] == "not_harmonisable"


def test_asker_2023_computed_share_matches_ssb(built_table):
    computed = value_of(built_table, "3025", "as_reported", 2023, "home_service_users_80plus_per_100_80plus")
    assert computed == pytest.approx(969 / 4515 * 100)
    assert round(computed, 1) == value_of(built_table, "3025", "as_reported", 2023, "ssb_share_80plus_home_services")


def test_reconciliation_2023_agrees_for_every_kommune_with_both_figures(built_table):
    result = reconcile_share_80plus(built_table, years=(2023,))
    comparable = result.filter(pl.col("computed").is_not_null())
    assert comparable.height >= 349
    assert comparable.filter(~pl.col("agrees")).height == 0, comparable.filter(~pl.col("agrees"))
    # the few without a computed figure are listed with a reason
    missing = result.filter(pl.col("computed").is_null())
    assert set(missing["kommunenr"]) == {"1144", "4633", "5043"}
    assert missing["reason"].null_count() == 0


def test_alesund_split_uses_both_successors_population(built_table):
    pop_1507 = value_of(built_table, "1507", "as_reported", 2023, "population_80plus")
    pop_1508 = value_of(built_table, "1508", "2024", 2023, "population_80plus")
    pop_1580 = value_of(built_table, "1580", "2024", 2023, "population_80plus")
    assert pop_1507 == pop_1508 + pop_1580
    flagged = built_table.filter(pl.col("kommunenr") == "1580", pl.col("structure") == "2024",
                                 pl.col("year") == 2021, pl.col("indicator") == "home_service_users")
    assert flagged["value"][0] is None and flagged["flag"][0] == "split"


def test_haram_history_is_filled_from_1534_and_alesund_2020_2023_stays_split(built_table, raw_panel):
    old_haram = raw_panel.filter(pl.col("kommunenr_hist") == "1534", pl.col("år") == 2012)
    assert value_of(built_table, "1580", "2024", 2012, "home_service_users") == old_haram["Y_1_a_ialt"][0] == 428
    assert value_of(built_table, "1580", "2024", 2012, "long_term_users") == old_haram["Y_3_a_ialt"][0]
    # the other part: today's Ålesund = 1504 + 1523 + 1529 + 1546
    parts = raw_panel.filter(pl.col("kommunenr_hist").is_in(["1504", "1523", "1529", "1546"]), pl.col("år") == 2012)
    assert value_of(built_table, "1508", "2024", 2012, "home_service_users") == parts["Y_1_a_ialt"].sum()
    # 80+ population of 1580 from the panel's 1580 area (1 January 2013); the rate follows
    assert value_of(built_table, "1580", "2024", 2012, "population_80plus") == 543
    assert value_of(built_table, "1534", "as_reported", 2012, "population_80plus") == 543
    filled = built_table.filter(pl.col("kommunenr") == "1580", pl.col("structure") == "2024", pl.col("year") <= 2019,
                                pl.col("value").is_not_null())
    assert filled.height > 200
    for code in ("1508", "1580"):
        still = built_table.filter(pl.col("kommunenr") == code, pl.col("structure") == "2024",
                                   pl.col("year").is_between(2020, 2023), pl.col("indicator") == "home_service_users")
        assert still["value"].null_count() == 4 and set(still["flag"]) == {"split"}


def test_catalogue_indicators_missing_from_snapshot_are_present_as_missing(built_table):
    places = built_table.filter(pl.col("indicator") == "institution_places_per_100_80plus")
    assert places.height > 0 and places["value"].null_count() == places.height


def test_validation_reports_offending_rows(built_table, reforms):
    duplicated = pl.concat([built_table.head(3), built_table.head(1)])
    with pytest.raises(DataError, match="primary_key"):
        validate(duplicated, reforms)
    inconsistent = built_table.head(2).with_columns(pl.lit(None, dtype=pl.Float64).alias("value"),
                                                    pl.lit(None, dtype=pl.String).alias("status"))
    with pytest.raises(DataError, match="value_status_consistent"):
        validate(inconsistent, reforms)


def test_code_not_valid_for_its_year_fails_validation(built_table, reforms):
    wrong = built_table.filter(pl.col("kommunenr") == "3203", pl.col("structure") == "as_reported").head(1)
    wrong = wrong.with_columns(pl.lit(2015, dtype=pl.Int32).alias("year"))
    with pytest.raises(DataError, match="not valid for their year"):
        validate(wrong, reforms)


def test_corrupt_jsonstat_file_is_a_clear_error_and_leaves_no_file(tmp_path):
    raw = copy_raw(tmp_path)
    target = raw / "ssb" / "ssb_12209_v2_response.json"
    target.write_bytes(target.read_bytes()[:1000])
    accept_change(raw, "ssb/ssb_12209_v2_response.json")
    out = tmp_path / "processed" / "indicators.parquet"
    with pytest.raises(DataError, match=r"ssb_12209_v2_response\.json: not valid JSON"):
        build_indicators(out=out, raw=raw)
    assert not out.exists() and list(out.parent.glob("*")) == []


# ---------------------------------------------------------------- the snapshot is checked before every build

PANEL = "ssb/paneldata_2007_2025_bred.csv"


def _truncate_at_a_line_break(path):
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) * 3 // 4) + 1])


def _change_one_digit(path):
    """Oslo's 2007 home-service users 16473 -> 16474 (a figure, not a code: the table would still validate)."""
    data = path.read_bytes()
    assert data.count(b',2007,5659,2782,8032,16473,') == 1
    path.write_bytes(data.replace(b',2007,5659,2782,8032,16473,', b',2007,5659,2782,8032,16474,'))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: _truncate_at_a_line_break(raw / PANEL), rf"{PANEL}: sha256 [0-9a-f]{{64}} differs"),
        (lambda raw: _change_one_digit(raw / PANEL), rf"{PANEL}: sha256 [0-9a-f]{{64}} differs"),
        (lambda raw: (raw / PANEL).unlink(), rf"{PANEL}: listed in .*MANIFEST.csv but missing"),
        (lambda raw: (raw / "MANIFEST.csv").unlink(), r"MANIFEST.csv: missing; .*git checkout"),
        (lambda raw: (raw / "ssb" / "ekstra.csv").write_text("a,b\n1,2\n"),
         r"ssb/ekstra.csv: not listed in .*MANIFEST.csv; add a row for it .*sha256 [0-9a-f]{64}"),
    ],
    ids=["truncated-at-line-break", "one-digit-changed", "file-missing", "manifest-missing", "file-not-listed"],
)
def test_a_damaged_snapshot_never_builds(tmp_path, damage, message):
    raw = copy_raw(tmp_path)
    damage(raw)
    out = tmp_path / "processed" / "indicators.parquet"
    with pytest.raises(DataError, match=message) as info:
        build_indicators(out=out, raw=raw)
    assert "nothing was read" in str(info.value).splitlines()[0]
    assert not out.exists() and not out.with_name("build_info.json").exists()


@pytest.mark.slow
def test_build_info_lists_every_verified_raw_file(tmp_path):
    from helpers.sources.manifest import read_manifest

    out = tmp_path / "indicators.parquet"
    raw = copy_raw(tmp_path)
    build_indicators(out=out, raw=raw)
    info = json.loads(out.with_name("build_info.json").read_text())
    rows = read_manifest(raw / "MANIFEST.csv")
    assert info["inputs"] == {row["file"]: row["sha256"] for row in sorted(rows, key=lambda r: r["file"])}
    assert info["live_run"] is None


@pytest.mark.parametrize("year", [1999, 2035])
def test_impossible_structure_year_is_a_clear_error_and_leaves_no_file(tmp_path, year):
    out = tmp_path / "indicators.parquet"
    with pytest.raises(InputError, match="impossible structure year"):
        build_indicators(structure_year=year, out=out)
    assert not out.exists()


def test_unknown_source_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="source must be one of"):
        build_indicators(source="excel", out=tmp_path / "x.parquet")


def test_source_ssb_without_a_fetch_says_to_run_fetch(tmp_path):
    raw = copy_raw(tmp_path)
    with pytest.raises(InputError, match="fetch"):
        build_indicators(source="ssb", out=tmp_path / "x.parquet", raw=raw)


@pytest.mark.slow
def test_source_ssb_reads_the_latest_fetch_and_replaces_snapshot_rows(tmp_path):
    """A fake fetch run made of a real recorded 12209 response, with one value changed to show the swap."""
    from helpers.sources.manifest import write_manifest

    raw = copy_raw(tmp_path)
    run = raw / "ssb" / "live" / "20261201T000000Z"
    run.mkdir(parents=True)
    payload = json.loads((raw / "ssb" / "ssb_12209_v2_response.json").read_text())
    index = payload["dimension"]["KOKkommuneregion0000"]["category"]["index"]["1101"]
    payload["value"][index * 2 + 1] = 99.9  # Eigersund 2023 in the "fetched" copy
    (run / "12209_data.json").write_text(json.dumps(payload))
    write_manifest(run / "MANIFEST.csv", [{"file": "12209_data.json", "ssb_tables": "12209",
                                           "sha256": sha256_file(run / "12209_data.json")}])
    table = build_indicators(source="ssb", out=tmp_path / "x.parquet", raw=raw)
    assert value_of(table, "1101", "as_reported", 2023, "ssb_share_80plus_home_services") == 99.9
    assert value_of(table, "0220", "as_reported", 2019, "ssb_share_80plus_home_services") == 22.1
    source = table.filter(pl.col("kommunenr") == "1101", pl.col("structure") == "as_reported", pl.col("year") == 2023,
                          pl.col("indicator") == "ssb_share_80plus_home_services")["source"][0]
    assert source.startswith("SSB 12209 (hentet 20261201T000000Z)")
    info = json.loads((tmp_path / "build_info.json").read_text())
    assert info["live_run"] == "ssb/live/20261201T000000Z"
    assert info["inputs"]["ssb/live/20261201T000000Z/12209_data.json"] == sha256_file(run / "12209_data.json")

    # The fetch folder is checked against its own manifest: a changed or unlisted file stops the build.
    (run / "extra.json").write_text("{}")
    with pytest.raises(DataError, match=r"extra.json: not listed in .*20261201T000000Z/MANIFEST.csv"):
        build_indicators(source="ssb", out=tmp_path / "x.parquet", raw=raw)
    (run / "extra.json").unlink()
    (run / "12209_data.json").write_text(json.dumps(payload).replace("99.9", "99.8"))
    with pytest.raises(DataError, match=r"12209_data.json: sha256 .* differs .*helpers fetch` again"):
        build_indicators(source="ssb", out=tmp_path / "x.parquet", raw=raw)
