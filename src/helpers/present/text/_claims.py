"""Norwegian wording for the claims audit and the programme tracker, from `analysis.claims` results only.

Indirect measures are worded as context ("forenlig med påstanden"), never as support; a measured change that
serves several claims says so; secondary sources are named as such and never mixed with SSB figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from helpers.analysis import period_label
from helpers.analysis.claims import (
    CONTEXT_LABELS,
    MEASURABILITY,
    NO_CHANGE_TOLERANCE_PCT,
    SIZE_TOLERANCE,
    UNVERIFIABLE,
    Claim,
    ClaimAssessment,
    EvidenceResult,
    Measurement,
    PeerChanges,
    PromiseResult,
    PromiseTracking,
)
from helpers.present.formatting import format_number
from helpers.present.text._compare import change_text
from helpers.sources.indicators import BY_ID

GRADE_PHRASES: dict[str, str] = {
    "match": "samme retning og omtrent samme størrelse som påstått",
    "partial": "samme retning som påstått, men en annen størrelse",
    "against": "uendret eller motsatt av det påstanden sier",
    "none": "ingen tall i årene påstanden gjelder",
}
POSITION_PHRASES: dict[str, str] = {
    "consistent": "mer enn de fleste sammenlignbare kommuner, i den retningen påstanden tilsier",
    "inconsistent": "i motsatt retning av påstanden sammenlignet med de fleste sammenlignbare kommuner",
    "unclear": "som de fleste sammenlignbare kommuner",
}
STATUS_LABELS: dict[str, str] = {
    "ahead": "foran sammenlignbare",
    "in_line": "på linje med sammenlignbare",
    "behind": "bak sammenlignbare",
    "no_peers": "ingen sammenligning",
    "no_data": "mangler data",
    "unmeasurable": "kan ikke måles",
}
MOVEMENT_LABELS: dict[int, str] = {1: "i ønsket retning", 0: "uendret", -1: "i motsatt retning"}


def _number(value: float | None) -> str:
    """Whole numbers without decimals, else 1 decimal (2 below 10)."""
    if value is None:
        return "–"
    return format_number(value, 0 if float(value).is_integer() else 2 if abs(value) < 10 else 1)


def describe_claim(claim: Claim) -> str:
    """The claimed change in words, with its numbers."""
    if not claim.quantified:
        return f"Påstand om en etablering uten tall ({claim.after.period})."
    assert claim.before is not None
    levels = [f"{_number(p.value)} {claim.unit} i {p.period}" if p.value is not None else p.period.label
              for p in (claim.before, claim.after)]
    word = "opp" if claim.direction == "up" else "ned"
    relative = claim.relative_change_pct
    size = (f"{format_number(abs(relative), 0 if float(relative).is_integer() else 1)} %" if relative is not None
            else f"{_number(abs(claim.absolute_change or 0))} {claim.unit}")
    return f"Påstått: {word} {size} ({' → '.join(levels)})."


def measured_phrase(m: Measurement) -> str:
    """"Beboere … økte med 24,3 % fra 251 (2014) til 312 (2015)": the change on the comparable scale (per cent
    for counts, the unit for rates), as the peers' change is given."""
    label = BY_ID[m.indicator].label
    if not m.has_data:
        return f"{label}: ingen tall for {period_label(m.before_window)} og {period_label(m.after_window)}"
    assert m.before is not None and m.after is not None and m.stat is not None
    decimals = 0 if float(m.before).is_integer() and float(m.after).is_integer() else 1
    shown = change_text(abs(m.stat), m.scale, BY_ID[m.indicator].unit, 1, sign=False)
    verb = "var uendret" if not any(ch in "123456789" for ch in shown) else (
        f"{'økte' if m.stat > 0 else 'falt'} med {shown}")
    return (f"{label} {verb} fra {format_number(m.before, decimals)} ({period_label(m.before_window)}) til "
            f"{format_number(m.after, decimals)} ({period_label(m.after_window)})")


def claim_title(claim: Claim) -> str:
    """A short name for a claim: its paraphrase up to the first colon, without a closing full stop."""
    return claim.paraphrase.split(":")[0].strip().rstrip(".")


def peer_phrase(m: Measurement, peers: PeerChanges | None) -> str:
    """How the comparable kommuner moved in the same years, on the comparable scale."""
    if peers is None or peers.median is None:
        return "ingen sammenlignbare kommuner med tall de samme årene"
    unit, decimals = BY_ID[m.indicator].unit, 1
    return (f"i de {peers.n} sammenlignbare kommunene var medianendringen "
            f"{change_text(peers.median, m.scale, unit, decimals)} (midterste halvdel "
            f"{change_text(peers.q1, m.scale, unit, decimals)} til {change_text(peers.q3, m.scale, unit, decimals)})")


