"""The count list as a file to print: one location's lines laid out for a counter with a pen.

counts.count_list decides what to count; this module lays those lines out as a new .xlsx workbook
(openpyxl: a fresh file, nothing of the user's to preserve) and writes it. It replaces an existing
file only when that file is a count list of its own that nobody has written on yet.
"""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pandas as pd

from ..contract.book import Store
from ..contract.issues import WouldOverwriteError, column_letter
from ..contract.template import plain_value
from ..features.counts import COUNT_LIST_COLUMNS, count_list
from ..ledger.postings import Ledger

SHEET_TITLE = "Count sheet"
HEADER_ROW = 5
TYPED_COLUMNS = ("Counted qty", "Note")  # where the counter writes
SIGN_OFF = "Counted by: ______________________    Checked by: ______________________    Time: ________"


def write_count_sheet(store: Store, ledger: Ledger, location: str, path: str | os.PathLike, *,
                      date: object = None, blind: bool = False, abc: pd.Series | None = None,
                      source: str | os.PathLike | None = None, force: bool = False) -> int:
    """Write count_sheet's file at `path`; return how many lines it lists.

    Refuses (WouldOverwriteError, nothing written) to replace the store workbook `source`, and,
    unless `force`, any file that is not an untouched count list (check_count_target).
    """
    check_count_target(path, source=source, force=force)
    lines = count_list(store, ledger, location, date=date, abc=abc)
    Path(path).write_bytes(_count_book(store, ledger, lines, location, date, blind))
    return len(lines)


def check_count_target(path: str | os.PathLike, *, source: str | os.PathLike | None = None,
                       force: bool = False) -> None:
    """Raise WouldOverwriteError unless a count list may be written at `path`.

    A new file is fine, and so is a count list this module wrote on which nothing has been typed
    (an earlier run's, for the same location and day). The store workbook itself is never replaced;
    a count list with counts, notes or a signature on it, or any other file, only with `force`.
    """
    target = Path(path)
    if not target.exists():
        return
    if source is not None and Path(source).exists() and os.path.samefile(source, target):
        raise WouldOverwriteError(f"{target} is the store workbook itself; write the count list to another file (-o)")
    if force:
        return
    state = _count_list_state(target)
    if state == "untouched":
        return
    if state == "typed":
        raise WouldOverwriteError(f"{target} is a count list with counts typed on it; "
                                  "type them into the Counts sheet first, or use --force to replace it")
    raise WouldOverwriteError(f"{target} already exists and is not a count list; choose another name (-o), "
                              "or use --force to replace it")


def _count_list_state(path: Path) -> str:
    """"untouched" or "typed" for a count list written here, "other" for any other file."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(os.fspath(path))
        if book.sheet_names != [SHEET_TITLE]:
            return "other"
        rows = book.get_sheet_by_name(SHEET_TITLE).to_python(skip_empty_area=False)
    except Exception:  # not a workbook calamine reads: certainly not a count list of ours
        return "other"
    if len(rows) < HEADER_ROW or not str(rows[0][0]).startswith(f"{SHEET_TITLE}: "):
        return "other"
    header = [str(v) for v in rows[HEADER_ROW - 1]]
    if "Counted qty" not in header:
        return "other"
    signed = str(rows[2][0]) != SIGN_OFF
    typed_at = [header.index(title) for title in TYPED_COLUMNS if title in header]
    typed = any(row[j] not in ("", None) for row in rows[HEADER_ROW:] for j in typed_at if j < len(row))
    return "typed" if signed or typed else "untouched"


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
    ws.title = SHEET_TITLE
    names = store["Locations"].dropna(subset=["location", "name"]).drop_duplicates("location")
    place = names.set_index("location")["name"].get(code)
    ws["A1"] = f"{SHEET_TITLE}: {code}" + (f" ({place})" if place else "")
    ws["A1"].font = Font(bold=True, size=14)
    how = "blind count: book quantities hidden" if blind else f"book quantities as of {ledger.as_of:%Y-%m-%d}"
    ws["A2"] = f"Count day {day:%Y-%m-%d}  ·  {len(lines)} lines  ·  {how}"
    ws["A3"] = SIGN_OFF
    header_row = HEADER_ROW
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
