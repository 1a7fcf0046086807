"""reports/index.html for readers: a map of Norway at the top, every report by its question in words, grouped
by kind, and the technical details (notebook, parameters, status, run time) second.

Titles come from the report's notebook and parameters: the kommune's name (KLASS 131), the periods, and the
question the notebook answers (e.g. "Asker (3203): mer eller mindre kapasitet fra 2012–2013 til 2015–2016?").
The overview map is a static SVG drawn with vl-convert from the processed table (if it exists): the share of
inhabitants 80+ who use home services in the latest year most kommuner have, each kommune a link into the
atlas (utforsk.html#kode). Text from parameters or files is escaped, never rendered as HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.reports.export import STATUS_LABELS, _format_value, run_timestamp
from helpers.sources import kart

TEMPLATE = Path(__file__).with_name("templates") / "front_page.html"
MAP_INDICATOR = "home_service_users_80plus_per_100_80plus"
KINDS = ("Før og etter", "Påstander og løfter", "Datagrunnlaget", "Andre rapporter")
COMPARISONS = {
    "matched": "de kommunene som lignet mest før endringen",
    "similar_size": "kommuner av lignende størrelse",
    "all": "alle kommuner",
    "naboer": "nabokommunene",
    "kostragruppe": "KOSTRA-gruppen",
}
MANY = 12  # a group with more reports than this is folded
_DECIMALS = re.compile(r"(\d\.\d)\d+")
_VL_CONVERT_BASE = "https://vega.github.io/vega-datasets/"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    from helpers.errors import DataError
    from helpers.table.reforms import load_reforms

    try:
        return dict(load_reforms().names)
    except DataError:  # a front page without names still lists every report
        return {}


def kommune_words(code: object) -> str:
    """"Asker (3203)" for a kommune code; the code alone when KLASS does not know it."""
    text = str(code)
    name = _names().get(text)
    return f"{name} ({text})" if name else text


def period_words(years: object) -> str:
    """[2012, 2013] → "2012–2013"; [2015] → "2015"; text stays as written."""
    if isinstance(years, list | tuple) and years:
        first, last = min(years), max(years)
        return str(first) if first == last else f"{first}–{last}"
    return str(years).replace("-", "–")


def _document_title(path: object) -> str:
    """The `document.title` of a claims or programme file, or its file name."""
    import yaml

    from helpers.yamlfile import parse_yaml

    file = paths.ROOT / str(path)
    try:
        title = parse_yaml(file.read_text(encoding="utf-8"))["document"]["title"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):  # unreadable file: its name is still a title
        return Path(str(path)).stem
    return str(title)


def report_title(entry: dict[str, Any]) -> tuple[str, str]:
    """(kind, title in words) of a report from its notebook and parameters."""
    notebook = Path(entry.get("notebook", "")).stem
    parameters = entry.get("parameters", {}) or {}
    kommune = kommune_words(parameters["kommune"]) if "kommune" in parameters else ""
    if notebook.startswith("01_"):
        source = "ny henting fra SSB" if parameters.get("source") == "ssb" else "øyeblikksbildet"
        return "Datagrunnlaget", (f"Hvor gode er tallene? Dekning, manglende verdier og flagg "
                                  f"(kommunestruktur {parameters.get('structure', 2024)}, {source})")
    if notebook.startswith("02_") and kommune:
        comparison = parameters.get("comparison", "")
        named = COMPARISONS.get(comparison) if isinstance(comparison, str) else None  # a list: chosen codes
        against = (named or "utvalgte kommuner") if comparison else ""
        compact = " (kort versjon)" if parameters.get("detailed") is False else ""
        title = (f"{kommune}: mer eller mindre kapasitet fra {period_words(parameters.get('before', ''))} "
                 f"til {period_words(parameters.get('after', ''))}?")
        return "Før og etter", title + (f" Sammenlignet med {against}." if against else "") + compact
    if notebook.startswith("03_"):
        document = _document_title(parameters.get("claims_file", ""))
        return "Påstander og løfter", f"{kommune}: holder påstandene i «{document}» mot SSB-tallene?".lstrip(": ")
    if notebook.startswith("04_"):
        document = _document_title(parameters.get("programme_file", ""))
        since = f" siden {parameters['baseline_year']}" if "baseline_year" in parameters else ""
        return "Påstander og løfter", f"{kommune}: hvordan går det med løftene i «{document}»{since}?".lstrip(": ")
    return "Andre rapporter", entry.get("name", "")


def _link(entry: dict[str, Any], text: str) -> str:
    if entry.get("html_exists"):
        return f'<a href="{html.escape(entry["output"])}">{html.escape(text)}</a>'
    return html.escape(text)


def _status(entry: dict[str, Any]) -> str:
    return STATUS_LABELS.get(entry.get("status", ""), entry.get("status", "ukjent"))


def reader_sections(entries: Iterable[dict[str, Any]]) -> str:
    """The reports grouped by kind, each as its question in words with a link."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {kind: [] for kind in KINDS}
    for entry in entries:
        kind, title = report_title(entry)
        groups.setdefault(kind, []).append((title, entry))
    parts = []
    for kind, items in groups.items():
        if not items:
            continue
        lines = []
        for title, entry in sorted(items, key=lambda item: item[0]):
            failed = "" if _status(entry) == "ok" else f' <span class="feilet">({html.escape(_status(entry))})</span>'
            if failed and entry.get("html_exists"):  # the linked page is what an earlier, successful run left
                failed += " <small>(siden er fra en tidligere kjøring)</small>"
            lines.append(f"<li>{_link(entry, title)}{failed}</li>")
        body = f"<ul>{''.join(lines)}</ul>"
        if len(items) > MANY:
            body = f"<details><summary>{len(items)} rapporter</summary>{body}</details>"
        parts.append(f"<section><h2>{html.escape(kind)}</h2>{body}</section>")
    return "\n".join(parts) or "<p>Ingen rapporter er kjørt ennå: <code>make report</code>.</p>"


