"""Before/after comparison of one kommune against a comparison group (no plotting).

Input everywhere is `panel`: a frame in the tidy schema (helpers.schema) restricted to ONE structure. The
functions are pure: they return Polars frames or small frozen dataclasses.

Rules for data quality, applied the same way in every function:
- a value with status ":" (suppressed by SSB, small numbers) is missing, never zero, and counted as
  suppressed;
- with `exclude_flagged=True` (default) a value carrying any quality flag is treated as missing and counted in
  `n_excluded`;
- a kommune with a `small_denominator` flag in the period looked at is kept out of the group statistics,
  rankings and placebo tests (its rate is too uncertain), and the number kept out is reported;
- a kommune without data in a window gets no change (and the treated kommune no DiD) rather than a wrong one.

Inference for one treated kommune is by placebo (permutation): the same estimate is re-run with each
comparison kommune as if it were treated, against the rest of the group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from helpers import indicators as catalogue
from helpers.errors import InputError
from helpers.flags import has_flag
from helpers.formatting import format_number
from helpers.schema import KEY_COLUMNS, TIDY_SCHEMA

Window = tuple[int, int]

#: Named comparison groups. "naboer": Asker's land neighbours Bærum, Lier and Drammen (2024 codes).
NAMED_GROUPS: dict[str, tuple[str, ...]] = {
    "naboer": ("3201", "3312", "3301"),
}
SIZE_INDICATOR = "population_80plus"
#: Size measures for "similar_size", in order of preference (indicator, Norwegian wording).
SIZE_MEASURES: tuple[tuple[str, str], ...] = (
    (SIZE_INDICATOR, "antall innbyggere 80+"),
    ("home_service_users_80plus", "antall brukere av hjemmetjenester 80+"),
)
SMALL_DENOMINATOR = "small_denominator"
MIN_PRE_POINTS = 3
MIN_POST_POINTS = 2
#: Pre-trend rule: permutation p-value of (kommune slope − group mean slope) at or below this is "diverging".
PRETREND_ALPHA = 0.10
#: Fewer units than this cannot reach p ≤ PRETREND_ALPHA, so the verdict is "insufficient".
PRETREND_MIN_UNITS = math.ceil(1 / PRETREND_ALPHA)
PRETREND_RULE = (
    f"Avvikende (diverging) når kommunens stigningstall i førperioden minus gruppens gjennomsnittlige "
    f"stigningstall er blant de mest ekstreme i placebofordelingen (p ≤ {PRETREND_ALPHA:g}); ellers "
    f"parallell (consistent). Krever minst {MIN_PRE_POINTS} år med tall og minst {PRETREND_MIN_UNITS} "
    f"kommuner (inkludert kommunen selv), ellers «for lite data» (insufficient)."
)
VERDICT_LABELS: dict[str, str] = {
    "consistent": "parallell utvikling før",
    "diverging": "avvikende utvikling før",
    "insufficient": "for lite data til å vurdere",
}
GROUP_MEDIAN_LABEL = "Median i sammenligningsgruppen"
_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------------------
# Input checks and preparation
# --------------------------------------------------------------------------------------------------------


def _check_panel(panel: pl.DataFrame) -> None:
    missing = [name for name in TIDY_SCHEMA if name not in panel.columns]
    if missing:
        raise InputError(f"Panelet mangler kolonner / panel lacks columns: {', '.join(missing)}.")
    if panel["structure"].n_unique() > 1:
        structures = ", ".join(sorted(str(s) for s in panel["structure"].unique().to_list()))
        raise InputError(
            f"Panelet har flere kommunestrukturer ({structures}); velg én først / restrict the panel to one "
            "structure first, e.g. panel.filter(pl.col('structure') == '2024')."
        )
    if panel.select(pl.struct(list(KEY_COLUMNS)).is_duplicated().any()).item():
        raise InputError(
            "Panelet har dupliserte rader for samme kommune, år og indikator / duplicate key rows in panel."
        )


def _check_windows(before: Window, after: Window) -> None:
    (b0, b1), (a0, a1) = before, after
    if not (b0 <= b1 < a0 <= a1):
        raise InputError(
            f"Ugyldige perioder / invalid windows: før {before}, etter {after}; need start <= end and the "
            "before window ending before the after window starts."
        )


def _check_kommune(panel: pl.DataFrame, kommune: str) -> None:
    if panel.filter(pl.col("kommunenr") == kommune).height:
        return
    by_name = panel.filter(pl.col("kommune").str.to_lowercase() == str(kommune).lower())
    hint = f" Mente du kommunenummer {by_name['kommunenr'][0]}?" if by_name.height else ""
    raise InputError(f"Kommunenummer {kommune!r} finnes ikke i panelet / not in panel.{hint}")


def _prepare(panel: pl.DataFrame, ids: Sequence[str], exclude_flagged: bool) -> pl.DataFrame:
    """Rows of `ids` with value nulled where suppressed (":") or, if excluded, flagged; adds bool columns."""
    flagged = pl.col("flag").fill_null("").str.strip_chars() != ""
    suppressed = (pl.col("status") == ":").fill_null(False)
    excluded = flagged & pl.lit(exclude_flagged) & ~suppressed & pl.col("value").is_not_null()
    return (
        panel.filter(pl.col("indicator").is_in(list(ids)))
        .with_columns(
            suppressed=suppressed,
            excluded=excluded,
            small_denominator=has_flag(SMALL_DENOMINATOR),
        )
        .with_columns(
            value=pl.when(pl.col("suppressed") | pl.col("excluded")).then(None).otherwise(pl.col("value"))
        )
    )


def _names(panel: pl.DataFrame) -> pl.DataFrame:
    """kommunenr → kommune (the latest name used in the panel)."""
    return (
        panel.sort("year")
        .group_by("kommunenr")
        .agg(pl.col("kommune").drop_nulls().last())
        .with_columns(pl.col("kommune").fill_null(pl.col("kommunenr")))
    )


def _name_of(panel: pl.DataFrame, kommune: str) -> str:
    names = _names(panel.filter(pl.col("kommunenr") == kommune))
    return names["kommune"][0] if names.height else kommune


def _years_between(frame: pl.DataFrame, start: int | None, end: int | None) -> pl.DataFrame:
    """Rows with start <= year <= end (either bound may be None)."""
    if start is not None:
        frame = frame.filter(pl.col("year") >= start)
    return frame if end is None else frame.filter(pl.col("year") <= end)


def period_label(window: Window) -> str:
    """The window as text: "2016–2019", or "2019" for a one-year window."""
    return str(window[0]) if window[0] == window[1] else f"{window[0]}–{window[1]}"


# --------------------------------------------------------------------------------------------------------
# Comparison group
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonGroup:
    """The comparison kommuner (codes) and a Norwegian description for titles and text."""

    codes: tuple[str, ...]
    how: str
    description: str

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


def _resolve_group(panel: pl.DataFrame, kommune: str, group: Iterable[str]) -> list[str]:
    """The group's codes: deduplicated, without `kommune`, all present in panel; InputError when empty."""
    codes = [code for code in dict.fromkeys(group) if code != kommune]
    if not codes:
        raise InputError(
            "Sammenligningsgruppen er tom / the comparison group is empty: choose other kommuner "
            "(e.g. how='similar_size' or how='all')."
        )
    present = set(panel["kommunenr"].unique().to_list())
    unknown = [code for code in codes if code not in present]
    if unknown:
        raise InputError(
            f"Kommunenummer i sammenligningsgruppen finnes ikke i panelet / group codes not in panel: "
            f"{', '.join(unknown)}."
        )
    return codes


