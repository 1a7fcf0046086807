"""Claims and promises held against the statistics: loading, measurement, the two-question scale, tracking."""

from helpers.analysis.claims._audit import (
    PROMISE_STATUSES,
    ClaimsAudit,
    PromiseResult,
    PromiseTracking,
    audit_claims,
    promise_status,
    track_promises,
)
from helpers.analysis.claims._load import (
    CLAIMS_DIR,
    DEFAULT_SECONDARY_CSV,
    load_claims,
    load_programme,
    load_secondary,
    secondary_for,
)
from helpers.analysis.claims._measure import Measurement, Measurer, PeerChanges
from helpers.analysis.claims._model import (
    Claim,
    ClaimedChange,
    ClaimsDocument,
    EvidenceSpec,
    Period,
    Point,
    Programme,
    Promise,
    PromiseIndicator,
    SecondaryLink,
    parse_period,
)
from helpers.analysis.claims._verdict import (
    CONTEXT_LABELS,
    MEASURABILITY,
    NO_CHANGE_TOLERANCE_PCT,
    NOT_SUPPORTED,
    PARTLY_SUPPORTED,
    SIZE_TOLERANCE,
    SUPPORTED,
    UNVERIFIABLE,
    VERDICTS,
    ClaimAssessment,
    EvidenceResult,
    assess,
    combine_grades,
    combine_positions,
    grade_direct,
    mark_shared,
    movement,
    position,
)

__all__ = [
    "CLAIMS_DIR", "CONTEXT_LABELS", "DEFAULT_SECONDARY_CSV", "MEASURABILITY", "NOT_SUPPORTED",
    "NO_CHANGE_TOLERANCE_PCT", "PARTLY_SUPPORTED", "PROMISE_STATUSES", "SIZE_TOLERANCE", "SUPPORTED",
    "UNVERIFIABLE", "VERDICTS", "Claim", "ClaimAssessment", "ClaimedChange", "ClaimsAudit", "ClaimsDocument",
    "EvidenceResult", "EvidenceSpec", "Measurement", "Measurer", "PeerChanges", "Period", "Point", "Programme",
    "Promise", "PromiseIndicator", "PromiseResult", "PromiseTracking", "SecondaryLink", "assess", "audit_claims",
    "combine_grades", "combine_positions", "grade_direct", "load_claims", "load_programme", "load_secondary",
    "mark_shared", "movement", "parse_period", "position", "promise_status", "secondary_for", "track_promises",
]  # fmt: skip
