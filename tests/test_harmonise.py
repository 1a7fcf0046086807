"""Harmonisation properties on a small synthetic reform history, and rates recomputed (not averaged)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.sources.schema import conform
from helpers.table.harmonise import harmonise_counts, harmonise_levels, mapping_for_years
from helpers.table.rates import derive
from helpers.table.reforms import Reforms

# 2008: A1+A2 -> A9 (merger); 2009: B1 -> B2 (renumbering); 2010: S1 -> S2 + S3 (split); C1 unchanged.
CHANGES = pl.DataFrame(
    {
        "old_code": ["0001", "0002", "0011", "0021", "0021"],
        "old_name": ["A1", "A2", "B1", "S1", "S1"],
        "new_code": ["0009", "0009", "0012", "0022", "0023"],
        "new_name": ["A9", "A9", "B2", "S2", "S3"],
        "year": [2008, 2008, 2009, 2010, 2010],
    },
    schema_overrides={"year": pl.Int32},
)
LATEST = frozenset({"0009", "0012", "0022", "0023", "0031"})
NAMES = {c: c for c in ["0001", "0002", "0009", "0011", "0012", "0021", "0022", "0023", "0031"]}
YEARS = [2007, 2008, 2009, 2010, 2011]


def toy_reforms() -> Reforms:
    return Reforms(changes=CHANGES, latest_codes=LATEST, latest_year=2011, names=NAMES)


def rows_for(values: dict[tuple[str, int], float | None], indicator: str = "home_service_users") -> pl.DataFrame:
    return conform(pl.DataFrame(
        {
            "kommunenr": [k for k, _ in values],
            "year": [y for _, y in values],
            "value": list(values.values()),
            "status": [None if v is not None else ".." for v in values.values()],
        },
        schema_overrides={"year": pl.Int32, "value": pl.Float64},
    ).with_columns(pl.lit("as_reported").alias("structure"), pl.lit(indicator).alias("indicator"),
                   pl.lit("personer").alias("unit"), pl.lit("test").alias("source")))


counts = st.integers(min_value=0, max_value=10_000).map(float)


@st.composite
def reported_values(draw):
    reforms = toy_reforms()
    return {(code, year): draw(counts) for year in YEARS for code in sorted(reforms.valid_codes(year))}


def test_toy_valid_codes():
    reforms = toy_reforms()
    assert reforms.valid_codes(2007) == {"0001", "0002", "0011", "0021", "0031"}
    assert reforms.valid_codes(2011) == LATEST


@settings(max_examples=40, deadline=None)
@given(reported_values())
def test_totals_preserved_where_no_code_was_split(values):
    reforms = toy_reforms()
    harmonised = harmonise_counts(rows_for(values), mapping_for_years(reforms, YEARS, 2011), 2011)
    for year in YEARS:
        reported = sum(v for (c, y), v in values.items() if y == year and c != "0021")
        split_targets = ["0022", "0023"] if year < 2010 else []
        kept = harmonised.filter(pl.col("year") == year, ~pl.col("kommunenr").is_in(split_targets))
        assert kept["value"].sum() == reported


@settings(max_examples=40, deadline=None)
@given(reported_values())
def test_split_codes_are_flagged_not_guessed(values):
    reforms = toy_reforms()
    harmonised = harmonise_counts(rows_for(values), mapping_for_years(reforms, YEARS, 2011), 2011)
    before_split = harmonised.filter(pl.col("kommunenr").is_in(["0022", "0023"]), pl.col("year") < 2010)
    assert before_split["value"].null_count() == before_split.height
    assert set(before_split["flag"]) == {"split"} and set(before_split["status"]) == {"."}
    after = harmonised.filter(pl.col("kommunenr") == "0022", pl.col("year") == 2011)["value"][0]
    assert after == values[("0022", 2011)]


@settings(max_examples=40, deadline=None)
@given(reported_values())
def test_harmonising_is_idempotent(values):
    reforms = toy_reforms()
    once = harmonise_counts(rows_for(values), mapping_for_years(reforms, YEARS, 2011), 2011)
    again_input = once.filter(pl.col("year") == 2011)
    again = harmonise_counts(again_input, mapping_for_years(reforms, [2011], 2011), 2011)
    cols = ["kommunenr", "year", "value"]
    assert again.sort(cols).select(cols).equals(again_input.sort(cols).select(cols))


def test_merger_sums_predecessors_and_missing_predecessor_blocks_the_sum():
    reforms = toy_reforms()
    values = {("0001", 2007): 10.0, ("0002", 2007): 5.0, ("0001", 2006 + 1): 10.0}
    harmonised = harmonise_counts(rows_for(values), mapping_for_years(reforms, [2007], 2011), 2011)
    assert harmonised.filter(pl.col("kommunenr") == "0009")["value"][0] == 15.0
    values = {("0001", 2007): 10.0, ("0002", 2007): None}
    harmonised = harmonise_counts(rows_for(values), mapping_for_years(reforms, [2007], 2011), 2011)
    row = harmonised.filter(pl.col("kommunenr") == "0009")
    assert row["value"][0] is None and row["status"][0] == ".." and "partial_merge" in row["flag"][0]


def test_levels_are_kept_only_on_unchanged_borders():
    reforms = toy_reforms()
    values = {("0001", 2007): 4.0, ("0002", 2007): 6.0, ("0011", 2007): 5.5, ("0031", 2007): 3.0}
    rows = rows_for(values, "allotted_hours_per_week_home_nursing")
    levels = harmonise_levels(rows, mapping_for_years(reforms, [2007], 2011), 2011)
    by_code = {c: (v, f) for c, v, f in levels.select("kommunenr", "value", "flag").iter_rows()}
    assert by_code["0009"] == (None, "not_harmonisable")  # an average of a merger is not the mean of averages
    assert by_code["0012"] == (5.5, None)  # renumbered only
    assert by_code["0031"] == (3.0, None)


def test_rates_are_recomputed_from_harmonised_numerator_and_denominator():
    reforms = toy_reforms()
    numerators = rows_for({("0001", 2007): 30.0, ("0002", 2007): 10.0}, "home_service_users_80plus")
    denominators = rows_for({("0001", 2007): 100.0, ("0002", 2007): 300.0}, "population_80plus")
    mapping = mapping_for_years(reforms, [2007], 2011)
    harmonised = pl.concat([harmonise_counts(numerators, mapping, 2011), harmonise_counts(denominators, mapping, 2011)])
    rates = derive(harmonised).filter(pl.col("indicator") == "home_service_users_80plus_per_100_80plus")
    value = rates.filter(pl.col("kommunenr") == "0009")["value"][0]
    assert value == 40.0 / 400.0 * 100  # 10 %, not the mean of 30 % and 3.3 %
