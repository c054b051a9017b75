"""Read a workbook file into a `Book`: the known sheets as raw tables, each cell at its address.

A ledger may outgrow one sheet: a sheet named like the Movements sheet followed by something with a
digit ("Movements 2025", "Ledger (2)", "Movements 2025 part 1") continues it. All of them are read
as one Movements table; each row keeps its own sheet and row for findings (see book.TablePart).

Two readers, one result. fastexcel (calamine to Arrow) reads a whole sheet column-wise in a few
seconds even at a million rows, but a column that mixes numbers and text comes back as text, so a
number typed as text can no longer be told from a number. python-calamine gives every cell its own
type. So small sheets (where exactness is cheap) are read exactly, cell by cell; big sheets
column-wise, and a declared number or date column that does not come back with its type (it mixes
types) is read again cell by cell (io.mixed), so every cell of it is what the exact reader gives.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..contract.book import ROW_SPAN, Book, Earlier, Table, TablePart
from ..contract.issues import EncryptedWorkbookError, InvSheetsError, Issue, NotAWorkbookError, column_letter
from ..contract.schema import (
    CODE,
    DATE,
    INTEGER,
    NUMBER,
    OUTPUT,
    SHEET,
    SHEETS,
    TEMPLATE_SHEETS,
    TEXT,
    fold,
    match_column,
    match_sheet,
)
from . import cache, guard, mixed, tail, xmlsafe
from .alone import alone
from .save import recover

EXACT_ROWS = 50_000  # sheets up to this many rows are always read cell by cell type
CONTINUABLE = ("Movements",)  # sheets whose rows may continue on further sheets
MAX_PART_BYTES = guard.MAX_PART_BYTES  # a sheet that inflates beyond this is refused (zip bombs)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"

_WRONG_KIND = {
    ".csv": "is a CSV file, not a workbook: create one with `inv-sheets init store.xlsx` and paste the rows into its sheets",
    ".txt": "is a text file, not a workbook",
    ".xls": "is an old-format .xls workbook: open it in Excel or LibreOffice and save it as .xlsx",
    ".ods": "is an OpenDocument spreadsheet: save it as .xlsx (File > Save As > Excel 2007-365)",
    ".xlsb": "is a binary .xlsb workbook: save it as .xlsx or .xlsm (File > Save As)",
    ".numbers": "is a Numbers file: export it as Excel (.xlsx)",
}

Progress = Callable[[str], None]

# fastexcel logs a warning for every column that mixes types; mixed columns are handled here.
logging.getLogger("fastexcel").setLevel(logging.ERROR)


def open_package(path: str | os.PathLike) -> zipfile.ZipFile:
    """Open the file as a workbook package, or raise one clear error saying what it is instead."""
    p = Path(path)
    if not p.exists():
        raise NotAWorkbookError(f"{p}: no such file")
    if p.is_dir():
        raise NotAWorkbookError(f"{p}: is a folder, not a workbook file")
    if not p.is_file():  # opening a named pipe would wait for a writer forever
        raise NotAWorkbookError(f"{p}: is not a regular file (a pipe or a device), not a workbook file")
    recover(p)  # an in-place write that did not finish is undone before anything reads the file
    suffix = p.suffix.lower()
    if suffix in _WRONG_KIND:
        raise NotAWorkbookError(f"{p}: {_WRONG_KIND[suffix]}")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise NotAWorkbookError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if head == OLE_MAGIC:
        raise EncryptedWorkbookError(
            f"{p}: is password-protected (or an old .xls file): remove the password in Excel "
            "(File > Info > Protect Workbook) and save as .xlsx")
    if not head.startswith(b"PK"):
        raise NotAWorkbookError(f"{p}: is not an Excel workbook (.xlsx or .xlsm)")
    try:
        zf = zipfile.ZipFile(p)
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise NotAWorkbookError(f"{p}: is damaged (not a readable zip package); restore it from a backup") from None
    if "xl/workbook.xml" not in names:
        zf.close()
        if "xl/workbook.bin" in names:
            raise NotAWorkbookError(f"{p}: {_WRONG_KIND['.xlsb']}")
        raise NotAWorkbookError(f"{p}: is a zip file but not an Excel workbook")
    try:  # sizes (declared and real) and DOCTYPEs, before any parser sees a part
        guard.check_package(zf, p)
    except InvSheetsError:
        zf.close()
        raise
    return zf


def workbook_info(zf: zipfile.ZipFile) -> tuple[list[tuple[str, str]], bool]:
    """The sheets in workbook order as (name, part path), and whether the 1904 date system is on."""
    try:
        if "_rels/.rels" in zf.NameToInfo:  # every reader of the package starts here: damage is refused as they refuse it
            zf.read("_rels/.rels")
        wb_bytes = zf.read("xl/workbook.xml")
        if STRICT_NS in wb_bytes[:4096]:
            raise NotAWorkbookError(
                f"{zf.filename}: is saved as Strict Open XML: save it as an ordinary Excel workbook (.xlsx)")
        wb = xmlsafe.parse(wb_bytes)
        rels = xmlsafe.parse(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, xmlsafe.XMLError, *guard.UNREADABLE):
        raise NotAWorkbookError(f"{zf.filename}: is damaged (its workbook part cannot be read)") from None
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    sheets = []
    for el in wb.iter("{*}sheet"):
        rid = el.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        sheets.append((el.get("name", ""), os.path.normpath(part).replace(os.sep, "/")))
    pr = next(wb.iter("{*}workbookPr"), None)
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    return sheets, date1904


def read_book(path: str | os.PathLike, *, progress: Progress | None = None) -> Book:
    """Read every known sheet of the workbook at `path`. Raises InvSheetsError if it cannot run."""
    path = os.fspath(path)
    with open_package(path) as zf:
        sheets, date1904 = workbook_info(zf)
        parts = dict(sheets)
        # Each reader opens the whole workbook once, only if a sheet needs it: a small sheet is
        # read from a workbook of its own (io.alone), a cached one not at all.
        reader = functools.cache(lambda: _fastexcel(path, path))
        exact = functools.cache(lambda: _calamine(path))
        key_of = functools.partial(cache.sheet_key, zf, date1904=date1904)
        strings = tail.Strings(zf)  # inflated only if a sheet uses shared strings, grew or is marked
        styles = functools.cache(lambda: _styles(zf))

        def load(name: str, canonical: str, issues: list[Issue]) -> Table | None:
            part = parts[name]
            key = key_of(part)
            if key is None:
                guard.check_part(zf, path, part)  # before a Rust reader inflates it
                own = alone(zf, part, strings, styles(), date1904)
                if own is None:
                    return _read_sheet(exact, reader, zf, name, part, canonical, issues, date1904)
                return _read_sheet(lambda: _calamine(own), lambda: _fastexcel(own, path), zf, name, part, canonical,
                                   issues, date1904, inner="s")
            hit = cache.load(path, name, key)
            if hit is not None:
                issues.extend(hit.issues)
                return hit.table
            last = cache.load_last(path, name, key)
            mark = last.mark if last is not None and isinstance(last.mark, tail.Mark) else None
            scan = tail.Scan(mark.rows_bytes if mark else None)
            guard.check_part(zf, path, part, scan.see)  # one pass: the size check and the scan
            grown = mark and tail.read_grown(scan, zf.getinfo(part).file_size, last.table, last.issues, mark, strings,
                                             styles(), date1904)
            if grown:
                table, found = grown
            else:
                found = []
                table = _read_sheet(exact, reader, zf, name, part, canonical, found, date1904)
                if table is not None:
                    table.earlier = earlier(last.table if last else None, table)
            issues.extend(found)
            if table is not None:
                table.source = cache.source(key, name)
            whole = table is not None and table.column_wise == frozenset(table.data.columns)
            cache.save(path, name, key, table, found,
                       scan.mark(strings, date1904) if whole and scan.complete(zf.getinfo(part).file_size) else None,
                       extends=last.digest if grown else None)  # grown: the last read's rows, then the new ones
            return table

        book = collect(path, [n for n, _ in sheets], load, progress=progress)
    book.date1904 = date1904
    return book


def is_toolkit_sheet(name: str) -> bool:
    """The toolkit's own sheets (outputs, the template's guide and lists, its hidden data, the button's
    configuration): never read as data, never reported as unknown."""
    return (name in OUTPUT or name in TEMPLATE_SHEETS or name.startswith("_inv")
            or fold(name) in ("xlwingsconf",))


def collect(path: str, sheet_names: list[str], load: Callable[[str, str, list[Issue]], Table | None], *,
            progress: Progress | None = None) -> Book:
    """A Book from any source: which sheets are data, each loaded by `load`, and the sheet findings.

    `load(name, canonical, issues)` reads one sheet (from a file, or from a live Excel workbook).
    """
    book = Book(path=path, tables={}, sheet_names=list(sheet_names))
    continued: dict[str, list[Table]] = {}
    for name in sheet_names:
        canonical = match_sheet(name)
        if canonical is None and (base := continuation_of(name)) is not None:
            if progress:
                progress(f"reading {name}")
            table = load(name, base, book.issues)
            if table is not None:
                continued.setdefault(base, []).append(table)
            continue
        if canonical is None:
            if not is_toolkit_sheet(name):
                book.issues.append(Issue("unknown-sheet", name, None, None,
                                         f"Sheet '{name}' is not one inv-sheets reads; it is left as it is.", value=name))
            continue
        if canonical in book.tables:
            book.issues.append(Issue("unknown-sheet", name, None, None,
                                     f"Sheet '{name}' is a second {canonical} sheet; only "
                                     f"'{book.tables[canonical].title}' is read.", value=name))
            continue
        if progress:
            progress(f"reading {name}")
        table = load(name, canonical, book.issues)
        if table is not None:
            book.tables[canonical] = table
    for canonical, more in continued.items():
        book.tables[canonical] = join_sheets(book.tables.get(canonical), more)
    for sheet in SHEETS:
        if sheet.required and sheet.name not in book.tables:
            book.issues.append(Issue("missing-sheet", sheet.name, None, None,
                                     f"The workbook has no {sheet.name} sheet: add one with the headers "
                                     f"{', '.join(c.title for c in sheet.required_columns)} "
                                     "(`inv-sheets init` makes a template).", value=sheet.name))
    return book


# What may follow a ledger sheet's name on a sheet that continues it: numbers ("2025", "2025-01"),
# a bracketed number ("(2)"), "part 2" or a quarter ("Q1"), separated by spaces, dashes or underscores.
# (Each number is taken whole, (?!\d), so the repetition cannot backtrack through its digits.)
_CONTINUATION_TAIL = re.compile(r"(?:[\s_\-]*(?:\d+(?!\d)|\(\d+\)|part\s*\d+(?!\d)|q[1-4]))+", re.I)


def continuation_of(name: str) -> str | None:
    """The table a sheet continues: "Movements 2025" -> "Movements"; None for any other name.

    The name is a ledger sheet's name (or alias), then only numbers, a bracketed number, "part N"
    or a quarter ("Movements 2025", "Ledger (2)", "Movements 2025 part 1", "Movements Q1 2025"),
    so a sheet named "Movements 2024 summary" is the user's own, not more of the ledger.
    """
    for m in re.finditer(r"[\s_\-(]", name):
        head, rest = name[:m.start()], name[m.start():]
        if re.search(r"\d", rest) and _CONTINUATION_TAIL.fullmatch(rest) and match_sheet(head) in CONTINUABLE:
            return match_sheet(head)
    return None


def join_sheets(main: Table | None, more: list[Table]) -> Table:
    """One table from a sheet and the sheets that continue it.

    The first sheet (the one named exactly like the table, else the first continuation) keeps its
    Excel row numbers; the rows of the k-th further sheet are numbered k x ROW_SPAN + their row, so
    row numbers stay unique and Book.locate can tell each finding's own sheet and row.
    """
    tables = ([main] if main is not None else []) + more
    head = tables[0]
    frames = [head.data]
    letters, headers = dict(head.letters), dict(head.headers)
    parts = []
    for k, table in enumerate(tables[1:], 1):
        offset = k * ROW_SPAN
        frames.append(table.data.set_axis(table.data.index + offset))
        parts.append(TablePart(table.title, offset, dict(table.letters)))
        for col, letter in table.letters.items():
            letters.setdefault(col, letter)
            headers.setdefault(col, table.headers[col])
    data = pd.concat(frames) if len(frames) > 1 else head.data
    sources = [t.source for t in tables]
    source = cache.digest(*sources) if all(sources) else None  # in order: the order numbers the rows
    return Table(head.name, head.title, data, letters, headers, head.header_row,
                 frozenset().union(*(t.column_wise for t in tables)), tuple(parts), source, _joined_earlier(tables))


def _joined_earlier(tables: list[Table]) -> Earlier | None:
    """The earlier read of the joined table: each sheet as it was (one that did not change is its
    own earlier read), joined in the same order, so its rows keep their numbers."""
    if not any(t.earlier for t in tables):
        return None
    found = [t.earlier or (Earlier(t.source, t.data.index) if t.source else None) for t in tables]
    if not all(found):
        return None
    rows = [e.rows + k * ROW_SPAN for k, e in enumerate(found)]
    return Earlier(cache.digest(*(e.source for e in found)), rows[0].append(rows[1:]) if len(rows) > 1 else rows[0])


def earlier(before: Table | None, now: Table) -> Earlier | None:
    """`before` as an Earlier read of `now` when `now` is `before` with rows added below, cell for
    cell (the day's movements appended), else None.

    Compared by content, not by how the file stores it: Excel may save the whole sheet again with
    its shared strings numbered anew, and the cells are still the same. Equal means the same
    columns at the same letters under the same headers, the same reader, and every cell of the
    earlier rows equal in value and in type (1 and TRUE compare equal in Python, and are not the
    same cell).
    """
    if before is None or before.source is None or not len(before.data) or len(before.data) > len(now.data):
        return None
    layout = ("name", "title", "letters", "headers", "header_row", "column_wise", "parts")
    if any(getattr(before, a) != getattr(now, a) for a in layout) or list(before.data.columns) != list(now.data.columns):
        return None
    head = now.data.iloc[:len(before.data)]
    if not head.index.equals(before.data.index) or not head.equals(before.data):
        return None
    for col in head.columns:
        if head[col].dtype == object and not _same_types(head[col].to_numpy(), before.data[col].to_numpy()):
            return None
    return Earlier(before.source, before.data.index)


_type_of = np.frompyfunc(type, 1, 1)


def _same_types(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((_type_of(a) == _type_of(b)).all())


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _fastexcel(source: str | bytes, path: str):
    """fastexcel's reader of a workbook file, or of one in memory (io.alone)."""
    import fastexcel

    try:
        return fastexcel.read_excel(source)
    except Exception as exc:  # the Rust reader reports damage as its own exception types
        raise NotAWorkbookError(f"{path}: is damaged and cannot be read ({_first_line(exc)})") from None


def _calamine(source: str | bytes):
    """python-calamine's reader of a workbook file, or of one in memory (io.alone)."""
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_filelike(io.BytesIO(source)) if isinstance(source, bytes) else \
        CalamineWorkbook.from_path(source)


def _read_sheet(exact, reader, zf, name, part, canonical, issues, date1904=False, inner=None) -> Table | None:
    """One sheet as a Table, or None when it is empty. Header problems become findings.

    `reader` and `exact` give the fastexcel and python-calamine readers of the workbook the sheet is
    read from, where it is named `inner` (the whole workbook's: its own name)."""
    inner = inner or name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast = reader().load_sheet(inner, schema_sample_rows=None)
    except Exception as exc:
        message = _first_line(exc)
        if "empty" in message.lower() or "no rows" in message.lower():
            return None
        raise NotAWorkbookError(f"{zf.filename}: sheet '{name}' cannot be read ({message})") from None
    if fast.height <= EXACT_ROWS:
        return _read_exact(exact(), zf, name, part, canonical, issues, inner)
    # Every column is loaded, so the selected columns are all of them; available_columns() would
    # work them out again (half a second at a full sheet).
    infos = fast.selected_columns
    columns = fast.to_arrow()
    del fast  # the sheet as calamine holds it: not needed once in Arrow
    mixed_at = mismatched(infos, canonical, columns)
    start = len(issues)
    header_row = _first_row_number(zf, part)
    table = from_fast(columns, infos, name, canonical, header_row, header_row + 1, issues)
    if not mixed_at or table is None:
        return table
    wanted = {col: mixed.Column(letter, SHEET[canonical].column(col).type == DATE, columns.column(mixed_at[letter]))
              for col, letter in table.letters.items() if letter in mixed_at}
    if not wanted or mixed.read_columns(zf, part, name, table, wanted, table.header_row + 1, _styles(zf), date1904,
                                        issues):
        return table
    del issues[start:]  # a sheet in a form the pass does not read: all of it cell by cell
    return _read_exact(exact(), zf, name, part, canonical, issues, inner)


def mismatched(infos, canonical: str, columns) -> dict[str, int]:
    """The declared number or date columns that did not come back with their type (they mix types),
    as Excel letter -> position. A column with nothing in it comes back as text too, but holds no
    value to mistype: a ledger whose Expiry or Unit cost column was never filled is not one."""
    schema = SHEET[canonical]
    out = {}
    for i, info in enumerate(infos):
        col = match_column(canonical, info.name)
        if col is None:
            continue
        declared = schema.column(col).type
        wrong = (declared in (NUMBER, INTEGER) and info.dtype not in ("float", "int")
                 or declared == DATE and info.dtype not in ("datetime", "date"))
        if wrong and columns.column(i).null_count < columns.num_rows:
            out[column_letter(info.absolute_index + 1)] = i
    return out


def _styles(zf: zipfile.ZipFile) -> bytes | None:
    """The workbook's styles part (which says which numbers are dates), wherever its relationship
    points, or None."""
    try:
        rels = xmlsafe.parse(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, xmlsafe.XMLError):
        return None
    for rel in rels:
        if rel.get("Type", "").endswith("/styles"):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            try:
                return zf.read(os.path.normpath(part).replace(os.sep, "/"))
            except KeyError:
                return None
            except guard.UNREADABLE as exc:  # read without it, every date would be a number
                raise NotAWorkbookError(f"{zf.filename}: is damaged and cannot be read ({part}: {_first_line(exc)})") \
                    from None
    return None


def _read_exact(workbook, zf, name, part, canonical, issues, inner) -> Table | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = workbook.get_sheet_by_name(inner)
        rows = ws.to_python(skip_empty_area=True)
        start_row, start_col = ws.start or (0, 0)
        merged = ws.merged_cell_ranges or []
    table = table_from_rows(rows, start_row + 1, start_col + 1, name, canonical, issues)
    mixed.merged_header(merged, start_row, name, issues)
    if table is not None:
        mixed.scan_cells(zf, part, name, table, issues)
    return table


def table_from_rows(rows: list[list[object]], top_row: int, left_col: int, name: str, canonical: str,
                    issues: list[Issue]) -> Table | None:
    """A Table from a block of cells whose first row is the header.

    top_row and left_col are the Excel row and column number (1-based) of the block's top-left cell.
    Empty text cells count as blank.
    """
    if not rows:
        return None
    width = max(len(r) for r in rows)
    header = [_clean_header(v) for v in rows[0]]
    body = [list(r) + [None] * (width - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width), dtype=object)
    frame = frame.replace({"": None})
    frame.index = pd.RangeIndex(top_row + 1, top_row + 1 + len(frame))
    letters = [column_letter(left_col + i) for i in range(width)]
    return _assemble(frame, header, letters, name, canonical, top_row, issues, column_wise=False)


def from_fast(columns, infos, name: str, canonical: str, header_row: int, first_row: int,
              issues: list[Issue]) -> Table | None:
    """A Table from fastexcel's read of a sheet (Arrow columns and their infos) whose headers are
    on Excel row `header_row` and whose rows start at Excel row `first_row`."""
    frame = columns.to_pandas()
    frame.columns = range(len(infos))
    for i in range(columns.num_columns):
        if columns.column(i).null_count == columns.num_rows:  # never filled: blank, as the exact reader has it
            frame[i] = pd.Series(None, index=frame.index, dtype=object)
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    header = ["" if i.column_name_from == "generated" else _dedupe_suffix(i.name, infos) for i in infos]
    letters = [column_letter(i.absolute_index + 1) for i in infos]
    return _assemble(frame, header, letters, name, canonical, header_row, issues, column_wise=True)


def _dedupe_suffix(name: str, infos) -> str:
    """fastexcel renames a repeated header 'qty' to 'qty_1': give it back its own text."""
    m = re.fullmatch(r"(.*)_(\d+)", name)
    if m and any(i.name == m.group(1) for i in infos):
        return m.group(1)
    return name


def _clean_header(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _assemble(frame, header, letters, name, canonical, header_row, issues, *, column_wise) -> Table | None:
    """Map headers to canonical columns; keep known columns; findings for unknown and duplicates."""
    schema = SHEET[canonical]
    data: dict[str, pd.Series] = {}
    col_letters: dict[str, str] = {}
    headers: dict[str, str] = {}
    known = [c.name for c in schema.columns]
    for pos, (text, letter) in enumerate(zip(header, letters)):
        series = frame[pos]
        if not text:
            if series.notna().any():
                issues.append(Issue("missing-header", name, header_row, letter,
                                    f"Column {letter} has values but no header: type its name in {letter}{header_row}."))
            continue
        col = match_column(canonical, text)
        if col is None:
            issues.append(Issue("unknown-column", name, header_row, letter,
                                f"'{text}' is not a column of the {canonical} sheet and is ignored"
                                f"{_nearest(text, known)}.", value=text))
            continue
        if col in data:
            issues.append(Issue("duplicate-column", name, header_row, letter,
                                f"'{text}' means the same as column {col_letters[col]} ({headers[col]}): "
                                "rename or remove one of them.", value=text, field=col))
            continue
        data[col] = series
        col_letters[col] = letter
        headers[col] = text
    if not data and not len(frame):
        return None
    missing = [col for col in schema.required_columns if col.name not in data]
    lower = _header_below(frame, canonical, missing) if missing else None
    for col in missing:
        fix = (f"the headers seem to be on row {lower}: delete the rows above them, so that the headers are the "
               f"sheet's first row" if lower else f"add it to row {header_row}, the header row")
        issues.append(Issue("missing-column", name, header_row, None, f"{name} has no '{col.title}' column: {fix}.",
                            value=col.title, field=col.name))
    table_frame = pd.DataFrame(data, index=frame.index)
    # Rows with nothing in any known column are blank lines, not records.
    if len(table_frame.columns):
        table_frame = table_frame[table_frame.notna().any(axis=1)]
    return Table(canonical, name, table_frame, col_letters, headers, header_row,
                 frozenset(data) if column_wise else frozenset())


HEADER_SEARCH_ROWS = 10  # title rows above a table: where to look for headers the first row lacks


def _header_below(frame: pd.DataFrame, canonical: str, missing: list) -> int | None:
    """The Excel row, among the first rows under the one read as headers, that holds the missing
    columns' headers (a table below title rows), or None."""
    wanted = {col.name for col in missing}
    for row, values in frame.head(HEADER_SEARCH_ROWS).iterrows():
        found = {match_column(canonical, str(v).strip()) for v in values if isinstance(v, str) and v.strip()}
        if wanted <= found:
            return int(row)
    return None


def _nearest(text: str, candidates: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(fold(text), [fold(c) for c in candidates], n=1, cutoff=0.6)
    if not match:
        return ""
    name = next(c for c in candidates if fold(c) == match[0])
    return f" (did you mean '{name}'?)"


_ROW_RE = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"[^>]*>(.*?)</(?:\w+:)?row>", re.S)
_VALUE_RE = re.compile(rb"<(?:\w+:)?(?:v|is)\b")


def _first_row_number(zf: zipfile.ZipFile, part: str) -> int:
    """The first row with a value in a sheet part, read from its first kilobytes only."""
    with zf.open(part) as fh:
        head = b""
        while len(head) < (4 << 20):
            chunk = fh.read(64 << 10)
            if not chunk:
                break
            head += chunk
            for m in _ROW_RE.finditer(head):
                if _VALUE_RE.search(m.group(2)):
                    return int(m.group(1))
    return 1


__all__ = ["read_book", "open_package", "workbook_info", "continuation_of", "join_sheets",
           "EXACT_ROWS", "TEXT", "CODE"]
