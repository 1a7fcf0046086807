"""The processed indicator table as the reports read it: read once per process while the file is unchanged,
built from the snapshot first when it is missing (helpers.table.build, imported only then: a report does not
import the build's readers, harmonisation and validation)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from helpers import file_cache, paths
from helpers.errors import DataError, InputError
from helpers.sources.schema import AS_REPORTED


def unreadable(path: Path, exc: BaseException) -> DataError:
    """The error for a processed table that cannot be read: it is generated, so rebuilding fixes it."""
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return DataError(f"{path}: cannot be read ({first}); it is damaged or incomplete — rebuild it with "
                     "`python -m helpers build`.")


def read_table(path: Path) -> pl.DataFrame:
    """A processed parquet table; DataError naming it and what to do when it is damaged. Read once per
    process while the file is unchanged (helpers.file_cache); each caller gets its own clone."""
    path = Path(path)

    def read() -> pl.DataFrame:
        try:
            return pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise unreadable(path, exc) from None

    return file_cache.cached(("table", str(path.resolve())), lambda: [path], read).clone()


def load_indicators(path: Path | None = None, *, build_if_missing: bool = True) -> pl.DataFrame:
    """The processed indicator table, built from the snapshot first if it does not exist."""
    path = Path(path) if path is not None else paths.indicators_parquet()
    if not path.exists():
        if not build_if_missing:
            raise InputError(f"{path} does not exist; run `python -m helpers build` first.")
        from helpers.table.build import build_indicators

        return build_indicators(out=path)
    return read_table(path)


def table_for_structure(structure: str, path: Path | None = None) -> pl.DataFrame:
    """The processed table holding `structure` (`as_reported` or a year); other structure years than the
    default table's are built once into `indicators_<year>.parquet` beside it."""
    table = load_indicators(path)
    if structure == AS_REPORTED or structure in set(table["structure"].unique().to_list()):
        return table
    other = (Path(path).with_name(f"indicators_{structure}.parquet") if path is not None
             else paths.indicators_parquet(structure_year=structure))
    if other.exists():
        return read_table(other)
    from helpers.table.build import build_indicators

    return build_indicators(structure_year=int(structure), out=other)
