"""A big sheet whose number or date columns mix types: those columns as the exact reader has them.

fastexcel reads a column that mixes numbers and text as text. A number typed as text ("12") can then
no longer be told from the number 12, and a number's digits are rounded to nine decimals. Reading
the whole sheet cell by cell instead (python-calamine) takes twice the time and twice the memory at
a million rows, for what is usually a handful of odd cells. So the sheet is read column-wise as a
clean one is, and only the mixed columns are read again, from one streaming pass over the sheet's
XML, each cell by its own type:

- a number cell (no type, a plain decimal value) is the number its XML holds, parsed as calamine
  parses it (correctly rounded);
- a shared-string text cell is the text fastexcel read;
- in a date column, a date cell is the date and time fastexcel read (to the millisecond, as calamine
  converts it), when it falls within the dates inv-sheets reads;
- an empty cell and an error cell are blank;
- every other cell (a date in a number column, a yes/no, a formula, an inline or formula string,
  a time, an ISO date cell, anything unusual) is read by python-calamine itself, from a small
  workbook holding only those cells, the sheet's styles and its date system.

Which of the two a cell is comes from its type attribute in the XML and from the text fastexcel made
of it (a date cell reads as "2025-01-02 00:00:00", a number as digits), so each cell is what the
exact reader gives. The same pass finds what neither reader shows (`scan_cells`: formulas saved
without a result, error cells) and the merged cells, so the findings are those of the exact read.
Every cell fastexcel read a value from must have been seen by the pass: a sheet written in a form
it does not look for (cells without their address first, namespace prefixes) is left to the exact
reader, as is one whose odd cells point into the shared strings: `read_columns` returns False.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..contract.book import Table
from ..contract.issues import Issue, column_letter
from ..contract.parse import FIRST_DATE, LAST_DATE

PIECE_BYTES = 16 << 20  # the sheet's XML is inflated and searched this much at a time

_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF_RE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ERROR_TYPE_RE = re.compile(rb'\bt="e"')
_FORMULA_TAG_RE = re.compile(rb"<(?:\w+:)?f\b")
_VALUE_TEXT_RE = re.compile(rb"<(?:\w+:)?v>([^<]+)<")
_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_WORKSHEET_RE = re.compile(rb"<worksheet\b[^>]*>")
_TYPE_RE = re.compile(rb'\bt="([^"]*)"')
# What fastexcel's text of a cell looks like: a number (never with an exponent) or a date and time.
_NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
_DATETIME_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?$"
# A number cell's value as calamine and Python parse it alike.
_NUMBER_VALUE = r"^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$"


@dataclass
class Column:
    """One mixed column to read again: its Excel letter, whether it holds dates, and what fastexcel
    read of it (one value per row from the first data row on)."""

    letter: str
    dates: bool
    fast: pa.Array


class _Cells:
    """One mixed column's cells as the pass sorts them, by position from the first data row:
    numbers and dates as arrays, the shared-string texts (their text is fastexcel's), and which
    cells were seen at all; the odd cells go, as XML, to a list the pass keeps for all columns."""

    def __init__(self, column: Column, first_row: int, first_day: pd.Timestamp) -> None:
        self.column, self.first_row, self.first_day = column, first_row, first_day
        letter = column.letter.encode()
        self.plain = re.compile(rb'<c r="' + letter + rb'(\d+)"><v>([^<]+)</v></c>')
        self.other = re.compile(rb'<c r="' + letter + rb'(\d+)"(?!><v>[^<]+</v></c>)([^>]*?)(?:/>|>(.*?)</c>)', re.S)
        self.text = _is_text(column.fast)
        self.seen = np.zeros(len(column.fast), dtype=bool)
        self.typed: list[tuple[np.ndarray, pa.Array]] = []
        self.texts: list[np.ndarray] = []

    def sort(self, piece: bytes, odd: list[tuple[int, int, bytes]]) -> bool:
        """Sort the piece's cells of this column; False when one needs the shared strings (a
        shared-string cell not in the plain form: only the exact reader reads it)."""
        plain = self.plain.findall(piece)  # <c r="E5"><v>12</v></c>: nearly every cell of a number column
        if plain:
            rows = _ints([r for r, _ in plain])
            todo = self._see(rows)
            if self.text and todo.any():  # else (fastexcel typed it otherwise) every cell is odd
                at = np.flatnonzero(todo)
                values = pa.array([plain[i][1] for i in at], pa.binary()).cast(pa.string())
                todo[at[self._typed(rows[at] - self.first_row, values)]] = False
            odd.extend(self._xml(rows[i], b"", b"<v>" + plain[i][1] + b"</v>") for i in np.flatnonzero(todo))
        other = self.other.findall(piece)  # with attributes (a type, a style) or other content
        if other:
            rows = _ints([r for r, _, _ in other])
            attrs, inner = [a for _, a, _ in other], [i for _, _, i in other]
            kinds = _kinds(attrs)
            inner_text = pa.array(inner, pa.binary()).cast(pa.string())
            simple = _true(pc.match_substring_regex(inner_text, r"^<v>[^<]+</v>$"))
            empty = np.array([not i for i in inner], dtype=bool)
            todo = self._see(rows) & ~((kinds == "e") | ((kinds == "n") & empty))  # blank: python-calamine's ''
            if self.text:
                texts = todo & (kinds == "s") & simple
                self.texts.append(rows[texts] - self.first_row)
                todo &= ~texts
                at = np.flatnonzero(todo & (kinds == "n") & simple)
                if len(at):
                    values = pc.utf8_slice_codeunits(inner_text.take(pa.array(at)), 3, -4)
                    todo[at[self._typed(rows[at] - self.first_row, values)]] = False
            for i in np.flatnonzero(todo):
                if kinds[i] == "s":
                    return False
                odd.append(self._xml(rows[i], attrs[i], inner[i]))
        return True

    def _see(self, rows: np.ndarray) -> np.ndarray:
        """Mark the cells seen; which of them are data rows (not the header, nor past the data)."""
        at = rows - self.first_row
        inside = (at >= 0) & (at < len(self.seen))
        self.seen[at[inside]] = True
        return inside

    def _xml(self, row: int, attrs: bytes, inner: bytes) -> tuple[int, int, bytes]:
        letter = self.column.letter.encode()
        return int(row), _column_index(letter), b'<c r="%s%d"%s>%s</c>' % (letter, row, attrs, inner)

    def _typed(self, at: np.ndarray, values: pa.Array) -> np.ndarray:
        """Of number cells (at their positions, with their XML values), keep those that are plain
        numbers (not date cells) as those numbers and, in a date column, the date cells fastexcel
        read within the dates read as those dates; the indexes (into `at`) of those kept."""
        fast = self.column.fast.take(pa.array(at))
        number = _true(pc.match_substring_regex(values, _NUMBER_VALUE))
        number &= _true(pc.match_substring_regex(fast, _NUMBER_TEXT))  # not a date cell
        kept = [np.flatnonzero(number)]
        if number.any():
            self.typed.append((at[number], pc.cast(values.filter(pa.array(number)), pa.float64())))
        if self.column.dates:
            dated = ~number & _true(pc.match_substring_regex(fast, _DATETIME_TEXT))
            if dated.any():
                stamps = pc.cast(fast.filter(pa.array(dated)), pa.timestamp("ms"))
                inside = _true(pc.and_(pc.greater_equal(stamps, pa.scalar(self.first_day, pa.timestamp("ms"))),
                                       pc.less(stamps, pa.scalar(LAST_DATE, pa.timestamp("ms")))))
                self.typed.append((at[dated][inside], stamps.filter(pa.array(inside))))
                kept.append(np.flatnonzero(dated)[inside])
        return np.concatenate(kept)

    def values(self, odd: dict[tuple[int, str], object]) -> np.ndarray:
        """Every cell's value by position, as the exact reader has it ('' read as blank)."""
        values = np.full(len(self.seen), None, dtype=object)
        for at, typed in self.typed:
            values[at] = _boxed(typed)
        if self.texts:
            at = np.concatenate(self.texts)
            values[at] = self.column.fast.take(pa.array(at)).to_numpy(zero_copy_only=False)
        for (row, letter), value in odd.items():
            if letter == self.column.letter:
                values[row - self.first_row] = value
        values[values == ""] = None
        return values


