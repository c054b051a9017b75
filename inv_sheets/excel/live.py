"""The Refresh button's entry point: the refresh pipeline on the live workbook, through xlwings.

The workbook is open in Excel when the button is pressed, so the file is never written here:
Excel stays its only writer. The sheets are read through xlwings in whole blocks (one used range
per sheet) into the same `Book` the file reader makes, `refresh.compute` runs exactly as for
`inv-sheets refresh`, and every output sheet goes back as one block of values, plus a few
whole-range format calls (header, number format per column, wrapped text, table, frozen header,
the link to its definitions and the print setup the file writer writes). Ownership
follows the file writer's rule (io/workbook.py): an output lives on the sheet its hidden
`_invsheets_<Output>` name points at, so a user's own sheet called "Stock" is never overwritten.

Errors never reach the user as a traceback: a workbook that cannot be refreshed gets one message
box that says why; anything unexpected gets a message box and a log file with the details.

    Sub RefreshInventory()
        RunPython "import inv_sheets.excel; inv_sheets.excel.refresh()"
    End Sub
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import pandas as pd

from ..contract.book import Book, Table
from ..contract.issues import InvSheetsError, Issue, Report
from ..contract.schema import OUT_BOOL, OUT_LINK, OUT_NUM, OUT_TEXT, OUTPUTS
from ..contract.sheetdata import SheetData

if TYPE_CHECKING:  # xlwings is imported only when the button runs
    import xlwings as xw

TITLE = "inv-sheets"
LOG_FILE = Path(tempfile.gettempdir()) / "inv-sheets-refresh.log"
CHUNK_ROWS = 50_000  # rows per block on very large sheets (xlwings' own chunking, still whole rows)
HEADER_RGB = (0xDD, 0xEB, 0xF7)  # the file writer's header fill (io/styles.py FILL_RGB["header"])
CLOUD_NOTE = ("read from the open workbook: its OneDrive/SharePoint file was not found on this computer "
              "(save it as usual; nothing else is needed)")

log = logging.getLogger(__name__)


def refresh(book: xw.Book | None = None) -> Report | None:
    """Refresh the workbook that called (the Refresh button's macro), or `book` when given.

    Shows a one-line summary in Excel's status bar, and a message box when the data has errors or
    the refresh could not run. Returns the report, or None when it could not run.
    """
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    app = book.app
    _status(app, f"{TITLE}: refreshing...")
    try:
        with _screen_frozen(app):
            report = refresh_book(book)
    except InvSheetsError as exc:
        _status(app, False)
        _alert(app, f"The workbook could not be refreshed: {exc}", critical=True)
        return None
    except Exception as exc:  # the user must see a sentence, never a traceback
        LOG_FILE.write_text(traceback.format_exc(), encoding="utf-8")
        _status(app, False)
        _alert(app, f"The refresh failed unexpectedly ({type(exc).__name__}: {exc}). Nothing was saved; "
                    f"the details are in {LOG_FILE}.", critical=True)
        return None
    _status(app, summary_line(report))
    if report.errors:
        _alert(app, f"{summary_line(report)}\n\nRows with errors were left out of the figures; the "
                    "Issues sheet lists each one at its cell, with how to fix it.")
    return report


def refresh_book(book: xw.Book, *, as_of: Any = None) -> Report:
    """Read the live workbook, compute, and write every output sheet back through xlwings."""
    from ..refresh import compute, empty_sheet

    path = workbook_path(book)
    data = read_book(book, path=path or book.name)
    result = compute(data, as_of=as_of, seen=read_seen(book))
    # As in a file refresh, an output sheet is never removed: one whose feature has nothing to
    # show keeps its headers and a line that says why, so references into it stay valid.
    produced = {s.name for s in result.sheets} | set(result.kept)
    empty = [empty_sheet(o.name, result.report.summary["as_of"]) for o in OUTPUTS
             if o.name not in produced and owned_sheet(book, o.name) is not None]
    written = [write_sheet(book, s) for s in [*result.sheets, *empty]]
    report = result.report
    report.summary.update({"output": data.path, "written": written})
    if path is None:
        report.summary["file_not_found"] = True
    return report


def summary_line(report: Report) -> str:
    """One line for the status bar: what was refreshed and how many problems."""
    c = report.counts()
    written = report.summary.get("written", [])
    problems = f"{c['error']} errors, {c['warning']} warnings" + (" (see Issues)" if c["error"] or c["warning"] else "")
    as_of = report.summary.get("as_of")
    line = f"{TITLE}: refreshed {len(written)} sheets" + (f" as of {as_of}" if as_of else "") + f"; {problems}"
    if report.summary.get("file_not_found"):
        line += f"; {CLOUD_NOTE}"
    return line


# Reading ------------------------------------------------------------------------------------------
def read_book(book: xw.Book, *, path: str | None = None) -> Book:
    """Every known sheet of the live workbook as a `Book`, one block read per sheet; `path` names
    it in findings (default: its file, else its name)."""
    from ..io.read import collect, table_from_rows

    sheets = {s.name: s for s in book.sheets}

    def load(name: str, canonical: str, issues: list[Issue]) -> Table | None:
        rows, top, left = _used_block(sheets[name])
        return table_from_rows(rows, top, left, name, canonical, issues)

    return collect(path or workbook_path(book) or book.name, list(sheets), load)


def workbook_path(book: xw.Book) -> str | None:
    """The workbook's file, or None when xlwings cannot find it.

    Excel gives a workbook synced by OneDrive or SharePoint an https:// address, which xlwings turns
    into a local path from the sync settings it knows, and raises when it cannot. The refresh reads
    and writes the open workbook, not the file, so it goes on; the status line says so.
    """
    try:
        return book.fullname
    except Exception:  # noqa: BLE001 - xlwings' own error for an unmapped address, or the engine's
        return None


def read_seen(book: xw.Book) -> pd.DataFrame | None:
    """The movement fingerprints the last refresh left in the hidden sheet (integrity.py), if any."""
    from ..integrity import SHEET_NAME, seen_from_rows

    sheet = next((s for s in book.sheets if s.name == SHEET_NAME), None)
    return None if sheet is None else seen_from_rows(_used_block(sheet)[0])


def _used_block(sheet: xw.Sheet) -> tuple[list[list[Any]], int, int]:
    """The sheet's used range as rows, trimmed of empty rows and columns around it.

    Returns (rows, Excel row of the first row, Excel column number of the first column).
    Dates come as datetimes, numbers as floats, text as str, empty cells as None.
    """
    used = sheet.used_range
    n_rows, n_cols = used.shape
    options: dict[str, Any] = {"ndim": 2}
    if n_rows * n_cols > 1_000_000:
        options["chunksize"] = CHUNK_ROWS
    rows = used.options(**options).value or []
    rows = [[_cell(v) for v in r] for r in rows]
    filled_rows = [i for i, r in enumerate(rows) if any(v is not None for v in r)]
    if not filled_rows:
        return [], 0, 0
    filled_cols = [j for j in range(max(len(r) for r in rows)) if any(j < len(r) and r[j] is not None for r in rows)]
    r0, r1, c0, c1 = filled_rows[0], filled_rows[-1], filled_cols[0], filled_cols[-1]
    block = [r[c0:c1 + 1] for r in rows[r0:r1 + 1]]
    return block, used.row + r0, used.column + c0


def _cell(value: Any) -> Any:
    """A cell as the file reader would see it: blank text is an empty cell, a date without a
    time of day is a date (xlwings gives every date as a datetime; calamine as a date)."""
    if isinstance(value, str) and value == "":
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date()
    return value


# Writing ------------------------------------------------------------------------------------------
def sheet_values(data: SheetData) -> list[list[Any]]:
    """The cells of an output sheet's table as rows: the header titles, then one row per record.

    Values are what the file writer stores: numbers as floats, dates as datetimes, yes/no columns
    as the words "yes"/"no", NaN and NaT as empty cells. Text is prefixed with an apostrophe, which
    Excel stores as "this is text": without it Excel would turn "00123" into 123, "1-2" into a
    date and "=x" into a formula.
    """
    frame = data.frame()
    rows: list[list[Any]] = [[_text(c.title) for c in data.columns]]
    columns = [_column_values(frame[c.name], c.kind) for c in data.columns]
    rows.extend(map(list, zip(*columns)) if columns else [])
    return rows


def _text(value: str) -> str:
    return "'" + value


def _column_values(series: pd.Series, kind: str) -> list[Any]:
    """One column as Python cell values, converted a column at a time."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return ["yes" if v else "no" for v in series.tolist()]
    if pd.api.types.is_numeric_dtype(series.dtype):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        return [x if math.isfinite(x) else None for x in arr.tolist()]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if v is pd.NaT or v is None else v.to_pydatetime() for v in series.tolist()]
    return [_object_value(v) for v in series.tolist()]


