"""Executed notebook -> one self-contained, deterministic HTML page that opens offline.

- Code is hidden (the input of every code cell, papermill's injected parameters included); no prompts.
- A title block (kommune, parameters, data vintage) opens the page; a reproducibility stamp (input
  sha256s, package versions, git commit, run time) closes it. Report text is Norwegian bokmål.
- Altair charts: the Vega-Lite spec is taken from the output (the `application/vnd.vegalite.v*+json`
  mimetype, or the spec inside Altair's default HTML output) and the output is replaced by a div with a
  stable id plus the spec as a JSON data block. The Vega, Vega-Lite and Vega-Embed JavaScript, bundled
  by vl-convert, is inlined once per page, so nothing loads from a CDN; tooltips stay on. With
  `static=True` each chart becomes an inline SVG rendered by vl-convert, and no JavaScript is included.
- `shared_assets=True` (`report --shared-assets`): for a site of many reports, the bundle and the embed
  call live once in `assets/` next to the pages (`write_assets`), named by their content, and each page
  loads them with one small inline loader (see helpers.reports.csp for how the policy allows them). Such a page
  works offline as part of its folder.
- Deterministic: no random ids, no timestamps except the run time, which follows SOURCE_DATE_EPOCH.
- Fast: the chart specs (most of a page's text) are put in after nbconvert, like the scripts; the page is
  not parsed again after its template (helpers.reports.page_exporter); the notebook is validated once, not
  after every preprocessor.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from helpers.atomic import atomic_path, atomic_write_text
from helpers.disk_cache import kept
from helpers.errors import InputError
from helpers.reports import csp

VEGALITE_MIMETYPE = re.compile(r"^application/vnd\.vegalite\.v(\d+)(?:\.\d+)*\+json$")
ALTAIR_DIV = re.compile(r'<div id="altair-viz-[0-9a-f]+"')
ALTAIR_CALL = "(function(spec, embedOpt){"
BUNDLE_MARKER = "<!--oms:vega-bundle-->"
EMBED_MARKER = "<!--oms:vega-embed-->"
CSP_MARKER = "<!--oms:csp-->"
SPEC_MARKER = re.compile(r"<!--oms:chart-spec-(\d+)-->")
ASSETS_DIR = "assets"
HIDDEN_CELL_TAGS = ("remove-cell", "remove_cell", "skjul")
# Norwegian number format (d3-format has no nb-NO locale); dates use d3-time-format's nb-NO.
NB_FORMAT_LOCALE = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", " kr"]}
EMBED_OPTIONS = {
    **csp.VEGA_EMBED_OPTIONS,  # Vega's CSP-safe expression interpreter, no `new Function` (see helpers.reports.csp)
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}

TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}
<!--oms:csp-->
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<meta name="generator" content="omsorgskapasitet">
<style type="text/css">
main { max-width: 62rem; margin: 0 auto; }
.oms-title, .oms-stamp { font-family: var(--jp-ui-font-family); padding: 1rem var(--jp-notebook-padding); }
.oms-title { background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
.oms-title h1 { margin: 0 0 .5rem 0; }
.oms-title .oms-kommune { font-size: 1.2rem; margin: 0 0 .75rem 0; }
.oms-title table, .oms-stamp table { border-collapse: collapse; font-size: .9rem; }
.oms-title th, .oms-title td, .oms-stamp th, .oms-stamp td {
  text-align: left; vertical-align: top; padding: .15rem .75rem .15rem 0; border-bottom: 1px solid #ddd; }
.oms-stamp { margin-top: 2rem; border-top: 2px solid #999; color: #444; }
.oms-stamp h2 { font-size: 1.1rem; }
.oms-stamp code { font-size: .8rem; word-break: break-all; }
.oms-chart { width: 100%; margin: .5rem 0; }
.jp-Cell.jp-CodeCell:has(.jp-Cell-outputWrapper:empty) { display: none; }
</style>
{%- if resources.oms.vega_js %}
<!--oms:vega-bundle-->
{%- endif %}
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<header class="oms-title">
{%- if resources.oms.show_title %}
<h1>{{ resources.oms.title | e }}</h1>
{%- endif %}
{%- if resources.oms.kommune %}
<p class="oms-kommune">Kommune: <strong>{{ resources.oms.kommune | e }}</strong></p>
{%- endif %}
<table>
<tr><th>Rapport</th><td>{{ resources.oms.name | e }}</td></tr>
<tr><th>Parametre</th><td>
{%- for key, value in resources.oms.parameters -%}
<code>{{ key | e }}</code> = {{ value | e }}{% if not loop.last %}<br>{% endif %}
{%- else -%}
ingen (notatbokens standardverdier)
{%- endfor -%}
</td></tr>
<tr><th>Datagrunnlag</th><td>{{ resources.oms.data_vintage | e }}</td></tr>
</table>
</header>
{%- endblock body_header -%}
{%- block body_footer -%}
<footer class="oms-stamp">
<h2>Reproduserbarhet</h2>
<table>
<tr><th>Kjørt</th><td>{{ resources.oms.run_time | e }}</td></tr>
<tr><th>Git-commit</th><td><code>{{ resources.oms.git_commit | e }}</code></td></tr>
<tr><th>Notatbok</th><td><code>{{ resources.oms.notebook | e }}</code></td></tr>
{%- for path, digest in resources.oms.inputs %}
<tr><th>sha256 <code>{{ path | e }}</code></th><td><code>{{ digest | e }}</code></td></tr>
{%- endfor %}
{%- for package, package_version in resources.oms.versions %}
<tr><th>{{ package | e }}</th><td>{{ package_version | e }}</td></tr>
{%- endfor %}
</table>
</footer>
{%- if resources.oms.vega_js %}
<!--oms:vega-embed-->
{%- endif %}
{{ super() }}
{%- endblock body_footer -%}
"""

