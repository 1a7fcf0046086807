"""Explore interactively: kommune series against the national distribution, and the offline atlas page.

Two uses share the same Polars computations:

- notebooks/05_utforsk.ipynb: `kommune_series` (the chosen kommuner's values with their place in the
  national distribution each year), `national_distribution` (10/25/50/75/90 % per indicator and year),
  `explore_chart` (interactive Altair chart) and `copy_table` (a table to copy);
- reports/utforsk.html: `render_atlas` writes one self-contained page holding the harmonised series of
  every kommune, where the reader picks a kommune (and optionally a second) from dropdowns bound to
  Vega-Lite params; hjemmesykepleie on the left, sykehjem on the right, against the national median and
  interquartile band. No kernel, no network: the Vega JavaScript is inlined once (helpers.export).

Values carrying a quality flag (helpers.schema.FLAG_LABELS) are left out by default, both from a kommune's
series and from the national distribution; values SSB suppressed (":") are missing, never zero.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from helpers import charts, csp, paths
from helpers import indicators as catalogue
from helpers.atomic import atomic_write_text

# Shared with compare/export rather than written twice: the indicator-id check, the catalogue facts, and
# JSON that is safe inside <script> and the Vega bundle.
from helpers.errors import InputError
from helpers.export import json_for_script, vega_bundle
from helpers.formatting import MISSING
from helpers.indicators import catalogue_frame, check_ids
from helpers.tables import Table, display_table

DEFAULT_STRUCTURE = "2024"
DEFAULT_KOMMUNE = "3203"
QUANTILES: dict[str, float] = {"p10": 0.10, "p25": 0.25, "median": 0.50, "p75": 0.75, "p90": 0.90}
SECOND_COLOR = "#d08c2f"
OUTER_BAND_COLOR = "#e3e3e3"
SOURCE_LINE = "Kilde: Statistisk sentralbyrå (SSB), CC BY 4.0; bearbeidet av omsorgskapasitet"
FLAG_NOTE = (
    "Verdier med kvalitetsflagg (f.eks. usannsynlige hopp, kommuner delt ved reform, ufullstendige "
    "sammenslåinger, små nevnere) er holdt utenfor, både for kommunen og for landsfordelingen."
)
TEMPLATE = Path(__file__).with_name("templates") / "atlas.html"
_NORWEGIAN_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}", "Æ": "{", "Ø": "|", "Å": "}"})


# --------------------------------------------------------------------------------------------------------
# Data: usable values, national distribution, kommune series
# --------------------------------------------------------------------------------------------------------


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


def check_parameters(kommuner: object, indikatorer: object, struktur: object
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
    if isinstance(indikatorer, str):
        indikatorer = [indikatorer]
    if not isinstance(indikatorer, list | tuple):
        raise InputError(f"indikatorer må være en liste med indikator-id-er / must be a list of ids, "
                         f"got {indikatorer!r}.")
    return list(dict.fromkeys(codes)), check_ids(indikatorer), str(struktur)


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


# --------------------------------------------------------------------------------------------------------
# Notebook views: interactive chart and a table to copy
# --------------------------------------------------------------------------------------------------------


def explore_chart(series: pl.DataFrame, distribution: pl.DataFrame, *, width: int = 560, height: int = 220
                  ) -> alt.VConcatChart:
    """One panel per indicator: the kommuner's lines over the national 10–90 % and 25–75 % bands and median.

    Interactive: tooltips, click a kommune in the legend to highlight it (shift-click for more), drag or
    scroll on a panel to zoom and pan the time axis (double-click resets).
    """
    if series.is_empty():
        raise InputError("Ingen verdier å vise for disse kommunene og indikatorene / nothing to show.")
    kommuner = series["kommune"].unique(maintain_order=True).to_list()
    years = [int(series["year"].min()), int(series["year"].max())]  # type: ignore[arg-type]
    palette = [charts.KOMMUNE_COLOR, SECOND_COLOR, "#5a9e6f", "#8e5ea2", "#a23b2a", "#3b8ea5"]
    colors = [palette[i % len(palette)] for i in range(len(kommuner))]
    color = alt.Color("kommune:N", title="Kommune", sort=kommuner,
                      scale=alt.Scale(domain=kommuner, range=colors))
    pick = alt.selection_point(name="valgt_kommune", fields=["kommune"], bind="legend")
    panels = []
    for n, indicator in enumerate(series["indicator"].unique(maintain_order=True).to_list()):
        part = series.filter(pl.col("indicator") == indicator)
        entry = catalogue.get(indicator)
        number = f",.{int(part['decimals'][0])}f"
        band = distribution.filter(pl.col("indicator") == indicator)
        x = alt.X("year:Q", title="År", axis=alt.Axis(format="d", tickMinStep=1, labelOverlap="greedy"),
                  scale=alt.Scale(domain=years, zero=False, nice=False))
        zoom = alt.selection_interval(name=f"zoom_{n}", encodings=["x"], bind="scales")
        base = alt.Chart(band).encode(x=x)
        outer = base.mark_area(color=OUTER_BAND_COLOR).encode(
            y=alt.Y("p10:Q", title=entry.unit, scale=alt.Scale(zero=False)), y2="p90:Q")
        inner = base.mark_area(color=charts.BAND_COLOR, opacity=0.8).encode(y="p25:Q", y2="p75:Q")
        median = base.mark_line(color=charts.GROUP_COLOR, strokeDash=[6, 3], strokeWidth=2).encode(
            y="median:Q",
            tooltip=[alt.Tooltip("year:Q", title="År", format="d"),
                     alt.Tooltip("median:Q", title="Median i landet", format=number),
                     alt.Tooltip("p25:Q", title="25-persentil", format=number),
                     alt.Tooltip("p75:Q", title="75-persentil", format=number),
                     alt.Tooltip("p10:Q", title="10-persentil", format=number),
                     alt.Tooltip("p90:Q", title="90-persentil", format=number),
                     alt.Tooltip("n:Q", title="Kommuner med tall")],
        )
        lines = alt.Chart(part).mark_line(point=True, strokeWidth=2.5).encode(
            x=x, y="value:Q", color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[alt.Tooltip("kommune:N", title="Kommune"), alt.Tooltip("year:Q", title="År", format="d"),
                     alt.Tooltip("value:Q", title=entry.unit.capitalize(), format=number),
                     alt.Tooltip("percentile:Q", title="Plassering i landet (persentil)", format=",.0f"),
                     alt.Tooltip("median:Q", title="Median i landet", format=number)],
        ).add_params(*([pick, zoom] if n == 0 else [zoom]))
        panels.append(alt.layer(outer, inner, median, lines).properties(
            title=alt.Title(entry.display, subtitle=entry.label), width=width, height=height))
    return alt.vconcat(*panels).properties(
        title=alt.Title("Kommunene i landsfordelingen",
                        subtitle="Lys grå: 10–90 % av kommunene; mørkere grå: 25–75 %; stiplet: median. "
                                 "Klikk i forklaringen for å fremheve, dra/rull for å zoome i tid.")
    )


def copy_table(series: pl.DataFrame, *, what: str = "value") -> Table:
    """One row per year, one column per kommune and indicator, as Norwegian text ready to copy into a
    spreadsheet or document (`what`: "value" or "percentile"). `.frame` is the Polars frame."""
    if what not in ("value", "percentile"):
        raise InputError(f"what must be 'value' or 'percentile', got {what!r}.")
    if series.is_empty():
        raise InputError("Ingen verdier å vise / nothing to show.")
    unit = pl.lit("persentil") if what == "percentile" else pl.col("unit")
    suffix = pl.concat_str(pl.lit(" ("), unit, pl.lit(")"))
    labelled = series.with_columns(
        pl.concat_str("kommune", pl.lit(": "), "short_label", suffix).alias("column"),
        pl.col("year").alias("År"),
    )
    columns = labelled["column"].unique(maintain_order=True).to_list()
    decimals = dict(labelled.select("column", "decimals").unique().iter_rows())
    wide = labelled.pivot("column", index="År", values=what).sort("År").select("År", *columns)
    places = dict.fromkeys(columns, 0) if what == "percentile" else {c: int(decimals[c]) for c in columns}
    return Table(display_table(wide, decimals=places).frame.fill_null(MISSING))


def distribution_table(distribution: pl.DataFrame) -> Table:
    """`national_distribution(...)` with short indicator names, Norwegian headers and numbers."""
    ids = distribution["indicator"].unique(maintain_order=True).to_list()
    named = distribution.join(catalogue_frame(ids), on="indicator")
    frame = named.select(
        pl.col("short_label").alias("Indikator"), pl.col("year").alias("År"), pl.col("n").alias("Kommuner"),
        *[pl.col(name).alias(title) for name, title in
          (("p10", "10 %"), ("p25", "25 %"), ("median", "Median"), ("p75", "75 %"), ("p90", "90 %"))],
    )
    return display_table(frame, decimals=1)


# --------------------------------------------------------------------------------------------------------
# The atlas page
# --------------------------------------------------------------------------------------------------------


def _atlas_indicators(values: pl.DataFrame) -> dict[str, list[str]]:
    """hjemmesykepleie and sykehjem sets, each without indicators the table has no value for."""
    present = set(values["indicator"].unique().to_list())
    return {
        "hjemmesykepleie": [i for i in catalogue.HJEMMESYKEPLEIE_SET if i in present],
        "sykehjem": [i for i in catalogue.SYKEHJEM_SET if i in present],
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


def atlas_data(table: pl.DataFrame, structure: str = DEFAULT_STRUCTURE) -> dict[str, Any]:
    """Everything the atlas page needs, compact: names, indicator facts, national band, kommune series.

    `series` is CSV text with one row per kommune and indicator: `k` (kommunenr), `i` (index into
    `indicators`), then one column per year (empty where missing). `national` is CSV text with
    i, year, key ("i-year"), n, q1, med, q3. Flagged values are left out of both.
    """
    values = usable_values(table, [*catalogue.HJEMMESYKEPLEIE_SET, *catalogue.SYKEHJEM_SET], structure)
    sets = _atlas_indicators(values)
    ids = [*sets["hjemmesykepleie"], *sets["sykehjem"]]
    index = pl.DataFrame({"indicator": ids, "i": range(len(ids))}, schema_overrides={"i": pl.Int32})

    wide = (
        values.join(index, on="indicator")
        .with_columns(_rounded(ids, "value"))
        .with_columns(pl.col("year").cast(pl.String), _csv_number("value").alias("v"))
        .pivot("year", index=["kommunenr", "i"], values="v", sort_columns=True)
        .sort("kommunenr", "i")
    )
    years = [c for c in wide.columns if c.isdigit()]
    series_csv = wide.select(pl.col("kommunenr").alias("k"), "i", *years).write_csv(null_value="")
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
         "domain": entry.domain, "decimals": 0 if entry.kind == "count" else 1}
        for entry in (catalogue.get(i) for i in ids)
    ]
    with_data = set(wide["kommunenr"].to_list())
    return {
        "structure": str(structure),
        "years": [int(y) for y in years],
        "names": {code: name for code, name in kommune_names(table, structure).items() if code in with_data},
        "indicators": facts,
        "sets": sets,
        "missing": [i for i in (*catalogue.HJEMMESYKEPLEIE_SET, *catalogue.SYKEHJEM_SET) if i not in ids],
        "series": series_csv,
        "national": national_csv,
    }


LEGEND_MEDIAN = "Median, alle kommuner"
LEGEND_BAND = "Midterste halvdel av kommunene (25–75 %)"
_ROLES = ("1", "2", "m", "q")


def _selected_expr() -> str:
    """Vega expression: true when the row's kommune is one of the two chosen."""
    return "datum.k == kommune || (kommune2 != '' && datum.k == kommune2)"


