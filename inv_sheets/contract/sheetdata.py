"""What a feature hands the writer: one computed sheet, as plain data.

Features build `SheetData` values; the writers (the file writer in io/, and the live-Excel writer
in excel.py) turn them into worksheets. Neither side knows how the other works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from .schema import OUTPUT, OutColumn, Output

DEFINITIONS_LINK = "Definitions"  # the text of the link right of each output table's header


@dataclass(frozen=True)
class LineChart:
    """A native line chart of some columns of the sheet's table, one series per column."""

    title: str
    x: str  # column name of the categories (e.g. "week")
    series: tuple[str, ...]  # column names plotted
    y_title: str = ""


@dataclass(frozen=True)
class SheetData:
    """One output sheet: its declared columns and its rows, plus how to present them.

    rows      one column per declared column (in any order), values of the column's kind;
              None/NaN is an empty cell.
    formulas  column -> formula template with "{row}" for the Excel row, e.g. "=E{row}-F{row}";
              the cached value written with it is the row's value in `rows`, so every reader
              sees the number even before Excel recalculates.
    fills     column -> {cell value: colour}, colour one of "red", "amber", "green", "grey":
              how a status column is coloured at a glance.
    notes     (term, definition) pairs that explain the sheet, e.g. KPI definitions: they go to the
              one Definitions sheet, so the table prints alone.
    chart     a line chart placed below the table.
    page_header  the printed page's header besides the sheet name: the store and the as-of day.
    definitions  where this sheet's block of the Definitions sheet starts ('Definitions'!A12),
              linked from the sheet's header line; empty when it has none.
    left_out  how many rows with errors its figures leave out ("1 row with errors (Movements 1) is
              not in these figures"), said in the link's text; empty when none.
    """

    output: Output
    rows: pd.DataFrame
    formulas: Mapping[str, str] = field(default_factory=dict)
    fills: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    notes: tuple[tuple[str, str], ...] = ()
    chart: LineChart | None = None
    hidden: bool = False
    page_header: str = ""
    definitions: str = ""
    left_out: str = ""

    @property
    def link_text(self) -> str:
        """The text of the header line's link to the sheet's definitions; it says first what the
        figures leave out, so a short figure is never short without a word on its own sheet."""
        return f"{DEFINITIONS_LINK} · {self.left_out}" if self.left_out else DEFINITIONS_LINK

    @property
    def name(self) -> str:
        return self.output.name

    @property
    def columns(self) -> tuple[OutColumn, ...]:
        return self.output.columns

    def frame(self) -> pd.DataFrame:
        """The rows with exactly the declared columns, in order (missing ones empty)."""
        return self.rows.reindex(columns=self.output.column_names())


def sheet(name: str, rows: pd.DataFrame, **kw) -> SheetData:
    """SheetData for a declared output sheet, by name."""
    return SheetData(OUTPUT[name], rows, **kw)
