"""Kommune reforms from KLASS 131: which codes were valid when, and where each code went.

Semantics. A change with `changeOccurred` 1 January of year E takes effect for report year E: figures for
report year E-1 (counted at 31 December) are reported under the old code, figures for E under the new.
A code with several new codes at one date was split; several old codes with one new code were merged.

`Reforms.successors(code, from_year, to_year)` follows the changes forward (to_year > from_year) or
backward (to_year < from_year) and returns the codes of the target structure the code's area belongs to.
More than one successor means the area was split (forward) or is a merger of several target codes
(backward): its figures cannot be assigned to one target without guessing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import polars as pl

from helpers import paths
from helpers.errors import DataError, InputError

KLASS_DIR = paths.RAW / "klass131"
# the snapshot's name, and the name a live fetch (helpers.ssb) gives the same KLASS response
CHANGE_FILES = ("changetables.json", "klass131_changes.json")
FIRST_DATA_YEAR = 2007


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: KLASS file missing; restore data/raw from git or run `fetch`.") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); the file is corrupt or "
                        "truncated — restore it from git or run `fetch`.") from None


@dataclass(frozen=True, eq=False)
class Reforms:
    """Code changes (old_code, new_code, year, names) and the code list of the latest structure."""

    changes: pl.DataFrame
    latest_codes: frozenset[str]
    latest_year: int
    names: dict[str, str]

    @cached_property
    def _by_year(self) -> dict[int, list[tuple[str, str]]]:
        out: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for old, new, year in self.changes.select("old_code", "new_code", "year").iter_rows():
            out[year].append((old, new))
        return dict(out)

    @cached_property
    def change_years(self) -> tuple[int, ...]:
        """Years in which some code changed, ascending."""
        return tuple(sorted(self._by_year))

    def check_structure_year(self, year: int) -> int:
        """`year` if it is a structure the snapshot can describe; InputError otherwise."""
        if not isinstance(year, int) or isinstance(year, bool):
            raise InputError(f"structure year must be an integer such as 2024, got {year!r}.")
        if not FIRST_DATA_YEAR <= year <= self.latest_year:
            raise InputError(
                f"Umulig strukturår / impossible structure year {year}: the KLASS 131 snapshot describes "
                f"kommune structures {FIRST_DATA_YEAR}–{self.latest_year}. Choose a year in that range "
                "(default 2024), or run `fetch` to get newer KLASS versions."
            )
        return year

    @lru_cache(maxsize=64)  # noqa: B019 - the instance is frozen and lives for the whole build
    def valid_codes(self, year: int) -> frozenset[str]:
        """Kommune codes valid in report `year`, reconstructed backwards from the latest version."""
        codes = set(self.latest_codes)
        for change_year in sorted(self._by_year, reverse=True):
            if change_year <= year:
                break
            pairs = self._by_year[change_year]
            codes -= {new for _, new in pairs}
            codes |= {old for old, _ in pairs}
        return frozenset(codes)

    def _steps(self, backward: bool) -> dict[int, dict[str, frozenset[str]]]:
        """Per change year: each code and the codes it became (or, `backward`, the codes it came from)."""
        out: dict[int, dict[str, set[str]]] = {}
        for year, pairs in self._by_year.items():
            step: dict[str, set[str]] = defaultdict(set)
            for old, new in pairs:
                source, target = (new, old) if backward else (old, new)
                step[source].add(target)
            out[year] = step
        return {year: {k: frozenset(v) for k, v in step.items()} for year, step in out.items()}

    @cached_property
    def _forward(self) -> dict[int, dict[str, frozenset[str]]]:
        return self._steps(backward=False)

    @cached_property
    def _backward(self) -> dict[int, dict[str, frozenset[str]]]:
        return self._steps(backward=True)

    @lru_cache(maxsize=200_000)  # noqa: B019
    def successors(self, code: str, from_year: int, to_year: int) -> frozenset[str]:
        """Codes of structure `to_year` that the area of `code` (valid in `from_year`) belongs to."""
        current = frozenset({code})
        if to_year > from_year:
            for change_year in self.change_years:
                if from_year < change_year <= to_year:
                    step = self._forward[change_year]
                    current = frozenset(new for c in current for new in step.get(c, (c,)))
        elif to_year < from_year:
            for change_year in reversed(self.change_years):
                if to_year < change_year <= from_year:
                    step = self._backward[change_year]
                    current = frozenset(old for c in current for old in step.get(c, (c,)))
        return current

    @lru_cache(maxsize=4096)  # noqa: B019
    def inverse(self, year: int, structure_year: int) -> dict[str, frozenset[str]]:
        """Each code of `structure_year` with the codes valid in `year` that map (wholly or partly) into it."""
        out: dict[str, set[str]] = defaultdict(set)
        for code in self.valid_codes(year):
            for target in self.successors(code, year, structure_year):
                out[target].add(code)
        return {k: frozenset(v) for k, v in out.items()}

    def predecessors(self, target: str, structure_year: int, year: int) -> frozenset[str]:
        """Codes valid in `year` whose areas map (wholly or partly) into `target` of `structure_year`."""
        return self.inverse(year, structure_year).get(target, frozenset())

    def is_split(self, code: str, from_year: int, to_year: int) -> bool:
        """True when the area of `code` spreads over several codes of structure `to_year`."""
        return len(self.successors(code, from_year, to_year)) > 1

    @lru_cache(maxsize=100_000)  # noqa: B019
    def exact_areas(self, code: str, code_year: int, area_year: int) -> frozenset[str] | None:
        """Codes of structure `area_year` whose union is exactly the area of `code` (valid in
        `code_year`), or None when some of them also hold land of other codes."""
        areas = self.successors(code, code_year, area_year)
        for area in areas:
            others = self.predecessors(area, area_year, code_year) - {code}
            if others:
                return None
        return areas

    def crosswalk(self, years: range | list[int], structure_year: int) -> pl.DataFrame:
        """For every code valid in each year: its target code(s) on `structure_year` and the relation.

        Columns: code, year, target, n_targets, relation (`same`, `renumbered`, `merged`, `split`).
        A split code has one row per target with relation `split`.
        """
        self.check_structure_year(structure_year)
        rows = []
        for year in years:
            target_sources: dict[str, int] = defaultdict(int)
            mapped = {code: self.successors(code, year, structure_year) for code in self.valid_codes(year)}
            for targets in mapped.values():
                for target in targets:
                    target_sources[target] += 1
            for code, targets in sorted(mapped.items()):
                for target in sorted(targets):
                    if len(targets) > 1:
                        relation = "split"
                    elif target_sources[target] > 1:
                        relation = "merged"
                    elif target != code:
                        relation = "renumbered"
                    else:
                        relation = "same"
                    rows.append((code, year, target, len(targets), relation))
        return pl.DataFrame(
            rows,
            schema={"code": pl.String, "year": pl.Int32, "target": pl.String, "n_targets": pl.Int32,
                    "relation": pl.String},
            orient="row",
        )

    def name(self, code: str) -> str:
        """The latest known name of a code (from KLASS versions and change lists)."""
        return self.names.get(code, code)

    def check_code(self, code: str) -> str:
        """`code` normalised to four digits if KLASS knows it; InputError naming it otherwise."""
        code = str(code).strip()
        if not code.isascii():  # str.isdigit() and int() also take fullwidth and other digits
            raise InputError(f"Ugyldig kommunenummer / invalid kommune code {code!r}: write it with the digits 0-9, "
                             "such as '3203' (Asker).")
        if code.isdigit() and len(code) < 4:
            code = code.zfill(4)
        if code not in self.names:
            raise InputError(
                f"Ukjent kommunenummer / unknown kommune code {code!r}: not in KLASS 131 "
                f"({FIRST_DATA_YEAR}–{self.latest_year}). Give a four-digit code such as '3203' (Asker) or "
                "a historic one such as '0220'."
            )
        return code


def load_reforms(directory: Path | None = None) -> Reforms:
    """Read the KLASS 131 change list and the latest version file from the raw snapshot."""
    directory = Path(directory) if directory is not None else KLASS_DIR
    changes_file = next((directory / n for n in CHANGE_FILES if (directory / n).exists()), directory / CHANGE_FILES[0])
    payload = _read_json(changes_file)
    try:
        raw_changes = payload["codeChanges"]
        changes = pl.DataFrame(
            {
                "old_code": [c["oldCode"] for c in raw_changes],
                "old_name": [c["oldName"] for c in raw_changes],
                "new_code": [c["newCode"] for c in raw_changes],
                "new_name": [c["newName"] for c in raw_changes],
                "year": [int(c["changeOccurred"][:4]) for c in raw_changes],
            },
            schema_overrides={"year": pl.Int32},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{changes_file}: unexpected KLASS change-list shape ({exc}).") from None

    versions = sorted([*directory.glob("Kommuneinndeling *.json"), *directory.glob("klass131_version_*.json")])
    if not versions:
        raise DataError(f"{directory}: no KLASS 131 version files ('Kommuneinndeling YYYY.json') found.")
    names: dict[str, str] = {}
    for old, old_name, new, new_name, _ in changes.sort("year").iter_rows():
        names.setdefault(old, old_name)
        names[new] = new_name
    latest_codes: frozenset[str] = frozenset()
    latest_year = 0
    for version in versions:
        data = _read_json(version)
        year = int(data["validFrom"][:4])
        items = [item for item in data["classificationItems"] if item["code"] != "9999"]
        for item in items:
            names[item["code"]] = item["name"]
        if year > latest_year:
            latest_year, latest_codes = year, frozenset(item["code"] for item in items)
    return Reforms(changes=changes, latest_codes=latest_codes, latest_year=latest_year, names=names)
