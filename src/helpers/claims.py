"""Claims and promises as data, and the rules that hold them up against SSB's statistics.

Two YAML files in ``data/raw/claims/`` hold what documents say, paraphrased, with their numbers:

- ``arsrapport_2015.yml``: statements of a quantified change in Asker kommune's annual report 2015
  (health and care). Each claim has a claimed level before and after (value may be null; the period is a
  year ``"2014"``, a range ``"2012-2014"`` or a month ``"2012-01"``), optionally the change as stated
  (``claimed_change: {kind: percent|absolute, value}``), a unit, a direction (``up``/``down``), the place
  in the source document, the catalogue indicators that are the nearest independent evidence, and,
  where no statistic measures the claim directly, ``why_unmeasurable``. ``secondary_evidence`` links rows
  of ``data/raw/secondary/asker_secondary_facts.csv``; these are shown apart and never mixed with SSB.
- ``ap_program.yml``: a party programme's measurable promises: the direction wanted (``up``/``down``/
  ``zero``) and the indicators that follow them (``direct`` or ``proxy``), or none with the reason.

``load_claims`` and ``load_programme`` validate the files and raise :class:`helpers.errors.DataError`
naming the file, the record id and the field: types, unknown keys, periods in order (the before-period
may neither start nor end after the after-period, and they may not be the same), units from
``KNOWN_UNITS``, topics from ``TOPICS``, indicator ids that exist in ``helpers.indicators.BY_ID``, unique
ids, a claimed change that agrees with the before/after values and the direction, and links to rows
that exist in the secondary file.

Measured evidence (``measure_indicator``)
-----------------------------------------
From the tidy indicator table, for the claim's kommune on the claim file's structure (``as_reported``
for old Asker 0220): the mean of the values in the *before* report years and in the *after* report
years. Periods map to report years (KOSTRA counts are per 31.12.): a year is that year, a range is every
year in it, a month in January–June is nearer the previous year-end (``"2012-01"`` → 2011), a month in
July–December is that year (``"2015-12"`` → 2015). Values with a non-null ``flag`` are left out by
default. If none of the years has a value, the nearest year with one within ``max_widen`` (2) years is
used instead and the reasoning says so; before-years must stay before the after-period and after-years
after the before-years; on a tie the year farther from the other period is taken.

Verdict rules (``grade_evidence`` per indicator, ``combine_grades`` over them)
------------------------------------------------------------------------------
Each evidence indicator says which way it should move if the claim holds (``expected``) and how it
compares with the claim (``compare``): ``relative`` (same quantity: compare relative changes),
``absolute`` (same quantity and unit: compare absolute changes) or ``direction`` (an indirect measure:
only its direction counts). For one indicator, with the measured relative change r (%):

- no value in comparable years → *no grade* (it does not count);
- |r| ≤ ``NO_CHANGE_TOLERANCE_PCT`` (2 %) → *against* (no change);
- r moves opposite to ``expected`` → *against*;
- r moves the expected way and the comparison is ``relative``/``absolute`` and the measured change is at
  least ``COMPARABLE_SHARE`` (half) of the claimed change in size → *full* (a comparable amount);
- r moves the expected way otherwise (smaller change, or only ``direction`` can be compared) → *partial*.

(When the before-level is 0 the relative change is undefined; then any non-zero absolute change counts
as movement and relative sizes are not compared.) Over all graded indicators:

- none graded (no evidence indicator, or no data in the years) → ``kan ikke etterprøves``;
- every grade *full* → ``støttes``;
- every grade *against* → ``støttes ikke``;
- anything else (some *partial*, or indicators disagree) → ``støttes delvis``.

So an indirect indicator can at most give ``støttes delvis``: a proxy moving the right way is
consistent with a claim but cannot confirm its size.

Promises (``track_promises``) are followed from a baseline year to the latest year with data, per
indicator: ``i ønsket retning``, ``uendret`` (within the same tolerance), ``i motsatt retning``,
``mangler data`` or ``kan ikke måles`` (no indicator), with the median change of all other kommuner on
the same structure for comparison.

Numbers in the Norwegian sentences use ``helpers.formatting`` (no-break space as thousands separator,
decimal comma, real minus sign).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from helpers import formatting, paths
from helpers.errors import DataError, InputError
from helpers.indicators import BY_ID
from helpers.yamlfile import read_yaml

# --- vocabularies -------------------------------------------------------------------------------------

SUPPORTED = "støttes"
PARTLY_SUPPORTED = "støttes delvis"
NOT_SUPPORTED = "støttes ikke"
UNVERIFIABLE = "kan ikke etterprøves"
VERDICTS: tuple[str, ...] = (SUPPORTED, PARTLY_SUPPORTED, NOT_SUPPORTED, UNVERIFIABLE)

NO_CHANGE_TOLERANCE_PCT = 2.0
COMPARABLE_SHARE = 0.5
MAX_WIDEN_YEARS = 2

KNOWN_UNITS: tuple[str, ...] = (
    "personer",
    "pasienter",
    "døgn",
    "boliger",
    "plasser",
    "årsverk",
    "timer",
    "timer per uke",
    "prosent",
    "kroner",
)
TOPICS: tuple[str, ...] = (
    "sykehjem",
    "heldøgnsomsorg",
    "hjemmesykepleie",
    "utskrivningsklare",
    "psykisk_helse",
    "utviklingshemmede",
    "omsorgsboliger",
    "akuttplasser",
    "bemanning",
    "velferdsteknologi",
    "avlastning",
)
DIRECTIONS: tuple[str, ...] = ("up", "down")
PROMISE_DIRECTIONS: tuple[str, ...] = ("up", "down", "zero")
COMPARE_MODES: tuple[str, ...] = ("relative", "absolute", "direction")
RELATIONS: tuple[str, ...] = ("direct", "proxy")
CHANGE_KINDS: tuple[str, ...] = ("percent", "absolute")
CLAIM_TYPES: tuple[str, ...] = ("change", "establishment")
PROMISE_TYPES: tuple[str, ...] = ("lovnad", "maal")

STATUS_WANTED = "i ønsket retning"
STATUS_UNCHANGED = "uendret"
STATUS_OPPOSITE = "i motsatt retning"
STATUS_NO_DATA = "mangler data"
STATUS_UNMEASURABLE = "kan ikke måles"
PROMISE_STATUSES: tuple[str, ...] = (
    STATUS_WANTED,
    STATUS_UNCHANGED,
    STATUS_OPPOSITE,
    STATUS_NO_DATA,
    STATUS_UNMEASURABLE,
)

DEFAULT_SECONDARY_CSV = paths.RAW / "secondary" / "asker_secondary_facts.csv"
CLAIMS_DIR = paths.RAW / "claims"

Grade = Literal["full", "partial", "against", "none"]

# --- Norwegian number formatting ----------------------------------------------------------------------


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    """Norwegian number via helpers.formatting (no-break space for thousands, decimal comma, real minus).

    With ``decimals=None``: whole numbers without decimals, otherwise 2 decimals below 10 and 1 above.
    """
    if decimals is None and value is not None and not (isinstance(value, float) and math.isnan(value)):
        decimals = 0 if float(value).is_integer() else 2 if abs(value) < 10 else 1
    return formatting.format_number(None if value is None else float(value), 1 if decimals is None else decimals)


def format_change_pct(value: float | None, decimals: int = 1) -> str:
    """A relative change with its sign: "+14,3 %", "−6,6 %"."""
    return formatting.format_percent(value, decimals, sign=True)


# --- periods ------------------------------------------------------------------------------------------

MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
    "desember",
)  # fmt: skip
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


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


def parse_period(value: object) -> Period:
    """Parse "2014", 2014, "2012-2014" or "2012-01"; ValueError with the reason otherwise."""
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
        # KOSTRA counts are per 31.12.: the first half of a year is nearer the previous year-end.
        report_year = year - 1 if month <= 6 else year
        return Period(text, (year, month), (year, month), (report_year,))
    raise ValueError(f"{text!r} is not a year (2014), a year range (2012-2014) or a month (2012-01)")


# --- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A claimed level: value (None when the document gives none) in a period."""

    value: float | None
    period: Period


