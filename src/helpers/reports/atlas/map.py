"""The atlas's choropleth of Norway (Vega-Lite geoshape), linked to the panels.

The reader picks an indicator (`kartindikator`) and either its level in one year (`modus` = "nivaa", year
`aar`) or its change between two years (`modus` = "endring", `fra` → `til`). Levels use a sequential scale;
changes a diverging one around 0 — in percentage points (or the unit) for rates and averages, in per cent for
counts. A kommune without a usable value is grey, and the tooltip says why (the reason codes of
`page_data.REASONS`); it is never drawn as zero. A click on a kommune chooses it for the panels (the page's
script sets the `kommune` param); the chosen kommune(r) are outlined.

The map is the 2024 TopoJSON of data/raw/kart, made lighter in memory by `helpers.sources.kart.map_topology`
(arcs simplified one by one, so shared borders stay shared, then quantised).
"""

from __future__ import annotations

from typing import Any

from helpers.sources import kart

MAP_WIDTH = 320
MAP_HEIGHT = 480
MISSING_COLOR = "#d4d4d4"
OUTLINE_COLOR = "#111111"
# Norway in UTM 33-like view: a transverse Mercator centred on 15° E
PROJECTION = {"type": "transverseMercator", "rotate": [-15, 0, 0]}


def _value(year: str) -> str:
    return f"toNumber(datum['v' + {year}])"


def _reason(year: str) -> str:
    """The reader's text for the reason code of the row in `year` ('' when there is a usable value)."""
    code = f"datum['r' + {year}]"
    return (f"(isValid({code}) && {code} != '' ? grunntekst[split({code}, ':')[0]] : "
            f"isValid({_value(year)}) ? '' : grunntekst['m'])")


def _left_out(year: str) -> str:
    """The value of a flagged row in `year` (left out of the colours), or null."""
    code = f"datum['r' + {year}]"
    return f"(isValid({code}) && indexof({code}, ':') > 0 ? toNumber(split({code}, ':')[1]) : null)"


