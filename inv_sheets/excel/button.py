"""Give a workbook a Refresh button: a macro-enabled copy whose Start sheet runs the refresh.

Three things make the button work in desktop Excel:

* the VBA project (resources/vbaProject.bin): xlwings' standalone runtime, whose `RunPython` starts
  Python, plus the module `InvSheets` whose macro `RefreshInventory` runs
  `inv_sheets.excel.refresh()` (see resources/vba_project.py);
* an `xlwings.conf` sheet, where the VBA looks for the Python interpreter to use;
* a form button (a VML shape, the kind Excel's Developer > Insert > Button makes, see vml.py) whose
  macro is `RefreshInventory`, on a Start sheet of inv-sheets' own: the template's Start sheet, or
  one added as the first sheet. None of the user's sheets is touched.

Adding them is a write like refresh: the package is edited part by part (io/package.py), every
other part is copied byte for byte, and the file is replaced atomically. A `.xlsx` becomes a new
`.xlsm` beside it (Excel refuses macros in a `.xlsx`); a `.xlsm` is updated in place. A workbook
whose VBA project holds code inv-sheets did not write is refused: a project cannot be merged
without Excel, so the message says how to import the module by hand.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree

from ..contract.issues import WriteError
from ..contract.schema import match_sheet
from ..io.package import CT, CT_WORKSHEET, NS_MAIN, NS_R, REL, Package, to_xml
from ..io.read import open_package
from ..io.workbook import Sheet, Workbook, quoted, unique_sheet_name
from ..io.save import FileState, put_in_place, save_atomically
from ..io.write import source_and_target
from . import vml
from .resources.vba_project import MACRO_NAME, MODULE_NAME, PYTHON_COMMAND, RUNTIME_MODULE, Module, modules

CONF_SHEET = "xlwings.conf"
START_SHEET = "Start"
START_MARKER = "_invbutton_Start"  # hidden defined name pointing at the Start sheet add-button made
TEMPLATE_TITLE = "inv-sheets stock workbook"  # A1 of the template's Start sheet (contract/template.py)
BUTTON_CAPTION = "Refresh"
MACRO = f"[0]!{MACRO_NAME}"  # how a form button names a macro of its own workbook
RUNTIME_MODULES = (RUNTIME_MODULE, "Dictionary")  # xlwings' standalone runtime: replaced whole on an upgrade

REL_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_VML_DRAWING = REL + "vmlDrawing"
CT_VBA_PROJECT = "application/vnd.ms-office.vbaProject"
CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VML = CT + "vmlDrawing"
VBA_PART = "xl/vbaProject.bin"

# The keys xlwings' VBA reads from the xlwings.conf sheet (A1 down to the first blank row, values in
# column B). Blank values fall back to xlwings' own defaults ("python" on the PATH).
# ADD_WORKBOOK_TO_PYTHONPATH is off: inv-sheets is installed, so the workbook's folder need not be on
# sys.path, and for a workbook synced with OneDrive or SharePoint xlwings would have to turn Excel's
# https:// address into a local folder first, which it often cannot (it raises before the refresh runs).
CONF_ROWS: tuple[tuple[str, object], ...] = (
    ("Interpreter_Win", ""), ("Interpreter_Mac", ""), ("PYTHONPATH", ""), ("Conda Path", ""),
    ("Conda Env", ""), ("UDF Modules", ""), ("Debug UDFs", False), ("Use UDF Server", False),
    ("Show Console", False), ("ADD_WORKBOOK_TO_PYTHONPATH", False),
)
CONF_HELP = (
    "How the Refresh button finds Python. Leave a value blank to use the default.",
    "Interpreter_Win: full path of python.exe; in Command Prompt, `py -c \"import sys; print(sys.executable)\"` prints it",
    "Interpreter_Mac: full path of python3, e.g. /usr/local/bin/python3 (type `which python3` in Terminal)",
    "Conda Path / Conda Env: if inv-sheets is installed in a conda environment, its base folder and name.",
    f"The button runs: {PYTHON_COMMAND}",
)
START_LINES = (
    "inv-sheets",
    "Press Refresh to check this workbook and rewrite the sheets inv-sheets computes (Stock, Reorder, "
    "Issues, ...). Your own sheets are not changed; save the workbook afterwards.",
    "The button needs macros enabled, and Python with inv-sheets on this computer; the xlwings.conf "
    "sheet says which Python. Set-up and help: docs/excel-button.md at https://pypi.org/project/inv-sheets/",
)

# The order of a worksheet's children (CT_Worksheet): legacyDrawing goes before these.
_AFTER_LEGACY_DRAWING = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                         "webPublishItems", "tableParts", "extLst")
_M = f"{{{NS_MAIN}}}"
# Where the button sits. On the template's Start sheet, whose column B is wide, it sits in B beside
# the "In Excel: press the Refresh button" line; on a Start sheet add-button made, under its text.
_ANCHOR_TEMPLATE = vml.Anchor("1, 480, 3, 2, 1, 608, 5, 18", "margin-left:468pt;margin-top:47pt;width:96pt;height:42pt")
_ANCHOR_NEW = vml.Anchor("0, 8, 4, 4, 1, 40, 6, 16", "margin-left:6pt;margin-top:63pt;width:72pt;height:39pt")
WIDE_COLUMN = 80.0  # characters: a column B at least this wide has room for the button


@dataclass(frozen=True)
class ButtonResult:
    """What add_button did: the workbook written and which parts it added or changed."""

    path: Path
    sheet: str  # the sheet that holds the button
    added: tuple[str, ...]  # "macros", "xlwings.conf", "Start sheet", "button": what was missing and is now there


@dataclass(frozen=True)
class Button:
    """A form button found in a workbook: its sheet, caption and the macro it runs."""

    sheet: str
    caption: str
    macro: str


def vba_project() -> bytes:
    """The VBA project the button runs (xlwings' runtime and the InvSheets module)."""
    return resources.files("inv_sheets.excel.resources").joinpath("vbaProject.bin").read_bytes()


def add_button(path: str | os.PathLike, *, output: str | os.PathLike | None = None) -> ButtonResult:
    """Add the Refresh button (macros, xlwings.conf, a Start sheet with the button) to the workbook at `path`.

    A `.xlsm` is updated in place unless `output` is given; a `.xlsx` is written to `output`, by
    default the same name with `.xlsm`. Whatever is already there is kept, so running it twice
    changes nothing. Raises InvSheetsError when it cannot (locked, macros of its own, not a workbook).
    """
    source = Path(path)
    open_package(source).close()  # one clear error if it is not a workbook
    target = Path(output) if output is not None else source.with_suffix(".xlsm")
    if target.suffix.lower() != ".xlsm":
        raise WriteError(f"{target}: a workbook with macros must be saved as .xlsm")
    if target != source and target.exists():
        raise WriteError(f"{target} already exists; choose another name with --output or remove it first")
    source, target = source_and_target(source, target, suffix=".xlsm")
    before = FileState.of(source)
    with Package(source) as pkg:
        sheet, added = _install(pkg)
        if target == source and not added:
            return ButtonResult(target, sheet, ())
        save_atomically(pkg, source, target, before, False, [])
    return ButtonResult(target, sheet, tuple(added))


def init_with_button(path: str | os.PathLike, *, sample: bool = False, overwrite: bool = False) -> ButtonResult:
    """Create a new store workbook with the Refresh button at `path` (a .xlsm); `sample` fills in the demo store."""
    from ..contract.template import init_workbook

    target = Path(path)
    if target.suffix.lower() != ".xlsm":
        raise WriteError(f"{target}: a workbook with a Refresh button must be a .xlsm file")
    if target.exists() and not overwrite:
        raise WriteError(f"{target} already exists; choose another name or remove it first")
    with tempfile.TemporaryDirectory(dir=target.parent or ".") as tmp:
        plain = Path(tmp) / (target.stem + ".xlsx")
        init_workbook(plain, sample=sample)
        staged = Path(tmp) / target.name
        result = add_button(plain, output=staged)
        put_in_place(staged, target)
    return ButtonResult(target, result.sheet, result.added)


def find_buttons(path: str | os.PathLike) -> list[Button]:
    """Every VML form button of the workbook, with the macro it is wired to."""
    with Package(Path(path)) as pkg:
        return [Button(sheet.name, b.caption, b.macro) for sheet in Workbook(pkg).sheets() if sheet.part
                for b in _buttons_in(pkg, sheet.part)]


def runs_refresh(macro: str) -> bool:
    """Whether a button's macro is RefreshInventory, however the program that saved it spelled it:
    `[0]!RefreshInventory` (Excel, inv-sheets), `InvSheets.RefreshInventory` (LibreOffice),
    `'store.xlsm'!RefreshInventory`."""
    return macro.rsplit("!", 1)[-1].rsplit(".", 1)[-1] == MACRO_NAME


def foreign_code(project: bytes) -> list[str] | None:
    """The modules of an inv-sheets VBA project that hold code inv-sheets did not write ([] when
    none), or None when `project` is not an inv-sheets project at all (someone else's macros).

    Excel adds an empty document module for every sheet when it saves, and the VBA editor may add
    `Option Explicit`: neither is code. xlwings' runtime counts as inv-sheets' own when it is
    exactly the one shipped now, or another xlwings release's (a workbook made by another version).
    """
    try:
        theirs = modules(project)
    except ValueError:
        return None
    if MODULE_NAME not in {m.name for m in theirs}:
        return None
    ours = {m.name: m for m in modules(vba_project())}
    their_release = next((_runtime_version(m) for m in theirs if m.name == RUNTIME_MODULE), None)
    other_release = their_release is not None and their_release != _runtime_version(ours[RUNTIME_MODULE])
    return [m.name for m in theirs if not _is_ours(m, ours, other_release)]


def _is_ours(module: Module, ours: dict[str, Module], other_release: bool) -> bool:
    mine = ours.get(module.name)
    if mine is None:
        return module.document and not module.code
    if module.code == mine.code:
        return True
    if module.name == MODULE_NAME:  # the macro as another inv-sheets release wrote it: comments aside
        return [c for c in module.code if not c.startswith("'")] == [c for c in mine.code if not c.startswith("'")]
    return other_release and module.name in RUNTIME_MODULES


def _runtime_version(module: Module) -> str | None:
    """The xlwings release of the runtime module (its `Const XLWINGS_VERSION ... = "0.37.8"`)."""
    for line in module.code:
        if "XLWINGS_VERSION" in line and "Const" in line and "=" in line:
            return line.split("=", 1)[1].strip().strip('"')
    return None


# Installing the parts ---------------------------------------------------------------------------
def _install(pkg: Package) -> tuple[str, list[str]]:
    """Add whatever of the button is missing to the package; returns (button sheet, what was added)."""
    book = Workbook(pkg)
    before = book.to_xml()
    added = _install_project(pkg, book)

    pr = book.root.find(f"{_M}workbookPr")
    if pr is None:
        pr = etree.Element(f"{_M}workbookPr")
        anchor = next((book.root.find(f"{_M}{n}") for n in ("fileSharing", "fileVersion")
                       if book.root.find(f"{_M}{n}") is not None), None)
        if anchor is None:
            book.root.insert(0, pr)
        else:
            anchor.addnext(pr)
    if pr.get("codeName") != "ThisWorkbook":
        pr.set("codeName", "ThisWorkbook")  # binds the project's ThisWorkbook module

    # The project's two sheet modules bind to inv-sheets' own sheets, when no user sheet holds the name.
    taken = {(_code_name(pkg, s.part) or "").casefold() for s in book.sheets() if s.part}
    free = [c for c in ("Sheet1", "Sheet2") if c.casefold() not in taken]
    start = _start_sheet(pkg, book)
    if start is None:
        start = _add_start_sheet(pkg, book, free.pop(0) if free else None)
        added.append("Start sheet")
    elif not _code_name(pkg, start.part) and free:
        _code_name_on_part(pkg, start.part, free.pop(0))
    if book.find(CONF_SHEET) is None:
        _add_conf_sheet(pkg, book, free.pop(0) if free else None)
        added.append(CONF_SHEET)
    if not any(runs_refresh(b.macro) for b in _buttons_in(pkg, start.part)):
        _add_button(pkg, start.part)
        added.append("button")

    book.finish()
    if book.to_xml() != before:
        pkg.write(book.part, book.to_xml())
    return start.name, added


def _install_project(pkg: Package, book: Workbook) -> list[str]:
    """Put inv-sheets' VBA project in, or bring an older one up to date; refuse anyone else's code."""
    ours = vba_project()
    existing = book.rels.of_type(REL_VBA_PROJECT)
    added = []
    if not existing:
        pkg.write(VBA_PART, ours, CT_VBA_PROJECT)
        book.rels.add(REL_VBA_PROJECT, VBA_PART)
        added.append("macros")
    else:
        current = pkg.read(existing[0].target)
        foreign = None if current == ours else foreign_code(current)
        if foreign is None and current != ours:
            raise WriteError(
                f"{pkg.path}: already has macros of its own, which cannot be merged automatically. "
                f"In Excel, import the module {MODULE_NAME}.bas and xlwings' xlwings.bas into its VBA "
                f"project (Alt+F11, File > Import File), then assign the macro {MACRO_NAME} to a button "
                "(see docs/excel-button.md).")
        if foreign:
            raise WriteError(
                f"{pkg.path}: its macros hold code inv-sheets did not write (module {', '.join(foreign)}), which "
                "adding the button again would delete. Its Refresh button keeps working as it is; to update "
                "its macros, import xlwings.bas by hand (Alt+F11, File > Import File; see docs/excel-button.md).")
        if current != ours and _modules_differ(current, ours):
            pkg.write(existing[0].target, ours)  # another inv-sheets release's project: bring it up to date
            added.append("updated macros")
    if pkg.content_types.of(book.part) != CT_MACRO_WORKBOOK:
        pkg.content_types.set_override(book.part, CT_MACRO_WORKBOOK)
        if not added:
            added.append("macro-enabled")
    return added


def _modules_differ(current: bytes, ours: bytes) -> bool:
    """Whether a project's modules say anything else than ours (Excel re-saving it changes bytes, not code)."""
    mine = {m.name: m.code for m in modules(ours)}
    theirs = {m.name: m.code for m in modules(current)}
    return any(theirs.get(name) != code for name, code in mine.items())


def _start_sheet(pkg: Package, book: Workbook) -> Sheet | None:
    """inv-sheets' own Start sheet: the one add-button made (its marker name), or the template's."""
    for dn in book.defined_names():
        if dn.get("name") == START_MARKER and dn.get("localSheetId") is None:
            ref = re.match(r"^(?:'((?:[^']|'')+)'|([^'!]+))!", (dn.text or "").strip())
            marked = ref and book.find(ref.group(1).replace("''", "'") if ref.group(1) else ref.group(2))
            if marked and marked.part and match_sheet(marked.name) is None:  # never one of the data sheets
                return marked
    sheet = book.find(START_SHEET)
    if sheet is None or not sheet.part or _first_cell_text(pkg, sheet.part) != TEMPLATE_TITLE:
        return None
    return sheet


def _mark_start(book: Workbook, sheet: Sheet) -> None:
    """The hidden defined name that says which sheet add-button made. Not an output's marker
    (io/workbook.py): refresh places new output sheets after the last marked one, and the Start
    sheet is first."""
    names = book.root.find(f"{_M}definedNames")
    if names is None:
        names = etree.Element(f"{_M}definedNames")
        # its place in CT_Workbook: after <sheets>, <functionGroups> and <externalReferences>
        before = [book.root.find(f"{_M}{n}") for n in ("externalReferences", "functionGroups", "sheets")]
        next(el for el in before if el is not None).addnext(names)
    dn = etree.SubElement(names, f"{_M}definedName", name=START_MARKER, hidden="1")
    dn.text = f"{quoted(sheet.name)}!$A$1"


def _first_cell_text(pkg: Package, part: str) -> str | None:
    """The text of A1 (shared or inline), enough to recognise the template's Start sheet."""
    root = pkg.xml(part)
    cell = next((c for c in root.iter(f"{_M}c") if c.get("r") == "A1"), None)
    if cell is None:
        return None
    if cell.get("t") == "inlineStr":
        return "".join(cell.find(f"{_M}is").itertext()) if cell.find(f"{_M}is") is not None else None
    if cell.get("t") != "s":
        return cell.findtext(f"{_M}v")
    strings = [r.target for r in pkg.rels(pkg.main_part()) if r.type == REL + "sharedStrings"]
    if not strings:
        return None
    items = pkg.xml(strings[0]).findall(f"{_M}si")
    index = int(cell.findtext(f"{_M}v") or -1)
    return "".join(items[index].itertext()) if 0 <= index < len(items) else None


def _add_start_sheet(pkg: Package, book: Workbook, code_name: str | None) -> Sheet:
    """A Start sheet of inv-sheets' own, put first and marked as inv-sheets' (io/workbook.py)."""
    part = pkg.unused("xl/worksheets/sheet{}.xml")
    # default column widths: the button's anchor counts on 64-pixel columns
    pkg.write(part, _text_sheet_xml([(line,) for line in START_LINES], code_name, widths=()), CT_WORKSHEET)
    sheet = book.add_sheet(unique_sheet_name(book, START_SHEET), part)
    _move_first(book, sheet)
    _mark_start(book, sheet)
    return sheet


def _move_first(book: Workbook, sheet: Sheet) -> None:
    """Make `sheet` the first tab; sheet-scoped names and the window's tab indexes follow their sheets,
    and the sheet the user had open stays the one that opens."""
    sheets = sheet.element.getparent()
    sheets.remove(sheet.element)
    sheets.insert(0, sheet.element)
    for dn in book.defined_names():
        if dn.get("localSheetId") is not None:
            dn.set("localSheetId", str(int(dn.get("localSheetId")) + 1))
    views = book.root.findall(f"{_M}bookViews/{_M}workbookView")
    if not views:  # without a window Excel would open the new first tab alongside the user's selected one
        book_views = etree.Element(f"{_M}bookViews")
        sheets.addprevious(book_views)  # its place in CT_Workbook: right before <sheets>
        views = [etree.SubElement(book_views, f"{_M}workbookView")]
    for view in views:
        view.set("activeTab", str(int(view.get("activeTab", "0")) + 1))
        if view.get("firstSheet") is not None:
            view.set("firstSheet", str(int(view.get("firstSheet", "0")) + 1))


def _add_conf_sheet(pkg: Package, book: Workbook, code_name: str | None) -> None:
    """The xlwings.conf sheet, appended after the last sheet."""
    part = pkg.unused("xl/worksheets/sheet{}.xml")
    rows: list[tuple[object, ...]] = [(key, value) if value != "" else (key,) for key, value in CONF_ROWS]
    rows += [()] * 2 + [(text,) for text in CONF_HELP]  # a blank row ends the settings for the VBA
    pkg.write(part, _text_sheet_xml(rows, code_name, widths=(18, 60)), CT_WORKSHEET)
    book.add_sheet(CONF_SHEET, part)


def _text_sheet_xml(rows: list[tuple[object, ...]], code_name: str | None, widths: tuple[float, ...]) -> bytes:
    """A small worksheet of inline text and yes/no cells (no shared strings or styles to touch)."""
    def cell(ref: str, value: object) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    body = "".join(f'<row r="{r}">{"".join(cell(f"{col}{r}", v) for col, v in zip("AB", values))}</row>'
                   for r, values in enumerate(rows, 1) if values)
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    cols = f"<cols>{cols}</cols>" if cols else ""
    sheet_pr = f'<sheetPr codeName="{code_name}"/>' if code_name else ""
    last = "AB"[max(len(v) for v in rows) - 1]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">{sheet_pr}'
        f'<dimension ref="A1:{last}{len(rows)}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>{body}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode("utf-8")


# The button ---------------------------------------------------------------------------------------
def _code_name(pkg: Package, part: str) -> str | None:
    pr = pkg.xml(part).find(f"{_M}sheetPr")
    return pr.get("codeName") if pr is not None else None


def _code_name_on_part(pkg: Package, part: str, code_name: str) -> None:
    """Bind the sheet to the project's document module of that name (sheetPr comes first)."""
    root = pkg.xml(part)
    pr = root.find(f"{_M}sheetPr")
    if pr is None:
        pr = etree.Element(f"{_M}sheetPr")
        root.insert(0, pr)
    pr.set("codeName", code_name)
    pkg.write(part, to_xml(root))


def _vml_part(pkg: Package, sheet_part: str) -> str | None:
    rels = pkg.rels(sheet_part).of_type(REL_VML_DRAWING)
    return rels[0].target if rels else None


def _buttons_in(pkg: Package, sheet_part: str) -> list[vml.FormButton]:
    drawing = _vml_part(pkg, sheet_part)
    return [] if drawing is None else vml.buttons(pkg.read(drawing))


def _add_button(pkg: Package, sheet_part: str) -> None:
    """Put the button on the Start sheet: in its VML drawing (notes live there too) or in a new one."""
    anchor = _ANCHOR_TEMPLATE if _wide_column_b(pkg, sheet_part) else _ANCHOR_NEW
    drawing = _vml_part(pkg, sheet_part)
    if drawing is not None:
        pkg.write(drawing, vml.with_button(pkg.read(drawing), BUTTON_CAPTION, MACRO, anchor))
        return
    drawing = pkg.unused("xl/drawings/vmlDrawing{}.vml")
    pkg.write(drawing, vml.new_drawing(_free_id_block(pkg), BUTTON_CAPTION, MACRO, anchor))
    if pkg.content_types.of(drawing) != CT_VML:
        pkg.content_types.set_override(drawing, CT_VML)
    rid = pkg.rels(sheet_part).add(REL_VML_DRAWING, drawing)
    root = pkg.xml(sheet_part)
    el = etree.Element(f"{_M}legacyDrawing")
    el.set(f"{{{NS_R}}}id", rid)
    later = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname in _AFTER_LEGACY_DRAWING), None)
    if later is None:
        root.append(el)
    else:
        later.addprevious(el)
    pkg.write(sheet_part, to_xml(root))


def _wide_column_b(pkg: Package, sheet_part: str) -> bool:
    for col in pkg.xml(sheet_part).iter(f"{_M}col"):
        if int(col.get("min", "0")) <= 2 <= int(col.get("max", "0")):
            return float(col.get("width", "0")) >= WIDE_COLUMN
    return False


def _free_id_block(pkg: Package) -> int:
    """A VML shape-id block (o:idmap data) no other drawing of the workbook uses."""
    used: set[int] = set()
    for name in pkg.names():
        if name.lower().endswith(".vml"):
            used |= vml.id_blocks(pkg.read(name))
    block = 1
    while block in used:
        block += 1
    return block


__all__ = ["add_button", "init_with_button", "find_buttons", "foreign_code", "runs_refresh", "vba_project", "Button",
           "ButtonResult", "CONF_SHEET", "START_SHEET", "MACRO", "MACRO_NAME"]