def read_columns(zf: zipfile.ZipFile, part: str, name: str, table: Table, columns: dict[str, Column],
                 first_row: int, styles: bytes | None, date1904: bool, issues: list[Issue]) -> bool:
    """Replace the mixed columns of a table read column-wise with their cells as the exact reader
    has them, and add the findings the exact reader's sheet gives (merged headers, formulas and
    error cells). `columns` maps canonical names to their letters and fast values; `first_row` is
    the Excel row of the fast values' first. False (and nothing changed) when the sheet's XML is
    not in the form this pass reads: the caller reads the sheet exactly then."""
    cells = {col: _Cells(column, first_row, _first_day(date1904)) for col, column in columns.items()}
    odd: list[tuple[int, int, bytes]] = []
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
    scanned: list[Issue] = []
    head = None  # the worksheet start tag, with its namespaces, for the odd cells' own sheet
    for piece in pieces(zf, part):
        head = head or _WORKSHEET_RE.search(piece)
        if not all(c.sort(piece, odd) for c in cells.values()):
            return False
        _scan(piece, name, table, scanned, prefixed=False)  # prefixed cells are not read here (below)
        merged.extend(_merges(piece))
    # Every cell fastexcel read a value from was seen: cells written in another form (prefixed, or
    # without their address first) would be missed.
    if head is None or any((c.column.fast.is_valid().to_numpy(zero_copy_only=False) & ~c.seen).any()
                           for c in cells.values()):
        return False
    read_odd = _read_odd(sorted(odd), head.group(0), styles, date1904)
    merged_header(merged, table.header_row - 1, name, issues)
    issues.extend(scanned)
    positions = table.data.index.to_numpy() - first_row
    emptied = np.zeros(len(positions), dtype=bool)  # a value fastexcel read that is blank here ('', an error)
    for col, c in cells.items():
        values = c.values(read_odd)[positions]
        emptied |= c.column.fast.is_valid().to_numpy(zero_copy_only=False)[positions] & pd.isna(values)
        table.data[col] = pd.Series(values, index=table.data.index, dtype=object)
    if emptied.any():  # a row left with nothing in it is a blank line, as for the exact reader
        rows = table.data.index[emptied]
        table.data = table.data.drop(index=rows[~table.data.loc[rows].notna().any(axis=1).to_numpy()])
    table.column_wise = table.column_wise - set(columns)
    return True


