"""The indicator catalogue: the one place that defines every indicator the project reports.

Each indicator has an id, a Norwegian label, a unit, its kind (count, rate or level), for rates the
numerator and denominator ids and the scale, the SSB source table(s) and ContentsCode(s), and the domain:
`hjemmesykepleie` (home-based services), `sykehjem` (institutions and 24-hour care) or `bemanning` (staff)
or `befolkning` (denominators).

`first_year` / `last_year` bound the years SSB publishes a series at all (e.g. users 67–79 only to 2016,
nurse FTEs from 2015): outside them a missing figure is not applicable (`.`), not missing (`..`). Derived
indicators exist only where all their inputs do (`series_years`).

Kinds decide how an indicator is harmonised across kommune reforms:
- `count`: summed over predecessors;
- `rate`: recomputed from harmonised numerator and denominator (never averaged);
- `level`: an average or share published without its numerator (e.g. SSB's own share, average hours per
  week); kept on the borders it was reported on, and missing (with a flag) where borders changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from helpers.errors import InputError

Kind = Literal["count", "rate", "level"]
Domain = Literal["hjemmesykepleie", "sykehjem", "bemanning", "befolkning"]

DOMAIN_LABELS: dict[str, str] = {
    "hjemmesykepleie": "Hjemmesykepleie og hjemmetjenester",
    "sykehjem": "Sykehjem og heldøgns omsorg",
    "bemanning": "Bemanning",
    "befolkning": "Befolkning",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue."""

    id: str
    label: str
    unit: str
    kind: Kind
    domain: Domain
    source_tables: tuple[str, ...]
    contents_codes: tuple[str, ...] = ()
    numerator: tuple[str, ...] = ()
    denominator: str | None = None
    scale: float = 1.0
    in_snapshot: bool = True
    higher_is_more_capacity: bool = True
    note: str = ""
    short_label: str = field(default="")
    first_year: int | None = None
    last_year: int | None = None

    @property
    def display(self) -> str:
        """Short label for charts (falls back to the full label)."""
        return self.short_label or self.label


_POP_NOTE = (
    "Nevner: innbyggere 80 år og over 31.12. i rapportåret (= 1.1. året etter), på grensene til koden "
    "tallet er rapportert under (SSB 07459 via panelets 2024-områder)."
)

