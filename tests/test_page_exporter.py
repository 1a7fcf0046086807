"""PageExporter gives nbconvert's page without nbconvert's second pass over it (helpers.reports.page_exporter)."""

from __future__ import annotations

import base64
import functools

import nbformat
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert import HTMLExporter

from helpers.reports.page_exporter import NO_ALT, PageExporter, focusable

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000005000155a5f5b50000000049454e44ae426082")).decode()
MARKDOWN = [
    "# Tittel\n\nTekst med **fet** og *kursiv*, `kode` og en [lenke](https://ssb.no).",
    "| Indikator | Før | Etter |\n|---|---:|---:|\n| Brukere | 1\u00a0552 | 1\u00a0752 |",
    "Likning $a^2 + b^2$ og\n\n$$\\sum_i x_i$$",
    "&lt;div class=\"jp-OutputArea-output\"&gt; er tekst, ikke et element; <img src=\"x.png\"> og "
    "<img alt=\"har\" src=\"y.png\">",
    "- punkt 1\n- punkt 2\n\n> sitat\n\n```\nblokk\n```",
]


def notebook(markdown: list[str]) -> nbformat.NotebookNode:
    """Markdown cells, one with an attachment, and a code cell with every kind of output."""
    cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]
    cells.append(nbformat.v4.new_markdown_cell("![bilde](attachment:a.png)",
                                               attachments={"a.png": {"image/png": PNG}}))
    code = nbformat.v4.new_code_cell("print(1)")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="tekst <b>ikke fet</b>\n"),
        nbformat.v4.new_output("stream", name="stderr", text="advarsel\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>tabell</p>", "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": markdown[0], "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "bilde"}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg width='1' height='1'></svg>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        nbformat.v4.new_output("error", ename="ValueError", evalue="feil", traceback=["ValueError: feil"]),
    ]
    cells.append(code)
    return nbformat.v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


@functools.cache
def exporters(exclude: bool) -> tuple[PageExporter, HTMLExporter]:
    config = {"exclude_input": True, "exclude_input_prompt": True, "exclude_output_prompt": True} if exclude else {}
    return PageExporter(template_name="lab", **config), HTMLExporter(template_name="lab", **config)


def pages(nb: nbformat.NotebookNode, exclude: bool) -> tuple[str, str]:
    """(PageExporter's page, HTMLExporter's page) of the same notebook with the same settings."""
    ours, theirs = exporters(exclude)
    return ours.from_notebook_node(nb)[0], theirs.from_notebook_node(nb)[0]


@pytest.mark.parametrize("exclude", [False, True])
def test_the_page_is_nbconverts_page_but_for_the_reprinting(exclude: bool) -> None:
    ours, theirs = pages(notebook(MARKDOWN), exclude)
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') > 8
    assert f'alt="{NO_ALT}"' in ours and 'alt="har"' in ours


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab <>&\"'|*#-`$\n\\/=:x"), max_size=60), min_size=1, max_size=3))
def test_any_markdown_gives_nbconverts_page(markdown: list[str]) -> None:
    """The one reused Markdown parser renders any text as a fresh one does, in any order."""
    ours, theirs = pages(notebook(markdown), True)
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs


def test_focusable_adds_the_attributes_only_where_nbconvert_does() -> None:
    page = ('<div class="jp-Cell-inputWrapper"><div class="jp-RenderedText jp-OutputArea-output" data-x="1">'
            '<div class="jp-OutputArea-outputs">&lt;div class="jp-OutputArea-output"&gt;<img src="a"><img alt="b">')
    assert focusable(page) == (
        '<div class="jp-Cell-inputWrapper" tabindex="0"><div class="jp-RenderedText jp-OutputArea-output" '
        'data-x="1" tabindex="0"><div class="jp-OutputArea-outputs">&lt;div class="jp-OutputArea-output"&gt;'
        f'<img alt="{NO_ALT}" src="a"><img alt="b">')
