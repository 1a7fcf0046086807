"""Build data/processed/indicators.parquet: every raw source read, flagged, harmonised and validated.

The table holds the rows `as_reported` (each figure on the borders of the code it was reported under)
and the rows harmonised to one structure year (default 2024). Every raw file is checked against
data/raw/MANIFEST.csv (and a fetch folder against its own) before anything is read. Written atomically,
with a small `build_info.json` beside it (the verified inputs and their sha256, structure year, row counts).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl

from helpers import paths
from helpers.atomic import atomic_path, atomic_write_text
from helpers.errors import InputError
from helpers.sources import jsonstat
from helpers.sources.indicators import BY_ID
from helpers.sources.live import read_live_run, require_live_run
from helpers.sources.manifest import verify_raw
from helpers.sources.panel import panel_as_reported, population_by_area, read_hours, read_panel
from helpers.sources.schema import AS_REPORTED, conform
from helpers.table.flags import tidy_flags_and_symbols
from helpers.table.harmonise import harmonise_counts, harmonise_levels, mapping_for_years, mapping_from_structure
from helpers.table.outliers import flag_outliers
from helpers.table.population import AREA_YEAR, HISTORIC_FILE, population_rows, read_historic_population
from helpers.table.rates import derive
from helpers.table.reforms import Reforms, load_reforms
from helpers.table.validate import validate

SOURCES = ("snapshot", "ssb")
SHARE_12209_FILE = Path("ssb") / "ssb_12209_v2_response.json"
HOURS_SOURCE = "SSB 11643 via panel (summert til 2024-områder)"


def read_12209(reforms: Reforms, path: Path) -> pl.DataFrame:
    """SSB's published share of 80+ with home services, as reported, for codes valid in each year."""
    long = jsonstat.read(path)
    region = next(c for c in long.columns if c.startswith("KOKkommuneregion") and not c.endswith("_label"))
    rows = long.filter(pl.col(region).str.contains(r"^\d{4}$")).select(
        pl.col(region).alias("kommunenr"),
        pl.col("Tid").cast(pl.Int32).alias("year"),
        pl.lit("ssb_share_80plus_home_services").alias("indicator"),
        "value",
        "status",
        pl.lit(None, dtype=pl.String).alias("flag"),
        pl.lit(BY_ID["ssb_share_80plus_home_services"].unit).alias("unit"),
        pl.lit("SSB 12209 KOShjtj80aarover0001").alias("source"),
        pl.lit(AS_REPORTED).alias("structure"),
    )
    return conform(rows.join(_valid_pairs(reforms, rows["year"].unique().to_list()), on=["kommunenr", "year"],
                             how="semi"))


def _valid_pairs(reforms: Reforms, years: list[int]) -> pl.DataFrame:
    """(kommunenr, year) for every code valid in each of `years` (later years: the latest structure)."""
    return pl.DataFrame(
        [(c, y) for y in years for c in reforms.valid_codes(min(y, reforms.latest_year))],
        schema={"kommunenr": pl.String, "year": pl.Int32}, orient="row",
    )


