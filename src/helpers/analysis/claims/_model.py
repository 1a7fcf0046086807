"""Claims and promises as data: the records read from the YAML files, their vocabularies and periods."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN_UNITS: tuple[str, ...] = (
    "personer", "pasienter", "døgn", "boliger", "plasser", "årsverk", "timer", "timer per uke", "prosent", "kroner",
)  # fmt: skip
TOPICS: tuple[str, ...] = (
    "sykehjem", "heldøgnsomsorg", "hjemmesykepleie", "utskrivningsklare", "psykisk_helse", "utviklingshemmede",
    "omsorgsboliger", "akuttplasser", "bemanning", "velferdsteknologi", "avlastning",
)  # fmt: skip
DIRECTIONS: tuple[str, ...] = ("up", "down")
PROMISE_DIRECTIONS: tuple[str, ...] = ("up", "down", "zero")
MEASURES: tuple[str, ...] = ("direct", "indirect")
SIZE_COMPARISONS: tuple[str, ...] = ("relative", "absolute")
RELATIONS: tuple[str, ...] = ("direct", "proxy")
CHANGE_KINDS: tuple[str, ...] = ("percent", "absolute")
CLAIM_TYPES: tuple[str, ...] = ("change", "establishment")
PROMISE_TYPES: tuple[str, ...] = ("lovnad", "maal")
SCHEMA_VERSION = 2

MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
    "desember",
)  # fmt: skip
_YEAR = re.compile(r"^([0-9]{4})$")
_RANGE = re.compile(r"^([0-9]{4})\s*[-–]\s*([0-9]{4})$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True)
class Period:
    """A claimed period: a year, a range of years or a month. ``start``/``end`` are (year, month)."""

    text: str
    start: tuple[int, int]
    end: tuple[int, int]
    report_years: tuple[int, ...]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """Norwegian display: "2014", "2012–2014", "januar 2012"."""
        if self.start == self.end:
            return f"{MONTHS[self.start[1] - 1]} {self.start[0]}"
        if self.start[0] == self.end[0]:
            return str(self.start[0])
        return f"{self.start[0]}–{self.end[0]}"

    @property
    def window(self) -> tuple[int, int]:
        """The report years as a (first, last) window."""
        return min(self.report_years), max(self.report_years)


def parse_period(value: object) -> Period:
    """Parse "2014", 2014, "2012-2014" or "2012-01"; ValueError with the reason otherwise.

    KOSTRA counts are per 31 December, so a month in January–June is nearer the previous year's count
    ("2012-01" → report year 2011) and a month in July–December belongs to its own year.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected a year, a year range or a month as text, got {value!r}")
    text = str(value).strip()
    if match := _YEAR.match(text):
        year = int(match.group(1))
        return Period(text, (year, 1), (year, 12), (year,))
    if match := _RANGE.match(text):
        first, last = int(match.group(1)), int(match.group(2))
        if first > last:
            raise ValueError(f"year range {text!r} runs backwards")
        return Period(text, (first, 1), (last, 12), tuple(range(first, last + 1)))
    if match := _MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} in {text!r} is not 01–12")
        return Period(text, (year, month), (year, month), (year - 1 if month <= 6 else year,))
    raise ValueError(f"{text!r} is not a year (2014), a year range (2012-2014) or a month (2012-01)")


@dataclass(frozen=True)
class Point:
    """A claimed level: value (None when the document gives none) in a period."""

    value: float | None
    period: Period


@dataclass(frozen=True)
class ClaimedChange:
    """A change stated as such: `kind` percent or absolute, with its sign."""

    kind: str
    value: float


@dataclass(frozen=True)
class EvidenceSpec:
    """A catalogue indicator that bears on a claim: a *direct* measure (the same quantity, or the closest
    official count of the same capacity, compared by `size` relative or absolute) or an *indirect* one (only
    context), and the way it should move if the claim holds."""

    indicator: str
    measure: str
    expected: str
    size: str | None = None
    note: str = ""


@dataclass(frozen=True)
class SecondaryLink:
    """A row of the secondary-facts file, by (kommunenummer, year, indicator)."""

    kommunenummer: str
    year: int
    indicator: str
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of a document, with what would measure it."""

    id: str
    paraphrase: str
    topic: str
    kommune: str
    quantified: bool
    claim_type: str
    before: Point | None
    after: Point
    claimed_change: ClaimedChange | None
    unit: str
    direction: str
    source: Mapping[str, Any]
    evidence: tuple[EvidenceSpec, ...] = ()
    why_unmeasurable: str = ""
    secondary_evidence: tuple[SecondaryLink, ...] = ()
    note: str = ""

    @property
    def relative_change_pct(self) -> float | None:
        """The claimed relative change in %: as stated, or from before/after values."""
        if self.claimed_change is not None and self.claimed_change.kind == "percent":
            return self.claimed_change.value
        if self.before is not None and self.before.value not in (None, 0) and self.after.value is not None:
            return (self.after.value - self.before.value) / self.before.value * 100.0
        return None

    @property
    def absolute_change(self) -> float | None:
        """The claimed absolute change in the claim's unit: as stated, or after − before."""
        if self.claimed_change is not None and self.claimed_change.kind == "absolute":
            return self.claimed_change.value
        if self.before is not None and self.before.value is not None and self.after.value is not None:
            return self.after.value - self.before.value
        return None

    def windows(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Report-year windows of the before- and after-period (before defaults to the year before `after`)."""
        after = self.after.period.window
        before = self.before.period.window if self.before is not None else (after[0] - 1, after[0] - 1)
        return before, after


@dataclass(frozen=True)
class ClaimsDocument:
    """A claims file: the document, the kommune and structure its figures are on, and its claims."""

    path: Path
    document: Mapping[str, Any]
    kommune: str
    structure: str
    claims: tuple[Claim, ...]
    not_included: tuple[Mapping[str, Any], ...] = ()

    def get(self, claim_id: str) -> Claim:
        """The claim with this id (KeyError otherwise)."""
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


@dataclass(frozen=True)
class PromiseIndicator:
    """An indicator that follows a promise, the direction the promise wants, and whether it measures it."""

    indicator: str
    wanted: str
    relation: str = "proxy"
    note: str = ""


@dataclass(frozen=True)
class Promise:
    """One measurable promise of a programme."""

    id: str
    paraphrase: str
    topic: str
    type: str
    direction: str
    indicators: tuple[PromiseIndicator, ...]
    why_unmeasurable: str
    source: Mapping[str, Any]
    secondary_evidence: tuple[SecondaryLink, ...] = ()


@dataclass(frozen=True)
class Programme:
    """A programme file: the kommune, the structure and the promises."""

    path: Path
    document: Mapping[str, Any]
    kommune: str
    structure: str
    promises: tuple[Promise, ...]
    not_included: tuple[Mapping[str, Any], ...] = ()
