"""helpers.charts: structure of the Vega-Lite specs, and offline rendering to SVG with vl-convert."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

import altair as alt
import polars as pl
import pytest
import vl_convert

from helpers import charts, compare
from helpers.errors import InputError
from helpers.schema import conform

BEFORE, AFTER = (2016, 2019), (2021, 2024)
INDICATORS = [
    "home_service_users_80plus_per_100_80plus",
    "long_term_users_80plus_per_100_80plus",
    "long_term_users",
]
GROUP = ["0100", "0110", "0120"]


@pytest.fixture(scope="module")
def result() -> compare.Comparison:
    """A small comparison: kommune 0001 ("Asker") against three others, three indicators, 2014–2024."""
    rows = [
        {
            "kommunenr": code,
            "kommune": "Asker" if code == "0001" else f"Kommune {code}",
            "structure": "2024",
            "year": year,
            "indicator": indicator,
            "value": (10 + i + j) * (1 + 0.02 * (year - 2014))
            - (1.5 if code == "0001" and year >= 2020 else 0),
            "source": "test",
        }
        for i, indicator in enumerate(INDICATORS)
        for j, code in enumerate(["0001", *GROUP])
        for year in range(2014, 2025)
    ]
    panel = conform(pl.DataFrame(rows))
    return compare.compare(panel, "0001", GROUP, INDICATORS, BEFORE, AFTER)


def svg_text(chart: alt.TopLevelMixin) -> str:
    """The chart rendered offline; its text with entities decoded."""
    return html.unescape(vl_convert.vegalite_to_svg(chart.to_json()))


def walk(node: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) pair in a nested spec."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def assert_offline(spec: dict) -> None:
    assert all(key != "url" for key, _ in walk(spec)), "data must be inline"
    assert spec["datasets"] and all(isinstance(rows, list) and rows for rows in spec["datasets"].values())


def test_theme_is_registered_enabled_and_norwegian(result: compare.Comparison) -> None:
    assert alt.theme.active == charts.THEME_NAME
    spec = charts.slope_chart(result.slopes).to_dict()
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["time"]["months"][0] == "januar"


def test_time_series_chart(result: compare.Comparison) -> None:
    series = result.series.filter(pl.col("indicator") == INDICATORS[1])
    chart = charts.time_series_chart(series, before=BEFORE, after=AFTER, breaks=[2020, 2024])
    spec = chart.to_dict()
    assert_offline(spec)
    marks = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]
    ]
    assert marks == ["rect", "text", "area", "line", "line", "rule", "text"]
    assert spec["title"]["text"].startswith("Langtidsbrukere 80+ per 100 innbyggere 80+")
    kommune_line = spec["layer"][4]
    assert kommune_line["encoding"]["x"]["axis"]["title"] == "År"
    assert kommune_line["encoding"]["color"]["scale"]["domain"] == [
        "Asker",
        compare.GROUP_MEDIAN_LABEL,
        charts.BAND_LABEL,
    ]
    assert [t["title"] for t in kommune_line["encoding"]["tooltip"]][:3] == [
        "År",
        "Asker",
        "Median i gruppen",
    ]
    assert spec["layer"][2]["encoding"]["y"]["title"] == "prosent"
    text = svg_text(chart)
    for expected in (
        "Kommunesammenslåing 2020",
        "Kommunesammenslåing 2024",
        "Før (2016–2019)",
        "Asker",
        "År",
    ):
        assert expected in text


def test_time_series_chart_needs_one_indicator(result: compare.Comparison) -> None:
    with pytest.raises(InputError, match="expected one label"):
        charts.time_series_chart(result.series)


def test_slope_chart(result: compare.Comparison) -> None:
    chart = charts.slope_chart(result.slopes, columns=2)
    spec = chart.to_dict()
    assert_offline(spec)
    assert spec["facet"]["field"] == "short_label" and spec["columns"] == 2
    assert spec["facet"]["sort"] == result.slopes["short_label"].unique(maintain_order=True).to_list()
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["title"]["text"] == "Før og etter, alle indikatorer"
    assert spec["spec"]["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Asker",
        compare.GROUP_MEDIAN_LABEL,
    ]
    text = svg_text(chart)
    assert "Før 2016–2019" in text and "Etter 2021–2024" in text
    assert result.slopes["value_text"][0] in text  # Norwegian decimal comma, e.g. "11,2"


def test_placebo_chart(result: compare.Comparison) -> None:
    placebo = result.placebo.filter(pl.col("indicator") == INDICATORS[1])
    chart = charts.placebo_chart(placebo, subtitle="Asker: rang 1 av 4")
    spec = chart.to_dict()
    assert_offline(spec)
    dots = spec["layer"][1]
    assert (
        dots["mark"]["type"] == "circle"
        and dots["encoding"]["color"]["condition"]["value"] == charts.KOMMUNE_COLOR
    )
    assert dots["encoding"]["y"]["axis"]["labels"] is True
    assert spec["title"] == {"text": "Placebotest", "subtitle": "Asker: rang 1 av 4"}
    assert "Asker: rang 1 av 4" in svg_text(chart)
    many = pl.concat(
        [placebo.with_columns(kommune=pl.format("{}-{}", "kommune", pl.lit(i))) for i in range(11)]
    )
    assert charts.placebo_chart(many).to_dict()["layer"][1]["encoding"]["y"]["axis"]["labels"] is False


def test_overview_chart(result: compare.Comparison) -> None:
    chart = charts.overview_chart(result.series, before=BEFORE, after=AFTER)
    spec = chart.to_dict()
    assert_offline(spec)
    columns = spec["hconcat"]
    assert [column["title"]["text"] for column in columns] == [
        "Hjemmesykepleie og hjemmetjenester",
        "Sykehjem og heldøgns omsorg",
    ]
    assert [len(column["vconcat"]) for column in columns] == [1, 2]
    assert [cell["title"]["text"] for cell in columns[1]["vconcat"]] == [
        "Langtid 80+ per 100 80+",
        "Langtidsopphold",
    ]
    assert spec["resolve"]["scale"] == {"color": "shared", "x": "shared"}
    text = svg_text(chart)
    assert "Asker: alle indikatorer" in text and "Sykehjem og heldøgns omsorg" in text


def test_builders_accept_polars_without_conversion(result: compare.Comparison) -> None:
    spec = charts.time_series_chart(result.series.filter(pl.col("indicator") == INDICATORS[0])).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {"year", "kommune_value", "group_median"} <= set(rows[0])
    assert json.dumps(spec)  # serialisable as is


def test_coverage_chart_is_a_heatmap_of_shares(built_table):
    from helpers import quality

    coverage = quality.coverage(built_table, "2024")
    spec = charts.coverage_chart(coverage, quality.indicator_labels()).to_dict()
    mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]
    assert mark == "rect"
    assert spec["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert spec["title"] == "Dekning per indikator og år"
