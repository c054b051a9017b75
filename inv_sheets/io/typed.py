"""What a person typed on an output sheet: kept through the refresh that replaces the sheet.

Your own columns. A column with a header in row 1 to the right of an output's table belongs to the
user (a note such as "called supplier 28/11" beside the Reorder table). Before the sheet is
replaced, each of its cells is read with its row's key (KEYS: the SKU, SKU and location, the order
line...); afterwards it goes back on the row that has the same key, wherever the refresh put that
row. Cells keep their style and shared strings; a formula moves with its row, its relative
references following as when Excel sorts. A value whose key is gone is never dropped: it goes to
the Orphaned Notes sheet, with the key it had. The toolkit's own blocks are not user columns: a
Term / Definition glossary is recognised by its two headers side by side, wherever it stands.

Values typed over computed cells. Each refresh leaves a record of what it wrote on each output
sheet (record(): the CRC-32 of the sheet and one per column, kept in a hidden defined name). The
next refresh reads a sheet only when it is no longer as written, and every old value of a changed
column that differs from the new figure at its row's key goes to Orphaned Notes before it is
replaced, with a finding. A figure that merely moved on since is kept too: the record tells which
columns changed, not which cells.

Only the worksheet part of the output sheet changes, as in any refresh.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import pandas as pd
from lxml import etree

from ..contract.issues import Issue, column_letter
from ..contract.schema import OUT_DATE, OUT_TEXT, OutColumn, Output
from ..contract.sheetdata import DEFINITIONS_LINK, SheetData
from .cells import Column, clean_text, encode
from .guard import check_part
from .package import NS_MAIN, Package

_M = f"{{{NS_MAIN}}}"
GLOSSARY_HEADERS = ("Term", "Definition")  # the toolkit's own definitions block, not a user column
_ROW = re.compile(rb'<row r="(\d+)"[^>]*>(.*?)</row>', re.S)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d+"')
_DIMENSION = re.compile(rb'<dimension ref="A1:([A-Z]{1,3})(\d+)"/>')
_CELL = re.compile(rb'<c r="([A-Z]{1,3})\d+".*?(?:</c>|/>)', re.S)
Grid = Callable[[str, str], list[list]]  # (sheet name, its part) -> its values, row by row
RECORDED_COLUMNS = 30  # 8 hex digits each: the record stays within a defined name's 255 characters

# The columns that name a row of each output sheet: a user's value is put back on the row with the
# same values there (the n-th such row, if several share them).
KEYS: dict[str, tuple[str, ...]] = {
    "Stock": ("sku", "location"),
    "Reorder": ("sku", "location"),
    "Purchase Plan": ("supplier", "sku"),
    "Variance": ("date", "location", "sku", "batch"),
    "Count Plan": ("location", "sku"),
    "Expiry": ("sku", "batch", "location"),
    "Bundle Stock": ("bundle_sku",),
    "Channel Stock": ("channel", "sku"),
    "Allocation": ("order", "sku", "location", "bin", "batch"),
    "Pick List": ("location", "bin", "sku", "batch", "order"),
    "Returns": ("view", "reason", "sku", "location"),
    "KPIs": ("week",),
    "Setup Checklist": ("step",),
    "Issues": ("cell", "code"),
    "Orphaned Notes": ("sheet", "key", "column", "kept_on"),
}

ORPHANS = Output("Orphaned Notes", (
    OutColumn("sheet", OUT_TEXT, "Sheet", "the output sheet the value was on"),
    OutColumn("key", OUT_TEXT, "Key", "the row it belonged to (KEYS), which is no longer there"),
    OutColumn("column", OUT_TEXT, "Column", "the header of the column it was in"),
    OutColumn("value", OUT_TEXT, "Value"),
    OutColumn("why", OUT_TEXT, "Why"),
    OutColumn("kept_on", OUT_DATE, "Kept on", "the day the refresh moved it here"),
), "Values from your own columns whose row is gone: kept here, never dropped. Delete a row when done.")


@dataclass
class Cell:
    """One cell of a user column, as read: enough to write it again at another row."""

    column: int
    style: str | None
    kind: str | None  # the t attribute
    value: str | None  # the <v> text
    formula: str | None
    text: str | None  # an inline string's text
    shown: object  # the value as a person sees it (shared strings resolved), for Orphaned Notes


@dataclass
class Before:
    """What an output sheet held before the refresh that the toolkit did not write there."""

    sheet: str
    width: int  # the old table's number of columns
    own: dict[int, Cell]  # the user's columns: column -> header cell
    rows: dict[tuple, list[Cell]] = field(default_factory=dict)  # row key -> its cells in those columns
    origin: dict[tuple, int] = field(default_factory=dict)  # row key -> the Excel row it was on
    typed: dict[str, dict[tuple, str]] = field(default_factory=dict)  # edited computed column -> key -> value
    keys: list[tuple] = field(default_factory=list)  # the key of each row below the header, in order


def record(worksheet: bytes, encoded: Sequence[Column]) -> str:
    """What the refresh wrote on an output sheet, to tell next time whether anyone typed there:
    the CRC-32 of the rendered worksheet (before the user's own columns go back on it, so a sheet
    that has some is always read), then one per table column (at most RECORDED_COLUMNS), from the
    columns as the renderer encoded them (render.SheetParts.encoded)."""
    digests = [_digest(_written(column)) for column in encoded[:RECORDED_COLUMNS]]
    return f"{zlib.crc32(worksheet):08x}:" + "".join(digests)


def read_before(pkg: Package, sheet_part: str, sheet_name: str, output: Output, table_ref: str | None,
                last: str | None, grid: Grid, date1904: bool) -> Before | None:
    """The user's own columns on an output sheet, and the computed columns typed in, or None.

    `last` is the record the previous refresh left (record()); a sheet exactly as it wrote it is
    not read at all. Without a record only the user's own columns are looked for. `grid` gives a
    sheet's values as a person sees them (calamine: shared strings resolved, dates as dates).
    """
    keys = KEYS.get(output.name)
    if keys is None:
        return None
    crc, digests = _parse_record(last)
    if crc is not None and crc == pkg.crc(sheet_part):
        return None  # as the last refresh wrote it: nothing typed
    rows = grid(sheet_name, sheet_part)
    if not rows:
        return None
    width, last_row = _ref_size(table_ref)
    width = width or len(output.columns)
    header = rows[0]
    own = {c: str(v) for c, v in enumerate(header, 1) if c > width and v not in ("", None)}
    if own.get(width + 2, "").startswith(DEFINITIONS_LINK):  # the toolkit's link to the sheet's definitions
        del own[width + 2]
    for c in sorted(own):
        if own.get(c) == GLOSSARY_HEADERS[0] and own.get(c + 1) == GLOSSARY_HEADERS[1]:
            del own[c], own[c + 1]
    checked = range(1, min(width, len(digests)) + 1)
    if not own and not checked:
        return None
    titles = {c: str(v) for c, v in enumerate(header[:width], 1) if v not in ("", None)}
    by_title = {t: c for c, t in titles.items()}
    key_at = [by_title.get(col.title) for col in output.columns if col.name in keys]
    cells = _own_cells(pkg.read(sheet_part), own, rows) if own else {}
    before = Before(sheet_name, width, {c: cells[1][c] for c in own if c in cells.get(1, {})})
    body = rows[1:]
    columns = list(zip(*body))  # calamine's rows are all as wide as the sheet
    texts = {c: _texts(list(columns[c - 1]) if c <= len(columns) else [""] * len(body), date1904)
             for c in {*checked, *filter(None, key_at)}}
    blank = [""] * len(body)
    key_columns = [[_key_text(t) for t in texts[c]] if c else blank for c in key_at]
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(*key_columns) if key_columns else [()] * len(body)):
        n = seen[key] = seen.get(key, 0) + 1
        before.keys.append((*key, n))
        if i + 2 in cells:
            before.rows[before.keys[-1]] = list(cells[i + 2].values())
            before.origin[before.keys[-1]] = i + 2
    in_table = max(last_row - 1, 0)
    for c in checked:
        column = (texts[c] + [""] * in_table)[:in_table]  # the table's rows, as the record covers them
        if _digest(column) != digests[c - 1] and c in titles:
            before.typed[titles[c]] = dict(zip(before.keys, column))
    return before


def new_row_keys(data: SheetData, date1904: bool) -> dict[tuple, int]:
    """Each row key of the sheet about to be written -> its Excel row."""
    frame = data.frame()
    keys = KEYS[data.name]
    columns = []
    for name in keys:
        columns.append([_key_text(text) for text in _written(encode(frame[name], date1904))])
    out: dict[tuple, int] = {}
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(*columns) if columns else [() for _ in range(len(frame))]):
        n = seen[key] = seen.get(key, 0) + 1
        out[(*key, n)] = i + 2
    return out


def lost(before: Before, data: SheetData, date1904: bool, kept_on: dt.date) -> tuple[list[dict], list[Issue]]:
    """What cannot go back where it was: the rows for Orphaned Notes (own values whose row is gone,
    values typed into computed columns that the refresh replaces) and the findings that say so."""
    rows = new_row_keys(data, date1904)
    orphans, findings = _typed_over(before, data, rows, date1904, kept_on)
    for key, cells in before.rows.items():
        if key in rows:
            continue
        for cell in cells:
            title = str(before.own[cell.column].shown)
            orphans.append(_orphan(before.sheet, key, title, cell.shown, "its row is gone", kept_on))
            findings.append(Issue("orphaned-note", ORPHANS.name, None, None,
                                  f"{cell.shown!r} in '{title}' on {before.sheet} belonged to {_show_key(key)}, "
                                  "which is no longer there; it is kept here", value=_plain(cell.shown)))
    return orphans, findings


def put_back(worksheet: bytes, before: Before, data: SheetData, date1904: bool) -> bytes:
    """The rendered worksheet with the user's own columns back, each cell on its row's key."""
    if not before.own:
        return worksheet
    rows = new_row_keys(data, date1904)
    width = len(data.columns)
    used = {_column_index(m.decode()) for m in _CELL_COLUMN.findall(_ROW.search(worksheet).group(2))}
    offsets = {c: c - before.width for c in before.own}
    # Where they were relative to the table's end, unless a block the toolkit writes is there now.
    base = width if not any(width + o in used for o in offsets.values()) else max(used) + 1
    place = {c: base + o for c, o in offsets.items()}

    extra: dict[int, list[tuple[int, bytes]]] = {1: [(place[c], _cell_xml(cell, place[c], 1, 1))
                                                     for c, cell in before.own.items()]}
    for key, cells in before.rows.items():
        row = rows.get(key)
        if row is not None:
            origin = before.origin[key]
            extra.setdefault(row, []).extend((place[c.column], _cell_xml(c, place[c.column], row, origin))
                                             for c in cells)

    def merge(match: re.Match) -> bytes:
        r = int(match.group(1))
        if r not in extra:
            return match.group(0)
        cells = [(_column_index(m.group(1).decode()), m.group(0)) for m in _CELL.finditer(match.group(2))]
        merged = sorted(cells + extra.pop(r), key=lambda pair: pair[0])
        return match.group(0)[: match.start(2) - match.start(0)] + b"".join(x for _, x in merged) + b"</row>"

    worksheet = _ROW.sub(merge, worksheet)
    last = max(place.values())
    dim = _DIMENSION.search(worksheet)
    if dim and _column_index(dim.group(1).decode()) < last:
        worksheet = worksheet[: dim.start(1)] + column_letter(last).encode() + worksheet[dim.end(1):]
    return worksheet


def _typed_over(before: Before, data: SheetData, rows: dict[tuple, int], date1904: bool,
                kept_on: dt.date) -> tuple[list[dict], list[Issue]]:
    """Values typed into computed columns since the last refresh, which this one replaces.

    A column's record says only that something in it changed, so every old value that differs
    from the new figure at its row's key is kept: nothing typed is lost, and a figure that merely
    moved on is kept too.
    """
    orphans: list[dict] = []
    findings: list[Issue] = []
    frame = data.frame()
    for j, column in enumerate(data.columns, 1):
        old = before.typed.get(column.title)
        if not old:
            continue
        new = _written(encode(frame[column.name], date1904))
        changed = 0
        for key, text in old.items():
            row = rows.get(key)
            now = new[row - 2] if row is not None else None
            if text == "" or (now is not None and _same(text, now)):
                continue
            changed += 1
            why = f"typed over the computed '{column.title}'; " + (
                f"the refresh wrote {now or 'nothing'}" if row is not None else "its row is gone")
            orphans.append(_orphan(before.sheet, key, column.title, _shown(text), why, kept_on))
        if changed:
            findings.append(Issue("typed-over-output", before.sheet, 1, column_letter(j),
                                  f"{changed} value(s) in '{column.title}' were changed since the last refresh and are "
                                  "replaced by the computed figures; the old values are on Orphaned Notes. Type your "
                                  "own figures in a column of your own right of the table: it is kept."))
    return orphans, findings


def _orphan(sheet: str, key: tuple, column: str, value: object, why: str, kept_on: dt.date) -> dict:
    return {"sheet": sheet, "key": _show_key(key), "column": column, "value": _plain(value), "why": why,
            "kept_on": pd.Timestamp(kept_on)}


def _show_key(key: tuple) -> str:
    return " / ".join(k for k in key[:-1] if k) or "(no key)"


def orphans_sheet(old: Iterable[dict], new: list[dict]) -> SheetData:
    """The Orphaned Notes sheet: the values kept before, and the ones this refresh added."""
    rows = pd.DataFrame([*old, *new], columns=ORPHANS.column_names())
    return SheetData(ORPHANS, rows)


def read_orphans(grid: Grid, sheet_name: str, sheet_part: str) -> list[dict]:
    """The rows on an existing Orphaned Notes sheet (the user may have deleted some: those stay gone)."""
    names = ORPHANS.column_names()
    out = []
    for values in grid(sheet_name, sheet_part)[1:]:
        row = {name: (values[i] if i < len(values) and values[i] != "" else None) for i, name in enumerate(names)}
        if any(v is not None for v in row.values()):
            out.append(row)
    return out


# Reading cells -------------------------------------------------------------------------------------
def calamine_grid(path: str | os.PathLike) -> Grid:
    """A sheet's values by name and part, as calamine reads them from the file (opened once, when
    first asked; the part is checked against zip bombs first, as every reader's is)."""
    book = None

    def grid(name: str, part: str) -> list[list]:
        nonlocal book
        with zipfile.ZipFile(path) as zf:
            check_part(zf, path, part)
        if book is None:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(os.fspath(path))
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)

    return grid


