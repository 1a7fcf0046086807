"""helpers.analysis on the real snapshot: reform-clean groups, the 0220 report's figures, and size checks.

The size checks run the tests on kommuner where nothing happened — every comparison kommune in turn as if it
were the treated one — and require the share with p < 0.05 to stay at most 10 % (it should be near 5 %). The
same check of the ordinary OLS p-values of the ITS model fails (15–25 %; benchmarks/inference_size.py).
"""

from __future__ import annotations

import polars as pl
import pytest
from panels import only

from helpers import analysis
from helpers.errors import InputError
from helpers.sources.indicators import DEFAULT_REPORT_SET

IDS = [i for i in DEFAULT_REPORT_SET if i != "institution_places_per_100_80plus"]
MERGER = {"before": (2018, 2019), "after": (2021, 2022), "pre_start": 2007}
REPORT_2015 = {"before": (2012, 2013), "after": (2015, 2016), "pre_start": 2007}


@pytest.fixture(scope="module")
def panel_2024(built_table: pl.DataFrame) -> pl.DataFrame:
    return built_table.filter(pl.col("structure") == "2024")


@pytest.fixture(scope="module")
def panel_reported(built_table: pl.DataFrame) -> pl.DataFrame:
    return built_table.filter(pl.col("structure") == "as_reported")


def test_merger_report_group_holds_no_kommune_merged_or_split_in_its_years(panel_2024, reforms):
    group = analysis.select_group(panel_2024, "3203", reforms=reforms, indicators=IDS, **MERGER)
    assert len(group) == 20 and group.reform_window == (2007, 2022)
    assert all(reforms.borders_changed(code, 2024, 2007, 2022) == () for code in group.codes)
    left_out = {item.kommunenr: item.years for item in group.left_out}
    assert left_out["3301"] == (2020,)  # Drammen took in Nedre Eiker and Svelvik in 2020
    assert "3201" not in left_out  # Bærum only changed number
    assert {"size:population_80plus", "level:care_24h_per_100_80plus", "trend:care_24h_per_100_80plus",
            "level:home_service_users_80plus_per_100_80plus"} <= set(group.match_features)
    # without the rule, the old default (20 nearest in size) held kommuner merged in 2020
    old = analysis.select_group(panel_2024, "3203", "similar_size", reforms=reforms, indicators=IDS,
                                reform_clean=False, **MERGER)
    assert sum(bool(reforms.borders_changed(c, 2024, 2018, 2022)) for c in old.codes) >= 5


def test_old_asker_is_compared_with_kommuner_as_they_were(panel_reported, reforms):
    group = analysis.select_group(panel_reported, "0220", reforms=reforms, indicators=IDS, **REPORT_2015)
    valid_2013 = reforms.valid_codes(2013)
    assert len(group) == 20 and all(code in valid_2013 for code in group.codes)
    # 07459 for 0220 on 1 January 2014 (= 31.12.2013)
    assert group.size_indicator == "population_80plus" and group.own_size == pytest.approx(2335)
    assert not any(code.startswith(("30", "32", "33")) for code in group.codes)  # no post-2020 codes


def test_old_asker_2012_2016_figures(panel_reported, reforms):
    group = analysis.select_group(panel_reported, "0220", reforms=reforms, indicators=IDS, **REPORT_2015)
    result = analysis.compare(panel_reported, "0220", group, IDS, **REPORT_2015)
    users = only(result.before_after, indicator="home_service_users")
    # 0220 alone: 1 574 and 1 529 users in 2012–2013, 1 690 and 1 814 in 2015–2016 (SSB via the panel)
    assert (users["before"], users["after"], users["change"]) == (1551.5, 1752.0, 200.5)
    assert users["scale"] == "pct" and users["stat"] == pytest.approx(200.5 / 1551.5 * 100)
    rate = only(result.before_after, indicator="home_service_users_80plus_per_100_80plus")
    assert rate["before"] is not None and rate["after"] is not None  # 80+ rates exist on 0220's own borders
    estimates = result.did.estimates.filter(pl.col("p_value").is_not_null())
    assert estimates.height >= 8 and (estimates["n_units"] == 21).all()


def test_sensitivity_table_covers_the_groups(panel_2024, reforms):
    group = analysis.select_group(panel_2024, "3203", reforms=reforms, indicators=IDS, **MERGER)
    table = analysis.sensitivity(panel_2024, "3203", IDS, reforms=reforms, report_group=group, **MERGER)
    assert set(table["variant"]) == {"report", "matched_10", "matched_40", "all_clean", "all", "size_20_with_reforms"}
    sizes = dict(table.select("variant", "n_group_chosen").unique().iter_rows())
    assert sizes["all"] > sizes["all_clean"] > sizes["matched_40"] == 40
    report = table.filter(pl.col("variant") == "report").drop("variant", "n_group_chosen")
    own = analysis.compare(panel_2024, "3203", group, IDS, **MERGER).did.estimates
    assert report["difference"].to_list() == pytest.approx(own["difference"].to_list(), nan_ok=True)


def _clean(reforms, last: int) -> list[str]:
    return [c for c in sorted(reforms.valid_codes(2024)) if not reforms.borders_changed(c, 2024, 2007, last)]


