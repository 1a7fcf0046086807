"""reports/index.html for readers: titles in words, grouped by kind, the map on top, technical details second."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from support import start_chromium

from helpers.reports import atlas, front_page, reportsets
from helpers.reports.reportsets import load_reportsets

pytestmark = pytest.mark.slow  # kernels, servers or subprocesses: not in `make test-fast`


def _entries(ok: bool = True) -> list[dict]:
    return [
        {"name": s.name, "notebook": s.notebook, "output": s.output, "parameters": s.parameters,
         "status": "ok" if ok else "failed", "run_time": "2026-01-01 00:00:00 UTC", "html_exists": ok}
        for s in load_reportsets()
    ]


def test_every_default_report_gets_a_title_in_words():
    titles = {e["name"]: front_page.report_title(e) for e in _entries()}
    kind, title = titles["asker_2012_2016"]
    assert kind == "Før og etter"
    assert title.startswith("Asker (0220): mer eller mindre kapasitet fra 2012–2013 til 2015–2016?")
    assert "lignet mest før endringen" in title
    assert titles["asker_3203_2012_2016"][1].startswith("Asker (3203): mer eller mindre kapasitet fra 2012–2013")
    kind, title = titles["paastander_2015"]
    assert kind == "Påstander og løfter" and "Asker (0220)" in title and "årsrapport 2015" in title
    kind, title = titles["programsporing"]
    assert kind == "Påstander og løfter" and "siden 2019" in title
    assert titles["rens"][0] == "Datagrunnlaget" and "kommunestruktur 2024" in titles["rens"][1]
    unknown = front_page.report_title({"name": "x<y>", "notebook": "notebooks/99_ny.ipynb", "parameters": {}})
    assert unknown == ("Andre rapporter", "x<y>")
    # `--comparison 3201,3301` gives the codes as a list (the index of such a batch used to fail on it)
    chosen = reportsets.before_after_set("3203", [2018, 2019], [2021, 2022], comparison=["3201", "3301"])
    kind, title = front_page.report_title({"name": chosen.name, "notebook": chosen.notebook,
                                           "parameters": chosen.parameters})
    assert kind == "Før og etter" and title.endswith("Sammenlignet med utvalgte kommuner.")


def test_page_groups_reports_escapes_text_and_puts_details_last():
    entries = [*_entries(), {"name": "<b>x</b>", "notebook": "n.ipynb", "output": "x.html", "status": "failed",
                             "parameters": {"kommune": "<i>"}, "error": "Feil <script>", "html_exists": False}]
    page = front_page.render_front_page(entries, map_svg="<svg id='kart'></svg>")
    assert page.index("<svg id='kart'>") < page.index("<h2>Før og etter</h2>") < page.index("Tekniske detaljer")
    assert page.index("<h2>Påstander og løfter</h2>") < page.index("<h2>Datagrunnlaget</h2>")
    assert '<a href="asker_2012_2016.html">Asker (0220): mer eller mindre kapasitet' in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "Feil &lt;script&gt;" in page
    assert "<code>before</code> = [2012, 2013]" in page  # technical details, second
    assert front_page.render_front_page([], map_svg="").count("Ingen rapporter er kjørt") == 1


@pytest.fixture(scope="module")
def site(built_table: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index with the map, beside an atlas page, in one folder (as `make report` writes them)."""
    folder = tmp_path_factory.mktemp("site")
    table_path = folder / "indicators.parquet"
    built_table.write_parquet(table_path)
    atlas.render_atlas(built_table, out=folder / "utforsk.html")
    page = front_page.render_front_page(_entries(ok=False), map_svg=front_page.overview_map(table_path))
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder


def test_overview_map_links_every_kommune_into_the_atlas(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'xlink:href="utforsk\.html#(\d{4})"', page))
    assert len(links) == 357 and "3203" in links
    assert re.search(r'href="https?://', page) is None  # nothing leaves the folder
    assert "per 100 innbyggere 80+" in page


@pytest.mark.browser
def test_clicking_a_kommune_on_the_front_page_opens_it_in_the_atlas(site, tmp_path):
    with start_chromium(width=1280) as browser:
        browser.open((site / "index.html").as_uri())
        x, y = browser.evaluate(
            "(() => { const href = a => a && a.getAttribute('xlink:href') === 'utforsk.html#1580';"
            " for (const a of Array.from(document.querySelectorAll('figure.kart a')).filter(href)) {"
            " const p = a.querySelector('path'); p.scrollIntoView({block: 'center'});"
            " const r = p.getBoundingClientRect();"
            " for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) { const x = r.left + r.width * i / 10,"
            " y = r.top + r.height * j / 10; if (href(document.elementFromPoint(x, y).closest('a'))) return [x, y]; } }"
            " return null; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        browser.wait_for("location.pathname.endsWith('utforsk.html') && window.atlasReady", timeout=30)
        assert browser.evaluate("window.atlasView.signal('kommune')") == "1580"
        assert browser.external_requests() == []
        browser.open((site / "index.html").as_uri())
        browser.screenshot(tmp_path / "index.png")
        assert browser.violations == []  # the front page runs under the content security policy