def map_params(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The map's own params: indicator, level or change, the years, and the facts the expressions need."""
    facts = data["indicators"]
    index = {fact["id"]: n for n, fact in enumerate(facts)}
    options = [index[i] for i in data["map"]]
    years = data["years"]
    chosen = data["map_years"]
    info = {str(index[i]): {"label": facts[index[i]]["label"], "unit": facts[index[i]]["unit"],
                            "count": facts[index[i]]["count"]} for i in data["map"]}
    return [
        {"name": "kartindikator", "value": options[0],
         "bind": {"input": "select", "options": options, "labels": [facts[i]["label"] for i in options],
                  "name": "Kart: "}},
        {"name": "modus", "value": "nivaa",
         "bind": {"input": "radio", "options": ["nivaa", "endring"], "labels": ["nivå i ett år", "endring"],
                  "name": "Vis "}},
        {"name": "aar", "value": chosen["year"], "bind": {"input": "select", "options": years, "name": "År "}},
        {"name": "fra", "value": chosen["from"], "bind": {"input": "select", "options": years, "name": "Fra "}},
        {"name": "til", "value": chosen["to"], "bind": {"input": "select", "options": years, "name": "til "}},
        {"name": "kartinfo", "value": info},
        {"name": "grunntekst", "value": data["reason_texts"]},
    ]


def map_view(data: dict[str, Any]) -> dict[str, Any]:
    """The map as a Vega-Lite layer chart (uses the datasets `kart`, `kommuner` and `grunner`)."""
    years = [str(y) for y in data["years"]]
    count = "kartinfo[kartindikator].count"
    level, start, end = _value("aar"), _value("fra"), _value("til")
    change = (f"isValid({start}) && isValid({end}) ? ({count} ? ({start} > 0 ? ({end} / {start} - 1) * 100 : null)"
              f" : {end} - {start}) : null")
    unit = f"({count} ? ' %' : ' ' + kartinfo[kartindikator].unit)"
    shown = (f"modus == 'endring' ? (isValid(datum.farge) ? (datum.farge > 0 ? '+' : '') + "
             f"format(datum.farge, ',.1f') + {unit} : '–') : "
             f"(isValid(datum.farge) ? format(datum.farge, {count} ? ',.0f' : ',.1f') + "
             f"' ' + kartinfo[kartindikator].unit : isValid({_left_out('aar')}) ? "
             f"format({_left_out('aar')}, ',.1~f') + ' ' + kartinfo[kartindikator].unit + ' (holdt utenfor)' : '–')")
    why = (f"modus == 'endring' ? ({_reason('fra')} != '' ? fra + ': ' + {_reason('fra')} : "
           f"{_reason('til')} != '' ? til + ': ' + {_reason('til')} : '') : {_reason('aar')}")
    csv = {"type": "csv"}  # the raw rows, as the panels read them (see panels.py)
    transform = [
        {"calculate": "datum.properties.k", "as": "k"},
        {"calculate": "datum.properties.n", "as": "kommune"},
        {"calculate": "datum.k + '-' + kartindikator", "as": "ki"},
        {"lookup": "ki", "from": {"data": {"name": "kommuner", "format": csv}, "key": "ki", "fields": years},
         "as": [f"v{y}" for y in years]},
        {"lookup": "ki", "from": {"data": {"name": "grunner", "format": csv}, "key": "ki", "fields": years},
         "as": [f"r{y}" for y in years]},
        {"calculate": f"modus == 'endring' ? ({change}) : {level}", "as": "farge"},
        {"calculate": shown, "as": "verdi"},
        {"calculate": why, "as": "merknad"},
    ]
    tooltip = [
        {"field": "kommune", "type": "nominal", "title": "Kommune"},
        {"field": "verdi", "type": "nominal", "title": "Verdi"},
        {"field": "merknad", "type": "nominal", "title": "Merknad"},
    ]
    shape = {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.3, "cursor": "pointer"}
    missing = {"mark": {**shape, "fill": MISSING_COLOR}, "encoding": {"tooltip": tooltip}}
    coloured = {
        "transform": [{"filter": "isValid(datum.farge)"}],
        "mark": shape,
        "encoding": {
            "color": {"field": "farge", "type": "quantitative", "title": None,
                      "scale": {"scheme": {"expr": "modus == 'endring' ? 'redblue' : 'blues'"},
                                "domainMid": {"expr": "modus == 'endring' ? 0 : null"}, "zero": False},
                      "legend": {"orient": "bottom", "direction": "horizontal", "gradientLength": MAP_WIDTH - 60,
                                 "format": ",.3~s", "title": None}},
            "tooltip": tooltip,
        },
    }
    outline = {
        "transform": [{"filter": "datum.k == kommune || (kommune2 != '' && datum.k == kommune2)"}],
        "mark": {"type": "geoshape", "filled": False, "stroke": OUTLINE_COLOR, "strokeWidth": 1.6},
        "encoding": {"tooltip": tooltip},
    }
    title = ("[kartinfo[kartindikator].label, modus == 'endring' ? 'endring ' + fra + '–' + til + "
             f"({count} ? ' (%)' : ' (' + kartinfo[kartindikator].unit + ')') : '' + aar]")
    return {
        "data": {"name": "kart", "format": {"type": "topojson", "feature": kart.OBJECT}},
        "transform": transform,
        "projection": PROJECTION,
        "layer": [missing, coloured, outline],
        "width": MAP_WIDTH, "height": MAP_HEIGHT,
        "title": {"text": {"expr": title}, "fontSize": 14, "limit": MAP_WIDTH + 40,
                  "subtitle": ["Klikk på en kommune for å se tallene dens.", "Grå: ikke tall (pek for å se hvorfor)."],
                  "subtitleFontSize": 11},
    }
