"""nbconvert's HTMLExporter without its second pass over the page.

After rendering its template, HTMLExporter parses the whole page with BeautifulSoup to add three
attributes and prints the tree again: about half of a report's export time. `PageExporter` renders the
same template and adds the same attributes to the same elements by pattern instead: `tabindex="0"` on the
cells' input wrappers and on every output area, and a placeholder `alt` on images without one. The
markup a template writes is regular (these are its own elements; text from outputs reaches the page
escaped), so the page is the one nbconvert gives but for how BeautifulSoup re-prints it (tested:
re-printed by BeautifulSoup, the two pages are the same). Markdown is rendered by one parser per
exporter instead of one per cell (cells with attachments still get their own). The compiled templates are
kept in the per-user cache (Jinja's bytecode cache), so a fresh worker does not compile them again.
"""

from __future__ import annotations

import contextlib
import re
from importlib.metadata import version
from typing import Any

from jinja2 import FileSystemBytecodeCache, pass_context
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from helpers import paths

NO_ALT = "No description has been provided for this image"  # nbconvert's own placeholder
_FOCUSABLE = re.compile(
    r'(<div class="(?:jp-Cell-inputWrapper|[^"]*(?<=[" ])jp-OutputArea-output(?=[" ])[^"]*)"[^>]*?)(/?>)')
_IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)(?=[\s/>])")


def focusable(page: str) -> str:
    """The attributes HTMLExporter adds after rendering: tabindex on input wrappers and output areas, alt
    text on images without one."""
    page = _FOCUSABLE.sub(lambda found: f'{found[1]} tabindex="0"{found[2]}', page)
    return _IMAGE_WITHOUT_ALT.sub(f'<img alt="{NO_ALT}"', page)


class _QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's bytecode cache on disk; a cache that cannot be written is skipped, not an error."""

    def dump_bytecode(self, bucket: Any) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    folder = paths.cache_dir() / f"jinja-{version('jinja2')}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(folder))


class PageExporter(HTMLExporter):
    """HTMLExporter whose page is finished by `focusable` (see the module docstring)."""

    _markdown: Any = None

    def _create_environment(self) -> Any:
        environment = super()._create_environment()
        environment.bytecode_cache = _bytecode_cache()
        return environment

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        cell = context.get("cell", {})
        if cell.get("attachments"):
            return super().markdown2html(context, source)
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        if self._markdown is None or self._markdown[0] != path:
            renderer = IPythonRenderer(escape=False, attachments={}, embed_images=self.embed_images, path=path,
                                       anchor_link_text=self.anchor_link_text,
                                       exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
            self._markdown = (path, MarkdownWithMath(renderer=renderer))
        return self._markdown[1].render(source)

    def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return focusable(page), resources
