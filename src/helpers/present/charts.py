"""Altair charts with Norwegian labels and one theme ("omsorgskapasitet", enabled on import).

The builders only draw: they get frames and results already computed by helpers.analysis (`series_frame`,
`Comparison`, `DidResult.placebo`, `SyntheticControl`) and never filter or aggregate; they only reshape and
label. Data is kept inline (Polars frames go in directly), so
charts render offline, e.g. with `vl_convert.vegalite_to_svg(chart.to_json())`.

The report charts are written in Altair as spec functions of (words, frames, shape) and returned as
`chart_templates.FilledChart`s: built and validated once per process and shape, filled for each report
(the same spec as Altair's; `.to_altair()` or any Altair method gives the Altair chart itself).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

from helpers.analysis import Comparison, SyntheticControl, Window, period_label
from helpers.errors import InputError
from helpers.present.chart_templates import FilledChart, Frames, Words, fill, fill_panels
from helpers.present.formatting import MINUS, NBSP, format_number
from helpers.sources.indicators import DOMAIN_LABELS

THEME_NAME = "omsorgskapasitet"
KOMMUNE_COLOR = "#1b5e8c"
GROUP_COLOR = "#6b6b6b"
BAND_COLOR = "#bdbdbd"
BEFORE_FILL = "#eef3f8"
AFTER_FILL = "#fbefe2"
BREAK_COLOR = "#a23b2a"
BAND_LABEL = "Sammenligningsgruppe, midterste halvdel (25–75 %)"
REFORM_LABEL = "Kommunesammenslåing"
GROUP_MEDIAN_LABEL = "Median i sammenligningsgruppen"
SYNTHETIC_LABEL = "Syntetisk kontroll"
OVERVIEW_COLUMNS: tuple[str, ...] = ("hjemmesykepleie", "sykehjem")
MAX_LABELLED_UNITS = 40

NORWEGIAN_LOCALE: dict = {
    "number": {"decimal": ",", "thousands": NBSP, "grouping": [3], "currency": ["", f"{NBSP}kr"],
               "minus": MINUS, "percent": f"{NBSP}%"},
    "time": {
        "dateTime": "%A %e. %B %Y kl. %X", "date": "%d.%m.%Y", "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "shortDays": ["søn", "man", "tir", "ons", "tor", "fre", "lør"],
        "months": ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
                   "oktober", "november", "desember"],
        "shortMonths": ["jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des"],
    },
}


@alt.theme.register(THEME_NAME, enable=True)
def theme() -> alt.theme.ThemeConfig:
    """The project's one theme: Norwegian number locale, quiet axes, titles anchored left."""
    return {
        "config": {
            "locale": NORWEGIAN_LOCALE,
            "font": "Helvetica, Arial, sans-serif",
            "view": {"continuousWidth": 520, "continuousHeight": 260, "stroke": None},
            "title": {"anchor": "start", "fontSize": 15, "subtitleFontSize": 12, "subtitleColor": "#555"},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6", "domainColor": "#888"},
            "legend": {"orient": "bottom", "labelFontSize": 11, "titleFontSize": 12, "labelLimit": 400},
            "header": {"labelFontSize": 12, "titleFontSize": 13, "labelAnchor": "start"},
            "range": {"category": [KOMMUNE_COLOR, GROUP_COLOR, "#d08c2f", "#5a9e6f", "#8e5ea2"]},
        }
    }


def _one(frame: pl.DataFrame, column: str, what: str) -> str:
    """The single value of `column` (the builders draw one indicator / one kommune at a time)."""
    values = list(dict.fromkeys(frame.get_column(column).to_list()))  # (a few rows: no query needed)
    if len(values) != 1:
        raise InputError(f"{what}: expected one {column}, got {len(values)} ({values[:5]}); "
                         "pass one at a time.")
    return values[0]


_YEAR_SCALE = alt.Scale(zero=False, nice=False)
SERIES_COLUMNS = ("year", "kommune_value", "group_median", "group_q1", "group_q3", "n_group")
TIME_SERIES_SIZE = (560, 280)


# ---------------------------------------------------------------- layers (Altair; words and frames in)


