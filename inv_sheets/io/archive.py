"""The files of closing a period: the archive workbook, and the live ledger sheets without their past.

`write_archive` writes the archived rows, as the user typed them, into a new workbook (openpyxl's
streaming writer; a sheet holds at most 1,048,575 rows, so a longer archive continues on
"Movements 2", which the reader joins back into one ledger).

`rewrite_live` edits the live workbook's package like a refresh does: only the ledger sheets' parts
change (rows removed, the rows below moved up, opening rows inserted under the header with the
styles of the row they replace), plus the ranges that span those rows (the sheet's dimension and
filter, its tables) and styles.xml (append-only) when a date style must be added. Every other part
keeps its bytes; the save is atomic.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from ..contract.book import ROW_SPAN, Book, Store, Table
from ..contract.issues import CloseRefused
from ..contract.schema import SHEET
from ..contract.template import plain_value
from .cells import clean_text, number_text
from .package import REL_STYLES, REL_TABLE, Package
from .styles import StyleSheet
from .workbook import Workbook
from .write import FileState, check_writable, save_atomically

SHEET_ROWS = 1_048_575  # data rows under one header row
DATE_FORMAT = "yyyy-mm-dd"
_SHEET_DATA = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/>|>)")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.DOTALL)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL_REF = re.compile(rb'(<(?:\w+:)?c\b[^>]*?\br=")([A-Z]+)\d+(")')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_RANGE_END = re.compile(rb'(<(?:\w+:)?(?:dimension|autoFilter)\b[^>]*?\bref="[A-Z]+\d+:[A-Z]+)(\d+)(")')
_TABLE_REF = re.compile(rb'(\bref="[A-Z]+\d+:[A-Z]+)(\d+)(")')


def write_archive(target: Path, book: Book, closing) -> None:
    """The archived Movements and Counts rows, as typed, and the opening rows that replaced them."""
    from openpyxl import Workbook as OpenpyxlWorkbook

    wb = OpenpyxlWorkbook(write_only=True)
    for name, rows in (("Movements", closing.movements), ("Counts", closing.counts)):
        table = book.table(name)
        if table is None:
            continue
        columns = sorted(table.letters, key=lambda c: (len(table.letters[c]), table.letters[c]))
        data = table.data.loc[rows, [c for c in columns if c in table.data]]
        for k, start in enumerate(range(0, max(len(data), 1), SHEET_ROWS)):
            ws = wb.create_sheet(name if k == 0 else f"{name} {k + 1}")
            ws.append([table.headers.get(c, SHEET[name].column(c).title) for c in columns])
            for values in data.iloc[start:start + SHEET_ROWS].itertuples(index=False, name=None):
                ws.append([plain_value(v) for v in values])
    ws = wb.create_sheet("Opening Balances")
    opening = closing.opening
    ws.append([SHEET["Movements"].column(c).title for c in opening.columns])
    for values in opening.itertuples(index=False, name=None):
        ws.append([plain_value(v) for v in values])
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)


def rewrite_live(source: Path, book: Book, store: Store, closing) -> None:
    """Remove the archived rows from the live ledger sheets and put the opening rows at the top."""
    check_writable(source)
    state = FileState.of(source)
    edits: dict[str, tuple[set[int], pd.DataFrame | None, Table]] = {}
    for name, rows in (("Movements", closing.movements), ("Counts", closing.counts)):
        table = book.table(name)
        if table is None:
            continue
        numbers = pd.Index(rows).to_numpy(dtype="int64")
        for offset, title in [(0, table.title)] + [(p.offset, p.title) for p in table.parts]:
            mine = numbers[(numbers >= offset) & (numbers < offset + ROW_SPAN)] - offset
            opening = closing.opening if (name == "Movements" and offset == 0) else None
            if len(mine) or (opening is not None and len(opening)):
                edits[title] = (set(mine.tolist()), opening, table)
    with Package(source) as pkg:
        wb = Workbook(pkg)
        styles_part = wb.rels.of_type(REL_STYLES)[0].target
        styles = StyleSheet(pkg.read(styles_part))
        styles_used = False
        parts = []
        for title, (drop, opening, table) in edits.items():
            sheet = wb.find(title)
            if sheet is None:
                raise CloseRefused(f"sheet '{title}' disappeared while it was being read; run again")
            xml = pkg.read(sheet.part)
            if _FORMULA.search(xml):
                raise CloseRefused(f"sheet '{title}' holds formulas, whose references would shift when rows "
                                   "are removed: replace them with their values first (Paste Special > Values)")
            new_rows: list[bytes] = []
            if opening is not None:
                template = _template_styles(xml, table.header_row)
                new_rows, added = _opening_xml(opening, table, template, styles, wb.date1904)
                styles_used |= added
            xml, last = _rewrite_rows(xml, drop, new_rows, table.header_row)
            pkg.write(sheet.part, _ends_at(_RANGE_END, xml, max(last, table.header_row)))
            parts.append(sheet.part)
            for rel in pkg.rels(sheet.part).of_type(REL_TABLE):  # a table keeps at least one data row
                pkg.write(rel.target, _ends_at(_TABLE_REF, pkg.read(rel.target), max(last, table.header_row + 1)))
        if styles_used:
            pkg.write(styles_part, styles.to_xml())
        save_atomically(pkg, source, source, state, False, parts)


def _ends_at(pattern: re.Pattern, xml: bytes, row: int) -> bytes:
    """The XML with the last row of every range the pattern finds set to `row`."""
    end = str(row).encode()
    return pattern.sub(lambda m: m.group(1) + end + m.group(3), xml)


def _rewrite_rows(xml: bytes, drop: set[int], insert: list[bytes], header_row: int) -> tuple[bytes, int]:
    """The sheet XML with the `drop` rows removed, the rows below moved up, and `insert` (row XML
    without numbers, see _opening_xml) placed just under the header. Returns it and the last row."""
    found = _SHEET_DATA.search(xml)
    if found is None:
        return xml, header_row
    prefix = found.group(1)
    if found.group(2) == b"/>":
        head, tail, body = xml[:found.start()], xml[found.end():], b""
        open_tag = b"<" + prefix + b"sheetData>"
    else:
        close = xml.rindex(b"</" + prefix + b"sheetData>")
        head, body, tail = xml[:found.start()], xml[found.end():close], xml[close + len(b"</" + prefix + b"sheetData>"):]
        open_tag = found.group(0)
    out: list[bytes] = []
    dropped, placed, last = 0, False, header_row
    shift = len(insert)

    def place() -> None:
        nonlocal last
        for k, row in enumerate(insert, 1):
            out.append(_numbered(row, header_row + k))
        last = max(last, header_row + len(insert))

    for m in _ROW.finditer(body):
        row = m.group(0)
        number = _ROW_NUMBER.search(row[:row.index(b">")])
        if number is None:
            raise ValueError("a row without a row number")
        r = int(number.group(1))
        if r in drop:
            dropped += 1
            continue
        if r > header_row and not placed:
            place()
            placed = True
        new = r - dropped + (shift if r > header_row else 0)
        out.append(row if new == r else _numbered(row, new))
        last = max(last, new)
    if not placed:
        place()
    return head + open_tag + b"".join(out) + b"</" + prefix + b"sheetData>" + tail, last


def _numbered(row: bytes, number: int) -> bytes:
    """A row's XML with its row number (and its cells' references) set to `number`."""
    n = str(number).encode()
    end = row.index(b">")
    start_tag = _ROW_NUMBER.sub(b'r="' + n + b'"', row[:end], count=1)
    rest = _CELL_REF.sub(lambda m: m.group(1) + m.group(2) + n + m.group(3), row[end:])
    return start_tag + rest


def _template_styles(xml: bytes, header_row: int, rows: int = 1000) -> dict[str, int]:
    """The style of each column's cells (its first cell in the first `rows` data rows): what new
    rows look like. A column with no cell there gets a style made for it."""
    styles: dict[str, int] = {}
    for k, m in enumerate(_ROW.finditer(xml)):
        row = m.group(0)
        number = _ROW_NUMBER.search(row[:row.index(b">")])
        if number is None or int(number.group(1)) <= header_row:
            continue
        if k > rows:
            break
        for cell in re.finditer(rb"<(?:\w+:)?c\b([^>]*)", row):
            ref = re.search(rb'\br="([A-Z]+)\d+"', cell.group(1))
            style = re.search(rb'\bs="(\d+)"', cell.group(1))
            if ref:
                styles.setdefault(ref.group(1).decode(), int(style.group(1)) if style else 0)
    return styles


def _opening_xml(opening: pd.DataFrame, table: Table, template: dict[str, int], styles: StyleSheet,
                 date1904: bool) -> tuple[list[bytes], bool]:
    """The opening rows as row XML (numbered later); whether a style had to be added for dates."""
    from ..contract.schema import DATE, NUMBER

    epoch = pd.Timestamp("1904-01-01") if date1904 else pd.Timestamp("1899-12-30")
    columns = sorted((c for c in opening.columns if c in table.letters),
                     key=lambda c: (len(table.letters[c]), table.letters[c]))  # cells in column order
    kinds = {c: SHEET["Movements"].column(c).type for c in columns}
    xfs: dict[str, int] = {}
    added = False
    for c in columns:
        letter = table.letters[c]
        xf = template.get(letter, 0)
        if kinds[c] == DATE and letter not in template:
            xf, added = styles.with_number_format(xf, DATE_FORMAT), True
        xfs[c] = xf
    rows = []
    for values in opening[columns].itertuples(index=False, name=None):
        cells = []
        for c, v in zip(columns, values):
            if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                continue
            ref = f"{table.letters[c]}0"  # numbered when placed
            s = f' s="{xfs[c]}"' if xfs[c] else ""
            if kinds[c] == DATE:
                serial = (pd.Timestamp(v) - epoch) / pd.Timedelta(days=1)
                cells.append(f'<c r="{ref}"{s}><v>{number_text(serial)}</v></c>')
            elif kinds[c] == NUMBER:
                cells.append(f'<c r="{ref}"{s}><v>{number_text(float(v))}</v></c>')
            else:
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{clean_text(str(v))}</t></is></c>')
        rows.append(('<row r="0">' + "".join(cells) + "</row>").encode())
    return rows, added