def comparison_group(
    panel: pl.DataFrame,
    kommune: str,
    how: str | Sequence[str] = "similar_size",
    n: int = 20,
    *,
    year: int | None = None,
    kostragruppe: Mapping[str, str] | None = None,
    indicators: Iterable[str] | None = None,
) -> ComparisonGroup:
    """Select comparison kommuner: "all", "similar_size", "kostragruppe", a name in NAMED_GROUPS, or codes.

    - "all": every other kommune with at least one value (of `indicators`, when given);
    - "similar_size": the `n` kommuner nearest in `population_80plus` in `year` (pass the last before-year;
      default: the kommune's latest year with that figure), ties broken by kommunenr;
    - "kostragruppe": the other kommuner in the kommune's KOSTRA group, from `kostragruppe`
      (kommunenr → group);
    - a key of NAMED_GROUPS, or an explicit sequence of kommunenr.
    """
    _check_panel(panel)
    _check_kommune(panel, kommune)
    name = _name_of(panel, kommune)
    if not isinstance(how, str):
        codes = _resolve_group(panel, kommune, how)
        return ComparisonGroup(tuple(codes), "list", f"{len(codes)} valgte kommuner")
    if how in NAMED_GROUPS:
        codes = _resolve_group(panel, kommune, NAMED_GROUPS[how])
        names = _names(panel).filter(pl.col("kommunenr").is_in(codes)).sort("kommune")["kommune"].to_list()
        return ComparisonGroup(tuple(codes), how, f"{how.capitalize()} ({', '.join(names)})")
    if how == "all":
        with_data = panel.filter(pl.col("value").is_not_null())
        if indicators is not None:
            with_data = with_data.filter(pl.col("indicator").is_in(catalogue.check_ids(indicators)))
        codes = _resolve_group(panel, kommune, sorted(with_data["kommunenr"].unique().to_list()))
        return ComparisonGroup(tuple(codes), how, f"Alle andre kommuner ({len(codes)})")
    if how == "similar_size":
        return _similar_size(panel, kommune, name, n, year)
    if how == "kostragruppe":
        if kostragruppe is None:
            raise InputError(
                "how='kostragruppe' trenger KOSTRA-grupperingen (KLASS 112) / needs the KOSTRA grouping: run "
                "`omsorgskapasitet fetch` to get KLASS 112 and pass it as kostragruppe={kommunenr: gruppe}."
            )
        if kommune not in kostragruppe:
            raise InputError(f"Kommunenummer {kommune} mangler i kostragruppe-tabellen / not in the mapping.")
        own_group = kostragruppe[kommune]
        present = set(panel["kommunenr"].unique().to_list())
        members = sorted(code for code, grp in kostragruppe.items() if grp == own_group and code in present)
        codes = _resolve_group(panel, kommune, members)
        return ComparisonGroup(tuple(codes), how, f"KOSTRA-gruppe {own_group} ({len(codes)} andre kommuner)")
    known = ", ".join(["all", "similar_size", "kostragruppe", *NAMED_GROUPS])
    raise InputError(f"Ukjent sammenligningsgruppe / unknown group {how!r}; use one of {known} or a list.")


def _similar_size(panel: pl.DataFrame, kommune: str, name: str, n: int, year: int | None) -> ComparisonGroup:
    """The n kommuner nearest in 80+ population; where the kommune has no population on its borders (a
    historic code on `as_reported`), nearest in home-service users 80+ instead, and the description says so."""
    if n < 1:
        raise InputError(f"n må være minst 1 / n must be >= 1, got {n}.")
    for indicator, wording in SIZE_MEASURES:
        size = _prepare(panel, [indicator], exclude_flagged=True).filter(pl.col("value").is_not_null())
        own = size.filter(pl.col("kommunenr") == kommune)
        chosen_year = year if year is not None else (int(own["year"].max()) if own.height else None)
        own = own.filter(pl.col("year") == chosen_year)
        if own.height:
            what = wording
            break
    else:
        raise InputError(
            f"{name} ({kommune}) mangler innbyggere 80+ og brukere 80+ i {year or 'panelet'} / no size measure "
            "that year: choose another year or another comparison."
        )
    target = own["value"][0]
    nearest = (
        size.filter((pl.col("year") == chosen_year) & (pl.col("kommunenr") != kommune))
        .with_columns(distance=(pl.col("value") - target).abs())
        .sort("distance", "kommunenr")
        .head(n)
    )
    codes = _resolve_group(panel, kommune, nearest["kommunenr"].to_list())
    low, high = nearest["value"].min(), nearest["value"].max()
    description = (
        f"De {len(codes)} kommunene nærmest {name} i {what} i {chosen_year} "
        f"({format_number(low, 0)}–{format_number(high, 0)}; {name}: {format_number(target, 0)})"
    )
    if indicator != SIZE_INDICATOR:
        description += "; innbyggertall mangler på disse grensene"
    return ComparisonGroup(tuple(codes), "similar_size", description)


