"""Change individual cell values of the user's own sheets, and nothing else (for `normalise`).

Each changed cell keeps its place and its style; only its value (and, for a text date made a real
date, a number format derived from its own style) changes; a header cell of an Excel Table renames
that table's column with it. Formula cells are never rewritten. Text is written as an inline string, so
the shared-string table is left alone. Every part but the edited sheets, styles.xml (append-only)
and the package bookkeeping stays byte-identical, and the file is saved atomically like a refresh.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..contract.issues import NotAWorkbookError, WriteError, column_letter
from .cells import _LEAP_BUG_END, EPOCH_1900, EPOCH_1904, clean_text, number_text
from .package import NS_MAIN, REL_TABLE, Package, rels_name, to_xml
from .styles import StyleSheet
from .workbook import Workbook
from .save import FileState, save_atomically
from .write import source_and_target

DATE_FORMAT = "yyyy-mm-dd"
# A cell, with the namespace prefix its sheet was written with (<c>, or <x:c> from some writers).
_CELL = re.compile(rb"<((?:[\w.-]+:)?)c\b([^>]*?)(/>|>.*?</\1c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f\b")


def formula_cells(path: str | os.PathLike, titles: Iterable[str]) -> set[tuple[str, str]]:
    """The cells of the named sheets that hold a formula, as (sheet, "B7"): normalise leaves them
    alone (writing a value over a formula loses it, and over a shared formula's first cell also
    empties every cell that shares it)."""
    found: set[tuple[str, str]] = set()
    with Package(path) as pkg:
        book = Workbook(pkg)
        for title in set(titles):
            sheet = book.find(title)
            xml = pkg.read(sheet.part) if sheet is not None else b""
            if not _FORMULA.search(xml):
                continue
            for m in _CELL.finditer(xml):
                ref = _REF.search(m.group(2))
                if ref is not None and _FORMULA.search(m.group(3)):
                    found.add((title, ref.group(1).decode()))
    return found


def write_cells(path: str | os.PathLike, changes: Iterable, *, output: str | os.PathLike | None = None,
                backup: bool = False) -> tuple[Path, Path | None]:
    """Write each change (sheet, cell, after) into the workbook at `path` (or into `output`).

    Returns the file written and the backup of the file as it was (None without one)."""
    source, target = source_and_target(path, output)
    state = FileState.of(source)
    by_sheet: dict[str, dict[bytes, object]] = defaultdict(dict)
    for change in changes:
        by_sheet[change.sheet][change.cell.encode()] = change.after
    with Package(source) as pkg:
        book = Workbook(pkg)
        styles_part = _styles_part(book)
        styles = StyleSheet(pkg.read(styles_part))
        parts = []
        for title, cells in by_sheet.items():
            sheet = book.find(title)
            if sheet is None:
                raise NotAWorkbookError(f"{source}: sheet '{title}' disappeared while it was being read")
            xml, missed = _edit(pkg.read(sheet.part), cells, styles, book.date1904)
            if missed:
                raise WriteError(
                    f"{source.name}: sheet '{title}' is stored without cell addresses (or in a form this writer "
                    f"cannot edit), so {len(missed)} cells such as {sorted(missed)[0].decode()} cannot be changed "
                    "safely; nothing was written: open and save the file in Excel or LibreOffice, then run again")
            pkg.write(sheet.part, xml)
            parts.append(sheet.part)
            _rename_table_columns(pkg, sheet.part, cells)
        pkg.write(styles_part, styles.to_xml())
        _, kept = save_atomically(pkg, source, target, state, backup, parts)
    return target, kept


def _rename_table_columns(pkg: Package, sheet_part: str, cells: dict[bytes, object]) -> None:
    """Keep an Excel Table's column names in step with the header cells just changed: a table
    whose columns are named otherwise than its header cells is what Excel "repairs" on opening."""
    if rels_name(sheet_part) not in pkg:  # no relationships, so no tables (and no rels part to make)
        return
    for rel in pkg.rels(sheet_part).of_type(REL_TABLE):
        if rel.target not in pkg:
            continue
        root = pkg.xml(rel.target)
        corner = re.match(r"\$?([A-Z]+)\$?(\d+)", root.get("ref", ""))
        columns = root.find(f"{{{NS_MAIN}}}tableColumns")
        if corner is None or columns is None or root.get("headerRowCount", "1") == "0":
            continue
        first, header_row = _column_number(corner.group(1)), corner.group(2)
        renamed = False
        for i, column in enumerate(c for c in columns if isinstance(c.tag, str)):
            cell = f"{column_letter(first + i)}{header_row}".encode()
            if cell in cells and column.get("name") != str(cells[cell]):
                column.set("name", str(cells[cell]))
                renamed = True
        if renamed:
            pkg.write(rel.target, to_xml(root))


def _column_number(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _styles_part(book: Workbook) -> str:
    from .package import REL_STYLES

    found = book.rels.of_type(REL_STYLES)
    if not found:
        raise NotAWorkbookError("the workbook has no styles part")
    return found[0].target


def _edit(xml: bytes, cells: dict[bytes, object], styles: StyleSheet, date1904: bool) -> tuple[bytes, set[bytes]]:
    """The sheet XML with the given cells' values replaced, and the cells it could not find (a
    sheet written without cell addresses) or would not change (a formula)."""
    done: set[bytes] = set()

    def replace(match: re.Match) -> bytes:
        prefix, attrs, inner = match.group(1).decode(), match.group(2), match.group(3)
        ref = _REF.search(attrs)
        if ref is None or ref.group(1) not in cells or _FORMULA.search(inner):
            return match.group(0)
        done.add(ref.group(1))
        style = _STYLE.search(attrs)
        xf = int(style.group(1)) if style else 0
        return _cell(prefix, ref.group(1), xf, cells[ref.group(1)], styles, date1904)

    return _CELL.sub(replace, xml), set(cells) - done


def _cell(p: str, ref: bytes, xf: int, value: object, styles: StyleSheet, date1904: bool) -> bytes:
    """One cell element, its tags in the sheet's own namespace prefix `p` ("" or "x:")."""
    r = ref.decode()
    if isinstance(value, pd.Timestamp):
        serial = (value - (EPOCH_1904 if date1904 else EPOCH_1900)) / pd.Timedelta(days=1)
        if not date1904 and value < _LEAP_BUG_END:
            serial -= 1  # Excel's 1900 system counts a 29 Feb 1900, as the sheet writer does
        xf = styles.with_number_format(xf, DATE_FORMAT)
        return f'<{p}c r="{r}" s="{xf}"><{p}v>{number_text(serial)}</{p}v></{p}c>'.encode()
    s = f' s="{xf}"' if xf else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<{p}c r="{r}"{s}><{p}v>{number_text(float(value))}</{p}v></{p}c>'.encode()
    text = clean_text(str(value))  # made XML-safe and escaped
    return (f'<{p}c r="{r}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text}</{p}t></{p}is>'
            f'</{p}c>').encode()
