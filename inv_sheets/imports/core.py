"""What every import format shares: reading the file, its header, dates, quantities, and the line.

A shop's export becomes a list of `Line`s: one order line in the toolkit's words (its stable key,
the order, the day, the SKU or listing name as exported, the quantity and what happened to it). The
format modules only say how their columns and statuses map onto a Line; reading the file, telling
dates apart and reporting a line that cannot be read happen here, once.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..contract.issues import Issue, column_letter
from ..contract.parse import excel_serial_to_timestamp, parse_text_date
from ..contract.schema import fold

# What happened to a line.
FULFILLED = "fulfilled"  # shipped: a sale from the channel's location
OPEN = "open"  # not shipped yet: an open order line that reserves stock
CANCELLED = "cancelled"  # voided or cancelled before shipping: nothing moves, the open line closes
RETURNED = "returned"  # shipped, then refunded with restock: a sale and a return into the returns hold
REFUNDED = "refunded"  # shipped, then refunded without restock: the sale stands, nothing comes back
RETURN = "return"  # a refund line of its own (its sale is another line): back into the returns hold
STATES = (FULFILLED, OPEN, CANCELLED, RETURNED, REFUNDED, RETURN)


@dataclass(frozen=True)
class Line:
    """One order line as the shop exported it."""

    key: str  # stable across exports of the same line: "shopify:#1001:line2"
    order: str  # the shop's order number as it shows it: "#1001"
    date: pd.Timestamp | None  # the day it moved (shipped or refunded), else the order day
    sku: str  # as exported, trimmed ("" when the export has none)
    listing: str  # the listing's name as exported ("Title - Variant")
    qty: float
    state: str
    row: int  # the record's row in the file, as a spreadsheet shows it (header = 1)
    currency: str = ""
    region: str = ""
    note: str = ""


@dataclass
class Rows:
    """A file's records: the header as written, each record keyed by folded header, and its row."""

    path: Path
    headers: list[str]
    records: list[dict[str, object]]
    rows: list[int]
    header_row: int = 1
    issues: list[Issue] = field(default_factory=list)
    title: list[list[object]] = field(default_factory=list)  # rows above the header (a count list's title)

    @property
    def folded(self) -> set[str]:
        return {fold(h) for h in self.headers}

    def letter(self, header: str) -> str | None:
        """The column letter the file shows a header in (as Excel opens it)."""
        want = fold(header)
        return next((column_letter(i) for i, h in enumerate(self.headers, start=1) if fold(h) == want), None)

    def finding(self, code: str, row: int | None, header: str | None, message: str, value: object = None) -> Issue:
        """A finding at a cell of this file: orders.csv!F12."""
        return Issue(code, self.path.name, row, self.letter(header) if header else None, message, value)


# Reading ------------------------------------------------------------------------------------------------
def read_rows(path: str | Path, *, header_hint: tuple[str, ...] = ()) -> Rows:
    """The records of a CSV/TSV export (UTF-8 with or without BOM, or Windows-1252), or of the
    first sheet of an .xlsx/.xlsm re-save. `header_hint`: headers that mark the header row when
    title rows stand above it (a printed count list)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        grid = _workbook_grid(path)
    else:
        grid = _text_grid(path.read_bytes())
    start = 0
    if header_hint:
        wanted = {fold(h) for h in header_hint}
        start = next((i for i, row in enumerate(grid) if wanted <= {fold(c) for c in row if c not in (None, "")}), 0)
    while start < len(grid) and not any(c not in (None, "") for c in grid[start]):
        start += 1
    if start >= len(grid):
        return Rows(path, [], [], [])
    headers = [str(h).strip() if h is not None else "" for h in grid[start]]
    records, rows = [], []
    for i, row in enumerate(grid[start + 1:], start=start + 2):
        if not any(c not in (None, "") for c in row):
            continue
        record = {}
        for header, value in zip(headers, row):
            if header and fold(header) not in record:
                record[fold(header)] = value.strip() if isinstance(value, str) else value
        records.append(record)
        rows.append(i)
    return Rows(path, headers, records, rows, header_row=start + 1, title=grid[:start])


def _text_grid(data: bytes) -> list[list[object]]:
    """Rows of a delimited text file; quoted values may span lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # an Excel re-save on Windows
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ",", ";"), key=first.count)
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _workbook_grid(path: Path) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return [list(r) for r in workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)]