def _object_value(v: Any) -> Any:
    """A value of a mixed column, typed by itself (as the file writer does)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, str):
        return _text(v) if v else None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        return x if math.isfinite(x) else None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, (dt.date, np.datetime64)):
        return pd.Timestamp(v).to_pydatetime()
    return _text(str(v))


def write_sheet(book: xw.Book, data: SheetData) -> str:
    """Put one output sheet into the live workbook; returns the sheet's name.

    The owned sheet is cleared and refilled in place (its name, position, table and the user's
    formulas that point at it stay); a new one is appended after the last sheet and marked.
    """
    sheet = owned_sheet(book, data.name)
    if sheet is None:
        sheet = book.sheets.add(_free_name(book, data.name), after=book.sheets[len(book.sheets) - 1])
        _mark(book, data.name, sheet.name)
    else:
        sheet.used_range.clear_contents()
        sheet.used_range.clear_formats()
    rows = sheet_values(data)
    n_rows, n_cols = len(rows), len(rows[0])
    block = sheet.range((1, 1), (n_rows, n_cols))
    (block.options(chunksize=CHUNK_ROWS) if n_rows > CHUNK_ROWS else block).value = rows
    if data.definitions:
        link = sheet.range((1, n_cols + 2))
        link.value = data.link_text
        link.add_hyperlink("#" + data.definitions, data.link_text)
    _format(sheet, data, rows)
    _table(sheet, data, n_rows, n_cols)
    _print_setup(sheet, data, n_rows, n_cols)
    if data.hidden:
        sheet.visible = False
    return sheet.name


def _format(sheet: xw.Sheet, data: SheetData, rows: list[list[Any]]) -> None:
    """Header look and one number format per column: a handful of whole-range calls."""
    from ..io.render import WRAP_WIDTH, number_format

    n_rows, n_cols = len(rows), len(rows[0])
    header = sheet.range((1, 1), (1, n_cols))
    header.font.bold = True
    header.color = HEADER_RGB
    if n_rows > 1:
        for j, col in enumerate(data.columns):
            column = sheet.range((2, j + 1), (n_rows, j + 1))
            if col.wrap:
                column.column_width = WRAP_WIDTH
                column.wrap_text = True
            if col.kind in (OUT_TEXT, OUT_LINK, OUT_BOOL):
                continue  # General already
            whole = not any(isinstance(r[j], float) and not r[j].is_integer() for r in rows[1:])
            column.number_format = number_format(col, whole or col.kind != OUT_NUM)
    try:
        sheet.freeze_panes.freeze_at("A2")
    except (NotImplementedError, AttributeError):  # engines without panes: the table still filters
        pass
    try:
        sheet.autofit("columns")
    except NotImplementedError:
        pass
    for j, col in enumerate(data.columns):  # autofit widened them to the longest text: wrap within a cap
        if col.wrap and n_rows > 1:
            sheet.range((1, j + 1)).column_width = WRAP_WIDTH


def _print_setup(sheet: xw.Sheet, data: SheetData, n_rows: int, n_cols: int) -> None:
    """The file writer's print setup: the table alone, its header on every page, one page wide.

    xlwings has a portable print area only; the rest is Excel's PageSetup object, which engines
    without it (Excel on the web) lack: there the sheet prints with Excel's defaults.
    """
    try:
        sheet.page_setup.print_area = sheet.range((1, 1), (max(n_rows, 2), n_cols)).address
        setup = sheet.api.PageSetup
        setup.PrintTitleRows = "$1:$1"
        setup.Zoom = False
        setup.FitToPagesWide, setup.FitToPagesTall = 1, False
        setup.LeftHeader, setup.RightHeader, setup.CenterFooter = '&"-,Bold"&A', "&F", "Page &P of &N"
        setup.CenterHeader = data.page_header.replace("&", "&&")
    except Exception:  # noqa: BLE001 - no PageSetup on this engine
        pass


def _table(sheet: xw.Sheet, data: SheetData, n_rows: int, n_cols: int) -> None:
    """The Excel table over the output (autofilter, banded rows), under its stable name."""
    from ..io.render import TABLE_STYLE

    area = sheet.range((1, 1), (max(n_rows, 2), n_cols))
    tables = list(sheet.tables)
    if tables:
        tables[0].resize(area)
        return
    taken = {t.name.casefold() for s in sheet.book.sheets for t in s.tables} | {n.name.casefold() for n in sheet.book.names}
    name = data.output.table_name
    n = 2
    while name.casefold() in taken:
        name, n = f"{data.output.table_name}{n}", n + 1
    sheet.tables.add(source=area, name=name, table_style_name=TABLE_STYLE, has_headers=True)


def owned_sheet(book: xw.Book, output: str) -> xw.Sheet | None:
    """The sheet the output's marker name points at, if it still exists and really holds the
    output (io.workbook.holds_output: never an input sheet, and its table carries the output's
    columns)."""
    from ..io.workbook import holds_output, marker_name

    wanted = marker_name(output).casefold()
    for name in book.names:
        if name.name.casefold() != wanted:
            continue
        refers = name.refers_to.lstrip("=")
        target = refers.rsplit("!", 1)[0]
        if target.startswith("'") and target.endswith("'"):
            target = target[1:-1].replace("''", "'")
        for sheet in book.sheets:
            if sheet.name == target and holds_output(output, sheet.name, lambda: _table_columns(sheet)):
                return sheet
    return None


def _table_columns(sheet: xw.Sheet) -> set[str]:
    """The column names (casefolded) of the Excel tables on a live sheet."""
    names: set[str] = set()
    for table in sheet.tables:
        header = table.header_row_range
        values = header.value if header is not None else None
        values = values if isinstance(values, list) else [values]
        names |= {str(v).casefold() for v in values if v is not None}
    return names


def _mark(book: xw.Book, output: str, sheet_name: str) -> None:
    """Add the hidden defined name that marks the sheet as the output's (io/workbook.py)."""
    from ..io.workbook import marker_name, quoted

    name = book.names.add(marker_name(output), f"={quoted(sheet_name)}!$A$1")
    try:
        name.api.Visible = False  # desktop Excel; other engines keep it visible, which is harmless
    except Exception:  # noqa: BLE001 - not every engine exposes the COM object
        pass


