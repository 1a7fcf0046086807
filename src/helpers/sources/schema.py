"""The one tidy long schema every reader produces, and the vocabularies of `status` and `flag`.

Columns: kommunenr (zero-padded 4-character string), kommune (name), structure (`as_reported` or a
structure year such as `2024`), year, indicator (catalogue id), value (float, null when missing),
unit, status (SSB's symbol when value is null), flag (quality flag or null), source (table/file).
"""

from __future__ import annotations

import re

import polars as pl

TIDY_SCHEMA: dict[str, pl.DataType] = {
    "kommunenr": pl.String(),
    "kommune": pl.String(),
    "structure": pl.String(),
    "year": pl.Int32(),
    "indicator": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "status": pl.String(),
    "flag": pl.String(),
    "source": pl.String(),
}
KEY_COLUMNS: tuple[str, ...] = ("kommunenr", "structure", "year", "indicator")
# a kommune code as the project writes it: four ASCII digits (\d would also take e.g. fullwidth digits)
KOMMUNE_CODE = re.compile(r"[0-9]{4}")
AS_REPORTED = "as_reported"

# SSB's symbols for a missing value (https://www.ssb.no/informasjon/slik-bruker-du-statistikkbanken)
STATUS_LABELS: dict[str, str] = {
    ".": "Lar seg ikke føre opp (kategorien fantes ikke / kan ikke beregnes på disse grensene)",
    "..": "Oppgave mangler",
    "...": "Oppgave mangler foreløpig",
    ":": "Vises ikke av konfidensialitetshensyn (små tall)",
    "-": "Null",
}

# Quality flags set by the project. A row may carry several: a sorted set joined by ";" (helpers.table.flags).
FLAG_LABELS: dict[str, str] = {
    "outlier": "Usannsynlig verdi: robust år-til-år-test per kommune og indikator (se helpers.table.outliers)",
    "symbol_not_kept": "Tomt felt i panelet: SSBs symbol ble ikke tatt vare på av den som satte sammen filen",
    "split": "Kommunen ble delt mellom flere etterfølgere: tallet kan ikke fordeles uten å gjette",
    "partial_merge": "En eller flere forgjengere mangler tall: summen ville vært ufullstendig",
    "not_harmonisable": "Gjennomsnitt uten teller/nevner kan ikke slås sammen over kommunegrenser",
    "population_gap": "Befolkningstallet for området ser ufullstendig ut (brå hopp ved kommunereform)",
    "no_population": "Ingen befolkning på disse grensene i øyeblikksbildet",
    "small_denominator": "Liten nevner (< 50): raten er usikker og rangeres ikke",
    "suppressed_input": "En inngangsverdi er skjult av SSB (små tall)",
    "discontinued": "Serien er avsluttet: SSB publiserer ikke tallet etter seriens siste år (f.eks. brukere av "
                    "hjemmetjenester 67–79 år bare til og med 2016)",
    "not_started": "Serien var ikke startet: SSB publiserer tallet først fra seriens første år (f.eks. "
                   "sykepleierårsverk fra 2015, langtidsopphold fra 2009)",
}


def empty_tidy() -> pl.DataFrame:
    """An empty frame with the tidy schema."""
    return pl.DataFrame(schema=TIDY_SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast the tidy columns in schema order (missing optional columns become null)."""
    columns = []
    for name, dtype in TIDY_SCHEMA.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(columns)
