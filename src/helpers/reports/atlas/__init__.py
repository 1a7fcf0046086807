"""Explore interactively: kommune series against the national distribution, and the offline atlas page.

Two uses share the same Polars computations:

- notebooks/05_utforsk.ipynb: `kommune_series` (the chosen kommuner's values with their place in the
  national distribution each year), `national_distribution` (10/25/50/75/90 % per indicator and year),
  `explore_chart` (interactive Altair chart) and `copy_table` (a table to copy);
- reports/utforsk.html: `render_atlas` writes one self-contained page with a map of Norway (level or change
  of a chosen indicator) linked to time-series panels of the chosen kommune(r) against the national median
  and interquartile band; rates by default, counts one click away.

Modules: `data` (usable values, distribution, names, series, parameter checks), `explore` (notebook views),
`page_data` (the page's compact data and reasons for gaps), `panels` and `map` (Vega-Lite specs), `page` (the
HTML page). Values carrying a quality flag are left out by default; values SSB suppressed (":") are missing,
never zero.
"""

from helpers.reports.atlas.data import (
    DEFAULT_KOMMUNE,
    DEFAULT_STRUCTURE,
    QUANTILES,
    check_parameters,
    find_kommune,
    indicator_overview,
    kommune_names,
    kommune_series,
    national_distribution,
    usable_values,
)
from helpers.reports.atlas.explore import copy_table, distribution_table, explore_chart
from helpers.reports.atlas.page import SOURCE_LINE, atlas_html, atlas_spec, render_atlas
from helpers.reports.atlas.page_data import atlas_data

__all__ = [
    "DEFAULT_KOMMUNE",
    "DEFAULT_STRUCTURE",
    "QUANTILES",
    "SOURCE_LINE",
    "atlas_data",
    "atlas_html",
    "atlas_spec",
    "check_parameters",
    "copy_table",
    "distribution_table",
    "explore_chart",
    "find_kommune",
    "indicator_overview",
    "kommune_names",
    "kommune_series",
    "national_distribution",
    "render_atlas",
    "usable_values",
]