def _own_cells(xml: bytes, own: dict[int, str], rows: list[list]) -> dict[int, dict[int, Cell]]:
    """The cells of the user's columns, by row and column, found by their references in the XML.

    Only those cells are parsed, so a big output sheet with a short note column is read quickly.
    """
    letters = b"|".join(column_letter(c).encode() for c in sorted(own))
    pattern = re.compile(rb'<c r="(' + letters + rb')(\d+)"(?:[^>]*?/>|[^>]*?>.*?</c>)', re.S)
    masters: dict[str, tuple[str, str]] = {}  # shared formula id -> (formula, the cell it is written in)
    out: dict[int, dict[int, Cell]] = {}
    for match in pattern.finditer(xml):
        column, row = _column_index(match.group(1).decode()), int(match.group(2))
        element = etree.fromstring(match.group(0).replace(b"<c ", b'<c xmlns="' + NS_MAIN.encode() + b'" ', 1))
        shown = rows[row - 1][column - 1] if row <= len(rows) and column <= len(rows[row - 1]) else ""
        cell = _cell(element, column, row, masters, shown)
        if cell.shown not in ("", None) or cell.formula:
            out.setdefault(row, {})[column] = cell
    return out


def _cell(c: etree._Element, column: int, row: int, masters: dict[str, tuple[str, str]], shown: object) -> Cell:
    kind = c.get("t")
    v = c.findtext(_M + "v") or None  # a formula saved without its result may have an empty <v/>
    f = c.find(_M + "f")
    inline = c.find(_M + "is")
    text = "".join(t.text or "" for t in inline.iter(_M + "t")) if inline is not None else None
    formula = None
    if f is not None:
        here = f"{column_letter(column)}{row}"
        if f.text:
            formula = f.text
            if f.get("t") == "shared":
                masters[f.get("si", "")] = (f.text, here)
        elif f.get("t") == "shared" and f.get("si", "") in masters:  # a filled-down copy of its master
            text_of_master, origin = masters[f.get("si", "")]
            formula = _moved(text_of_master, origin, here)
    return Cell(column, c.get("s"), kind, v, formula, text, shown)


