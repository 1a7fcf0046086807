"""Tables for reports: numeric columns in Norwegian notation, Norwegian headers, the whole table shown
as plain HTML (no dtype row, no truncation up to `max_rows`). No computing here."""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl

from helpers.present.formatting import format_number

YEAR_LIKE = ("year", "år", "fra", "til", "year_jan1", "rank", "År", "Fra", "Til")


@dataclass(frozen=True)
class Table:
    """A formatted table that renders as HTML in notebooks and exported reports."""

    frame: pl.DataFrame
    max_rows: int = 400
    wrap: bool = False
    text_columns: tuple[str, ...] = ()  # left-aligned (names, places); numbers stay right-aligned

    def _repr_html_(self) -> str:
        shown = self.frame.head(self.max_rows)
        # wrap: text left-aligned and wrapped (long words broken only where they must), so a wide table fits
        cells = [' style="text-align:left;overflow-wrap:break-word;vertical-align:top"' if self.wrap
                 else ' style="text-align:left"' if column in self.text_columns else "" for column in shown.columns]
        head = "".join(f"<th{cell}>{html.escape(str(c))}</th>" for cell, c in zip(cells, shown.columns, strict=True))
        body = "".join(
            "<tr>" + "".join(f"<td{cell}>{'' if v is None else html.escape(str(v))}</td>"
                             for cell, v in zip(cells, row, strict=True)) + "</tr>"
            for row in shown.iter_rows()
        )
        more = (f"<caption>Viser {self.max_rows} av {self.frame.height} rader</caption>"
                if self.frame.height > self.max_rows else "")
        layout = ' oms-wrap" style="table-layout:auto;width:100%;max-width:100%' if self.wrap else ""
        return f'<table class="ok-table{layout}">{more}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        with pl.Config(tbl_rows=self.max_rows, tbl_hide_column_data_types=True, fmt_str_lengths=80):
            return repr(self.frame)


def display_table(frame: pl.DataFrame, decimals: int | dict[str, int] = 1,
                  rename: dict[str, str] | None = None, max_rows: int = 400, wrap: bool = False) -> Table:
    """`frame` with numbers as Norwegian-formatted text and columns renamed for readers.

    Integer columns named like years (`year`, `år`, `fra`, `til`, `year_jan1`, `rank`) are left as they are.
    Text columns are left-aligned, numbers right-aligned; `wrap` left-aligns every cell and lets long text
    break, for wide text tables.
    """
    out = []
    for name, dtype in frame.schema.items():
        places = decimals.get(name, 1) if isinstance(decimals, dict) else decimals
        if dtype.is_float():
            out.append(pl.col(name).map_elements(lambda x, p=places: format_number(x, p), return_dtype=pl.String))
        elif dtype.is_integer() and name not in YEAR_LIKE:
            out.append(pl.col(name).map_elements(lambda x: format_number(x, 0), return_dtype=pl.String))
        else:
            out.append(pl.col(name))
    formatted = frame.select(out)
    text = tuple((rename or {}).get(name, name) for name, dtype in frame.schema.items()
                 if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum))
    return Table(formatted.rename(rename) if rename else formatted, max_rows, wrap, text)