def _cell(index: int, fact: dict[str, Any], years: Sequence[int]) -> dict[str, Any]:
    """One small chart: national band and median, the chosen kommune(r)'s line(s)."""
    number = f",.{fact['decimals']}f"
    x = {"field": "year", "type": "quantitative", "title": None,
         "scale": {"domain": [min(years), max(years)], "nice": False, "zero": False},
         "axis": {"format": "d", "tickMinStep": 1, "labelOverlap": True}}
    color_scale = {"domain": list(_ROLES),
                   "range": [charts.KOMMUNE_COLOR, SECOND_COLOR, charts.GROUP_COLOR, charts.BAND_COLOR]}
    legend = {
        "title": None, "orient": "top", "direction": "horizontal", "symbolStrokeWidth": 3,
        "labelFontSize": 13, "symbolSize": 160, "columnPadding": 16,
        "values": {"expr": "kommune2 != '' && kommune2 != kommune ? ['1', '2', 'm', 'q'] : ['1', 'm', 'q']"},
        "labelExpr": (f"datum.value == '1' ? navn[kommune] : datum.value == '2' ? navn[kommune2] : "
                      f"datum.value == 'm' ? {json.dumps(LEGEND_MEDIAN)} : {json.dumps(LEGEND_BAND)}"),
    }
    national = {"name": "nasjonalt", "format": {"type": "csv", "parse": {
        "i": "number", "year": "number", "n": "number", "q1": "number", "med": "number", "q3": "number"}}}
    y_title = {"title": None, "scale": {"zero": False},
               "axis": {"format": ",.0f" if fact["decimals"] == 0 else ",.1~f", "tickCount": 4}}
    stats_tooltip = [
        {"field": "year", "type": "quantitative", "title": "År", "format": "d"},
        {"field": "med", "type": "quantitative", "title": "Median, alle kommuner", "format": number},
        {"field": "q1", "type": "quantitative", "title": "25-persentil", "format": number},
        {"field": "q3", "type": "quantitative", "title": "75-persentil", "format": number},
        {"field": "n", "type": "quantitative", "title": "Kommuner med tall"},
    ]
    band = {
        "data": national, "transform": [{"filter": f"datum.i == {index}"}],
        "mark": {"type": "area", "opacity": 0.7},
        "encoding": {"x": x, "y": {"field": "q1", "type": "quantitative", **y_title}, "y2": {"field": "q3"},
                     "color": {"datum": "q", "type": "nominal", "scale": color_scale, "legend": legend},
                     "tooltip": stats_tooltip},
    }
    median = {
        "data": national, "transform": [{"filter": f"datum.i == {index}"}],
        "mark": {"type": "line", "strokeDash": [6, 3], "strokeWidth": 2},
        "encoding": {"x": x, "y": {"field": "med", "type": "quantitative"},
                     "color": {"datum": "m", "type": "nominal"}},
    }
    kommune = {
        "name": f"kommune_{index}",
        "data": {"name": "kommuner", "format": {"type": "csv", "parse": {
            "i": "number", **{str(year): "number" for year in years}}}},
        "transform": [
            {"filter": f"datum.i == {index} && ({_selected_expr()})"},
            {"fold": [str(year) for year in years], "as": ["aar", "value"]},
            {"calculate": "toNumber(datum.aar)", "as": "year"},
            {"calculate": "datum.k == kommune ? '1' : '2'", "as": "rolle"},
            {"calculate": "navn[datum.k]", "as": "kommune"},
            {"calculate": "datum.i + '-' + datum.aar", "as": "key"},
            {"lookup": "key", "from": {"data": national, "key": "key", "fields": ["med", "q1", "q3"]}},
            {"calculate": ("!isValid(datum.q1) ? '' : datum.value > datum.q3 ? 'over midterste halvdel' : "
                           "datum.value < datum.q1 ? 'under midterste halvdel' : 'i midterste halvdel'"),
             "as": "plass"},
        ],
        "mark": {"type": "line", "strokeWidth": 2.5, "point": {"size": 30}},
        "encoding": {
            "x": x, "y": {"field": "value", "type": "quantitative"},
            "color": {"field": "rolle", "type": "nominal", "title": None},
            "detail": {"field": "k", "type": "nominal"},
            "tooltip": [
                {"field": "kommune", "type": "nominal", "title": "Kommune"},
                {"field": "year", "type": "quantitative", "title": "År", "format": "d"},
                {"field": "value", "type": "quantitative", "title": fact["unit"].capitalize(),
                 "format": number},
                {"field": "med", "type": "quantitative", "title": "Median, alle kommuner", "format": number},
                {"field": "plass", "type": "nominal", "title": "Blant kommunene"},
            ],
        },
    }
    subtitle = fact["title"] if fact["unit"] in fact["title"] else f"{fact['title']} ({fact['unit']})"
    return {"layer": [band, median, kommune], "width": 330, "height": 120,
            "title": {"text": fact["label"], "subtitle": subtitle, "fontSize": 13, "subtitleFontSize": 11,
                      "limit": 370, "subtitleLimit": 370}}


