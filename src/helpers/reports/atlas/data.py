"""The atlas's data: usable values, the national distribution, kommune names and series, parameter checks.

Values carrying a quality flag (helpers.sources.schema.FLAG_LABELS) are left out by default, both from a kommune's
series and from the national distribution; values SSB suppressed (":") are missing, never zero.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from helpers.errors import InputError
from helpers.present.tables import Table
from helpers.sources import indicators as catalogue
from helpers.sources.indicators import catalogue_frame, check_ids

DEFAULT_STRUCTURE = "2024"
DEFAULT_KOMMUNE = "3203"
QUANTILES: dict[str, float] = {"p10": 0.10, "p25": 0.25, "median": 0.50, "p75": 0.75, "p90": 0.90}
_NORWEGIAN_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}", "Æ": "{", "Ø": "|", "Å": "}"})


def _structure_rows(table: pl.DataFrame, structure: str) -> pl.DataFrame:
    """The rows of one structure; InputError naming the known structures when there are none."""
    rows = table.filter(pl.col("structure") == str(structure))
    if rows.is_empty():
        known = ", ".join(sorted(table["structure"].unique().to_list()))
        raise InputError(f"Strukturen {structure!r} finnes ikke i tabellen / not in table (har: {known}).")
    return rows


def usable_values(
    table: pl.DataFrame, indicators: str | Iterable[str], structure: str = DEFAULT_STRUCTURE,
    *, exclude_flagged: bool = True,
) -> pl.DataFrame:
    """kommunenr, kommune, indicator, year, value: rows of one structure with a value (flagged left out)."""
    ids = check_ids(indicators)
    rows = _structure_rows(table, structure).filter(
        pl.col("indicator").is_in(ids), pl.col("value").is_not_null()
    )
    if exclude_flagged:
        rows = rows.filter(pl.col("flag").fill_null("").str.strip_chars() == "")
    return rows.select("kommunenr", "kommune", "indicator", "year", "value")


def national_distribution(
    table: pl.DataFrame, indicators: str | Iterable[str], structure: str = DEFAULT_STRUCTURE,
    *, exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Per indicator and year over all kommuner with a usable value: n, p10, p25, median, p75, p90."""
    ids = check_ids(indicators)
    values = usable_values(table, ids, structure, exclude_flagged=exclude_flagged)
    order = pl.DataFrame({"indicator": ids, "order": range(len(ids))}, schema_overrides={"order": pl.Int32})
    return (
        values.group_by("indicator", "year")
        .agg(
            pl.len().cast(pl.Int32).alias("n"),
            *(pl.col("value").quantile(q, interpolation="linear").alias(name)
              for name, q in QUANTILES.items()),
        )
        .join(order, on="indicator")
        .sort("order", "year")
        .drop("order")
    )


def kommune_names(table: pl.DataFrame, structure: str = DEFAULT_STRUCTURE) -> dict[str, str]:
    """kommunenr → name (the latest used) for every kommune of `structure`, in Norwegian name order."""
    names = (
        _structure_rows(table, structure)
        .sort("year")
        .group_by("kommunenr")
        .agg(pl.col("kommune").drop_nulls().last())
        .with_columns(pl.col("kommune").fill_null(pl.col("kommunenr")))
    )
    pairs = sorted(names.iter_rows(), key=lambda row: (row[1].lower().translate(_NORWEGIAN_ORDER), row[0]))
    return dict(pairs)


def _check_kommuner(names: dict[str, str], kommuner: str | Iterable[str]) -> list[str]:
    codes = [kommuner] if isinstance(kommuner, str) else list(dict.fromkeys(kommuner))
    if not codes:
        raise InputError("Ingen kommuner valgt / no kommuner given.")
    by_name = {name.lower(): code for code, name in names.items()}
    for code in codes:
        if code not in names:
            hint = f" Mente du kommunenummer {by_name[code.lower()]}?" if code.lower() in by_name else ""
            raise InputError(f"Kommunenummer {code!r} finnes ikke i tabellen / not in table.{hint}")
    return codes


