"""helpers.present.charts: structure of the Vega-Lite specs, and offline rendering to SVG with vl-convert."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import altair as alt
import polars as pl
import pytest
import vl_convert
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import analysis
from helpers.errors import InputError
from helpers.present import charts
from helpers.present.chart_templates import FilledChart
from helpers.present.formatting import MINUS, NBSP
from helpers.sources.schema import conform

BEFORE, AFTER = (2016, 2019), (2021, 2024)
INDICATORS = [
    "home_service_users_80plus_per_100_80plus",
    "long_term_users_80plus_per_100_80plus",
    "long_term_users",
]
GROUP = ["0100", "0110", "0120"]


def _panel() -> pl.DataFrame:
    """Kommune 0001 ("Asker") and three others, three indicators, 2014–2024."""
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
    return conform(pl.DataFrame(rows))


@pytest.fixture(scope="module")
def result() -> analysis.Comparison:
    """A small comparison: kommune 0001 ("Asker") against three others, three indicators, 2014–2024."""
    panel = _panel()
    group = analysis.ComparisonGroup(kommune="0001", name="Asker", codes=tuple(GROUP), how="list")
    return analysis.compare(panel, "0001", group, INDICATORS, BEFORE, AFTER, pre_start=2014)


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


def test_theme_is_registered_enabled_and_norwegian(result: analysis.Comparison) -> None:
    assert alt.theme.active == charts.THEME_NAME
    spec = charts.slope_chart(result).to_dict()
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["time"]["months"][0] == "januar"


def test_time_series_chart(result: analysis.Comparison) -> None:
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
        charts.GROUP_MEDIAN_LABEL,
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


def test_time_series_chart_needs_one_indicator(result: analysis.Comparison) -> None:
    with pytest.raises(InputError, match="expected one label"):
        charts.time_series_chart(result.series)


def test_slope_chart(result: analysis.Comparison) -> None:
    chart = charts.slope_chart(result, columns=2)
    slopes = charts.slope_frame(result)
    spec = chart.to_dict()
    assert_offline(spec)
    assert spec["facet"]["field"] == "short_label" and spec["columns"] == 2
    assert spec["facet"]["sort"] == slopes["short_label"].unique(maintain_order=True).to_list()
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert spec["title"]["text"] == "Før og etter, alle indikatorer"
    assert spec["spec"]["layer"][0]["encoding"]["color"]["scale"]["domain"] == [
        "Asker",
        charts.GROUP_MEDIAN_LABEL,
    ]
    text = svg_text(chart)
    assert "Før 2016–2019" in text and "Etter 2021–2024" in text
    assert slopes["value_text"][0] in text  # Norwegian decimal comma, e.g. "11,2"


def test_placebo_chart(result: analysis.Comparison) -> None:
    placebo = result.did.placebo.filter(pl.col("indicator") == INDICATORS[1])
    chart = charts.placebo_chart(placebo, axis_title="Avvik (prosentpoeng)", subtitle="Asker: rang 1 av 4")
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
    spec = charts.placebo_chart(many, axis_title="x").to_dict()
    assert spec["layer"][1]["encoding"]["y"]["axis"]["labels"] is False


def test_overview_chart(result: analysis.Comparison) -> None:
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


def test_builders_accept_polars_without_conversion(result: analysis.Comparison) -> None:
    spec = charts.time_series_chart(result.series.filter(pl.col("indicator") == INDICATORS[0])).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {"year", "kommune_value", "group_median"} <= set(rows[0])
    assert json.dumps(spec)  # serialisable as is


def test_coverage_chart_is_a_heatmap_of_shares(built_table):
    from helpers.table import quality

    coverage = quality.coverage(built_table, "2024")
    spec = charts.coverage_chart(coverage, quality.indicator_labels()).to_dict()
    mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]
    assert mark == "rect"
    assert spec["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert spec["title"] == "Dekning per indikator og år"


def test_synthetic_chart_shades_the_fitted_years(result: analysis.Comparison) -> None:
    sc = analysis.synthetic_control(_panel(), "0001", GROUP, INDICATORS[0], BEFORE, AFTER, pre_start=2014)
    assert sc.ok
    chart = charts.synthetic_chart(sc, kommune="Asker", title="Tittel", unit="prosent")
    spec = chart.to_dict()
    assert_offline(spec)
    rect = spec["layer"][0]
    assert rect["mark"]["type"] == "rect"
    shaded = spec["datasets"][rect["data"]["name"]]
    assert shaded == [{"start": 2013.5, "end": 2019.5}]  # the years the weights were fitted on
    text = svg_text(chart)
    assert "Asker" in text and charts.SYNTHETIC_LABEL in text


def test_change_bars_label_norwegian_percentages() -> None:
    rows = [{"panel": "a – støttes", "series": "Påstått i dokumentet", "kind": "Påstått", "value": 42.0, "years": ""},
            {"panel": "a – støttes", "series": "Brukere (indirekte mål)", "kind": "Kommunen (SSB)", "value": -6.6,
             "years": "2013 → 2015"}]
    chart = charts.change_bars(rows, title="Påstått og målt", subtitle=["undertittel"])
    spec = chart.to_dict()
    assert_offline(spec)
    assert spec["facet"]["row"]["sort"] == ["a – støttes"]
    text = svg_text(chart)
    assert f"+42,0{NBSP}%" in text and f"{MINUS}6,6{NBSP}%" in text


# ---------------------------------------------------------------- templates: the same spec as Altair's

WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12) | st.sampled_from(
    ['"', "\\", "</script>", "Bærum", "@@oms:kommune@@", '"@@oms:title@@"', "a\nb", "Porsanger - Porsáŋgu"])


def same_as_altair(chart: object) -> None:
    """The filled spec is Altair's spec of the same chart, key order included; displays through the same renderer."""
    assert isinstance(chart, FilledChart)
    reference = chart.to_altair()
    assert json.dumps(chart.to_dict()) == json.dumps(reference.to_dict())
    assert chart.to_json() == reference.to_json()
    assert repr(chart) == repr(reference)
    mine, theirs = chart._repr_mimebundle_(), reference._repr_mimebundle_()
    assert ALTAIR_ID.sub("", mine["text/html"]) == ALTAIR_ID.sub("", theirs["text/html"])