def _series_layers(words: Words, encoded: pl.DataFrame, *, prefix: str = "",
                   detailed: bool) -> list[alt.Chart]:
    """Group band (quartiles), group median and the kommune's line, sharing one colour legend. Words:
    `kommune`, `<prefix>format` (the numbers' d3 format) and, when `detailed`, `<prefix>unit`."""
    kommune, number = words["kommune"], words[f"{prefix}format"]
    legend = alt.Scale(domain=[kommune, GROUP_MEDIAN_LABEL, BAND_LABEL],
                       range=[KOMMUNE_COLOR, GROUP_COLOR, BAND_COLOR])
    x = alt.X("year:Q", axis=alt.Axis(format="d", tickMinStep=1, title="År" if detailed else None),
              scale=_YEAR_SCALE)
    base = alt.Chart(encoded).encode(x=x)
    tooltip = [
        alt.Tooltip("year:Q", title="År", format="d"),
        alt.Tooltip("kommune_value:Q", title=kommune, format=number),
        alt.Tooltip("group_median:Q", title="Median i gruppen", format=number),
        alt.Tooltip("group_q1:Q", title="25-persentil", format=number),
        alt.Tooltip("group_q3:Q", title="75-persentil", format=number),
        alt.Tooltip("n_group:Q", title="Kommuner i gruppen med tall"),
    ]

    def named(chart: alt.Chart, name: str) -> alt.Chart:
        """The layer coloured (and listed in the legend) as `name`."""
        return chart.transform_calculate(series=json.dumps(name)).encode(
            color=alt.Color("series:N", scale=legend, title=None)
        )

    band = named(base.mark_area(opacity=0.45).encode(
        y=alt.Y("group_q1:Q", title=words[f"{prefix}unit"] if detailed else None, scale=alt.Scale(zero=False)),
        y2="group_q3:Q",
    ), BAND_LABEL)
    median = named(base.mark_line(strokeDash=[6, 3], strokeWidth=2).encode(y="group_median:Q"),
                   GROUP_MEDIAN_LABEL)
    own = named(base.mark_line(strokeWidth=3, point=detailed).encode(y="kommune_value:Q"), kommune)
    if detailed:
        own = own.encode(tooltip=tooltip)
    return [band, median, own]


def _windows_layers(frame: pl.DataFrame | None) -> list[alt.Chart]:
    """Shaded before/after windows with a label at the top (`_windows_frame`)."""
    if frame is None:
        return []
    base = alt.Chart(frame)
    rect = base.mark_rect(opacity=0.9).encode(
        x=alt.X("start:Q", scale=_YEAR_SCALE), x2="end:Q", fill=alt.Fill("fill:N", scale=None, legend=None),
        tooltip=[alt.Tooltip("periode:N", title="Periode")],
    )
    text = base.mark_text(baseline="top", dy=4, fontSize=11, color="#555").encode(
        x=alt.X("mid:Q", scale=_YEAR_SCALE), y=alt.value(0), text="periode:N"
    )
    return [rect, text]


def _break_layers(frame: pl.DataFrame | None, height: int) -> list[alt.Chart]:
    """A vertical rule between the last year on old borders and the first on new, with a label
    (`_breaks_frame`)."""
    if frame is None:
        return []
    base = alt.Chart(frame)
    rule = base.mark_rule(color=BREAK_COLOR, strokeWidth=1.5, strokeDash=[2, 2]).encode(
        x=alt.X("at:Q", scale=_YEAR_SCALE), tooltip=[alt.Tooltip("label:N", title="Brudd")]
    )
    text = base.mark_text(align="left", baseline="bottom", angle=270, dx=6, dy=-3, fontSize=11,
                          color=BREAK_COLOR).encode(x=alt.X("at:Q", scale=_YEAR_SCALE), y=alt.value(height),
                                                    text="label:N")
    return [rule, text]


# ---------------------------------------------------------------- frames and words (from the data)


