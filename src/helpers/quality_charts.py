"""Charts of the cleaning notebook's data-quality section (Altair, the project theme from charts.py)."""

from __future__ import annotations

import altair as alt
import polars as pl

from helpers import charts  # noqa: F401 - registers and enables the project theme


def coverage_chart(coverage: pl.DataFrame, labels: pl.DataFrame) -> alt.Chart:
    """Heatmap: share of kommuner with a value, per indicator (rows) and year (columns)."""
    data = coverage.join(labels.select("indicator", "label"), on="indicator", how="left")
    return (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("year:O", title="År"),
            y=alt.Y("label:N", title=None, sort=None),
            color=alt.Color("share:Q", title="Andel kommuner med tall",
                            scale=alt.Scale(domain=[0, 1], scheme="blues"), legend=alt.Legend(format=".0%")),
            tooltip=[alt.Tooltip("label:N", title="Indikator"), alt.Tooltip("year:O", title="År"),
                     alt.Tooltip("with_value:Q", title="Med tall"), alt.Tooltip("n:Q", title="Kommuner"),
                     alt.Tooltip("share:Q", title="Andel", format=".0%")],
        )
        .properties(width=520, height=alt.Step(16), title="Dekning per indikator og år")
    )