@dataclass(frozen=True)
class ClaimedChange:
    kind: str  # percent | absolute
    value: float


@dataclass(frozen=True)
class EvidenceSpec:
    """A catalogue indicator that bears on a claim, the way it should move, and how it compares."""

    indicator: str
    expected: str
    compare: str = "direction"
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

    def report_years(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Report years of the before- and after-period; before defaults to the year before `after`."""
        after = self.after.period.report_years
        before = self.before.period.report_years if self.before is not None else (min(after) - 1,)
        return before, after


@dataclass(frozen=True)
class ClaimsDocument:
    path: Path
    document: Mapping[str, Any]
    kommune: str
    structure: str
    claims: tuple[Claim, ...]
    not_included: tuple[Mapping[str, Any], ...] = ()

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


@dataclass(frozen=True)
class PromiseIndicator:
    indicator: str
    wanted: str
    relation: str = "proxy"
    note: str = ""


@dataclass(frozen=True)
class Promise:
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
    path: Path
    document: Mapping[str, Any]
    kommune: str
    structure: str
    promises: tuple[Promise, ...]
    not_included: tuple[Mapping[str, Any], ...] = ()


# --- validation ---------------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_KOMMUNE = re.compile(r"^\d{4}$")

_CLAIM_KEYS = {
    "id", "paraphrase", "topic", "kommune", "quantified", "claim_type", "before", "after", "claimed_change",
    "unit", "direction", "source", "evidence", "why_unmeasurable", "secondary_evidence", "note",
}  # fmt: skip
_CLAIM_REQUIRED = {
    "id", "paraphrase", "topic", "kommune", "quantified", "after", "unit", "direction", "source", "evidence",
}  # fmt: skip
_PROMISE_KEYS = {
    "id", "paraphrase", "topic", "type", "direction", "indicators", "why_unmeasurable", "source",
    "secondary_evidence", "note",
}  # fmt: skip
_PROMISE_REQUIRED = {"id", "paraphrase", "topic", "type", "direction", "indicators", "source"}
_FILE_KEYS_CLAIMS = {"schema_version", "document", "kommune", "structure", "claims", "not_included"}
_FILE_KEYS_PROGRAMME = {"schema_version", "document", "kommune", "structure", "promises", "not_included"}


class _Where:
    """Builds DataErrors that name the file, the record and the field."""

    def __init__(self, path: Path, record: str | None = None) -> None:
        self.path = path
        self.record = record

    def error(self, field_name: str, problem: str) -> DataError:
        where = f"{self.path}"
        if self.record is not None:
            where += f": record {self.record!r}"
        return DataError(f"{where}, field {field_name!r}: {problem}")


def _read_yaml(path: Path) -> dict[str, Any]:
    return read_yaml(path, DataError, dict)


def _text(where: _Where, record: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise where.error(key, "missing")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise where.error(key, f"expected non-empty text, got {value!r}")
    return value.strip()


def _choice(where: _Where, record: Mapping[str, Any], key: str, allowed: Iterable[str]) -> str:
    value = record.get(key)
    allowed = tuple(allowed)
    if value not in allowed:
        raise where.error(key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _kommune(where: _Where, value: object, key: str = "kommune") -> str:
    if not isinstance(value, str) or not _KOMMUNE.match(value):
        raise where.error(key, f'expected a quoted 4-digit kommune number such as "0220", got {value!r}')
    return value


def _number_or_null(where: _Where, value: object, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.error(key, f"expected a number or null, got {value!r}")
    return float(value)


def _point(where: _Where, value: object, key: str) -> Point:
    if not isinstance(value, dict) or set(value) - {"value", "period"} or "period" not in value:
        raise where.error(key, f"expected {{value: number|null, period: text}}, got {value!r}")
    number = _number_or_null(where, value.get("value"), f"{key}.value")
    try:
        period = parse_period(value["period"])
    except ValueError as exc:
        raise where.error(f"{key}.period", str(exc)) from None
    return Point(number, period)


def _check_order(where: _Where, before: Period, after: Period) -> None:
    if (
        before.start > after.start
        or before.end > after.end
        or (before.start, before.end)
        == (
            after.start,
            after.end,
        )
    ):
        raise where.error(
            "before.period",
            f"periods out of order: before {before.text!r} must come before after {after.text!r}",
        )


def _indicator_id(where: _Where, value: object, key: str) -> str:
    if not isinstance(value, str) or value not in BY_ID:
        raise where.error(key, f"unknown indicator id {value!r} (not in helpers.indicators.BY_ID)")
    return value


def _secondary_links(where: _Where, value: object, secondary: pl.DataFrame | None) -> tuple[SecondaryLink, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error("secondary_evidence", f"expected a list, got {value!r}")
    links = []
    for position, item in enumerate(value):
        key = f"secondary_evidence[{position}]"
        if not isinstance(item, dict) or set(item) - {"kommunenummer", "year", "indicator", "note"}:
            raise where.error(key, f"expected {{kommunenummer, year, indicator, note}}, got {item!r}")
        kommunenummer = item.get("kommunenummer")
        if not isinstance(kommunenummer, str) or not kommunenummer.isdigit():
            raise where.error(f"{key}.kommunenummer", f"expected a quoted kommune number, got {kommunenummer!r}")
        year = item.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            raise where.error(f"{key}.year", f"expected a year, got {year!r}")
        indicator = item.get("indicator")
        if not isinstance(indicator, str) or not indicator:
            raise where.error(f"{key}.indicator", f"expected the secondary file's indicator name, got {indicator!r}")
        if secondary is not None:
            hit = secondary.filter(
                (pl.col("kommunenummer") == kommunenummer)
                & (pl.col("year") == year)
                & (pl.col("indicator") == indicator)
            )
            if hit.height == 0:
                raise where.error(key, f"no row ({kommunenummer}, {year}, {indicator}) in the secondary-facts file")
        links.append(SecondaryLink(kommunenummer, year, indicator, str(item.get("note") or "")))
    return tuple(links)


def _structure(where: _Where, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value != "as_reported" and not (isinstance(value, str) and re.fullmatch(r"\d{4}", value)):
        raise where.error("structure", f"expected 'as_reported' or a structure year such as '2024', got {value!r}")
    return value


def _records(where: _Where, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    records = data.get(key)
    if not isinstance(records, list) or not records:
        raise where.error(key, "expected a non-empty list of records")
    seen: set[str] = set()
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise where.error(f"{key}[{position}]", f"expected a mapping, got {record!r}")
        record_id = record.get("id")
        if not isinstance(record_id, str) or not _ID.match(record_id):
            raise where.error(f"{key}[{position}].id", f"expected a snake_case id, got {record_id!r}")
        if record_id in seen:
            raise _Where(where.path, record_id).error("id", "duplicate id (ids must be unique in the file)")
        seen.add(record_id)
    return records


def _check_keys(where: _Where, record: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(record) - allowed)
    if unknown:
        raise where.error(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(record))
    if missing:
        raise where.error(missing[0], "missing")


def _not_included(where: _Where, value: object) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("reason"), str) for item in value
    ):
        raise where.error("not_included", "expected a list of {topic, paraphrase, reason}")
    return tuple(value)


def _load_secondary_for_validation(secondary_csv: Path | str | None) -> pl.DataFrame | None:
    if secondary_csv is None:
        return None
    return load_secondary(secondary_csv)


def load_secondary(path: Path | str = DEFAULT_SECONDARY_CSV) -> pl.DataFrame:
    """The secondary (non-SSB) facts, kommunenummer as text, labelled ``kildetype = "sekundær"``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: secondary-facts file not found.")
    frame = pl.read_csv(
        path,
        schema_overrides={
            "kommunenummer": pl.String,
            "year": pl.Int64,
            "value": pl.Float64,
            "symbol": pl.String,
        },
    )
    return frame.with_columns(pl.lit("sekundær").alias("kildetype"))


def load_claims(path: Path | str, secondary_csv: Path | str | None = DEFAULT_SECONDARY_CSV) -> ClaimsDocument:
    """Read and validate a claims file; DataError naming file, record id and field on any problem.

    ``secondary_csv=None`` skips checking that secondary links point at existing rows.
    """
    path = Path(path)
    data = _read_yaml(path)
    top = _Where(path)
    _check_keys(top, data, _FILE_KEYS_CLAIMS, {"document", "kommune", "structure", "claims"})
    kommune = _kommune(top, data.get("kommune"))
    structure = _structure(top, data.get("structure"))
    secondary = _load_secondary_for_validation(secondary_csv)
    claims = []
    for record in _records(top, data, "claims"):
        where = _Where(path, record["id"])
        _check_keys(where, record, _CLAIM_KEYS, _CLAIM_REQUIRED)
        quantified = record.get("quantified")
        if not isinstance(quantified, bool):
            raise where.error("quantified", f"expected true or false, got {quantified!r}")
        claim_type = record.get("claim_type", "change")
        if claim_type not in CLAIM_TYPES:
            raise where.error("claim_type", f"{claim_type!r} is not one of {', '.join(CLAIM_TYPES)}")
        after = _point(where, record.get("after"), "after")
        before_raw = record.get("before")
        before = None if before_raw is None else _point(where, before_raw, "before")
        if before is None and quantified:
            raise where.error("before", "a quantified claim needs a before-period (value may be null)")
        if before is not None:
            _check_order(where, before.period, after.period)
        change_raw = record.get("claimed_change")
        change = None
        if change_raw is not None:
            if not isinstance(change_raw, dict) or set(change_raw) != {"kind", "value"}:
                raise where.error("claimed_change", f"expected {{kind: percent|absolute, value}}, got {change_raw!r}")
            kind = _choice(where, change_raw, "kind", CHANGE_KINDS)
            number = _number_or_null(where, change_raw["value"], "claimed_change.value")
            if number is None:
                raise where.error("claimed_change.value", "missing")
            change = ClaimedChange(kind, number)
        unit = record.get("unit")
        if unit not in KNOWN_UNITS:
            raise where.error("unit", f"unknown unit {unit!r}; known units: {', '.join(KNOWN_UNITS)}")
        direction = _choice(where, record, "direction", DIRECTIONS)
        source = record.get("source")
        if not isinstance(source, dict) or not {"file", "section"} <= set(source):
            raise where.error("source", f"expected {{file, section, item}}, got {source!r}")
        evidence_raw = record.get("evidence")
        if not isinstance(evidence_raw, list):
            raise where.error("evidence", f"expected a list of indicators (may be empty), got {evidence_raw!r}")
        evidence = []
        for position, item in enumerate(evidence_raw):
            key = f"evidence[{position}]"
            if not isinstance(item, dict) or set(item) - {"indicator", "expected", "compare", "note"}:
                raise where.error(key, f"expected {{indicator, expected, compare, note}}, got {item!r}")
            indicator = _indicator_id(where, item.get("indicator"), f"{key}.indicator")
            if item.get("expected") not in DIRECTIONS:
                raise where.error(f"{key}.expected", f"{item.get('expected')!r} is not one of up, down")
            compare = item.get("compare", "direction")
            if compare not in COMPARE_MODES:
                raise where.error(f"{key}.compare", f"{compare!r} is not one of {', '.join(COMPARE_MODES)}")
            if compare != "direction" and item["expected"] != direction:
                raise where.error(f"{key}.expected", "an indicator compared by size must move the way the claim says")
            evidence.append(EvidenceSpec(indicator, item["expected"], compare, str(item.get("note") or "")))
        why = _text(where, record, "why_unmeasurable", required=not evidence)
        claim = Claim(
            id=record["id"],
            paraphrase=_text(where, record, "paraphrase"),
            topic=_choice(where, record, "topic", TOPICS),
            kommune=_kommune(where, record.get("kommune")),
            quantified=quantified,
            claim_type=claim_type,
            before=before,
            after=after,
            claimed_change=change,
            unit=unit,
            direction=direction,
            source=source,
            evidence=tuple(evidence),
            why_unmeasurable=why,
            secondary_evidence=_secondary_links(where, record.get("secondary_evidence"), secondary),
            note=_text(where, record, "note", required=False),
        )
        _check_claimed_change(where, claim)
        for position, spec in enumerate(claim.evidence):
            if spec.compare == "relative" and claim.relative_change_pct is None:
                raise where.error(f"evidence[{position}].compare", "compare: relative needs a claimed relative change")
            if spec.compare == "absolute" and claim.absolute_change is None:
                raise where.error(f"evidence[{position}].compare", "compare: absolute needs a claimed absolute change")
        claims.append(claim)
    return ClaimsDocument(
        path=path,
        document=data["document"],
        kommune=kommune,
        structure=structure,
        claims=tuple(claims),
        not_included=_not_included(top, data.get("not_included")),
    )


def _check_claimed_change(where: _Where, claim: Claim) -> None:
    """A quantified claim needs a size; stated and computed sizes must agree, and agree with the direction."""
    before_value = claim.before.value if claim.before is not None else None
    both = before_value is not None and claim.after.value is not None
    if claim.quantified and not both and claim.claimed_change is None:
        raise where.error("claimed_change", "a quantified claim needs before and after values or a claimed_change")
    if claim.claimed_change is not None and both:
        assert before_value is not None and claim.after.value is not None
        if claim.claimed_change.kind == "percent":
            if before_value == 0:
                raise where.error("claimed_change", "a percent change from a before-value of 0 is undefined")
            computed = (claim.after.value - before_value) / before_value * 100.0
            if abs(computed - claim.claimed_change.value) > 0.5:
                raise where.error(
                    "claimed_change.value",
                    f"{claim.claimed_change.value} % disagrees with before/after values ({computed:.1f} %)",
                )
        elif abs(claim.after.value - before_value - claim.claimed_change.value) > 1e-9:
            raise where.error("claimed_change.value", "disagrees with after − before")
    size = claim.relative_change_pct
    if size is None:
        size = claim.absolute_change
    if size is not None and ((claim.direction == "up" and size <= 0) or (claim.direction == "down" and size >= 0)):
        raise where.error("direction", f"direction {claim.direction!r} disagrees with the claimed change ({size:g})")


def load_programme(path: Path | str, secondary_csv: Path | str | None = DEFAULT_SECONDARY_CSV) -> Programme:
    """Read and validate a programme file; DataError naming file, record id and field on any problem."""
    path = Path(path)
    data = _read_yaml(path)
    top = _Where(path)
    _check_keys(top, data, _FILE_KEYS_PROGRAMME, {"document", "kommune", "structure", "promises"})
    kommune = _kommune(top, data.get("kommune"))
    structure = _structure(top, data.get("structure"))
    secondary = _load_secondary_for_validation(secondary_csv)
    promises = []
    for record in _records(top, data, "promises"):
        where = _Where(path, record["id"])
        _check_keys(where, record, _PROMISE_KEYS, _PROMISE_REQUIRED)
        raw = record.get("indicators")
        if not isinstance(raw, list):
            raise where.error("indicators", f"expected a list (may be empty), got {raw!r}")
        indicators = []
        for position, item in enumerate(raw):
            key = f"indicators[{position}]"
            if not isinstance(item, dict) or set(item) - {"indicator", "wanted", "relation", "note"}:
                raise where.error(key, f"expected {{indicator, wanted, relation, note}}, got {item!r}")
            indicator = _indicator_id(where, item.get("indicator"), f"{key}.indicator")
            if item.get("wanted") not in DIRECTIONS:
                raise where.error(f"{key}.wanted", f"{item.get('wanted')!r} is not one of up, down")
            relation = item.get("relation", "proxy")
            if relation not in RELATIONS:
                raise where.error(f"{key}.relation", f"{relation!r} is not one of {', '.join(RELATIONS)}")
            indicators.append(PromiseIndicator(indicator, item["wanted"], relation, str(item.get("note") or "")))
        has_direct = any(item.relation == "direct" for item in indicators)
        source = record.get("source")
        if not isinstance(source, dict) or "file" not in source:
            raise where.error("source", f"expected {{file, section}}, got {source!r}")
        promises.append(
            Promise(
                id=record["id"],
                paraphrase=_text(where, record, "paraphrase"),
                topic=_choice(where, record, "topic", TOPICS),
                type=_choice(where, record, "type", PROMISE_TYPES),
                direction=_choice(where, record, "direction", PROMISE_DIRECTIONS),
                indicators=tuple(indicators),
                why_unmeasurable=_text(where, record, "why_unmeasurable", required=not has_direct),
                source=source,
                secondary_evidence=_secondary_links(where, record.get("secondary_evidence"), secondary),
            )
        )
    return Programme(
        path=path,
        document=data["document"],
        kommune=kommune,
        structure=structure,
        promises=tuple(promises),
        not_included=_not_included(top, data.get("not_included")),
    )


# --- measured evidence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """Mean levels of one indicator for one kommune in the before- and after-years actually used."""

    indicator: str
    kommunenr: str
    structure: str
    before_years: tuple[int, ...]
    after_years: tuple[int, ...]
    before: float | None
    after: float | None
    requested_before: tuple[int, ...] = ()
    requested_after: tuple[int, ...] = ()
    excluded_flagged: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def has_data(self) -> bool:
        return self.before is not None and self.after is not None

    @property
    def absolute_change(self) -> float | None:
        if not self.has_data:
            return None
        assert self.before is not None and self.after is not None
        return self.after - self.before

    @property
    def relative_change_pct(self) -> float | None:
        if not self.has_data or self.before == 0:
            return None
        assert self.before is not None and self.after is not None
        return (self.after - self.before) / abs(self.before) * 100.0


def years_text(years: Sequence[int]) -> str:
    """2015 / 2012–2014 / 2012, 2014."""
    years = sorted(years)
    if not years:
        return "–"
    if len(years) == 1:
        return str(years[0])
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(year) for year in years)