def technical_rows(entries: Iterable[dict[str, Any]]) -> str:
    """One table row per report: name (link), notebook, parameters, status (with error), run time."""
    rows = []
    for entry in sorted(entries, key=lambda item: item["name"]):
        status = _status(entry)
        parameters = "<br>".join(
            f"<code>{html.escape(key)}</code> = {html.escape(_format_value(value))}"
            for key, value in entry.get("parameters", {}).items()
        )
        detail = f"<br><small>{html.escape(entry['error'])}</small>" if entry.get("error") else ""
        rows.append(
            f"<tr><td>{_link(entry, entry['name'])}</td><td><code>{html.escape(entry.get('notebook', ''))}</code></td>"
            f'<td class="params">{parameters}</td>'
            f'<td class="{html.escape(status)}">{html.escape(status)}{detail}</td>'
            f"<td>{html.escape(entry.get('run_time', ''))}</td></tr>"
        )
    return "\n".join(rows)


def _map_spec(values: list[dict[str, Any]], year: int) -> dict[str, Any]:
    from helpers.reports.atlas.map import MISSING_COLOR, PROJECTION

    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "width": 300, "height": 440, "background": None,
        "data": {"values": kart.map_topology(),
                 "format": {"type": "topojson", "feature": kart.OBJECT}},
        "projection": PROJECTION,
        "transform": [
            {"calculate": "datum.properties.k", "as": "k"},
            {"lookup": "k", "from": {"data": {"values": values}, "key": "k", "fields": ["v"]}},
            {"calculate": "'utforsk.html#' + datum.k", "as": "url"},
            {"calculate": "datum.properties.n", "as": "kommune"},
        ],
        "layer": [
            {"mark": {"type": "geoshape", "fill": MISSING_COLOR, "stroke": "#fff", "strokeWidth": 0.25},
             "encoding": {"href": {"field": "url"}, "description": {"field": "kommune"}}},
            {"transform": [{"filter": "isValid(datum.v)"}],
             "mark": {"type": "geoshape", "stroke": "#fff", "strokeWidth": 0.25},
             "encoding": {"href": {"field": "url"}, "description": {"field": "kommune"},
                          "color": {"field": "v", "type": "quantitative", "scale": {"scheme": "blues"},
                                    "legend": {"orient": "bottom", "direction": "horizontal", "title": None,
                                               "gradientLength": 260}}}},
        ],
        "config": {"view": {"stroke": None}},
        "title": {"text": ["Brukere av hjemmetjenester 80+", f"per 100 innbyggere 80+, {year}"],
                  "fontSize": 13, "anchor": "start"},
    }


