"""HTML export: hidden code, offline charts (JavaScript inlined once), static SVG, determinism, index."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import altair as alt
import nbformat
import polars as pl
import pytest

from helpers.reports import csp, export, runner

pytestmark = pytest.mark.slow  # kernels, servers or subprocesses: not in `make test-fast`

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
PARAMETERS = {"kommune": "3203", "factor": 3}


def render(tmp_path: Path, name: str, static: bool = False) -> tuple[runner.RunResult, str]:
    """Execute the two-chart fixture notebook in a fresh kernel and export it (no pool)."""
    context = export.ReportContext(
        name="test", notebook="tests/fixtures/notebooks/charts.ipynb", parameters=PARAMETERS,
        kommune="3203 Asker", data_vintage="SSB-tall for 2012–2016", inputs={"data/x.parquet": "ab" * 32},
        versions=runner.package_versions(), git_commit="0123abcd" * 5, run_time=export.run_timestamp(),
    )
    job = runner.RunJob(
        name="test", notebook=str(FIXTURES / "charts.ipynb"), parameters=PARAMETERS,
        html_path=str(tmp_path / f"{name}.html"), executed_path=str(tmp_path / f"{name}.ipynb"),
        cwd=str(tmp_path), context=context, static=static, timeout=120,
    )
    result = runner.run_job(job)
    assert result.status == "ok", result.error
    return result, Path(job.html_path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two independent runs of the same inputs (interactive) and one static export of the first run."""
    tmp = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(2) as threads:
        patch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        # Two kernels at once, from threads: any concurrent.futures executor can run jobs.
        (_, first), (_, second) = threads.map(lambda name: render(tmp, name), ["first", "second"])
        executed = nbformat.read(tmp / "first.ipynb", as_version=4)
        context = export.ReportContext(name="test", notebook="charts.ipynb", parameters=PARAMETERS)
        static = export.export_html(executed, context, static=True)
    return {"first": first, "second": second, "static": static}


@pytest.mark.notebook
def test_reruns_are_byte_identical_under_source_date_epoch(pages: dict[str, str]) -> None:
    assert pages["first"] == pages["second"]
    assert "2023-11-14 22:13:20 UTC" in pages["first"]
    assert "altair-viz-" not in pages["first"]


