"""What the statistics say about a claim's or promise's years: the kommune's measured change and how the
comparable kommuner moved in the same years. The window rule is the before/after report's (`_windows`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from helpers.analysis._panel import Window, names, prepare
from helpers.analysis._windows import changes, in_group_stats


@dataclass(frozen=True)
class Measurement:
    """One indicator for one kommune: window levels (mean of the years with usable values), the change and
    the comparable change `stat` (per cent for counts, the unit otherwise)."""

    indicator: str
    kommunenr: str
    structure: str
    before_window: Window
    after_window: Window
    before: float | None = None
    after: float | None = None
    change: float | None = None
    pct_change: float | None = None
    stat: float | None = None
    scale: str = "abs"
    missing_before: tuple[int, ...] = ()
    missing_after: tuple[int, ...] = ()
    n_excluded: int = 0

    @property
    def has_data(self) -> bool:
        """True when both windows have a level."""
        return self.before is not None and self.after is not None

    @property
    def key(self) -> tuple[str, Window, Window]:
        """What makes two measurements the same measured change."""
        return self.indicator, self.before_window, self.after_window


@dataclass(frozen=True)
class PeerChanges:
    """How the comparable kommuner's comparable change (`stat`) was distributed over the same years, and the
    median of their relative change in per cent (for charts that show every indicator in per cent)."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None
    median_pct: float | None = None


class Measurer:
    """Measurements on one structure of the indicator table, prepared once."""

    def __init__(self, table: pl.DataFrame, structure: str, exclude_flagged: bool = True) -> None:
        self.structure = structure
        self.panel = table.filter(pl.col("structure") == structure)
        self.exclude_flagged = exclude_flagged
        self._names = names(self.panel)
        self._prepared: dict[str, pl.DataFrame] = {}

    def _prep(self, indicator: str) -> pl.DataFrame:
        if indicator not in self._prepared:
            self._prepared[indicator] = prepare(self.panel, [indicator], self.exclude_flagged)
        return self._prepared[indicator]

    def measure(self, kommune: str, indicator: str, before: Window, after: Window) -> Measurement:
        """The kommune's levels and change of `indicator` between the two windows."""
        row = changes(self._prep(indicator), [kommune], [indicator], before, after, self._names).row(0, named=True)
        return Measurement(
            indicator=indicator, kommunenr=kommune, structure=self.structure, before_window=before,
            after_window=after, before=row["before"], after=row["after"], change=row["change"],
            pct_change=row["pct_change"], stat=row["stat"], scale=row["scale"],
            missing_before=tuple(row["missing_before"]), missing_after=tuple(row["missing_after"]),
            n_excluded=row["n_excluded"],
        )

    def peers(self, codes: Sequence[str], indicator: str, before: Window, after: Window) -> PeerChanges:
        """The distribution of the comparable change among `codes` (usable values only)."""
        used = changes(self._prep(indicator), list(codes), [indicator], before, after, self._names).filter(
            in_group_stats("stat"))
        if used.is_empty():
            return PeerChanges(0, None, None, None)
        stats = used["stat"]
        return PeerChanges(stats.len(), stats.median(), stats.quantile(0.25, "linear"), stats.quantile(0.75, "linear"),
                           used["pct_change"].median())

    def latest_year(self, kommune: str, indicator: str) -> int | None:
        """The kommune's latest year with a usable value of `indicator`."""
        years = self._prep(indicator).filter(pl.col("kommunenr") == kommune, pl.col("value").is_not_null())["year"]
        return None if years.is_empty() else int(years.max())
