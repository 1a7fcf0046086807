"""Kommune reforms from KLASS 131: which codes were valid when, and where each code went.

Semantics. A change with `changeOccurred` 1 January of year E takes effect for report year E: figures for
report year E-1 (counted at 31 December) are reported under the old code, figures for E under the new.
A code with several new codes at one date was split; several old codes with one new code were merged.

`Reforms.successors(code, from_year, to_year)` follows the changes forward (to_year > from_year) or
backward (to_year < from_year) and returns the codes of the target structure the code's area belongs to.
More than one successor means the area was split (forward) or is a merger of several target codes
(backward): its figures cannot be assigned to one target without guessing.

Restored borders. KLASS says which codes a split produced, not where the new border runs. When a sourced
table (data/raw/reforms/restored_borders.csv, see `Restoration`) says that a code created by a split covers
exactly the land of an earlier code — 1580 Haram (2024) = 1534 Haram (until 2019), which had merged into
1507 Ålesund in 2020 — the split is resolved for land whose history is known: what lay inside 1534 goes to
1580 only, what lay outside it (1504, 1523, 1529, 1546) to the other successor (1508) only, forward and
backward. Figures of the merged code itself (1507, 2020–2023) still spread over both and stay split.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import polars as pl

from helpers import file_cache, paths
from helpers.errors import DataError, InputError

KLASS_DIR = paths.RAW / "klass131"
# the snapshot's name, and the name a live fetch (helpers.sources.ssb) gives the same KLASS response
CHANGE_FILES = ("changetables.json", "klass131_changes.json")
FIRST_DATA_YEAR = 2007
RESTORED_FILE = paths.RAW / "reforms" / "restored_borders.csv"
RESTORED_COLUMNS = ("code", "valid_from", "same_area_as", "same_area_until", "source")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: KLASS file missing; restore data/raw from git or run `fetch`.") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); the file is corrupt or "
                        "truncated — restore it from git or run `fetch`.") from None


@dataclass(frozen=True)
class Restoration:
    """`code` (valid from `valid_from`, created by a split) covers exactly the land of `same_area_as` (valid
    until `same_area_until`, then merged into the code that was later split)."""

    code: str
    valid_from: int
    same_area_as: str
    same_area_until: int
    source: str = ""


@dataclass(frozen=True, eq=False)
class Reforms:
    """Code changes (old_code, new_code, year, names), the code list of the latest structure and the
    sourced border restorations."""

    changes: pl.DataFrame
    latest_codes: frozenset[str]
    latest_year: int
    names: dict[str, str]
    restorations: tuple[Restoration, ...] = ()

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
                    current = self._resolve(code, from_year, change_year, current, forward=True)
        elif to_year < from_year:
            for change_year in reversed(self.change_years):
                if to_year < change_year <= from_year:
                    step = self._backward[change_year]
                    current = frozenset(old for c in current for old in step.get(c, (c,)))
                    current = self._resolve(code, from_year, change_year, current, forward=False)
        return current

    def _resolve(self, code: str, from_year: int, change_year: int, current: frozenset[str], *, forward: bool
                 ) -> frozenset[str]:
        """`current` (the codes reached at `change_year`) narrowed by the restorations whose split (forward)
        or merger (backward) happens at `change_year`, when the start area is known to lie inside or outside
        the restored land (see module docstring)."""
        for rest in self.restorations:
            if forward:  # the split: the restored code, judged by where the start lay before the merger
                applies = change_year == rest.valid_from and from_year <= rest.same_area_until
                reached, known, check_year = rest.code, rest.same_area_as, rest.same_area_until
                step = self._forward[change_year]
            else:  # the merger, backward: the earlier code, judged by where the start lies after the split
                applies = change_year == rest.same_area_until + 1 and from_year >= rest.valid_from
                reached, known, check_year = rest.same_area_as, rest.code, rest.valid_from
                step = self._backward[change_year]
            if not applies or reached not in current:
                continue
            where = self.successors(code, from_year, check_year)
            if where == {known}:  # wholly inside the restored land
                current = (current - step.get(self._merged_into(rest), frozenset())) | {reached}
            elif known not in where:  # wholly outside it
                current = current - {reached}
        return current

    def _merged_into(self, rest: Restoration) -> str:
        """The code `rest.same_area_as` merged into (checked by `check_restorations`)."""
        return next(iter(self._forward[rest.same_area_until + 1][rest.same_area_as]))

    def check_restorations(self) -> Reforms:
        """`self` if every restoration matches the change list; DataError naming the row otherwise.

        The earlier code must have merged wholly into one code, which kept its code until it was split
        into the restored code and others.
        """
        for rest in self.restorations:
            where = f"{RESTORED_FILE.name}: {rest.code} = {rest.same_area_as}"
            merged = self._forward.get(rest.same_area_until + 1, {}).get(rest.same_area_as, frozenset())
            if len(merged) != 1:
                raise DataError(f"{where}: KLASS 131 has no merger of {rest.same_area_as} into one code on "
                                f"1 January {rest.same_area_until + 1}; check the row against the change list.")
            (host,) = merged
            split = self._forward.get(rest.valid_from, {}).get(host, frozenset())
            unchanged = all(host not in self._forward[y] for y in self.change_years
                            if rest.same_area_until + 1 < y < rest.valid_from)
            if rest.code not in split or len(split) < 2 or not unchanged:
                raise DataError(f"{where}: KLASS 131 does not split {host} into {rest.code} and others on "
                                f"1 January {rest.valid_from}; check the row against the change list.")
        return self

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

    @lru_cache(maxsize=100_000)  # noqa: B019
    def area_changes(self, code: str, code_year: int, first: int, last: int) -> tuple[tuple[int, str], ...]:
        """Changes in years first < Y <= last that touch the area of `code` (valid in `code_year`).

        Each is (Y, kind): `merger` (several codes became one), `split` (one code became several) or
        `renumbered` (the same borders under a new code). Read from KLASS's change pairs of year Y for the
        codes the area had in Y-1 and Y; a border adjustment without any code change is invisible here.
        """
        out = []
        for year in self.change_years:
            if not first < year <= last:
                continue
            by_old, by_new = self._pairs_by_code[year]
            # that year's pairs from the codes the area had before or into the codes it had after; a pair
            # with the same old and new code is a name change, or the code that continues in a merger
            pairs = {pair for c in self.successors(code, code_year, year - 1) for pair in by_old.get(c, ())}
            pairs |= {pair for c in self.successors(code, code_year, year) for pair in by_new.get(c, ())}
            if all(old == new for old, new in pairs):
                continue
            olds = {old for old, _ in pairs}
            news = {new for _, new in pairs}
            # all of that year's pairs into these new codes, so a merger's other members count too
            sources = {old for new in news for old, _ in by_new[new]}
            if len(sources) > len(news):
                out.append((year, "merger"))
            elif any(len(by_old[old]) > 1 for old in olds):
                out.append((year, "split"))
            else:
                out.append((year, "renumbered"))
        return tuple(out)

    @cached_property
    def _pairs_by_code(self) -> dict[int, tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]]:
        """Per change year: its (old, new) pairs by old code, and by new code."""
        out = {}
        for year, pairs in self._by_year.items():
            by_old: dict[str, list[tuple[str, str]]] = defaultdict(list)
            by_new: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for old, new in pairs:
                by_old[old].append((old, new))
                by_new[new].append((old, new))
            out[year] = (dict(by_old), dict(by_new))
        return out

    def borders_changed(self, code: str, code_year: int, first: int, last: int) -> tuple[int, ...]:
        """Years first < Y <= last in which the area of `code` was merged or split (renumbering aside)."""
        return tuple(year for year, kind in self.area_changes(code, code_year, first, last) if kind != "renumbered")

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


def read_restorations(path: Path | None = None) -> tuple[Restoration, ...]:
    """The rows of restored_borders.csv (empty when the file does not exist)."""
    path = Path(path) if path is not None else RESTORED_FILE
    if not path.exists():
        return ()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(RESTORED_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: columns {sorted(missing)} are missing; restore the file from git.")
        try:
            return tuple(
                Restoration(row["code"].strip(), int(row["valid_from"]), row["same_area_as"].strip(),
                            int(row["same_area_until"]), row["source"].strip())
                for row in reader
            )
        except ValueError as exc:
            raise DataError(f"{path}: years must be whole numbers ({exc}); restore the file from git.") from None


def load_reforms(directory: Path | None = None, restored: Path | None = None) -> Reforms:
    """Read the KLASS 131 change list and the latest version file from the raw snapshot, and the sourced
    border restorations (`restored`, default data/raw/reforms/restored_borders.csv). Kept per process while
    the files are unchanged (helpers.file_cache): a Reforms is immutable, and its look-ups stay cached."""
    directory = Path(directory) if directory is not None else KLASS_DIR
    restored = Path(restored) if restored is not None else RESTORED_FILE
    return file_cache.cached(("reforms", str(directory.resolve()), str(restored.resolve())),
                             lambda: [*sorted(directory.glob("*.json")), restored],
                             lambda: _read_reforms(directory, restored))


def _read_reforms(directory: Path, restored: Path) -> Reforms:
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
    reforms = Reforms(changes=changes, latest_codes=latest_codes, latest_year=latest_year, names=names,
                      restorations=read_restorations(restored))
    return reforms.check_restorations()
