"""The claims scale: two separate questions per claim, answered from numbers.

(a) **Can public statistics measure it?** `direct` when an evidence indicator is a direct measure (the same
quantity, unit, period and borders, or the closest official count of the same capacity), `indirect` when
only indirect ones exist, `unmeasurable` when none.

(b) **The verdict**, from direct measures only. For each direct measure with data in the claim's years:
- unchanged (relative change within ±NO_CHANGE_TOLERANCE_PCT %) or moving the other way → `against`;
- the claimed way, and the size within ±SIZE_TOLERANCE of the claimed change (relative or absolute, as the
  evidence says), or the claim states no size → `match`;
- the claimed way but another size → `partial`.
All `match` → støttes; all `against` → støttes ikke; otherwise støttes delvis. No direct measure with data →
kan ikke etterprøves.

**Indirect measures never change the verdict.** Each gives a context position against how the comparable
kommuner moved in the same years (`consistent` beyond the group's quartile in the expected direction,
`inconsistent` beyond the opposite quartile, `unclear` in between), combined into `consistent`,
`inconsistent` or `mixed`. **One change, one claim:** a measured change (indicator and years) used by
several claims is marked on each with the other claims' ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from helpers.analysis.claims._measure import Measurement, PeerChanges
from helpers.analysis.claims._model import Claim, EvidenceSpec

SUPPORTED = "støttes"
PARTLY_SUPPORTED = "støttes delvis"
NOT_SUPPORTED = "støttes ikke"
UNVERIFIABLE = "kan ikke etterprøves"
VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY_SUPPORTED, NOT_SUPPORTED, UNVERIFIABLE)
MEASURABILITY: dict[str, str] = {"direct": "direkte mål", "indirect": "indirekte mål", "unmeasurable": "ikke målbart"}
CONTEXT_LABELS: dict[str, str] = {
    "consistent": "forenlig med påstanden",
    "inconsistent": "ikke forenlig med påstanden",
    "mixed": "blandet",
}
NO_CHANGE_TOLERANCE_PCT = 2.0
SIZE_TOLERANCE = 0.5


@dataclass(frozen=True)
class EvidenceResult:
    """One evidence indicator measured for a claim: the grade (direct) or the position among peers (both)."""

    spec: EvidenceSpec
    measurement: Measurement
    peers: PeerChanges | None = None
    movement: int | None = None
    grade: str | None = None
    position: str | None = None
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimAssessment:
    """The answer to both questions for one claim, with every evidence result behind it."""

    claim: Claim
    measurability: str
    verdict: str
    context: str | None
    evidence: tuple[EvidenceResult, ...]


def movement(measured: Measurement, tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT) -> int | None:
    """+1 up, −1 down, 0 unchanged (relative change within ± tolerance); None without data."""
    if not measured.has_data:
        return None
    assert measured.change is not None
    relative = measured.pct_change
    if relative is not None:
        return 0 if abs(relative) <= tolerance_pct else (1 if relative > 0 else -1)
    return 0 if measured.change == 0 else (1 if measured.change > 0 else -1)


def grade_direct(spec: EvidenceSpec, measured: Measurement, claim: Claim,
                 size_tolerance: float = SIZE_TOLERANCE, tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT) -> str:
    """`none`, `against`, `partial` or `match` for a direct measure (see the module docstring)."""
    moved = movement(measured, tolerance_pct)
    if moved is None:
        return "none"
    if moved != (1 if spec.expected == "up" else -1):
        return "against"
    claimed = claim.absolute_change if spec.size == "absolute" else claim.relative_change_pct
    got = measured.change if spec.size == "absolute" else measured.pct_change
    if claimed is None or got is None:
        return "match" if not claim.quantified else "partial"
    return "match" if abs(got - claimed) <= size_tolerance * abs(claimed) else "partial"


def combine_grades(grades: Sequence[str]) -> str:
    """The verdict over the grades of the direct measures."""
    graded = [grade for grade in grades if grade != "none"]
    if not graded:
        return UNVERIFIABLE
    if all(grade == "match" for grade in graded):
        return SUPPORTED
    if all(grade == "against" for grade in graded):
        return NOT_SUPPORTED
    return PARTLY_SUPPORTED


def position(expected: str, measured: Measurement, peers: PeerChanges | None) -> str | None:
    """Where the kommune's comparable change lies among the peers', seen from the claim's direction."""
    if not measured.has_data or peers is None or peers.q1 is None or peers.q3 is None or measured.stat is None:
        return None
    sign = 1 if expected == "up" else -1
    low, high = sorted((sign * peers.q1, sign * peers.q3))
    own = sign * measured.stat
    if own > high:
        return "consistent"
    if own < low:
        return "inconsistent"
    return "unclear"


def combine_positions(positions: Sequence[str | None]) -> str | None:
    """The context line over the indirect measures: consistent, inconsistent or mixed (None without data)."""
    known = [p for p in positions if p is not None]
    if not known:
        return None
    if all(p == "consistent" for p in known):
        return "consistent"
    if all(p == "inconsistent" for p in known):
        return "inconsistent"
    return "mixed"


def assess(claim: Claim, evidence: Sequence[EvidenceResult]) -> ClaimAssessment:
    """Both questions for one claim from its measured evidence (pure: no data access)."""
    graded = []
    for item in evidence:
        grade = grade_direct(item.spec, item.measurement, claim) if item.spec.measure == "direct" else None
        graded.append(replace(item, movement=movement(item.measurement), grade=grade,
                              position=position(item.spec.expected, item.measurement, item.peers)))
    kinds = {item.spec.measure for item in graded}
    measurability = "direct" if "direct" in kinds else "indirect" if kinds else "unmeasurable"
    verdict = combine_grades([item.grade for item in graded if item.grade is not None])
    context = combine_positions([item.position for item in graded if item.spec.measure == "indirect"])
    return ClaimAssessment(claim, measurability, verdict, context, tuple(graded))


def mark_shared(assessments: Sequence[ClaimAssessment]) -> list[ClaimAssessment]:
    """Each evidence result with the ids of the other claims that use the same measured change."""
    users: dict[tuple, list[str]] = defaultdict(list)
    for assessment in assessments:
        for item in assessment.evidence:
            if item.measurement.has_data and assessment.claim.id not in users[item.measurement.key]:
                users[item.measurement.key].append(assessment.claim.id)
    out = []
    for assessment in assessments:
        evidence = tuple(
            replace(item, shared_with=tuple(c for c in users[item.measurement.key] if c != assessment.claim.id))
            for item in assessment.evidence
        )
        out.append(replace(assessment, evidence=evidence))
    return out
