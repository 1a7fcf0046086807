"""Check notebook parameters in the first cell, with one clear Norwegian/English message per mistake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helpers.errors import InputError
from helpers.reforms import Reforms, load_reforms
from helpers.schema import AS_REPORTED

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


def check_cleaning_parameters(source: str, structure_year: object, kommune: object,
                              reforms: Reforms | None = None) -> CleaningParameters:
    """Checked parameters of 01_rens_indikatorer."""
    reforms = reforms or load_reforms()
    if source not in SOURCES:
        raise InputError(f"Ukjent kilde / unknown source {source!r}: use one of {', '.join(SOURCES)}.")
    year = reforms.check_structure_year(_as_year(structure_year, "structure_year"))
    code = reforms.check_code(str(kommune))
    return CleaningParameters(source, year, code, on_structure(reforms, code, year))


def check_years(window: Sequence[object], name: str) -> tuple[int, int]:
    """A (first, last) year window from a list/tuple or "YYYY-YYYY" string."""
    parts = window.replace("–", "-").split("-") if isinstance(window, str) else list(window)
    if len(parts) != 2:
        raise InputError(f"Parameteren {name} må være to år, f.eks. [2012, 2013] / {name} must be two years, "
                         f"got {window!r}.")
    first, last = (_as_year(p, name) for p in parts)
    if first > last:
        raise InputError(f"{name}: første år etter siste / first year after last ({first} > {last}).")
    return first, last
