"""Known breaks in the series: reforms and changes in how SSB collects and groups the figures.

Every report lists the breaks that fall inside its years; charts draw the reform years as rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.reforms import Reforms


@dataclass(frozen=True)
class KnownBreak:
    """A year from which figures are not fully comparable with the years before."""

    year: int
    label: str
    description: str


KNOWN_BREAKS: tuple[KnownBreak, ...] = (
    KnownBreak(2019, "IPLOS 2019",
               "Ny versjon av IPLOS-registeret fra 2019 ga ufullstendige registreringer i noen kommuner "
               "(SSBs fotnote til 12003 og 04469); rehabilitering utenfor institusjon regnes ikke lenger som "
               "omsorgstjeneste."),
    KnownBreak(2020, "KOSTRA-grupper 2020",
               "SSB reviderte kommunegrupperingen (KOSTRA-grupper) fra 2020 med ny nummerering; grupper før og "
               "etter er ikke sammenlignbare. Samme år trådte kommunereformen i kraft (356 kommuner)."),
    KnownBreak(2024, "Private rapporterer selv fra 2024",
               "Fra rapporteringsåret 2024 rapporterer private foretak KOSTRA skjema 5 selv; samme år ble "
               "fylker og Ålesund delt og mange kommunenummer endret."),
)


def breaks_between(first: int, last: int) -> tuple[KnownBreak, ...]:
    """Known breaks with first < year ≤ last (a break in year Y separates Y-1 from Y)."""
    return tuple(b for b in KNOWN_BREAKS if first < b.year <= last)


REFORM_LABELS: dict[str, str] = {
    "merger": "Kommunesammenslåing",
    "split": "Kommunedeling",
    "renumbered": "Nytt kommunenummer",
}


def reform_breaks(reforms: Reforms, code: str, code_year: int, first: int, last: int) -> dict[int, str]:
    """Years in (first, last] in which the area of `code` (valid in `code_year`) changed code or borders,
    each with a Norwegian label: merger, split or new number."""
    return {year: REFORM_LABELS[kind] for year, kind in reforms.area_changes(code, code_year, first, last)}
