"""Read and validate claims and programme files; every problem is a DataError naming file, record and field.

Checked: types, unknown keys, periods in order (the before-period may neither start nor end after the
after-period, nor equal it), units from KNOWN_UNITS, topics from TOPICS, indicator ids in the catalogue,
unique ids, a claimed change that agrees with the before/after values and the direction, a direct measure's
size comparison that the claim can support, and links to rows that exist in the secondary-facts file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from helpers import paths
from helpers.analysis._panel import KOMMUNE_CODE
from helpers.analysis.claims._model import (
    CHANGE_KINDS,
    CLAIM_TYPES,
    DIRECTIONS,
    KNOWN_UNITS,
    MEASURES,
    PROMISE_DIRECTIONS,
    PROMISE_TYPES,
    RELATIONS,
    SCHEMA_VERSION,
    SIZE_COMPARISONS,
    TOPICS,
    Claim,
    ClaimedChange,
    ClaimsDocument,
    EvidenceSpec,
    Point,
    Programme,
    Promise,
    PromiseIndicator,
    SecondaryLink,
    parse_period,
)
from helpers.errors import DataError
from helpers.sources.indicators import BY_ID
from helpers.yamlfile import read_yaml

DEFAULT_SECONDARY_CSV = paths.RAW / "secondary" / "asker_secondary_facts.csv"
CLAIMS_DIR = paths.RAW / "claims"
_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_CLAIM_KEYS = {
    "id", "paraphrase", "topic", "kommune", "quantified", "claim_type", "before", "after", "claimed_change",
    "unit", "direction", "source", "evidence", "why_unmeasurable", "secondary_evidence", "note",
}  # fmt: skip
_CLAIM_REQUIRED = {"id", "paraphrase", "topic", "kommune", "quantified", "after", "unit", "direction", "source",
                   "evidence"}
_EVIDENCE_KEYS = {"indicator", "measure", "expected", "size", "note"}
_PROMISE_KEYS = {"id", "paraphrase", "topic", "type", "direction", "indicators", "why_unmeasurable", "source",
                 "secondary_evidence", "note"}
_PROMISE_REQUIRED = {"id", "paraphrase", "topic", "type", "direction", "indicators", "source"}
_FILE_KEYS = {"schema_version", "document", "kommune", "structure", "not_included"}


class _Where:
    """Builds DataErrors that name the file, the record and the field."""

    def __init__(self, path: Path, record: str | None = None) -> None:
        self.path = path
        self.record = record

    def error(self, field_name: str, problem: str) -> DataError:
        where = f"{self.path}" + (f": record {self.record!r}" if self.record is not None else "")
        return DataError(f"{where}, field {field_name!r}: {problem}")


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
    if not isinstance(value, str) or not KOMMUNE_CODE.fullmatch(value):
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


def _indicator_id(where: _Where, value: object, key: str) -> str:
    if not isinstance(value, str) or value not in BY_ID:
        raise where.error(key, f"unknown indicator id {value!r} (not in helpers.sources.indicators.BY_ID)")
    return value


def _dict_items(where: _Where, field: str, raw: object, allowed: set[str]) -> list[tuple[str, dict]]:
    """(key, item) of a list of mappings with only `allowed` keys; errors name `field[i]`."""
    if not isinstance(raw, list):
        raise where.error(field, f"expected a list (may be empty), got {raw!r}")
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - allowed:
            raise where.error(f"{field}[{position}]", f"expected {{{', '.join(sorted(allowed))}}}, got {item!r}")
    return [(f"{field}[{position}]", item) for position, item in enumerate(raw)]


def _secondary_links(where: _Where, value: object, secondary: pl.DataFrame | None) -> tuple[SecondaryLink, ...]:
    if value is None:
        return ()
    links = []
    for key, item in _dict_items(where, "secondary_evidence", value, {"kommunenummer", "year", "indicator", "note"}):
        kommunenummer, year, indicator = item.get("kommunenummer"), item.get("year"), item.get("indicator")
        if not isinstance(kommunenummer, str) or not re.fullmatch(r"[0-9]+", kommunenummer):
            raise where.error(f"{key}.kommunenummer", f"expected a quoted kommune number, got {kommunenummer!r}")
        if isinstance(year, bool) or not isinstance(year, int):
            raise where.error(f"{key}.year", f"expected a year, got {year!r}")
        if not isinstance(indicator, str) or not indicator:
            raise where.error(f"{key}.indicator", f"expected the secondary file's indicator name, got {indicator!r}")
        if secondary is not None and secondary.filter(
            (pl.col("kommunenummer") == kommunenummer) & (pl.col("year") == year) & (pl.col("indicator") == indicator)
        ).height == 0:
            raise where.error(key, f"no row ({kommunenummer}, {year}, {indicator}) in the secondary-facts file")
        links.append(SecondaryLink(kommunenummer, year, indicator, str(item.get("note") or "")))
    return tuple(links)


def _structure(where: _Where, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value != "as_reported" and not (isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value)):
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


def _header(path: Path, list_key: str, versions: tuple[int, ...], secondary_csv: Path | str | None
            ) -> tuple[dict[str, Any], _Where, str, str, pl.DataFrame | None]:
    """The file's top level checked: data, where, kommune, structure, and the secondary facts to link to."""
    data = read_yaml(path, DataError, dict)
    top = _Where(path)
    _check_keys(top, data, _FILE_KEYS | {list_key}, {"document", "kommune", "structure", list_key})
    if data.get("schema_version", SCHEMA_VERSION) not in versions:
        raise top.error("schema_version", f"this version reads schema_version {SCHEMA_VERSION}; in version 1 files "
                        "give each evidence item `measure: direct|indirect` (and `size: relative|absolute` for a "
                        "direct one) instead of `compare`")
    secondary = None if secondary_csv is None else load_secondary(secondary_csv)
    return data, top, _kommune(top, data.get("kommune")), _structure(top, data.get("structure")), secondary


