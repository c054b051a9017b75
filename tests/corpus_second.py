"""The second corpus: the files and situations the first one (corpus.py) did not try.

Built the same way, part by part, so a test can put any bytes in any part. Refused files must be
refused in one line with exit 3 and the file untouched; the others must give the right answer.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from corpus import GOOD_MOVEMENTS, MOVEMENT_HEADER, _raw_zip, package_parts, store_sheets, write_zip


# Refused packages ------------------------------------------------------------------------------------
def duplicate_members(folder: Path) -> Path:
    """The Items sheet's part twice under one name: the second copy says something else."""
    parts = package_parts(store_sheets())
    path = write_zip(folder / "duplicate.xlsx", parts)
    other = package_parts(store_sheets(items=[["SKU", "Name"], ["EVIL", "Evil"]]))["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "a") as z, _quiet_duplicates():
        z.writestr("xl/worksheets/sheet1.xml", other)
    return path


def backslash_members(folder: Path) -> Path:
    """The worksheet parts' names written with backslashes (xl\\worksheets\\sheet1.xml), as some old
    writers do; readers that take them for slashes read the workbook."""
    parts = package_parts(store_sheets())
    members = []
    for name in sorted(parts, key=lambda p: (p != "[Content_Types].xml", p)):
        data = parts[name]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        stored = name.replace("/", "\\") if name.startswith("xl/worksheets/") else name
        members.append((stored, c.compress(data) + c.flush(), 8, zlib.crc32(data), len(data)))
    return _raw_zip(folder / "old-writer.xlsx", members)


def unique_count_bomb(folder: Path) -> Path:
    """A shared-strings table of two strings that declares uniqueCount 2,147,483,647."""
    parts = package_parts(store_sheets())
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2147483647">'
        "<si><t>TEE-M</t></si><si><t>Tee M</t></si></sst>").encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    return write_zip(folder / "unique-count.xlsx", parts)


def too_many_rows(folder: Path, rows: int = 1_100_000) -> Path:
    """A ledger of more rows than a sheet can hold (one row repeated): a few MB on disk."""
    sheets = store_sheets()
    row = '<row r="{}"><c r="A{}" t="inlineStr"><is><t>M</t></is></c></row>'
    head = package_parts(sheets)["xl/worksheets/sheet3.xml"].decode()
    start, end = head.index("<sheetData>") + len("<sheetData>"), head.index("</sheetData>")
    body = "".join(row.format(r, r) for r in range(2, rows + 2))
    sheets["Movements"] = head[:start] + head[start:end] + body + head[end:]
    return write_zip(folder / "too-many-rows.xlsx", package_parts(sheets))


def _stored_otherwise(path: Path, part: str, *, method: int = 8, flipped: bool = False) -> Path:
    """A small store with one part stored otherwise: under another compression method, or with its
    deflated bytes flipped (the zip directory intact)."""
    parts = package_parts(store_sheets())
    members = []
    for name in sorted(parts, key=lambda p: (p != "[Content_Types].xml", p)):
        data = parts[name]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        stored = c.compress(data) + c.flush()
        if name == part and flipped:
            stored = bytes(b ^ 0x5A for b in stored)
        members.append((name, stored, method if name == part else 8, zlib.crc32(data), len(data)))
    return _raw_zip(path, members)


def unsupported_compression(folder: Path) -> Path:
    """The Items sheet stored with a compression method Python's zipfile cannot inflate (9,
    Deflate64): a reader that inflates it itself must say the workbook cannot be read."""
    return _stored_otherwise(folder / "deflate64.xlsx", "xl/worksheets/sheet1.xml", method=9)


def damaged_styles(folder: Path) -> Path:
    """The styles part (which says which numbers are dates) damaged."""
    return _stored_otherwise(folder / "damaged-styles.xlsx", "xl/styles.xml", flipped=True)


def damaged_package_relationships(folder: Path) -> Path:
    """_rels/.rels, where every reader of the package starts, damaged."""
    return _stored_otherwise(folder / "damaged-rels.xlsx", "_rels/.rels", flipped=True)


def damaged_workbook_part(folder: Path) -> Path:
    """xl/workbook.xml, the list of sheets, damaged."""
    return _stored_otherwise(folder / "damaged-workbook.xlsx", "xl/workbook.xml", flipped=True)


REFUSED = {  # builder -> words one of which the one-line refusal must contain
    duplicate_members: ("twice",), backslash_members: ("backslashes",), unique_count_bomb: ("strings",),
    too_many_rows: ("rows",), unsupported_compression: ("cannot be read", "damaged"),
    damaged_styles: ("damaged",), damaged_package_relationships: ("damaged",), damaged_workbook_part: ("damaged",),
}


# Files that read -------------------------------------------------------------------------------------
def zoned_dates(folder: Path) -> Path:
    """Text dates with a time zone (Z, +14:00) and a day-month date with a time."""
    movements = GOOD_MOVEMENTS + [
        ["M4", "2025-01-02T10:00:00Z", "receive", "TEE-M", 1, None, "MAIN"],
        ["M5", "2025-01-02T10:00:00+14:00", "receive", "TEE-M", 1, None, "MAIN"],
        ["M6", "02/01/2025 14:30", "receive", "TEE-M", 1, None, "MAIN"],
    ]
    return write_zip(folder / "zoned.xlsx", package_parts(store_sheets(movements)))


def huge_settings(folder: Path) -> Path:
    """Day counts far beyond anything a store means, and the last as-of day the docs accept."""
    sheets = store_sheets()
    sheets["Settings"] = [["Key", "Value"], ["as_of", "2199-12-31"], ["review_every_days_a", 100000],
                          ["demand_days", 1e9]]
    return write_zip(folder / "huge-settings.xlsx", package_parts(sheets))


def summary_sheet(folder: Path) -> Path:
    """A user's own sheet named like the ledger with words after the year: not part of the ledger."""
    sheets = store_sheets()
    sheets["Movements 2024 summary"] = [["Month", "Units"], ["Jan", 10], ["Feb", 12]]
    return write_zip(folder / "summary.xlsx", package_parts(sheets))


def titled_header(folder: Path) -> Path:
    """A ledger whose header row is row 3, under a title and an empty row."""
    sheets = store_sheets()
    sheets["Movements"] = [["Stock ledger 2026"], []] + [MOVEMENT_HEADER] + GOOD_MOVEMENTS
    return write_zip(folder / "titled.xlsx", package_parts(sheets))


class _quiet_duplicates:
    """zipfile warns when a name is written twice: here that is the point."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