def _pick_years(
    wanted: Sequence[int],
    available: Iterable[int],
    allowed: Any,
    max_widen: int,
    prefer_earlier: bool,
) -> tuple[tuple[int, ...], str | None]:
    available = sorted(year for year in available if allowed(year))
    used = tuple(year for year in wanted if year in available)
    if used:
        if len(used) < len(wanted):
            return used, f"bare {years_text(used)} av {years_text(wanted)} har tall"
        return used, None
    candidates = [(min(abs(year - w) for w in wanted), year if prefer_earlier else -year, year) for year in available]
    candidates = [c for c in candidates if 0 < c[0] <= max_widen]
    if not candidates:
        return (), f"ingen tall for {years_text(wanted)} (heller ikke innen ±{max_widen} år)"
    year = min(candidates)[2]
    return (year,), f"ingen tall for {years_text(wanted)}; brukte nærmeste år med tall, {year}"


def measure_indicator(
    table: pl.DataFrame,
    kommunenr: str,
    indicator: str,
    before_years: Sequence[int],
    after_years: Sequence[int],
    *,
    structure: str = "as_reported",
    exclude_flagged: bool = True,
    max_widen: int = MAX_WIDEN_YEARS,
) -> Measurement:
    """Mean level of `indicator` for `kommunenr` in the before- and after-years (see module docstring).

    `table` is the tidy indicator table (columns kommunenr, structure, year, indicator, value, flag …).
    Flagged values are left out unless `exclude_flagged=False`; missing years are widened to the nearest
    year with data within `max_widen` years, and every such step is written into `notes` (Norwegian).
    """
    before_years, after_years = tuple(sorted(before_years)), tuple(sorted(after_years))
    rows = table.filter(
        (pl.col("kommunenr") == kommunenr)
        & (pl.col("structure") == structure)
        & (pl.col("indicator") == indicator)
        & pl.col("value").is_not_null()
        & pl.col("value").is_finite()
    )
    flagged: tuple[int, ...] = ()
    if exclude_flagged and "flag" in rows.columns:
        flagged = tuple(sorted(rows.filter(pl.col("flag").is_not_null())["year"].to_list()))
        rows = rows.filter(pl.col("flag").is_null())
    if rows.height != rows["year"].n_unique():
        raise DataError(
            f"indicator table: several rows for {kommunenr}/{structure}/{indicator} in one year (key not unique)"
        )
    values = dict(zip(rows["year"].to_list(), rows["value"].to_list(), strict=True))
    notes: list[str] = []
    used_before, note = _pick_years(
        before_years, values, lambda y: y < min(after_years), max_widen, prefer_earlier=True
    )
    if note:
        notes.append(f"før: {note}")
    limit = max(used_before) if used_before else max(before_years)
    used_after, note = _pick_years(after_years, values, lambda y: y > limit, max_widen, prefer_earlier=False)
    if note:
        notes.append(f"etter: {note}")
    relevant_flagged = tuple(y for y in flagged if min(before_years) - max_widen <= y <= max(after_years) + max_widen)
    if relevant_flagged:
        notes.append(f"verdier med kvalitetsflagg er utelatt: {years_text(relevant_flagged)}")

    def mean(years: tuple[int, ...]) -> float | None:
        return sum(values[y] for y in years) / len(years) if years else None

    return Measurement(
        indicator=indicator,
        kommunenr=kommunenr,
        structure=structure,
        before_years=used_before,
        after_years=used_after,
        before=mean(used_before),
        after=mean(used_after),
        requested_before=before_years,
        requested_after=after_years,
        excluded_flagged=relevant_flagged,
        notes=tuple(notes),
    )


