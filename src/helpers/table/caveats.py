"""The caveats register (`caveats.yml`): known breaks, caveats and definitions, and which figures they touch.

This is govcookiecutter's assumptions-and-caveats log made executable: one file, read and validated here;
reports print the entries that apply to their kommune, years and indicators, and the cleaning report lists
all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from helpers.errors import DataError
from helpers.sources.indicators import BY_ID
from helpers.sources.schema import KOMMUNE_CODE
from helpers.yamlfile import read_yaml

REGISTER = Path(__file__).with_name("caveats.yml")
KINDS = ("break", "caveat", "definition")
_FIELDS = {"id", "kind", "title", "text", "year", "years", "indicators", "kommuner", "source"}
_ID = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Caveat:
    """One entry of the register. `years`/`indicators`/`kommuner` are None where the entry applies to all."""

    id: str
    kind: str
    title: str
    text: str
    source: str
    year: int | None = None
    years: tuple[int | None, int | None] | None = None
    indicators: tuple[str, ...] | None = None
    kommuner: tuple[str, ...] | None = None

    def applies(self, first: int, last: int, kommune: str | None = None,
                indicators: Iterable[str] | None = None) -> bool:
        """True when the entry touches figures of `kommune` for `indicators` in the years first..last (a break:
        when its year separates two of those years)."""
        if self.kind == "break":
            assert self.year is not None
            if not first < self.year <= last:
                return False
        elif self.years is not None:
            low, high = self.years
            if (high is not None and first > high) or (low is not None and last < low):
                return False
        if self.kommuner is not None and kommune is not None and kommune not in self.kommuner:
            return False
        return not (self.indicators is not None and indicators is not None
                    and not set(self.indicators) & set(indicators))


def _entry(path: Path, position: int, raw: object) -> Caveat:
    where = f"{path}: entry {position}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a mapping, got {raw!r}.")
    where += f" ({raw.get('id')!r})"
    unknown = sorted(set(raw) - _FIELDS)
    missing = sorted({"id", "kind", "title", "text", "source"} - set(raw))
    if unknown or missing:
        raise DataError(f"{where}: unknown fields {unknown} / missing fields {missing}.")
    if not isinstance(raw["id"], str) or not _ID.fullmatch(raw["id"]) or raw["kind"] not in KINDS:
        raise DataError(f"{where}: id must be snake_case and kind one of {', '.join(KINDS)}.")
    if any(not isinstance(raw[key], str) or not raw[key].strip() for key in ("title", "text", "source")):
        raise DataError(f"{where}: title, text and source must be non-empty text.")
    if (raw["kind"] == "break") != isinstance(raw.get("year"), int):
        raise DataError(f"{where}: a break needs its first year on the new basis (`year`), other kinds none.")
    years = raw.get("years")
    if years is not None and (not isinstance(years, list) or len(years) != 2
                              or not all(y is None or isinstance(y, int) for y in years)):
        raise DataError(f"{where}: years must be [first, last] with null for an open end, got {years!r}.")
    indicators = raw.get("indicators")
    if indicators is not None and (not isinstance(indicators, list) or any(i not in BY_ID for i in indicators)):
        raise DataError(f"{where}: indicators must be catalogue ids, got {indicators!r}.")
    kommuner = raw.get("kommuner")
    if kommuner is not None and (not isinstance(kommuner, list)
                                 or not all(isinstance(k, str) and KOMMUNE_CODE.fullmatch(k) for k in kommuner)):
        raise DataError(f"{where}: kommuner must be quoted four-digit codes, got {kommuner!r}.")
    return Caveat(raw["id"], raw["kind"], raw["title"].strip(), " ".join(raw["text"].split()), raw["source"].strip(),
                  raw.get("year"), None if years is None else (years[0], years[1]),
                  None if indicators is None else tuple(indicators), None if kommuner is None else tuple(kommuner))


def load_caveats(path: Path | None = None) -> tuple[Caveat, ...]:
    """The register, validated; DataError naming the file and the entry on any problem."""
    path = Path(path) if path is not None else REGISTER
    data = read_yaml(path, DataError, list, what="caveats register")
    entries = tuple(_entry(path, position, raw) for position, raw in enumerate(data, start=1))
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}.")
    return entries


@cache
def register() -> tuple[Caveat, ...]:
    """The project's register (read once per process)."""
    return load_caveats()


def applicable(first: int, last: int, kommune: str | None = None,
               indicators: Iterable[str] | None = None, kinds: Iterable[str] = KINDS) -> list[Caveat]:
    """Entries of the register that touch these figures, breaks first, in register order."""
    wanted = tuple(indicators) if indicators is not None else None
    found = [c for c in register() if c.kind in tuple(kinds) and c.applies(first, last, kommune, wanted)]
    return sorted(found, key=lambda c: KINDS.index(c.kind))
