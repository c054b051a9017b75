"""Read only the rows added below a big sheet since its last read: the day's movements.

A store appends a day's movements to a ledger of a million rows. The sheet's part is one zip
member, so it is inflated whole, but parsing it again is most of a read and only its last rows are
new. So when a big sheet is read in full, a `Mark` keeps where its rows ended in the sheet's XML,
with a digest of them, and a digest of the shared strings of then. When the sheet has changed
since, the one pass that inflates it for the size check (guard.check_part) also hashes it
(`Scan`), and the earlier read holds for the earlier rows when:

- the sheet's rows, from <sheetData> to where the marked rows ended, are the same bytes as then
  (what comes before <sheetData>, the dimension, the column widths, the selection, holds no cell);
- the shared strings of then are the first shared strings now, byte for byte (new ones come after);
- the cell styles are those of then with any new ones after them (the cache's key checks that)
  and the date system is the same.

The cells of the earlier rows are then what they were. The XML after them (the new rows) is put,
with the header row and the shared strings it uses, into a small workbook that fastexcel reads the
way it reads the whole sheet, so every new cell is what a full read gives. Whatever that small read
cannot vouch for returns None and the whole sheet is read as before: a column the new rows give
another type, a column filled for the first time, a reading finding that differs, a row without
its number, a sheet whose earlier read was not column-wise throughout. tests/test_incremental.py
holds the result to a full read's, byte for byte, after random appends, edits and saves.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.book import Earlier, Table
from ..contract.issues import Issue
from . import mixed
from .guard import UNREADABLE

MAX_TAIL_BYTES = 64 << 20  # rows added beyond this much XML are read with the whole sheet
MAX_HEAD_BYTES = 1 << 20  # <sheetData> comes after a sheet's few settings
FIRST_BYTES = 1 << 20  # the header row is among the first rows
SHEET_ROWS = 1_048_576
ROW_END = b"</row>"

_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_TAG = re.compile(rb"<row\b([^>]*)>|<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_ROW_REF = re.compile(rb'\br="(\d+)"')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
SHARED = re.compile(rb'\bt="s"')  # a cell holding a shared string
_INDEX = re.compile(rb"<v>(\d+)</v>")
_WORKSHEET = re.compile(rb"<worksheet\b[^>]*>")
_NS_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class Mark:
    """Where a sheet's rows ended in its XML when it was last read, and what they and the shared
    strings were then."""

    rows_bytes: int  # the XML from <sheetData> to the end of the last row element
    rows_digest: str  # a SHA-256 of it
    last_row: int  # that row's Excel number
    strings: int  # how many shared strings there were
    strings_bytes: int  # their XML, from the first <si> to the end of the last
    strings_digest: str
    date1904: bool


class Scan:
    """A sheet part's XML as it is inflated, block by block (`see`): the digest of its rows up to
    the last row end, and, when `at` (the marked length) is given, the digest of its rows up to
    there and the XML after it."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.head = b""  # the XML before <sheetData>: the worksheet's start tag is there
        self.first = b""  # the first bytes from <sheetData> on: the header row is there
        self.started = self.failed = False
        self.seen = self.length = 0  # bytes seen in all, and from <sheetData> on
        self.at_digest: str | None = None
        self.after: list[bytes] | None = [] if at is not None else None
        self.row_end: tuple[int, str, bytes] | None = None  # the last row end: where, digest, the XML before
        self._hash = hashlib.sha256()
        self._carry = b""  # the last bytes of the block before: a row end tag may straddle two

    def see(self, block: bytes) -> None:
        if self.failed:
            return
        self.seen += len(block)
        if not self.started:
            self.head += block
            found = self.head.find(b"<sheetData")
            if found < 0:
                self.failed = len(self.head) > MAX_HEAD_BYTES
                return
            block, self.head, self.started = self.head[found:], self.head[:found], True
        base = self.length
        if len(self.first) < FIRST_BYTES:
            self.first += block[:FIRST_BYTES - len(self.first)]
        window = self._carry + block
        found = window.rfind(ROW_END)
        end = base - len(self._carry) + found + len(ROW_END) if found >= 0 else None
        cuts = {c for c in (end, self.at) if c is not None and base < c <= base + len(block)}
        pos = base
        for cut in sorted(cuts):
            self._hash.update(block[pos - base:cut - base])
            pos = cut
            if cut == self.at:
                self.at_digest = self._hash.copy().hexdigest()
            if cut == end:
                self.row_end = (end, self._hash.copy().hexdigest(), window[max(0, found - (64 << 10)):found + 6])
        self._hash.update(block[pos - base:])
        if self.after is not None and self.at is not None and base + len(block) > self.at:
            self.after.append(block[max(0, self.at - base):])
            if sum(map(len, self.after)) > MAX_TAIL_BYTES:
                self.after = None
        self.length += len(block)
        self._carry = block[-(len(ROW_END) - 1):]

    def complete(self, size: int) -> bool:
        """Whether the whole part was seen (a damaged one stops short)."""
        return self.started and not self.failed and self.seen == size

    def mark(self, strings: Strings, date1904: bool) -> Mark | None:
        """The mark of the part seen, or None when its rows are not written in the form looked for."""
        if self.row_end is None:
            return None
        length, digest, before = self.row_end
        last = _ROW_NUMBER.match(before, max(0, before.rfind(b"<row")))
        counted = strings.counted()
        if last is None or counted is None:
            return None
        return Mark(length, digest, int(last.group(1)), *counted, date1904)


