"""Append rows to the user's own input sheets (and change a few of their cells), nothing else.

`append_rows` adds rows below the last row that holds a value on each named sheet, as `import`
needs: sales into Movements, open lines into Orders, counts into Counts. The existing rows are not
parsed one by one: the sheet's XML is cut at its last row and the new rows are spliced in before
`</sheetData>`, so appending to a million-row ledger costs about what inflating and deflating that
sheet costs. Around the new rows the sheet stays what the user made it:

- each new cell takes the style of the cell above it (a date column stays a date column);
- an Excel Table over the sheet, its autofilter, and data validation and conditional formats whose
  range ends at the last row are extended down to the new last row;
- a sheet that does not exist yet is added with a plain header row.

Everything else is copied byte for byte; the save is the preserving writer's own (atomic, verified,
refused when the file is open elsewhere or changed since it was read). The new rows are parsed as
XML on their own before the save; the rest of an appended sheet is its original bytes, so the
whole-sheet parse after the save (seconds at a million rows) is kept for sheets edited in place,
while every written part is still inflated and CRC-checked.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from ..contract.issues import WriteError, column_letter
from .cells import _LEAP_BUG_END, EPOCH_1900, EPOCH_1904, clean_text, clean_texts, number_text
from .docprops import APP, update_titles
from .edit import _edit as edit_cells
from .package import CONTENT_TYPES, CT_WORKSHEET, NS_MAIN, REL_STYLES, REL_TABLE, Package, rels_name, to_xml
from .styles import StyleSheet
from .workbook import Workbook
from .save import FileState, save_atomically
from .write import source_and_target

DATE_FORMAT = "yyyy-mm-dd"
_M = f"{{{NS_MAIN}}}"
_ROW_R = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_CELL_STYLE = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"([^>]*?)/?>')
_STYLE = re.compile(rb'\bs="(\d+)"')
_VALUE = re.compile(rb"<(?:v|is|f)\b")
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"\s*/>')
_COL = re.compile(rb'<col\b([^>]*)/>')
_RANGE = re.compile(r"(\$?[A-Z]+\$?)(\d+)(?::(\$?[A-Z]+\$?)(\d+))?")
_SQREF = re.compile(rb'(\bsqref="|<xm:sqref>|<autoFilter\b[^>]*?\bref=")([^"<]*)')


@dataclass(frozen=True)
class NewRows:
    """Rows to add to one sheet: each a dict of column letter -> value (None leaves the cell empty).

    `headers` (letter -> text) is used only when the sheet does not exist and must be created.
    """

    sheet: str
    rows: list[dict[str, object]]
    header_row: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CellChange:
    """One existing cell's new value (an order line closed: its status cell)."""

    sheet: str
    cell: str
    after: object


@dataclass(frozen=True)
class AppendResult:
    path: Path
    rows: dict[str, tuple[int, int]]  # sheet -> (first, last) Excel row written
    bytes: int


def append_rows(path: str | os.PathLike, additions: list[NewRows], changes: list[CellChange] = (), *,
                expected: FileState | None = None, backup: bool = False) -> AppendResult:
    """Append `additions` to their sheets and apply `changes`, in one atomic save of the workbook."""
    source, target = source_and_target(path, None)
    expected = expected or FileState.of(source)
    by_sheet: dict[str, dict[bytes, object]] = {}
    for change in changes:
        by_sheet.setdefault(change.sheet, {})[change.cell.encode()] = change.after
    with Package(source) as pkg:
        book = Workbook(pkg)
        styles_part = next((r.target for r in book.rels.of_type(REL_STYLES)), None)
        if styles_part is None:
            raise WriteError(f"{source.name} has no styles part; open and save it in Excel first")
        styles = StyleSheet(pkg.read(styles_part))
        allowed = {styles_part, book.part}
        written: dict[str, tuple[int, int]] = {}
        parts = []  # sheets whose cells were edited in place: parsed whole after the save
        for new in additions:
            if not new.rows and new.sheet not in by_sheet:
                continue
            sheet = book.find(new.sheet)
            if sheet is None:
                sheet = book.add_sheet(new.sheet, pkg.unused("xl/worksheets/sheet{}.xml"))
                pkg.write(sheet.part, _blank_sheet(new.headers, new.header_row), CT_WORKSHEET)
                allowed |= {rels_name(book.part), CONTENT_TYPES, APP}
                update_titles(pkg, book.worksheet_names())
            xml = pkg.read(sheet.part)
            edited = new.sheet in by_sheet
            if edited:
                xml = set_cells(xml, by_sheet.pop(new.sheet), styles, book.date1904)
            if new.rows:
                xml, first, last = _append(xml, new, styles, book.date1904)
                allowed |= _extend_tables(pkg, sheet.part, new.header_row, first - 1, last)
                written[sheet.name] = (first, last)
            if edited or not new.rows:
                parts.append(sheet.part)
            pkg.write(sheet.part, xml)
            allowed.add(sheet.part)
        for title, cells in by_sheet.items():
            sheet = book.find(title)
            if sheet is None:
                raise WriteError(f"{source.name}: sheet '{title}' disappeared while it was being read")
            pkg.write(sheet.part, set_cells(pkg.read(sheet.part), cells, styles, book.date1904))
            allowed.add(sheet.part)
            parts.append(sheet.part)
        # Formulas over the input sheets (a SUMIF over Movements) show the new rows when opened.
        book.recalculate_on_load()
        pkg.write(book.part, book.to_xml())
        pkg.write(styles_part, styles.to_xml())
        stray = pkg.edited() - allowed
        if stray:
            raise WriteError(f"refusing to save: the append would change parts it does not own: {sorted(stray)}")
        size, _ = save_atomically(pkg, source, target, expected, backup, parts)
    return AppendResult(target, written, size)


