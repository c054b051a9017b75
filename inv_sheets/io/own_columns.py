"""Your own columns beside an output table: read before a refresh replaces the sheet, put back after.

A column with a header in row 1 to the right of an output's table belongs to the user (a note such
as "called supplier 28/11" beside the Reorder table). Before the sheet is replaced, each of its
cells is read with its row's key (KEYS: the SKU, SKU and location, the order line...); afterwards
it goes back on the row that has the same key, wherever the refresh put that row. A value whose
key is gone is never dropped: it goes to the Orphaned Notes sheet, with the key it had.

The toolkit's own blocks are not user columns: a Term / Definition glossary is recognised by its
two headers side by side, wherever it stands, so a glossary written by any version is left out.

Cells keep their style; a formula moves with its row (its relative references follow, as when
Excel sorts); text typed into a cell keeps its shared string. Only the worksheet part of the
output sheet changes, as in any refresh.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd
from lxml import etree

from ..contract.issues import Issue, column_letter
from ..contract.schema import OUT_DATE, OUT_TEXT, OutColumn, Output
from ..contract.sheetdata import SheetData
from .cells import clean_text, encode
from .package import NS_MAIN, Package

_M = f"{{{NS_MAIN}}}"
REL_SHARED_STRINGS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
GLOSSARY_HEADERS = ("Term", "Definition")  # the toolkit's own definitions block, not a user column
_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_ROW = re.compile(rb'<row r="(\d+)"[^>]*>(.*?)</row>', re.S)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d+"')
_DIMENSION = re.compile(rb'<dimension ref="A1:([A-Z]{1,3})(\d+)"/>')

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
class OwnColumns:
    """The user's columns of one output sheet, as they were before the refresh."""

    sheet: str
    width: int  # the old table's number of columns
    headers: dict[int, Cell]  # column -> header cell
    rows: dict[tuple, list[Cell]] = field(default_factory=dict)  # row key -> its cells
    origin: dict[tuple, int] = field(default_factory=dict)  # row key -> the Excel row it was on


def read_own_columns(pkg: Package, sheet_part: str, sheet_name: str, output: Output,
                     table_ref: str | None) -> OwnColumns | None:
    """The user's columns right of the output table on `sheet_part`, or None when there are none.

    Only the header row is read unless a user column is there, so a plain refresh pays nothing.
    """
    keys = KEYS.get(output.name)
    if keys is None:
        return None
    width = _ref_width(table_ref) or len(output.columns)
    strings = _SharedStrings(pkg)
    rows = _rows(pkg.read(sheet_part), strings)
    first = next(rows, None)
    if first is None or first[0] != 1:
        return None
    header = first[1]
    own = {c: cell for c, cell in header.items() if c > width and cell.shown not in (None, "")}
    for c, cell in list(own.items()):
        if cell.shown == GLOSSARY_HEADERS[0] and getattr(own.get(c + 1), "shown", None) == GLOSSARY_HEADERS[1]:
            del own[c], own[c + 1]
    if not own:
        return None
    titles = {str(cell.shown): c for c, cell in header.items() if c <= width and cell.shown not in (None, "")}
    key_at = [titles.get(col.title) for col in output.columns if col.name in keys]
    found = OwnColumns(sheet_name, width, own)
    seen: dict[tuple, int] = {}
    for r, cells in rows:
        values = [cells.get(c) for c in cells if c in own]
        if not values:
            continue
        key = tuple(_canonical(cells[c].shown if c in cells else None) if c else "" for c in key_at)
        n = seen[key] = seen.get(key, 0) + 1
        found.rows[(*key, n)] = values
        found.origin[(*key, n)] = r
    return found