def kommune_series(
    table: pl.DataFrame, kommuner: str | Iterable[str], indicators: str | Iterable[str],
    structure: str = DEFAULT_STRUCTURE, *, exclude_flagged: bool = True,
) -> pl.DataFrame:
    """The chosen kommuner's values per indicator and year with their place in the national distribution.

    Columns: kommunenr, kommune, indicator, short_label, unit, domain, decimals, year, value, percentile
    (mid-rank among all kommuner with a usable value that year, 0–100), n, p10 … p90. Years a kommune has
    no usable value for are left out.
    """
    ids = check_ids(indicators)
    codes = _check_kommuner(kommune_names(table, structure), kommuner)
    values = usable_values(table, ids, structure, exclude_flagged=exclude_flagged)
    ranked = values.with_columns(
        percentile=(100 * (pl.col("value").rank("average") - 0.5) / pl.len()).over("indicator", "year")
    )
    order = pl.DataFrame({"kommunenr": codes, "k_order": range(len(codes))},
                         schema_overrides={"k_order": pl.Int32})
    return (
        ranked.join(order, on="kommunenr")
        .join(national_distribution(table, ids, structure, exclude_flagged=exclude_flagged),
              on=["indicator", "year"], how="left")
        .join(catalogue_frame(ids), on="indicator")
        .sort("k_order", "order", "year")
        .select("kommunenr", "kommune", "indicator", "short_label", "unit", "domain", "decimals", "year",
                "value", "percentile", "n", *QUANTILES)
    )


def check_parameters(kommuner: object, indicators: object, structure: object
                     ) -> tuple[list[str], list[str], str]:
    """The exploration notebook's parameters, checked and normalised: kommune codes as 4-character strings
    (3203, "3203" and ["3203"] all work), known indicator ids, the structure as text."""
    if isinstance(kommuner, str | int):
        kommuner = [kommuner]
    if not isinstance(kommuner, list | tuple) or not kommuner:
        raise InputError(f"kommuner må være en liste med kommunenummer, f.eks. ['3203'] / kommuner must be a "
                         f"list of kommune codes, got {kommuner!r}.")
    codes = []
    for code in kommuner:
        text = str(code).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 4:  # no fullwidth or other digits
            raise InputError(f"Ugyldig kommunenummer / invalid kommune code {code!r}: "
                             "use four digits, e.g. '0301'.")
        codes.append(text.zfill(4))
    if isinstance(indicators, str):
        indicators = [indicators]
    if not isinstance(indicators, list | tuple):
        raise InputError(f"indicators må være en liste med indikator-id-er / must be a list of ids, "
                         f"got {indicators!r}.")
    return list(dict.fromkeys(codes)), check_ids(indicators), str(structure)


def indicator_overview(ids: Iterable[str] | None = None) -> Table:
    """The catalogue as a table to pick indicators from: id, domain, label, unit."""
    entries = [catalogue.get(i) for i in ids] if ids is not None else list(catalogue.CATALOGUE)
    frame = pl.DataFrame({
        "id": [e.id for e in entries],
        "Område": [catalogue.DOMAIN_LABELS[e.domain] for e in entries],
        "Indikator": [e.label for e in entries],
        "Enhet": [e.unit for e in entries],
    })
    return Table(frame)


def find_kommune(table: pl.DataFrame, text: str, structure: str = DEFAULT_STRUCTURE) -> Table:
    """Kommuner of `structure` whose name or number contains `text` (case-insensitive)."""
    needle = str(text).strip().lower()
    rows = [(code, name) for code, name in kommune_names(table, structure).items()
            if needle in name.lower() or needle in code]
    return Table(pl.DataFrame(rows, schema={"Kommunenummer": pl.String, "Kommune": pl.String}, orient="row"))