def measure_claim(
    claim: Claim,
    table: pl.DataFrame,
    *,
    structure: str = "as_reported",
    exclude_flagged: bool = True,
    max_widen: int = MAX_WIDEN_YEARS,
) -> list[tuple[EvidenceSpec, Measurement]]:
    """The measured evidence for each of a claim's evidence indicators."""
    before_years, after_years = claim.report_years()
    return [
        (
            spec,
            measure_indicator(
                table,
                claim.kommune,
                spec.indicator,
                before_years,
                after_years,
                structure=structure,
                exclude_flagged=exclude_flagged,
                max_widen=max_widen,
            ),
        )
        for spec in claim.evidence
    ]


# --- verdict rules (pure) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceGrade:
    indicator: str
    grade: Grade
    sentence: str


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasoning: str
    grades: tuple[EvidenceGrade, ...] = ()


def _movement(measured: Measurement, tolerance_pct: float) -> int:
    """+1 up, −1 down, 0 no change (relative change within ± tolerance)."""
    relative = measured.relative_change_pct
    if relative is not None:
        if abs(relative) <= tolerance_pct:
            return 0
        return 1 if relative > 0 else -1
    change = measured.absolute_change or 0.0
    return 0 if change == 0 else (1 if change > 0 else -1)


def _label(indicator: str) -> str:
    entry = BY_ID.get(indicator)
    return entry.label if entry else indicator


