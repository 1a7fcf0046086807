"""A rendered report in headless Chromium, offline: every chart draws, tooltips work, no request leaves.

Uses helpers.browser.HeadlessChromium (DevTools protocol over websocket-client; fresh profile, page
emulated offline, every host name resolving to nothing). Saves a screenshot to reports/browser_check.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import export, paths, runner

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


def test_charts_render_offline_with_tooltips(report_page: Path) -> None:
    from helpers.browser import HeadlessChromium

    with HeadlessChromium(str(CHROMIUM), width=1100) as browser:
        browser.open(report_page.as_uri())
        drawn = browser.wait_for(CHARTS_DRAWN, timeout=30)
        assert drawn, "the charts did not render"
        x, y = browser.evaluate(FIRST_BAR_CENTRE)
        browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        assert "verdi" in browser.wait_for(VISIBLE_TOOLTIP, timeout=10)
        browser.screenshot(paths.project_root() / "reports" / "browser_check.png")
        assert browser.requests and browser.requests[0].startswith("file:")
        assert browser.external_requests() == []
        assert [line for line in browser.console if line.startswith("exception")] == []