def hours_rows(reforms: Reforms, hours: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The 11643 hours as rows on 2024 areas (code = area) and as reported (only where an area is
    exactly one code of the report year)."""
    area_rows = conform(
        hours.with_columns(
            pl.col("area").alias("kommunenr"),
            pl.lit(str(AREA_YEAR)).alias("structure"),
            pl.lit("home_nursing_hours_per_year").alias("indicator"),
            pl.lit(BY_ID["home_nursing_hours_per_year"].unit).alias("unit"),
            pl.lit(HOURS_SOURCE).alias("source"),
        )
    )
    area_rows = flag_outliers(area_rows)
    # an area's figure is also a reported code's figure when, that year, the area is exactly one code
    single = [
        (area, year, code)
        for year in area_rows["year"].unique().to_list()
        for area, codes in reforms.inverse(year, AREA_YEAR).items()
        if len(codes) == 1 and reforms.exact_areas(code := next(iter(codes)), year, AREA_YEAR) == frozenset({area})
    ]
    codes = pl.DataFrame(single, schema={"kommunenr": pl.String, "year": pl.Int32, "code": pl.String}, orient="row")
    reported = area_rows.join(codes, on=["kommunenr", "year"]).with_columns(
        pl.col("code").alias("kommunenr"), pl.lit(AS_REPORTED).alias("structure")
    )
    return area_rows, conform(reported)


def _kinds(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    return frame.filter(pl.col("indicator").is_in([i for i, spec in BY_ID.items() if spec.kind == kind]))


def assemble(reforms: Reforms, raw: Path, structure_year: int, live: pl.DataFrame | None = None) -> pl.DataFrame:
    """All tidy rows (as reported + harmonised to `structure_year`), named, not yet validated.

    `live` rows (from a fetch) replace snapshot rows with the same kommune, year and indicator.
    """
    panel = read_panel(raw / "ssb" / "paneldata_2007_2025_bred.csv")
    reported = pl.concat(
        [panel_as_reported(panel), read_12209(reforms, raw / SHARE_12209_FILE)], how="vertical_relaxed"
    )
    if live is not None and live.height:
        valid = _valid_pairs(reforms, live["year"].unique().to_list())
        live = live.join(valid, on=["kommunenr", "year"], how="semi")
        reported = pl.concat(
            [reported.join(live, on=["kommunenr", "year", "indicator"], how="anti"), live], how="vertical_relaxed"
        )
    reported = flag_outliers(reported)
    hours_file = raw / "ssb" / "timer_11643_helsetjenester_i_heimen.csv"
    hours_2024, hours_reported = hours_rows(reforms, read_hours(hours_file))
    years = sorted(set(reported["year"].to_list()))
    areas = population_by_area(panel)

    reported_population = population_rows(
        reforms, areas,
        [(c, y, y) for c, y in panel.select("kommunenr_hist", pl.col("år").cast(pl.Int32)).unique().iter_rows()],
        AS_REPORTED, historic=read_historic_population(raw / "ssb" / HISTORIC_FILE.name),
    )
    as_reported = pl.concat([reported, hours_reported, reported_population], how="vertical_relaxed")
    as_reported = pl.concat([as_reported, derive(as_reported)], how="vertical_relaxed")

    mapping = mapping_for_years(reforms, years, structure_year)
    structure = str(structure_year)
    counts = harmonise_counts(_kinds(reported, "count"), mapping, structure_year)
    levels = harmonise_levels(_kinds(reported, "level"), mapping, structure_year)
    hours = harmonise_counts(hours_2024, mapping_from_structure(reforms, years, AREA_YEAR, structure_year),
                             structure_year)
    target_population = population_rows(
        reforms, areas, [(c, structure_year, y) for c in reforms.valid_codes(structure_year) for y in years],
        structure,
    )
    harmonised = pl.concat([counts, levels, hours, target_population], how="vertical_relaxed")
    harmonised = pl.concat([harmonised, derive(harmonised)], how="vertical_relaxed")

    table = tidy_flags_and_symbols(pl.concat([as_reported, harmonised], how="vertical_relaxed"))
    names = pl.DataFrame({"kommunenr": list(reforms.names), "name": list(reforms.names.values())})
    table = table.join(names, on="kommunenr", how="left").with_columns(pl.col("name").alias("kommune"))
    return conform(table).sort("structure", "kommunenr", "indicator", "year")


def build_indicators(
    structure_year: int = 2024,
    source: str = "snapshot",
    out: Path | None = None,
    raw: Path | None = None,
) -> pl.DataFrame:
    """Build, validate and atomically write the indicator table; return it."""
    if source not in SOURCES:
        raise InputError(f"source must be one of {SOURCES}, got {source!r}.")
    raw = Path(raw) if raw is not None else paths.RAW
    out = Path(out) if out is not None else paths.indicators_parquet()
    started = time.perf_counter()
    live, notes, klass_dir, run = None, [], raw / "klass131", None
    if source == "ssb":
        run = require_live_run(raw)
    verified = verify_raw(raw, run)  # before anything reads data/raw: DataError naming each bad file
    if run is not None:
        live, notes = read_live_run(run)
        if (run / "klass131_changes.json").exists():
            klass_dir = run
    reforms = load_reforms(klass_dir, raw / "reforms" / "restored_borders.csv")
    reforms.check_structure_year(structure_year)
    table = validate(assemble(reforms, raw, structure_year, live), reforms)
    with atomic_path(out) as tmp:
        table.write_parquet(tmp)
    info = {
        "structure_year": structure_year,
        "source": source,
        "live_run": None if run is None else run.relative_to(raw).as_posix(),
        "rows": table.height,
        "live_rows": 0 if live is None else live.height,
        "live_notes": notes,
        "seconds": round(time.perf_counter() - started, 3),
        "inputs": verified,
    }
    atomic_write_text(out.with_name("build_info.json"), json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return table
