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
  (billion laughs) and external entities (reading a local file) get in.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from ..contract.issues import NotAWorkbookError, WorkbookTooLargeError
from .package import seek_to_data

MAX_PART_BYTES = 2 << 30  # a part that inflates beyond this is refused (zip bombs)
MAX_TOTAL_BYTES = 4 << 30  # and so is a package whose parts together do (many parts just under the limit)
CHECK_COMPRESSED_BYTES = 1 << 20  # parts smaller than this inflate to 1 GB at most: not worth a pass
DOCTYPE_SCAN_BYTES = 4096  # a DOCTYPE comes before the root element, so at the very start
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.I)


def check_package(zf: zipfile.ZipFile, path: str | Path) -> None:
    """Raise WorkbookTooLargeError or NotAWorkbookError unless every part is safe to hand a parser."""
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


def check_part(zf: zipfile.ZipFile, path: str | Path, part: str) -> None:
    """Raise WorkbookTooLargeError if `part` inflates beyond the size its header declares.

    Every member of that name is checked, in any case: a reader may match names loosely."""
    for info in zf.infolist():
        if info.filename.lower() == part.lower():
            _check_inflated(path, info)


def _check_inflated(path: str | Path, info: zipfile.ZipInfo) -> None:
    if info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > CHECK_COMPRESSED_BYTES \
            and not _inflates_within(path, info):
        raise WorkbookTooLargeError(
            f"{path}: part {info.filename} inflates beyond the {info.file_size:,} bytes its header "
            "declares (a damaged file or a zip bomb); refused")


def is_worksheet(part: str) -> bool:
    """A worksheet part where Excel puts them: checked by `check_part` before it is read."""
    return part.startswith("xl/worksheets/") and part.endswith(".xml")


def _has_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    try:
        with zf.open(info) as fh:
            head = fh.read(DOCTYPE_SCAN_BYTES)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
        return False  # damage is reported by the reader that meets it
    return _DOCTYPE.search(head) is not None


def _inflates_within(path: str | Path, info: zipfile.ZipInfo) -> bool:
    """Whether the part's raw deflate stream inflates to no more than its declared size.

    Reads the compressed bytes straight from the file (zipfile itself would stop at the declared
    size, which is exactly what a lying header hides behind), one block at a time.
    """
    inflater = zlib.decompressobj(-15)
    total = 0
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
                    total += len(inflater.decompress(block, 16 << 20))
                    if total > info.file_size:
                        return False
                    block = inflater.unconsumed_tail
    except (OSError, zipfile.BadZipFile, zlib.error):
        return True  # not a size problem: the reader reports the damage in its own words
    return True