CATALOGUE: tuple[Indicator, ...] = (
    # --- hjemmesykepleie / hjemmetjenester ---
    Indicator("home_service_users", "Brukere av hjemmetjenester i alt", "personer", "count", "hjemmesykepleie",
              ("04686", "12292"), ("CRC747899133", "KOSkjernetotalt0000"), short_label="Brukere hjemmetj."),
    Indicator("home_service_users_0_66", "Brukere av hjemmetjenester 0–66 år", "personer", "count",
              "hjemmesykepleie", ("04686", "12292"), ("CRC924095442", "KOSkjerne066aar0000"),
              short_label="Brukere hjemmetj. 0–66"),
    Indicator("home_service_users_67_79", "Brukere av hjemmetjenester 67–79 år", "personer", "count",
              "hjemmesykepleie", ("04686",), ("CRC954440742",), short_label="Brukere hjemmetj. 67–79",
              note="Bare til og med 2016: 04686 ble avsluttet, og 12292 har ikke aldersgruppen 67–79.",
              last_year=2016),
    Indicator("home_service_users_80plus", "Brukere av hjemmetjenester 80 år og over", "personer", "count",
              "hjemmesykepleie", ("04686", "12292"), ("CRC1362622823", "KOSkjerne80aarov0000"),
              short_label="Brukere hjemmetj. 80+"),
    Indicator("home_service_users_80plus_per_100_80plus",
              "Brukere av hjemmetjenester 80+ per 100 innbyggere 80+ (beregnet)", "prosent", "rate",
              "hjemmesykepleie", ("04686", "12292", "07459"), numerator=("home_service_users_80plus",),
              denominator="population_80plus", scale=100.0, note=_POP_NOTE,
              short_label="Hjemmetj. 80+ per 100 80+"),
    Indicator("ssb_share_80plus_home_services",
              "Andel innbyggere 80+ som bruker hjemmetjenester (SSB, publisert)", "prosent", "level",
              "hjemmesykepleie", ("12209",), ("KOShjtj80aarover0001",),
              note="SSBs eget publiserte tall; vises ved siden av prosjektets beregnede andel.",
              short_label="Andel 80+ hjemmetj. (SSB)"),
    Indicator("allotted_hours_per_week_home_nursing",
              "Gjennomsnittlig tildelte timer per uke, helsetjenester i hjemmet", "timer per uke", "level",
              "hjemmesykepleie", ("04686", "12292"), ("CRC1195083792", "KOSgjtimerhjsyk0000"),
              note="Gjennomsnitt uten publisert teller og nevner: kan ikke slås sammen over kommunegrenser. "
              "I år der både 04686 og 12292 finnes, har panelet tatt gjennomsnittet av de to.",
              short_label="Timer/uke hjemmesykepleie"),
    Indicator("home_nursing_hours_per_year", "Timer helsetjenester i hjemmet i løpet av året", "timer",
              "count", "hjemmesykepleie", ("11643",), (),
              note="Filen er allerede summert til 2024-kommuner; finnes bare på 2024-struktur.",
              short_label="Timer hjemmesykepleie/år"),
    # --- sykehjem / institusjon / heldøgns omsorg ---
    Indicator("long_term_users", "Brukere med langtidsopphold i institusjon i alt (31.12.)", "personer", "count",
              "sykehjem", ("11645",), ("Brukere1",), note="TenesteType 21. Tabell 11645 starter i 2009.",
              short_label="Langtidsopphold", first_year=2009),
    Indicator("long_term_users_0_66", "Brukere med langtidsopphold i institusjon 0–66 år", "personer", "count",
              "sykehjem", ("11645",), ("Brukere1",), short_label="Langtidsopphold 0–66", first_year=2009),
    Indicator("long_term_users_67_79", "Brukere med langtidsopphold i institusjon 67–79 år", "personer", "count",
              "sykehjem", ("11645",), ("Brukere1",), short_label="Langtidsopphold 67–79", first_year=2009),
    Indicator("long_term_users_80plus", "Brukere med langtidsopphold i institusjon 80 år og over", "personer",
              "count", "sykehjem", ("11645",), ("Brukere1",), short_label="Langtidsopphold 80+", first_year=2009),
    Indicator("long_term_users_80plus_per_100_80plus",
              "Langtidsbrukere 80+ per 100 innbyggere 80+ (beregnet)", "prosent", "rate", "sykehjem",
              ("11645", "07459"), numerator=("long_term_users_80plus",), denominator="population_80plus",
              scale=100.0, note=_POP_NOTE, short_label="Langtid 80+ per 100 80+"),
    Indicator("residents_24h_housing", "Beboere i bolig med heldøgns bemanning", "personer", "count", "sykehjem",
              ("04686", "12292"), ("CRC3384594087", "KOSbialthelsum0000"), short_label="Beboere heldøgnsbolig"),
    Indicator("care_24h_total", "Heldøgns omsorg i alt (langtidsopphold + bolig med heldøgns bemanning)",
              "personer", "count", "sykehjem", ("11645", "04686", "12292"),
              numerator=("long_term_users", "residents_24h_housing"), short_label="Heldøgns omsorg i alt",
              note="Sum av to tellinger (alle aldre)."),
    Indicator("care_24h_per_100_80plus",
              "Heldøgns omsorg i alt per 100 innbyggere 80+ (beregnet)", "per 100 innbyggere 80+", "rate",
              "sykehjem", ("11645", "04686", "12292", "07459"),
              numerator=("long_term_users", "residents_24h_housing"), denominator="population_80plus",
              scale=100.0, note="Teller: langtidsopphold + beboere i heldøgnsbolig, alle aldre. " + _POP_NOTE,
              short_label="Heldøgns omsorg per 100 80+"),
    Indicator("institution_places", "Disponible plasser i institusjon", "plasser", "count", "sykehjem",
              ("11875",), ("KOSinstdispplass0000",), in_snapshot=False,
              note="Ikke i øyeblikksbildet; hentes med `fetch` fra SSB-tabell 11875.",
              short_label="Institusjonsplasser"),
    Indicator("institution_places_per_100_80plus", "Institusjonsplasser per 100 innbyggere 80+ (beregnet)",
              "per 100 innbyggere 80+", "rate", "sykehjem", ("11875", "07459"),
              numerator=("institution_places",), denominator="population_80plus", scale=100.0, in_snapshot=False,
              note="Ikke i øyeblikksbildet; krever tabell 11875 via `fetch`.", short_label="Plasser per 100 80+"),
    # --- bemanning ---
    Indicator("nurse_ftes", "Avtalte sykepleierårsverk i omsorgstjenestene", "årsverk", "count", "bemanning",
              ("11924", "14534"), ("KOSARBAARSVERKST0000",),
              note="Fra 2015. Der både 11924 og 14534 finnes, har panelet tatt gjennomsnittet.",
              short_label="Sykepleierårsverk", first_year=2015),
    Indicator("nurse_ftes_per_100_users",
              "Sykepleierårsverk per 100 brukere (hjemmetjenester + langtidsopphold)", "per 100 brukere", "rate",
              "bemanning", ("11924", "14534", "04686", "12292", "11645"), numerator=("nurse_ftes",),
              denominator="care_users_total", scale=100.0, short_label="Sykepleierårsverk per 100 brukere",
              note="Nevner: brukere av hjemmetjenester + brukere med langtidsopphold (prosjektets definisjon)."),
    Indicator("nurse_ftes_per_1000_80plus", "Sykepleierårsverk per 1000 innbyggere 80+", "per 1000 innbyggere 80+",
              "rate", "bemanning", ("11924", "14534", "07459"), numerator=("nurse_ftes",),
              denominator="population_80plus", scale=1000.0, note=_POP_NOTE,
              short_label="Sykepleierårsverk per 1000 80+"),
    # --- denominators ---
    Indicator("care_users_total", "Brukere av hjemmetjenester + langtidsopphold", "personer", "count", "befolkning",
              ("04686", "12292", "11645"), numerator=("home_service_users", "long_term_users"),
              short_label="Brukere i alt"),
    Indicator("population_80plus", "Innbyggere 80 år og over (31.12.)", "personer", "count", "befolkning",
              ("07459",), ("Personer1",), note="31.12. i året = 1.1. året etter.", short_label="Innbyggere 80+"),
    Indicator("population_67_79", "Innbyggere 67–79 år (31.12.)", "personer", "count", "befolkning", ("07459",),
              ("Personer1",), short_label="Innbyggere 67–79"),
    Indicator("population_total", "Innbyggere i alt (31.12.)", "personer", "count", "befolkning", ("07459",),
              ("Personer1",), short_label="Innbyggere"),
)

