"""vl-convert's static SVG of a Vega-Lite spec, kept on disk by the spec's content.

Drawing a large spec (the front page's map of every kommune, about 1 MB of topology) takes vl-convert
seconds, and the same spec gives the same SVG: `svg(spec, **options)` keeps each result in the per-user
cache folder, named by the sha256 of the spec, the options and the vl-convert version, so that writing
reports/index.html after every batch does not draw the map again. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from helpers import paths
from helpers.atomic import atomic_write_text


def svg(spec: dict[str, Any], **options: Any) -> str:
    """`vl_convert.vegalite_to_svg(spec, **options)`, from the cache when the same was drawn before."""
    import vl_convert

    return kept("svg", [spec, options, version("vl-convert-python")],
                lambda: vl_convert.vegalite_to_svg(spec, **options))


def kept(folder: str, key: Any, make: Callable[[], str]) -> str:
    """The text `make()` gives, kept in the cache folder's `folder` under the sha256 of `key` (JSON): read
    from there when it was made before."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    target = paths.cache_dir() / folder / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}.svg"
    with contextlib.suppress(OSError):
        return target.read_text(encoding="utf-8")
    made = make()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, made)
    return made