# The sheet XML -------------------------------------------------------------------------------------
def set_cells(xml: bytes, cells: dict[bytes, object], styles: StyleSheet, date1904: bool) -> bytes:
    """The sheet with the given cells' values set: existing cells edited in place (normalise's way),
    cells that were never written (an empty status) put into their row in column order."""
    xml, _ = edit_cells(xml, cells, styles, date1904)  # the rest: cells never written, or formulas (kept)
    for ref, value in cells.items():
        if re.search(rb'<c\b[^>]*?\br="' + ref + b'"', xml):
            continue
        letter, number = re.fullmatch(rb"([A-Z]+)(\d+)", ref).groups()
        row = re.search(rb'<row\b[^>]*?\br="' + number + rb'"[^>]*?(/>|>)', xml)
        if row is None:
            raise WriteError(f"row {number.decode()} is not in the sheet; it changed while it was being read")
        cell = _cell(ref.decode(), value, 0, styles, date1904)
        if row.group(1) == b"/>":
            xml = xml[:row.end() - 2] + b">" + cell + b"</row>" + xml[row.end():]
            continue
        end = xml.find(b"</row>", row.end())
        place = end
        for later in re.finditer(rb'<c\b[^>]*?\br="([A-Z]+)\d+"', xml[row.end():end]):
            if _column_index(later.group(1).decode()) > _column_index(letter.decode()):
                place = row.end() + later.start()
                break
        xml = xml[:place] + cell + xml[place:]
    return xml


def _append(xml: bytes, new: NewRows, styles: StyleSheet, date1904: bool) -> tuple[bytes, int, int]:
    """The sheet with `new.rows` spliced in below its last row holding a value; the rows' span."""
    close = xml.rfind(b"</sheetData>")
    if close < 0:
        empty = re.search(rb"<sheetData\s*/>", xml)
        if empty is None:
            raise WriteError(f"sheet '{new.sheet}' has no sheetData")
        xml = xml[:empty.start()] + b"<sheetData></sheetData>" + xml[empty.end():]
        close = empty.start() + len(b"<sheetData>")

    # Walk back over trailing rows that hold no value (formatted but empty): the new rows go there.
    last_row, last_xml, cut, trailing = new.header_row, b"", close, []
    pos = close
    while True:
        start = xml.rfind(b"<row", 0, pos)
        if start < 0:
            break
        row_xml = xml[start:pos]
        match = _ROW_R.match(row_xml)
        number = int(match.group(1)) if match else xml.count(b"<row ", 0, start) + xml.count(b"<row>", 0, start) + 1
        if _VALUE.search(row_xml) or number <= new.header_row:
            last_row, last_xml = max(number, new.header_row), row_xml
            break
        trailing.append((number, row_xml))
        cut, pos = start, start
    first = last_row + 1
    last = last_row + len(new.rows)
    kept = b"".join(row for number, row in reversed(trailing) if number > last)
    below = {number: row for number, row in trailing if number <= last}

    above = _styles_of(last_xml) if last_row > new.header_row else {}
    defaults = _column_styles(xml[:xml.find(b"<sheetData")])
    own = {number: _styles_of(row) for number, row in below.items()}
    letters = sorted({c for values in new.rows for c in values}, key=lambda c: (len(c), c))
    columns = []
    for letter in letters:
        # The cell above sets the look; a formatted empty row being filled, or the column's own, else.
        fallback = above.get(letter) or defaults.get(_column_index(letter), 0)
        looks = [own[n].get(letter, fallback) if n in own and not above.get(letter) else fallback
                 for n in range(first, last + 1)]
        columns.append(_column_cells(letter, [values.get(letter) for values in new.rows], first, looks, styles, date1904))
    body = [b'<row r="%d">' % (first + i) + b"".join(cells[i] for cells in columns) + b"</row>"
            for i in range(len(new.rows))]
    added = b"".join(body)
    _check_well_formed(added, new.sheet)
    widest = max((_column_index(c) for c in letters), default=1)
    start, end, dimension = _grown_dimension(xml, last, widest)
    tail = _extend_ranges(xml[close:], last_row, last)
    # One join of views: the existing rows (tens of megabytes) are copied once, not per step.
    view = memoryview(xml)
    return b"".join((view[:start], dimension, view[end:cut], added, kept, tail)), first, last