def new_row_keys(data: SheetData, date1904: bool) -> dict[tuple, int]:
    """Each row key of the sheet about to be written -> its Excel row."""
    frame = data.frame()
    keys = KEYS[data.name]
    columns = []
    for name in keys:
        kind = next(c.kind for c in data.columns if c.name == name)
        encoded = encode(frame[name], date1904)
        columns.append([_canonical_encoded(cls, text, kind) for cls, text in zip(encoded.classes, encoded.texts)])
    out: dict[tuple, int] = {}
    seen: dict[tuple, int] = {}
    for i, key in enumerate(zip(*columns) if columns else [() for _ in range(len(frame))]):
        n = seen[key] = seen.get(key, 0) + 1
        out[(*key, n)] = i + 2
    return out


def put_back(worksheet: bytes, own: OwnColumns, data: SheetData, date1904: bool,
             kept_on: dt.date) -> tuple[bytes, list[dict], list[Issue]]:
    """The rendered worksheet with the user's columns back at their rows' keys.

    Returns the worksheet, the values whose key is gone (rows for Orphaned Notes) and a finding
    for each of them.
    """
    rows = new_row_keys(data, date1904)
    width = len(data.columns)
    used = {_column_index(m.decode()) for m in _CELL_COLUMN.findall(_ROW.search(worksheet).group(2))}
    offsets = {c: c - own.width for c in own.headers}
    base = width if not any(width + o in used for o in offsets.values()) else max(used) + 1
    place = {c: base + o for c, o in offsets.items()}

    extra: dict[int, list[tuple[int, bytes]]] = {1: [(place[c], _cell_xml(cell, place[c], 1, 1)) for c, cell in own.headers.items()]}
    orphans, findings = [], []
    for key, cells in own.rows.items():
        row = rows.get(key)
        if row is None:
            for cell in cells:
                title = own.headers[cell.column].shown
                orphans.append({"sheet": own.sheet, "key": " / ".join(k for k in key[:-1] if k) or "(no key)",
                                "column": str(title), "value": _plain(cell.shown), "why": "its row is gone",
                                "kept_on": pd.Timestamp(kept_on)})
                findings.append(Issue("orphaned-note", ORPHANS.name, None, None,
                                      f"{own.sheet}: {cell.shown!r} in '{title}' belonged to "
                                      f"{' / '.join(k for k in key[:-1] if k)}, no longer on the sheet; "
                                      "it is kept on Orphaned Notes", value=cell.shown))
            continue
        origin = own.origin[key]
        extra.setdefault(row, []).extend((place[c.column], _cell_xml(c, place[c.column], row, origin)) for c in cells)

    def merge(match: re.Match) -> bytes:
        r = int(match.group(1))
        if r not in extra:
            return match.group(0)
        cells = [(_column_index(m.group(1).decode()), m.group(0))
                 for m in re.finditer(rb'<c r="([A-Z]{1,3})\d+".*?(?:</c>|/>)', match.group(2), re.S)]
        merged = sorted(cells + extra.pop(r), key=lambda pair: pair[0])
        return match.group(0)[: match.start(2) - match.start(0)] + b"".join(x for _, x in merged) + b"</row>"

    worksheet = _ROW.sub(merge, worksheet)
    last = column_letter(max(place.values()))
    dim = _DIMENSION.search(worksheet)
    if dim and _column_index(dim.group(1).decode()) < max(place.values()):
        worksheet = worksheet[: dim.start(1)] + last.encode() + worksheet[dim.end(1):]
    return worksheet, orphans, findings


def orphans_sheet(old: Iterable[dict], new: list[dict]) -> SheetData:
    """The Orphaned Notes sheet: the values kept before, and the ones this refresh added."""
    rows = pd.DataFrame([*old, *new], columns=ORPHANS.column_names())
    return SheetData(ORPHANS, rows)


def read_orphans(pkg: Package, sheet_part: str) -> list[dict]:
    """The rows on an existing Orphaned Notes sheet (the user may have deleted some: those stay gone)."""
    names = ORPHANS.column_names()
    out = []
    for r, cells in _rows(pkg.read(sheet_part), _SharedStrings(pkg)):
        if r == 1:
            continue
        row = {name: cells[i].shown if i in cells else None for i, name in enumerate(names, 1)}
        if any(v not in (None, "") for v in row.values()):
            if isinstance(row["kept_on"], (int, float)):
                row["kept_on"] = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(row["kept_on"]))
            out.append(row)
    return out