def _cell_xml(cell: Cell, column: int, row: int, origin: int) -> bytes:
    """The cell written at its new place; a formula's relative references move with it."""
    ref = f"{column_letter(column)}{row}"
    attrs = f' r="{ref}"' + (f' s="{cell.style}"' if cell.style else "")
    if cell.kind == "inlineStr":
        text = clean_text(cell.text or "")
        return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'.encode()
    body = ""
    kind = cell.kind
    if cell.formula:
        body += f"<f>{clean_text(_moved(cell.formula, column_letter(cell.column) + str(origin), ref))}</f>"
        kind = kind if kind in ("str", "b", "e") else None
    if cell.value is not None:
        body += f"<v>{clean_text(cell.value)}</v>"
    if kind:
        attrs += f' t="{kind}"'
    return f"<c{attrs}>{body}</c>".encode() if body else f"<c{attrs}/>".encode()


def _moved(formula: str, origin: str, to: str) -> str:
    """The formula as Excel would show it after moving its cell from `origin` to `to`."""
    if origin == to:
        return formula
    from openpyxl.formula.translate import Translator

    return Translator("=" + formula, origin=origin).translate_formula(to)[1:]


# Cell texts ------------------------------------------------------------------------------------------
def _texts(values: list, date1904: bool) -> list[str]:
    """Values read back (calamine) as the writer's texts for them (cells.encode): numbers and date
    serials as their <v> text, '' for an empty cell. A column at a time, vectorised where it can."""
    encoded = encode(pd.Series([None if v == "" else v for v in values], dtype=None if values else object), date1904)
    return _written(encoded)


