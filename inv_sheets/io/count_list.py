"""The count list as a file to print: one location's lines laid out for a counter with a pen.

counts.count_list decides what to count; this module lays those lines out as a new .xlsx workbook
(openpyxl: a fresh file, nothing of the user's to preserve) and writes it.
"""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pandas as pd

from ..contract.book import Store
from ..contract.issues import column_letter
from ..contract.template import plain_value
from ..features.counts import COUNT_LIST_COLUMNS, count_list
from ..ledger.postings import Ledger


def write_count_sheet(store: Store, ledger: Ledger, location: str, path: str | os.PathLike, *,
                      date: object = None, blind: bool = False, abc: pd.Series | None = None) -> int:
    """Write count_sheet's file at `path`; return how many lines it lists."""
    lines = count_list(store, ledger, location, date=date, abc=abc)
    Path(path).write_bytes(_count_book(store, ledger, lines, location, date, blind))
    return len(lines)


def count_sheet(store: Store, ledger: Ledger, location: str, *, date: object = None, blind: bool = False,
                abc: pd.Series | None = None) -> bytes:
    """A print-ready count list for one location as a new .xlsx file (its bytes).

    A title with the location and day, a line for who counted, then the lines sorted by bin with an
    empty Counted qty column; blind leaves out the book quantity so the counter is not led by it.
    Landscape, fitted to the page width, the header row repeated on every page. The columns match
    the Counts sheet's, in its order and under its headers (then name, variant, unit, expiry and
    book quantity), so the filled lines can be typed or pasted straight back onto Counts.
    """
    lines = count_list(store, ledger, location, date=date, abc=abc)
    return _count_book(store, ledger, lines, location, date, blind)


def _count_book(store: Store, ledger: Ledger, lines: pd.DataFrame, location: str, date: object, blind: bool) -> bytes:
    """The count list laid out for printing, as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.properties import PageSetupProperties

    day = ledger.as_of if date is None else pd.Timestamp(date).normalize()
    code = str(location).strip().upper()
    columns = [c for c in COUNT_LIST_COLUMNS if not (blind and c[0] == "book_qty")]
    wb = Workbook()
    ws = wb.active
    ws.title = "Count sheet"
    names = store["Locations"].dropna(subset=["location", "name"]).drop_duplicates("location")
    place = names.set_index("location")["name"].get(code)
    ws["A1"] = f"Count sheet: {code}" + (f" ({place})" if place else "")
    ws["A1"].font = Font(bold=True, size=14)
    how = "blind count: book quantities hidden" if blind else f"book quantities as of {ledger.as_of:%Y-%m-%d}"
    ws["A2"] = f"Count day {day:%Y-%m-%d}  ·  {len(lines)} lines  ·  {how}"
    ws["A3"] = "Counted by: ______________________    Checked by: ______________________    Time: ________"
    header_row = 5
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for j, (_, title, width) in enumerate(columns, start=1):
        cell = ws.cell(header_row, j, title)
        cell.font, cell.border = Font(bold=True), box
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        ws.column_dimensions[column_letter(j)].width = width
    for i, row in enumerate(lines.itertuples(index=False), start=header_row + 1):
        values = row._asdict()
        for j, (column, _, _) in enumerate(columns, start=1):
            value = values[column]
            cell = ws.cell(i, j, plain_value(value))
            cell.border = box
            if column in ("date", "expiry"):
                cell.number_format = "yyyy-mm-dd"
            elif column == "book_qty":
                cell.number_format = "#,##0.###"
        ws.row_dimensions[i].height = 22  # room to write by hand
        for cell in ws[i]:
            cell.alignment = Alignment(vertical="center")
    if lines.empty:
        ws.cell(header_row + 1, 1, "Nothing is due for counting here on this day.")
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    last = column_letter(len(columns))
    ws.print_area = f"A1:{last}{max(header_row + len(lines), header_row + 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = f"Count sheet {code} {day:%Y-%m-%d}"
    ws.oddFooter.center.text = "Page &P of &N"
    wb.properties.creator = "inv-sheets"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