@functools.lru_cache(maxsize=64)
def _windows_frame(before: Window | None, after: Window | None, *, detailed: bool) -> pl.DataFrame | None:
    """The before/after windows to shade, labelled (with the years when `detailed`); None for none. (The same
    frame for every report with these windows: charts only read it.)"""
    windows = [(label, window, fill) for label, window, fill in
               (("Før", before, BEFORE_FILL), ("Etter", after, AFTER_FILL)) if window is not None]
    if not windows:
        return None
    return pl.DataFrame({
        "periode": [f"{label} ({period_label(w)})" if detailed else label for label, w, _ in windows],
        "start": [w[0] - 0.5 for _, w, _ in windows],
        "end": [w[1] + 0.5 for _, w, _ in windows],
        "mid": [(w[0] + w[1]) / 2 for _, w, _ in windows],
        "fill": [fill for _, _, fill in windows],
    })


def _breaks_frame(breaks: Mapping[int, str] | Sequence[int]) -> pl.DataFrame | None:
    """First years on new borders as rules half a year before, labelled; None for none."""
    labels = dict(breaks) if isinstance(breaks, Mapping) else dict.fromkeys(breaks, REFORM_LABEL)
    return _labelled_breaks(tuple(labels.items())) if labels else None


@functools.lru_cache(maxsize=256)
def _labelled_breaks(labels: tuple[tuple[int, str], ...]) -> pl.DataFrame:
    """The breaks frame of (year, label) pairs (the same frame for every report with these breaks)."""
    return pl.DataFrame({
        "at": [year - 0.5 for year, _ in labels],
        "label": [f"{label} {year}" for year, label in labels],
    })


def _series_words(series: pl.DataFrame, prefix: str = "") -> dict[str, str]:
    """The number format and unit of one indicator's series (`series_frame` rows)."""
    return {f"{prefix}format": f",.{int(series['decimals'][0])}f", f"{prefix}unit": series["unit"][0]}


def _optional(**frames: pl.DataFrame | None) -> dict[str, pl.DataFrame]:
    return {slot: frame for slot, frame in frames.items() if frame is not None}


# ---------------------------------------------------------------- the charts


def _time_series_spec(words: Words, frames: Frames, shape: None) -> alt.LayerChart:
    width, height = TIME_SERIES_SIZE
    chart = alt.layer(*_windows_layers(frames.get("windows")),
                      *_series_layers(words, frames["series"], detailed=True),
                      *_break_layers(frames.get("breaks"), height))
    return chart.properties(title=alt.Title(words["title"], subtitle=words["subtitle"]), width=width, height=height)


def time_series_chart(
    series: pl.DataFrame,
    *,
    before: Window | None = None,
    after: Window | None = None,
    breaks: Mapping[int, str] | Sequence[int] = (),
    title: str | None = None,
    subtitle: str | None = None,
) -> FilledChart:
    """One indicator over time: the kommune's line, the group's median and quartile band, windows, breaks.

    `series` is `analysis.series_frame(...)` for one indicator. `breaks` are first years on new borders, e.g.
    [2020, 2024] (labelled "Kommunesammenslåing") or {2020: "Ny kommune"}.
    """
    label = _one(series, "label", "time_series_chart")
    kommune = _one(series, "kommune", "time_series_chart")
    default_subtitle = f"{kommune} sammenlignet med median og midterste halvdel i sammenligningsgruppen"
    words = {"kommune": kommune, **_series_words(series), "title": title or label,
             "subtitle": subtitle or default_subtitle}
    # only the encoded columns: the spec carries every value inline, and repeats labels on every row otherwise
    frames = _optional(windows=_windows_frame(before, after, detailed=True), series=series.select(SERIES_COLUMNS),
                       breaks=_breaks_frame(breaks))
    return fill(_time_series_spec, words, frames)


def slope_frame(comparison: Comparison) -> pl.DataFrame:
    """Long frame for `slope_chart`: the kommune's and the group median's level before and after."""
    base = comparison.before_after.join(
        comparison.group_summary.select("indicator", "median_before", "median_after"), on="indicator", how="left",
        maintain_order="left").filter(pl.col("before").is_not_null() | pl.col("after").is_not_null())
    keep = ["indicator", "short_label", "unit", "domain", "decimals"]
    parts = []
    for series, before, after in ((pl.col("kommune"), "before", "after"),
                                  (pl.lit(GROUP_MEDIAN_LABEL), "median_before", "median_after")):
        for order, (prefix, period, column) in enumerate((("Før", "period_before", before),
                                                          ("Etter", "period_after", after))):
            parts.append(base.select(*keep, series=series, period=pl.format("{} {}", pl.lit(prefix), pl.col(period)),
                                     period_order=pl.lit(order, dtype=pl.Int32), value=pl.col(column)))
    frame = pl.concat(parts)
    texts = [format_number(v, d) for v, d in zip(frame["value"], frame["decimals"], strict=True)]
    return frame.with_columns(value_text=pl.Series(texts, dtype=pl.String))