BY_ID: dict[str, Indicator] = {indicator.id: indicator for indicator in CATALOGUE}

HJEMMESYKEPLEIE_SET: tuple[str, ...] = (
    "home_service_users",
    "home_service_users_80plus",
    "home_service_users_80plus_per_100_80plus",
    "allotted_hours_per_week_home_nursing",
    "home_nursing_hours_per_year",
)
SYKEHJEM_SET: tuple[str, ...] = (
    "long_term_users",
    "long_term_users_80plus",
    "long_term_users_80plus_per_100_80plus",
    "residents_24h_housing",
    "care_24h_per_100_80plus",
    "institution_places_per_100_80plus",
)
BEMANNING_SET: tuple[str, ...] = ("nurse_ftes_per_100_users", "nurse_ftes_per_1000_80plus")
DEFAULT_REPORT_SET: tuple[str, ...] = HJEMMESYKEPLEIE_SET + SYKEHJEM_SET + BEMANNING_SET


def series_years(indicator_id: str) -> tuple[int | None, int | None]:
    """(first, last) year the series exists (None: open), for derived indicators the overlap of their inputs."""
    entry = BY_ID[indicator_id]
    firsts, lasts = [entry.first_year], [entry.last_year]
    for source in (*entry.numerator, *([entry.denominator] if entry.denominator else [])):
        first, last = series_years(source)
        firsts.append(first)
        lasts.append(last)
    known_firsts = [y for y in firsts if y is not None]
    known_lasts = [y for y in lasts if y is not None]
    return (max(known_firsts) if known_firsts else None, min(known_lasts) if known_lasts else None)


def get(indicator_id: str) -> Indicator:
    """The catalogue entry for `indicator_id`; InputError naming the known ids otherwise."""
    try:
        return BY_ID[indicator_id]
    except KeyError:
        known = ", ".join(sorted(BY_ID))
        raise InputError(
            f"Ukjent indikator / unknown indicator id {indicator_id!r}. Known ids: {known}."
        ) from None


def by_domain(domain: str) -> tuple[Indicator, ...]:
    """All catalogue entries of one domain, in catalogue order."""
    return tuple(indicator for indicator in CATALOGUE if indicator.domain == domain)


def check_ids(indicators: str | Iterable[str]) -> list[str]:
    """Indicator ids as a list without repeats; InputError when none is given or one is unknown."""
    ids = [indicators] if isinstance(indicators, str) else list(dict.fromkeys(indicators))
    if not ids:
        raise InputError("Ingen indikatorer valgt / no indicators given.")
    for indicator_id in ids:
        get(indicator_id)
    return ids


def catalogue_frame(ids: Sequence[str] | None = None) -> pl.DataFrame:
    """Catalogue facts as a frame (all indicators when `ids` is None): indicator, label, short_label, unit,
    kind, domain, domain_label, tables, decimals, order."""
    rows = []
    for order, indicator_id in enumerate(ids if ids is not None else BY_ID):
        entry = get(indicator_id)
        rows.append({
            "indicator": entry.id,
            "label": entry.label,
            "short_label": entry.display,
            "unit": entry.unit,
            "kind": entry.kind,
            "domain": entry.domain,
            "domain_label": DOMAIN_LABELS[entry.domain],
            "tables": ", ".join(entry.source_tables),
            "decimals": 0 if entry.kind == "count" else 1,
            "order": order,
        })
    return pl.DataFrame(rows, schema_overrides={"decimals": pl.Int32, "order": pl.Int32})
