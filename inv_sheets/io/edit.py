"""Change individual cell values of the user's own sheets, and nothing else (for `normalise`).

Each changed cell keeps its place and its style; only its value (and, for a text date made a real
date, a number format derived from its own style) changes. Text is written as an inline string, so
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

from ..contract.issues import NotAWorkbookError
from .cells import _LEAP_BUG_END, EPOCH_1900, EPOCH_1904, clean_text, number_text
from .package import Package
from .styles import StyleSheet
from .workbook import Workbook
from .write import FileState, save_atomically, source_and_target

DATE_FORMAT = "yyyy-mm-dd"
_CELL = re.compile(rb"<c\b([^>]*?)(/>|>.*?</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')


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
            pkg.write(sheet.part, _edit(pkg.read(sheet.part), cells, styles, book.date1904))
            parts.append(sheet.part)
        pkg.write(styles_part, styles.to_xml())
        _, kept = save_atomically(pkg, source, target, state, backup, parts)
    return target, kept


def _styles_part(book: Workbook) -> str:
    from .package import REL_STYLES

    found = book.rels.of_type(REL_STYLES)
    if not found:
        raise NotAWorkbookError("the workbook has no styles part")
    return found[0].target


def _edit(xml: bytes, cells: dict[bytes, object], styles: StyleSheet, date1904: bool) -> bytes:
    """The sheet XML with the given cells' values replaced."""
    def replace(match: re.Match) -> bytes:
        attrs = match.group(1)
        ref = _REF.search(attrs)
        if ref is None or ref.group(1) not in cells:
            return match.group(0)
        style = _STYLE.search(attrs)
        xf = int(style.group(1)) if style else 0
        return _cell(ref.group(1), xf, cells[ref.group(1)], styles, date1904)

    return _CELL.sub(replace, xml)


def _cell(ref: bytes, xf: int, value: object, styles: StyleSheet, date1904: bool) -> bytes:
    r = ref.decode()
    if isinstance(value, pd.Timestamp):
        serial = (value - (EPOCH_1904 if date1904 else EPOCH_1900)) / pd.Timedelta(days=1)
        if not date1904 and value < _LEAP_BUG_END:
            serial -= 1  # Excel's 1900 system counts a 29 Feb 1900, as the sheet writer does
        xf = styles.with_number_format(xf, DATE_FORMAT)
        return f'<c r="{r}" s="{xf}"><v>{number_text(serial)}</v></c>'.encode()
    s = f' s="{xf}"' if xf else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{r}"{s}><v>{number_text(float(value))}</v></c>'.encode()
    text = clean_text(str(value))  # made XML-safe and escaped
    return f'<c r="{r}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'.encode()