def _slope_spec(words: Words, frames: Frames, shape: tuple[int, int, int]) -> alt.FacetChart:
    n_series, n_facets, columns = shape
    series_order = [words[f"series{i}"] for i in range(n_series)]
    facet_order = [words[f"facet{i}"] for i in range(n_facets)]
    color = alt.Color("series:N", title=None, sort=series_order,
                      scale=alt.Scale(domain=series_order, range=[KOMMUNE_COLOR, GROUP_COLOR]))
    base = alt.Chart().encode(
        x=alt.X("period:N", title=None, sort=alt.EncodingSortField("period_order"),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=color,
        tooltip=[alt.Tooltip("short_label:N", title="Indikator"), alt.Tooltip("series:N", title="Serie"),
                 alt.Tooltip("period:N", title="Periode"), alt.Tooltip("value_text:N", title="Verdi"),
                 alt.Tooltip("unit:N", title="Enhet")],
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=50), strokeWidth=2.5).encode(detail="series:N")
    labels = base.mark_text(dy=-10, fontSize=10).encode(text="value_text:N")
    return (
        alt.layer(lines, labels, data=frames["slopes"])
        .properties(width=170, height=150)
        .facet(facet=alt.Facet("short_label:N", title=None, sort=facet_order), columns=columns)
        .resolve_scale(y="independent")
        .properties(title=alt.Title(words["title"], subtitle="Gjennomsnitt over årene med tall i hver periode"))
    )


def slope_chart(comparison: Comparison, *, title: str | None = None, columns: int = 3) -> FilledChart:
    """Before → after for all indicators: one small panel per indicator, each with its own y axis.

    Faceted rather than normalised: the indicators have different units (persons, per 100 inhabitants 80+,
    hours), and an index (before = 100) would hide the levels and inflate changes from small bases.
    """
    slopes = slope_frame(comparison)
    series_order = slopes["series"].unique(maintain_order=True).to_list()
    facet_order = slopes["short_label"].unique(maintain_order=True).to_list()
    words = {**{f"series{i}": name for i, name in enumerate(series_order)},
             **{f"facet{i}": name for i, name in enumerate(facet_order)},
             "title": title or "Før og etter, alle indikatorer"}
    return fill(_slope_spec, words, {"slopes": slopes}, (len(series_order), len(facet_order), columns))


def _placebo_spec(words: Words, frames: Frames, shape: bool) -> alt.LayerChart:
    treated = alt.datum.is_treated
    base = alt.Chart(frames["placebo"]).encode(
        x=alt.X("deviation:Q", title=words["axis_title"]),
        y=alt.Y("kommune:N", sort="-x", title=None, axis=alt.Axis(labels=shape, ticks=False)),
    )
    zero = alt.Chart().mark_rule(color="#888").encode(x=alt.datum(0))
    dots = base.mark_circle(opacity=0.9).encode(
        color=alt.condition(treated, alt.value(KOMMUNE_COLOR), alt.value(BAND_COLOR)),
        size=alt.condition(treated, alt.value(160), alt.value(60)),
        tooltip=[alt.Tooltip("kommune:N", title="Kommune"),
                 alt.Tooltip("deviation:Q", title="Avvik fra medianen av de andre", format=",.2f"),
                 alt.Tooltip("rank:Q", title="Rang etter størrelsen på avviket")],
    )
    label = base.mark_text(align="left", dx=10, fontWeight="bold", color=KOMMUNE_COLOR).encode(
        text=alt.condition(treated, alt.Text("kommune:N"), alt.value(""))
    )
    return alt.layer(zero, dots, label).properties(
        title=alt.Title(words["title"], subtitle=words["subtitle"]), width=520, height=words["height"])


