"""Input rules every analysis shares: the panel check, the kommune-code check and the usable-value rule.

A value is *usable* when it is present, not suppressed by SSB (status ":", never read as zero) and, with
`exclude_flagged=True` (the default everywhere), carries no quality flag. Each rule is written here once.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from helpers.analysis._memo import per_panel
from helpers.errors import InputError
from helpers.sources import indicators as catalogue
from helpers.sources.schema import KEY_COLUMNS, KOMMUNE_CODE, TIDY_SCHEMA
from helpers.table.flags import has_flag

Window = tuple[int, int]
SMALL_DENOMINATOR = "small_denominator"
#: Four ASCII digits: "0220". (str.isdigit would also pass fullwidth and other Unicode digits.)


def period_label(window: Window) -> str:
    """The window as text: "2016–2019", or "2019" for a one-year window."""
    return str(window[0]) if window[0] == window[1] else f"{window[0]}–{window[1]}"


def window_years(window: Window) -> list[int]:
    """Every year of a window."""
    return list(range(window[0], window[1] + 1))


def check_windows(before: Window, after: Window) -> None:
    """InputError unless start <= end in both windows and `before` ends before `after` starts."""
    (b0, b1), (a0, a1) = before, after
    if not (b0 <= b1 < a0 <= a1):
        raise InputError(
            f"Ugyldige perioder / invalid windows: før {before}, etter {after}; need start <= end and the "
            "before window ending before the after window starts."
        )


@per_panel
def check_panel(panel: pl.DataFrame) -> None:
    """InputError unless `panel` has the tidy columns, one structure and unique keys."""
    missing = [name for name in TIDY_SCHEMA if name not in panel.columns]
    if missing:
        raise InputError(f"Panelet mangler kolonner / panel lacks columns: {', '.join(missing)}.")
    if panel["structure"].n_unique() > 1:
        structures = ", ".join(sorted(str(s) for s in panel["structure"].unique().to_list()))
        raise InputError(
            f"Panelet har flere kommunestrukturer ({structures}); velg én først / restrict the panel to one "
            "structure first, e.g. panel.filter(pl.col('structure') == '2024')."
        )
    keys = panel.select(KEY_COLUMNS)
    # 64-bit row hashes first (fast); equal hashes are confirmed on the keys themselves
    if keys.hash_rows().n_unique() != panel.height and keys.n_unique() != panel.height:
        raise InputError(
            "Panelet har dupliserte rader for samme kommune, år og indikator / duplicate key rows in panel."
        )


def check_kommune(kommune: object, table: pl.DataFrame | None = None, structure: str | None = None) -> str:
    """`kommune` as a four-digit code present in `table` (on `structure`, when given); InputError otherwise."""
    if not isinstance(kommune, str) or not KOMMUNE_CODE.fullmatch(kommune):
        raise InputError(
            f'Parameteren kommune må være et firesifret kommunenummer i anførselstegn, f.eks. "0220" / '
            f"kommune must be a quoted 4-digit code, got {kommune!r} (with papermill use -r kommune 0220)."
        )
    if table is None:
        return kommune
    rows = table.filter(pl.col("kommunenr") == kommune)
    if structure is not None:
        rows = rows.filter(pl.col("structure") == structure)
    if rows.height:
        return kommune
    where = "" if structure is None else f" på struktur {structure}"
    raise InputError(f"Kommunenummer {kommune} finnes ikke i tabellen{where} / not in the table.")


def check_kommune_in_panel(panel: pl.DataFrame, kommune: str) -> None:
    """InputError naming the code (and the code of a kommune with that name, if any) when it is absent."""
    if panel.filter(pl.col("kommunenr") == kommune).height:
        return
    by_name = panel.filter(pl.col("kommune").str.to_lowercase() == str(kommune).lower())
    hint = f" Mente du kommunenummer {by_name['kommunenr'][0]}?" if by_name.height else ""
    raise InputError(f"Kommunenummer {kommune!r} finnes ikke i panelet / not in panel.{hint}")


def usable(exclude_flagged: bool = True) -> pl.Expr:
    """True where a row's value may enter an analysis (see the module docstring)."""
    present = pl.col("value").is_not_null() & pl.col("value").is_finite()
    suppressed = (pl.col("status") == ":").fill_null(False)
    flagged = pl.col("flag").fill_null("").str.strip_chars() != ""
    return present & ~suppressed & (~flagged if exclude_flagged else pl.lit(True))


def prepare(panel: pl.DataFrame, ids: Iterable[str], exclude_flagged: bool = True) -> pl.DataFrame:
    """Rows of `ids`, with `value` nulled where not usable and bool columns suppressed, excluded and
    small_denominator (counted in notes and kept out of group statistics)."""
    suppressed = (pl.col("status") == ":").fill_null(False)
    kept = usable(exclude_flagged)
    return (
        panel.filter(pl.col("indicator").is_in(list(ids)))
        .with_columns(
            suppressed=suppressed,
            excluded=~kept & ~suppressed & pl.col("value").is_not_null(),
            small_denominator=has_flag(SMALL_DENOMINATOR),
        )
        .with_columns(value=pl.when(kept).then(pl.col("value")))
    )


@per_panel
def prepared(panel: pl.DataFrame, ids: tuple[str, ...], exclude_flagged: bool = True) -> pl.DataFrame:
    """`prepare(panel, ids, exclude_flagged)`, once per panel: steps take their kommuner from it by filtering
    (the same rows, in the same order, as preparing the filtered panel)."""
    return prepare(panel, ids, exclude_flagged)


def of_codes(panel: pl.DataFrame, codes: Iterable[str], ids: Iterable[str], exclude_flagged: bool = True,
             ) -> pl.DataFrame:
    """The prepared rows of `ids` for the kommuner `codes` (see `prepared`)."""
    return prepared(panel, tuple(ids), exclude_flagged).filter(pl.col("kommunenr").is_in(list(codes)))


@per_panel
def names(panel: pl.DataFrame) -> pl.DataFrame:
    """kommunenr → kommune (the latest name used in the panel)."""
    return (
        panel.select("kommunenr", "kommune", "year").sort("year")
        .group_by("kommunenr")
        .agg(pl.col("kommune").drop_nulls().last())
        .with_columns(pl.col("kommune").fill_null(pl.col("kommunenr")))
    )


def name_of(panel: pl.DataFrame, kommune: str) -> str:
    """The latest name of `kommune` in the panel (the code when it has none)."""
    found = names(panel.filter(pl.col("kommunenr") == kommune))
    return found["kommune"][0] if found.height else kommune


def years_between(frame: pl.DataFrame, start: int | None, end: int | None) -> pl.DataFrame:
    """Rows with start <= year <= end (either bound may be None)."""
    if start is not None:
        frame = frame.filter(pl.col("year") >= start)
    return frame if end is None else frame.filter(pl.col("year") <= end)


def check_ids(indicators: str | Iterable[str]) -> list[str]:
    """Catalogue ids as a list (InputError for unknown ones)."""
    return catalogue.check_ids(indicators)
