"""Hold a claims document or a programme against the indicator table: measurements, peers and verdicts.

The comparable kommuner come from the before/after report's group rule (`select_group`: reform-clean,
matched on the pre-period by default), on the document's own structure and years.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl

from helpers.analysis._groups import DEFAULT_GROUP, DEFAULT_N, ComparisonGroup, select_group
from helpers.analysis._panel import Window, check_kommune
from helpers.analysis.claims._measure import Measurement, Measurer, PeerChanges
from helpers.analysis.claims._model import ClaimsDocument, Programme, Promise, PromiseIndicator
from helpers.analysis.claims._verdict import ClaimAssessment, EvidenceResult, assess, mark_shared, movement
from helpers.errors import InputError
from helpers.table.reforms import FIRST_DATA_YEAR, Reforms

PRE_YEARS = 4
PROMISE_STATUSES: tuple[str, ...] = ("ahead", "in_line", "behind", "no_peers", "no_data", "unmeasurable")


def _group(measurer: Measurer, kommune: str, how: str | Sequence[str], n: int, before: Window, after: Window,
           reforms: Reforms, indicators: Sequence[str]) -> ComparisonGroup:
    pre_start = max(FIRST_DATA_YEAR, before[0] - PRE_YEARS)
    return select_group(measurer.panel, kommune, how, before=before, after=after, pre_start=pre_start,
                        reforms=reforms, n=n, indicators=list(indicators) or None)


@dataclass(frozen=True)
class ClaimsAudit:
    """Every claim of a document assessed for one kommune, with the comparison group used for context."""

    document: ClaimsDocument
    kommune: str
    group: ComparisonGroup | None
    assessments: tuple[ClaimAssessment, ...]

    def summary(self) -> pl.DataFrame:
        """One row per claim: id, topic, paraphrase, measurability, verdict, context."""
        return pl.DataFrame(
            [(a.claim.id, a.claim.topic, a.claim.paraphrase, a.measurability, a.verdict, a.context)
             for a in self.assessments],
            schema=["id", "topic", "paraphrase", "measurability", "verdict", "context"], orient="row")

    def detail(self) -> pl.DataFrame:
        """One row per claim and evidence indicator, with the measurement, the peers and the grade."""
        rows = []
        for a in self.assessments:
            for item in a.evidence:
                m, peers = item.measurement, item.peers or PeerChanges(0, None, None, None)
                rows.append({
                    "id": a.claim.id, "indicator": m.indicator, "measure": item.spec.measure,
                    "expected": item.spec.expected, "before_first": m.before_window[0],
                    "before_last": m.before_window[1], "after_first": m.after_window[0],
                    "after_last": m.after_window[1], "before": m.before, "after": m.after, "change": m.change,
                    "pct_change": m.pct_change, "stat": m.stat, "scale": m.scale, "peer_median": peers.median,
                    "peer_q1": peers.q1, "peer_q3": peers.q3, "n_peers": peers.n, "grade": item.grade,
                    "position": item.position, "shared_with": list(item.shared_with),
                })
        return pl.DataFrame(rows, infer_schema_length=None)


def _document_windows(document: ClaimsDocument, kommune: str) -> tuple[Window, Window]:
    windows = [claim.windows() for claim in document.claims if claim.kommune == kommune]
    after = (min(w[1][0] for w in windows), max(w[1][1] for w in windows))
    before = (min(w[0][0] for w in windows), min(max(w[0][1] for w in windows), after[0] - 1))
    return before, after


def audit_claims(document: ClaimsDocument, table: pl.DataFrame, *, reforms: Reforms, kommune: str | None = None,
                 comparison: str | Sequence[str] = DEFAULT_GROUP, n: int = DEFAULT_N,
                 exclude_flagged: bool = True) -> ClaimsAudit:
    """Measure and assess the claims about `kommune` (default: the document's) on the document's structure."""
    kommune = check_kommune(kommune or document.kommune, table, document.structure)
    claims = [claim for claim in document.claims if claim.kommune == kommune]
    if not claims:
        about = ", ".join(sorted({claim.kommune for claim in document.claims}))
        raise InputError(f"Ingen påstander i {document.path.name} gjelder kommune {kommune}; de gjelder {about} / "
                         f"no claims about {kommune} in this file.")
    measurer = Measurer(table, document.structure, exclude_flagged)
    indicators = sorted({spec.indicator for claim in claims for spec in claim.evidence})
    group = None
    if indicators:
        group = _group(measurer, kommune, comparison, n, *_document_windows(document, kommune), reforms, indicators)
    assessments = []
    for claim in claims:
        before, after = claim.windows()
        evidence = [
            EvidenceResult(spec, measurer.measure(kommune, spec.indicator, before, after),
                           None if group is None else measurer.peers(group.codes, spec.indicator, before, after))
            for spec in claim.evidence
        ]
        assessments.append(assess(claim, evidence))
    return ClaimsAudit(document, kommune, group, tuple(mark_shared(assessments)))


@dataclass(frozen=True)
class PromiseResult:
    """One promise × indicator (or one row for a promise without indicators)."""

    promise: Promise
    item: PromiseIndicator | None
    measurement: Measurement | None = None
    peers: PeerChanges | None = None
    movement: int | None = None
    status: str = "unmeasurable"
    shared_with: tuple[str, ...] = ()


def promise_status(wanted: str, measured: Measurement | None, peers: PeerChanges | None) -> str:
    """Ahead of, in line with or behind the comparable kommuner in the wanted direction (their quartiles)."""
    if measured is None or not measured.has_data or measured.stat is None:
        return "no_data"
    if peers is None or peers.q1 is None or peers.q3 is None:
        return "no_peers"
    sign = 1 if wanted == "up" else -1
    low, high = sorted((sign * peers.q1, sign * peers.q3))
    own = sign * measured.stat
    return "ahead" if own > high else "behind" if own < low else "in_line"


@dataclass(frozen=True)
class PromiseTracking:
    """A programme's promises followed from a baseline year, against the comparable kommuner."""

    programme: Programme
    kommune: str
    baseline_year: int
    group: ComparisonGroup | None
    results: tuple[PromiseResult, ...]


def track_promises(programme: Programme, table: pl.DataFrame, *, baseline_year: int, reforms: Reforms,
                   kommune: str | None = None, comparison: str | Sequence[str] = DEFAULT_GROUP, n: int = DEFAULT_N,
                   exclude_flagged: bool = True) -> PromiseTracking:
    """Each promise's indicators from the baseline (the mean of `baseline_year` and the year before, by the
    window rule) to the end (the kommune's latest year with data and the year before)."""
    kommune = check_kommune(kommune or programme.kommune, table, programme.structure)
    measurer = Measurer(table, programme.structure, exclude_flagged)
    items = [(p, i) for p in programme.promises for i in p.indicators]
    latest = {i.indicator: measurer.latest_year(kommune, i.indicator) for _, i in items}
    ends = [year for year in latest.values() if year is not None and year > baseline_year]
    group = None
    if ends:
        group = _group(measurer, kommune, comparison, n, (baseline_year - 1, baseline_year),
                       (max(ends) - 1, max(ends)), reforms, sorted(latest))
    results = []
    for promise in programme.promises:
        if not promise.indicators:
            results.append(PromiseResult(promise, None))
            continue
        for item in promise.indicators:
            end = latest[item.indicator]
            if end is None or end - 1 <= baseline_year:
                results.append(PromiseResult(promise, item, status="no_data"))
                continue
            windows = ((baseline_year - 1, baseline_year), (end - 1, end))
            measured = measurer.measure(kommune, item.indicator, *windows)
            peers = None if group is None else measurer.peers(group.codes, item.indicator, *windows)
            results.append(PromiseResult(promise, item, measured, peers, movement(measured),
                                         promise_status(item.wanted, measured, peers)))
    users: dict[tuple, list[str]] = {}
    for r in results:
        if r.measurement is not None and r.measurement.has_data:
            users.setdefault(r.measurement.key, []).append(r.promise.id)
    results = [r if r.measurement is None else replace(r, shared_with=tuple(
        p for p in users.get(r.measurement.key, []) if p != r.promise.id)) for r in results]
    return PromiseTracking(programme, kommune, baseline_year, group, tuple(results))
