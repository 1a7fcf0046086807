"""Population denominators on historic borders: the 2024-area sums first, SSB 07459 per historic code after."""

from __future__ import annotations

import polars as pl
import pytest
from support import value_of

from helpers.sources.panel import population_by_area, read_panel
from helpers.sources.schema import AS_REPORTED
from helpers.table.population import HISTORIC_SOURCE, population_rows, read_historic_population


def test_old_asker_gets_its_own_80plus_population(built_table):
    # 07459 per historic code: 0220 Asker had 2 335 inhabitants 80+ on 1 January 2014 (= 31.12.2013)
    assert value_of(built_table, "0220", AS_REPORTED, 2013, "population_80plus") == 2335
    users = value_of(built_table, "0220", AS_REPORTED, 2013, "home_service_users_80plus")
    rate = value_of(built_table, "0220", AS_REPORTED, 2013, "home_service_users_80plus_per_100_80plus")
    assert rate == pytest.approx(users / 2335 * 100)
    row = built_table.filter(pl.col("kommunenr") == "0220", pl.col("structure") == AS_REPORTED,
                             pl.col("year") == 2013, pl.col("indicator") == "population_80plus")
    assert row["source"][0] == HISTORIC_SOURCE and row["flag"][0] is None


def test_a_code_gone_on_the_first_of_january_stays_missing(built_table):
    # 0220's 2019 denominator is 1.1.2020 on 0220's borders; by then the code was 3025, so SSB has no figure
    row = built_table.filter(pl.col("kommunenr") == "0220", pl.col("structure") == AS_REPORTED,
                             pl.col("year") == 2019, pl.col("indicator") == "population_80plus")
    assert row["value"][0] is None
    assert row["status"][0] == "." and row["flag"][0] == "no_population"


def test_the_two_sources_agree_where_borders_never_changed(built_table):
    # 0301 Oslo and 0219 Bærum (2013): the panel's area sum; the historic file has the same 1.1.2014 figure
    historic = read_historic_population().filter(pl.col("year_jan1") == 2014)
    for code in ("0301", "0219"):
        own = historic.filter(pl.col("kommunenr") == code)["population_80plus"][0]
        assert value_of(built_table, code, AS_REPORTED, 2013, "population_80plus") == own
    assert historic.filter(pl.col("kommunenr") == "0301")["population_80plus"][0] == 21917


def test_the_historic_file_only_fills_gaps(reforms):
    panel = read_panel()
    areas = population_by_area(panel)
    triples = [(c, y, y) for c, y in panel.select("kommunenr_hist", pl.col("år").cast(pl.Int32)).unique().iter_rows()]
    without = population_rows(reforms, areas, triples, AS_REPORTED)
    with_file = population_rows(reforms, areas, triples, AS_REPORTED, historic=read_historic_population())
    both = without.join(with_file, on=["kommunenr", "year", "indicator"], suffix="_new")
    assert both.height == without.height == with_file.height
    changed = both.filter(pl.col("value").ne_missing(pl.col("value_new")))
    assert changed.height > 0
    # every changed row was missing before (flagged), and is now a figure from 07459 per code
    assert changed["value"].null_count() == changed.height
    assert set(changed["flag"].to_list()) <= {"no_population", "population_gap"}
    assert set(changed["source_new"].to_list()) == {HISTORIC_SOURCE}
    assert changed["value_new"].null_count() == 0


def test_a_code_that_kept_its_number_through_a_merger_gets_no_figure_from_after_it(built_table):
    # 5001 Trondheim took in Klæbu on 1.1.2020: its 1.1.2020 figure is not Trondheim's 2019 area
    row = built_table.filter(pl.col("kommunenr") == "5001", pl.col("structure") == AS_REPORTED,
                             pl.col("year") == 2019, pl.col("indicator") == "population_80plus")
    assert row["value"][0] is None and row["flag"][0] == "no_population"