# Reading cells -------------------------------------------------------------------------------------
class _SharedStrings:
    """The workbook's shared strings, read only if a cell needs one."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self._texts: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._texts is None:
            self._texts = []
            from .workbook import Workbook

            found = Workbook(self.pkg).rels.of_type(REL_SHARED_STRINGS)
            if found and found[0].target in self.pkg:
                for si in self.pkg.xml(found[0].target).iterfind(_M + "si"):
                    # The text runs, not the phonetic guides (rPh) Japanese workbooks carry.
                    self._texts.append("".join(t.text or "" for t in si.iter(_M + "t")
                                               if t.getparent().tag != _M + "rPh"))
        return self._texts[index] if 0 <= index < len(self._texts) else ""


def _rows(xml: bytes, strings: _SharedStrings):
    """(Excel row, {column: Cell}) for every row of a worksheet, streamed."""
    import io

    masters: dict[str, tuple[str, str]] = {}  # shared formula id -> (formula, the cell it is written in)
    for n, (_, row) in enumerate(etree.iterparse(io.BytesIO(xml), events=("end",), tag=_M + "row",
                                                 resolve_entities=False, no_network=True), 1):
        r = int(row.get("r", n))
        cells = {}
        for i, c in enumerate(row.iterfind(_M + "c"), 1):
            match = _REF.match(c.get("r", ""))
            column = _column_index(match.group(1)) if match else i
            cells[column] = _cell(c, column, r, strings, masters)
        row.clear()
        yield r, cells


def _cell(c: etree._Element, column: int, row: int, strings: _SharedStrings,
          masters: dict[str, tuple[str, str]]) -> Cell:
    kind = c.get("t")
    v = c.findtext(_M + "v") or None  # a formula saved without its result may have an empty <v/>
    f = c.find(_M + "f")
    inline = c.find(_M + "is")
    text = "".join(t.text or "" for t in inline.iter(_M + "t")) if inline is not None else None
    if kind == "s" and v is not None:
        shown: object = strings[int(v)]
    elif kind == "inlineStr":
        shown = text
    elif kind in ("str", "e"):
        shown = v
    elif kind == "b":
        shown = v == "1"
    elif v is not None:
        try:
            shown = float(v)
        except ValueError:
            shown = v
    else:
        shown = None
    formula = None
    if f is not None:
        here = f"{column_letter(column)}{row}"
        if f.text:
            formula = f.text
            if f.get("t") == "shared":
                masters[f.get("si", "")] = (f.text, here)
        elif f.get("t") == "shared" and f.get("si", "") in masters:  # a filled-down copy of its master
            text, origin = masters[f.get("si", "")]
            formula = _moved(text, origin, here)
    return Cell(column, c.get("s"), kind, v, formula, text, shown)


def _cell_xml(cell: Cell, column: int, row: int, origin: int) -> bytes:
    """The cell written at its new place; a formula's relative references move with it."""
    ref = f"{column_letter(column)}{row}"
    attrs = f' r="{ref}"' + (f' s="{cell.style}"' if cell.style else "")
    if cell.kind == "inlineStr":
        return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{clean_text(cell.text or "")}</t></is></c>'.encode()
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


# Keys ------------------------------------------------------------------------------------------------
def _canonical(value: object) -> str:
    """A key value as text that reads the same from the old sheet and from the new rows."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _canonical_encoded(cls: str, text: str, kind: str) -> str:
    if cls in ("n", "d"):
        return f"{float(text):.12g}"
    return text if cls else ""


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (str, bool)) else float(value)


def _ref_width(ref: str | None) -> int:
    """The number of columns of a table ref such as A1:V20 (0 when unknown)."""
    match = re.match(r"^\$?A\$?1:\$?([A-Z]{1,3})\$?\d+$", ref or "")
    return _column_index(match.group(1)) if match else 0


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
