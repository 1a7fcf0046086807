"""A rendered report in headless Chromium, offline: every chart draws, tooltips work, no request leaves;
a claims file full of injection attempts renders through notebook 03 as text, and nothing of it runs.

Uses helpers.browser.HeadlessChromium (DevTools protocol over websocket-client; fresh profile, page
emulated offline, every host name resolving to nothing). Screenshots go to pytest's temporary folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from helpers import paths
from helpers.reports import export, runner

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.notebook,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]
pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")

CHARTS_DRAWN = (
    "(() => { const charts = [...document.querySelectorAll('.oms-chart')];"
    " return charts.length === 2 && charts.every(c => c.querySelector('svg, canvas')); })()"
)
FIRST_BAR_CENTRE = (
    "(() => { const bar = document.querySelector('#oms-chart-2 .mark-rect path');"
    " bar.scrollIntoView({block: 'center'}); const r = bar.getBoundingClientRect();"
    " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
)
VISIBLE_TOOLTIP = (
    "(() => { const t = document.querySelector('#vg-tooltip-element');"
    " return t && t.classList.contains('visible') ? t.textContent : ''; })()"
)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-chart fixture notebook, executed in a fresh kernel and exported like a real report."""
    tmp = tmp_path_factory.mktemp("browser")
    context = export.ReportContext(name="browser_check", notebook="tests/fixtures/notebooks/charts.ipynb",
                                   parameters={"kommune": "3203"}, kommune="3203 Asker",
                                   versions=runner.package_versions())
    job = runner.RunJob(name="browser_check", notebook=str(FIXTURES / "charts.ipynb"),
                        parameters={"kommune": "3203"}, html_path=str(tmp / "report.html"),
                        executed_path=str(tmp / "report.ipynb"), cwd=str(tmp), context=context, timeout=120)
    result = runner.run_job(job)
    assert result.status == "ok", result.error
    return Path(job.html_path)


def test_charts_render_offline_with_tooltips(report_page: Path, tmp_path: Path) -> None:
    from browser import HeadlessChromium

    with HeadlessChromium(str(CHROMIUM), width=1100) as browser:
        browser.open(report_page.as_uri())
        drawn = browser.wait_for(CHARTS_DRAWN, timeout=30)
        assert drawn, "the charts did not render"
        x, y = browser.evaluate(FIRST_BAR_CENTRE)
        browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        assert "verdi" in browser.wait_for(VISIBLE_TOOLTIP, timeout=10)
        browser.screenshot(tmp_path / "browser_check.png")
        assert browser.requests and browser.requests[0].startswith("file:")
        assert browser.external_requests() == []
        assert [line for line in browser.console if line.startswith("exception")] == []
        # Under the page's content security policy (no 'unsafe-eval': Vega's expression interpreter).
        assert "Content-Security-Policy" in report_page.read_text(encoding="utf-8")
        assert browser.violations == []


# ---------------------------------------------------------------- injection through a claims file

MARK = "omsPwned"
ATTEMPTS = (
    f"<script>window.{MARK}='script'</script>",
    f"<img src=x onerror=\"window.{MARK}='img'\">",
    '<iframe src="https://example.org/ramme"></iframe>',
    f"[klikk](javascript:window.{MARK}='link')",
    "![sporing](http://example.org/sporing.png)",
    "<https://example.org/autolenke>",
    f"<svg onload=\"window.{MARK}='svg'\"></svg>",
    f'<a href="javascript:window.{MARK}=1">lenke</a>',
    '<meta http-equiv="refresh" content="0;url=https://example.org/">',
    '<link rel="stylesheet" href="https://example.org/stil.css">',
    "<style>@import url(https://example.org/import.css);</style>",
    f"$<img src=y onerror=\"window.{MARK}='math'\">$",
    '<form action="https://example.org/"><button>send</button></form>',
    '<object data="https://example.org/objekt"></object>',
)
PAYLOAD = " ".join(ATTEMPTS)
# Fields whose values are codes, dates, numbers or choices (the loader checks them); everything else in a
# claims file is prose a user writes, and gets every attempt appended.
STRUCTURED = {"schema_version", "id", "kommune", "structure", "period", "value", "kind", "indicator", "expected",
              "measure", "size", "direction", "claim_type", "quantified", "unit", "topic", "item", "kommunenummer",
              "year",
              "file"}