def load_secondary(path: Path | str = DEFAULT_SECONDARY_CSV) -> pl.DataFrame:
    """The secondary (non-SSB) facts, kommunenummer as text, labelled ``source_kind = "secondary"``."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: secondary-facts file not found.")
    frame = pl.read_csv(path, schema_overrides={"kommunenummer": pl.String, "year": pl.Int64, "value": pl.Float64,
                                                "symbol": pl.String})
    return frame.with_columns(pl.lit("secondary").alias("source_kind"))


def secondary_for(links: Sequence[SecondaryLink], secondary: pl.DataFrame) -> pl.DataFrame:
    """The secondary-facts rows a claim or promise links to (labelled ``source_kind = "secondary"``)."""
    if not links:
        return secondary.clear().with_columns(note=pl.lit(None, dtype=pl.String))
    keys = pl.DataFrame(
        [(link.kommunenummer, link.year, link.indicator, link.note) for link in links],
        schema={"kommunenummer": pl.String, "year": pl.Int64, "indicator": pl.String, "note": pl.String},
        orient="row",
    )
    return keys.join(secondary, on=["kommunenummer", "year", "indicator"], how="left")


def _evidence(where: _Where, raw: object, direction: str) -> tuple[EvidenceSpec, ...]:
    out = []
    for key, item in _dict_items(where, "evidence", raw, _EVIDENCE_KEYS):
        indicator = _indicator_id(where, item.get("indicator"), f"{key}.indicator")
        measure = _choice(where, item, "measure", MEASURES) if "measure" in item else None
        if measure is None:
            raise where.error(f"{key}.measure", "missing: say whether the indicator is a direct or indirect measure")
        expected = item.get("expected")
        if expected not in DIRECTIONS:
            raise where.error(f"{key}.expected", f"{expected!r} is not one of up, down")
        size = item.get("size")
        if measure == "direct":
            size = size or "relative"
            if size not in SIZE_COMPARISONS:
                raise where.error(f"{key}.size", f"{size!r} is not one of {', '.join(SIZE_COMPARISONS)}")
            if expected != direction:
                raise where.error(f"{key}.expected", "a direct measure must move the way the claim says")
        elif size is not None:
            raise where.error(f"{key}.size", "only a direct measure is compared by size")
        out.append(EvidenceSpec(indicator, measure, expected, size, str(item.get("note") or "")))
    return tuple(out)


def load_claims(path: Path | str, secondary_csv: Path | str | None = DEFAULT_SECONDARY_CSV) -> ClaimsDocument:
    """Read and validate a claims file (``secondary_csv=None`` skips checking the secondary links)."""
    path = Path(path)
    data, top, kommune, structure, secondary = _header(path, "claims", (SCHEMA_VERSION,), secondary_csv)
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
        before = None if record.get("before") is None else _point(where, record["before"], "before")
        if before is None and quantified:
            raise where.error("before", "a quantified claim needs a before-period (value may be null)")
        if before is not None and (before.period.start > after.period.start or before.period.end > after.period.end
                                   or (before.period.start, before.period.end) == (after.period.start,
                                                                                    after.period.end)):
            raise where.error("before.period",
                              f"periods out of order: before {before.period.text!r} must come before after "
                              f"{after.period.text!r}")
        change = None
        if record.get("claimed_change") is not None:
            raw = record["claimed_change"]
            if not isinstance(raw, dict) or set(raw) != {"kind", "value"}:
                raise where.error("claimed_change", f"expected {{kind: percent|absolute, value}}, got {raw!r}")
            number = _number_or_null(where, raw["value"], "claimed_change.value")
            if number is None:
                raise where.error("claimed_change.value", "missing")
            change = ClaimedChange(_choice(where, raw, "kind", CHANGE_KINDS), number)
        if record.get("unit") not in KNOWN_UNITS:
            raise where.error("unit", f"unknown unit {record.get('unit')!r}; known units: {', '.join(KNOWN_UNITS)}")
        direction = _choice(where, record, "direction", DIRECTIONS)
        source = record.get("source")
        if not isinstance(source, dict) or not {"file", "section"} <= set(source):
            raise where.error("source", f"expected {{file, section, item}}, got {source!r}")
        evidence = _evidence(where, record.get("evidence"), direction)
        claim = Claim(
            id=record["id"], paraphrase=_text(where, record, "paraphrase"),
            topic=_choice(where, record, "topic", TOPICS),
            kommune=_kommune(where, record.get("kommune")), quantified=quantified, claim_type=claim_type,
            before=before, after=after, claimed_change=change, unit=record["unit"], direction=direction,
            source=source, evidence=evidence,
            why_unmeasurable=_text(where, record, "why_unmeasurable",
                                   required=not any(s.measure == "direct" for s in evidence)),
            secondary_evidence=_secondary_links(where, record.get("secondary_evidence"), secondary),
            note=_text(where, record, "note", required=False),
        )
        _check_claimed_change(where, claim)
        claims.append(claim)
    return ClaimsDocument(path, data["document"], kommune, structure, tuple(claims),
                          _not_included(top, data.get("not_included")))


def _check_claimed_change(where: _Where, claim: Claim) -> None:
    """A quantified claim needs a size; stated and computed sizes agree, and agree with the direction."""
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
                raise where.error("claimed_change.value", f"{claim.claimed_change.value} % disagrees with "
                                  f"before/after values ({computed:.1f} %)")
        elif abs(claim.after.value - before_value - claim.claimed_change.value) > 1e-9:
            raise where.error("claimed_change.value", "disagrees with after − before")
    size = claim.relative_change_pct if claim.relative_change_pct is not None else claim.absolute_change
    if size is not None and ((claim.direction == "up" and size <= 0) or (claim.direction == "down" and size >= 0)):
        raise where.error("direction", f"direction {claim.direction!r} disagrees with the claimed change ({size:g})")
    for position, spec in enumerate(claim.evidence):
        if spec.size == "relative" and claim.quantified and claim.relative_change_pct is None:
            raise where.error(f"evidence[{position}].size", "size: relative needs a claimed relative change")
        if spec.size == "absolute" and claim.quantified and claim.absolute_change is None:
            raise where.error(f"evidence[{position}].size", "size: absolute needs a claimed absolute change")


def load_programme(path: Path | str, secondary_csv: Path | str | None = DEFAULT_SECONDARY_CSV) -> Programme:
    """Read and validate a programme file (``secondary_csv=None`` skips checking the secondary links)."""
    path = Path(path)
    # the programme schema is unchanged since version 1
    data, top, kommune, structure, secondary = _header(path, "promises", (1, SCHEMA_VERSION), secondary_csv)
    promises = []
    for record in _records(top, data, "promises"):
        where = _Where(path, record["id"])
        _check_keys(where, record, _PROMISE_KEYS, _PROMISE_REQUIRED)
        indicators = []
        for key, item in _dict_items(where, "indicators", record.get("indicators"),
                                     {"indicator", "wanted", "relation", "note"}):
            indicator = _indicator_id(where, item.get("indicator"), f"{key}.indicator")
            if item.get("wanted") not in DIRECTIONS:
                raise where.error(f"{key}.wanted", f"{item.get('wanted')!r} is not one of up, down")
            relation = item.get("relation", "proxy")
            if relation not in RELATIONS:
                raise where.error(f"{key}.relation", f"{relation!r} is not one of {', '.join(RELATIONS)}")
            indicators.append(PromiseIndicator(indicator, item["wanted"], relation, str(item.get("note") or "")))
        source = record.get("source")
        if not isinstance(source, dict) or "file" not in source:
            raise where.error("source", f"expected {{file, section}}, got {source!r}")
        promises.append(Promise(
            id=record["id"], paraphrase=_text(where, record, "paraphrase"),
            topic=_choice(where, record, "topic", TOPICS),
            type=_choice(where, record, "type", PROMISE_TYPES),
            direction=_choice(where, record, "direction", PROMISE_DIRECTIONS), indicators=tuple(indicators),
            why_unmeasurable=_text(where, record, "why_unmeasurable",
                                   required=not any(i.relation == "direct" for i in indicators)),
            source=source, secondary_evidence=_secondary_links(where, record.get("secondary_evidence"), secondary),
        ))
    return Programme(path, data["document"], kommune, structure, tuple(promises),
                     _not_included(top, data.get("not_included")))
