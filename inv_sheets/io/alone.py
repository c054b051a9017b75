"""A small sheet read from a workbook of its own, not from the whole workbook.

Opening a workbook with fastexcel or python-calamine reads its shared strings first, all of them:
at a ledger of a million rows that is some 27 MB of XML and over a million strings, about 0.7 s
for each reader, paid again by every refresh to read the Items, Settings and other small sheets,
whose cells use a few thousand of them. So a small sheet is put, as it is, into a workbook of its
own in memory: its XML with each shared-string index renumbered to the strings it uses, those
strings (their XML as it is: rich text, phonetic runs and all), the workbook's styles (which say
which numbers are dates) and its date system. Both readers then read it as they would read it in
the whole workbook, at the cost of its own size.

Whatever the renumbering cannot vouch for gives None, and the sheet is read from the whole
workbook as before: a namespace prefix on cells, a shared-string cell whose value is not a plain
index, an index beyond the strings, shared strings written with attributes on their elements, a
part name the package holds twice, a sheet over MAX_BYTES. tests/test_alone.py holds every sheet
of the test workbooks to what the whole workbook's read gives.
"""

from __future__ import annotations

import re
import zipfile

from . import mixed
from .guard import UNREADABLE
from .tail import SHARED, Strings, Unsure, renumbered, shared_strings_part

# A sheet bigger than this (inflated, some 50,000 rows) is read from the whole workbook: beyond it,
# renumbering its cells one by one costs about what opening the whole workbook does (a sheet that
# big is cached, so it comes here only with the cache off).
MAX_BYTES = 8 << 20
# A cell (self-closed, or with its content), as io.tail finds cells.
_CELL = re.compile(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|v|row|sheetData|worksheet)\b")


def alone(zf: zipfile.ZipFile, part: str, strings: Strings, styles: bytes | None, date1904: bool) -> bytes | None:
    """The workbook, in memory, of the sheet at `part` alone (named "s"), or None when unsure."""
    named = [info for info in zf.infolist() if info.filename.lower() == part.lower()]
    if len(named) != 1 or named[0].file_size > MAX_BYTES:
        return None
    try:
        xml = zf.read(part)
        if _PREFIXED.search(xml):
            return None
        if not SHARED.search(xml):
            return mixed.small_workbook(xml, styles, date1904)
        if not strings.usable:
            return None
        count = len(strings.starts())
    except UNREADABLE:
        return None  # damaged: the whole workbook's readers say so, in their words
    used: dict[int, int] = {}

    def cell(m: re.Match) -> bytes:
        if m.group(3) is None or not SHARED.search(m.group(1)):
            return m.group(0)
        return b"<c" + m.group(1) + b">" + renumbered(m.group(3), count, used) + b"</c>"

    try:
        sheet = _CELL.sub(cell, xml)
    except Unsure:
        return None
    return mixed.small_workbook(sheet, styles, date1904, shared_strings_part(strings, used) if used else None)