def _key_text(text: str) -> str:
    """A cell text as part of a row key: numbers to 12 significant digits (a save may round them)."""
    try:
        return f"{float(text):.12g}"
    except ValueError:
        return text


def _written(column) -> list[str]:
    """An encoded column as its cells' texts, '' for an empty cell (how _read_text reads them back)."""
    if "" not in column.classes:  # no empty cell (the usual column): the texts as they are
        return column.texts
    return [text if cls else "" for cls, text in zip(column.classes, column.texts)]


def _digest(texts: list[str]) -> str:
    return f"{zlib.crc32(chr(30).join(texts).encode('utf-8', 'surrogatepass')):08x}"


def _same(a: str, b: str) -> bool:
    """Whether two cell texts are the same value (numbers to 12 significant digits)."""
    if a == b:
        return True
    try:
        return f"{float(a):.12g}" == f"{float(b):.12g}"
    except ValueError:
        return False


def _shown(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


def _parse_record(text: str | None) -> tuple[int | None, list[str]]:
    """(worksheet CRC, column digests) from a record, (None, []) when there is none or it is damaged."""
    match = re.fullmatch(r"([0-9a-f]{8}):((?:[0-9a-f]{8})*)", text or "")
    if not match:
        return None, []
    digests = match.group(2)
    return int(match.group(1), 16), [digests[i:i + 8] for i in range(0, len(digests), 8)]


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (str, bool)) else float(value)


def _ref_size(ref: str | None) -> tuple[int, int]:
    """The columns and last row of a table ref such as A1:V20 ((0, 0) when unknown)."""
    match = re.match(r"^\$?A\$?1:\$?([A-Z]{1,3})\$?(\d+)$", ref or "")
    return (_column_index(match.group(1)), int(match.group(2))) if match else (0, 0)


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