def _column_cells(letter: str, values: list[object], first: int, looks: list[int], styles: StyleSheet,
                  date1904: bool) -> list[bytes]:
    """One column's new cells, row by row; its texts escaped in one pass (5,000 rows in a blink)."""
    texts = iter(clean_texts([v for v in values if isinstance(v, str)]))
    days: dict[tuple[object, int], bytes] = {}  # an import's rows share a few days: encode each once
    out = []
    for i, value in enumerate(values):
        style = looks[i]
        if isinstance(value, str):
            s = f' s="{style}"' if style else ""
            out.append(f'<c r="{letter}{first + i}"{s} t="inlineStr"><is><t xml:space="preserve">{next(texts)}</t></is></c>'.encode())
        elif isinstance(value, pd.Timestamp):
            if (value, style) not in days:
                days[value, style] = _cell("@", value, style, styles, date1904)[len(b'<c r="@"'):]
            out.append(f'<c r="{letter}{first + i}"'.encode() + days[value, style])
        else:
            out.append(_cell(f"{letter}{first + i}", value, style, styles, date1904))
    return out


def _cell(ref: str, value: object, style: int, styles: StyleSheet, date1904: bool) -> bytes:
    """One cell: a number, a date serial (in a date format) or an inline string; b"" for no value."""
    if value is None or (isinstance(value, float) and value != value):
        return b""
    s = f' s="{style}"' if style else ""
    if isinstance(value, (dt.date, np.datetime64)) and not isinstance(value, pd.Timestamp):
        value = pd.Timestamp(value)  # a datetime, a date: a date cell, not its text
    if isinstance(value, pd.Timestamp):
        serial = (value - (EPOCH_1904 if date1904 else EPOCH_1900)) / pd.Timedelta(days=1)
        if not date1904 and value < _LEAP_BUG_END:
            serial -= 1  # Excel's 1900 system counts a 29 Feb 1900, as the sheet writer does
        # The cell above sets the look of a date column; without one, a plain ISO date.
        style = style or styles.with_number_format(0, DATE_FORMAT)
        return f'<c r="{ref}" s="{style}"><v>{number_text(serial)}</v></c>'.encode()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{s}><v>{number_text(float(value))}</v></c>'.encode()
    text = clean_text(str(value))  # made XML-safe and escaped
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'.encode()


def _styles_of(row_xml: bytes) -> dict[str, int]:
    """Column letter -> style index of each styled cell of one row."""
    out = {}
    for letter, attrs in _CELL_STYLE.findall(row_xml):
        style = _STYLE.search(attrs)
        if style and style.group(1) != b"0":
            out[letter.decode()] = int(style.group(1))
    return out


def _column_styles(head: bytes) -> dict[int, int]:
    """Column index -> the default style a <col> element gives it."""
    out = {}
    for attrs in _COL.findall(head):
        found = dict(re.findall(rb'\b(min|max|style)="(\d+)"', attrs))
        if b"style" in found and b"min" in found:
            for index in range(int(found[b"min"]), min(int(found.get(b"max", found[b"min"])), 16384) + 1):
                out[index] = int(found[b"style"])
    return out


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters.replace("$", ""):
        n = n * 26 + ord(ch) - 64
    return n


