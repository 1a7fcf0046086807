"""The atlas page (reports/utforsk.html): one self-contained file with the map and the linked panels.

The Vega-Lite spec holds the params (bound to inputs in the page's control bar), the datasets (kommune
series, reasons for gaps, national band, the map) and the layout: the map on the left, a column of panels
per domain to the right. The page's script applies the URL fragment (#3203 or #3203+3201) before the first
render, turns a click on the map into the chosen kommune (shift-click: the one to compare with), and keeps the
fragment in step. No kernel, no network: the Vega JavaScript is inlined once (helpers.reports.export).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from helpers import paths
from helpers.atomic import atomic_write_text
from helpers.errors import InputError
from helpers.present import charts
from helpers.reports import csp
from helpers.reports.atlas.data import DEFAULT_KOMMUNE, DEFAULT_STRUCTURE
from helpers.reports.atlas.map import map_params, map_view
from helpers.reports.atlas.page_data import COLUMN_TITLES, atlas_data
from helpers.reports.atlas.panels import panel_columns
from helpers.reports.export import json_for_script, vega_bundle
from helpers.sources import indicators as catalogue
from helpers.sources import kart

SOURCE_LINE = ("Kilde: Statistisk sentralbyrå (SSB), CC BY 4.0; bearbeidet av omsorgskapasitet. "
               "Kart: Kartverket, CC BY 4.0 (forenklet).")
FLAG_NOTE = (
    "Verdier med kvalitetsflagg (f.eks. usannsynlige hopp, kommuner delt ved reform, ufullstendige "
    "sammenslåinger, små nevnere) er holdt utenfor, både for kommunen, for landsfordelingen og i kartet, "
    "der kommunen blir grå og merknaden sier hvorfor."
)
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "atlas.html"


def atlas_spec(data: dict[str, Any], default: str = DEFAULT_KOMMUNE) -> dict[str, Any]:
    """The atlas's Vega-Lite spec: the params, the map and one column of panels per domain."""
    names: dict[str, str] = data["names"]
    if not names:
        raise InputError("Ingen kommuner med tall / no kommune has data for the atlas.")
    codes = list(names)
    labels = [f"{name} ({code})" for code, name in names.items()]
    first = default if default in names else codes[0]
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
            {"name": "visning", "value": "rater",
             "bind": {"input": "radio", "options": ["rater", "antall"],
                      "labels": ["rater og gjennomsnitt", "antall"], "name": "Diagrammene viser "}},
            {"name": "navn", "value": names},
            *map_params(data),
        ],
        # order matters: Vega defines data in this order, and a lookup may only use data defined before it
        "datasets": {"nasjonalt": data["national"], "kommuner": data["series"], "grunner": data["reasons"],
                     "kart": kart.map_topology()},
        "title": {"text": {"expr": title_expr},
                  "subtitle": f"Sammenlignet med alle kommuner, kommunestruktur {data['structure']}",
                  "fontSize": 20},
        "hconcat": [map_view(data), {"hconcat": panel_columns(data, COLUMN_TITLES), "spacing": 24,
                                     "resolve": {"scale": {"color": "shared"}}}],
        "spacing": 24,
        "resolve": {"scale": {"color": "independent"}},
    }


def atlas_html(data: dict[str, Any], default: str = DEFAULT_KOMMUNE) -> str:
    """The atlas page's complete HTML (the Vega JavaScript inlined once)."""
    notes = [
        f"Tallene er harmonisert til kommunestrukturen {data['structure']}: kommuner som er slått sammen, "
        f"vises med summen av forgjengerne, og rater er regnet ut på nytt fra summene. År: "
        f"{min(data['years'])}–{max(data['years'])}. Medianen og den midterste halvdelen er regnet over alle "
        "kommuner med tall det året. I kartet er endring for antall vist i prosent, for rater og gjennomsnitt i "
        "indikatorens enhet (prosentpoeng for andeler).",
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
    return csp.with_policy(page)  # no network, only the page's own scripts (helpers.reports.csp)


def render_atlas(
    table: pl.DataFrame | None = None,
    out: Path = paths.REPORTS / "utforsk.html",
    *,
    structure: str = DEFAULT_STRUCTURE,
    default: str = DEFAULT_KOMMUNE,
) -> Path:
    """Write the self-contained atlas page (atomically) and return its path.

    `table` defaults to `processed.load_indicators()` (built from the snapshot when absent).
    """
    if table is None:
        from helpers.table.processed import load_indicators

        table = load_indicators()
    return atomic_write_text(Path(out), atlas_html(atlas_data(table, structure), default))
