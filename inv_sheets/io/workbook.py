"""xl/workbook.xml: the sheet list, the ownership markers, defined names and calculation settings.

Ownership: each sheet the toolkit writes is marked by a hidden, workbook-scoped defined name
`_invsheets_<Output>` (e.g. `_invsheets_PurchasePlan`) that refers to `'<sheet>'!$A$1`. Excel keeps
a defined name pointing at its sheet when the user renames the sheet, and turns it into `#REF!` when
the sheet is deleted, so the marker follows the sheet and never claims a sheet the user made: a
user's own sheet called "Stock" carries no marker and is never overwritten. A marker whose sheet is
gone is dropped and the output is written as a new sheet. A marker is not trusted alone: the sheet
it points at must hold the output's table and never be an input sheet (`is_output_sheet`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from ..contract.schema import OUTPUT, match_sheet
from .package import NS_MAIN, NS_R, REL_TABLE, REL_WORKSHEET, Package, Rel, insert_in_order, rels_name, to_xml

_M = f"{{{NS_MAIN}}}"
MARKER_PREFIX = "_invsheets_"
PRINT_NAMES = ("_xlnm.Print_Area", "_xlnm.Print_Titles")
RECORD_PREFIX = "_invrecord_"
_MARKER_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!")
# CT_Workbook child order, for inserting <definedNames> or <calcPr> where the schema wants them.
_BOOK_ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
               "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews",
               "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects",
               "extLst"]


def holds_output(output: str, sheet_name: str, table_columns: Callable[[], set[str]]) -> bool:
    """Whether a sheet a marker points at really holds the output (Workbook.is_output_sheet says
    why a marker alone is not enough). `table_columns` gives the casefolded column names of the
    sheet's Excel tables; it is asked only when the sheet's name leaves the question open. The file
    writer and the Refresh button (excel/live.py) both decide with this one rule."""
    if match_sheet(sheet_name) is not None:
        return False
    declared = OUTPUT.get(output)
    if declared is None:
        return sheet_name.startswith("_inv")
    titles = {c.title.casefold() for c in declared.columns}
    return len(titles & table_columns()) * 2 >= len(titles)


def marker_name(output: str) -> str:
    """The defined name that marks the sheet of an output: Purchase Plan -> _invsheets_PurchasePlan."""
    return MARKER_PREFIX + re.sub(r"\W", "", output)


def record_name(output: str) -> str:
    """The defined name holding what the last refresh wrote on an output's sheet (io.typed.record)."""
    return RECORD_PREFIX + re.sub(r"\W", "", output)


def quoted(sheet: str) -> str:
    """A sheet name as a reference, always quoted (valid for any name)."""
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class Sheet:
    """One <sheet> entry of the workbook and the part it points at."""

    element: etree._Element
    part: str

    @property
    def name(self) -> str:
        return self.element.get("name", "")

    @property
    def rid(self) -> str:
        return self.element.get(f"{{{NS_R}}}id", "")

    @property
    def sheet_id(self) -> int:
        return int(self.element.get("sheetId", "0"))