LOADER_JS = """(function () {
  %(sources)s.forEach(function (source) {
    var script = document.createElement("script");
    script.src = source;
    script.async = false;
    document.body.appendChild(script);
  });
})();"""
EMBED_JS = """(function () {
  var options = %(options)s;
  document.querySelectorAll("script.oms-chart-spec").forEach(function (data) {
    var target = document.getElementById(data.getAttribute("data-target"));
    var chart = JSON.parse(data.textContent);
    var opts = Object.assign({}, chart.embed, options);
    vegaEmbed(target, chart.spec, opts).catch(function (err) {
      target.textContent = "Diagrammet kunne ikke vises: " + err.message;
    });
  });
})();"""


@dataclass
class ReportContext:
    """What the title block and the reproducibility stamp show."""

    name: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    kommune: str = ""
    data_vintage: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str = ""
    run_time: str = ""


def run_timestamp() -> str:
    """Now in UTC to the second, or SOURCE_DATE_EPOCH's time when set (reproducible builds); InputError when
    SOURCE_DATE_EPOCH is not a whole number of seconds since 1970 (the reproducible-builds.org format)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        if not epoch.isascii() or not epoch.isdigit():
            raise ValueError(epoch)
        moment = datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970-01-01; unset "
                         "it, or set it like SOURCE_DATE_EPOCH=$(git log -1 --format=%ct).") from None
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@functools.cache
def vega_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script (vl-convert's bundle), cached on disk by version.

    Building the bundle takes a few seconds, so it is kept in the cache folder, keyed by the
    vl-convert version; the bundle defines `vegaEmbed` on `window` (its `vega` and `vegaLite` are null),
    and helpers.reports.csp's wrapper follows it, so that charts draw under the pages' content security policy.
    """
    def build() -> str:
        import vl_convert

        # Wrapped in a function so its top-level names stay out of the page's global scope.
        script = "(function () {\n" + vl_convert.javascript_bundle() + "\n})();"
        return script.replace("</script", "<\\/script").replace("<!--", "<\\!--")

    bundle = kept("vega-bundle", ["vl-convert", version("vl-convert-python")], build, suffix=".js")
    return bundle + csp.VEGA_EMBED_WRAPPER


