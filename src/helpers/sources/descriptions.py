"""The raw files as a table for readers: Norwegian descriptions, short versions and checksums.

`data/raw/MANIFEST.csv` is written in English and holds 40-character commit hashes and 64-character
checksums; reports show the first characters of each (enough to find the file's version) and the Norwegian
description below. A file without a Norwegian description shows the manifest's English one.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from helpers import paths
from helpers.sources.manifest import read_manifest

SHORT_HASH = 7
SHORT_SHA256 = 12
DESCRIPTIONS_NB: dict[str, str] = {
    "ssb/paneldata_2007_2025_bred.csv": "Panel per historisk kommunenummer og år 2007–2025: brukere av "
    "hjemmetjenester, beboere i bolig med heldøgns bemanning, tildelte timer per uke, langtidsopphold i "
    "institusjon, sykepleierårsverk og befolkningen i 2024-området per 1. januar",
    "ssb/timer_11643_helsetjenester_i_heimen.csv": "Timer helsetjenester i hjemmet per år, summert til "
    "2024-kommuner, 2009–2025",
    "ssb/ssb_12209_v2_response.json": "SSBs publiserte andel innbyggere 80 år og over som bruker "
    "hjemmetjenester, 2019 og 2023, alle KOSTRA-regioner med SSBs symboler (JSON-stat2)",
    "ssb/07459_raadata.json": "Befolkning etter kjønn og ettårig alder, 3101 Halden, 22 år (JSON-stat2, API v0)",
    "ssb/07459_sporring.json": "Spørringen (API v0) som ga 07459_raadata.json",
    "ssb/07459_metadata.json": "Metadata for tabell 07459 (API v0)",
    "ssb/12003_metadata.json": "Metadata for tabell 12003, omsorgstjenester – brukere (API v0)",
    "klass131/changetables.json": "Alle endringer i kommunenummer 1972–2024 (KLASS 131)",
    "klass131/Kommuneinndeling 2019.json": "Kommunelisten, versjon 2019 (KLASS 131)",
    "klass131/Kommuneinndeling 2020.json": "Kommunelisten, versjon 2020 (KLASS 131)",
    "klass131/Kommuneinndeling 2024.json": "Kommunelisten, versjon 2024 (KLASS 131)",
    "secondary/asker_secondary_facts.csv": "Tall om Asker fra aviser og nettsider (lenke per rad) – ikke SSB, "
    "blandes aldri med SSB-seriene",
    "claims/arsrapport_2015.yml": "Tallfestede påstander i Asker kommunes årsrapport 2015 (helse og omsorg), "
    "gjengitt med egne ord",
    "claims/ap_program.yml": "Målbare løfter i et partiprogram for helse og omsorg i Asker, gjengitt med egne ord",
    "kart/kommuner_2024_S.topojson": "Kommunegrensene 2024 (Kartverket, forenklet): kartet i utforskeren og "
    "hvilke kommuner som grenser til hverandre på land",
    "ssb/befolkning_07459_1jan_2005_2022.csv": "Befolkning per 1. januar etter kommunenummer slik koden var da, "
    "2005–2022 (SSB 07459)",
    "reforms/restored_borders.csv": "Kommuner som etter en deling har nøyaktig grensene til en tidligere kode: "
    "1580 Haram (fra 2024) = 1534 Haram (til 2019), etter Stortingets vedtak 14.06.2022",
}
_HEX = re.compile(rf"\b([0-9a-f]{{{SHORT_HASH}}})[0-9a-f]{{20,}}\b")
_VERSION_NB = (
    (re.compile(r"^collected for the project.*$"), "samlet inn for prosjektet"),
    (re.compile(r"^compiled (\d{4}-\d{2}-\d{2}) from the sources named$"), r"satt sammen \1 fra kildene som er nevnt"),
)


def short_version(text: str) -> str:
    """A manifest version in Norwegian, long hex hashes cut to their first characters ("commit ccec304")."""
    text = _HEX.sub(r"\1", text.strip())
    for pattern, norwegian in _VERSION_NB:
        text = pattern.sub(norwegian, text)
    return text


def sources_table(manifest: Path | None = None) -> pl.DataFrame:
    """The manifest's rows for readers: Fil, Innhold (Norwegian), SSB-tabeller, Versjon, sha256 (short)."""
    manifest = Path(manifest) if manifest is not None else paths.RAW / "MANIFEST.csv"
    rows = read_manifest(manifest)
    return pl.DataFrame({
        "Fil": [row["file"] for row in rows],
        "Innhold": [DESCRIPTIONS_NB.get(row["file"], row["description"]) for row in rows],
        "SSB-tabeller": [row["ssb_tables"].replace(";", ", ") for row in rows],
        "Versjon": [short_version(row["retrieved"]) for row in rows],
        "sha256": [row["sha256"].strip()[:SHORT_SHA256] for row in rows],
    })
