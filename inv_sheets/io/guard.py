"""Checks a package must pass before any part of it reaches an XML or spreadsheet parser.

The spreadsheet readers (calamine, fastexcel) are fast Rust code that trust the zip: they inflate
a part to its end whatever its header declares, and report an XML DOCTYPE only once they meet it.
So a hostile file is stopped here first, cheaply:

* a part whose header declares more than MAX_PART_BYTES (or a package more than MAX_TOTAL_BYTES)
  is refused without inflating anything;
* a part big enough to matter is inflated once, streaming, with a cap at the size its header
  declares: a "lying" header (a few kilobytes declared, gigabytes inside) is refused as soon as
  the cap is passed, so memory stays at one block however big the bomb. Worksheets are checked
  this way only when a reader is about to read them (`check_part`): the Rust readers open a sheet
  only when asked for it, and most worksheet parts never are (output sheets, which are replaced;
  a big ledger sheet whose cached read is still good), while inflating them costs seconds;
* a DOCTYPE in any XML part is refused: Excel never writes one, and it is how entity expansion
  (billion laughs) and external entities (reading a local file) get in;
* two members of one name (in any case) are refused: readers disagree on which one counts, and a
  save would rewrite one and carry the other along;
* member names written with backslashes (`xl\\worksheets\\sheet1.xml`, some old writers) are
  refused: the zip format separates folders with `/`, and parts written beside them under the
  proper names would be taken for the workbook's own at the next read;
* a shared-strings table that declares more strings (uniqueCount) than its bytes can hold is
  refused: the Rust reader reserves room for the declared count up front, so a count of two
  billion asks for tens of gigabytes and aborts the process.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..contract.issues import NotAWorkbookError, WorkbookTooLargeError
from .package import seek_to_data

MAX_PART_BYTES = 2 << 30  # a part that inflates beyond this is refused (zip bombs)
MAX_TOTAL_BYTES = 4 << 30  # and so is a package whose parts together do (many parts just under the limit)
CHECK_COMPRESSED_BYTES = 1 << 20  # parts smaller than this inflate to 1 GB at most: not worth a pass
DOCTYPE_SCAN_BYTES = 4096  # a DOCTYPE comes before the root element, so at the very start
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.I)
_UNIQUE_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\buniqueCount\s*=\s*[\"'](\d+)", re.S)
SHEET_ROWS = 1_048_576  # the rows a worksheet has: a part holding more is no sheet Excel wrote
MIN_ROW_BYTES = 6  # the shortest row, <row/>: a part smaller than SHEET_ROWS of them needs no count
MIN_STRING_BYTES = 8  # the shortest shared string, <si><t/> and its end, takes more bytes than this
# What inflating a damaged member raises (a bad stream, a cut file, a method zipfile cannot inflate):
# a pass of our own over a part lets the reader that meets it say so, in one line.
UNREADABLE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError)


def check_package(zf: zipfile.ZipFile, path: str | Path) -> None:
    """Raise WorkbookTooLargeError or NotAWorkbookError unless every part is safe to hand a parser."""
    _check_names(zf, path)
    for info in zf.infolist():
        if info.file_size > MAX_PART_BYTES:
            raise WorkbookTooLargeError(
                f"{path}: part {info.filename} would inflate to {info.file_size:,} bytes, beyond the "
                f"{MAX_PART_BYTES:,}-byte limit")
    total = sum(info.file_size for info in zf.infolist())
    if total > MAX_TOTAL_BYTES:
        raise WorkbookTooLargeError(f"{path}: would inflate to {total:,} bytes in all, beyond the "
                                    f"{MAX_TOTAL_BYTES:,}-byte limit")
    for info in zf.infolist():
        if not is_worksheet(info.filename):
            _check_inflated(path, info)
        if info.filename.endswith((".xml", ".rels", ".vml")) and _has_doctype(zf, info):
            raise NotAWorkbookError(
                f"{path}: part {info.filename} holds an XML DOCTYPE, which Excel never writes (it is how entity "
                "attacks work); refused: open the file in Excel and save it again if you trust it")
        if info.filename.lower() == "xl/sharedstrings.xml":
            _check_string_count(zf, path, info)


def _check_names(zf: zipfile.ZipFile, path: str | Path) -> None:
    seen: set[str] = set()
    for name in zf.namelist():
        if "\\" in name:
            raise NotAWorkbookError(
                f"{path}: its part names are written with backslashes ({name}), which a zip package does not "
                "allow; open the file in Excel or LibreOffice and save it again")
        if name.lower() in seen:
            raise NotAWorkbookError(
                f"{path}: holds the part {name} twice, so readers disagree on which is the workbook; refused: "
                "restore the file from a backup, or open it in Excel and save it again if you trust it")
        seen.add(name.lower())


def _check_string_count(zf: zipfile.ZipFile, path: str | Path, info: zipfile.ZipInfo) -> None:
    try:
        with zf.open(info) as fh:
            head = fh.read(DOCTYPE_SCAN_BYTES)
    except UNREADABLE:
        return  # damage is reported by the reader that meets it
    m = _UNIQUE_COUNT.search(head)
    if m is not None and int(m.group(1)) > info.file_size // MIN_STRING_BYTES + 1:
        raise NotAWorkbookError(
            f"{path}: its shared-strings part declares {int(m.group(1)):,} strings in {info.file_size:,} bytes "
            "(a damaged or hostile file); refused: open it in Excel and save it again if you trust it")


def check_part(zf: zipfile.ZipFile, path: str | Path, part: str,
               see: Callable[[bytes], None] | None = None) -> None:
    """Raise WorkbookTooLargeError if `part` inflates beyond the size its header declares.

    Every member of that name is checked, in any case: a reader may match names loosely. `see`, when
    given, is handed the part's XML block by block as it is inflated, so that one pass over a big
    sheet serves the check and whatever else needs its bytes (io.tail)."""
    for info in zf.infolist():
        if info.filename.lower() == part.lower():
            own = see if info.filename == part else None
            if own is not None and info.compress_type != zipfile.ZIP_DEFLATED:
                try:
                    with zf.open(info) as fh:  # stored as it is: nothing to check, only to hand over
                        while block := fh.read(1 << 24):
                            own(block)
                except UNREADABLE:  # a method zipfile cannot inflate, or damage: the reader says so
                    pass
                continue
            _check_inflated(path, info, own)


def _check_inflated(path: str | Path, info: zipfile.ZipInfo, see: Callable[[bytes], None] | None = None) -> None:
    count = is_worksheet(info.filename) and info.file_size > SHEET_ROWS * MIN_ROW_BYTES
    if info.compress_type == zipfile.ZIP_DEFLATED and (
            info.compress_size > CHECK_COMPRESSED_BYTES or count or see is not None):
        within, rows = _inflates_within(path, info, count, see)
        if not within:
            raise WorkbookTooLargeError(
                f"{path}: part {info.filename} inflates beyond the {info.file_size:,} bytes its header "
                "declares (a damaged file or a zip bomb); refused")
        if rows > SHEET_ROWS:
            raise WorkbookTooLargeError(
                f"{path}: part {info.filename} holds more than the {SHEET_ROWS:,} rows a sheet can have "
                "(a damaged or hostile file: Excel could not have written it); refused")


def is_worksheet(part: str) -> bool:
    """A worksheet part where Excel puts them: checked by `check_part` before it is read."""
    return part.startswith("xl/worksheets/") and part.endswith(".xml")


def _has_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    try:
        with zf.open(info) as fh:
            head = fh.read(DOCTYPE_SCAN_BYTES)
    except UNREADABLE:
        return False  # damage is reported by the reader that meets it
    return _DOCTYPE.search(head) is not None


def _inflates_within(path: str | Path, info: zipfile.ZipInfo, count_rows: bool = False,
                     see: Callable[[bytes], None] | None = None) -> tuple[bool, int]:
    """Whether the part's raw deflate stream inflates to no more than its declared size, and (when
    `count_rows`) how many rows it holds, counted as it goes: a sheet of repeated rows is refused
    at the sheet's row limit, before a reader holds gigabytes of them.

    Reads the compressed bytes straight from the file (zipfile itself would stop at the declared
    size, which is exactly what a lying header hides behind), one block at a time.
    """
    from isal import isal_zlib  # here, not above: the Excel button reads no file and needs no ISA-L

    inflater = isal_zlib.decompressobj(-15)  # ISA-L: twice as fast as zlib (a full ledger sheet: 0.25 s, not 0.58)
    total = rows = 0
    tag: bytes | None = None  # how this part spells a row's start tag, once a row is seen
    tail = b""  # the end of the block before: a row tag may straddle two blocks
    # `see` (hashing, for the tail read) takes each block on a thread of its own while the next one
    # is inflated and counted: both let go of the interpreter, so a full sheet's 300 MB are hashed
    # beside the inflating instead of after it. One block at a time, in order.
    worker = ThreadPoolExecutor(1) if see is not None else None
    seeing: Future | None = None
    try:
        with open(path, "rb") as fh:
            seek_to_data(fh, info)
            left = info.compress_size
            while left > 0 and not inflater.eof:
                block = fh.read(min(left, 1 << 20))
                if not block:
                    break
                left -= len(block)
                while block:
                    data = inflater.decompress(block, 16 << 20)
                    total += len(data)
                    if total > info.file_size:
                        return False, rows
                    if worker is not None:
                        if seeing is not None:
                            seeing.result()
                        seeing = worker.submit(see, data)
                    if count_rows:
                        tag = tag or _row_tag(data)
                        if tag:  # the tags inside this block, and one straddling the two
                            rows += data.count(tag) + (tail + data[:len(tag) - 1]).count(tag)
                            tail = data[-(len(tag) - 1):]
                        if rows > SHEET_ROWS:
                            return True, rows
                    block = inflater.unconsumed_tail
        if seeing is not None:
            seeing.result()
    except (OSError, zipfile.BadZipFile, zlib.error, isal_zlib.error):
        return True, rows  # not a size problem: the reader reports the damage in its own words
    finally:
        if worker is not None:
            worker.shutdown(wait=True)
    return True, rows


_ROW_TAG = re.compile(rb"<((?:[\w.-]+:)?)row[\s>/]")


def _row_tag(data: bytes) -> bytes | None:
    """The start of a row tag as this part writes it (<row, or <x:row with a prefix), from its
    first row; None before any. One pattern, counted with bytes.count: a regex over a full
    ledger's 300 MB would take seconds."""
    m = _ROW_TAG.search(data)
    return None if m is None else b"<" + m.group(1) + b"row"