# --------------------------------------------------------------------------------------------------------
# Window levels and changes
# --------------------------------------------------------------------------------------------------------


def _window_stats(prep: pl.DataFrame, window: Window, name: str) -> pl.DataFrame:
    return (
        prep.filter(pl.col("year").is_between(*window))
        .group_by("kommunenr", "indicator")
        .agg(
            pl.col("value").mean().alias(name),
            pl.col("value").count().cast(pl.Int32).alias(f"n_{name}"),
            pl.col("year").filter(pl.col("value").is_not_null()).cast(pl.Int32).alias(f"_years_{name}"),
            pl.col("suppressed").sum().alias(f"_suppressed_{name}"),
            pl.col("excluded").sum().alias(f"_excluded_{name}"),
            pl.col("small_denominator").any().alias(f"_small_{name}"),
        )
    )


def _changes(prep: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], before: Window, after: Window,
             names: pl.DataFrame) -> pl.DataFrame:
    """One row per (kommunenr, indicator) of codes × ids: window levels, change and diagnostics."""
    prep = prep.filter(pl.col("kommunenr").is_in(list(codes)))
    grid = pl.DataFrame({"kommunenr": list(codes)}).join(pl.DataFrame({"indicator": list(ids)}), how="cross")
    frame = grid.join(names, on="kommunenr", how="left")
    for window, name in ((before, "before"), (after, "after")):
        years = list(range(window[0], window[1] + 1))
        frame = frame.join(_window_stats(prep, window, name), on=["kommunenr", "indicator"], how="left")
        frame = frame.with_columns(
            pl.col(f"n_{name}").fill_null(0),
            pl.lit(years, dtype=pl.List(pl.Int32))
            .list.set_difference(pl.col(f"_years_{name}").fill_null(pl.lit([], dtype=pl.List(pl.Int32))))
            .list.sort()
            .alias(f"missing_{name}"),
        )
    return frame.with_columns(
        change=pl.col("after") - pl.col("before"),
        pct_change=pl.when(pl.col("before") != 0)
        .then((pl.col("after") - pl.col("before")) / pl.col("before").abs() * 100),
        n_suppressed=(pl.col("_suppressed_before").fill_null(0) + pl.col("_suppressed_after").fill_null(0))
        .cast(pl.Int32),
        n_excluded=(pl.col("_excluded_before").fill_null(0) + pl.col("_excluded_after").fill_null(0))
        .cast(pl.Int32),
        small_denominator=pl.col("_small_before").fill_null(False) | pl.col("_small_after").fill_null(False),
        period_before=pl.lit(period_label(before)),
        period_after=pl.lit(period_label(after)),
    ).select(
        "kommunenr", "kommune", "indicator", "period_before", "period_after", "before", "after", "change",
        "pct_change", "n_before", "n_after", "missing_before", "missing_after", "n_suppressed", "n_excluded",
        "small_denominator",
    )


