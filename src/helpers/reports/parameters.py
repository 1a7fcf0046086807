"""Check notebook parameters in the first cell, with one clear Norwegian/English message per mistake."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from helpers.errors import InputError
from helpers.sources.schema import AS_REPORTED
from helpers.table.reforms import Reforms, load_reforms

SOURCES = ("snapshot", "ssb")


@dataclass(frozen=True)
class CleaningParameters:
    """Checked parameters of the cleaning notebook."""

    source: str
    structure_year: int
    kommune: str
    kommune_on_structure: str


def _as_year(value: object, name: str) -> int:
    try:
        year = int(str(value))
    except ValueError:
        raise InputError(f"Parameteren {name} må være et årstall / {name} must be a year, got {value!r}.") from None
    return year


def on_structure(reforms: Reforms, code: str, structure_year: int) -> str:
    """The code of `structure_year` that a (current or historic) code belongs to; InputError if ambiguous."""
    for year in range(reforms.latest_year, 2006, -1):
        if code in reforms.valid_codes(year):
            targets = reforms.successors(code, year, structure_year)
            if len(targets) == 1:
                return next(iter(targets))
            raise InputError(
                f"Kommune {code} tilsvarer flere kommuner på {structure_year}-struktur / code {code} maps to "
                f"several kommuner of {structure_year} ({', '.join(sorted(targets))}); choose one of them or use "
                f"structure='{AS_REPORTED}'."
            )
    raise InputError(f"Ukjent kommunenummer / unknown kommune code {code!r}.")


def check_cleaning_parameters(source: str, structure: object, kommune: object,
                              reforms: Reforms | None = None) -> CleaningParameters:
    """Checked parameters of 01_rens_indikatorer."""
    reforms = reforms or load_reforms()
    if source not in SOURCES:
        raise InputError(f"Ukjent kilde / unknown source {source!r}: use one of {', '.join(SOURCES)}.")
    year = reforms.check_structure_year(_as_year(structure, "structure"))
    code = reforms.check_code(str(kommune))
    return CleaningParameters(source, year, code, on_structure(reforms, code, year))


def check_years(window: object, name: str) -> tuple[int, int]:
    """A (first, last) year window from one year (2012, "2012", [2012]), a pair ([2012, 2014], "2012-2014",
    "2012–2014") or a list of consecutive years ([2012, 2013, 2014]); InputError saying what is accepted."""
    usage = (f"Parameteren {name} må være ett år eller et vindu første–siste, f.eks. 2012, [2012, 2014] eller "
             f"\"2012-2014\" / {name} must be one year or a window first-last, e.g. 2012, [2012, 2014] or "
             f"\"2012-2014\"; got {window!r}.")
    if isinstance(window, str):
        parts: list[object] = window.replace("–", "-").split("-")
    elif isinstance(window, int | list | tuple) and not isinstance(window, bool):
        parts = list(window) if isinstance(window, list | tuple) else [window]
    else:
        raise InputError(usage)
    texts = [str(part).strip() for part in parts]
    is_year = [not isinstance(part, bool) and re.fullmatch(r"[0-9]{4}", str(part).strip()) for part in parts]
    if not texts or not all(is_year):  # ASCII digits only: int() would also take "２０１２" or "2_012"
        raise InputError(usage)
    years = [int(text) for text in texts]
    if len(years) > 2 and years != list(range(years[0], years[0] + len(years))):
        raise InputError(usage + " A list of more than two years must be consecutive.")
    first, last = years[0], years[-1]
    if first > last:
        raise InputError(f"{name}: første år etter siste / first year after last ({first} > {last}).")
    return first, last


@dataclass(frozen=True)
class ReportParameters:
    """Checked parameters of the before/after report."""

    kommune: str  # the code analysed, on `structure`
    requested: str  # the code the user gave
    structure: str  # "as_reported" or a structure year as text
    before: tuple[int, int]
    after: tuple[int, int]
    indicators: tuple[str, ...]
    comparison: str | tuple[str, ...]
    first_year: int
    last_year: int
    detailed: bool = True  # False: the compact version (no chart per indicator, ITS or synthetic control)


def check_structure(structure: object, reforms: Reforms) -> str:
    """`as_reported` or a valid structure year, as text."""
    if str(structure) == AS_REPORTED:
        return AS_REPORTED
    return str(reforms.check_structure_year(_as_year(structure, "structure")))


def check_report_parameters(
    table: object,
    kommune: object,
    structure: object,
    before: Sequence[object] | str,
    after: Sequence[object] | str,
    indicators: Sequence[str] | str,
    comparison: str | Sequence[str],
    reforms: Reforms | None = None,
    detailed: object = True,
) -> ReportParameters:
    """Check every parameter of 02_for_etter_kapasitet against the catalogue, KLASS and the table's years."""
    import polars as pl

    from helpers.group_choices import GROUP_CHOICES
    from helpers.sources import indicators as catalogue

    if not isinstance(detailed, bool):
        raise InputError(f"detailed: {detailed!r} er verken True eller False / is neither True nor False; "
                         "use detailed=True for the full report or detailed=False for the compact one.")
    reforms = reforms or load_reforms()
    requested = reforms.check_code(str(kommune))
    structure_text = check_structure(structure, reforms)
    code = requested if structure_text == AS_REPORTED else on_structure(reforms, requested, int(structure_text))
    first_before, last_before = check_years(before, "before")
    first_after, last_after = check_years(after, "after")
    if first_after <= last_before:
        raise InputError(f"'after' ({first_after}–{last_after}) må begynne etter 'before' ({first_before}–"
                         f"{last_before}) / 'after' must start after 'before' ends.")
    ids = (catalogue.DEFAULT_REPORT_SET if indicators in ("default", "standard", None)
           else tuple([indicators] if isinstance(indicators, str) else indicators))
    ids = tuple(catalogue.check_ids(ids))
    assert isinstance(table, pl.DataFrame)
    own = table.filter(
        pl.col("structure") == structure_text, pl.col("kommunenr") == code, pl.col("value").is_not_null()
    )
    if own.is_empty():
        raise InputError(f"Kommune {code} har ingen tall på strukturen {structure_text!r} / no figures on this "
                         "structure. For a historic code use structure='as_reported'; for a current one, a year.")
    first, last = int(own["year"].min()), int(own["year"].max())
    if first_before < first or last_after > last:
        raise InputError(f"Årene {first_before}–{last_after} ligger utenfor dataene for {code} på {structure_text!r} "
                         f"({first}–{last}) / years outside the data; choose windows within {first}–{last}.")
    if isinstance(comparison, str):
        if comparison not in GROUP_CHOICES:
            raise InputError(f"Ukjent sammenligning / unknown comparison {comparison!r}: use one of "
                             f"{', '.join(repr(k) for k in GROUP_CHOICES)} or a list of codes.")
        if comparison == "kostragruppe":
            from helpers import paths
            from helpers.sources.live import kostra_groups

            if kostra_groups(paths.RAW) is None:
                raise InputError("comparison='kostragruppe' trenger KOSTRA-grupperingen (KLASS 112), som ikke finnes i "
                                 "øyeblikksbildet / needs the KOSTRA grouping: run `python -m helpers fetch` first, or "
                                 "use 'matched', 'similar_size', 'naboer' or a list of codes.")
        group: str | tuple[str, ...] = comparison
    else:
        group = tuple(reforms.check_code(str(c)) for c in comparison)
        if not group:
            raise InputError("Sammenligningsgruppen er tom / the comparison group is empty: give at least one code.")
    return ReportParameters(code, requested, structure_text, (first_before, last_before), (first_after, last_after),
                            ids, group, first, last, detailed)