def atlas_spec(data: dict[str, Any], default: str = DEFAULT_KOMMUNE) -> dict[str, Any]:
    """The atlas's Vega-Lite spec: two dropdowns (params) and one column of small charts per domain."""
    names: dict[str, str] = data["names"]
    if not names:
        raise InputError("Ingen kommuner med tall / no kommune has data for the atlas.")
    codes = list(names)
    labels = [f"{name} ({code})" for code, name in names.items()]
    first = default if default in names else codes[0]
    facts = {fact["id"]: (index, fact) for index, fact in enumerate(data["indicators"])}
    columns = []
    for domain, ids in data["sets"].items():
        if ids:
            cells = [_cell(*facts[i], data["years"]) for i in ids]
            title = {"text": catalogue.DOMAIN_LABELS[domain], "fontSize": 15}
            columns.append({"vconcat": cells, "title": title})
    title_expr = "navn[kommune] + (kommune2 != '' && kommune2 != kommune ? ' og ' + navn[kommune2] : '')"
    return {
        "$schema": alt.SCHEMA_URL,
        "config": charts.theme()["config"],
        "params": [
            {"name": "kommune", "value": first,
             "bind": {"input": "select", "options": codes, "labels": labels, "name": "Kommune "}},
            {"name": "kommune2", "value": "",
             "bind": {"input": "select", "options": ["", *codes], "labels": ["(ingen)", *labels],
                      "name": "Sammenlign med "}},
            {"name": "navn", "value": names},
        ],
        "datasets": {"kommuner": data["series"], "nasjonalt": data["national"]},
        "title": {"text": {"expr": title_expr},
                  "subtitle": f"Sammenlignet med alle kommuner, kommunestruktur {data['structure']}",
                  "fontSize": 20},
        "hconcat": columns,
        "spacing": 40,
        "resolve": {"scale": {"color": "shared"}},
    }