def _evidence_sentence(item: EvidenceResult, claim: Claim, titles: Mapping[str, str]) -> str:
    m = item.measurement
    if not m.has_data:
        return f"{measured_phrase(m)}."
    text = f"{measured_phrase(m)}; {peer_phrase(m, item.peers)}"
    if item.grade is not None:
        text += f" – {GRADE_PHRASES[item.grade]}"
        if item.grade in ("match", "partial") and item.spec.size is not None:
            claimed = claim.absolute_change if item.spec.size == "absolute" else claim.relative_change_pct
            got = m.change if item.spec.size == "absolute" else m.pct_change
            if claimed is not None and got is not None:
                absolute = item.spec.size == "absolute"
                got_unit = f" {BY_ID[m.indicator].unit}" if absolute else " %"
                claimed_unit = f" {claim.unit}" if absolute else " %"
                text += (f" ({format_number(got, 0 if absolute else 1, sign=True)}{got_unit} mot påstått "
                         f"{format_number(claimed, 0 if absolute else 1, sign=True)}{claimed_unit}; toleranse "
                         f"±{format_number(SIZE_TOLERANCE * 100, 0)} %)")
    elif item.position is not None:
        text += f" – {POSITION_PHRASES[item.position]}"
    if item.shared_with:
        others = ", ".join(f"«{titles.get(c, c)}»" for c in item.shared_with)
        text += f". Den samme målte endringen brukes også for {others}, så den er ikke uavhengig belegg"
    return text + "."


def claim_reasoning(assessment: ClaimAssessment, titles: Mapping[str, str],
                    secondary: Sequence[Mapping] = ()) -> str:
    """The reasoning behind both answers for one claim (Markdown-free plain text)."""
    claim = assessment.claim
    direct = [e for e in assessment.evidence if e.spec.measure == "direct"]
    indirect = [e for e in assessment.evidence if e.spec.measure == "indirect"]
    parts = [describe_claim(claim)]
    if assessment.measurability == "direct":
        parts.append("Kan måles med offentlig statistikk (direkte mål): "
                     + " ".join(_evidence_sentence(e, claim, titles) for e in direct))
    else:
        why = claim.why_unmeasurable or "ingen offentlig statistikk måler dette"
        parts.append(f"Ingen offentlig statistikk måler påstanden direkte: {why}")
    if assessment.verdict == UNVERIFIABLE and assessment.measurability == "direct":
        parts.append("Det direkte målet har ikke tall for årene påstanden gjelder.")
    parts.append(f"Vurdering: {assessment.verdict}.")
    if indirect:
        context = CONTEXT_LABELS.get(assessment.context or "", "uten tall")
        parts.append(f"Sammenheng (indirekte mål, teller ikke i vurderingen): {context}. "
                     + " ".join(_evidence_sentence(e, claim, titles) for e in indirect))
    if secondary:
        facts = "; ".join(f"{row['indicator']} {row['year']}: {_number(row['value'])} {row['unit']} "
                          f"({row['source_title']})" for row in secondary)
        parts.append(f"Sekundærkilder (ikke SSB, ikke kontrollert mot statistikk): {facts}.")
    return " ".join(parts)


def rules_markdown() -> str:
    """The two questions of the claims scale, with the thresholds actually used (Markdown)."""
    tolerance = format_number(NO_CHANGE_TOLERANCE_PCT, 0)
    size = format_number(SIZE_TOLERANCE * 100, 0)
    return "\n".join([
        "Hver påstand får svar på to spørsmål hver for seg.",
        "",
        f"1. **Kan offentlig statistikk måle den?** *{MEASURABILITY['direct']}*: samme størrelse, enhet, periode og "
        "grenser, eller den nærmeste offisielle tellingen av den samme kapasiteten. "
        f"*{MEASURABILITY['indirect']}*: tall som bare henger sammen med påstanden. "
        f"*{MEASURABILITY['unmeasurable']}*: ingen tall.",
        "2. **Holder den?** Bare et direkte mål kan gi en dom. Nivået før og etter er gjennomsnittet av årene med "
        "tall (tall per 31.12.; en måned i første halvår regnes til året før). Verdier med kvalitetsflagg er "
        f"utelatt. En endring innenfor ±{tolerance} % regnes som uendret.",
        f"   - **støttes:** samme retning og en størrelse innenfor ±{size} % av den påståtte;",
        "   - **støttes delvis:** samme retning, men en annen størrelse, eller målene spriker;",
        "   - **støttes ikke:** uendret eller motsatt retning;",
        "   - **kan ikke etterprøves:** ikke noe direkte mål, eller ingen tall i årene påstanden gjelder.",
        "",
        "**Indirekte mål** endrer aldri dommen. De gir en linje om sammenheng, målt mot hvordan sammenlignbare "
        "kommuner beveget seg de samme årene: *forenlig med påstanden* (mer enn tre av fire sammenlignbare i den "
        "retningen påstanden tilsier), *ikke forenlig* (motsatt), ellers *blandet*. Brukes samme målte endring "
        "for flere påstander, står det ved hver av dem.",
    ])