def _decimals(*values: float) -> int:
    """One number of decimals for values shown side by side: 0 if all whole, else 2 below 10, else 1."""
    if all(float(value).is_integer() for value in values):
        return 0
    return 2 if max(abs(value) for value in values) < 10 else 1


def _measured_phrase(measured: Measurement) -> str:
    assert measured.before is not None and measured.after is not None
    decimals = _decimals(measured.before, measured.after)
    change = measured.relative_change_pct
    if measured.after == measured.before:
        movement = "var uendret"
    else:
        verb = "økte" if measured.after > measured.before else "gikk ned"
        movement = f"{verb} {format_number(abs(change), 1)} %" if change is not None else verb
    return (
        f"{_label(measured.indicator)} {movement} fra {format_number(measured.before, decimals)} "
        f"({years_text(measured.before_years)}) til {format_number(measured.after, decimals)} "
        f"({years_text(measured.after_years)})"
    )


def grade_evidence(
    expected: str,
    compare: str,
    measured: Measurement,
    claimed_relative_pct: float | None = None,
    claimed_absolute: float | None = None,
    *,
    tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT,
    comparable_share: float = COMPARABLE_SHARE,
) -> EvidenceGrade:
    """Grade one evidence indicator against a claim: full, partial, against or none (see module docstring)."""
    if not measured.has_data:
        reason = "; ".join(measured.notes) or "ingen tall"
        return EvidenceGrade(measured.indicator, "none", f"{_label(measured.indicator)}: {reason}")
    phrase = _measured_phrase(measured)
    if measured.notes:
        phrase += f" ({'; '.join(measured.notes)})"
    movement = _movement(measured, tolerance_pct)
    wanted = 1 if expected == "up" else -1
    tolerance = format_number(tolerance_pct, 0)
    if movement == 0:
        return EvidenceGrade(
            measured.indicator, "against", f"{phrase} – det regnes som uendret (innenfor ±{tolerance} %)"
        )
    if movement != wanted:
        return EvidenceGrade(measured.indicator, "against", f"{phrase} – motsatt av det påstanden tilsier")
    if compare == "direction":
        return EvidenceGrade(
            measured.indicator,
            "partial",
            f"{phrase} – riktig retning, men indikatoren er bare et indirekte mål",
        )
    if compare == "relative":
        claimed, measured_size, unit = claimed_relative_pct, measured.relative_change_pct, " %"
    else:
        claimed, measured_size, unit = claimed_absolute, measured.absolute_change, ""
    if claimed is None or measured_size is None:
        return EvidenceGrade(
            measured.indicator, "partial", f"{phrase} – riktig retning, men størrelsen kan ikke sammenlignes"
        )
    threshold = comparable_share * abs(claimed)
    if abs(measured_size) >= threshold:
        return EvidenceGrade(
            measured.indicator,
            "full",
            f"{phrase} – sammenlignbart med påstanden (minst {format_number(comparable_share * 100, 0)} % "
            f"av påstått endring på {format_number(abs(claimed), 1 if unit else None)}{unit})",
        )
    return EvidenceGrade(
        measured.indicator,
        "partial",
        f"{phrase} – riktig retning, men under {format_number(comparable_share * 100, 0)} % av "
        f"påstått endring på {format_number(abs(claimed), 1 if unit else None)}{unit}",
    )