def atlas_html(data: dict[str, Any], default: str = DEFAULT_KOMMUNE) -> str:
    """The atlas page's complete HTML (the Vega JavaScript inlined once)."""
    notes = [
        f"Tallene er harmonisert til kommunestrukturen {data['structure']}: kommuner som er slått sammen, "
        f"vises med summen av forgjengerne, og rater er regnet ut på nytt fra summene. År: "
        f"{min(data['years'])}–{max(data['years'])}. Medianen og den midterste halvdelen er regnet over alle "
        "kommuner med tall det året.",
        FLAG_NOTE,
    ]
    if data["missing"]:
        absent = ", ".join(catalogue.get(i).display for i in data["missing"])
        notes.append(f"Ikke med fordi datagrunnlaget mangler tall: {absent}.")
    options = {
        **csp.VEGA_EMBED_OPTIONS,
        "renderer": "svg", "actions": False, "formatLocale": charts.NORWEGIAN_LOCALE["number"],
        "timeFormatLocale": charts.NORWEGIAN_LOCALE["time"],
    }
    bundle = f'<script type="text/javascript" id="oms-vega-bundle">\n{vega_bundle()}\n</script>'
    page = TEMPLATE.read_text(encoding="utf-8")
    for marker, text in (
        ("notes", " ".join(html.escape(note) for note in notes)),
        ("source", html.escape(SOURCE_LINE)),
        ("spec", json_for_script(atlas_spec(data, default))),
        ("options", json_for_script(options)),
        ("bundle", bundle),  # last: nothing is searched for inside the 1 MB bundle
    ):
        token = f"<!--oms:{marker}-->"
        if page.count(token) != 1:
            raise RuntimeError(f"atlas template: expected one {token}")
        page = page.replace(token, text)
    return csp.with_policy(page)  # no network, only the page's own scripts (helpers.csp)


def render_atlas(
    table: pl.DataFrame | None = None,
    out: Path = paths.REPORTS / "utforsk.html",
    *,
    structure: str = DEFAULT_STRUCTURE,
    default: str = DEFAULT_KOMMUNE,
) -> Path:
    """Write the self-contained atlas page (atomically) and return its path.

    `table` defaults to `build.load_indicators()` (built from the snapshot when absent).
    """
    if table is None:
        from helpers.build import load_indicators

        table = load_indicators()
    return atomic_write_text(Path(out), atlas_html(atlas_data(table, structure), default))
