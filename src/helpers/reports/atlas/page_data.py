"""The atlas page's data, compact: kommune series (usable values), why the other cells are empty, the national
band, and which indicators the map and the two panel views show.

Views. The panels show rates and averages by default (`RATE_VIEW`); counts (`COUNT_VIEW`) are one click away.
Each view has up to three panels per column; the map can show every indicator of both views.
Reasons. A cell without a usable value gets a one-letter reason code (`REASONS`): the flag or SSB symbol that
explains the gap (split by a reform, suppressed, series not started, ...). A value that is there but flagged
(e.g. an implausible value) is left out like the others, and its reason carries the value: `o:64`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from helpers.reports.atlas.data import DEFAULT_STRUCTURE, _structure_rows, kommune_names, national_distribution
from helpers.sources import indicators as catalogue
from helpers.table.flags import has_flag

RATE_VIEW: dict[str, tuple[str, ...]] = {
    "hjemmesykepleie": ("home_service_users_80plus_per_100_80plus", "allotted_hours_per_week_home_nursing",
                        "nurse_ftes_per_1000_80plus"),
    "sykehjem": ("long_term_users_80plus_per_100_80plus", "care_24h_per_100_80plus",
                 "institution_places_per_100_80plus", "nurse_ftes_per_100_users"),
}
COUNT_VIEW: dict[str, tuple[str, ...]] = {
    "hjemmesykepleie": ("home_service_users", "home_service_users_80plus", "home_nursing_hours_per_year"),
    "sykehjem": ("long_term_users", "long_term_users_80plus", "residents_24h_housing"),
}
COLUMN_TITLES = {"hjemmesykepleie": "Hjemmetjenester", "sykehjem": "Sykehjem og heldøgns omsorg"}
# code: (reader's text, the flag or SSB symbol it stands for); first match wins, in this order
REASONS: dict[str, tuple[str, str]] = {
    "s": ("Delt ved kommunereform: tallet kan ikke fordeles mellom etterfølgerne", "split"),
    "p": ("En av kommunene som ble slått sammen, mangler tall", "partial_merge"),
    "h": ("Gjennomsnitt kan ikke slås sammen over kommunegrenser", "not_harmonisable"),
    "g": ("Befolkningstallet mangler på disse grensene", "population_gap"),
    "b": ("Ingen befolkning på disse grensene i datagrunnlaget", "no_population"),
    "d": ("Serien er avsluttet (SSB publiserer ikke tallet lenger)", "discontinued"),
    "n": ("Serien var ikke startet ennå", "not_started"),
    "u": ("Skjult av SSB (små tall)", ":"),
    "i": ("En inngangsverdi er skjult av SSB (små tall)", "suppressed_input"),
    "o": ("Usannsynlig verdi (flagget og holdt utenfor)", "outlier"),
    "l": ("Liten nevner (under 50): raten er usikker og holdt utenfor", "small_denominator"),
    "m": ("Oppgave mangler", ".."),
    "x": ("Lar seg ikke føre opp", "."),
    "f": ("Flagget og holdt utenfor", ""),
}
EMPTY_REASON = "m"  # a kommune without any row for an indicator and year


def view_ids(present: set[str]) -> dict[str, dict[str, list[str]]]:
    """The two panel views, each without indicators the table has no value for."""
    return {
        view: {column: [i for i in ids if i in present] for column, ids in spec.items()}
        for view, spec in (("rater", RATE_VIEW), ("antall", COUNT_VIEW))
    }


def _rounded(ids: Sequence[str], column: str, count_decimals: int = 0) -> pl.Expr:
    """`column` rounded by the indicator's kind: counts to `count_decimals`, rates and levels to two."""
    counts = [i for i in ids if catalogue.get(i).kind == "count"]
    return (
        pl.when(pl.col("indicator").is_in(counts)).then(pl.col(column).round(count_decimals))
        .otherwise(pl.col(column).round(2))
    )


def _csv_number(column: str) -> pl.Expr:
    """A float column as short CSV text: "12", "12.5" (no trailing ".0"); null stays null."""
    return pl.col(column).cast(pl.String).str.replace(r"\.0$", "")


def _reason_code() -> pl.Expr:
    """The reason code of a row without a usable value (null for a usable one)."""
    empty = pl.col("value").is_null()
    expr = pl.when(~empty & pl.col("flag").is_null()).then(None)
    for code, (_, marker) in REASONS.items():
        if marker in (".", "..", ":"):
            expr = expr.when(empty & (pl.col("status") == marker)).then(pl.lit(code))
        elif marker:
            expr = expr.when(has_flag(marker)).then(pl.lit(code))
    return expr.when(empty).then(pl.lit(EMPTY_REASON)).otherwise(pl.lit("f"))