class Workbook:
    """The workbook part, editable."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        self.part = pkg.main_part()
        self.root = pkg.xml(self.part)
        self.rels = pkg.rels(self.part)

    @property
    def date1904(self) -> bool:
        pr = self.root.find(_M + "workbookPr")
        return pr is not None and pr.get("date1904", "0").lower() in ("1", "true")

    def to_xml(self) -> bytes:
        return to_xml(self.root)

    # Sheets ---------------------------------------------------------------------------------------
    def _sheets_element(self) -> etree._Element:
        return self._child("sheets")

    def sheets(self) -> list[Sheet]:
        out = []
        rels: dict[str, Rel] = {}
        for rel in self.rels:  # one pass, not one per sheet; the first of a repeated id, as Rels.get
            rels.setdefault(rel.id, rel)
        for el in self._sheets_element().iterfind(_M + "sheet"):
            rel = rels.get(el.get(f"{{{NS_R}}}id", ""))
            out.append(Sheet(el, rel.target if rel and not rel.external else ""))
        return out

    def worksheet_names(self) -> list[str]:
        """Names of the worksheets (not chart sheets), in tab order."""
        types = {rel.id: rel.type for rel in self.rels}
        return [s.name for s in self.sheets() if types.get(s.rid) == REL_WORKSHEET]

    def find(self, name: str) -> Sheet | None:
        """The sheet of that name, compared as Excel does (case-insensitive)."""
        return next((s for s in self.sheets() if s.name.casefold() == name.casefold()), None)

    def add_sheet(self, name: str, part: str, after: Sheet | None = None, before: Sheet | None = None) -> Sheet:
        """Add a sheet (after `after`, else before `before`, else at the end): the next unused
        sheetId and the first unused rId (never renumbering). Positions past it shift, in
        sheet-scoped names and the window."""
        rid = self.rels.add(REL_WORKSHEET, part)
        sheet_id = max((s.sheet_id for s in self.sheets()), default=0) + 1
        el = etree.Element(_M + "sheet")
        el.set("name", name)
        el.set("sheetId", str(sheet_id))
        el.set(f"{{{NS_R}}}id", rid)
        if after is not None:
            after.element.addnext(el)
        elif before is not None:
            before.element.addprevious(el)
        else:
            self._sheets_element().append(el)
        sheet = Sheet(el, part)
        position = self.sheets().index(sheet)
        if position < len(self.sheets()) - 1:
            self._shift_positions(position, +1)
        return sheet

    def _shift_positions(self, position: int, by: int) -> None:
        """Sheet indexes at or past `position` move by `by`: sheet-scoped names, active and first tab."""
        for dn in self.defined_names():
            local = dn.get("localSheetId")
            if local is not None and int(local) >= position:
                dn.set("localSheetId", str(int(local) + by))
        for view in self.root.iterfind(f"{_M}bookViews/{_M}workbookView"):
            for attr in ("activeTab", "firstSheet"):
                if view.get(attr) is not None and int(view.get(attr, "0")) >= position:
                    view.set(attr, str(int(view.get(attr, "0")) + by))

    @property
    def structure_locked(self) -> bool:
        """Whether the workbook's structure is protected (no sheet may be added, removed or moved)."""
        protection = self.root.find(_M + "workbookProtection")
        return protection is not None and protection.get("lockStructure", "0").lower() in ("1", "true")

    def owned_sheets(self) -> list[Sheet]:
        """The sheets, in tab order, that an ownership marker points at."""
        marked = set()
        for dn in self.defined_names():
            if dn.get("name", "").startswith(MARKER_PREFIX) and dn.get("localSheetId") is None:
                match = _MARKER_REF.match((dn.text or "").strip())
                if match:
                    marked.add((match.group(1).replace("''", "'") if match.group(1) else match.group(2)).casefold())
        return [s for s in self.sheets() if s.name.casefold() in marked]

    def set_hidden(self, sheet: Sheet, hidden: bool) -> None:
        if hidden:
            sheet.element.set("state", "hidden")
        elif "state" in sheet.element.attrib:
            del sheet.element.attrib["state"]

    # Defined names and ownership ---------------------------------------------------------------------
    def defined_names(self) -> list[etree._Element]:
        names = self.root.find(_M + "definedNames")
        return [] if names is None else list(names.iterfind(_M + "definedName"))

    def owned(self, output: str) -> Sheet | None:
        """The sheet the output's marker points at, if it still exists and its content says it is
        that output (see `is_output_sheet`)."""
        for dn in self.defined_names():
            if dn.get("name") == marker_name(output) and dn.get("localSheetId") is None:
                match = _MARKER_REF.match((dn.text or "").strip())
                if match:
                    name = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
                    sheet = self.find(name)
                    if sheet is not None and self.is_output_sheet(output, sheet):
                        return sheet
        return None

    def is_output_sheet(self, output: str, sheet: Sheet) -> bool:
        """Whether a marked sheet really holds the output: a marker alone can be wrong (a script
        that put a user's sheet back under the old name keeps it; a hand-made one can point
        anywhere). Never an input sheet of the contract; else the sheet's Excel table must carry at
        least half of the output's declared column titles (half, so that a sheet written by an
        older version, with fewer columns, is still recognised). The toolkit's hidden sheets,
        which have no declared columns, are recognised by their "_inv" names."""
        return holds_output(output, sheet.name, lambda: self._table_columns(sheet))

    def _table_columns(self, sheet: Sheet) -> set[str]:
        """The column names (casefolded) of the Excel tables on a sheet."""
        if rels_name(sheet.part) not in self.pkg:
            return set()
        names: set[str] = set()
        for rel in self.pkg.rels(sheet.part).of_type(REL_TABLE):
            if rel.target in self.pkg:
                table = self.pkg.xml(rel.target)
                names |= {c.get("name", "").casefold() for c in table.iter(_M + "tableColumn")}
        return names

    def mark(self, output: str, sheet: str) -> None:
        """Point the output's marker at `sheet` (one marker per output)."""
        self._set_name(marker_name(output), None, f"{quoted(sheet)}!$A$1", hidden="1")

    def _set_name(self, name: str, scope: str | None, text: str, **attrs: str) -> None:
        """Give the defined name `name` (workbook-wide, or scoped to the sheet at position `scope`)
        this text: the first such name keeps its place among the others (a refresh that writes
        the same sheets writes the same workbook part), any repeat of it is removed."""
        found = [dn for dn in self.defined_names() if dn.get("name") == name and dn.get("localSheetId") == scope]
        for extra in found[1:]:
            extra.getparent().remove(extra)
        if found:
            dn = found[0]
            dn.attrib.clear()
        else:
            dn = etree.SubElement(self._child("definedNames"), _M + "definedName")
        dn.set("name", name)
        if scope is not None:
            dn.set("localSheetId", scope)
        for key, value in attrs.items():
            dn.set(key, value)
        dn.text = text

    def unmark(self, output: str) -> None:
        for dn in self.defined_names():
            if dn.get("name") == marker_name(output) and dn.get("localSheetId") is None:
                dn.getparent().remove(dn)

    def hidden_text(self, name: str) -> str | None:
        """The text of a hidden workbook-scoped name holding a string constant ("..."), if any."""
        for dn in self.defined_names():
            if dn.get("name") == name and dn.get("localSheetId") is None:
                text = (dn.text or "").strip()
                return text[1:-1].replace('""', '"') if len(text) >= 2 and text[0] == text[-1] == '"' else None
        return None

    def set_hidden_text(self, name: str, text: str) -> None:
        """Keep `text` (at most 255 characters) in a hidden workbook-scoped name."""
        self._set_name(name, None, '"' + text.replace('"', '""') + '"', hidden="1")

    def drop_filter_database(self, sheet: Sheet) -> None:
        """Remove the sheet's _xlnm._FilterDatabase: its table brings its own autofilter."""
        position = str(self.sheets().index(sheet))
        for dn in self.defined_names():
            if dn.get("name") == "_xlnm._FilterDatabase" and dn.get("localSheetId") == position:
                dn.getparent().remove(dn)

    def set_print_names(self, sheet: Sheet, area: str) -> None:
        """Print `area` of the sheet ($A$1:$H$40) with its first row repeated on every page: Excel's
        built-in names _xlnm.Print_Area and _xlnm.Print_Titles, scoped to the sheet."""
        position = str(self.sheets().index(sheet))
        for name, ref in zip(PRINT_NAMES, (area, "$1:$1")):
            self._set_name(name, position, f"{quoted(sheet.name)}!{ref}")

    def taken_names(self) -> set[str]:
        """Defined names, casefolded (table names must not clash with them)."""
        return {dn.get("name", "").casefold() for dn in self.defined_names()}

    # Calculation ---------------------------------------------------------------------------------
    def recalculate_on_load(self) -> None:
        """Ask Excel to recalculate everything on open, so formulas over the outputs are current."""
        self._child("calcPr").set("fullCalcOnLoad", "1")

    def finish(self) -> None:
        """Tidy before saving: an empty <definedNames> is not allowed by the schema."""
        names = self.root.find(_M + "definedNames")
        if names is not None and len(names) == 0:
            self.root.remove(names)

    def _child(self, name: str) -> etree._Element:
        """The workbook child `name`, created at its schema position when missing."""
        found = self.root.find(_M + name)
        if found is not None:
            return found
        el = etree.Element(_M + name)
        insert_in_order(self.root, el, _BOOK_ORDER)
        return el


def unique_sheet_name(book: Workbook, wanted: str) -> str:
    """`wanted`, or "<wanted> (inv-sheets)", "<wanted> (inv-sheets 2)", ... when a user's sheet has it."""
    if book.find(wanted) is None:
        return wanted
    for n in range(1, 100):
        suffix = " (inv-sheets)" if n == 1 else f" (inv-sheets {n})"
        name = wanted[: 31 - len(suffix)] + suffix
        if book.find(name) is None:
            return name
    raise ValueError(f"no free sheet name for {wanted!r}")


def unique_table_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or wanted2, wanted3, ... (table and defined names compare case-insensitively)."""
    folded = {t.casefold() for t in taken}
    if wanted.casefold() not in folded:
        return wanted
    n = 2
    while f"{wanted}{n}".casefold() in folded:
        n += 1
    return f"{wanted}{n}"