def placebo_chart(placebo: pl.DataFrame, *, axis_title: str, title: str | None = None,
                  subtitle: str | None = None) -> FilledChart:
    """The placebo distribution of one indicator: each unit's deviation from the median of the others as a dot,
    the kommune marked. `placebo` is `DidResult.placebo` for one indicator."""
    _one(placebo, "indicator", "placebo_chart")
    n_units = placebo.height
    default_subtitle = ("Hver kommune i gruppen regnet ut som om den var kommunen vi ser på; "
                        "jo færre prikker lenger ut enn kommunen, jo mindre sannsynlig er tilfeldighet")
    words = {"axis_title": axis_title, "title": title or "Placebotest", "subtitle": subtitle or default_subtitle,
             "height": max(160, min(14 * n_units, 600))}
    frames = {"placebo": placebo.select("kommune", "deviation", "is_treated", "rank")}
    return fill(_placebo_spec, words, frames, n_units <= MAX_LABELLED_UNITS)


def _synthetic_spec(words: Words, frames: Frames, shape: None) -> alt.LayerChart:
    kommune = words["kommune"]
    shade = alt.Chart(frames["shade"]).mark_rect(color=BEFORE_FILL).encode(
        x=alt.X("start:Q", scale=_YEAR_SCALE), x2="end:Q")
    lines = alt.Chart(frames["series"]).mark_line(point=True).encode(
        x=alt.X("year:Q", title="År", axis=alt.Axis(format="d", tickMinStep=1), scale=_YEAR_SCALE),
        y=alt.Y("value:Q", title=words["unit"], scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=[kommune, SYNTHETIC_LABEL],
                                                               range=[KOMMUNE_COLOR, GROUP_COLOR])),
        strokeDash=alt.StrokeDash("series:N", legend=None, scale=alt.Scale(domain=[kommune, SYNTHETIC_LABEL],
                                                                            range=[[1, 0], [6, 3]])),
        tooltip=[alt.Tooltip("year:Q", title="År", format="d"), alt.Tooltip("series:N", title="Serie"),
                 alt.Tooltip("value:Q", title="Verdi", format=",.1f")],
    )
    return alt.layer(shade, lines).properties(
        title=alt.Title(words["title"],
                        subtitle="Skravert: årene vektene er tilpasset; etter det viser gapet forskjellen"),
        width=520, height=220)


def synthetic_chart(sc: SyntheticControl, *, kommune: str, title: str, unit: str) -> FilledChart:
    """The kommune and its synthetic control over the years, the before-years shaded: the fit before is what
    makes the gap after worth reading."""
    frame = sc.series.unpivot(index=["year", "part"], on=["kommune_value", "synthetic"], variable_name="series",
                              value_name="value").with_columns(
        series=pl.col("series").replace_strict({"kommune_value": kommune, "synthetic": SYNTHETIC_LABEL}))
    before = sc.series.filter(pl.col("part") == "before")["year"]
    shade = pl.DataFrame({"start": [before.min() - 0.5], "end": [before.max() + 0.5]})
    return fill(_synthetic_spec, {"kommune": kommune, "title": title, "unit": unit},
                {"shade": shade, "series": frame})


def _overview_cell_spec(words: Words, frames: Frames, shape: None) -> alt.LayerChart:
    """One small panel of the overview: windows, reform rule and the series of one indicator."""
    return (alt.layer(*_windows_layers(frames.get("windows")), *_break_layers(frames.get("breaks"), 0)[:1],
                      *_series_layers(words, frames["series"], detailed=False))
            .properties(title=alt.Title(words["label"], subtitle=words["unit"], fontSize=12), width=260, height=110))


def _overview_layout(words: Words, shape: tuple[tuple[str, int], ...], panel: Callable[[int], Any]) -> alt.HConcatChart:
    """The overview's columns (one per domain, `shape`: (domain, number of panels)) of `panel(i)`s."""
    columns, index = [], 0
    for domain, n_panels in shape:
        cells = [panel(index + i) for i in range(n_panels)]
        index += n_panels
        columns.append(alt.vconcat(*cells, title=alt.Title(DOMAIN_LABELS[domain], fontSize=14))
                       .resolve_scale(x="shared"))
    return alt.hconcat(*columns).resolve_scale(color="shared", x="shared").properties(
        title=alt.Title(words["title"],
                        subtitle="Linje: kommunen; stiplet: median i sammenligningsgruppen; grått: 25–75 %")
    )


