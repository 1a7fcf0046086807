"""Norwegian sentences for the before/after report, written from the numbers of `helpers.analysis` only.

Rules: the verb follows the sign of the comparable change as displayed ("økte", "falt", or "var omtrent
uendret" when it rounds to zero — never next to a word for a rise or fall); the rank and the p-value come
from the same placebo statistic and are worded so they give the same number; a deviating pre-trend is named
in the indicator's own sentence; no word claims a cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from helpers.analysis import Comparison, ComparisonGroup, period_label
from helpers.present.formatting import format_number, format_percent
from helpers.present.text._inference import DID_REASONS, PRETREND_LABELS, format_p, rank_phrase
from helpers.sources.indicators import BY_ID

MATCH_WORDS = {"home_service_users_80plus_per_100_80plus": "andelen innbyggere 80+ med hjemmetjenester",
               "care_24h_per_100_80plus": "heldøgns omsorg per 100 innbyggere 80+"}
SIZE_WORDS = {"population_80plus": "antall innbyggere 80+", "home_service_users_80plus": "antall brukere av "
              "hjemmetjenester 80+"}
VARIANT_LABELS: dict[str, str] = {
    "report": "Rapportens gruppe",
    "matched_10": "10 mest like",
    "matched_20": "20 mest like",
    "matched_40": "40 mest like",
    "all_clean": "Alle med uendrede grenser",
    "all": "Alle kommuner",
    "size_20_with_reforms": "20 nærmest i størrelse, også reformkommuner",
}


def _plain(label: str) -> str:
    """The label without a trailing "(beregnet)" or similar."""
    return label.rsplit(" (", 1)[0] if label.endswith(")") else label


def unit_word(unit: str) -> str:
    """The unit of an absolute change of a rate: percentage points for shares, else the unit itself."""
    return "prosentpoeng" if unit == "prosent" else unit


def change_text(value: float | None, scale: str, unit: str, decimals: int, *, sign: bool = True) -> str:
    """A comparable change: "+12,9 %" for counts, "+1,1 prosentpoeng" / "−2,6 per 100 brukere" otherwise."""
    if scale == "pct":
        return format_percent(value, 1, sign=sign)
    return f"{format_number(value, decimals, sign=sign)} {unit_word(unit)}"


def difference_text(value: float | None, scale: str, unit: str, decimals: int) -> str:
    """A difference between two comparable changes (percentage points between two per cent changes)."""
    if scale == "pct":
        return f"{format_number(value, 1, sign=True)} prosentpoeng"
    return change_text(value, scale, unit, decimals)


def deviation_axis(scale: str, unit: str) -> str:
    """Axis title for a placebo chart of differences on the comparable scale."""
    return f"Avvik fra medianen av de andre ({'prosentpoeng' if scale == 'pct' else unit_word(unit)})"


def _direction(row: Mapping[str, Any]) -> str:
    shown = change_text(row["stat"], row["scale"], row["unit"], row["decimals"], sign=False)
    return _moved(row["stat"], shown, "var omtrent uendret")


def _moved(value: float, shown: str, unchanged: str) -> str:
    """"økte" or "falt" by the sign of `value`; `unchanged` when its text as shown has no digit but 0."""
    if not any(ch in "123456789" for ch in shown):
        return unchanged
    return "økte" if value > 0 else "falt"


def change_sentence(row: Mapping[str, Any]) -> str:
    """One sentence for one indicator (a merged row of before_after, the DiD estimates and the pre-trend)."""
    label, decimals, kommune = _plain(row["label"]), row["decimals"], row["kommune"]
    if row["before"] is None or row["after"] is None:
        missing = [w for w, v in (("førperioden", row["before"]), ("etterperioden", row["after"])) if v is None]
        return f"{label}: {kommune} mangler tall i {' og '.join(missing)}, så endringen kan ikke beregnes."
    levels = (f"fra {format_number(row['before'], decimals)} i {row['period_before']} "
              f"til {format_number(row['after'], decimals)} i {row['period_after']}")
    if row["stat"] is None:  # a per cent change from a level of 0: only the direction of the change
        direction = _moved(row["change"], format_number(row["change"], decimals), "var uendret")
        first = f"{label} {direction} ({levels})"
    elif (direction := _direction(row)) == "var omtrent uendret":
        first = f"{label} {direction} ({levels})"
    elif row["scale"] == "pct":
        absolute = format_number(row["change"], decimals, sign=True)
        first = f"{label} {direction} med {format_percent(abs(row['stat']), 1)} {levels} ({absolute})"
    else:
        first = f"{label} {direction} med {change_text(abs(row['stat']), 'abs', row['unit'], decimals, sign=False)} " \
                f"{levels}"
    parts = [first]
    if row.get("group_median_stat") is not None:
        parts.append("medianendringen i sammenligningsgruppen var "
                     + change_text(row["group_median_stat"], row["scale"], row["unit"], decimals))
    if row.get("difference") is not None:
        text = "forskjellen er " + difference_text(row["difference"], row["scale"], row["unit"], decimals)
        if row.get("p_value") is not None:
            text += (f"; {rank_phrase(row['rank'], row['n_units'])} (placebo-p = "
                     f"{format_p(row['p_value'], row['rank'], row['n_units'], row['at_floor'])})")
        parts.append(text)
    elif row.get("reason"):
        parts.append(DID_REASONS[row["reason"]])
    sentence = "; ".join(parts) + "."
    if row.get("verdict") == "deviating":
        sentence += (f" Merk: {PRETREND_LABELS['deviating']} ({row['pre_start']}–{row['pre_end']}, placebo-p = "
                     f"{format_p(row['pretrend_p'])}), så forskjellen kan speile en utvikling som startet tidligere.")
    return sentence


def indicator_rows(comparison: Comparison) -> pl.DataFrame:
    """before_after, DiD and pre-trend side by side: the rows `change_sentence` reads."""
    pre = comparison.pre_trend.select("indicator", "verdict", "pre_start", "pre_end", pretrend_p="p_value")
    return (
        comparison.before_after
        .join(comparison.did.estimates.drop("scale"), on="indicator", how="left", maintain_order="left")
        .join(pre, on="indicator", how="left", maintain_order="left")
    )


def summary_sentences(comparison: Comparison) -> list[str]:
    """One sentence per indicator, in report order."""
    return [change_sentence(row) for row in indicator_rows(comparison).iter_rows(named=True)]


def _names(codes: Any, labels: Mapping[str, str]) -> str:
    return ", ".join(sorted(labels.get(c, c) for c in codes))


def group_description(group: ComparisonGroup) -> str:
    """Who the comparison kommuner are and how they were chosen (a phrase starting in lower case)."""
    own = f"{group.name} ({group.kommune})"
    n = len(group.codes)
    if group.how in ("matched", "similar_size") and group.size_indicator:
        size = SIZE_WORDS.get(group.size_indicator, group.size_indicator)
        low, high = group.size_range or (None, None)
        sizes = (f"{size} i {group.size_year}: {format_number(low, 0)}–{format_number(high, 0)}; "
                 f"{group.name}: {format_number(group.own_size, 0)}")
        if group.how == "similar_size":
            text = f"de {n} kommunene nærmest {own} i {size} ({sizes})"
        else:
            rates = [MATCH_WORDS.get(f.split(":", 1)[1], BY_ID[f.split(":", 1)[1]].display)
                     for f in group.match_features if f.startswith("level:")]
            on = f"nivå og trend før endringen i {' og '.join(rates)}, og {size}" if rates else size
            text = f"de {n} kommunene som lignet mest på {own} før endringen ({on}; {sizes})"
    elif group.how == "all":
        text = f"alle {n} andre kommuner med tall"
    elif group.how == "naboer":
        text = f"nabokommunene med felles landgrense ({_names(group.codes, group.names)})"
        if group.unresolved_neighbours:
            text += (f"; naboområder som var flere kommuner på disse grensene, er utelatt (2024-koder "
                     f"{', '.join(group.unresolved_neighbours)})")
    elif group.how == "kostragruppe":
        text = f"KOSTRA-gruppe {group.kostragruppe} ({n} andre kommuner)"
    else:
        text = f"{n} valgte kommuner ({_names(group.codes, group.names)})"
    return text


def left_out_line(group: ComparisonGroup) -> str:
    """Which kommuner were kept out because their borders changed, and the years checked."""
    if group.reform_window is None:
        return "Kommuner med grenseendringer er ikke holdt utenfor."
    years = period_label(group.reform_window)
    if not group.left_out:
        return f"Ingen aktuelle kommuner fikk endrede grenser {years}."
    shown = ", ".join(f"{item.kommune} ({', '.join(str(y) for y in item.years)})" for item in group.left_out[:8])
    more = f" og {len(group.left_out) - 8} til" if len(group.left_out) > 8 else ""
    return (f"{len(group.left_out)} kommuner er holdt utenfor fordi grensene deres ble endret (sammenslåing eller "
            f"deling) {years}, i årene analysen bruker: {shown}{more}.")


def sensitivity_table(frame: pl.DataFrame, labels: Mapping[str, str], units: Mapping[str, tuple[str, int]]
                      ) -> pl.DataFrame:
    """Indicators as rows (with the unit of the difference), group variants as columns, cells "+1,3 (0,62)":
    the difference from the group's median change, and its placebo p in brackets."""
    cells = []
    for row in frame.iter_rows(named=True):
        unit, decimals = units[row["indicator"]]
        what = "prosentpoeng" if row["scale"] == "pct" else unit_word(unit)
        if row["difference"] is None:
            text = "–"
        else:
            shown = format_number(row["difference"], 1 if row["scale"] == "pct" else decimals, sign=True)
            text = f"{shown} ({format_p(row['p_value'], row['rank'], row['n_units'], row['at_floor'])})"
        column = f"{VARIANT_LABELS[row['variant']]} ({row['n_group_chosen']})"
        cells.append((f"{labels[row['indicator']]} ({what})", column, text))
    long = pl.DataFrame(cells, schema=["Indikator (forskjell i)", "gruppe", "celle"], orient="row")
    return long.pivot("gruppe", index="Indikator (forskjell i)", values="celle", sort_columns=False)
