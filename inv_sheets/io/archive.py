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
from xml.sax.saxutils import unescape

import pandas as pd

from ..contract.book import ROW_SPAN, Book, Store, Table
from ..contract.issues import CloseRefused
from ..contract.schema import SHEET
from ..contract.template import plain_value
from .cells import clean_text, number_text
from .package import REL_STYLES, REL_TABLE, Package, rels_name
from .read import is_toolkit_sheet
from .styles import StyleSheet
from .workbook import Workbook, quoted
from .save import FileState, save_atomically
from .write import check_writable

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
        pointers = pointers_into(pkg, wb, {title: table.header_row for title, (_, _, table) in edits.items()})
        if pointers:
            more = f" and {len(pointers) - 5} more" if len(pointers) > 5 else ""
            raise CloseRefused(f"{', '.join(pointers[:5])}{more} point into ledger rows that closing the period "
                               "would move, so they would then show other rows: remove them, or point them at "
                               "whole columns (such as Movements!E:E), then run again")
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


# A formula cell: its reference and the formula's text (up to the cell's end, never into the next).
_F_TEXT = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+\d+)"[^>]*?(?<!/)>(?:(?!</(?:\w+:)?c>).)*?'
                     rb"<(?:\w+:)?f\b[^>]*>([^<]*)</", re.S)
_ANCHORED = {  # what sits at a cell of the ledger sheet itself, and moves away from its row
    "hyperlink": re.compile(rb"<(?:\w+:)?hyperlink\b[^>]*?\bref=\"([A-Z]+\d+(?::[A-Z]+\d+)?)\""),
    "conditional format": re.compile(rb"<(?:\w+:)?conditionalFormatting\b[^>]*?\bsqref=\"([^\"]+)\""),
    "data validation": re.compile(rb"<(?:\w+:)?dataValidation\b[^>]*?\bsqref=\"([^\"]+)\""),
}
_COMMENT = re.compile(rb"<(?:\w+:)?comment\b[^>]*?\bref=\"([A-Z]+\d+)\"")
_CELL_ROWS = re.compile(r"\$?[A-Z]{1,3}\$?(\d+)")


def pointers_into(pkg: Package, wb: Workbook, ledgers: dict[str, int]) -> list[str]:
    """Everything that refers to a row of the ledger sheets `ledgers` (title -> header row) below
    its header: formulas on other sheets and defined names (references into the sheet), and the
    sheet's own hyperlinks, comments, conditional formats and data validations that start on such
    a row. Closing a period moves every one of those rows, and none of these would move with it.

    A range that starts at or above the header and runs on down (a whole column, A2:A1048576) is
    kept as it is and still covers the ledger, so it is not listed."""
    found: list[str] = []
    refs = {title: re.compile(rf"(?:'{re.escape(title.replace(chr(39), chr(39) * 2))}'|"
                              rf"(?<![\w.']){re.escape(title)})!(\$?[A-Z]{{1,3}}\$?\d+(?::\$?[A-Z]{{1,3}}\$?\d+)?)")
            for title in ledgers}

    def moved(title: str, text: str) -> bool:
        """Whether a reference text (B5, A2:C9, "A2:A9 C4") starts on a ledger row below the header."""
        starts = [int(m.group(1)) for part in text.split() for m in [_CELL_ROWS.match(part)] if m]
        return any(r > ledgers[title] + (1 if ":" in text else 0) for r in starts)

    for sheet in wb.sheets():
        xml = pkg.read(sheet.part) if sheet.part in pkg else b""
        if sheet.name in ledgers:
            for what, pattern in _ANCHORED.items():
                for m in pattern.finditer(xml):
                    if moved(sheet.name, m.group(1).decode()):
                        found.append(f"{quoted(sheet.name)}!{m.group(1).decode().split()[0]} ({what})")
            for rel in pkg.rels(sheet.part) if rels_name(sheet.part) in pkg else ():
                if rel.type.endswith("/comments") and rel.target in pkg:
                    for m in _COMMENT.finditer(pkg.read(rel.target)):
                        if moved(sheet.name, m.group(1).decode()):
                            found.append(f"{quoted(sheet.name)}!{m.group(1).decode()} (a comment)")
            continue
        if is_toolkit_sheet(sheet.name) or not _FORMULA.search(xml):  # outputs are written anew
            continue
        for m in _F_TEXT.finditer(xml):
            formula = unescape(m.group(2).decode("utf-8", "replace"))
            for title, ref in refs.items():
                if any(moved(title, r.group(1).replace("$", "")) for r in ref.finditer(formula)):
                    found.append(f"{quoted(sheet.name)}!{m.group(1).decode()} (a formula)")
    for name in wb.defined_names():
        for title, ref in refs.items():
            if any(moved(title, r.group(1).replace("$", "")) for r in ref.finditer(name.text or "")):
                found.append(f"the defined name {name.get('name')}")
    return found


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

    previous = 0
    for m in _ROW.finditer(body):
        row = m.group(0)
        number = _ROW_NUMBER.search(row[:row.index(b">")])
        # A row may leave out its number (valid, if rare): it is then the row after the one before.
        r = int(number.group(1)) if number is not None else previous + 1
        previous = r
        if r in drop:
            dropped += 1
            continue
        if r > header_row and not placed:
            place()
            placed = True
        new = r - dropped + (shift if r > header_row else 0)
        out.append(row if new == r and number is not None else _numbered(row, new))
        last = max(last, new)
    if not placed:
        place()
    return head + open_tag + b"".join(out) + b"</" + prefix + b"sheetData>" + tail, last


def _numbered(row: bytes, number: int) -> bytes:
    """A row's XML with its row number (and its cells' references) set to `number`."""
    n = str(number).encode()
    end = row.index(b">")
    start_tag = row[:end]
    if _ROW_NUMBER.search(start_tag):
        start_tag = _ROW_NUMBER.sub(b'r="' + n + b'"', start_tag, count=1)
    else:  # a row that left its number out gets one: the rows around it may have moved
        start_tag = re.sub(rb"^<(?:\w+:)?row\b", lambda m: m.group(0) + b' r="' + n + b'"', start_tag)
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
