"""vl-convert's static SVG of a Vega-Lite spec, kept on disk by the spec's content (helpers.disk_cache).

Drawing a large spec (the front page's map of every kommune, about 1 MB of topology) takes vl-convert
seconds, and the same spec gives the same SVG: `svg(spec, **options)` keeps each result in the per-user
cache folder, named by the sha256 of the spec, the options and the vl-convert version, so that writing
reports/index.html after every batch does not draw the map again.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from helpers.disk_cache import kept


def svg(spec: dict[str, Any], **options: Any) -> str:
    """`vl_convert.vegalite_to_svg(spec, **options)`, from the cache when the same was drawn before."""
    import vl_convert

    return kept("svg", [spec, options, version("vl-convert-python")],
                lambda: vl_convert.vegalite_to_svg(spec, **options), suffix=".svg")