def combine_grades(grades: Sequence[str]) -> str:
    """The verdict over the grades of all evidence indicators (see module docstring)."""
    graded = [grade for grade in grades if grade != "none"]
    if not graded:
        return UNVERIFIABLE
    if all(grade == "full" for grade in graded):
        return SUPPORTED
    if all(grade == "against" for grade in graded):
        return NOT_SUPPORTED
    return PARTLY_SUPPORTED


def describe_claim(claim: Claim) -> str:
    """The claimed change in Norwegian, with its numbers."""
    if not claim.quantified:
        return f"Påstand om etablering uten tall ({claim.after.period})."
    word = "opp" if claim.direction == "up" else "ned"
    assert claim.before is not None
    levels = [
        f"{format_number(point.value)} {claim.unit} i {point.period}" if point.value is not None else point.period.label
        for point in (claim.before, claim.after)
    ]
    relative = claim.relative_change_pct
    if relative is not None:
        size = f"{format_number(abs(relative), 0 if float(relative).is_integer() else 1)} %"
    else:
        size = f"{format_number(abs(claim.absolute_change or 0))} {claim.unit}"
    return f"Påstått: {word} {size} ({' → '.join(levels)})."


def judge(claim: Claim, measurements: Sequence[tuple[EvidenceSpec, Measurement]], **rules: float) -> Verdict:
    """Verdict and Norwegian reasoning for a claim, given its measured evidence (pure)."""
    grades = tuple(
        grade_evidence(spec.expected, spec.compare, measured, claim.relative_change_pct, claim.absolute_change, **rules)
        for spec, measured in measurements
    )
    verdict = combine_grades([grade.grade for grade in grades])
    parts = [describe_claim(claim)]
    if grades:
        parts.append("Målt (SSB): " + "; ".join(grade.sentence for grade in grades) + ".")
    if verdict == UNVERIFIABLE:
        reason = claim.why_unmeasurable or "ingen av indikatorene har tall i sammenlignbare år"
        if grades:
            reason = "ingen av indikatorene har tall i sammenlignbare år. " + reason
        parts.append(f"Vurdering: {verdict} – {reason}")
    else:
        parts.append(f"Vurdering: {verdict}.")
    return Verdict(verdict, " ".join(parts), grades)


def assess_claim(
    claim: Claim,
    table: pl.DataFrame,
    *,
    structure: str = "as_reported",
    exclude_flagged: bool = True,
) -> tuple[Verdict, list[tuple[EvidenceSpec, Measurement]]]:
    measurements = measure_claim(claim, table, structure=structure, exclude_flagged=exclude_flagged)
    return judge(claim, measurements), measurements