def _wide_csv(frame: pl.DataFrame, column: str, years: list[str]) -> str:
    """`column` per kommune and indicator, one CSV column per year (empty where none), with the join key ki."""
    wide = frame.with_columns(pl.col("year").cast(pl.String)).pivot("year", index=["kommunenr", "i"], values=column)
    for year in years:
        if year not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.String).alias(year))
    return (
        wide.sort("kommunenr", "i")
        .select(pl.col("kommunenr").alias("k"), "i",
                pl.concat_str(pl.col("kommunenr"), pl.lit("-"), pl.col("i")).alias("ki"), *years)
        .write_csv(null_value="")
    )


def _default_years(values: pl.DataFrame, index: int, kommuner: int) -> tuple[int, int]:
    """(latest, earlier) year of the default map indicator in which at least half the kommuner have a value."""
    counts = values.filter(pl.col("i") == index).group_by("year").len()
    good = sorted(counts.filter(pl.col("len") >= kommuner / 2)["year"].to_list()) or sorted(counts["year"])
    latest = good[-1]
    earlier = max(y for y in good if y <= max(good[0], latest - 8))
    return latest, earlier


def atlas_data(table: pl.DataFrame, structure: str = DEFAULT_STRUCTURE) -> dict[str, Any]:
    """Everything the atlas page needs (see module docstring).

    `series` is CSV text with one row per kommune and indicator: `k` (kommunenr), `i` (index into `indicators`),
    `ki` (k-i), then one column per year (empty where there is no usable value). `reasons` has the same shape
    with reason codes. `national` is CSV text with i, year, key ("i-year"), n, q1, med, q3 over usable values.
    """
    wanted = list(dict.fromkeys(i for view in (RATE_VIEW, COUNT_VIEW) for ids in view.values() for i in ids))
    rows = _structure_rows(table, structure).filter(pl.col("indicator").is_in(wanted))
    usable = rows.filter(pl.col("value").is_not_null(), pl.col("flag").is_null())
    views = view_ids(set(usable["indicator"].unique().to_list()))
    ids = [i for i in wanted if any(i in column for view in views.values() for column in view.values())]
    index = pl.DataFrame({"indicator": ids, "i": range(len(ids))}, schema_overrides={"i": pl.Int32})
    years = [str(y) for y in sorted(rows["year"].unique().to_list())]

    indexed = rows.join(index, on="indicator").with_columns(_rounded(ids, "value"))
    values = indexed.filter(pl.col("value").is_not_null(), pl.col("flag").is_null())
    series_csv = _wide_csv(values.with_columns(_csv_number("value").alias("v")), "v", years)
    reasons = indexed.with_columns(_reason_code().alias("r")).filter(pl.col("r").is_not_null()).with_columns(
        pl.when(pl.col("value").is_not_null())
        .then(pl.concat_str(pl.col("r"), pl.lit(":"), _csv_number("value")))
        .otherwise(pl.col("r")).alias("r")
    )
    reasons_csv = _wide_csv(reasons, "r", years)
    national_csv = (
        national_distribution(table, ids, structure)
        .join(index, on="indicator")
        .with_columns(*[_rounded(ids, source, 1).alias(short)
                        for source, short in (("p25", "q1"), ("median", "med"), ("p75", "q3"))])
        .select(
            "i", "year", pl.concat_str(pl.col("i"), pl.lit("-"), pl.col("year")).alias("key"), "n",
            *[_csv_number(short) for short in ("q1", "med", "q3")],
        )
        .write_csv()
    )
    facts = [
        {"id": entry.id, "label": entry.display, "title": entry.label, "unit": entry.unit,
         "domain": entry.domain, "decimals": 0 if entry.kind == "count" else 1, "count": entry.kind == "count"}
        for entry in (catalogue.get(i) for i in ids)
    ]
    names = kommune_names(table, structure)
    map_ids = [i for view in views.values() for column in view.values() for i in column]
    latest, earlier = _default_years(values, ids.index(map_ids[0]), len(names))
    return {
        "structure": str(structure),
        "years": [int(y) for y in years],
        "names": names,
        "indicators": facts,
        "views": views,
        "map": list(dict.fromkeys(map_ids)),
        "map_years": {"year": latest, "from": earlier, "to": latest},
        "missing": [i for i in wanted if i not in ids],
        "series": series_csv,
        "reasons": reasons_csv,
        "reason_texts": {code: text for code, (text, _) in REASONS.items()},
        "national": national_csv,
    }