def _grown_dimension(xml: bytes, last: int, widest: int) -> tuple[int, int, bytes]:
    """Where the sheet's <dimension ref> is, and the element made to include the new rows and columns."""
    match = _DIMENSION.search(xml, 0, 1 << 16)  # it leads the sheet: never search the rows
    if match is None:
        return 0, 0, b""
    first_col, first_row = match.group(1).decode(), match.group(2).decode()
    end_col = (match.group(3) or match.group(1)).decode()
    end_row = int(match.group(4) or match.group(2))
    end_col = column_letter(max(_column_index(end_col), widest))
    ref = f'<dimension ref="{first_col}{first_row}:{end_col}{max(end_row, last)}"/>'.encode()
    return match.start(), match.end(), ref


def extend_range(text: str, last_row: int, new_last: int) -> str:
    """Each range in a space-separated list that ends at (or past) the last row with a value, and
    starts above it, extended down to `new_last`: a dropdown over a column follows its rows."""
    def grow(match: re.Match) -> str:
        if match.group(3) is None:
            return match.group(0)
        top, bottom = int(match.group(2)), int(match.group(4))
        if top <= last_row + 1 and last_row <= bottom < new_last:
            return f"{match.group(1)}{top}:{match.group(3)}{new_last}"
        return match.group(0)

    return " ".join(_RANGE.sub(grow, part) for part in text.split(" "))


def _extend_ranges(tail: bytes, last_row: int, new_last: int) -> bytes:
    """Data validation, conditional formats and the autofilter after <sheetData>, extended."""
    return _SQREF.sub(lambda m: m.group(1) + extend_range(m.group(2).decode(), last_row, new_last).encode(), tail)


def _extend_tables(pkg: Package, sheet_part: str, header_row: int, last_row: int, new_last: int) -> set[str]:
    """Excel Tables on the sheet that cover its rows, grown to `new_last`; the parts changed."""
    changed: set[str] = set()
    if rels_name(sheet_part) not in pkg:  # no relationships, so no table (and none to create)
        return changed
    for rel in pkg.rels(sheet_part).of_type(REL_TABLE):
        if rel.target not in pkg:
            continue
        table = pkg.xml(rel.target)
        ref = table.get("ref", "")
        grown = extend_range(ref, last_row, new_last)
        top = _RANGE.match(ref)
        if grown == ref or top is None or int(top.group(2)) != header_row:
            continue
        if int(table.get("totalsRowCount", "0") or 0):
            raise WriteError(f"the table {table.get('name')} on this sheet has a totals row; turn it off in Excel "
                             "(Table Design > Total Row) so rows can be added below the data")
        table.set("ref", grown)
        auto = table.find(_M + "autoFilter")
        if auto is not None and auto.get("ref"):
            auto.set("ref", extend_range(auto.get("ref"), last_row, new_last))
        pkg.write(rel.target, to_xml(table))
        changed.add(rel.target)
    return changed


def _check_well_formed(rows: bytes, sheet: str) -> None:
    """The new rows parse as XML on their own (the whole sheet is verified again after the save)."""
    parser = etree.XMLParser(target=_Discard())  # checks well-formedness without building a tree
    try:
        parser.feed(b'<sheetData xmlns="' + NS_MAIN.encode() + b'">' + rows + b"</sheetData>")
        parser.close()
    except etree.XMLSyntaxError as e:  # pragma: no cover - a bug here, never the user's data
        raise WriteError(f"the rows for '{sheet}' did not form valid XML ({e}); the workbook is unchanged") from e


class _Discard:
    """A parser target that keeps nothing."""

    def close(self) -> None:
        return None


def _blank_sheet(headers: dict[str, str], header_row: int) -> bytes:
    """A new worksheet holding just its header row."""
    cells = b"".join(_cell(f"{letter}{header_row}", text, 0, None, False)  # type: ignore[arg-type]
                     for letter, text in sorted(headers.items(), key=lambda kv: (len(kv[0]), kv[0])))
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="' + NS_MAIN.encode()
            + b'"><sheetData>' + f'<row r="{header_row}">'.encode() + cells + b"</row></sheetData></worksheet>")
