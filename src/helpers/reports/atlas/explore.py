"""Notebook views of the atlas data: an interactive Altair chart, and tables to copy (notebooks/05_utforsk)."""

from __future__ import annotations

import altair as alt
import polars as pl

from helpers.errors import InputError
from helpers.present import charts
from helpers.present.formatting import MISSING
from helpers.present.tables import Table, display_table
from helpers.sources import indicators as catalogue
from helpers.sources.indicators import catalogue_frame

SECOND_COLOR = "#d08c2f"
OUTER_BAND_COLOR = "#e3e3e3"


def explore_chart(series: pl.DataFrame, distribution: pl.DataFrame, *, width: int = 560, height: int = 220
                  ) -> alt.VConcatChart:
    """One panel per indicator: the kommuner's lines over the national 10–90 % and 25–75 % bands and median.

    Interactive: tooltips, click a kommune in the legend to highlight it (shift-click for more), drag or
    scroll on a panel to zoom and pan the time axis (double-click resets).
    """
    if series.is_empty():
        raise InputError("Ingen verdier å vise for disse kommunene og indikatorene / nothing to show.")
    kommuner = series["kommune"].unique(maintain_order=True).to_list()
    years = [int(series["year"].min()), int(series["year"].max())]  # type: ignore[arg-type]
    palette = [charts.KOMMUNE_COLOR, SECOND_COLOR, "#5a9e6f", "#8e5ea2", "#a23b2a", "#3b8ea5"]
    colors = [palette[i % len(palette)] for i in range(len(kommuner))]
    color = alt.Color("kommune:N", title="Kommune", sort=kommuner,
                      scale=alt.Scale(domain=kommuner, range=colors))
    pick = alt.selection_point(name="valgt_kommune", fields=["kommune"], bind="legend")
    panels = []
    for n, indicator in enumerate(series["indicator"].unique(maintain_order=True).to_list()):
        part = series.filter(pl.col("indicator") == indicator)
        entry = catalogue.get(indicator)
        number = f",.{int(part['decimals'][0])}f"
        band = distribution.filter(pl.col("indicator") == indicator)
        x = alt.X("year:Q", title="År", axis=alt.Axis(format="d", tickMinStep=1, labelOverlap="greedy"),
                  scale=alt.Scale(domain=years, zero=False, nice=False))
        zoom = alt.selection_interval(name=f"zoom_{n}", encodings=["x"], bind="scales")
        base = alt.Chart(band).encode(x=x)
        outer = base.mark_area(color=OUTER_BAND_COLOR).encode(
            y=alt.Y("p10:Q", title=entry.unit, scale=alt.Scale(zero=False)), y2="p90:Q")
        inner = base.mark_area(color=charts.BAND_COLOR, opacity=0.8).encode(y="p25:Q", y2="p75:Q")
        median = base.mark_line(color=charts.GROUP_COLOR, strokeDash=[6, 3], strokeWidth=2).encode(
            y="median:Q",
            tooltip=[alt.Tooltip("year:Q", title="År", format="d"),
                     alt.Tooltip("median:Q", title="Median i landet", format=number),
                     alt.Tooltip("p25:Q", title="25-persentil", format=number),
                     alt.Tooltip("p75:Q", title="75-persentil", format=number),
                     alt.Tooltip("p10:Q", title="10-persentil", format=number),
                     alt.Tooltip("p90:Q", title="90-persentil", format=number),
                     alt.Tooltip("n:Q", title="Kommuner med tall")],
        )
        lines = alt.Chart(part).mark_line(point=True, strokeWidth=2.5).encode(
            x=x, y="value:Q", color=color,
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[alt.Tooltip("kommune:N", title="Kommune"), alt.Tooltip("year:Q", title="År", format="d"),
                     alt.Tooltip("value:Q", title=entry.unit.capitalize(), format=number),
                     alt.Tooltip("percentile:Q", title="Plassering i landet (persentil)", format=",.0f"),
                     alt.Tooltip("median:Q", title="Median i landet", format=number)],
        ).add_params(*([pick, zoom] if n == 0 else [zoom]))
        panels.append(alt.layer(outer, inner, median, lines).properties(
            title=alt.Title(entry.display, subtitle=entry.label), width=width, height=height))
    return alt.vconcat(*panels).properties(
        title=alt.Title("Kommunene i landsfordelingen",
                        subtitle="Lys grå: 10–90 % av kommunene; mørkere grå: 25–75 %; stiplet: median. "
                                 "Klikk i forklaringen for å fremheve, dra/rull for å zoome i tid.")
    )


def copy_table(series: pl.DataFrame, *, what: str = "value") -> Table:
    """One row per year, one column per kommune and indicator, as Norwegian text ready to copy into a
    spreadsheet or document (`what`: "value" or "percentile"). `.frame` is the Polars frame."""
    if what not in ("value", "percentile"):
        raise InputError(f"what must be 'value' or 'percentile', got {what!r}.")
    if series.is_empty():
        raise InputError("Ingen verdier å vise / nothing to show.")
    unit = pl.lit("persentil") if what == "percentile" else pl.col("unit")
    suffix = pl.concat_str(pl.lit(" ("), unit, pl.lit(")"))
    labelled = series.with_columns(
        pl.concat_str("kommune", pl.lit(": "), "short_label", suffix).alias("column"),
        pl.col("year").alias("År"),
    )
    columns = labelled["column"].unique(maintain_order=True).to_list()
    decimals = dict(labelled.select("column", "decimals").unique().iter_rows())
    wide = labelled.pivot("column", index="År", values=what).sort("År").select("År", *columns)
    places = dict.fromkeys(columns, 0) if what == "percentile" else {c: int(decimals[c]) for c in columns}
    return Table(display_table(wide, decimals=places).frame.fill_null(MISSING))


def distribution_table(distribution: pl.DataFrame) -> Table:
    """`national_distribution(...)` with short indicator names, Norwegian headers and numbers."""
    ids = distribution["indicator"].unique(maintain_order=True).to_list()
    named = distribution.join(catalogue_frame(ids), on="indicator")
    frame = named.select(
        pl.col("short_label").alias("Indikator"), pl.col("year").alias("År"), pl.col("n").alias("Kommuner"),
        *[pl.col(name).alias(title) for name, title in
          (("p10", "10 %"), ("p25", "25 %"), ("median", "Median"), ("p75", "75 %"), ("p90", "90 %"))],
    )
    return display_table(frame, decimals=1)
