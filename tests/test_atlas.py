"""The exploration helpers (helpers.reports.atlas) and the offline atlas page, in headless Chromium when installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from browser import HeadlessChromium
from support import run_notebook, start_chromium

from helpers.errors import InputError
from helpers.reports import atlas
from helpers.sources import kart

RATE = "home_service_users_80plus_per_100_80plus"
LONG_TERM = "long_term_users_80plus_per_100_80plus"
MAX_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def atlas_page(built_table: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return atlas.render_atlas(built_table, out=tmp_path_factory.mktemp("atlas") / "utforsk.html")


def _unflagged(table: pl.DataFrame, indicator: str, year: int) -> pl.Series:
    return table.filter(
        pl.col("structure") == "2024", pl.col("indicator") == indicator, pl.col("year") == year,
        pl.col("value").is_not_null(), pl.col("flag").is_null(),
    )["value"]


# --------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------


def test_national_distribution_is_over_unflagged_kommuner(built_table):
    dist = atlas.national_distribution(built_table, [RATE, LONG_TERM])
    assert dist["indicator"].unique(maintain_order=True).to_list() == [RATE, LONG_TERM]
    row = dist.filter(pl.col("indicator") == RATE, pl.col("year") == 2019).row(0, named=True)
    values = _unflagged(built_table, RATE, 2019)
    assert row["n"] == values.len()
    assert row["median"] == pytest.approx(values.median())
    assert row["p10"] <= row["p25"] <= row["median"] <= row["p75"] <= row["p90"]
    with_flagged = atlas.national_distribution(built_table, RATE, exclude_flagged=False)
    assert with_flagged.filter(pl.col("year") == 2019)["n"][0] >= row["n"]


def test_kommune_series_places_the_kommune_in_the_distribution(built_table):
    series = atlas.kommune_series(built_table, ["3203", "3201"], [RATE, LONG_TERM])
    assert series["kommune"].unique(maintain_order=True).to_list() == ["Asker", "Bærum"]
    assert series.filter(pl.col("percentile").is_not_null())["percentile"].is_between(0, 100).all()
    row = series.filter(pl.col("kommunenr") == "3201", pl.col("indicator") == RATE, pl.col("year") == 2019)
    values = _unflagged(built_table, RATE, 2019)
    value = row["value"][0]
    below, equal = (values < value).sum(), (values == value).sum()
    assert row["percentile"][0] == pytest.approx(100 * (below + equal / 2) / values.len())


def test_kommune_series_rejects_unknown_input_with_a_hint(built_table):
    with pytest.raises(InputError, match="9999"):
        atlas.kommune_series(built_table, ["9999"], [RATE])
    with pytest.raises(InputError, match="3203"):
        atlas.kommune_series(built_table, ["Asker"], [RATE])
    with pytest.raises(InputError, match="unknown indicator"):
        atlas.kommune_series(built_table, ["3203"], ["no_such_indicator"])
    with pytest.raises(InputError, match="1999"):
        atlas.kommune_series(built_table, ["3203"], [RATE], structure="1999")


def test_flagged_values_are_left_out_of_the_series(built_table):
    flagged = built_table.filter(
        pl.col("structure") == "2024", pl.col("indicator") == RATE, pl.col("flag").is_not_null(),
        pl.col("value").is_not_null(),
    ).row(0, named=True)
    series = atlas.kommune_series(built_table, [flagged["kommunenr"]], [RATE])
    assert flagged["year"] not in series["year"].to_list()
    kept = atlas.kommune_series(built_table, [flagged["kommunenr"]], [RATE], exclude_flagged=False)
    assert flagged["year"] in kept["year"].to_list()


def test_copy_table_is_norwegian_text(built_table):
    series = atlas.kommune_series(built_table, ["3203", "3201"], [RATE])
    table = atlas.copy_table(series)
    frame = table.frame
    assert frame.columns == ["År", "Asker: Hjemmetj. 80+ per 100 80+ (prosent)",
                             "Bærum: Hjemmetj. 80+ per 100 80+ (prosent)"]
    assert all(dtype == pl.String for dtype in frame.dtypes[1:])
    assert re.fullmatch(r"\d+,\d", frame.filter(pl.col("År") == 2019)[frame.columns[1]][0])
    percentiles = atlas.copy_table(series, what="percentile").frame
    assert percentiles.columns[1] == "Asker: Hjemmetj. 80+ per 100 80+ (persentil)"
    html = table._repr_html_()
    assert "<table" in html and "Asker" in html and "&quot;" not in html
    distribution = atlas.distribution_table(atlas.national_distribution(built_table, RATE)).frame
    assert distribution.columns[:3] == ["Indikator", "År", "Kommuner"] and "," in distribution["Median"][0]


def test_explore_chart_is_interactive(built_table):
    series = atlas.kommune_series(built_table, ["3203", "3201"], [RATE, LONG_TERM])
    chart = atlas.explore_chart(series, atlas.national_distribution(built_table, [RATE, LONG_TERM]))
    text = json.dumps(chart.to_dict())
    assert '"bind": "scales"' in text and '"bind": "legend"' in text and '"tooltip"' in text
    assert len(chart.to_dict()["vconcat"]) == 2


def test_atlas_data_is_compact_and_rounded(built_table):
    data = atlas.atlas_data(built_table)
    assert "institution_places_per_100_80plus" in data["missing"]  # not in the snapshot
    series = pl.read_csv(data["series"].encode(), schema_overrides={"k": pl.String, "ki": pl.String})
    assert series["k"].n_unique() > 300 and len(data["names"]) == 357
    ids = [fact["id"] for fact in data["indicators"]]
    asker = series.filter(pl.col("k") == "3203", pl.col("i") == ids.index(RATE))
    expected = round(_unflagged(built_table.filter(pl.col("kommunenr") == "3203"), RATE, 2019)[0], 2)
    assert asker["2019"][0] == pytest.approx(expected) and asker["ki"][0] == f"3203-{ids.index(RATE)}"
    assert re.search(r"\.\d{3}", data["series"]) is None  # at most two decimals
    # rates first (the default view), counts one click away; the map offers both
    assert data["views"]["rater"]["hjemmesykepleie"][0] == RATE
    assert data["views"]["antall"]["hjemmesykepleie"][0] == "home_service_users"
    assert data["map"][0] == RATE and "home_service_users" in data["map"]


def _reason(data: dict, kommune: str, indicator: str, year: int) -> str | None:
    reasons = pl.read_csv(data["reasons"].encode(), schema_overrides={"k": pl.String}, infer_schema_length=0)
    ids = [fact["id"] for fact in data["indicators"]]
    row = reasons.filter(pl.col("k") == kommune, pl.col("i") == str(ids.index(indicator)))
    return row[str(year)][0] if row.height else None


def test_every_gap_on_the_map_has_a_reason(built_table):
    data = atlas.atlas_data(built_table)
    assert _reason(data, "1508", "home_service_users", 2021) == "s"  # 1507's figure cannot be divided
    assert _reason(data, "1101", "home_service_users", 2010) == "o:64"  # Eigersund: flagged, value kept
    assert _reason(data, "3203", "nurse_ftes_per_100_users", 2012) == "n"  # the series starts in 2015
    assert _reason(data, "3203", "home_service_users", 2019) is None  # a usable value: no reason
    assert set(data["reason_texts"]) >= {"s", "o", "n", "m", "u"}
    # every empty cell has a reason code, except where the table has no row at all for the indicator and year
    # (e.g. hours per year before 2009): the page then says "Oppgave mangler"
    series = pl.read_csv(data["series"].encode(), schema_overrides={"k": pl.String}, infer_schema_length=0)
    reasons = pl.read_csv(data["reasons"].encode(), schema_overrides={"k": pl.String}, infer_schema_length=0)
    both = series.join(reasons, on=["k", "i"], how="left", suffix="_r")
    for year in map(str, data["years"]):
        silent = both.filter(pl.col(year).is_null(), pl.col(f"{year}_r").is_null())["i"].unique().to_list()
        for i in silent:
            indicator = data["indicators"][int(i)]["id"]
            assert built_table.filter(pl.col("structure") == "2024", pl.col("indicator") == indicator,
                                      pl.col("year") == int(year)).height == 0, (indicator, year)


def test_map_topology_is_small_shared_and_clockwise():
    raw = kart.read_topology()
    light = kart.map_topology()
    assert len(light["objects"]["Kommuner"]["geometries"]) == 357 and len(light["arcs"]) == len(raw["arcs"])
    assert all(isinstance(v, int) for arc in light["arcs"][:50] for point in arc for v in point)
    assert len(json.dumps(light, separators=(",", ":"))) < len(json.dumps(raw, separators=(",", ":"))) / 3
    # decoded end points sit where the raw ones are, within the quantisation step: shared borders stay shared
    (kx, ky), (x0, y0) = light["transform"]["scale"], light["transform"]["translate"]
    for raw_arc, arc in zip(raw["arcs"][:200], light["arcs"][:200], strict=True):
        x, y = arc[0][0] * kx + x0, arc[0][1] * ky + y0
        assert abs(x - raw_arc[0][0]) <= kx and abs(y - raw_arc[0][1]) <= ky
    # rings turned round for d3-geo: the first ring of Asker references the raw arcs in reverse order
    raw_asker = next(g for g in raw["objects"]["Kommuner"]["geometries"] if g["properties"]["kommunenummer"] == "3203")
    asker = next(g for g in light["objects"]["Kommuner"]["geometries"] if g["properties"]["k"] == "3203")
    first_raw = kart.rings(raw_asker)[0]
    assert kart.rings(asker)[0] == [~arc for arc in reversed(first_raw)]


def test_simplification_keeps_end_points_and_small_islands():
    square = [[0.0, 0.0], [0.5, 0.001], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    kept = kart.simplify_arc(square, min_area=0.01)
    assert kept[0] == square[0] and kept[-1] == square[-1] and [0.5, 0.001] not in kept
    assert len(kart.simplify_arc(square, min_area=100.0, keep=4)) == 4


# --------------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------------


def test_atlas_page_is_one_small_offline_file(atlas_page):
    size = atlas_page.stat().st_size
    print(f"\natlas page: {size / 1024 / 1024:.2f} MB")
    assert size < MAX_BYTES
    html = atlas_page.read_text(encoding="utf-8")
    assert html.count('id="oms-vega-bundle"') == 1
    assert "<script src" not in html and "<link" not in html
    assert "Kilde: Statistisk sentralbyrå (SSB), CC BY 4.0; bearbeidet av omsorgskapasitet" in html
    assert "Kartverket" in html and "kvalitetsflagg" in html and '<html lang="nb">' in html
    spec_text = re.search(r'<script type="application/json" id="atlas-spec">(.*?)</script>', html, re.S)[1]
    spec = json.loads(spec_text)
    binds = {p["name"]: p["bind"] for p in spec["params"] if "bind" in p}
    assert binds["kommune"]["input"] == "select" and "3203" in binds["kommune"]["options"]
    second = binds["kommune2"]
    assert second["options"][0] == "" and len(second["labels"]) == len(second["options"])
    assert {"visning", "kartindikator", "modus", "aar", "fra", "til"} <= set(binds)
    assert spec["hconcat"][0]["layer"][1]["mark"]["type"] == "geoshape"


def test_atlas_spec_compiles_with_vl_convert(built_table):
    import vl_convert

    spec = atlas.atlas_spec(atlas.atlas_data(built_table))
    vega = vl_convert.vegalite_to_vega(spec, vl_version="6.4")
    assert {"kommune", "kommune2", "navn", "visning", "kartindikator", "modus"} <= {s["name"] for s in vega["signals"]}
    # a lookup may only use data Vega has defined before it (the map looks up the raw kommune rows)
    defined: set[str] = set()
    for data in vega["data"]:
        for step in data.get("transform", []):
            if step["type"] == "lookup":
                assert step["from"] in defined, (data["name"], step["from"])
        defined.add(data["name"])


def _points(browser: HeadlessChromium) -> list[str]:
    """The aria labels of the kommune line points: one per plotted value, naming kommune and value."""
    return browser.evaluate(
        "Array.from(document.querySelectorAll('#atlas g.mark-symbol.role-mark path'))"
        ".map(p => p.getAttribute('aria-label'))"
    )


def _choose(browser: HeadlessChromium, select: str, code: str) -> None:
    """Pick `code` in a dropdown as a reader would (change event), then wait for Vega to re-render."""
    browser.evaluate(
        f"(function () {{ var s = document.querySelector('select[name={select}]'); s.value = '{code}';"
        "  s.dispatchEvent(new Event('change')); return window.atlasView.runAsync().then(function () {"
        "  return true; }); })()"
    )


# A point inside a kommune's shape on the map: probe its bounding box with elementFromPoint
_INSIDE = """(() => {
  const mine = el => el && el.__data__ && el.__data__.mark && el.__data__.mark.marktype === 'shape'
    && el.__data__.datum && el.__data__.datum.k === '%s';
  for (const path of Array.from(document.querySelectorAll('#atlas path')).filter(mine)) {
    path.scrollIntoView({block: 'center'});
    const r = path.getBoundingClientRect();
    for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) {
      const x = r.left + r.width * i / 10, y = r.top + r.height * j / 10;
      if (mine(document.elementFromPoint(x, y))) return [x, y];
    }
  }
  return null; })()"""
_TOOLTIP = ("(() => { const t = document.querySelector('#vg-tooltip-element');"
            " return t && t.classList.contains('visible') ? t.innerText : ''; })()")


def _click_on_map(browser: HeadlessChromium, code: str) -> str:
    """Hover over kommune `code` on the map, return the tooltip text, then click it like a reader."""
    x, y = browser.evaluate(_INSIDE % code)
    browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    tooltip = browser.wait_for(_TOOLTIP, timeout=10)
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    browser.evaluate("window.atlasView.runAsync().then(() => true)")
    return tooltip


@pytest.mark.browser
def test_atlas_in_headless_chromium(atlas_page, built_table, capsys, tmp_path):
    with start_chromium(width=1280) as browser:
        browser.open(atlas_page.as_uri() + "#3203", ready="window.atlasReady || window.atlasError")
        assert browser.evaluate("window.atlasError || ''") == ""
        load_ms = browser.evaluate("window.atlasRenderMs")
        with capsys.disabled():
            print(f"\natlas page rendered in {load_ms:.0f} ms (script start to first render, headless Chromium)")
        assert browser.external_requests() == []

        # rates by default: Asker's 80+ rate for 2019 is among the plotted points
        asker = _points(browser)
        assert asker and all("k: 3203" in label for label in asker)
        rate = round(_unflagged(built_table.filter(pl.col("kommunenr") == "3203"), RATE, 2019)[0], 2)
        assert any("År: 2019" in label and f"value: {rate:g};".replace(".", ",") in label for label in asker)

        # a click on Bærum in the map: the tooltip names it, the panels, the dropdown and the link follow
        tooltip = _click_on_map(browser, "3201")
        assert "Bærum" in tooltip and "prosent" in tooltip
        assert browser.evaluate("window.atlasView.signal('kommune')") == "3201"
        assert browser.evaluate("document.querySelector('select[name=kommune]').value") == "3201"
        baerum = _points(browser)
        assert baerum and all("k: 3201" in label for label in baerum) and baerum != asker
        assert browser.evaluate("window.location.hash") == "#3201"

        # counts are one click away
        browser.evaluate("(() => { const r = document.querySelector('input[name=visning][value=antall]');"
                         " r.click(); return window.atlasView.runAsync().then(() => true); })()")
        value = built_table.filter(
            pl.col("structure") == "2024", pl.col("kommunenr") == "3201", pl.col("year") == 2019,
            pl.col("indicator") == "home_service_users",
        )["value"][0]
        assert any("År: 2019" in label and f"value: {round(value)};" in label for label in _points(browser))

        # a kommune without a value is grey with its reason, never zero: Haram 2021 (1507 was one kommune)
        long_term = [fact["id"] for fact in atlas.atlas_data(built_table)["indicators"]].index(LONG_TERM)
        browser.evaluate(f"window.atlasView.signal('kartindikator', {long_term}).signal('aar', 2021).runAsync()"
                         ".then(() => true)")
        haram = _click_on_map(browser, "1580")
        assert "Delt ved kommunereform" in haram and "–" in haram

        _choose(browser, "kommune2", "3203")
        both = _points(browser)
        assert {"k: 1580", "k: 3203"} <= {re.search(r"k: \d{4}", label)[0] for label in both}
        legend = browser.evaluate("Array.from(document.querySelectorAll('#atlas .role-legend text'))"
                                  ".map(t => t.textContent)")
        assert "Haram" in legend and "Asker" in legend
        assert browser.evaluate("window.location.hash") == "#1580+3203"
        assert [line for line in browser.console if line.startswith("exception")] == []
        browser.screenshot(tmp_path / "utforsk.png")
        assert "Content-Security-Policy" in atlas_page.read_text(encoding="utf-8")
        assert browser.violations == []


# --------------------------------------------------------------------------------------------------------
# The exploration notebook
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def processed(built_table: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("processed")
    built_table.write_parquet(folder / "indicators.parquet")
    return folder


def _run_notebook(processed: Path, out: Path, **parameters: object) -> dict:
    return run_notebook("05_utforsk.ipynb", out, processed=processed, **parameters)


@pytest.mark.notebook
def test_exploration_notebook_runs_with_defaults(processed, tmp_path):
    notebook = _run_notebook(processed, tmp_path / "out.ipynb")
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs, ensure_ascii=False)
    assert "Asker: Hjemmetj. 80+ per 100 80+ (prosent)" in text and "Bærum" in text
    from helpers.reports.export import chart_spec

    charts = [found[0] for o in outputs if o.get("output_type") != "stream" and (found := chart_spec(o))]
    assert len(charts) == 1 and '"bind": "scales"' in json.dumps(charts[0])


@pytest.mark.notebook
@pytest.mark.parametrize("code", ["３２０３", "٣٢٠٣"])
def test_exploration_parameters_refuse_digits_other_than_0_to_9(code):
    with pytest.raises(InputError, match="invalid kommune code"):
        atlas.check_parameters([code], ["home_service_users"], "2024")


@pytest.mark.notebook
def test_exploration_notebook_stops_on_a_bad_kommune_with_one_message(processed, tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as info:
        _run_notebook(processed, tmp_path / "out.ipynb", kommuner=["Asker"])
    assert info.value.ename == "InputError" and "Asker" in info.value.evalue
    assert len(info.value.traceback) == 1