def assess_claims(
    document: ClaimsDocument,
    table: pl.DataFrame,
    *,
    kommune: str | None = None,
    exclude_flagged: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(summary, detail) frames: one row per claim, and one row per claim × evidence indicator.

    `kommune` keeps only the claims about that kommune (default: all claims in the file).
    """
    summary_rows, detail_rows = [], []
    for claim in document.claims:
        if kommune is not None and claim.kommune != kommune:
            continue
        verdict, measurements = assess_claim(
            claim, table, structure=document.structure, exclude_flagged=exclude_flagged
        )
        summary_rows.append(
            {
                "id": claim.id,
                "tema": claim.topic,
                "påstand": claim.paraphrase,
                "påstått_endring_pct": claim.relative_change_pct,
                "påstått_endring_abs": claim.absolute_change,
                "enhet": claim.unit,
                "retning": claim.direction,
                "indikatorer": ", ".join(spec.indicator for spec in claim.evidence),
                "dom": verdict.verdict,
                "begrunnelse": verdict.reasoning,
                "sekundærkilder": len(claim.secondary_evidence),
            }
        )
        for (spec, measured), grade in zip(measurements, verdict.grades, strict=True):
            detail_rows.append(
                {
                    "id": claim.id,
                    "indikator": spec.indicator,
                    "indikator_navn": BY_ID[spec.indicator].display,
                    "forventet": spec.expected,
                    "sammenligning": spec.compare,
                    "før_år": years_text(measured.before_years),
                    "etter_år": years_text(measured.after_years),
                    "før": measured.before,
                    "etter": measured.after,
                    "målt_endring_pct": measured.relative_change_pct,
                    "påstått_endring_pct": claim.relative_change_pct,
                    "vurdering": grade.grade,
                    "merknad": "; ".join(measured.notes),
                }
            )
    if not summary_rows:
        about = ", ".join(sorted({claim.kommune for claim in document.claims}))
        raise InputError(
            f"Ingen påstander i {document.path.name} gjelder kommune {kommune}; de gjelder {about} / "
            f"no claims about {kommune} in this file."
        )
    summary = pl.DataFrame(summary_rows, schema=_SUMMARY_SCHEMA)
    detail = pl.DataFrame(detail_rows, schema=_DETAIL_SCHEMA)
    return summary, detail


_SUMMARY_SCHEMA = {
    "id": pl.String, "tema": pl.String, "påstand": pl.String, "påstått_endring_pct": pl.Float64,
    "påstått_endring_abs": pl.Float64, "enhet": pl.String, "retning": pl.String, "indikatorer": pl.String,
    "dom": pl.String, "begrunnelse": pl.String, "sekundærkilder": pl.Int64,
}  # fmt: skip
_DETAIL_SCHEMA = {
    "id": pl.String, "indikator": pl.String, "indikator_navn": pl.String, "forventet": pl.String,
    "sammenligning": pl.String, "før_år": pl.String, "etter_år": pl.String, "før": pl.Float64,
    "etter": pl.Float64, "målt_endring_pct": pl.Float64, "påstått_endring_pct": pl.Float64,
    "vurdering": pl.String, "merknad": pl.String,
}  # fmt: skip


def secondary_for(links: Sequence[SecondaryLink], secondary: pl.DataFrame) -> pl.DataFrame:
    """The secondary-facts rows a claim or promise links to (labelled ``kildetype = "sekundær"``)."""
    if not links:
        return secondary.clear()
    keys = pl.DataFrame(
        {
            "kommunenummer": [link.kommunenummer for link in links],
            "year": [link.year for link in links],
            "indicator": [link.indicator for link in links],
            "merknad": [link.note for link in links],
        },
        schema={"kommunenummer": pl.String, "year": pl.Int64, "indicator": pl.String, "merknad": pl.String},
    )
    return keys.join(secondary, on=["kommunenummer", "year", "indicator"], how="left")


# --- promises -----------------------------------------------------------------------------------------


def promise_status(wanted: str, measured: Measurement, tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT) -> str:
    """How an indicator moved relative to the direction a promise wants (pure)."""
    if not measured.has_data:
        return STATUS_NO_DATA
    movement = _movement(measured, tolerance_pct)
    if movement == 0:
        return STATUS_UNCHANGED
    return STATUS_WANTED if movement == (1 if wanted == "up" else -1) else STATUS_OPPOSITE


def latest_year_with_data(
    table: pl.DataFrame, kommunenr: str, indicator: str, structure: str, exclude_flagged: bool = True
) -> int | None:
    rows = table.filter(
        (pl.col("kommunenr") == kommunenr)
        & (pl.col("structure") == structure)
        & (pl.col("indicator") == indicator)
        & pl.col("value").is_not_null()
    )
    if exclude_flagged:
        rows = rows.filter(pl.col("flag").is_null())
    return None if rows.height == 0 else int(rows["year"].max())  # type: ignore[arg-type]


def changes_by_kommune(
    table: pl.DataFrame,
    indicator: str,
    baseline_year: int,
    latest_year: int,
    *,
    structure: str = "2024",
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Relative change (%) from baseline to latest year for every kommune with both values."""
    rows = table.filter(
        (pl.col("structure") == structure)
        & (pl.col("indicator") == indicator)
        & pl.col("year").is_in([baseline_year, latest_year])
        & pl.col("value").is_not_null()
    )
    if exclude_flagged:
        rows = rows.filter(pl.col("flag").is_null())
    wide = (
        rows.select(
            "kommunenr",
            pl.when(pl.col("year") == baseline_year).then(pl.col("value")).alias("before"),
            pl.when(pl.col("year") == latest_year).then(pl.col("value")).alias("after"),
        )
        .group_by("kommunenr")
        .agg(pl.col("before").drop_nulls().first(), pl.col("after").drop_nulls().first())
    )
    return (
        wide.drop_nulls(["before", "after"])
        .filter(pl.col("before") != 0)
        .with_columns(((pl.col("after") - pl.col("before")) / pl.col("before").abs() * 100).alias("change_pct"))
        .sort("kommunenr")
    )


def track_promises(
    programme: Programme,
    table: pl.DataFrame,
    *,
    baseline_year: int,
    kommune: str | None = None,
    latest_year: int | None = None,
    peers: Sequence[str] | None = None,
    exclude_flagged: bool = True,
    tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT,
) -> pl.DataFrame:
    """One row per promise × indicator: baseline and latest level, change, status, and the median change
    of the comparison kommuner (`peers`; default all other kommuner on the programme's structure).

    Promises without indicators get one row with status ``kan ikke måles`` and the reason.
    """
    kommune = kommune or programme.kommune
    structure = programme.structure
    rows = []
    for promise in programme.promises:
        base = {
            "id": promise.id,
            "løfte": promise.paraphrase,
            "tema": promise.topic,
            "type": promise.type,
            "retning": promise.direction,
            "hvorfor_ikke_målbart": promise.why_unmeasurable,
            "sekundærkilder": len(promise.secondary_evidence),
        }
        if not promise.indicators:
            rows.append({**base, "status": STATUS_UNMEASURABLE, "begrunnelse": promise.why_unmeasurable})
            continue
        for item in promise.indicators:
            latest = latest_year or latest_year_with_data(table, kommune, item.indicator, structure, exclude_flagged)
            if latest is None or latest <= baseline_year:
                measured = Measurement(item.indicator, kommune, structure, (), (), None, None)
            else:
                measured = measure_indicator(
                    table,
                    kommune,
                    item.indicator,
                    [baseline_year],
                    [latest],
                    structure=structure,
                    exclude_flagged=exclude_flagged,
                )
            status = promise_status(item.wanted, measured, tolerance_pct)
            median = None
            if measured.has_data:
                changes = changes_by_kommune(
                    table,
                    item.indicator,
                    measured.before_years[0],
                    measured.after_years[0],
                    structure=structure,
                    exclude_flagged=exclude_flagged,
                ).filter(pl.col("kommunenr") != kommune)
                if peers is not None:
                    changes = changes.filter(pl.col("kommunenr").is_in(list(peers)))
                median = changes["change_pct"].median() if changes.height else None
            own = measured.relative_change_pct
            versus = None
            if own is not None and median is not None:
                sign = 1 if item.wanted == "up" else -1
                versus = sign * (own - float(median))  # type: ignore[arg-type]
            rows.append(
                {
                    **base,
                    "indikator": item.indicator,
                    "indikator_navn": BY_ID[item.indicator].display,
                    "relasjon": item.relation,
                    "ønsket": item.wanted,
                    "basisår": measured.before_years[0] if measured.before_years else None,
                    "siste_år": measured.after_years[0] if measured.after_years else None,
                    "basis": measured.before,
                    "siste": measured.after,
                    "endring_pct": own,
                    "median_endring_pct": median,
                    "foran_median_pp": versus,
                    "status": status,
                    "begrunnelse": _promise_sentence(item, measured, status, median, peers is not None),
                }
            )
    return pl.DataFrame(rows, schema=_PROMISE_SCHEMA)


_PROMISE_SCHEMA = {
    "id": pl.String, "løfte": pl.String, "tema": pl.String, "type": pl.String, "retning": pl.String,
    "indikator": pl.String, "indikator_navn": pl.String, "relasjon": pl.String, "ønsket": pl.String,
    "basisår": pl.Int64, "siste_år": pl.Int64, "basis": pl.Float64, "siste": pl.Float64,
    "endring_pct": pl.Float64, "median_endring_pct": pl.Float64, "foran_median_pp": pl.Float64,
    "status": pl.String, "begrunnelse": pl.String, "hvorfor_ikke_målbart": pl.String,
    "sekundærkilder": pl.Int64,
}  # fmt: skip


def _promise_sentence(
    item: PromiseIndicator, measured: Measurement, status: str, median: float | None, group: bool = False
) -> str:
    if not measured.has_data:
        return f"{_label(item.indicator)}: {'; '.join(measured.notes) or 'ingen tall etter basisåret'}."
    text = f"{_measured_phrase(measured)} – {status}"
    if measured.notes:
        text += f" ({'; '.join(measured.notes)})"
    if median is not None:
        who = "i sammenligningsgruppen" if group else "for alle andre kommuner"
        text += f"; medianen {who} endret seg {format_change_pct(median)}"
    if item.relation == "proxy":
        text += " (indirekte mål)"
    return text + "."


def check_kommune_parameter(kommune: object, table: pl.DataFrame | None = None, structure: str | None = None) -> str:
    """A notebook's kommune parameter: a 4-digit string in `table` (on `structure`); InputError otherwise."""
    if not isinstance(kommune, str) or not _KOMMUNE.match(kommune):
        raise InputError(
            f'Parameteren kommune må være et firesifret kommunenummer i anførselstegn, f.eks. "0220" / '
            f"kommune must be a quoted 4-digit code, got {kommune!r} (with papermill use -r kommune 0220)."
        )
    if table is not None:
        rows = table.filter(pl.col("kommunenr") == kommune)
        if structure is not None:
            rows = rows.filter(pl.col("structure") == structure)
        if rows.height == 0:
            where = "" if structure is None else f" på struktur {structure}"
            raise InputError(
                f"Kommunenummer {kommune} finnes ikke i indikatortabellen{where} / not in the indicator table."
            )
    return kommune


# --- frames for notebooks and charts (no plotting here) -----------------------------------------------


def rules_markdown(tolerance_pct: float = NO_CHANGE_TOLERANCE_PCT, comparable_share: float = COMPARABLE_SHARE) -> str:
    """The verdict rules in Norwegian (Markdown), with the thresholds actually used."""
    tolerance = format_number(tolerance_pct, 0)
    share = format_number(comparable_share * 100, 0)
    return "\n".join(
        [
            "For hver indikator som kan belyse en påstand, sammenlignes gjennomsnittlig nivå i årene før og "
            "etter (rapportår; tall per 31.12., og en måned i første halvår regnes til året før). Verdier "
            "med kvalitetsflagg er utelatt. Mangler et år, brukes nærmeste år med tall (høyst "
            f"{MAX_WIDEN_YEARS} år unna), og det står i begrunnelsen.",
            "",
            f"- **Uendret:** en endring innenfor ±{tolerance} % regnes som ingen endring.",
            "- **Sammenlignbar størrelse:** indikatoren går den veien påstanden tilsier, og endringen er "
            f"minst {share} % av den påståtte (bare når indikatoren måler det samme som påstanden).",
            "- **Indirekte mål:** når indikatoren bare henger sammen med påstanden (f.eks. flere beboere i "
            "heldøgnsbolig som tegn på kortere kø), teller bare retningen.",
            "",
            f"**{SUPPORTED}:** alle indikatorer med tall går riktig vei med sammenlignbar størrelse. "
            f"**{PARTLY_SUPPORTED}:** riktig vei, men mindre eller bare indirekte, eller indikatorene "
            "spriker. "
            f"**{NOT_SUPPORTED}:** alle indikatorer med tall er uendret eller går motsatt vei. "
            f"**{UNVERIFIABLE}:** ingen indikator, eller ingen tall i sammenlignbare år.",
        ]
    )


def claim_chart_frame(summary: pl.DataFrame, detail: pl.DataFrame) -> pl.DataFrame:
    """Long frame for a claimed-vs-measured chart: a row per claim (claimed %) and per measured indicator."""
    claimed = summary.filter(pl.col("påstått_endring_pct").is_not_null()).select(
        "id",
        pl.lit("Påstått").alias("kilde"),
        pl.lit("Påstått i dokumentet").alias("serie"),
        pl.col("påstått_endring_pct").alias("endring_pct"),
        pl.lit(None, dtype=pl.String).alias("forventet"),
        pl.lit(None, dtype=pl.String).alias("år"),
        "dom",
    )
    measured = (
        detail.filter(pl.col("målt_endring_pct").is_not_null())
        .join(summary.select("id", "dom"), on="id", how="left")
        .select(
            "id",
            pl.lit("Målt (SSB)").alias("kilde"),
            pl.format(
                "{} (bør gå {})",
                pl.col("indikator_navn"),
                pl.col("forventet").replace_strict({"up": "opp", "down": "ned"}, default=None),
            ).alias("serie"),
            pl.col("målt_endring_pct").alias("endring_pct"),
            pl.col("forventet").replace_strict({"up": "opp", "down": "ned"}, default=None),
            pl.format("{} → {}", pl.col("før_år"), pl.col("etter_år")).alias("år"),
            "dom",
        )
    )
    frame = pl.concat([claimed, measured], how="vertical_relaxed")
    order = {claim_id: position for position, claim_id in enumerate(summary["id"].to_list())}
    texts = [format_change_pct(value) for value in frame["endring_pct"].to_list()]
    return frame.with_columns(
        pl.Series("endring_tekst", texts, dtype=pl.String),
        pl.col("id").replace_strict(order, return_dtype=pl.Int64).alias("rekkefølge"),
        pl.format("{} – {}", pl.col("id"), pl.col("dom")).alias("overskrift"),
    ).sort("rekkefølge", pl.col("kilde") != "Påstått", "serie")


def evidence_series(
    document: ClaimsDocument,
    table: pl.DataFrame,
    *,
    kommune: str | None = None,
    start: int | None = None,
    end: int | None = None,
    exclude_flagged: bool = True,
) -> pl.DataFrame:
    """Yearly values of every evidence indicator for the claims' kommune (for a line chart)."""
    kommune = kommune or document.kommune
    ids = list(dict.fromkeys(spec.indicator for claim in document.claims for spec in claim.evidence))
    rows = table.filter(
        (pl.col("kommunenr") == kommune)
        & (pl.col("structure") == document.structure)
        & pl.col("indicator").is_in(ids)
        & pl.col("value").is_not_null()
    )
    if exclude_flagged:
        rows = rows.filter(pl.col("flag").is_null())
    if start is not None:
        rows = rows.filter(pl.col("year") >= start)
    if end is not None:
        rows = rows.filter(pl.col("year") <= end)
    labels = pl.DataFrame(
        {
            "indicator": ids,
            "indikator_navn": [BY_ID[i].display for i in ids],
            "enhet": [BY_ID[i].unit for i in ids],
        }
    )
    return rows.select("kommunenr", "year", "indicator", "value").join(labels, on="indicator").sort("indicator", "year")


def promise_chart_frame(tracked: pl.DataFrame, kommune_label: str, group_label: str) -> pl.DataFrame:
    """Long frame for a chart of the kommune's change against the comparison group's median, per indicator."""
    rows = tracked.filter(pl.col("endring_pct").is_not_null())
    base = ["id", "indikator_navn", "status", "basisår", "siste_år"]
    own = rows.select(*base, pl.lit(kommune_label).alias("serie"), pl.col("endring_pct"))
    group = rows.filter(pl.col("median_endring_pct").is_not_null()).select(
        *base, pl.lit(group_label).alias("serie"), pl.col("median_endring_pct").alias("endring_pct")
    )
    frame = pl.concat([own, group])
    texts = [format_change_pct(value) for value in frame["endring_pct"].to_list()]
    return frame.with_columns(
        pl.format("{}: {}", pl.col("id"), pl.col("indikator_navn")).alias("løfte_indikator"),
        pl.Series("endring_tekst", texts, dtype=pl.String),
    )