def overview_chart(
    series: pl.DataFrame,
    *,
    before: Window | None = None,
    after: Window | None = None,
    breaks: Mapping[int, str] | Sequence[int] = (),
    title: str | None = None,
) -> FilledChart:
    """Small multiples: hjemmesykepleie in the left column, sykehjem in the right (other domains after).

    `series` is `analysis.series_frame(...)` for several indicators; one small chart per indicator, each
    with its own y axis and unit. Reform `breaks` are drawn as rules (labelled in the tooltip).
    """
    kommune = _one(series, "kommune", "overview_chart")
    by_domain = {key[0]: part for key, part in series.partition_by("domain", as_dict=True).items()}
    shared = _optional(windows=_windows_frame(before, after, detailed=False), breaks=_breaks_frame(breaks))
    panels, shape = [], []
    for domain in (d for d in dict.fromkeys((*OVERVIEW_COLUMNS, *DOMAIN_LABELS)) if d in by_domain):
        parts = by_domain[domain].sort("order").partition_by("order", maintain_order=True)
        panels += [fill(_overview_cell_spec,
                        {"kommune": kommune, **_series_words(part), "label": part["short_label"][0]},
                        {**shared, "series": part.select(SERIES_COLUMNS)}) for part in parts]
        shape.append((domain, len(parts)))
    return fill_panels(_overview_layout, {"title": title or f"{kommune}: alle indikatorer"}, tuple(shape), panels)


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


CLAIMED_COLOR = "#a23b2a"
CHANGE_KINDS: tuple[tuple[str, str], ...] = (
    ("Påstått", CLAIMED_COLOR), ("Kommunen (SSB)", KOMMUNE_COLOR), ("Sammenlignbare, median (SSB)", GROUP_COLOR))


def _change_bars(frame: pl.DataFrame, *, title: str, subtitle: Sequence[str], x_title: str) -> alt.FacetChart:
    """Horizontal bars of relative changes, one small panel per `panel` (claim or promise), coloured by `kind`."""
    texts = [format_number(v, 1, sign=True) + f"{NBSP}%" for v in frame["value"].to_list()]
    frame = frame.with_columns(value_text=pl.Series(texts, dtype=pl.String))
    values = frame["value"].to_list()
    room = [min([*values, 0]) - 25, max([*values, 0]) + 25]  # space for the value labels
    base = alt.Chart().encode(
        y=alt.Y("series:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(domain=room, nice=False)),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=[k for k, _ in CHANGE_KINDS],
                                                              range=[c for _, c in CHANGE_KINDS])),
        tooltip=[alt.Tooltip("series:N", title="Serie"), alt.Tooltip("value_text:N", title="Endring"),
                 alt.Tooltip("years:N", title="År")],
    )
    layers = alt.layer(
        base.mark_bar(height=14),
        base.transform_filter("datum.value >= 0").mark_text(align="left", dx=4).encode(text="value_text:N"),
        base.transform_filter("datum.value < 0").mark_text(align="right", dx=-4).encode(text="value_text:N"),
        alt.Chart().mark_rule(color="#888").encode(x=alt.datum(0)),
    )
    order = frame["panel"].unique(maintain_order=True).to_list()
    header = alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelOrient="top", labelFontWeight="bold",
                        labelLimit=700)
    return (alt.layer(layers, data=frame.select("panel", "series", "kind", "value", "value_text", "years"))
            .properties(width=420)
            .facet(row=alt.Row("panel:N", title=None, sort=order, header=header))
            .resolve_scale(y="independent")
            .properties(title=alt.Title(title, subtitle=list(subtitle))))


def change_bars(rows: Sequence[Mapping], *, title: str, subtitle: Sequence[str]) -> alt.FacetChart:
    """Relative changes side by side per claim or promise: claimed, the kommune's, the comparable kommuner'
    median. `rows` (from `text.claim_chart_rows` / `text.promise_chart_rows`): panel, series, kind, value, years."""
    return _change_bars(pl.DataFrame(list(rows), schema={"panel": pl.String, "series": pl.String, "kind": pl.String,
                                                         "value": pl.Float64, "years": pl.String}),
                        title=title, subtitle=subtitle, x_title="Endring (%)")
