"""Breaks in a kommune's own series from reforms (merger, split, new number), for charts and caveats.

Breaks that touch every kommune (IPLOS 2019, the 2020 reform, ...) are entries of the caveats register
(helpers.table.caveats).
"""

from __future__ import annotations

from helpers.table.reforms import Reforms

REFORM_LABELS: dict[str, str] = {
    "merger": "Kommunesammenslåing",
    "split": "Kommunedeling",
    "renumbered": "Nytt kommunenummer",
}


def reform_breaks(reforms: Reforms, code: str, code_year: int, first: int, last: int) -> dict[int, str]:
    """Years in (first, last] in which the area of `code` (valid in `code_year`) changed code or borders,
    each with a Norwegian label: merger, split or new number."""
    return {year: REFORM_LABELS[kind] for year, kind in reforms.area_changes(code, code_year, first, last)}