@pytest.mark.slow
@pytest.mark.parametrize(("before", "after"), [((2012, 2013), (2015, 2017)), ((2018, 2019), (2021, 2023))])
def test_its_size_on_kommuner_where_nothing_happened(panel_2024, reforms, before, after):
    runs = analysis.its_size_runs(panel_2024, _clean(reforms, after[1]), IDS, before, after, pre_start=2007)
    assert runs.height > 1500 and runs["indicator"].n_unique() >= 8
    assert (runs["p_value"] < 0.05).mean() <= 0.10


@pytest.mark.slow
@pytest.mark.parametrize(("before", "after"), [((2012, 2013), (2015, 2016)), ((2018, 2019), (2021, 2022))])
def test_did_size_on_kommuner_where_nothing_happened(panel_2024, reforms, before, after):
    runs = analysis.did_size_runs(panel_2024, _clean(reforms, after[1]), IDS, before, after)
    assert runs.height > 2500
    assert (runs["p_value"] < 0.05).mean() <= 0.10 and (runs["p_value"] <= 0.05).mean() <= 0.10


@pytest.mark.slow
def test_did_size_with_each_kommunes_own_matched_group(panel_2024, reforms):
    # the report's whole procedure — a matched, reform-clean group per kommune — on every sixth kommune
    p_values, refused = [], 0
    for code in _clean(reforms, 2016)[::6]:
        try:
            group = analysis.select_group(panel_2024, code, reforms=reforms, indicators=IDS, **REPORT_2015)
        except InputError:  # no size measure in 2013 (e.g. 1875 Hamarøy, split in 2020)
            refused += 1
            continue
        result = analysis.compare(panel_2024, code, group, IDS, **REPORT_2015)
        p_values += result.did.estimates["p_value"].drop_nulls().to_list()
    share = sum(p <= 0.05 for p in p_values) / len(p_values)
    assert refused <= 3 and len(p_values) > 400 and share <= 0.10


def test_naboer_are_the_land_neighbours_on_the_panels_borders(panel_2024, panel_reported, reforms):
    asker = analysis.select_group(panel_2024, "3203", "naboer", reforms=reforms, **MERGER)
    assert asker.codes == ("3201", "3312")  # Drammen lies across the Drammensfjord: no land border
    tromso = analysis.select_group(panel_2024, "5501", "naboer", reforms=reforms, reform_clean=False, **MERGER)
    assert set(tromso.codes) == {"5532", "5534", "5536", "5538"}
    # Bærum as it was in 2013: today's Asker (3203) was three kommuner then, and the map cannot say which of
    # them border Bærum, so it is left out and named, not guessed
    baerum = analysis.select_group(panel_reported, "0219", "naboer", reforms=reforms, **REPORT_2015)
    assert {"0301", "0626"} <= set(baerum.codes) and not {"0220", "0627", "0628"} & set(baerum.codes)
    assert baerum.unresolved_neighbours == ("3203",)
    with pytest.raises(InputError, match="naboer"):  # 0220's own land is not whole 2024 kommuner
        analysis.select_group(panel_reported, "0220", "naboer", reforms=reforms, **REPORT_2015)


@pytest.mark.parametrize("kommune", ["3203", "1144", "5001"])
def test_did_of_many_groups_at_once_is_each_groups_did(panel_2024, reforms, kommune):
    """The sensitivity table ranks every group's placebos in one pass: the same frames, value for value, as
    one DiD per group."""
    from helpers.analysis._did import did_estimates
    from helpers.analysis._panel import names, prepare
    from helpers.analysis._windows import changes

    groups = {n: analysis.select_group(panel_2024, kommune, reforms=reforms, indicators=IDS, n=n, **MERGER)
              for n in (5, 20, 40)}
    codes = sorted({c for group in groups.values() for c in group.codes} | {kommune})
    every = changes(prepare(panel_2024, IDS), codes, IDS, MERGER["before"], MERGER["after"], names(panel_2024))
    own = every.filter(pl.col("kommunenr") == kommune)
    members = {str(n): every.filter(pl.col("kommunenr").is_in(list(g.codes))) for n, g in groups.items()}
    at_once = did_estimates(own, members, IDS)
    for name, group_members in members.items():
        expected = analysis.difference_in_differences(own, group_members, IDS).estimates
        assert at_once[name].equals(expected), name
    assert at_once["5"]["n_group"].max() == 5 and at_once["40"]["n_group"].max() == 40


def test_every_kommune_leaves_out_kommuner_without_a_size_measure(panel_2024, built_table, reforms, tmp_path,
                                                                  monkeypatch):
    """Ålesund and Haram (split in 2024) have no 80+ population or users on 2024 borders in 2019: a report
    for them would be refused, so --every-kommune leaves them out and says why."""
    from helpers.reports import reportsets

    built_table.write_parquet(tmp_path / "indicators.parquet")  # the snapshot's table (a clean clone has none)
    monkeypatch.setenv("OMSORGSKAPASITET_PROCESSED", str(tmp_path))
    assert analysis.codes_without_size(panel_2024, (2018, 2019)) == ["1508", "1580"]
    sets, left_out = reportsets.every_kommune_sets([2018, 2019], [2021, 2022])
    assert left_out["1508"] == left_out["1580"] == "ingen innbyggere 80+ eller brukere 80+ i 2019"
    assert len(sets) == 350 and not {"1508", "1580"} & {s.parameters["kommune"] for s in sets}
    for code in ("1508", "1580"):
        with pytest.raises(InputError, match="no size measure"):
            analysis.select_group(panel_2024, code, indicators=IDS, reforms=reforms, **MERGER)