def write_page(target: Path | str, text: str) -> Path:
    """Write an HTML page atomically, readable by all (0644) so that it can be published as is."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
    return Path(target)


def json_for_script(value: object) -> str:
    """JSON safe to place inside a <script> element (no `</script>` can occur)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _altair_html_spec(text: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(spec, embed options) from the HTML that Altair's default renderer outputs, or None."""
    if not ALTAIR_DIV.search(text) or ALTAIR_CALL not in text:
        return None
    start = text.rfind("})(")
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    try:
        spec, end = decoder.raw_decode(text, start + 3)
        rest = text[end:].lstrip()
        embed: dict[str, Any] = {}
        if rest.startswith(","):
            embed, _ = decoder.raw_decode(rest[1:].lstrip())
    except json.JSONDecodeError:
        return None
    if not isinstance(spec, dict) or not isinstance(embed, dict):
        return None
    return spec, embed


def chart_spec(output: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(Vega-Lite spec, embed options) of an Altair chart output, or None for other outputs."""
    data = output.get("data", {})
    for mimetype, value in data.items():
        if VEGALITE_MIMETYPE.match(mimetype):
            spec = json.loads(value) if isinstance(value, str) else value
            return spec, {}
    text = data.get("text/html")
    if isinstance(text, list):
        text = "".join(text)
    return _altair_html_spec(text) if isinstance(text, str) else None


def _vl_version(spec: dict[str, Any]) -> str | None:
    """vl-convert version string (e.g. '6.4') matching the spec's $schema, or None for the latest."""
    import vl_convert

    match = re.search(r"/v(\d+)\.(\d+)", str(spec.get("$schema", "")))
    if not match:
        return None
    wanted = f"{match.group(1)}.{match.group(2)}"
    return wanted if wanted in vl_convert.get_vegalite_versions() else None


def chart_svg(spec: dict[str, Any]) -> str:
    """Static SVG of a Vega-Lite spec via vl-convert (Norwegian number and date formats), cached on disk
    (helpers.present.svg_cache)."""
    from helpers.present import svg_cache

    return svg_cache.svg(spec, vl_version=_vl_version(spec), format_locale=NB_FORMAT_LOCALE,
                         time_format_locale="nb-NO")


def _chart_output(index: int, spec: dict[str, Any], embed: dict[str, Any], static: bool) -> dict[str, Any]:
    """A display_data output holding a chart: a stable div and a marker for its spec, or an inline SVG."""
    div_id = f"oms-chart-{index}"
    if static:
        body = f'<div class="oms-chart oms-chart-static" id="{div_id}">{chart_svg(spec)}</div>'
    else:
        body = f'<div class="oms-chart" id="{div_id}"></div>\n<!--oms:chart-spec-{index}-->'
    return {"output_type": "display_data", "data": {"text/html": body}, "metadata": {}}


def _spec_block(index: int, spec: dict[str, Any], embed: dict[str, Any]) -> str:
    """The JSON data block of chart `index`, as nbconvert's HTML clean-up writes it."""
    chart = json_for_script({"spec": spec, "embed": embed})
    return (f'<script class="oms-chart-spec" data-target="oms-chart-{index}" type="application/json">'
            f"{chart}</script>")


def prepare_notebook(nb: Any, static: bool = False,
                     specs: list[tuple[dict[str, Any], dict[str, Any]]] | None = None) -> tuple[Any, int]:
    """A normalised copy of an executed notebook, ready for export, and its number of charts.

    Charts are rewritten (see module doc), hidden-tagged cells dropped, and everything that differs
    between runs of the same inputs (metadata, execution counts, timings) removed. Each chart's
    (spec, embed options) is appended to `specs`, when given; its output holds a marker instead.
    """
    nb = copy.deepcopy(nb)
    specs = [] if specs is None else specs
    title = nb.metadata.get("title", "")
    nb.metadata = {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    if title:
        nb.metadata["title"] = title
    charts = 0
    cells = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag in HIDDEN_CELL_TAGS for tag in tags):
            continue
        cell.metadata = {"tags": [tag for tag in tags if tag in ("parameters", "injected-parameters")]}
        cell.id = f"cell-{len(cells)}"
        if cell.cell_type == "code":
            cell.execution_count = None
            outputs = []
            for output in cell.outputs:
                found = chart_spec(output) if output.get("output_type") != "stream" else None
                if found:
                    charts += 1
                    specs.append(found)
                    outputs.append(_chart_output(charts, *found, static=static))
                else:
                    if output.get("output_type") == "execute_result":
                        output["output_type"] = "display_data"
                        output.pop("execution_count", None)
                    if output.get("output_type") == "display_data":
                        output["metadata"] = {}
                    outputs.append(output)
            cell.outputs = outputs
        cells.append(cell)
    nb.cells = cells
    return nb, charts


def first_heading(nb: Any) -> str:
    """The text of the notebook's first level-1 Markdown heading, or ''."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1)
    return ""


def notebook_title(nb: Any, fallback: str) -> str:
    """The notebook's metadata title, else its first level-1 Markdown heading, else `fallback`."""
    return str(nb.metadata.get("title") or first_heading(nb) or fallback)


def _format_value(value: object) -> str:
    """A parameter value as shown in the title block."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def export_html(nb: Any, context: ReportContext, static: bool = False, shared_assets: bool = False) -> str:
    """The report's complete HTML for an executed notebook (`shared_assets`: see the module doc)."""
    specs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    prepared, charts = prepare_notebook(nb, static=static, specs=specs)
    title = context.title or notebook_title(nb, context.name)
    prepared.metadata["title"] = title
    exporter = html_exporter()
    interactive = charts > 0 and not static
    oms = {
        "title": title,
        "show_title": not first_heading(nb),  # the notebook's own heading already opens the page
        "name": context.name,
        "kommune": context.kommune,
        "parameters": [(key, _format_value(value)) for key, value in context.parameters.items()],
        "data_vintage": context.data_vintage or "ukjent",
        "run_time": context.run_time or run_timestamp(),
        "git_commit": context.git_commit or "ukjent (ikke et git-arkiv)",
        "notebook": context.notebook,
        "inputs": sorted(context.inputs.items()),
        "versions": sorted(context.versions.items()),
        "vega_js": interactive,
    }
    body, _ = exporter.from_notebook_node(prepared, resources={"oms": oms, "metadata": {"name": title}})
    # The chart specs and the scripts go in after nbconvert's HTML clean-up (BeautifulSoup), so the specs and
    # the 1 MB bundle are not re-parsed, and the scripts' text is exactly what the policy's hashes allow.
    if not static:
        body = SPEC_MARKER.sub(lambda found: _spec_block(int(found[1]), *specs[int(found[1]) - 1]), body)
    if not interactive:
        return body.replace(CSP_MARKER, csp.meta(()), 1)
    if shared_assets:
        loader = "\n" + LOADER_JS % {"sources": json_for_script(list(assets()))} + "\n"
        body = body.replace(BUNDLE_MARKER, "", 1)
        body = body.replace(EMBED_MARKER, f'<script type="text/javascript">{loader}</script>', 1)
        return body.replace(CSP_MARKER, csp.meta([loader], strict_dynamic=True), 1)
    bundle, embed = f"\n{vega_bundle()}\n", f"\n{embed_script()}\n"
    body = body.replace(BUNDLE_MARKER, f'<script type="text/javascript" id="oms-vega-bundle">{bundle}</script>', 1)
    body = body.replace(EMBED_MARKER, f'<script type="text/javascript">{embed}</script>', 1)
    return body.replace(CSP_MARKER, csp.meta([bundle, embed]), 1)


def embed_script() -> str:
    """The script that draws every chart of a page from its JSON data block (Norwegian number and date
    formats, Vega's CSP-safe interpreter)."""
    options = {**EMBED_OPTIONS, "formatLocale": NB_FORMAT_LOCALE, "timeFormatLocale": _time_locale()}
    return EMBED_JS % {"options": json_for_script(options)}


@functools.cache
def assets() -> dict[str, str]:
    """{path relative to the pages: script} of the shared assets: the Vega bundle and the embed script, each
    named by the sha256 of its content (a new version gets a new name; pages never load a stale one)."""
    named = {}
    for stem, script in (("vega-bundle", vega_bundle()), ("oms-charts", embed_script())):
        digest = hashlib.sha256(script.encode("utf-8")).hexdigest()[:16]
        named[f"{ASSETS_DIR}/{stem}-{digest}.js"] = script
    return named


def write_assets(folder: Path) -> list[Path]:
    """Write the shared assets into `folder` (the reports folder) where they are missing or differ."""
    written = []
    for relative, script in assets().items():
        target = folder / relative
        if not target.is_file() or target.read_text(encoding="utf-8") != script:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, script)
            target.chmod(0o644)
        written.append(target)
    return written


@functools.cache
def html_exporter() -> Any:
    """nbconvert's HTMLExporter with this module's template (built once per process: compiling the
    templates costs a third of a second)."""
    from jinja2 import DictLoader

    from helpers.reports.page_exporter import PageExporter

    return PageExporter(
        optimistic_validation=True,  # validate the notebook once, after the preprocessors, not after each
        template_name="lab",
        template_file="omsorgskapasitet.html.j2",
        extra_loaders=[DictLoader({"omsorgskapasitet.html.j2": TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code="nb",
    )


def ready_exporter() -> None:
    """Build the exporter and export a two-cell notebook once, in a process that will write pages and has time
    to spare: the first real page then pays no start-up costs (the notebook validator, the Markdown renderer,
    the templates' first rendering: about 0.2 s)."""
    from nbformat import v4, validate

    markdown = {"text/markdown": "**oppvarming**", "text/plain": "oppvarming"}
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Oppvarming\n\n*Tekst*."),
                                v4.new_code_cell(outputs=[v4.new_output("display_data", data=markdown)])])
    validate(nb)
    export_html(nb, ReportContext(name="oppvarming", notebook="oppvarming.ipynb"))


@functools.cache
def _time_locale() -> dict[str, Any]:
    """d3-time-format's Norwegian bokmål locale, as shipped by vl-convert."""
    import vl_convert

    return vl_convert.get_time_format_locale("nb-NO")


STATUS_LABELS = {"ok": "ok", "failed": "feilet"}


def render_index(entries: list[dict[str, Any]]) -> str:
    """reports/index.html: the front page for readers (helpers.reports.front_page), technical details second."""
    from helpers.reports.front_page import render_front_page

    return csp.with_policy(render_front_page(entries), scripts=())
