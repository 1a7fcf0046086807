"""Read data fetched live from SSB (`python -m helpers fetch`) for `build --source ssb`.

A fetch run folder (`data/raw/ssb/live/<stamp>/`, see `helpers.sources.ssb`) holds JSON-stat2 responses named
`<query>_data*.json`, metadata, KLASS files and a MANIFEST.csv. Tables whose only dimensions are region,
ContentsCode and year are read generically: each ContentsCode that the catalogue assigns to exactly one
count or level indicator of that table becomes tidy rows on the borders they were reported under. Such
rows replace the snapshot's rows for the same kommune, year and indicator. Tables with further
dimensions (e.g. 11645 by service and age, 07459 by sex and age) are listed as not yet read.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from helpers.errors import InputError
from helpers.sources import jsonstat
from helpers.sources.indicators import CATALOGUE
from helpers.sources.manifest import read_manifest
from helpers.sources.schema import AS_REPORTED, conform

_BASE_DIMENSIONS = {"ContentsCode", "Tid"}


def latest_live_run(raw: Path) -> Path | None:
    """The newest complete fetch folder under `raw/ssb/live/` (one holding a MANIFEST.csv), or None."""
    live = raw / "ssb" / "live"
    if not live.exists():
        return None
    runs = sorted(
        p for p in live.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "MANIFEST.csv").exists()
    )
    return runs[-1] if runs else None


def require_live_run(raw: Path) -> Path:
    """The newest fetch folder; InputError telling the user to run `fetch` when there is none."""
    run = latest_live_run(raw)
    if run is None:
        raise InputError(
            f"source='ssb' needs data fetched from SSB, but {raw / 'ssb' / 'live'} holds no complete fetch. "
            "Run `python -m helpers fetch` (needs network) or use source='snapshot'."
        )
    return run


def _indicator_for(table: str, contents_code: str) -> tuple[str, str] | None:
    matches = [
        i for i in CATALOGUE
        if contents_code in i.contents_codes and table in i.source_tables and i.kind in ("count", "level")
        and not i.numerator
    ]
    return (matches[0].id, matches[0].unit) if len(matches) == 1 else None


def read_live_run(run: Path) -> tuple[pl.DataFrame, list[str]]:
    """Tidy as-reported rows from a fetch run, and notes on the files that could not be read generically."""
    tables = {row["file"]: row["ssb_tables"] for row in read_manifest(run / "MANIFEST.csv")}
    frames, notes = [], []
    for file, table in sorted(tables.items()):
        if "_data" not in file or not table:
            continue
        long = jsonstat.read(run / file)
        region = next((c for c in long.columns if c.startswith("KOKkommuneregion") or c == "Region"), None)
        dims = {c for c in long.columns if not c.endswith("_label") and c not in ("value", "status")}
        extra = dims - _BASE_DIMENSIONS - {region}
        if region is None or extra:
            notes.append(f"{file} (tabell {table}): dimensjoner {sorted(extra) or ['ingen region']} leses ikke ennå")
            continue
        codes = long["ContentsCode"].unique().to_list()
        mapping = {code: found for code in codes if (found := _indicator_for(table, code))}
        if not mapping:
            notes.append(f"{file} (tabell {table}): ingen ContentsCode hører til en indikator i katalogen")
            continue
        frames.append(
            long.filter(pl.col(region).str.contains(r"^\d{4}$"), pl.col("ContentsCode").is_in(list(mapping)))
            .select(
                pl.col(region).alias("kommunenr"),
                pl.lit(AS_REPORTED).alias("structure"),
                pl.col("Tid").cast(pl.Int32).alias("year"),
                pl.col("ContentsCode").replace_strict({k: v[0] for k, v in mapping.items()}).alias("indicator"),
                "value",
                pl.col("ContentsCode").replace_strict({k: v[1] for k, v in mapping.items()}).alias("unit"),
                "status",
                pl.lit(f"SSB {table} (hentet {run.name})").alias("source"),
            )
        )
    rows = conform(pl.concat(frames)) if frames else conform(pl.DataFrame())
    return rows.unique(subset=["kommunenr", "year", "indicator"], keep="last"), notes


def kostra_groups(raw: Path) -> dict[str, str] | None:
    """kommunenr → KOSTRA group from the newest fetch's KLASS 112 correspondence, or None if not fetched.

    A correspondence table lists `correspondenceMaps` with the group as source and the kommune as target
    (or the other way round); whichever side holds four-digit codes is taken as the kommune.
    """
    import json

    run = latest_live_run(raw)
    files = sorted(run.glob("klass112_correspondence_*.json")) if run else []
    if not files:
        return None
    groups: dict[str, str] = {}
    for file in files:
        for item in json.loads(file.read_text(encoding="utf-8")).get("correspondenceMaps", []):
            source, target = item.get("sourceCode", ""), item.get("targetCode", "")
            kommune, group = (target, source) if target.isdigit() and len(target) == 4 else (source, target)
            if kommune.isdigit() and len(kommune) == 4:
                groups[kommune] = item.get("sourceName") if group == source and item.get("sourceName") else group
    return groups or None
