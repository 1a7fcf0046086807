"""Comparison groups: which kommuner show what happened elsewhere in the same years.

Rules, in this order:
1. **Candidates** are the other kommuner of the panel's structure (on `as_reported`: the codes valid in the
   last before-year, so old Asker 0220 is compared with kommuner as they were then).
2. **Reform-clean.** By default a candidate whose borders were merged or split inside the analysis years
   (`Reforms.borders_changed`, first pre-year to last after-year) is left out: it went through the same kind
   of change as a merged kommune, so it cannot show what would have happened without one. New numbers on
   the same borders do not count. Every left-out kommune is kept with the years of its change.
3. **Selection** (`how`):
   - `matched` (default): the `n` nearest on the pre-period — the level (before window) and trend (pre-period)
     of the 80+ coverage rates in MATCH_RATES, and the size (log of inhabitants 80+) in the last before-year;
     each feature is standardised over the candidates and the kommune, and the distance is Euclidean.
     Features the kommune lacks are dropped (the group says which were used);
   - `similar_size`: the `n` nearest in inhabitants 80+ alone (users 80+ where no population exists);
   - `all`: every candidate with data in both windows;
   - `naboer`: the kommuner sharing a land border (`helpers.table.neighbours`, from the 2024 map); for a code of
     another structure, the neighbours of its land when that land is whole 2024 kommuner, mapped back onto
     the panel's codes (otherwise refused: the map has no older borders);
   - `kostragruppe`: the kommune's KOSTRA group (a mapping passed in);
   - a sequence of codes.
Ties are broken by kommunenr. The result holds numbers and codes only; `helpers.present.text` describes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from helpers.analysis._memo import per_panel
from helpers.analysis._panel import Window, check_kommune_in_panel, check_panel, names, prepared
from helpers.analysis._windows import slopes
from helpers.errors import InputError
from helpers.group_choices import GROUP_CHOICES
from helpers.sources.schema import AS_REPORTED
from helpers.table.neighbours import TOPOLOGY_YEAR, land_neighbours, land_neighbours_via_2024
from helpers.table.reforms import Reforms

DEFAULT_GROUP = "matched"
DEFAULT_N = 20
SIZE_INDICATOR = "population_80plus"
SIZE_MEASURES: tuple[str, ...] = (SIZE_INDICATOR, "home_service_users_80plus")
MATCH_RATES: tuple[str, ...] = ("home_service_users_80plus_per_100_80plus", "care_24h_per_100_80plus")
MIN_TREND_YEARS = 3


@dataclass(frozen=True)
class LeftOut:
    """A candidate kept out of the group because its borders changed in `years`."""

    kommunenr: str
    kommune: str
    years: tuple[int, ...]


@dataclass(frozen=True)
class ComparisonGroup:
    """The comparison kommuner and how they were chosen (numbers and codes; no prose)."""

    kommune: str
    name: str
    codes: tuple[str, ...]
    how: str
    reform_window: Window | None = None
    left_out: tuple[LeftOut, ...] = ()
    n_requested: int | None = None
    size_indicator: str | None = None
    size_year: int | None = None
    own_size: float | None = None
    size_range: tuple[float, float] | None = None
    match_features: tuple[str, ...] = ()
    n_without_features: int = 0
    kostragruppe: str | None = None
    unresolved_neighbours: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


def code_year(panel: pl.DataFrame, before: Window) -> int:
    """The year whose codes the panel uses: its structure year, or the last before-year on `as_reported`."""
    structure = panel["structure"][0]
    return before[1] if structure == AS_REPORTED else int(structure)


def codes_on_structure(reforms: Reforms, codes: Iterable[str], structure: str, year: int) -> list[str]:
    """Current or historic codes as codes of the analysed structure (on `as_reported`: those valid in `year`,
    e.g. 3201 Bærum → 0219 for 2013)."""
    target_year = year if structure == AS_REPORTED else int(structure)
    out: list[str] = []
    for code in codes:
        known = next((y for y in range(reforms.latest_year, 2006, -1) if code in reforms.valid_codes(y)), None)
        if known is None:
            raise InputError(f"Ukjent kommunenummer / unknown kommune code {code!r} in the comparison group.")
        out.extend(c for c in sorted(reforms.successors(code, known, target_year)) if c not in out)
    return out


def _neighbours(panel: pl.DataFrame, kommune: str, year: int, reforms: Reforms) -> tuple[list[str], list[str]]:
    """The land neighbours of `kommune` as codes of the panel's structure, and the 2024 neighbours left out
    because their land was several kommuner then (the map cannot tell which of them border)."""
    structure = panel["structure"][0]
    if structure == str(TOPOLOGY_YEAR):
        return list(land_neighbours(kommune)), []
    around = land_neighbours_via_2024(kommune, year, reforms)
    if around is None:
        raise InputError(
            f"comparison='naboer' kan ikke brukes for {kommune} på strukturen {structure!r}: området er ikke hele "
            f"{TOPOLOGY_YEAR}-kommuner, og kartet har ikke eldre grenser / its land is not a union of "
            f"{TOPOLOGY_YEAR} kommuner; give the neighbours as a list of codes, or use another comparison."
        )
    kept, unresolved = [], []
    for code in around:
        then = codes_on_structure(reforms, [code], structure, year)
        (kept if len(then) == 1 else unresolved).extend(then if len(then) == 1 else [code])
    return [c for c in kept if c != kommune], unresolved


@per_panel
def _with_data(panel: pl.DataFrame, indicators: tuple[str, ...], before: Window, after: Window) -> frozenset[str]:
    """Codes with a usable value in both windows (for one of `indicators`; all when empty)."""
    ids = indicators or tuple(panel["indicator"].unique().to_list())
    rows = prepared(panel, ids).filter(pl.col("value").is_not_null())
    in_before = set(rows.filter(pl.col("year").is_between(*before))["kommunenr"].to_list())
    return frozenset(in_before & set(rows.filter(pl.col("year").is_between(*after))["kommunenr"].to_list()))


def _reform_split(reforms: Reforms, codes: Sequence[str], year: int, window: Window,
                  labels: Mapping[str, str]) -> tuple[list[str], list[LeftOut]]:
    kept, left_out = [], []
    for code in codes:
        changed = reforms.borders_changed(code, year, window[0], window[1]) if code in reforms.names else ()
        if changed:
            left_out.append(LeftOut(code, labels.get(code, code), changed))
        else:
            kept.append(code)
    return kept, left_out


def _features(panel: pl.DataFrame, codes: Sequence[str], before: Window, pre: Window,
              with_rates: bool) -> tuple[pl.DataFrame, str]:
    """One row per code: size (log 80+), and the level and trend of each match rate; the size indicator used."""
    every, size_indicator = _all_features(panel, before, pre, with_rates)
    frame = pl.DataFrame({"kommunenr": list(codes)}, schema={"kommunenr": pl.String})
    return frame.join(every, on="kommunenr", how="left", maintain_order="left"), size_indicator


def codes_without_size(panel: pl.DataFrame, before: Window) -> list[str]:
    """Codes of the panel with no size measure in the last before-year: every group selection refuses them."""
    every, _ = _all_features(panel, before, before, False)
    return sorted(every.filter(pl.col("size").is_null())["kommunenr"].to_list())


@per_panel
def _all_features(panel: pl.DataFrame, before: Window, pre: Window, with_rates: bool) -> tuple[pl.DataFrame, str]:
    """`_features` of every code in the panel (each code's features depend on its own rows only)."""
    codes = panel["kommunenr"].unique(maintain_order=True).to_list()
    prep = prepared(panel, (*SIZE_MEASURES, *MATCH_RATES))
    at_end = prep.filter(pl.col("year") == before[1], pl.col("value") > 0)
    size_indicator = next((i for i in SIZE_MEASURES if at_end.filter(pl.col("indicator") == i).height), SIZE_INDICATOR)
    frame = pl.DataFrame({"kommunenr": list(codes)}, schema={"kommunenr": pl.String}).join(
        at_end.filter(pl.col("indicator") == size_indicator).select("kommunenr", size=pl.col("value")),
        on="kommunenr", how="left")
    if with_rates:
        rates = prep.filter(pl.col("indicator").is_in(MATCH_RATES))
        level = (rates.filter(pl.col("year").is_between(*before)).group_by("kommunenr", "indicator")
                 .agg(pl.col("value").mean()).pivot("indicator", index="kommunenr", values="value"))
        trend = (slopes(rates, codes, MATCH_RATES, pre, names(panel), min_years=MIN_TREND_YEARS)
                 .pivot("indicator", index="kommunenr", values="slope"))
        # the features in MATCH_RATES order (a pivot lists them in the order the group-by met them, which
        # varies between runs): their order is the order of the distance's sum and of the report's words
        frame = (frame.join(level.select("kommunenr", *[pl.col(r).alias(f"level:{r}") for r in MATCH_RATES
                                                        if r in level.columns]), on="kommunenr", how="left")
                 .join(trend.select("kommunenr", *[pl.col(r).alias(f"trend:{r}") for r in MATCH_RATES
                                                   if r in trend.columns]), on="kommunenr", how="left"))
    return frame, size_indicator


def _nearest(panel: pl.DataFrame, kommune: str, candidates: Sequence[str], n: int, before: Window, pre: Window,
             matched: bool) -> tuple[list[str], dict]:
    ranked, own_size, size_indicator, features, n_complete = _ranking(panel, kommune, tuple(candidates), before,
                                                                      pre, matched)
    ranked = ranked.head(n)
    exp_size = [math.exp(v) for v in ranked["size"].to_list()]
    info = {
        "size_indicator": size_indicator, "size_year": before[1], "own_size": math.exp(own_size),
        "size_range": (min(exp_size), max(exp_size)) if exp_size else None,
        "match_features": tuple(f if f != "size" else f"size:{size_indicator}" for f in features),
        "n_without_features": len(candidates) - (n_complete - 1),
    }
    return ranked["kommunenr"].to_list(), info


@per_panel
def _ranking(panel: pl.DataFrame, kommune: str, candidates: tuple[str, ...], before: Window, pre: Window,
             matched: bool) -> tuple[pl.DataFrame, float, str, list[str], int]:
    """Every candidate with features, nearest first (the groups of 10, 20 and 40 are its first rows), the
    kommune's log size, the size indicator, the features used and how many rows had them all."""
    frame, size_indicator = _features(panel, [kommune, *candidates], before, pre, with_rates=matched)
    frame = frame.with_columns(size=pl.col("size").log())
    own = frame.filter(pl.col("kommunenr") == kommune).row(0, named=True)
    if own["size"] is None:
        raise InputError(
            f"{kommune} mangler innbyggere 80+ og brukere 80+ i {before[1]} / no size measure in the last "
            "before-year: choose other years or another comparison."
        )
    features = ["size", *[c for c in frame.columns if ":" in c and own.get(c) is not None]]
    complete = frame.drop_nulls(features)
    distance = pl.sum_horizontal([
        ((pl.col(f) - own[f]) / (pl.col(f).std() if complete.height > 2 else 1.0)).fill_nan(0.0) ** 2
        for f in features
    ]).sqrt()
    ranked = (complete.filter(pl.col("kommunenr") != kommune).with_columns(distance=distance)
              .sort("distance", "kommunenr"))
    return ranked, own["size"], size_indicator, features, complete.height


def select_group(
    panel: pl.DataFrame,
    kommune: str,
    how: str | Sequence[str] = DEFAULT_GROUP,
    *,
    before: Window,
    after: Window,
    pre_start: int | None = None,
    reforms: Reforms,
    n: int = DEFAULT_N,
    reform_clean: bool = True,
    indicators: Sequence[str] | None = None,
    kostragruppe: Mapping[str, str] | None = None,
) -> ComparisonGroup:
    """The comparison group for `kommune` in `panel` (one structure); see the module docstring."""
    check_panel(panel)
    check_kommune_in_panel(panel, kommune)
    if n < 1:
        raise InputError(f"n må være minst 1 / n must be >= 1, got {n}.")
    labels = dict(names(panel).iter_rows())
    year = code_year(panel, before)
    pre = (pre_start if pre_start is not None else before[0], before[1])
    window = (pre[0], after[1])
    present = set(panel["kommunenr"].unique().to_list())
    extra: dict = {}
    if not isinstance(how, str):
        wanted = [c for c in dict.fromkeys(how) if c != kommune]
        unknown = [c for c in wanted if c not in present]
        if unknown:
            raise InputError(f"Kommunenummer i sammenligningsgruppen finnes ikke i panelet / group codes not in "
                             f"panel: {', '.join(unknown)}.")
        pool, label = wanted, "list"
    elif how == "naboer":
        found, unresolved = _neighbours(panel, kommune, year, reforms)
        extra["unresolved_neighbours"] = tuple(unresolved)
        pool, label = [c for c in found if c in present], how
    elif how == "kostragruppe":
        if kostragruppe is None or kommune not in kostragruppe:
            raise InputError(
                "how='kostragruppe' trenger KOSTRA-grupperingen (KLASS 112) / needs the KOSTRA grouping: run "
                "`python -m helpers fetch` to get KLASS 112, or use another comparison."
            )
        extra["kostragruppe"] = kostragruppe[kommune]
        pool = sorted(c for c, g in kostragruppe.items() if g == extra["kostragruppe"] and c in present)
        label = how
    elif how in ("matched", "similar_size", "all"):
        valid = reforms.valid_codes(min(year, reforms.latest_year))
        pool, label = sorted(c for c in present if c in valid), how
    else:
        raise InputError(f"Ukjent sammenligningsgruppe / unknown group {how!r}; use one of "
                         f"{', '.join(GROUP_CHOICES)} or a list of codes.")
    with_data = _with_data(panel, tuple(indicators or ()), before, after)
    pool = [c for c in pool if c != kommune and c in with_data]
    left_out: list[LeftOut] = []
    if reform_clean:
        pool, left_out = _reform_split(reforms, pool, year, window, labels)
    if label in ("matched", "similar_size"):
        pool, info = _nearest(panel, kommune, pool, n, before, pre, matched=label == "matched")
        extra.update(info, n_requested=n)
    if not pool:
        raise InputError(
            "Sammenligningsgruppen er tom / the comparison group is empty (no kommune with data"
            + (" and unchanged borders" if reform_clean else "") + "): choose another comparison, e.g. 'all'."
        )
    return ComparisonGroup(
        kommune=kommune, name=labels.get(kommune, kommune), codes=tuple(pool), how=label,
        reform_window=window if reform_clean else None, left_out=tuple(left_out),
        names={c: labels.get(c, c) for c in pool}, **extra,
    )
