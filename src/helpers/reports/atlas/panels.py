"""The atlas's time-series panels (Vega-Lite): the chosen kommune(r) against the national median and band.

Each column (hjemmetjenester, sykehjem) has a few panel slots; the `visning` param decides whether a slot
shows its rate/average (default) or its count. The kommune lines follow the `kommune` and `kommune2` params,
which the dropdowns, the map (a click) and the URL fragment set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from helpers.present import charts

SECOND_COLOR = "#d08c2f"
LEGEND_MEDIAN = "Median, alle kommuner"
LEGEND_BAND = "Midterste halvdel (25–75 %)"
PANEL_WIDTH = 270
PANEL_HEIGHT = 110
NUMBER = ",.1~f"  # Norwegian grouping, one decimal where there is one (counts are whole numbers)
_ROLES = ("1", "2", "m", "q")
VIEWS = ("rater", "antall")


def selected_expr() -> str:
    """Vega expression: true when the row's kommune is one of the two chosen."""
    return "datum.k == kommune || (kommune2 != '' && datum.k == kommune2)"


def slot_expr(slot: dict[str, int]) -> str:
    """Vega expression: the indicator index a slot shows in the current view (-1: none)."""
    return f"(visning == 'antall' ? {slot.get('antall', -1)} : {slot.get('rater', -1)})"


def _slot_title(slot: dict[str, int], facts: Sequence[dict[str, Any]]) -> str:
    def label(view: str) -> str:
        if view not in slot:
            return ""
        fact = facts[slot[view]]
        # "per 100 innbyggere 80+" repeats what the label says; "prosent" or "personer" does not
        unit = "" if fact["unit"] in fact["label"] or fact["unit"].startswith("per ") else f" ({fact['unit']})"
        return fact["label"] + unit
    return f"visning == 'antall' ? {json.dumps(label('antall'))} : {json.dumps(label('rater'))}"


def panel(slot: dict[str, int], facts: Sequence[dict[str, Any]], years: Sequence[int]) -> dict[str, Any]:
    """One small chart for a slot: national band and median, the chosen kommune(r)'s line(s)."""
    shown = slot_expr(slot)
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
    # every layer reads the raw CSV datasets and converts with toNumber: a parse format would make Vega-Lite
    # derive a parsed copy, defined after the map that looks the rows up (Vega then cannot find it)
    national = {"name": "nasjonalt", "format": {"type": "csv"}}
    numbers = [{"calculate": f"toNumber(datum.{field})", "as": field}
               for field in ("i", "year", "n", "q1", "med", "q3")]
    y_title = {"title": None, "scale": {"zero": False}, "axis": {"format": ",.3~s", "tickCount": 4}}
    stats_tooltip = [
        {"field": "year", "type": "quantitative", "title": "År", "format": "d"},
        {"field": "med", "type": "quantitative", "title": "Median, alle kommuner", "format": NUMBER},
        {"field": "q1", "type": "quantitative", "title": "25-persentil", "format": NUMBER},
        {"field": "q3", "type": "quantitative", "title": "75-persentil", "format": NUMBER},
        {"field": "n", "type": "quantitative", "title": "Kommuner med tall"},
    ]
    band = {
        "data": national, "transform": [*numbers, {"filter": f"datum.i == {shown}"}],
        "mark": {"type": "area", "opacity": 0.7},
        "encoding": {"x": x, "y": {"field": "q1", "type": "quantitative", **y_title}, "y2": {"field": "q3"},
                     "color": {"datum": "q", "type": "nominal", "scale": color_scale, "legend": legend},
                     "tooltip": stats_tooltip},
    }
    median = {
        "data": national, "transform": [*numbers, {"filter": f"datum.i == {shown}"}],
        "mark": {"type": "line", "strokeDash": [6, 3], "strokeWidth": 2},
        "encoding": {"x": x, "y": {"field": "med", "type": "quantitative"},
                     "color": {"datum": "m", "type": "nominal"}},
    }
    kommune = {
        "data": {"name": "kommuner", "format": {"type": "csv"}},
        "transform": [
            {"filter": f"datum.i == {shown} && ({selected_expr()})"},
            {"fold": [str(year) for year in years], "as": ["aar", "tekst"]},
            {"calculate": "toNumber(datum.tekst)", "as": "value"},
            {"calculate": "toNumber(datum.aar)", "as": "year"},
            {"calculate": "datum.k == kommune ? '1' : '2'", "as": "rolle"},
            {"calculate": "navn[datum.k]", "as": "kommune"},
            {"calculate": "datum.i + '-' + datum.aar", "as": "key"},
            {"lookup": "key", "from": {"data": national, "key": "key", "fields": ["med", "q1", "q3"]}},
            *[step for step in numbers if step["as"] in ("med", "q1", "q3")],
            {"calculate": ("!isValid(datum.q1) ? '' : datum.value > datum.q3 ? 'over midterste halvdel' : "
                           "datum.value < datum.q1 ? 'under midterste halvdel' : 'i midterste halvdel'"),
             "as": "plass"},
        ],
        # a year without a usable value breaks the line (a gap, never a bridge or a zero)
        "mark": {"type": "line", "strokeWidth": 2.5, "point": {"size": 30}, "invalid": "break-paths-filter-domains"},
        "encoding": {
            "x": x, "y": {"field": "value", "type": "quantitative"},
            "color": {"field": "rolle", "type": "nominal", "title": None},
            "detail": {"field": "k", "type": "nominal"},
            "tooltip": [
                {"field": "kommune", "type": "nominal", "title": "Kommune"},
                {"field": "year", "type": "quantitative", "title": "År", "format": "d"},
                {"field": "value", "type": "quantitative", "title": "Verdi", "format": NUMBER},
                {"field": "med", "type": "quantitative", "title": "Median, alle kommuner", "format": NUMBER},
                {"field": "plass", "type": "nominal", "title": "Blant kommunene"},
            ],
        },
    }
    return {"layer": [band, median, kommune], "width": PANEL_WIDTH, "height": PANEL_HEIGHT,
            "title": {"text": {"expr": _slot_title(slot, facts)}, "fontSize": 13, "limit": PANEL_WIDTH + 40}}


def panel_columns(data: dict[str, Any], titles: dict[str, str]) -> list[dict[str, Any]]:
    """One vconcat column of panel slots per domain, each slot showing a rate or a count by `visning`."""
    index = {fact["id"]: n for n, fact in enumerate(data["indicators"])}
    columns = []
    for domain, title in titles.items():
        per_view = {view: data["views"][view].get(domain, []) for view in VIEWS}
        slots = []
        for position in range(max(len(ids) for ids in per_view.values())):
            slots.append({view: index[ids[position]] for view, ids in per_view.items() if position < len(ids)})
        if slots:
            cells = [panel(slot, data["indicators"], data["years"]) for slot in slots]
            columns.append({"vconcat": cells, "title": {"text": title, "fontSize": 15}})
    return columns
