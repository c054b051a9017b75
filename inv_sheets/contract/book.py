"""The neutral in-memory workbook: what the readers produce and the core consumes.

Two stages. A `Book` holds each known sheet's cells as read (raw values, canonical column names,
the Excel row of every row and the Excel column of every column), so every finding can point at
its cell. A `Store` holds the same tables typed and checked (validate.parse makes it), with the rows
that had errors left out: it is what the ledger and the features compute on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from .issues import Issue
from .schema import SHEET, Sheet

ROW_SPAN = 1 << 21  # row numbers of a continuation sheet are offset by a multiple of this (> Excel's rows)


@dataclass(frozen=True)
class TablePart:
    """One sheet of a table that spans several sheets (a ledger continued on "Movements 2025").

    Its rows are in the table with their Excel row plus `offset`; `letters` are its own columns.
    """

    title: str
    offset: int
    letters: dict[str, str]


@dataclass(frozen=True)
class Earlier:
    """An earlier read of a table (its `source`) whose rows are this table's rows at `rows`, cell
    for cell: the day's movements appended below yesterday's, the rest as it was. What was worked
    out from those rows then (their types, their findings) holds for them now."""

    source: str
    rows: pd.Index


@dataclass
class Table:
    """One input sheet as read.

    `data` has one column per recognised header, named canonically, holding the raw cell values
    (numbers, text, dates or None), and is indexed by Excel row number. `letters` maps each
    canonical column to its Excel column letter; `headers` to the header text the user typed.
    """

    name: str  # canonical sheet name, e.g. "Item Locations"
    title: str  # the sheet's name in the workbook, e.g. "item locations"
    data: pd.DataFrame
    letters: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    header_row: int = 1
    # The columns read column-wise (io.read: a big sheet's fast read), where a number in a text column
    # comes back as text; every other column kept each cell's own type. Empty when read cell by cell.
    column_wise: frozenset[str] = frozenset()
    parts: tuple[TablePart, ...] = ()  # further sheets whose rows continue this table
    # What the cells were read from, as a digest (cache.source): two tables with the same source
    # hold the same cells under the same names. None when it is not known (a live workbook, a sheet
    # too small to cache).
    source: str | None = None
    earlier: Earlier | None = None  # set when the sheet grew since it was last read (read.read_book)

    @property
    def schema(self) -> Sheet:
        return SHEET[self.name]

    def locate(self, row: int) -> tuple[str, int, dict[str, str]]:
        """The sheet, Excel row and column letters of a row of this table (continuations included)."""
        for part in self.parts:
            if part.offset <= row < part.offset + ROW_SPAN:
                return part.title, row - part.offset, part.letters
        return self.title, row, self.letters


@dataclass
class Book:
    """A workbook as read: its known sheets, the names of all sheets, and what reading found."""

    path: str
    tables: dict[str, Table]
    sheet_names: list[str]
    issues: list[Issue] = field(default_factory=list)
    date1904: bool = False

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def locate(self, issues: list[Issue]) -> list[Issue]:
        """Findings placed at their own sheet: a row of a continuation sheet ("Movements 2025") is
        reported there, at its own row and column, rather than at the offset row of the table."""
        spanning = {t.title: t for t in self.tables.values() if t.parts}
        if not spanning:
            return issues
        out = []
        for issue in issues:
            table = spanning.get(issue.sheet)
            if table is None:
                out.append(issue)
                continue
            # A message may name another row of the table ("already on row N"): name its sheet too.
            message = re.sub(r"\brow (\d+)", lambda m, t=table: _row_words(t, int(m.group(1))), issue.message)
            if issue.row is None or issue.row < ROW_SPAN:
                out.append(replace(issue, message=message) if message != issue.message else issue)
                continue
            title, row, letters = table.locate(issue.row)
            column = letters.get(issue.field, issue.column) if issue.field else issue.column
            out.append(replace(issue, sheet=title, row=row, column=column, message=message))
        return out


def _row_words(table: Table, row: int) -> str:
    if row < ROW_SPAN:
        return f"row {row}"
    title, at, _ = table.locate(row)
    return f"row {at} of '{title}'"


@dataclass
class Store:
    """The store's data, typed and checked: what the ledger and the features compute on.

    Each frame has the sheet's canonical columns with their declared types (codes upper-cased and
    trimmed, numbers float, dates datetime64, choices canonical) and is indexed by Excel row. Rows
    with an error finding are left out. A sheet the workbook does not have is an empty frame.
    """

    tables: dict[str, pd.DataFrame]
    settings: Settings
    titles: dict[str, str] = field(default_factory=dict)  # canonical -> sheet name in the workbook
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)  # the cells as read, for spelling checks

    def has(self, name: str) -> bool:
        return name in self.titles

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def cell(self, sheet: str, column: str) -> tuple[str, str | None]:
        """The workbook's sheet name and the Excel column letter of a canonical column."""
        return self.titles.get(sheet, sheet), self.letters.get(sheet, {}).get(column)


@dataclass(frozen=True)
class Settings:
    """Settings with their defaults filled in (see schema.SETTINGS)."""

    as_of: pd.Timestamp
    store_name: str | None = None
    demand_days: int = 90
    min_history_days: int = 30
    service_level: float = 0.95
    near_expiry_days: int = 30
    abc_a: float = 0.80
    abc_b: float = 0.95
    count_every_days_a: int = 30
    count_every_days_b: int = 90
    count_every_days_c: int = 180
    count_tolerance_a: float = 0.01
    count_tolerance_b: float = 0.03
    count_tolerance_c: float = 0.05
    review_every_days_a: int = 7
    review_every_days_b: int = 14
    review_every_days_c: int = 30
    max_order_days: int = 180
    default_location: str | None = None
    returns_location: str | None = None
    damaged_location: str | None = None
    date_order: str | None = None
    adjusters: tuple[str, ...] = ()

    def by_class(self, prefix: str, abc: str) -> float:
        """A per-ABC-class setting, e.g. by_class("count_tolerance", "B")."""
        return getattr(self, f"{prefix}_{abc.lower()}")
