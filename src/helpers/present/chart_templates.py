"""Charts written in Altair once per process, then filled with each report's words and data.

Building and validating Altair objects is slow (infer_encoding_types, from_dict, jsonschema, deep copies:
about 6 s for the 38 charts of one detailed report), and a report's charts differ from the next report's
only in data and words; their structure (layers, encodings, scales, theme) is the same for every kommune.

A chart is therefore written as a *spec function* `spec(words, frames, shape) -> alt.TopLevelMixin`:
- `words`: what changes per report besides data, by slot name: texts (names, titles, units, number
  formats) and the odd number (a chart's height);
- `frames`: the Polars frames it draws, by slot name;
- `shape`: a hashable value for everything that changes the structure (whether there are breaks, how many
  panels...).
`fill(spec, words, frames, shape)` calls the spec function once per process and shape with *placeholder*
words (`@@oms:<slot>@@`, or a number no chart uses) and one-row placeholder frames, keeps Altair's validated
`to_dict()`, and for each report puts the real words and data into a copy: the same dict Altair builds from
the real values (the tests compare both for arbitrary texts). A word that sits inside a Vega expression as
a JSON string (as `json.dumps(word)` in the spec function) is filled as JSON; anywhere else as the text.

Templates are kept per process and, between processes, in the per-user cache folder (keyed by the template's
key, Altair's version and the helpers source), so that a fresh worker does not build them again.

`FilledChart` displays like an Altair chart (through the active Altair renderer, so exported pages are
unchanged), has `to_dict`/`to_json`, and hands any other attribute (`.properties`, `.save`, ...) to the
Altair chart built from the real values, so a researcher keeps Altair's whole API.

Templates are used only with Altair's default data transformer (the one this project uses); with any other
the real Altair chart is built directly.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from importlib.metadata import version
from typing import Any

import altair as alt
import narwhals.stable.v1 as nw
import polars as pl

from helpers.disk_cache import kept
from helpers.source_digest import helpers_digest_at_start

Words = Mapping[str, str | int | float]
Frames = Mapping[str, pl.DataFrame]
SpecFunction = Callable[[Words, Frames, Any], Any]

PLACEHOLDER = re.compile(r'"@@oms:([\w.]+)@@"|@@oms:([\w.]+)@@')
_KINDS = (("layer", "LayerChart"), ("hconcat", "HConcatChart"), ("vconcat", "VConcatChart"),
          ("concat", "ConcatChart"), ("facet", "FacetChart"), ("repeat", "RepeatChart"))
_TEMPLATES: dict[Hashable, _Template] = {}
_LOCK = threading.Lock()


NUMBER_BASE = 1_234_567_000


def placeholder(slot: str) -> str:
    """The text standing in for the word `slot` while a template is built."""
    return f"@@oms:{slot}@@"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stand_ins(words: Words) -> dict[str, str | int]:
    """Placeholder words: a text naming the slot, or for a number one that no chart would use."""
    return {slot: NUMBER_BASE + i if _is_number(value) else placeholder(slot)
            for i, (slot, value) in enumerate(words.items())}


def dataset(frame: pl.DataFrame) -> tuple[str, list[dict[str, Any]]]:
    """(name, rows) of a frame as Altair puts it into a spec's top-level `datasets` (the active data
    transformer's values, named by Altair's hash of them). With the default transformer and no temporal
    column, Altair's values are the frame's named rows (no narwhals round trip needed)."""
    from altair.vegalite.v6.api import _dataset_name  # the one private name used: how Altair names data

    limit = alt.data_transformers.options.get("max_rows", 5000)
    if (alt.data_transformers.active == "default" and (limit is None or frame.height <= limit)
            and not any(dtype.is_temporal() for dtype in frame.schema.values())):
        rows = frame.rows(named=True)
    else:
        rows = alt.data_transformers.get()(nw.to_native(frame, pass_through=True))["values"]
    return _dataset_name(rows), rows


def _placeholder_frame(frame: pl.DataFrame, index: int) -> pl.DataFrame:
    """One row of `frame`'s schema whose values no other slot's placeholder shares."""

    def value(name: str, dtype: pl.DataType) -> Any:
        if dtype.is_integer():
            return 1000 + index
        if dtype.is_float():
            return index + 0.25
        if dtype == pl.Boolean:
            return bool(index % 2)
        return placeholder(f"frame{index}.{name}")

    return pl.DataFrame({name: [value(name, dtype)] for name, dtype in frame.schema.items()}, schema=frame.schema)


class _Template:
    """A validated spec dict with placeholder words and data, and where each frame slot's data went."""

    def __init__(self, body: dict[str, Any], datasets: dict[str, Any] | None, slot_of: dict[str, str],
                 numbers: dict[int, str]) -> None:
        self.body, self.datasets, self.slot_of, self.numbers = body, datasets, slot_of, numbers
        self._text = json.dumps(body)  # each report's copy is parsed from this (faster than walking the dict)
        self._holes = list(self._find_holes(body, ()))

    def _find_holes(self, node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(path, kind) of every place a report fills: a dataset name, words in a text, a number."""
        if isinstance(node, dict | list):
            for key, value in node.items() if isinstance(node, dict) else enumerate(node):
                yield from self._find_holes(value, (*path, key))
        elif isinstance(node, str):
            if node in self.slot_of:
                yield path, "name"
            elif "@@oms:" in node:
                yield path, "words"
        elif _is_number(node) and node in self.numbers:
            yield path, "number"

    @classmethod
    def build(cls, spec: SpecFunction, words: Words, frames: Frames, shape: Any) -> _Template:
        """Build the chart with placeholder words and frames, and validate it (Altair's `to_dict`)."""
        stand_ins = {slot: _placeholder_frame(frame, i) for i, (slot, frame) in enumerate(frames.items())}
        numbers = {number: slot for slot, number in _stand_ins(words).items() if not isinstance(number, str)}
        built = spec(_stand_ins(words), stand_ins, shape).to_dict()
        slot_of: dict[str, str] = {}
        for slot, frame in stand_ins.items():
            name = dataset(frame)[0]
            if name in slot_of:
                raise ValueError(f"placeholder data of slots {slot_of[name]!r} and {slot!r} coincide")
            slot_of[name] = slot
        datasets = built.pop("datasets", None)
        return cls(built, datasets, slot_of, numbers)

    def to_json(self) -> str:
        return json.dumps({"body": self.body, "datasets": self.datasets, "slot_of": self.slot_of,
                           "numbers": list(self.numbers.items())}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> _Template:
        stored = json.loads(text)
        return cls(stored["body"], stored["datasets"], stored["slot_of"], dict(stored["numbers"]))

    def fill(self, words: Words, frames: Frames) -> dict[str, Any]:
        data = {slot: dataset(frame) for slot, frame in frames.items()}
        names = {placeholder_name: data[slot][0] for placeholder_name, slot in self.slot_of.items()}

        def word(match: re.Match[str]) -> str:
            quoted, bare = match.groups()
            return json.dumps(words[quoted]) if quoted else words[bare]

        out = json.loads(self._text)
        for path, kind in self._holes:
            parent = out
            for key in path[:-1]:
                parent = parent[key]
            value = parent[path[-1]]
            parent[path[-1]] = (names[value] if kind == "name" else PLACEHOLDER.sub(word, value) if kind == "words"
                                else words[self.numbers[value]])
        if self.datasets is not None:
            out["datasets"] = {}
            for placeholder_name, constant in self.datasets.items():
                slot = self.slot_of.get(placeholder_name)  # None: data written into the spec function itself
                name, rows = data[slot] if slot else (placeholder_name, copy.deepcopy(constant))
                out["datasets"].setdefault(name, rows)
        return out


def _template(spec: Callable[..., Any], words: Words, frames: Frames, shape: Any,
              build: Callable[[], _Template]) -> _Template:
    """This process's template for the key, else the one stored on disk by an earlier process, else built."""
    key = (spec.__module__, spec.__qualname__, shape, tuple((slot, _is_number(v)) for slot, v in words.items()),
           tuple((slot, tuple(frame.schema.items())) for slot, frame in frames.items()),
           alt.theme.active, json.dumps(alt.theme.options, sort_keys=True, default=str))
    with _LOCK:
        if key in _TEMPLATES:
            return _TEMPLATES[key]
    # kept between processes under the key, Altair's version and the helpers source (a code change rebuilds)
    template = kept("chart-templates", [repr(key), version("altair"), helpers_digest_at_start()], build,
                    suffix=".json", dump=_Template.to_json, load=_Template.from_json)
    with _LOCK:
        return _TEMPLATES.setdefault(key, template)


class FilledChart:
    """A chart's Vega-Lite spec filled from a template; displays and serialises like the Altair chart.
    `build` makes that Altair chart from the real words and data (for `to_altair` and everything else)."""

    def __init__(self, build: Callable[[], Any], filled: dict[str, Any] | None) -> None:
        self._build = build
        self._filled = filled
        self._chart: Any = None

    def to_altair(self) -> Any:
        """The Altair chart built from the real words and data (built once, on first use)."""
        if self._chart is None:
            self._chart = self._build()
        return self._chart

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The Vega-Lite spec, as the Altair chart's `to_dict()` gives it."""
        if self._filled is None or args or kwargs:
            return self.to_altair().to_dict(*args, **kwargs)
        return copy.deepcopy(self._filled)

    def to_json(self, indent: int | str | None = 2, sort_keys: bool = True, *, ensure_ascii: bool = False,
                **kwargs: Any) -> str:
        """The spec as JSON, formatted as Altair's `to_json()` formats it."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii, **kwargs)

    def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> Any:
        """What Altair's own `_repr_mimebundle_` returns: the active renderer's bundle of the spec."""
        if self._filled is None:
            return self.to_altair()._repr_mimebundle_(*args, **kwargs)
        renderer = alt.renderers.get()
        return renderer(self._filled) if renderer else None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.to_altair(), name)

    def __repr__(self) -> str:
        """Altair's repr of the chart (`alt.LayerChart(...)`), so that a notebook's text output is the same."""
        if self._filled is None:
            return repr(self.to_altair())
        kind = next((name for key, name in _KINDS if key in self._filled), "Chart")
        return f"alt.{kind}(...)"


def _templates_apply() -> bool:
    """Templates hold Altair's output for its default data transformer; with another, build charts directly."""
    return alt.data_transformers.active == "default"


def fill(spec: SpecFunction, words: Words, frames: Frames, shape: Hashable = None) -> FilledChart:
    """The chart `spec(words, frames, shape)` as a FilledChart, from this process's template for its shape."""
    words, frames = dict(words), dict(frames)

    def build() -> Any:
        return spec(words, frames, shape)

    if not _templates_apply():
        return FilledChart(build, None)
    template = _template(spec, words, frames, shape, lambda: _Template.build(spec, words, frames, shape))
    return FilledChart(build, template.fill(words, frames))


PanelsSpec = Callable[[Words, Any, Callable[[int], Any]], Any]
TOP_LEVEL_ONLY = ("config", "$schema", "datasets")


def _panel_stub(index: int) -> alt.Chart:
    """A stand-in for the `index`-th panel while the layout's template is built."""
    return alt.Chart().mark_point().properties(description=f"@@oms-panel:{index}@@")


def fill_panels(layout: PanelsSpec, words: Words, shape: Hashable, panels: Sequence[FilledChart]) -> FilledChart:
    """A chart of panels (concatenated charts) without composing them in Altair for every report.

    `layout(words, shape, panel)` writes the layout in Altair and calls `panel(i)` for the i-th panel. Its
    template is built with small stand-in panels; each report's panels come filled from their own templates
    and take the stand-ins' places, nested as Altair nests charts (without the top-level keys), their data
    merged into the top-level datasets in the order Altair would list them.
    """
    words = dict(words)

    def build() -> Any:
        return layout(words, shape, lambda index: panels[index].to_altair())

    if not _templates_apply() or any(panel._filled is None for panel in panels):
        return FilledChart(build, None)
    template = _template(layout, words, {}, shape,
                         lambda: _Template.build(lambda w, _, s: layout(w, s, _panel_stub), words, {}, shape))
    outer = template.fill(words, {})
    datasets: dict[str, Any] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            stub = node.get("description")
            if isinstance(stub, str) and stub.startswith("@@oms-panel:"):
                inner = panels[int(stub[len("@@oms-panel:"):-2])]._filled
                for name, rows in inner.get("datasets", {}).items():
                    datasets.setdefault(name, rows)
                return {key: value for key, value in inner.items() if key not in TOP_LEVEL_ONLY}
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    filled = walk({key: value for key, value in outer.items() if key != "datasets"})
    if datasets:
        filled["datasets"] = datasets
    return FilledChart(build, filled)
