"""Untrusted text (claims and programme files, names, notes, reasons from data files) as safe Markdown or HTML.

Notebooks show text with `IPython.display.Markdown`, and nbconvert's Markdown renderer keeps raw HTML and
turns `[x](javascript:...)`, `![x](https://...)`, `<https://...>` and bare `https://...` into links and
images. So a value from a file is never pasted into Markdown as it is:

- `escape_markdown(text)` turns it into Markdown source that renders as exactly that text, on one line:
  HTML and every Markdown construct that can make an element (`< > &`, backticks, brackets, `!`, `:` of a
  URL scheme, `$` of maths, table pipes, emphasis unless `emphasis=True`) become numeric character
  references, which Markdown shows as the character and never parses. Runs of whitespace, line breaks
  included, become one space (a value cannot start a new block); control and bidi-override characters
  are dropped.
- `format_markdown(template, **values)` fills a trusted template (the notebook's own text, `str.format`
  syntax) with escaped values (formatted first, so `{share:.1f}` works), and values that are already `SafeMarkdown`
  (from these functions) are used as they are, so pieces compose.
- `code(text)` is a value as a code span (never put an escaped value between backticks in a template: a
  code span shows its content literally, character references included).
- `markdown(template, **values)` is the same as a display object: `display(markdown("### {title}",
  title=claim.paraphrase))`.
- `escape_html(text)` for text placed in HTML (tables, title block, index).
"""

from __future__ import annotations

import html
import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Any

# Characters Markdown (CommonMark + the GFM-style plugins nbconvert enables: tables, strikethrough, bare
# URLs, task lists, definition lists, and its $...$ maths) can turn into markup, links or HTML.
_ALWAYS = set("&<>`[]()!\\|~$:")
_EMPHASIS = set("*_")
_LINE_START = re.compile(r"^(\d+[.)]|[#+\-=>])")
_SPACES = re.compile("[ \u2028\u2029]+")  # after control characters became spaces; no-break spaces stay
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)


class SafeMarkdown(str):
    """Markdown source built by this module: safe to render, not escaped again when used as a value."""


def _reference(char: str) -> str:
    return f"&#{ord(char)};"


def _clean(text: object) -> str:
    """One line of printable text: control and bidi-override characters dropped, whitespace collapsed."""
    value = str(text).translate(_BIDI)
    value = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)
    return _SPACES.sub(" ", value).strip(" ")


def escape_markdown(text: object, *, emphasis: bool = False) -> SafeMarkdown:
    """`text` as Markdown that renders as that text (one line); `emphasis=True` lets `*`/`_` emphasise."""
    if isinstance(text, SafeMarkdown):
        return text
    special = _ALWAYS if emphasis else _ALWAYS | _EMPHASIS
    value = _clean(text)
    escaped = "".join(_reference(c) if c in special else c for c in value)
    if _LINE_START.match(escaped):  # a list item, heading, quote or rule if a template puts it first
        escaped = _reference(escaped[0]) + escaped[1:]
    return SafeMarkdown(escaped)


def code(text: object) -> SafeMarkdown:
    """`text` as a Markdown code span (monospace, shown literally): the fence is longer than any run of
    backticks in it. Escaped values must not be put between backticks in a template; use this instead."""
    value = _clean(text)
    if not value:
        return SafeMarkdown("")
    fence = "`" * (max(len(run) for run in re.findall("`+", value) or [""]) + 1)
    pad = " " if value[0] in "` " or value[-1] in "` " else ""
    return SafeMarkdown(f"{fence}{pad}{value}{pad}{fence}")


class _Formatter(string.Formatter):
    """str.format whose fields are escaped after formatting, unless they are SafeMarkdown."""

    def format_field(self, value: Any, format_spec: str) -> str:
        text = format(value, format_spec)
        return text if isinstance(value, SafeMarkdown) else escape_markdown(text)


_FORMATTER = _Formatter()


def format_markdown(template: str, /, *args: object, **values: object) -> SafeMarkdown:
    """The trusted `template` (`str.format` syntax) with every value escaped (see module doc)."""
    return SafeMarkdown(_FORMATTER.vformat(template, args, values))


def join_markdown(parts: Iterable[object], separator: str = "\n") -> SafeMarkdown:
    """Parts joined by a trusted `separator`; parts that are not SafeMarkdown are escaped."""
    return SafeMarkdown(separator.join(escape_markdown(part) for part in parts))


def bullets(items: Iterable[object]) -> SafeMarkdown:
    """A Markdown bullet list, one escaped item per line."""
    return join_markdown(format_markdown("- {0}", item) for item in items)


def markdown(template: str, /, *args: object, **values: object) -> Any:
    """`IPython.display.Markdown` of `format_markdown(template, ...)`, ready for `display(...)`."""
    from IPython.display import Markdown

    return Markdown(format_markdown(template, *args, **values))


def escape_html(text: object) -> str:
    """`text` as HTML text or attribute value (`& < > " '` escaped)."""
    return html.escape(str(text), quote=True)