def _free_name(book: xw.Book, wanted: str) -> str:
    """`wanted`, or "<wanted> (inv-sheets)", ... when a user's own sheet has the name."""
    taken = {s.name.casefold() for s in book.sheets}
    if wanted.casefold() not in taken:
        return wanted
    for n in range(1, 100):
        suffix = " (inv-sheets)" if n == 1 else f" (inv-sheets {n})"
        name = wanted[: 31 - len(suffix)] + suffix
        if name.casefold() not in taken:
            return name
    raise InvSheetsError(f"no free sheet name for {wanted}")


# Talking to the user ------------------------------------------------------------------------------
def _status(app: xw.App, text: str | bool) -> None:
    try:
        app.status_bar = text
    except (NotImplementedError, AttributeError):  # no status bar on this engine (e.g. Excel on the web)
        pass


def _alert(app: xw.App, message: str, *, critical: bool = False) -> None:
    try:
        app.alert(message, title=TITLE, mode="critical" if critical else "info")
    except Exception:  # noqa: BLE001 - no dialog on this engine: the log is the last resort
        log.error("%s", message)


@contextmanager
def _screen_frozen(app: xw.App) -> Iterator[None]:
    """No repainting while the sheets are rewritten (faster, and no flicker)."""
    try:
        before = app.screen_updating
        app.screen_updating = False
    except (NotImplementedError, AttributeError):
        before = None
    try:
        yield
    finally:
        if before is not None:
            app.screen_updating = before


__all__ = ["refresh", "refresh_book", "read_book", "write_sheet", "sheet_values",
           "owned_sheet", "summary_line", "workbook_path"]
