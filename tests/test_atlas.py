"""The exploration helpers (helpers.atlas) and the offline atlas page, in headless Chromium when installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from helpers import atlas, paths
from helpers.browser import BrowserError, HeadlessChromium, find_chromium
from helpers.errors import InputError

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
    series = pl.read_csv(data["series"].encode(), schema_overrides={"k": pl.String})
    assert series["k"].n_unique() == len(data["names"]) > 300
    ids = [fact["id"] for fact in data["indicators"]]
    asker = series.filter(pl.col("k") == "3203", pl.col("i") == ids.index(RATE))
    expected = round(_unflagged(built_table.filter(pl.col("kommunenr") == "3203"), RATE, 2019)[0], 2)
    assert asker["2019"][0] == pytest.approx(expected)
    assert re.search(r"\.\d{3}", data["series"]) is None  # at most two decimals


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
    assert "kvalitetsflagg" in html and '<html lang="nb">' in html
    spec_text = re.search(r'<script type="application/json" id="atlas-spec">(.*?)</script>', html, re.S)[1]
    spec = json.loads(spec_text)
    binds = {p["name"]: p["bind"] for p in spec["params"] if "bind" in p}
    assert binds["kommune"]["input"] == "select" and "3203" in binds["kommune"]["options"]
    second = binds["kommune2"]
    assert second["options"][0] == "" and len(second["labels"]) == len(second["options"])


def test_atlas_spec_compiles_with_vl_convert(built_table):
    import vl_convert

    spec = atlas.atlas_spec(atlas.atlas_data(built_table))
    vega = vl_convert.vegalite_to_vega(spec, vl_version="6.4")
    assert {"kommune", "kommune2", "navn"} <= {s["name"] for s in vega["signals"]}


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


@pytest.mark.browser
def test_atlas_in_headless_chromium(atlas_page, built_table, capsys, tmp_path):
    if find_chromium() is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run installs it)")
    try:
        browser = HeadlessChromium(width=1200)
        browser.start()
    except BrowserError as exc:
        pytest.skip(f"Chromium would not start here: {exc}")
    with browser:
        browser.open(atlas_page.as_uri(), ready="window.atlasReady || window.atlasError")
        assert browser.evaluate("window.atlasError || ''") == ""
        load_ms = browser.evaluate("window.atlasReady")
        with capsys.disabled():
            print(f"\natlas page rendered {load_ms:.0f} ms after navigation start (headless Chromium)")
        assert browser.external_requests() == []

        asker = _points(browser)
        assert asker and all("k: 3203" in label for label in asker)
        _choose(browser, "kommune", "3201")
        baerum = _points(browser)
        assert baerum and all("k: 3201" in label for label in baerum)
        assert asker != baerum
        value = built_table.filter(
            pl.col("structure") == "2024", pl.col("kommunenr") == "3201", pl.col("year") == 2019,
            pl.col("indicator") == "home_service_users",
        )["value"][0]
        assert any("År: 2019" in label and f"value: {round(value)};" in label for label in baerum)

        _choose(browser, "kommune2", "3203")
        both = _points(browser)
        assert {"k: 3201", "k: 3203"} <= {re.search(r"k: \d{4}", label)[0] for label in both}
        legend = browser.evaluate("Array.from(document.querySelectorAll('#atlas .role-legend text'))"
                                  ".map(t => t.textContent)")
        assert "Bærum" in legend and "Asker" in legend
        assert browser.evaluate("window.location.hash") == "#3201+3203"
        assert browser.console == [] or not any(line.startswith("exception") for line in browser.console)
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
    import papermill as pm

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMSORGSKAPASITET_PROCESSED", str(processed))
        pm.execute_notebook(str(paths.NOTEBOOKS / "05_utforsk.ipynb"), str(out), parameters=parameters,
                            kernel_name="python3", cwd=str(paths.NOTEBOOKS), progress_bar=False)
    return json.loads(out.read_text())


@pytest.mark.notebook
def test_exploration_notebook_runs_with_defaults(processed, tmp_path):
    notebook = _run_notebook(processed, tmp_path / "out.ipynb")
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs, ensure_ascii=False)
    assert "Asker: Hjemmetj. 80+ per 100 80+ (prosent)" in text and "Bærum" in text
    from helpers.export import chart_spec

    charts = [found[0] for o in outputs if o.get("output_type") != "stream" and (found := chart_spec(o))]
    assert len(charts) == 1 and '"bind": "scales"' in json.dumps(charts[0])


@pytest.mark.notebook
@pytest.mark.parametrize("code", ["３２０３", "٣٢٠٣"])
def test_exploration_parameters_refuse_digits_other_than_0_to_9(code):
    with pytest.raises(InputError, match="invalid kommune code"):
        atlas.check_parameters([code], ["home_service_users"], "2024")


def test_exploration_notebook_stops_on_a_bad_kommune_with_one_message(processed, tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as info:
        _run_notebook(processed, tmp_path / "out.ipynb", kommuner=["Asker"])
    assert info.value.ename == "InputError" and "Asker" in info.value.evalue
    assert len(info.value.traceback) == 1