def _poison(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _poison(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_poison(v, key) for v in node]
    if isinstance(node, str) and key not in STRUCTURED:
        return f"{node} {PAYLOAD}"
    return node


@pytest.fixture(scope="module")
def poisoned_page(built_table: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Notebook 03 run on a copy of the real claims file with every prose field full of injection attempts."""
    from helpers.analysis import claims

    tmp = tmp_path_factory.mktemp("injection")
    (tmp / "processed").mkdir()
    built_table.write_parquet(tmp / "processed" / "indicators.parquet")
    original = yaml.safe_load((paths.RAW / "claims" / "arsrapport_2015.yml").read_text(encoding="utf-8"))
    claims_file = tmp / "paastander.yml"
    claims_file.write_text(yaml.safe_dump(_poison(original), allow_unicode=True), encoding="utf-8")
    claims.load_claims(claims_file)  # the loader accepts it: prose may hold anything
    notebook = paths.NOTEBOOKS / "03_paastander.ipynb"
    parameters = {"claims_file": str(claims_file)}
    context = export.ReportContext(name="injection", notebook=str(notebook), parameters=parameters,
                                   versions=runner.package_versions())
    job = runner.RunJob(name="injection", notebook=str(notebook), parameters=parameters,
                        html_path=str(tmp / "injection.html"), executed_path=str(tmp / "injection.ipynb"),
                        cwd=str(paths.NOTEBOOKS), context=context, timeout=300,
                        env={"OMSORGSKAPASITET_PROCESSED": str(tmp / "processed")})
    result = runner.run_job(job)
    assert result.status == "ok", result.error
    return Path(job.html_path)


ELEMENTS_FROM_THE_ATTEMPTS = (
    "(() => ({"
    " iframes: document.querySelectorAll('iframe, object, embed, form:not(.vega-bindings), link,"
    " meta[http-equiv=refresh]').length,"
    " images: [...document.images].filter(i => !i.src.startsWith('data:')).length,"
    " svgHandlers: document.querySelectorAll('[onload], [onerror], [onclick]').length,"
    " scriptLinks: [...document.querySelectorAll('a[href]')].filter(a => /^javascript:/i.test(a.href)).length,"
    " externalLinks: [...document.querySelectorAll('a[href]')].filter(a => /^https?:/i.test(a.href)).length,"
    " scripts: [...document.scripts].filter(s => !/json/.test(s.type)).length,"
    " shown: (document.body.innerText.match(/<script>window\\.omsPwned/g) || []).length,"
    "}))()"
)


def test_injection_attempts_in_a_claims_file_render_as_text(poisoned_page: Path, tmp_path: Path) -> None:
    from browser import BrowserError, HeadlessChromium

    with HeadlessChromium(str(CHROMIUM), width=1100) as browser:
        browser.open(poisoned_page.as_uri())
        try:
            drawn = browser.wait_for("document.querySelectorAll('.oms-chart svg').length >= 2", timeout=30)
        except BrowserError:
            drawn = False
        found = browser.evaluate(ELEMENTS_FROM_THE_ATTEMPTS)
        browser.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        ran = browser.evaluate(f"window.{MARK} === undefined ? '' : String(window.{MARK})")
        url = browser.evaluate("location.href")
        browser.screenshot(tmp_path / "injection.png")
        assert ran == "", f"an injected script ran: {ran}"
        assert browser.external_requests() == []
        assert url == poisoned_page.as_uri()  # no meta refresh took the page away
        # Nothing of the attempts became an element; only the page's own two scripts exist.
        assert found["iframes"] == found["images"] == found["svgHandlers"] == found["scriptLinks"] == 0
        assert found["externalLinks"] == 0 and found["scripts"] == 2
        # ... and the attempts are on the page as text (title, every claim's paraphrase and reasons).
        assert found["shown"] >= 10
        assert browser.violations == []
        assert drawn, "the charts did not render"



INLINE_CSV = (
    "(async () => { const div = document.createElement('div'); document.body.appendChild(div);"
    " const spec = {data: {name: 'tabell', values: 'navn,verdi,tom\\r\\n\"Bø, i \"\"Telemark\"\"\",1.5,\\nÅs,2,x\\n',"
    " format: {type: 'csv'}}, mark: 'point', encoding: {x: {field: 'verdi', type: 'quantitative'}}};"
    " const result = await vegaEmbed(div, spec, {ast: true, actions: false});"
    " return result.view.data('tabell').map(d => [d.navn, d.verdi, d.tom]); })()"
)


def test_inline_csv_data_is_read_without_eval(report_page: Path) -> None:
    """d3-dsv builds CSV rows with `new Function`; helpers.reports.csp's wrapper hands Vega JSON rows instead."""
    from browser import HeadlessChromium

    with HeadlessChromium(str(CHROMIUM)) as browser:
        browser.open(report_page.as_uri())
        assert browser.evaluate(INLINE_CSV) == [['Bø, i "Telemark"', "1.5", ""], ["Ås", "2", "x"]]
        assert browser.violations == []


# ---------------------------------------------------------------- --shared-assets: one assets/ folder for a site

SHARED_ATTEMPTS = (
    '<script src="assets/{asset}"></script>',  # an asset of the site itself, but in the markup
    '<script src="assets/oms-injected.js"></script>',  # a file someone placed beside the assets
    f"<script>window.{MARK}='inline'</script>",
)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-chart fixture exported with --shared-assets into a site folder, the assets written beside it."""
    site = tmp_path_factory.mktemp("site")
    context = export.ReportContext(name="shared", notebook="tests/fixtures/notebooks/charts.ipynb",
                                   parameters={"kommune": "3203"}, versions=runner.package_versions())
    job = runner.RunJob(name="shared", notebook=str(FIXTURES / "charts.ipynb"), parameters={"kommune": "3203"},
                        html_path=str(site / "rapport.html"), executed_path=str(site / ".executed" / "r.ipynb"),
                        cwd=str(site), context=context, timeout=120, shared_assets=True)
    export.write_assets(site)
    assert runner.run_job(job).status == "ok"
    return site


def test_shared_assets_pages_draw_offline_from_the_assets_folder(shared_site: Path, tmp_path: Path) -> None:
    from browser import HeadlessChromium

    page = (shared_site / "rapport.html").read_text(encoding="utf-8")
    assets = sorted(p.name for p in (shared_site / "assets").iterdir())
    assert [name.split("-")[0] for name in assets] == ["oms", "vega"] and len(page) < 400_000  # not 1.5 MB
    assert "'strict-dynamic'" in page and "vegaEmbed" not in page  # one small loader instead of the bundle
    assert all(f'"assets/{name}"' in page for name in assets)
    with HeadlessChromium(str(CHROMIUM), width=1100) as browser:
        browser.open((shared_site / "rapport.html").as_uri())
        assert browser.wait_for(CHARTS_DRAWN, timeout=30), "the charts did not render"
        x, y = browser.evaluate(FIRST_BAR_CENTRE)
        browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        assert "verdi" in browser.wait_for(VISIBLE_TOOLTIP, timeout=10)
        assert browser.external_requests() == [] and browser.violations == []
        browser.screenshot(tmp_path / "shared_assets.png")


def test_shared_assets_policy_runs_no_script_written_into_the_page(shared_site: Path) -> None:
    """'strict-dynamic' trusts what the hashed loader inserts; a script in the page's markup (an asset of the
    site, a file placed beside them, inline code) has no hash and does not run."""
    from browser import HeadlessChromium

    (shared_site / "assets" / "oms-injected.js").write_text(f"window.{MARK} = 'file';", encoding="utf-8")
    bundle = next(p.name for p in (shared_site / "assets").iterdir() if p.name.startswith("vega-bundle"))
    attempts = "".join(attempt.format(asset=bundle) for attempt in SHARED_ATTEMPTS)
    poisoned = shared_site / "forgiftet.html"
    poisoned.write_text((shared_site / "rapport.html").read_text(encoding="utf-8")
                        .replace("<main>", f"<main>{attempts}", 1), encoding="utf-8")
    with HeadlessChromium(str(CHROMIUM), width=1100) as browser:
        browser.open(poisoned.as_uri())
        assert browser.wait_for(CHARTS_DRAWN, timeout=30), "the page's own charts still draw"
        assert browser.evaluate(f"window.{MARK} === undefined ? '' : String(window.{MARK})") == ""
        refused = " ".join(browser.violations)
        assert "oms-injected.js" in refused and bundle in refused and len(browser.violations) == 3
