"""What the live fetch asks SSB for: the catalogue's tables as queries, and how a query is checked against a
table's metadata and split under SSB's cell limit (no HTTP here; helpers.sources.ssb sends the queries)."""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from helpers.errors import FetchError, InputError
from helpers.sources.indicators import CATALOGUE

log = logging.getLogger("helpers.sources.ssb")  # the fetch's warnings, under one logger

REGION = "REGION"
"""Selection key standing for the table's region dimension (found in its metadata)."""
REGION_NAMES = ("KOKkommuneregion0000", "Region")


# --------------------------------------------------------------------------------------------------------
# What to fetch
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """One query of one SSB table.

    `selection` maps dimension codes (or `REGION`) to value expressions; ContentsCode comes from `contents`.
    Dimensions the table has but `selection` does not name are fetched whole (`*`). An empty tuple means
    "eliminate" (SSB sums over the dimension); if the table does not allow that, all values are fetched.
    `codelists` maps a dimension to an SSB code list id (sent with the metadata and data calls).
    """

    table: str
    name: str
    contents: tuple[str, ...]
    selection: tuple[tuple[str, tuple[str, ...]], ...]
    description: str
    codelists: tuple[tuple[str, str], ...] = ()


def catalogue_contents(table: str) -> tuple[str, ...]:
    """ContentsCodes the catalogue reads from `table`, in catalogue order (codes pair with tables by position
    when an indicator names as many codes as tables; a single code applies to all its tables)."""
    codes: list[str] = []
    for indicator in CATALOGUE:
        if table not in indicator.source_tables or not indicator.contents_codes:
            continue
        if len(indicator.contents_codes) == len(indicator.source_tables):
            pairs = zip(indicator.source_tables, indicator.contents_codes, strict=True)
            found = [code for source, code in pairs if source == table]
        else:
            found = list(indicator.contents_codes)
        codes.extend(code for code in found if code not in codes)
    return tuple(codes)


def _query(table: str, description: str, name: str = "", **dims: tuple[str, ...]) -> TableQuery:
    contents = catalogue_contents(table) or ("*",)
    selection = {REGION: ("*",), "Tid": ("*",), **dims}
    return TableQuery(table, name or table, contents, tuple(selection.items()), description)


_AGES_67_PLUS = (*(f"{age:03d}" for age in range(67, 105)), "105+")

TABLES: tuple[TableQuery, ...] = (
    _query("12209", "Utvalgte nøkkeltall for helse og omsorg (K): andel 80+ som bruker hjemmetjenester"),
    _query("12292", "Omsorgstjenester, supplerende grunnlagstall (K): brukere hjemmetjenester, "
           "heldøgnsbolig, timer per uke"),
    _query("11645", "Brukere av omsorgstjenester per 31.12.: langtidsopphold i institusjon (TenesteType 21), "
           "alle aldre", TenesteType=("21",), Alder=("*",)),
    _query("11924", "Avtalte årsverk i omsorgstjenestene etter utdanning (K), sykepleiergrupper KF01-KF04",
           KOKkyrk200000=("KF01", "KF02", "KF03", "KF04")),
    _query("14534", "Årsverk i omsorgstjenestene etter stillingstype og utdanning (K): alle stillinger, "
           "sykepleiere", KOKstillingkode0000=("TOT",), KOKutdanningoms0000=("01",)),
    _query("11643", "Timer til omsorgstjenester i løpet av året (K), alle tjenester (helsetjenester i "
           "hjemmet er en av dem), alle statistikkvariabler"),
    _query("11875", "Helse- og omsorgsinstitusjoner, plasser (K): disponible plasser i institusjon"),
    _query("07459", "Befolkning 1.1. etter kommune, kjønn og alder 67 år og over", name="07459_alder67pluss",
           REGION=("????",), Kjonn=("1", "2"), Alder=_AGES_67_PLUS, Tid=("from(2005)",)),
    _query("07459", "Befolkning 1.1. etter kommune og kjønn, alle aldre (alder eliminert)",
           name="07459_i_alt",
           REGION=("????",), Kjonn=("1", "2"), Alder=(), Tid=("from(2005)",)),
)
TABLE_IDS: tuple[str, ...] = tuple(dict.fromkeys(query.table for query in TABLES))


def queries_for(tables: Sequence[str] | None) -> tuple[TableQuery, ...]:
    """The entries of `TABLES` for the given table ids (all when None); InputError for unknown ids."""
    if tables is None:
        return TABLES
    unknown = [table for table in tables if table not in TABLE_IDS]
    if unknown:
        raise InputError(f"Unknown SSB table(s) {unknown}; the live fetch knows {', '.join(TABLE_IDS)}.")
    return tuple(query for query in TABLES if query.table in tables)


def _is_object(data: Any) -> bool:
    return isinstance(data, dict)


def _is_metadata(data: Any) -> bool:
    return isinstance(data, dict) and ("dimension" in data or "variables" in data)


def _is_dataset(data: Any) -> bool:
    """A complete JSON-stat2 dataset: as many values as the product of the dimension sizes."""
    if not isinstance(data, dict) or not isinstance(data.get("size"), list):
        return False
    values = data.get("value")
    if isinstance(values, dict):
        return True
    return isinstance(values, list) and len(values) == math.prod(data["size"])


def _has(key: str) -> Callable[[Any], bool]:
    return lambda data: isinstance(data, dict) and key in data