def pieces(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """A sheet part's XML a few megabytes at a time, each piece ending where a row ends (the last
    holds the rest), so that no cell is cut in two."""
    with zf.open(part) as fh:
        tail = b""
        while block := fh.read(PIECE_BYTES):
            data = tail + block
            cut = _row_end(data)
            if cut <= 0:
                tail = data
                continue
            yield data[:cut]
            tail = data[cut:]
        if tail:
            yield tail


def _row_end(data: bytes) -> int:
    """Just after the last row end tag (</row> or </x:row>) in data, or 0."""
    at = data.rfind(b"row>")
    while at > 0:
        start = data.rfind(b"</", max(0, at - 40), at)
        if start >= 0 and re.fullmatch(rb"</(?:\w+:)?", data[start:at]):
            return at + 4
        at = data.rfind(b"row>", 0, at)
    return 0


def scan_cells(zf: zipfile.ZipFile, part: str, name: str, table: Table, issues: list[Issue]) -> None:
    """Findings the readers cannot see: formula cells in known columns saved without a result, and
    cells holding an Excel error (#DIV/0!, #N/A...), which both readers hand over as blank."""
    try:
        for piece in pieces(zf, part):
            _scan(piece, name, table, issues)
    except KeyError:
        return


def _scan(piece: bytes, name: str, table: Table, issues: list[Issue], *, prefixed: bool = True) -> None:
    """scan_cells over one piece; `prefixed`: look for prefixed formula tags (<x:f>) too."""
    if (b"<f" not in piece and (not prefixed or b":f" not in piece)
            and not (b't="e"' in piece and _ERROR_TYPE_RE.search(piece))):
        return
    wanted = {letter: col for col, letter in table.letters.items()}
    for m in _CELL_RE.finditer(piece):
        attrs, inner = m.group(1), m.group(2) or b""
        ref = _REF_RE.search(attrs)
        if ref is None:
            continue
        letter, row = ref.group(1).decode(), int(ref.group(2))
        if letter not in wanted or row <= table.header_row:
            continue
        value = _VALUE_TEXT_RE.search(inner)
        if _ERROR_TYPE_RE.search(attrs):
            error = value.group(1).decode(errors="replace") if value else "#VALUE!"
            issues.append(Issue("cell-error", name, row, letter,
                                f"This cell shows the error {error}: fix the formula or type the value.",
                                value=error, field=wanted[letter]))
        elif _FORMULA_TAG_RE.search(inner) and value is None:
            issues.append(Issue("formula-without-value", name, row, letter,
                                "This formula has no saved result, so its value is unknown here: open and "
                                "save the file in Excel or LibreOffice, or type the value.", field=wanted[letter]))


def merged_header(merged, header_index: int, name: str, issues: list[Issue]) -> None:
    """A finding for each merged range across the header row (0-based, as python-calamine gives
    ranges: ((first row, first column), (last row, last column)))."""
    for (r0, c0), (r1, c1) in merged:
        if r0 <= header_index <= r1 and c1 > c0:
            row = header_index + 1
            issues.append(Issue("merged-header", name, row, column_letter(c0 + 1),
                                f"Header cells {column_letter(c0 + 1)}{row}:{column_letter(c1 + 1)}{row} "
                                "are merged: unmerge them and give each column its own header."))


def _merges(piece: bytes) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    if b"mergeCell" not in piece:
        return []
    out = []
    for m in _MERGE_RE.finditer(piece):
        c0, r0 = _column_index(m.group(1)), int(m.group(2)) - 1
        c1, r1 = (_column_index(m.group(3)), int(m.group(4)) - 1) if m.group(3) else (c0, r0)
        out.append(((r0, c0), (r1, c1)))
    return out


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _kinds(attrs: list[bytes]) -> np.ndarray:
    """Each cell's type from its attributes: "n" for a number (no type), else its type attribute."""
    codes, uniques = pd.factorize(np.array(attrs, dtype=object))
    kinds = np.array(["n" if (m := _TYPE_RE.search(a)) is None else m.group(1).decode(errors="replace")
                      for a in uniques], dtype=object)
    return kinds[codes] if len(codes) else np.zeros(0, dtype=object)


def _ints(texts: list[bytes]) -> np.ndarray:
    return pa.array(texts, pa.binary()).cast(pa.string()).cast(pa.int64()).to_numpy() if texts else np.zeros(0, np.int64)


def _first_day(date1904: bool) -> pd.Timestamp:
    """The first day a date cell is read from fastexcel's text: the first day inv-sheets reads, and
    never a day number below 1, which python-calamine gives as a time of day (in the 1904 date
    system, day 0 is 1904-01-01)."""
    return pd.Timestamp("1904-01-02") if date1904 else FIRST_DATE


def _is_text(values: pa.Array) -> bool:
    return str(values.type) in ("string", "large_string", "string_view")


def _boxed(typed: pa.Array) -> np.ndarray:
    """Numbers or dates as Python objects, one object per distinct value: a million quantities are
    a few hundred numbers, and a column of objects then takes a quarter of the memory."""
    values = typed.to_numpy(zero_copy_only=False)
    _, first, inverse = np.unique(values.view(np.int64), return_index=True, return_inverse=True)  # -0.0 apart from 0.0
    return values[first].astype(object)[inverse.reshape(-1)]


def _true(mask) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def small_workbook(sheet: bytes, styles: bytes | None, date1904: bool, strings: bytes | None = None) -> bytes:
    """A workbook package, in memory, of one sheet named "s" (its whole XML), the workbook's styles
    (which say which numbers are dates), its date system and, when given, a shared-strings part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as mini:
        mini.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/></Types>'))
        mini.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        pr = '<workbookPr date1904="1"/>' if date1904 else ""
        mini.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" xmlns:r="{_REL}">'
            f'{pr}<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        style_rel = f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>' if styles else ""
        strings_rel = f'<Relationship Id="rId3" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>' if strings else ""
        mini.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>{style_rel}'
            f"{strings_rel}</Relationships>"))
        if styles:
            mini.writestr("xl/styles.xml", styles)
        if strings:
            mini.writestr("xl/sharedStrings.xml", strings)
        mini.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def _read_odd(odd: list[tuple[int, int, bytes]], head: bytes, styles: bytes | None,
              date1904: bool) -> dict[tuple[int, str], object]:
    """The odd cells' values as python-calamine reads them, by (row, letter), from a workbook holding
    only those cells (in order), the sheet's styles (which say which numbers are dates) and its
    date system."""
    if not odd:
        return {}
    from python_calamine import CalamineWorkbook

    rows: list[bytes] = []
    last = None
    for row, _, xml in odd:
        if row != last:
            if last is not None:
                rows.append(b"</row>")
            rows.append(b'<row r="%d">' % row)
            last = row
        rows.append(xml)
    rows.append(b"</row>")
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + head + b"<sheetData>"
             + b"".join(rows) + b"</sheetData></worksheet>")
    buffer = io.BytesIO(small_workbook(sheet, styles, date1904))
    ws = CalamineWorkbook.from_filelike(buffer).get_sheet_by_name("s")
    grid = ws.to_python(skip_empty_area=True)
    top, left = ws.start or (0, 0)
    out = {}
    for row, col, _ in odd:
        line = grid[row - 1 - top] if 0 <= row - 1 - top < len(grid) else []
        at = col - left
        out[(row, column_letter(col + 1))] = line[at] if 0 <= at < len(line) else None
    return out