# Values ----------------------------------------------------------------------------------------------
_TIME_TAIL = re.compile(r"^(\S+?)(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\s*(?:[AaPp][Mm])?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")


def day_of(value: object, date_order: str | None) -> tuple[pd.Timestamp | None, str]:
    """The day a shop's date or timestamp names, and why not when it cannot be read.

    2021-05-13 11:01:12 +0200 is 13 May (the shop's own wall clock: the day the owner sees);
    12/31/2019, 31/12/2023 22:36 and 11/10/24 follow `date_order` when they could read both ways.
    """
    if value is None or value == "":
        return None, "no date"
    if isinstance(value, pd.Timestamp) or hasattr(value, "year"):
        return pd.Timestamp(value).tz_localize(None).normalize() if pd.Timestamp(value).tzinfo else pd.Timestamp(value).normalize(), ""
    if isinstance(value, (int, float)):
        return excel_serial_to_timestamp(float(value)).normalize(), ""
    text = str(value).strip()
    match = _TIME_TAIL.match(text)
    stamp, (_, why) = parse_text_date(match.group(1) if match else text, date_order)
    return (stamp.normalize() if stamp is not None else None), why


def date_order_of(values: list[object], fallback: str | None) -> str | None:
    """DMY or MDY as the file's own slash dates show it (a day above 12 tells), else `fallback`."""
    dmy = mdy = False
    for value in values:
        match = re.match(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b", str(value or ""))
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            dmy |= a > 12
            mdy |= b > 12
    if dmy != mdy:
        return "DMY" if dmy else "MDY"
    return fallback


def quantity(value: object) -> float | None:
    """A quantity as exported ("2", "2.0", 2); None when it is not a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        return None


def text(record: dict[str, object], *headers: str) -> str:
    """The first non-empty value among `headers` (any spelling), as trimmed text."""
    for header in headers:
        value = record.get(fold(header))
        if value not in (None, ""):
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(value).strip()
    return ""


def has(rows: Rows, *headers: str) -> bool:
    """Whether the file has every one of `headers` (compared forgivingly)."""
    return {fold(h) for h in headers} <= rows.folded


def key_part(value: str) -> str:
    """A piece of a line key: spaces and colons (the key's separator) made safe."""
    return re.sub(r"\s+", "_", value.strip()).replace(":", "_")


def day_and_qty(rows: Rows, i: int, day_header: str, qty_header: str, date_order: str | None, *,
                day_value: object = None) -> tuple[pd.Timestamp, float] | Issue:
    """A record's day and quantity, or the finding that says which one cannot be read."""
    record, row = rows.records[i], rows.rows[i]
    value = day_value if day_value is not None else record.get(fold(day_header))
    day, why = day_of(value, date_order)
    if day is None:
        return rows.finding("import-bad-line", row, day_header,
                            f"the date {value!r} cannot be read ({why}); the line is not imported. "
                            "Set Settings date_order to DMY or MDY when dates read both ways.", value)
    qty = quantity(record.get(fold(qty_header)))
    if qty is None:
        raw = record.get(fold(qty_header))
        return rows.finding("import-bad-line", row, qty_header,
                            f"the quantity {raw!r} is not a number; the line is not imported.", raw)
    return day, qty


# Status words shops and their export plugins use, and what each means for a line.
STATUS_WORDS = {
    FULFILLED: ("fulfilled", "shipped", "completed", "complete", "delivered", "sold", "paid", "done", "sale"),
    OPEN: ("open", "pending", "processing", "unfulfilled", "unshipped", "on-hold", "on hold", "awaiting shipment", "partial"),
    CANCELLED: ("cancelled", "canceled", "voided", "void", "failed", "expired", "trash", "checkout-draft"),
    RETURNED: ("returned", "restocked", "refunded and restocked"),
    REFUNDED: ("refunded",),
}
_STATE_BY_WORD = {word: state for state, words in STATUS_WORDS.items() for word in words}


def state_of(word: str) -> str | None:
    """The state a status word names ("wc-completed" and "Completed" alike); None when unknown."""
    word = word.strip().lower()
    word = word[3:] if word.startswith("wc-") else word
    return _STATE_BY_WORD.get(word)