ALTAIR_ID = re.compile(r"altair-viz-[0-9a-f]+")


@settings(max_examples=12, deadline=None)
@given(kommune=WORDS, title=WORDS, unit=WORDS)
def test_filled_charts_are_altairs_for_any_words(result: analysis.Comparison, kommune: str, title: str,
                                                   unit: str) -> None:
    series = result.series.with_columns(kommune=pl.lit(kommune), unit=pl.lit(unit))
    one = series.filter(pl.col("indicator") == INDICATORS[1])
    same_as_altair(charts.time_series_chart(one, before=BEFORE, after=AFTER, breaks={2020: title}, subtitle=unit))
    same_as_altair(charts.time_series_chart(one, title=title))  # no windows, no breaks: another shape
    placebo = result.did.placebo.filter(pl.col("indicator") == INDICATORS[0]).with_columns(kommune=pl.lit(kommune))
    same_as_altair(charts.placebo_chart(placebo, axis_title=unit, title=title))
    sc = analysis.synthetic_control(_panel(), "0001", GROUP, INDICATORS[0], BEFORE, AFTER, pre_start=2014)
    same_as_altair(charts.synthetic_chart(sc, kommune=kommune, title=title, unit=unit))


def test_filled_slope_and_overview_charts_of_other_shapes(result: analysis.Comparison) -> None:
    same_as_altair(charts.slope_chart(result, columns=2))
    odd = result.series.with_columns(kommune=pl.lit('Ø"\\ @@oms:title@@'), unit=pl.lit("</script>"))
    same_as_altair(charts.overview_chart(odd, before=BEFORE, breaks=[2020], title='"@@oms:kommune@@"'))
    one_domain = result.series.filter(pl.col("domain") == "sykehjem")
    same_as_altair(charts.overview_chart(one_domain, before=BEFORE, after=AFTER))
    many = pl.concat([result.did.placebo.filter(pl.col("indicator") == INDICATORS[1])
                      .with_columns(kommune=pl.format("{}-{}", "kommune", pl.lit(i))) for i in range(30)])
    same_as_altair(charts.placebo_chart(many, axis_title="x"))  # no labels, another height: 600


def test_filled_charts_keep_altairs_api_and_other_data_transformers(result: analysis.Comparison) -> None:
    chart = charts.time_series_chart(result.series.filter(pl.col("indicator") == INDICATORS[0]))
    wider = chart.properties(width=800)  # any Altair method: on the Altair chart itself
    assert isinstance(wider, alt.TopLevelMixin) and wider.to_dict()["width"] == 800
    alt.data_transformers.register("oms_test_values", lambda data: alt.default_data_transformer(data, max_rows=9999))
    with alt.data_transformers.enable("oms_test_values"):  # no template: built directly, still the same spec
        built = charts.time_series_chart(result.series.filter(pl.col("indicator") == INDICATORS[0]))
        assert built._filled is None
        assert json.dumps(built.to_dict()) == json.dumps(chart.to_altair().to_dict())