def promise_sentence(result: PromiseResult) -> str:
    """One promise × indicator in words: the kommune's change, the peers', and the status."""
    item, m = result.item, result.measurement
    if item is None:
        return result.promise.why_unmeasurable
    label = BY_ID[item.indicator].label
    if m is None or not m.has_data:
        return f"{label}: ingen tall fra basisåret til siste år (kan ikke følges)."
    text = f"{measured_phrase(m)} – {MOVEMENT_LABELS[result.movement or 0]}; {peer_phrase(m, result.peers)}"
    text += f" – {STATUS_LABELS[result.status]}"
    if result.shared_with:
        text += f"; den samme endringen følger også {', '.join(result.shared_with)}"
    if item.relation == "proxy":
        text += " (indirekte mål: viser ikke om løftet er innfridd)"
    return text + "."


def promise_table(tracking: PromiseTracking) -> pl.DataFrame:
    """The measurable promise × indicator rows, for display."""
    rows = []
    for r in tracking.results:
        if r.item is None:
            continue
        m = r.measurement
        rows.append({
            "Løfte (omskrevet)": r.promise.paraphrase, "Indikator": BY_ID[r.item.indicator].display,
            "Mål": "direkte" if r.item.relation == "direct" else "indirekte",
            "Fra": period_label(m.before_window) if m else "–", "Til": period_label(m.after_window) if m else "–",
            "Endring": change_text(m.stat, m.scale, BY_ID[m.indicator].unit, 1) if m and m.stat is not None else "–",
            "Median sammenlignbare": change_text(r.peers.median, m.scale, BY_ID[m.indicator].unit, 1)
            if m and r.peers and r.peers.median is not None else "–",
            "Retning": MOVEMENT_LABELS.get(r.movement, "–") if r.movement is not None else "–",
            "Status": STATUS_LABELS[r.status],
        })
    return pl.DataFrame(rows)


KIND_CLAIMED, KIND_KOMMUNE, KIND_PEERS = "Påstått", "Kommunen (SSB)", "Sammenlignbare, median (SSB)"


def _measured_rows(panel: str, m: Measurement, peers: PeerChanges | None, what: str) -> list[dict]:
    years = f"{period_label(m.before_window)} → {period_label(m.after_window)}"
    label = BY_ID[m.indicator].display
    rows = []
    if m.pct_change is not None:
        rows.append({"panel": panel, "series": f"{label} ({what})", "kind": KIND_KOMMUNE, "value": m.pct_change,
                     "years": years})
    if peers is not None and peers.median_pct is not None:
        rows.append({"panel": panel, "series": f"{label}, sammenlignbare", "kind": KIND_PEERS,
                     "value": peers.median_pct, "years": years})
    return rows


def claim_chart_rows(assessments: Sequence[ClaimAssessment]) -> list[dict]:
    """Rows for `charts.change_bars`: per claim its claimed relative change and each indicator's measured one."""
    rows: list[dict] = []
    for a in assessments:
        panel = f"{claim_title(a.claim)} – {a.verdict}"
        if a.claim.relative_change_pct is not None:
            rows.append({"panel": panel, "series": "Påstått i dokumentet", "kind": KIND_CLAIMED,
                         "value": a.claim.relative_change_pct, "years": ""})
        for item in a.evidence:
            what = "direkte mål" if item.spec.measure == "direct" else "indirekte mål"
            rows += _measured_rows(panel, item.measurement, item.peers, what)
    return rows


def promise_chart_rows(tracking: PromiseTracking) -> list[dict]:
    """Rows for `charts.change_bars`: per promise and indicator the kommune's and the peers' relative change."""
    rows: list[dict] = []
    for r in tracking.results:
        if r.item is not None and r.measurement is not None:
            what = "direkte mål" if r.item.relation == "direct" else "indirekte mål"
            rows += _measured_rows(f"{r.promise.id} – {STATUS_LABELS[r.status]}", r.measurement, r.peers, what)
    return rows