class Strings:
    """The package's shared-strings part, inflated when first asked for."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._info = next((i for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.xml"), None)
        self._zf = zf
        self._xml: bytes | None = None
        self._starts: np.ndarray | None = None

    @property
    def xml(self) -> bytes:
        """Its XML; none when there is no such part, or it cannot be inflated (so no index is vouched
        for, and the sheets go to the reader that reports the damage)."""
        if self._xml is None:
            try:
                self._xml = self._zf.read(self._info) if self._info is not None else b""
            except UNREADABLE:
                self._xml = b""
        return self._xml

    @functools.cached_property
    def usable(self) -> bool:
        """Whether its strings are written as <si> and <si/> only (no prefix, no attribute)."""
        return b"<si " not in self.xml and b":si>" not in self.xml

    def counted(self) -> tuple[int, int, str] | None:
        """How many strings there are, the length of their XML and its digest."""
        if not self.usable:
            return None
        xml = self.xml
        count = xml.count(b"<si>") + xml.count(b"<si/>")
        if not count:
            return 0, 0, hashlib.sha256().hexdigest()
        first = min(i for i in (xml.find(b"<si>"), xml.find(b"<si/>")) if i >= 0)
        end = max(xml.rfind(b"</si>") + 5, xml.rfind(b"<si/>") + 5)
        return count, end - first, hashlib.sha256(xml[first:end]).hexdigest()

    def starts(self) -> np.ndarray:
        """Where each <si> or <si/> begins, in order."""
        if self._starts is None:
            a = np.frombuffer(self.xml, dtype=np.uint8)
            if len(a) <= 4:
                self._starts = np.array([], dtype=np.intp)
                return self._starts
            # "<si" found by comparing the bytes at three offsets in place: a full ledger's strings
            # hold five times as many "<" as strings, and gathering at each of them cost 0.3 s.
            at = a[:-4] == ord("<")
            at &= a[1:-3] == ord("s")
            at &= a[2:-2] == ord("i")
            si = np.flatnonzero(at)
            closed = (a[si + 3] == ord(">")) | ((a[si + 3] == ord("/")) & (a[si + 4] == ord(">")))
            self._starts = si[closed]
        return self._starts

    def element(self, index: int) -> bytes:
        start = int(self.starts()[index])
        if self.xml.startswith(b"<si/>", start):
            return b"<si/>"
        return self.xml[start:self.xml.find(b"</si>", start) + 5]

    def keeps(self, mark: Mark) -> bool:
        """Whether the strings of `mark` are still the first strings, byte for byte."""
        if not self.usable or len(self.starts()) < mark.strings:
            return False
        if not mark.strings:
            return True
        first = int(self.starts()[0])
        last = int(self.starts()[mark.strings - 1])
        end = last + len(self.element(mark.strings - 1))
        return (end - first == mark.strings_bytes
                and hashlib.sha256(self.xml[first:end]).hexdigest() == mark.strings_digest)


class Unsure(Exception):
    """A piece of a sheet written in a way a small read of it does not vouch for."""


def read_grown(scan: Scan, size: int, before: Table, before_issues: list[Issue], mark: Mark, strings: Strings,
               styles: bytes | None, date1904: bool) -> tuple[Table, list[Issue]] | None:
    """The sheet scanned, read as `before` (its last read, marked `mark`) with the rows after the
    marked ones read on their own; None when that cannot be vouched for (see the module docstring)."""
    if (scan.at_digest != mark.rows_digest or not scan.complete(size) or scan.after is None
            or mark.date1904 != date1904 or before.parts or not len(before.data)
            or before.column_wise != frozenset(before.data.columns) or not strings.keeps(mark)):
        return None
    after = b"".join(scan.after)
    close = after.find(b"</sheetData>")
    if close < 0:
        return None
    rows = after[:close]
    if b"<row" not in rows:
        return _grown(before, before.data), list(before_issues)
    header = re.search(rb'<row\b[^>]*?\br="%d"[^>]*>.*?</row>' % before.header_row, scan.first, re.S)
    worksheet = _WORKSHEET.search(scan.head)
    if header is None or worksheet is None or _NS_MAIN not in worksheet.group(0):
        return None
    try:
        sheet, shared = _small_sheet(header.group(0) + rows, before.header_row, mark.last_row, strings)
    except Unsure:
        return None
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + worksheet.group(0) + b"<sheetData>"
             + sheet + b"</sheetData></worksheet>")
    added = _read_small(mixed.small_workbook(sheet, styles, date1904, shared), before, mark.last_row + 1)
    if added is None:
        return None
    table, issues = added
    if issues != list(before_issues):
        return None
    columns = {}
    for col in before.data.columns:
        old, new = before.data[col], table.data[col]
        if not new.notna().any():  # nothing in the new rows: blank, as a full read has them
            new = (pd.Series(None, index=new.index, dtype=object) if old.dtype == object
                   else old.iloc[:0].reindex(new.index))
        elif old.dtype != new.dtype:  # the new rows change the column's type, or fill it for the first time
            return None
        columns[col] = new
    new_rows = pd.DataFrame(columns, index=table.data.index)
    return _grown(before, pd.concat([before.data, new_rows]) if len(new_rows) else before.data), issues


def _grown(before: Table, data: pd.DataFrame) -> Table:
    return Table(before.name, before.title, data, dict(before.letters), dict(before.headers), before.header_row,
                 before.column_wise, (), None, Earlier(before.source, before.data.index))


def _small_sheet(xml: bytes, header_row: int, last_row: int, strings: Strings) -> tuple[bytes, bytes | None]:
    """The header row and the new rows renumbered from row 1 (the header) and 2 (the row after the
    last marked one), so the small sheet has no empty million rows above them, and the shared
    strings they use, renumbered from 0."""
    used: dict[int, int] = {}
    count = len(strings.starts()) if SHARED.search(xml) else 0

    def row(number: bytes) -> bytes:
        r = int(number)
        if r == header_row:
            return b"1"
        if last_row < r <= SHEET_ROWS:
            return b"%d" % (r - last_row + 1)
        raise Unsure

    def tag(m: re.Match) -> bytes:
        if m.group(1) is not None:
            attrs, found = _ROW_REF.subn(lambda r: b'r="' + row(r.group(1)) + b'"', m.group(1))
            if not found:
                raise Unsure  # a row without its number: where it goes depends on the rows before
            return b"<row" + attrs + b">"
        attrs = _CELL_REF.sub(lambda r: b'r="' + r.group(1) + row(r.group(2)) + b'"', m.group(2))
        inner = m.group(4)
        if inner is None:
            return b"<c" + attrs + m.group(3)
        if SHARED.search(attrs):
            inner = renumbered(inner, count, used)
        return b"<c" + attrs + b">" + inner + b"</c>"

    sheet = _TAG.sub(tag, xml)
    numbers = [int(n) for n in _ROW_NUMBER.findall(sheet)]
    if any(b <= a for a, b in zip(numbers, numbers[1:])):
        raise Unsure  # rows out of order
    return sheet, shared_strings_part(strings, used) if used else None


def renumbered(inner: bytes, count: int, used: dict[int, int]) -> bytes:
    """A shared-string cell's content with its index renumbered among the strings used so far
    (`used`: index -> new index, numbered from 0 in order). Unsure unless it is a plain index to
    one of the `count` strings: anything else would point the small read at another string."""
    index = _INDEX.fullmatch(inner)
    if index is None or int(index.group(1)) >= count:
        raise Unsure
    return b"<v>%d</v>" % used.setdefault(int(index.group(1)), len(used))


def shared_strings_part(strings: Strings, used: dict[int, int]) -> bytes:
    """A shared-strings part of the strings `used` (index -> new index, numbered from 0 in order)."""
    elements = b"".join(strings.element(i) for i in used)
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="' + _NS_MAIN
            + b'" count="%d" uniqueCount="%d">' % (len(used), len(used)) + elements + b"</sst>")


def _read_small(package: bytes, before: Table, first_row: int) -> tuple[Table, list[Issue]] | None:
    """The small workbook's sheet read as the whole sheet is read (io.read), its rows numbered from
    `first_row`, with the findings reading it made; None when it is not read column-wise throughout."""
    import fastexcel

    from .read import from_fast, mismatched

    try:
        fast = fastexcel.read_excel(package).load_sheet("s", schema_sample_rows=None)
    except Exception:  # the whole sheet's read reports what is wrong, in its own words
        return None
    infos = fast.selected_columns
    columns = fast.to_arrow()
    if mismatched(infos, before.name, columns):
        return None
    issues: list[Issue] = []
    table = from_fast(columns, infos, before.title, before.name, before.header_row, first_row, issues)
    if (table is None or table.letters != before.letters or table.headers != before.headers
            or list(table.data.columns) != list(before.data.columns)):
        return None
    return table, issues