def _notes() -> pl.Expr:
    """Norwegian notes on a row of `_changes`, joined by "; " ("" when none)."""
    parts = []
    for name, period in (("before", "førperioden"), ("after", "etterperioden")):
        missing = pl.col(f"missing_{name}")
        parts += [
            pl.when(pl.col(f"n_{name}") == 0).then(pl.format("ingen tall i {} {}", pl.lit(period),
                                                              pl.col(f"period_{name}"))),
            pl.when((pl.col(f"n_{name}") > 0) & (missing.list.len() > 0)).then(
                pl.format("mangler år i {}: {}", pl.lit(period),
                          missing.cast(pl.List(pl.String)).list.join(", "))
            ),
        ]
    parts += [
        pl.when(pl.col("n_suppressed") > 0).then(pl.format("{} skjulte celler (:, små tall)",
                                                           pl.col("n_suppressed"))),
        pl.when(pl.col("n_excluded") > 0).then(pl.format("{} flaggede verdier utelatt",
                                                         pl.col("n_excluded"))),
        pl.when(pl.col("small_denominator")).then(pl.lit("liten nevner (< 50): usikker rate")),
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join("; ").alias("notes")


@dataclass(frozen=True)
class _Context:
    """Validated inputs shared by the public functions."""

    prep: pl.DataFrame
    names: pl.DataFrame
    kommune: str
    codes: list[str]
    ids: list[str]


def _context(panel: pl.DataFrame, kommune: str, group: Iterable[str] | None, indicators: str | Iterable[str],
             exclude_flagged: bool) -> _Context:
    _check_panel(panel)
    _check_kommune(panel, kommune)
    ids = catalogue.check_ids(indicators)
    codes = _resolve_group(panel, kommune, group) if group is not None else []
    return _Context(_prepare(panel, ids, exclude_flagged), _names(panel), kommune, codes, ids)


def _own_and_members(ctx: _Context, before: Window, after: Window) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`_changes` for the kommune and for its comparison group."""
    return (_changes(ctx.prep, [ctx.kommune], ctx.ids, before, after, ctx.names),
            _changes(ctx.prep, ctx.codes, ctx.ids, before, after, ctx.names))


def _before_after(own: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """The kommune's `_changes` rows with catalogue labels and notes, in the order of `ids`."""
    return (
        own.join(catalogue.catalogue_frame(ids), on="indicator", how="left")
        .sort("order")
        .with_columns(_notes())
        .select("kommunenr", "kommune", "indicator", "label", "short_label", "unit", "domain", "decimals",
                *[c for c in own.columns if c not in ("kommunenr", "kommune", "indicator")], "notes")
    )


def before_after(
    panel: pl.DataFrame,
    kommune: str,
    indicators: str | Iterable[str],
    before: Window,
    after: Window,
    *,
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Per indicator: the kommune's mean level in each window, absolute and percent change, and notes."""
    _check_windows(before, after)
    ctx = _context(panel, kommune, None, indicators, exclude_flagged)
    return _before_after(_changes(ctx.prep, [kommune], ctx.ids, before, after, ctx.names), ctx.ids)


def _usable(stat: str) -> pl.Expr:
    """Group rows that enter statistics and rankings: a value and no small denominator."""
    return pl.col(stat).is_not_null() & ~pl.col("small_denominator")


def _group_summary(own: pl.DataFrame, members: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    usable = _usable("change")
    kommune_change = pl.col("kommune_change")
    exceeded = (
        pl.when(kommune_change < 0).then(pl.col("change") > kommune_change)
        .when(kommune_change > 0).then(pl.col("change") < kommune_change)
    )
    summary = (
        members.join(own.select("indicator", kommune_change=pl.col("change")), on="indicator", how="left")
        .group_by("indicator")
        .agg(
            kommune_change=kommune_change.first(),
            n_group=pl.len().cast(pl.Int32),
            n_used=usable.sum().cast(pl.Int32),
            n_missing=(pl.col("change").is_null() & ~pl.col("small_denominator")).sum().cast(pl.Int32),
            n_small_denominator=pl.col("small_denominator").sum().cast(pl.Int32),
            n_excluded_values=pl.col("n_excluded").sum().cast(pl.Int32),
            n_suppressed_values=pl.col("n_suppressed").sum().cast(pl.Int32),
            median_before=pl.col("before").filter(usable).median(),
            median_after=pl.col("after").filter(usable).median(),
            median_change=pl.col("change").filter(usable).median(),
            q1_change=pl.col("change").filter(usable).quantile(0.25, "linear"),
            q3_change=pl.col("change").filter(usable).quantile(0.75, "linear"),
            mean_change=pl.col("change").filter(usable).mean(),
            n_exceeded=exceeded.filter(usable).sum().cast(pl.Int32),
        )
        .with_columns(n_exceeded=pl.when(kommune_change.is_not_null() & (kommune_change != 0))
                      .then(pl.col("n_exceeded")))
    )
    note = pl.concat_list(
        pl.when(pl.col("n_missing") > 0).then(pl.format("{} kommuner uten tall i en av periodene",
                                                        pl.col("n_missing"))),
        pl.when(pl.col("n_small_denominator") > 0).then(
            pl.format("{} kommuner med liten nevner holdt utenfor", pl.col("n_small_denominator"))),
        pl.when(pl.col("n_excluded_values") > 0).then(
            pl.format("{} flaggede verdier utelatt i gruppen", pl.col("n_excluded_values"))),
        pl.when(pl.col("n_suppressed_values") > 0).then(
            pl.format("{} skjulte celler (:) i gruppen", pl.col("n_suppressed_values"))),
    ).list.drop_nulls().list.join("; ")
    return _in_order(summary.with_columns(note.alias("note")), ids)


def _in_order(frame: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """`frame` with one row per id in `ids`, in that order (missing ids as null rows)."""
    order = pl.DataFrame({"indicator": list(ids)})
    return order.join(frame, on="indicator", how="left", maintain_order="left")


def group_summary(
    panel: pl.DataFrame,
    kommune: str,
    group: Iterable[str],
    indicators: str | Iterable[str],
    before: Window,
    after: Window,
    *,
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Per indicator: the group's median and interquartile range of the change, and the kommune's rank."""
    _check_windows(before, after)
    ctx = _context(panel, kommune, group, indicators, exclude_flagged)
    own, members = _own_and_members(ctx, before, after)
    return _group_summary(own, members, ctx.ids)


# --------------------------------------------------------------------------------------------------------
# Placebo (permutation) inference, used by the DiD and the pre-trend check
# --------------------------------------------------------------------------------------------------------


def _placebo(own: pl.DataFrame, members: pl.DataFrame, stat: str) -> pl.DataFrame:
    """Each unit's `stat` minus the mean of the group's (the others', for a group member).

    Returns indicator, kommunenr, kommune, is_treated, `stat`, effect, abs_effect and rank (1 = largest
    |effect|).
    Only usable group members are included; the treated row is kept when its stat is not null.
    """
    units = pl.concat([
        own.select("indicator", "kommunenr", "kommune", pl.col(stat), is_treated=pl.lit(True)),
        members.filter(_usable(stat))
        .select("indicator", "kommunenr", "kommune", pl.col(stat), is_treated=pl.lit(False)),
    ]).filter(pl.col(stat).is_not_null())
    treated = pl.col("is_treated")
    total = pl.col(stat).filter(~treated).sum().over("indicator")
    count = (~treated).sum().over("indicator")
    effect = (
        pl.when(treated & (count > 0)).then(pl.col(stat) - total / count)
        .when(~treated & (count > 1)).then(pl.col(stat) - (total - pl.col(stat)) / (count - 1))
    )
    return (
        units.with_columns(effect=effect)
        .with_columns(abs_effect=pl.col("effect").abs())
        .with_columns(rank=pl.col("abs_effect").rank("max", descending=True).over("indicator").cast(pl.Int32))
        .sort("indicator", "effect", nulls_last=True)
    )


def _placebo_test(placebo: pl.DataFrame, stat: str, ids: Sequence[str]) -> pl.DataFrame:
    """Per indicator: effect, group_mean, n_group, n_units, rank and permutation p-value of the treated."""
    treated = pl.col("is_treated")
    treated_abs = pl.col("abs_effect").filter(treated).first()
    at_least = pl.col("abs_effect") >= treated_abs - _TOLERANCE * (1 + treated_abs)
    test = placebo.group_by("indicator").agg(
        effect=pl.col("effect").filter(treated).first(),
        group_mean=pl.col(stat).filter(~treated).mean(),
        n_group=(~treated).sum().cast(pl.Int32),
        n_units=pl.col("effect").is_not_null().sum().cast(pl.Int32),
        rank=at_least.sum().cast(pl.Int32),
    )
    testable = pl.col("effect").is_not_null() & (pl.col("n_group") > 1)
    test = test.with_columns(
        rank=pl.when(testable).then(pl.col("rank")),
        p_value=pl.when(testable).then(pl.col("rank") / pl.col("n_units")),
    )
    return _in_order(test, ids).with_columns(pl.col("n_group", "n_units").fill_null(0))


# --------------------------------------------------------------------------------------------------------
# Difference-in-differences
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DidResult:
    """DiD estimates per indicator and the placebo distribution behind their p-values."""

    estimates: pl.DataFrame
    placebo: pl.DataFrame


def _did(own: pl.DataFrame, members: pl.DataFrame, ids: Sequence[str]) -> DidResult:
    placebo = _placebo(own, members, "change")
    test = _placebo_test(placebo, "change", ids).rename({"effect": "did", "group_mean": "group_mean_change"})
    estimates = _in_order(own.select("indicator", kommune_change="change"), ids).join(
        test, on="indicator", how="left", maintain_order="left"
    )
    note = (
        pl.when(pl.col("kommune_change").is_null())
        .then(pl.lit("kommunen mangler tall i før- eller etterperioden: ingen DiD"))
        .when(pl.col("n_group") == 0).then(pl.lit("ingen kommuner i gruppen med tall: ingen DiD"))
        .when(pl.col("n_group") == 1).then(pl.lit("bare én kommune i gruppen: ingen placebotest"))
        .otherwise(pl.lit(""))
    )
    estimates = estimates.with_columns(note=note).select(
        "indicator", "kommune_change", "group_mean_change", "did", "n_group", "n_units", "rank", "p_value",
        "note",
    )
    return DidResult(estimates, placebo)


def difference_in_differences(
    panel: pl.DataFrame,
    kommune: str,
    group: Iterable[str],
    indicators: str | Iterable[str],
    before: Window,
    after: Window,
    *,
    exclude_flagged: bool = True,
) -> DidResult:
    """DiD = kommune's change − mean change of the group, with a placebo rank and permutation p-value.

    p = (units with |effect| ≥ |kommune's effect|, counting the kommune) / (units including the kommune).
    """
    _check_windows(before, after)
    ctx = _context(panel, kommune, group, indicators, exclude_flagged)
    own, members = _own_and_members(ctx, before, after)
    return _did(own, members, ctx.ids)


# --------------------------------------------------------------------------------------------------------
# Pre-trend check
# --------------------------------------------------------------------------------------------------------


def _slopes(prep: pl.DataFrame, codes: Sequence[str], ids: Sequence[str], names: pl.DataFrame,
            start: int | None, end: int) -> pl.DataFrame:
    """OLS slope per year of each kommune's series in [start, end] (null with fewer than MIN_PRE_POINTS)."""
    rows = _years_between(prep.filter(pl.col("kommunenr").is_in(list(codes))), start, end)
    has = pl.col("value").is_not_null()
    x = pl.col("year").cast(pl.Float64).filter(has)
    y = pl.col("value").filter(has)
    slopes = rows.group_by("kommunenr", "indicator").agg(
        n_years=has.sum().cast(pl.Int32),
        first_year=pl.col("year").filter(has).min(),
        small_denominator=pl.col("small_denominator").any(),
        slope=((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum(),
    )
    grid = pl.DataFrame({"kommunenr": list(codes)}).join(pl.DataFrame({"indicator": list(ids)}), how="cross")
    return (
        grid.join(names, on="kommunenr", how="left")
        .join(slopes, on=["kommunenr", "indicator"], how="left")
        .with_columns(
            pl.col("n_years").fill_null(0),
            pl.col("small_denominator").fill_null(False),
            slope=pl.when(pl.col("n_years") >= MIN_PRE_POINTS).then(pl.col("slope")),
        )
    )


def _pre_trend(ctx: _Context, pre_end: int, pre_start: int | None) -> pl.DataFrame:
    own = _slopes(ctx.prep, [ctx.kommune], ctx.ids, ctx.names, pre_start, pre_end)
    members = _slopes(ctx.prep, ctx.codes, ctx.ids, ctx.names, pre_start, pre_end)
    test = _placebo_test(_placebo(own, members, "slope"), "slope", ctx.ids)
    medians = members.filter(_usable("slope")).group_by("indicator").agg(
        group_median_slope=pl.col("slope").median()
    )
    verdict = (
        pl.when(pl.col("slope_diff").is_null() | (pl.col("n_units") < PRETREND_MIN_UNITS))
        .then(pl.lit("insufficient"))
        .when(pl.col("p_value") <= PRETREND_ALPHA + _TOLERANCE).then(pl.lit("diverging"))
        .otherwise(pl.lit("consistent"))
    )
    return (
        _in_order(own.select("indicator", pre_start="first_year", n_years="n_years", kommune_slope="slope"),
                  ctx.ids)
        .with_columns(pre_end=pl.lit(pre_end, dtype=pl.Int32))
        .join(medians, on="indicator", how="left", maintain_order="left")
        .join(test.rename({"effect": "slope_diff", "group_mean": "group_mean_slope"}), on="indicator",
              how="left", maintain_order="left")
        .with_columns(verdict=verdict)
        .with_columns(verdict_label=pl.col("verdict").replace_strict(VERDICT_LABELS))
        .select("indicator", "pre_start", "pre_end", "n_years", "kommune_slope", "group_median_slope",
                "group_mean_slope", "slope_diff", "n_group", "n_units", "rank", "p_value", "verdict",
                "verdict_label")
    )


def pre_trend(
    panel: pl.DataFrame,
    kommune: str,
    group: Iterable[str],
    indicators: str | Iterable[str],
    pre_end: int,
    *,
    pre_start: int | None = None,
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Per indicator: the kommune's pre-period slope vs the group's, with placebo rank and a verdict.

    The pre-period runs from `pre_start` (default: the start of each series) to `pre_end` (the last
    before-year). Verdict rule: see PRETREND_RULE.
    """
    return _pre_trend(_context(panel, kommune, group, indicators, exclude_flagged), pre_end, pre_start)


# --------------------------------------------------------------------------------------------------------
# Interrupted time series
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ItsResult:
    """Segmented regression on one kommune's series; estimates are None (and `reason` says why) if refused.

    Model: value = b0 + b1·(year − break) + level_change·post + slope_change·(year − break)·post, post =
    year ≥ break_year, with Newey–West (HAC) standard errors. `series` has year, value, fitted and
    counterfactual (the pre-trend extended).
    """

    kommunenr: str
    indicator: str
    break_year: int
    n_pre: int
    n_post: int
    maxlags: int
    reason: str | None = None
    level_change: float | None = None
    level_se: float | None = None
    level_ci_low: float | None = None
    level_ci_high: float | None = None
    level_p: float | None = None
    slope_change: float | None = None
    slope_se: float | None = None
    slope_p: float | None = None
    pre_slope: float | None = None
    series: pl.DataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when the model was estimated."""
        return self.reason is None


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def interrupted_time_series(
    panel: pl.DataFrame,
    kommune: str,
    indicator: str,
    break_year: int,
    *,
    start: int | None = None,
    end: int | None = None,
    maxlags: int = 1,
    exclude_flagged: bool = True,
) -> ItsResult:
    """Level and slope change at `break_year` (the first after-year) in the kommune's own series."""
    from statsmodels.regression.linear_model import OLS  # slow to import: only when needed
    ctx = _context(panel, kommune, None, indicator, exclude_flagged)
    rows = ctx.prep.filter((pl.col("kommunenr") == kommune) & pl.col("value").is_not_null())
    rows = _years_between(rows, start, end).sort("year").select("year", "value")
    years = rows["year"].to_numpy().astype(float)
    values = rows["value"].to_numpy()
    n_pre, n_post = int((years < break_year).sum()), int((years >= break_year).sum())
    base = {"kommunenr": kommune, "indicator": ctx.ids[0], "break_year": break_year, "n_pre": n_pre,
            "n_post": n_post, "maxlags": maxlags}
    if n_pre < MIN_PRE_POINTS or n_post < MIN_POST_POINTS:
        return ItsResult(**base, reason=(
            f"for få år med tall / too few points: {n_pre} før (minst {MIN_PRE_POINTS}), "
            f"{n_post} etter (minst {MIN_POST_POINTS})"
        ))
    time = years - break_year
    post = (years >= break_year).astype(float)
    design = np.column_stack([np.ones_like(time), time, post, time * post])
    # t distribution (n − 4 degrees of freedom): with ten-odd yearly points normal p-values are far too small
    fit = OLS(values, design).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags}, use_t=True)
    params, se, pvalues, ci = fit.params, fit.bse, fit.pvalues, fit.conf_int(0.05)
    series = rows.with_columns(
        fitted=pl.Series(fit.fittedvalues),
        counterfactual=pl.Series(params[0] + params[1] * time),
    )
    return ItsResult(
        **base,
        level_change=float(params[2]), level_se=_finite(se[2]), level_ci_low=_finite(ci[2][0]),
        level_ci_high=_finite(ci[2][1]), level_p=_finite(pvalues[2]),
        slope_change=float(params[3]), slope_se=_finite(se[3]), slope_p=_finite(pvalues[3]),
        pre_slope=float(params[1]), series=series,
    )


# --------------------------------------------------------------------------------------------------------
# Synthetic control (outcome-only, donors = the comparison group)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SyntheticControl:
    """A weighted mix of group kommuner tracking the kommune before `break_year`; the gap after is the effect.

    `weights`: kommunenr, kommune, weight (≥ 0, sum 1). `series`: year, kommune_value, synthetic, gap.
    `placebo`: kommunenr, kommune, is_treated, pre_rmspe, post_rmspe, ratio (post/pre RMSPE), rank. p_value
    = share of units whose ratio is at least the kommune's. Estimates are None (and `reason` says why) when
    refused.
    """

    kommunenr: str
    indicator: str
    break_year: int
    reason: str | None = None
    weights: pl.DataFrame | None = None
    series: pl.DataFrame | None = None
    pre_rmspe: float | None = None
    post_rmspe: float | None = None
    mean_gap_after: float | None = None
    placebo: pl.DataFrame | None = None
    rank: int | None = None
    p_value: float | None = None

    @property
    def ok(self) -> bool:
        """True when the synthetic control was estimated."""
        return self.reason is None


def _convex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Weights w ≥ 0 with Σw = 1 minimising |target − donors·w|² (NNLS with a heavy sum-to-one row)."""
    from scipy.optimize import nnls  # only when needed

    penalty = 1e3 * (1.0 + float(np.abs(donors).max(initial=0.0)) + float(np.abs(target).max(initial=0.0)))
    matrix = np.vstack([donors, np.full((1, donors.shape[1]), penalty)])
    weights, _ = nnls(matrix, np.append(target, penalty))
    total = weights.sum()
    return weights / total if total > 0 else np.full(donors.shape[1], 1 / donors.shape[1])


def _fit_synthetic(target: np.ndarray, donors: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, float, float]:
    weights = _convex_weights(target[pre], donors[pre])
    gap = target - donors @ weights
    pre_rmspe = float(np.sqrt(np.mean(gap[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[~pre] ** 2)))
    return weights, pre_rmspe, post_rmspe


def synthetic_control(
    panel: pl.DataFrame,
    kommune: str,
    group: Iterable[str],
    indicator: str,
    break_year: int,
    *,
    start: int | None = None,
    end: int | None = None,
    exclude_flagged: bool = True,
) -> SyntheticControl:
    """Synthetic control on the outcome alone, with in-space placebos for inference.

    Donors are the group kommuner with a value in every year the kommune has one (and no small
    denominator). The fit is only as good as `pre_rmspe` says: a kommune outside the donors' range (the
    largest, the smallest) cannot be matched by a weighted average.
    """
    ctx = _context(panel, kommune, group, indicator, exclude_flagged)
    rows = _years_between(ctx.prep, start, end)
    own = rows.filter((pl.col("kommunenr") == kommune) & pl.col("value").is_not_null()).sort("year")
    years = own["year"].to_list()
    pre = np.array([year < break_year for year in years])
    base = {"kommunenr": kommune, "indicator": ctx.ids[0], "break_year": break_year}
    if pre.sum() < MIN_PRE_POINTS or (~pre).sum() < 1:
        return SyntheticControl(**base, reason=(
            f"for få år med tall / too few points: {int(pre.sum())} før (minst {MIN_PRE_POINTS}), "
            f"{int((~pre).sum())} etter (minst 1)"
        ))
    donors = (
        rows.filter(pl.col("kommunenr").is_in(ctx.codes) & pl.col("year").is_in(years))
        .group_by("kommunenr")
        .agg(pl.col("value").sort_by("year"), small=pl.col("small_denominator").any(),
             complete=(pl.col("value").is_not_null().sum() == len(years)) & (pl.len() == len(years)))
        .filter(pl.col("complete") & ~pl.col("small"))
        .sort("kommunenr")
        .join(ctx.names, on="kommunenr", how="left", maintain_order="left")
    )
    if donors.height < 2:
        return SyntheticControl(**base, reason=(
            f"for få kommuner med tall alle år / too few complete donors: {donors.height} (minst 2)"
        ))
    target = own["value"].to_numpy()
    matrix = np.array(donors["value"].to_list(), dtype=float).T  # years × donors
    weights, pre_rmspe, post_rmspe = _fit_synthetic(target, matrix, pre)
    units = [(kommune, _name_of(panel, kommune), True, pre_rmspe, post_rmspe)]
    for j, (code, name) in enumerate(zip(donors["kommunenr"], donors["kommune"], strict=True)):
        _, placebo_pre, placebo_post = _fit_synthetic(matrix[:, j], np.delete(matrix, j, axis=1), pre)
        units.append((code, name, False, placebo_pre, placebo_post))
    placebo = pl.DataFrame(units, schema=["kommunenr", "kommune", "is_treated", "pre_rmspe", "post_rmspe"],
                           orient="row").with_columns(
        ratio=pl.when(pl.col("pre_rmspe") > 0).then(pl.col("post_rmspe") / pl.col("pre_rmspe"))
        .otherwise(float("inf"))
    ).with_columns(rank=pl.col("ratio").rank("max", descending=True).cast(pl.Int32)).sort("rank")
    treated_ratio = placebo.filter("is_treated")["ratio"][0]
    rank = int((placebo["ratio"] >= treated_ratio * (1 - _TOLERANCE)).sum())
    synthetic = matrix @ weights
    return SyntheticControl(
        **base,
        weights=donors.select("kommunenr", "kommune", weight=pl.Series(weights)).sort("weight", descending=True),
        series=own.select("year", kommune_value="value").with_columns(
            synthetic=pl.Series(synthetic), gap=pl.Series(target - synthetic)),
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        mean_gap_after=float(np.mean((target - synthetic)[~pre])),
        placebo=placebo,
        rank=rank,
        p_value=rank / placebo.height,
    )


# --------------------------------------------------------------------------------------------------------
# Frames for charts
# --------------------------------------------------------------------------------------------------------


def _series(ctx: _Context, start: int | None, end: int | None) -> pl.DataFrame:
    rows = _years_between(ctx.prep, start, end)
    usable = pl.col("value").is_not_null() & ~pl.col("small_denominator")
    group = (
        rows.filter(pl.col("kommunenr").is_in(ctx.codes) & usable)
        .group_by("indicator", "year")
        .agg(
            group_median=pl.col("value").median(),
            group_q1=pl.col("value").quantile(0.25, "linear"),
            group_q3=pl.col("value").quantile(0.75, "linear"),
            n_group=pl.len().cast(pl.Int32),
        )
    )
    own = rows.filter(pl.col("kommunenr") == ctx.kommune).select("indicator", "year", kommune_value="value")
    years = rows.select("indicator", "year").unique()
    return (
        years.join(own, on=["indicator", "year"], how="left")
        .join(group, on=["indicator", "year"], how="left")
        .join(catalogue.catalogue_frame(ctx.ids), on="indicator", how="left")
        .with_columns(
            kommunenr=pl.lit(ctx.kommune),
            kommune=pl.lit(ctx.names.filter(pl.col("kommunenr") == ctx.kommune)["kommune"][0]),
            n_group=pl.col("n_group").fill_null(0),
        )
        .sort("order", "year")
        .select("indicator", "label", "short_label", "unit", "domain", "domain_label", "decimals", "order",
                "kommunenr", "kommune", "year", "kommune_value", "group_median", "group_q1", "group_q3",
                "n_group")
    )


def series_frame(
    panel: pl.DataFrame,
    kommune: str,
    group: Iterable[str],
    indicators: str | Iterable[str],
    *,
    start: int | None = None,
    end: int | None = None,
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Per indicator and year: the kommune's value and the group's median and quartiles (for charts)."""
    return _series(_context(panel, kommune, group, indicators, exclude_flagged), start, end)


def slope_frame(before_after_frame: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Long frame for the slope chart: the kommune's and the group median's level before and after."""
    base = before_after_frame.join(summary.select("indicator", "median_before", "median_after"),
                                   on="indicator", how="left", maintain_order="left")
    keep = ["indicator", "short_label", "unit", "domain", "decimals"]
    parts = []
    sources = ((pl.col("kommune"), "before", "after"),
               (pl.lit(GROUP_MEDIAN_LABEL), "median_before", "median_after"))
    for series, before, after in sources:
        for period_order, (prefix, period, column) in enumerate(
            (("Før", "period_before", before), ("Etter", "period_after", after))
        ):
            parts.append(base.select(
                *keep,
                series=series,
                period=pl.format("{} {}", pl.lit(prefix), pl.col(period)),
                period_order=pl.lit(period_order, dtype=pl.Int32),
                value=pl.col(column),
            ))
    frame = pl.concat(parts)
    texts = [format_number(v, d) for v, d in zip(frame["value"], frame["decimals"], strict=True)]
    return frame.with_columns(value_text=pl.Series(texts, dtype=pl.String))


# --------------------------------------------------------------------------------------------------------
# Plain-language summary
# --------------------------------------------------------------------------------------------------------


def _plain_label(label: str) -> str:
    """The label without a trailing parenthesis such as "(beregnet)"."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", label)


def _sentence(row: dict, summary: dict | None, did: dict | None) -> str:
    label, decimals = _plain_label(row["label"]), row["decimals"]
    before, after, change = row["before"], row["after"], row["change"]
    if before is None or after is None:
        missing = [period for period, value in (("førperioden", before), ("etterperioden", after))
                   if value is None]
        return (f"{label}: {row['kommune']} mangler tall i {' og '.join(missing)}, "
                "så endringen kan ikke beregnes.")
    levels = (f"fra {format_number(before, decimals)} i {row['period_before']} "
              f"til {format_number(after, decimals)} i {row['period_after']}")
    shown_change = format_number(change, decimals, sign=True)
    if shown_change.lstrip("+") == format_number(0.0, decimals):
        parts = [f"{label} var omtrent uendret ({levels})"]
    else:
        parts = [f"{label} {'økte' if change > 0 else 'falt'} {levels} ({shown_change})"]
    if summary and summary["median_change"] is not None:
        parts.append("i sammenligningsgruppen endret medianen seg med "
                     f"{format_number(summary['median_change'], decimals, sign=True)}")
        if summary["n_exceeded"] is not None and summary["n_used"]:
            what = "økningen" if change > 0 else "nedgangen"
            parts.append(f"{what} er større enn i {summary['n_exceeded']} av {summary['n_used']} kommuner")
    if did and did["did"] is not None:
        text = f"forskjellen mot gruppens gjennomsnitt er {format_number(did['did'], decimals, sign=True)}"
        if did["p_value"] is not None:
            text += f" (placebo-p = {format_number(did['p_value'], 2)})"
        parts.append(text)
    return "; ".join(parts) + "."


def summary_sentences(
    before_after_frame: pl.DataFrame,
    summary: pl.DataFrame | None = None,
    did: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One plain Norwegian sentence per indicator (columns indicator, sentence) from the result frames."""
    def by_indicator(frame: pl.DataFrame | None) -> dict[str, dict]:
        return {} if frame is None else {r["indicator"]: r for r in frame.iter_rows(named=True)}

    summaries, dids = by_indicator(summary), by_indicator(did)
    rows = [
        {"indicator": row["indicator"],
         "sentence": _sentence(row, summaries.get(row["indicator"]), dids.get(row["indicator"]))}
        for row in before_after_frame.iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema={"indicator": pl.String, "sentence": pl.String})


# --------------------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Comparison:
    """All before/after results for one kommune against one group (see `compare`)."""

    kommunenr: str
    kommune: str
    group: ComparisonGroup
    before: Window
    after: Window
    before_after: pl.DataFrame
    group_changes: pl.DataFrame
    group_summary: pl.DataFrame
    did: pl.DataFrame
    placebo: pl.DataFrame
    pre_trend: pl.DataFrame
    sentences: pl.DataFrame
    series: pl.DataFrame
    slopes: pl.DataFrame


def compare(
    panel: pl.DataFrame,
    kommune: str,
    group: ComparisonGroup | Iterable[str],
    indicators: str | Iterable[str],
    before: Window,
    after: Window,
    *,
    pre_start: int | None = None,
    exclude_flagged: bool = True,
) -> Comparison:
    """Run before_after, group_summary, difference_in_differences, pre_trend, series and sentences at once."""
    _check_windows(before, after)
    if not isinstance(group, ComparisonGroup):
        codes = tuple(group)
        group = ComparisonGroup(codes, "list", f"{len(codes)} valgte kommuner")
    ctx = _context(panel, kommune, group, indicators, exclude_flagged)
    own, members = _own_and_members(ctx, before, after)
    own_rows = _before_after(own, ctx.ids)
    summary = _group_summary(own, members, ctx.ids)
    did = _did(own, members, ctx.ids)
    return Comparison(
        kommunenr=kommune,
        kommune=own_rows["kommune"][0],
        group=group,
        before=before,
        after=after,
        before_after=own_rows,
        group_changes=members,
        group_summary=summary,
        did=did.estimates,
        placebo=did.placebo,
        pre_trend=_pre_trend(ctx, before[1], pre_start),
        sentences=summary_sentences(own_rows, summary, did.estimates),
        series=_series(ctx, None, None),
        slopes=slope_frame(own_rows, summary),
    )