# --------------------------------------------------------------------------------------------------------
# PxWebApi v2
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """One dimension of a table as its metadata describes it."""

    code: str
    values: tuple[str, ...]
    elimination: bool
    role: str = ""


def parse_metadata(table: str, data: Any) -> dict[str, Dimension]:
    """Dimensions of a v2 metadata response (JSON-stat2, or the json-px `variables` shape), in table order."""
    dims: dict[str, Dimension] = {}
    if isinstance(data, dict) and isinstance(data.get("dimension"), dict):
        roles = {code: role for role, codes in (data.get("role") or {}).items() for code in codes}
        for code in [c for c in data.get("id") or data["dimension"] if c in data["dimension"]]:
            entry = data["dimension"][code]
            category = entry.get("category", {})
            index = category.get("index") or list(category.get("label", {}))
            values = sorted(index, key=index.__getitem__) if isinstance(index, dict) else list(index)
            elimination = bool((entry.get("extension") or {}).get("elimination", False))
            dims[code] = Dimension(code, tuple(values), elimination, roles.get(code, ""))
    elif isinstance(data, dict) and isinstance(data.get("variables"), list):
        roles = {"TimeVariable": "time", "ContentsVariable": "metric", "GeographicalVariable": "geo"}
        for var in data["variables"]:
            code = var.get("id") or var.get("code")
            values = tuple(v["code"] if isinstance(v, dict) else v for v in var.get("values", []))
            role = roles.get(var.get("type"), "")
            dims[code] = Dimension(code, values, bool(var.get("elimination", False)), role)
    if not dims:
        raise FetchError(f"SSB table {table}: metadata response has no dimensions.")
    return dims


def region_dimension(table: str, dims: dict[str, Dimension]) -> str:
    """The code of the table's region dimension (role geo, else a known name)."""
    for dim in dims.values():
        if dim.role == "geo":
            return dim.code
    for name in REGION_NAMES:
        if name in dims:
            return name
    raise FetchError(f"SSB table {table}: no region dimension in {list(dims)}.")


def expand(expressions: Iterable[str], available: Sequence[str]) -> tuple[list[str], list[str]]:
    """Codes of `available` (in their order) matched by `expressions`, and the explicit codes not found.

    Understands `*`, wildcards with `*`/`?`, `from(x)` and `to(x)` (string comparison, meant for years).
    """
    chosen: set[str] = set()
    missing: list[str] = []
    for expr in expressions:
        if expr.startswith(("from(", "to(")) and expr.endswith(")"):
            bound = expr[expr.index("(") + 1 : -1]
            after = expr.startswith("from(")
            chosen.update(code for code in available if (code >= bound if after else code <= bound))
        elif "*" in expr or "?" in expr:
            chosen.update(code for code in available if fnmatch.fnmatchcase(code, expr))
        elif expr in available:
            chosen.add(expr)
        else:
            missing.append(expr)
    return [code for code in available if code in chosen], missing


def resolve(query: TableQuery, dims: dict[str, Dimension]) -> dict[str, list[str]]:
    """Explicit codes per dimension to fetch (eliminated dimensions left out); FetchError when impossible."""
    wanted = {region_dimension(query.table, dims) if dim == REGION else dim: exprs
              for dim, exprs in query.selection}
    wanted["ContentsCode"] = query.contents
    unknown = sorted(set(wanted) - set(dims))
    if unknown:
        raise FetchError(f"SSB table {query.table}: dimension(s) {unknown} not in the table "
                         f"(it has {list(dims)}); update helpers.sources.ssb.TABLES.")
    selection: dict[str, list[str]] = {}
    for dim in dims.values():
        exprs = wanted.get(dim.code, ("*",))
        if not exprs:
            if dim.elimination:
                continue
            log.warning("SSB table %s: %s cannot be eliminated; fetching all values", query.table, dim.code)
            exprs = ("*",)
        codes, missing = expand(exprs, dim.values)
        if missing and dim.code == "ContentsCode":
            raise FetchError(f"SSB table {query.table}: ContentsCode {missing} does not exist (the table "
                             f"has {list(dim.values)}); check helpers.sources.indicators or whether SSB replaced "
                             "the table.")
        if missing:
            log.warning("SSB table %s: %s values %s do not exist; skipped", query.table, dim.code, missing)
        if not codes:
            raise FetchError(f"SSB table {query.table}: no values of {dim.code} match {list(exprs)}.")
        selection[dim.code] = codes
    return selection


def split_selection(selection: dict[str, list[str]], max_cells: int) -> list[dict[str, list[str]]]:
    """Split `selection` (largest dimension first) into parts of at most `max_cells` cells each."""
    sizes = {dim: len(codes) for dim, codes in selection.items()}
    total = math.prod(sizes.values())
    splittable = [dim for dim, size in sizes.items() if size > 1]
    if total <= max_cells or not splittable:
        return [selection]
    dim = max(splittable, key=sizes.__getitem__)
    chunk = max(1, max_cells // (total // sizes[dim]))
    parts: list[dict[str, list[str]]] = []
    for start in range(0, sizes[dim], chunk):
        parts.extend(split_selection({**selection, dim: selection[dim][start : start + chunk]}, max_cells))
    return parts


def _describe(selection: dict[str, list[str]]) -> str:
    shown = []
    for dim, codes in selection.items():
        many = f"{len(codes)} ({codes[0]}…{codes[-1]})"
        shown.append(f"{dim}={codes[0] if len(codes) == 1 else many}")
    return "; ".join(shown)