@pytest.mark.notebook
def test_code_is_hidden(pages: dict[str, str]) -> None:
    page = pages["first"]
    notebook = nbformat.read(FIXTURES / "charts.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                if len(line.strip()) > 12:
                    assert line.strip() not in page
    assert "kildekode-skal-ikke-vises" not in page  # a default in the parameters cell
    assert 'kommune = "3203"' not in page  # papermill's injected-parameters cell
    assert "jp-InputPrompt jp-InputArea-prompt" not in page and "In&nbsp;[" not in page
    assert "Ferdig for 3203" in page  # outputs stay


@pytest.mark.notebook
def test_title_block_and_reproducibility_stamp(pages: dict[str, str]) -> None:
    page = pages["first"]
    assert "<title>Testrapport</title>" in page
    assert '<html lang="nb">' in page
    for text in ("Kommune: <strong>3203 Asker</strong>", "Parametre", "<code>factor</code> = 3",
                 "Datagrunnlag", "SSB-tall for 2012–2016", "Reproduserbarhet", "ab" * 32, "0123abcd" * 5):
        assert text in page
    for package in ("polars", "altair", "papermill", "nbconvert", "vl-convert-python"):
        assert re.search(rf"<th>{package}</th><td>\d", page), package


@pytest.mark.notebook
def test_charts_work_offline_with_the_javascript_inlined_once(pages: dict[str, str]) -> None:
    page = pages["first"]
    assert page.count('id="oms-vega-bundle"') == 1
    assert page.count("window.vegaEmbed=") == 1
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert "cdn.jsdelivr" not in page and "require.min.js" not in page
    assert page.count('<div class="oms-chart" id="oms-chart-1"></div>') == 1
    assert page.count('class="oms-chart" id="oms-chart-2"') == 1
    specs = re.findall(r'<script class="oms-chart-spec" data-target="oms-chart-\d" type="application/json">'
                       r"(.*?)</script>", page)
    assert len(specs) == 2
    first = json.loads(specs[0])["spec"]
    assert first["encoding"]["tooltip"] == [{"field": "år", "type": "quantitative"},
                                            {"field": "verdi", "type": "quantitative"}]
    assert first["datasets"]  # the data travels inside the page


@pytest.mark.notebook
def test_static_export_has_svg_and_no_javascript(pages: dict[str, str]) -> None:
    page = pages["static"]
    assert page.count("<svg") >= 2
    assert "oms-vega-bundle" not in page and "vegaEmbed" not in page
    assert "oms-chart-spec" not in page


def _policy(page: str) -> str:
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert found, "no content security policy"
    assert "<script" not in page[:found.start()], "the policy must come before the first script"
    return found.group(1)


@pytest.mark.notebook
def test_every_page_carries_a_policy_that_allows_only_its_own_scripts(pages: dict[str, str],
                                                                     tmp_path: Path) -> None:
    interactive = _policy(pages["first"])
    allowed = re.findall(r"'sha256-[^']+'", interactive)
    assert allowed == [csp.script_hash(text) for text in csp.inline_scripts(pages["first"])]
    assert len(allowed) == 2  # the Vega bundle and the embed call
    for policy in (interactive, _policy(pages["static"]), _policy(runner.write_index(tmp_path).read_text())):
        assert "default-src 'none'" in policy and "connect-src 'none'" in policy and "frame-src 'none'" in policy
        assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "script-src 'none'" in _policy(pages["static"])
    assert '"ast":true' in pages["first"]  # Vega's CSP-safe expression interpreter


def test_chart_spec_from_altair_html_and_mimetype_outputs() -> None:
    chart = alt.Chart(pl.DataFrame({"a": [1, 2], "b": [3, 4]})).mark_bar().encode(x="a", y="b", tooltip=["a"])
    html_output = {"output_type": "display_data", "data": chart._repr_mimebundle_(), "metadata": {}}
    spec, embed = export.chart_spec(html_output)
    assert spec["mark"] == {"type": "bar"} and embed == {"mode": "vega-lite"}
    assert spec == chart.to_dict()
    mime_output = {"output_type": "display_data",
                   "data": {"application/vnd.vegalite.v6+json": chart.to_dict(), "text/plain": "chart"}}
    assert export.chart_spec(mime_output) == (chart.to_dict(), {})
    assert export.chart_spec({"output_type": "display_data", "data": {"text/html": "<b>hei</b>"}}) is None


def test_prepare_notebook_drops_volatile_fields_and_hidden_cells() -> None:
    metadata = {"papermill": {"start_time": "now"}, "kernelspec": {"name": "x", "display_name": "x"}}
    nb = nbformat.v4.new_notebook(metadata=metadata)
    hidden = nbformat.v4.new_code_cell("secret()", metadata={"tags": ["remove-cell"]})
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=7, metadata={"papermill": {"duration": 1.0}})
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=7)]
    nb.cells = [hidden, cell]
    prepared, charts = export.prepare_notebook(nb)
    assert charts == 0
    assert prepared.metadata == {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    assert len(prepared.cells) == 1
    assert prepared.cells[0].execution_count is None and prepared.cells[0].metadata == {"tags": []}
    assert prepared.cells[0].outputs[0]["output_type"] == "display_data"


def test_run_timestamp_follows_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert export.run_timestamp() == "1970-01-01 00:00:00 UTC"


def test_index_lists_reports_with_parameters_status_and_link(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / ".state").mkdir(parents=True)
    (reports / "a.html").write_text("<html></html>")
    states = [
        {"name": "a", "status": "ok", "notebook": "notebooks/a.ipynb", "output": "a.html",
         "parameters": {"kommune": "3203", "before": [2012, 2013]}, "run_time": "2024-01-01 00:00:00 UTC"},
        {"name": "b<x>", "status": "failed", "notebook": "notebooks/b.ipynb", "output": "b.html",
         "parameters": {}, "error": "ValueError: nei"},
    ]
    for state in states:
        (reports / ".state" / f"{state['name']}.json").write_text(json.dumps(state))
    page = runner.write_index(reports).read_text(encoding="utf-8")
    assert '<a href="a.html">a</a>' in page
    assert "<code>kommune</code> = 3203" in page and "<code>before</code> = [2012, 2013]" in page
    assert 'class="ok">ok' in page and 'class="feilet">feilet' in page and "ValueError: nei" in page
    assert "b&lt;x&gt;" in page and 'href="b.html"' not in page
    assert page.count("(siden er fra en tidligere kjøring)") == 0
    (reports / "b.html").write_text("<html></html>")  # a failed run next to the page of an earlier one
    page = runner.write_index(reports).read_text(encoding="utf-8")
    assert page.count("(siden er fra en tidligere kjøring)") == 1
    assert (reports / "index.html").stat().st_mode & 0o044 == 0o044  # readable when published
