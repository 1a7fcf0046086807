"""Untrusted text (claims, programme and secondary-source files) made safe to place inside Markdown."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_escape(value: object) -> str:
    """`value` as literal text in Markdown: HTML escaped, Markdown syntax backslash-escaped, on one line."""
    text = html.escape(" ".join(str(value).split()), quote=True)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