@lru_cache(maxsize=2)
def _overview_map(table_path: Path, mtime: float) -> str | None:
    """The map for a table file, kept on disk by the file's size and time and the helpers source (the
    command that writes the index after one report should not draw it or import the atlas again)."""
    from helpers import disk_cache
    from helpers.source_digest import helpers_digest_at_start

    stat = table_path.stat()
    key = ["front-page-map", str(table_path.resolve()), stat.st_size, stat.st_mtime_ns, helpers_digest_at_start()]
    drawn = disk_cache.kept("front-page", key, lambda: _draw_overview_map(table_path) or "", suffix=".svg")
    return drawn or None


def _draw_overview_map(table_path: Path) -> str | None:
    import polars as pl

    from helpers.present import svg_cache
    from helpers.reports.atlas.page_data import _default_years

    table = pl.read_parquet(table_path).filter(pl.col("structure") == "2024", pl.col("indicator") == MAP_INDICATOR)
    usable = table.filter(pl.col("value").is_not_null(), pl.col("flag").is_null())
    if usable.is_empty():
        return None
    year, _ = _default_years(usable.with_columns(pl.lit(0).alias("i")), 0, table["kommunenr"].n_unique())
    values = [{"k": k, "v": round(v, 1)} for k, v in usable.filter(pl.col("year") == year)
              .select("kommunenr", "value").iter_rows()]
    from helpers.present.charts import NORWEGIAN_LOCALE

    svg = svg_cache.svg(_map_spec(values, year), format_locale=NORWEGIAN_LOCALE["number"])
    # vl-convert resolves links against its own base URL; the links are to the atlas beside this page
    svg = svg.replace(f'xlink:href="{_VL_CONVERT_BASE}', 'xlink:href="')
    # a tenth of a pixel is enough: shortens the path data by about a third
    return _DECIMALS.sub(r"\1", svg[svg.index("<svg"):])


def overview_map(table_path: Path | None = None) -> str | None:
    """The front page's SVG map (None when the processed table does not exist yet)."""
    table_path = Path(table_path) if table_path is not None else paths.indicators_parquet()
    if not table_path.exists():
        return None
    return _overview_map(table_path, table_path.stat().st_mtime)


def render_front_page(entries: list[dict[str, Any]], map_svg: str | None = None) -> str:
    """The whole index page (see module docstring); `map_svg` defaults to `overview_map()`."""
    svg = map_svg if map_svg is not None else overview_map()
    figure = (f'<figure class="kart">{svg}'
              "<figcaption>Andel innbyggere 80 år og over som bruker hjemmetjenester. Grå: ikke tall. Klikk på en "
              "kommune for å se tallene dens over tid i utforskeren.</figcaption></figure>") if svg else ""
    page = TEMPLATE.read_text(encoding="utf-8")
    for marker, text in (
        ("map", figure),
        ("reports", reader_sections(entries)),
        ("rows", technical_rows(entries)),
        ("generated", html.escape(run_timestamp())),
    ):
        token = f"<!--oms:{marker}-->"
        if page.count(token) != 1:
            raise RuntimeError(f"front page template: expected one {token}")
        page = page.replace(token, text)
    return page
