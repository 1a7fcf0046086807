"""Untrusted text rendered by nbconvert's own Markdown renderer: text comes out as text, never as markup."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from helpers.present.safe_text import (
    SafeMarkdown,
    code,
    escape_html,
    escape_markdown,
    format_markdown,
    join_markdown,
    markdown,
)

ATTACKS = [
    "<script>window.pwned = 1</script>",
    "<img src=x onerror=\"window.pwned = 1\">",
    '<iframe src="https://example.org/"></iframe>',
    "[klikk](javascript:window.pwned=1)",
    "![bilde](http://example.org/x.png)",
    "<https://example.org/>",
    "se https://example.org/x og www.example.org",
    "$<img src=x onerror=alert(1)>$",
    "`kode` **fet** _kursiv_ ~~streket~~",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "- punkt\n\n# overskrift\n\n> sitat",
    "1. første",
    "[ref]: https://example.org/\n[lenke][ref]",
    "&lt;script&gt; &#60;b&#62;",
    "linje\\\nslutt\\",
]


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> Tags:
    parser = Tags()
    parser.feed(markup)
    return parser


def shown(markdown_source: str) -> tuple[list[str], str]:
    """(tags, text) of what nbconvert makes of `markdown_source`."""
    parsed = parse(markdown2html_mistune(markdown_source))
    return [tag for tag, _ in parsed.tags], "".join(parsed.text).strip()


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_render_as_their_own_text(attack: str) -> None:
    tags, text = shown(escape_markdown(attack))
    assert tags == ["p"]
    assert text == " ".join(attack.split())


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80),
    st.text(alphabet=list("<>&;#[]()!*_`$:-|\\=~+. \n\t1ahjpstw/\"'"), max_size=60),  # Markdown's own syntax
))
def test_any_text_renders_as_one_paragraph_of_that_text(value: str) -> None:
    source = escape_markdown(value)
    tags, text = shown(source)
    assert tags in ([], ["p"])
    assert text == html.unescape(source).strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=list("`<>&$*_[]() ab\\"), min_size=1, max_size=30))
def test_code_spans_show_their_text_literally(value: str) -> None:
    tags, text = shown(code(value))
    if value.strip():
        assert tags == ["p", "code"]
        assert text == " ".join(value.split())


def test_emphasis_can_be_allowed_but_nothing_else() -> None:
    tags, text = shown(escape_markdown("*viktig* og _dette_ <b>ikke</b> [lenke](https://x.org)", emphasis=True))
    assert tags == ["p", "em", "em"]
    assert text == "viktig og dette <b>ikke</b> [lenke](https://x.org)"


def test_templates_stay_markdown_and_values_stay_text() -> None:
    source = format_markdown("### {title}\n\n**{verdict}.** {reason} ({share:.1f} %)", title="<b>Tittel</b>",
                             verdict="Støttes", reason="[x](javascript:alert(1))", share=12.345)
    assert isinstance(source, SafeMarkdown)
    parsed = parse(markdown2html_mistune(source))
    assert [tag for tag, _ in parsed.tags] == ["h3", "a", "p", "strong"]
    assert parsed.tags[1][1]["href"].startswith("#")  # nbconvert's own heading anchor, nothing else links
    text = "".join(parsed.text)
    assert "<b>Tittel</b>" in text and "[x](javascript:alert(1))" in text and "(12.3 %)" in text


def test_safe_pieces_compose_without_double_escaping() -> None:
    line = format_markdown("- **{label}:** {value}", label="Tema", value="a < b")
    body = join_markdown([line, "<i>rå</i>"])
    assert "&#38;#" not in body
    assert shown(body)[1] == "Tema: a < b\n<i>rå</i>" or shown(body)[0] == ["ul", "li", "strong", "p"]
    assert markdown("{x}", x="<u>")._repr_markdown_() == "&#60;u&#62;"


def test_no_break_spaces_in_norwegian_numbers_survive() -> None:
    assert escape_markdown("1\u00a0234,5") == "1\u00a0234,5"


def test_escape_html() -> None:
    assert escape_html('<a href="x">\'') == "&lt;a href=&quot;x&quot;&gt;&#x27;"


def test_tables_show_names_notes_and_reasons_as_text() -> None:
    """Table cells and headers from data files (kommune names, notes, reasons, source titles) are escaped."""
    import polars as pl

    from helpers.present.tables import display_table

    frame = pl.DataFrame({"<b>kolonne</b>": ["<img src=x onerror=alert(1)>"], "merknad": ["[x](javascript:1)"]})
    parsed = parse(display_table(frame)._repr_html_())
    assert {tag for tag, _ in parsed.tags} == {"table", "thead", "tr", "th", "tbody", "td"}
    assert "<img src=x onerror=alert(1)>" in parsed.text and "<b>kolonne</b>" in parsed.text
