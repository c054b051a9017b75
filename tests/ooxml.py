"""A structural check of an .xlsx/.xlsm package: what makes Excel show its repair dialog.

LibreOffice, openpyxl and calamine open packages Excel would repair, so opening is weak evidence.
This checks what they forgive: content types against relationship types, dangling relationships,
duplicate sheet ids, relationship ids and table ids/names, style indexes in range, the schema order
of worksheet children, calcChain entries without a formula, and the macro content type against the
file extension. `problems(path)` returns a list of findings; empty means clean.
"""

from __future__ import annotations

import collections
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
MC_CHOICE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Choice"

# ECMA-376 CT_Worksheet child order.
WORKSHEET_ORDER = [
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup",
    "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
    "tableParts", "extLst"]
WANTED_TYPE = {"worksheet": "spreadsheetml.worksheet+xml", "table": "spreadsheetml.table+xml",
               "comments": "spreadsheetml.comments+xml", "drawing": "drawing+xml", "chart": "drawingml.chart+xml",
               "styles": "spreadsheetml.styles+xml", "sharedStrings": "spreadsheetml.sharedStrings+xml",
               "vbaProject": "ms-office.vbaProject", "calcChain": "spreadsheetml.calcChain+xml"}


def _target(rels_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(posixpath.dirname(rels_part)), target))


def problems(path: Path) -> list[str]:
    """Every structural problem found in the package (empty: clean)."""
    errs: list[str] = []
    z = zipfile.ZipFile(path)
    names = z.namelist()
    errs += [f"duplicate zip entry {n}" for n, c in collections.Counter(names).items() if c > 1]
    ct = etree.fromstring(z.read("[Content_Types].xml"))
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in ct.iter(CT + "Default")}
    overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in ct.iter(CT + "Override")}
    errs += [f"Override for missing part {p}" for p in overrides if p not in names]

    def content_type(part: str) -> str:
        return overrides.get(part) or defaults.get(part.rsplit(".", 1)[-1].lower(), "")

    for n in names:
        if n != "[Content_Types].xml" and not n.endswith("/") and not content_type(n):
            errs.append(f"part without content type: {n}")
        if n.endswith((".xml", ".rels")):
            try:
                etree.fromstring(z.read(n))
            except etree.XMLSyntaxError as e:
                errs.append(f"not well-formed: {n}: {e}")
    for n in (n for n in names if n.endswith(".rels")):
        rels = etree.fromstring(z.read(n))
        ids = [r.get("Id") for r in rels]
        if len(ids) != len(set(ids)):
            errs.append(f"duplicate relationship ids in {n}")
        for r in rels:
            if r.get("TargetMode") == "External":
                continue
            part = _target(n, r.get("Target"))
            kind = r.get("Type").rsplit("/", 1)[-1]
            if part not in names:
                errs.append(f"{n}: {r.get('Id')} points at missing {part}")
            elif kind in WANTED_TYPE and WANTED_TYPE[kind] not in content_type(part):
                errs.append(f"{part} is a {kind} but has content type {content_type(part)!r}")

    wb = etree.fromstring(z.read("xl/workbook.xml"))
    wb_rels = {r.get("Id"): r for r in etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    sheets = wb.findall(f"{M}sheets/{M}sheet")
    ids = [s.get("sheetId") for s in sheets]
    if len(ids) != len(set(ids)):
        errs.append(f"duplicate sheetId {ids}")
    if len({s.get('name').casefold() for s in sheets}) != len(sheets):
        errs.append("duplicate sheet names")
    for s in sheets:
        if not 0 < len(s.get("name")) <= 31 or re.search(r"[\[\]:*?/\\]", s.get("name")):
            errs.append(f"illegal sheet name {s.get('name')!r}")
        if s.get(R_ID) not in wb_rels:
            errs.append(f"sheet {s.get('name')} has no relationship")
    for dn in wb.iter(f"{M}definedName"):
        if dn.get("localSheetId") is not None and int(dn.get("localSheetId")) >= len(sheets):
            errs.append(f"defined name {dn.get('name')} scoped to a missing sheet")
    for view in wb.iter(f"{M}workbookView"):
        if int(view.get("activeTab", "0")) >= len(sheets):
            errs.append("activeTab out of range")
    selected = 0

    n_xfs = len(etree.fromstring(z.read("xl/styles.xml")).find(f"{M}cellXfs"))
    formulas: dict[str, set[str]] = {}
    for s in sheets:
        rel = wb_rels.get(s.get(R_ID))
        if rel is None or not rel.get("Type").endswith("/worksheet"):
            continue
        part = _target("xl/_rels/workbook.xml.rels", rel.get("Target"))
        if part not in names:
            continue
        x = etree.fromstring(z.read(part))
        order = []
        for child in x:
            if isinstance(child.tag, str):
                inner = child.find(f"{MC_CHOICE}/*")
                order.append(etree.QName(inner if inner is not None else child).localname)
        ranks = [WORKSHEET_ORDER.index(o) for o in order if o in WORKSHEET_ORDER]
        if ranks != sorted(ranks):
            errs.append(f"{part}: children out of schema order: {order}")
        bad = sorted({c.get("s") for c in x.iter(f"{M}c") if c.get("s") and int(c.get("s")) >= n_xfs})
        if bad:
            errs.append(f"{part}: style indexes {bad} >= {n_xfs} cellXfs")
        rows = [int(r.get("r")) for r in x.iter(f"{M}row") if r.get("r")]
        if rows != sorted(set(rows)):
            errs.append(f"{part}: rows not ascending")
        formulas[s.get("sheetId")] = {c.get("r") for c in x.iter(f"{M}c") if c.find(f"{M}f") is not None}
        selected += sum(v.get("tabSelected") in ("1", "true") for v in x.iter(f"{M}sheetView"))
    if selected > 1:
        errs.append(f"{selected} sheets have tabSelected: they would open as a group")
    if "xl/calcChain.xml" in names:
        current = None
        for c in etree.fromstring(z.read("xl/calcChain.xml")):
            current = c.get("i", current)
            if c.get("r") not in formulas.get(current, set()):
                errs.append(f"calcChain lists {c.get('r')} on sheet {current}, which has no formula there")
    tables = [etree.fromstring(z.read(n)) for n in names if re.fullmatch(r"xl/tables/table\d+\.xml", n)]
    for what, values in (("id", [t.get("id") for t in tables]), ("name", [t.get("name").casefold() for t in tables])):
        if len(values) != len(set(values)):
            errs.append(f"duplicate table {what}s {values}")
    main = overrides.get("xl/workbook.xml", "")
    if path.suffix.lower() == ".xlsx" and "macroEnabled" in main:
        errs.append("macro-enabled content type in a .xlsx (Excel refuses it)")
    if path.suffix.lower() == ".xlsm" and "macroEnabled" not in main:
        errs.append(".xlsm whose workbook content type is not macro-enabled (Excel refuses it)")
    return errs
