"""A filled count list (the file `inv-sheets count-sheet` prints) read back as Counts rows.

Columns are found by their headers with the contract's forgiving matching, so both layouts read:
the printed list (Bin, SKU, Name, ..., Book qty, Counted qty, Note, with the location and the count
day in its title rows) and one laid out like the Counts sheet (Date, Location, SKU, Batch, Counted
qty, Counter, Bin). A line with no counted quantity was not counted and is skipped; a name written
on the "Counted by:" line is the counter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..contract.issues import Issue
from ..contract.schema import fold, match_column
from .core import Rows, day_of, quantity

NAME = "counts"
DATE_ORDER = None
HEADER_HINT = ("SKU", "Counted qty")


@dataclass(frozen=True)
class CountLine:
    """One counted line, in the Counts sheet's columns."""

    date: pd.Timestamp
    location: str
    sku: str
    batch: str
    counted_qty: float
    counter: str
    bin: str
    row: int


def detect(rows: Rows) -> bool:
    names = {match_column("Counts", h) for h in rows.headers}
    return {"sku", "counted_qty"} <= names


def lines(rows: Rows, date_order: str | None) -> tuple[list[CountLine], list[Issue], int]:
    """The counted lines, the findings, and how many lines were left uncounted."""
    columns = {}
    for header in rows.headers:
        name = match_column("Counts", header)
        if name and name not in columns:
            columns[name] = header
    title = " ".join(str(c) for row in rows.title for c in row if c not in (None, ""))
    place = re.search(r"Count sheet:\s*([^\s(]+)", title)
    day = re.search(r"Count day\s*(\d{4}-\d{2}-\d{2})", title)
    counter = re.search(r"Counted by:\s*([^_\s][^_]*?)\s*(?:Checked by:|_|$)", title)
    out, issues, skipped = [], [], 0
    for record, row in zip(rows.records, rows.rows):
        def cell(name: str) -> object:
            return record.get(fold(columns[name])) if name in columns else None

        raw = cell("counted_qty")
        if raw in (None, ""):
            skipped += 1
            continue
        qty = quantity(raw)
        if qty is None or qty < 0:
            issues.append(rows.finding("import-bad-line", row, columns["counted_qty"],
                                       f"the counted quantity {raw!r} is not a number of units; the line is not imported.", raw))
            continue
        when, why = day_of(cell("date") if "date" in columns else (day.group(1) if day else None), date_order)
        location = str(cell("location") or (place.group(1) if place else "")).strip()
        if when is None or not location:
            issues.append(rows.finding("import-bad-line", row, columns.get("date") or columns.get("location"),
                                       "the count's " + ("day cannot be read (" + why + ")" if when is None else "location is not given")
                                       + "; the line is not imported.", cell("date")))
            continue
        out.append(CountLine(when, location, _text(cell("sku")), _text(cell("batch")), qty,
                             _text(cell("counter")) or (counter.group(1).strip() if counter else ""), _text(cell("bin")), row))
    return out, issues, skipped


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
