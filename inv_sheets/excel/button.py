"""Give a workbook a Refresh button: a macro-enabled copy whose Start sheet runs the refresh.

Three things make the button work in desktop Excel:

* the VBA project (resources/vbaProject.bin): xlwings' standalone runtime, whose `RunPython` starts
  Python, plus the module `InvSheets` whose macro `RefreshInventory` runs
  `inv_sheets.excel.refresh()` (see resources/vba_project.py);
* an `xlwings.conf` sheet, where the VBA looks for the Python interpreter to use;
* a form button (a VML shape, the kind Excel's Developer > Insert > Button makes) on the Start
  sheet, or on the first sheet, whose macro is `RefreshInventory`.

Adding them is a write like refresh: the package is edited part by part (io/package.py), every
other part is copied byte for byte, and the file is replaced atomically. A `.xlsx` becomes a new
`.xlsm` beside it (Excel refuses macros in a `.xlsx`); a `.xlsm` is updated in place. A workbook
that already has macros of its own is refused: its VBA project cannot be merged without Excel, so
the message says how to import the module by hand.
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
from ..io.package import CT, CT_WORKSHEET, NS_MAIN, NS_R, REL, REL_OFFICE_DOCUMENT, REL_WORKSHEET, Package, to_xml
from ..io.read import open_package
from ..io.write import FileState, save_atomically, source_and_target
from .resources.vba_project import MACRO_NAME, MODULE_NAME, PYTHON_COMMAND

CONF_SHEET = "xlwings.conf"
BUTTON_CAPTION = "Refresh"
MACRO = f"[0]!{MACRO_NAME}"  # how a form button names a macro of its own workbook

REL_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_VML_DRAWING = REL + "vmlDrawing"
CT_VBA_PROJECT = "application/vnd.ms-office.vbaProject"
CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_PLAIN_WORKBOOK = CT + "spreadsheetml.sheet.main+xml"
CT_VML = CT + "vmlDrawing"
VBA_PART = "xl/vbaProject.bin"

# The keys xlwings' VBA reads from the xlwings.conf sheet (A1 down to the first blank row, values in
# column B). Blank values fall back to xlwings' own defaults ("python" on the PATH).
CONF_ROWS: tuple[tuple[str, object], ...] = (
    ("Interpreter_Win", ""), ("Interpreter_Mac", ""), ("PYTHONPATH", ""), ("Conda Path", ""),
    ("Conda Env", ""), ("UDF Modules", ""), ("Debug UDFs", False), ("Use UDF Server", False),
    ("Show Console", False),
)
CONF_HELP = (
    "How the Refresh button finds Python. Leave a value blank to use the default.",
    "Interpreter_Win: full path of python.exe, e.g. C:\\Users\\you\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
    "Interpreter_Mac: full path of python3, e.g. /usr/local/bin/python3 (type `which python3` in Terminal)",
    "Conda Path / Conda Env: if inv-sheets is installed in a conda environment, its base folder and name.",
    f"The button runs: {PYTHON_COMMAND}",
)

# The order of a worksheet's children (CT_Worksheet): legacyDrawing goes before these.
_AFTER_LEGACY_DRAWING = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                         "webPublishItems", "tableParts", "extLst")
_M = f"{{{NS_MAIN}}}"


@dataclass(frozen=True)
class ButtonResult:
    """What add_button did: the workbook written and which parts it added or changed."""

    path: Path
    sheet: str  # the sheet that holds the button
    added: tuple[str, ...]  # "macros", "xlwings.conf", "button": what was missing and is now there


def vba_project() -> bytes:
    """The VBA project the button runs (xlwings' runtime and the InvSheets module)."""
    return resources.files("inv_sheets.excel.resources").joinpath("vbaProject.bin").read_bytes()


def add_button(path: str | os.PathLike, *, output: str | os.PathLike | None = None) -> ButtonResult:
    """Add the Refresh button (macros, xlwings.conf, the button) to the workbook at `path`.

    A `.xlsm` is updated in place unless `output` is given; a `.xlsx` is written to `output`, by
    default the same name with `.xlsm`. Whatever is already there is kept, so running it twice
    changes nothing. Raises InvSheetsError when it cannot (locked, own macros, not a workbook).
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
        if sample:
            init_workbook(plain, sample=True)
        else:
            init_workbook(plain)
        staged = Path(tmp) / target.name
        result = add_button(plain, output=staged)
        os.replace(staged, target)
    return ButtonResult(target, result.sheet, result.added)


@dataclass(frozen=True)
class Button:
    """A form button found in a workbook: its sheet, caption and the macro it runs."""

    sheet: str
    caption: str
    macro: str


def find_buttons(path: str | os.PathLike) -> list[Button]:
    """Every VML form button of the workbook, with the macro it is wired to."""
    found = []
    with Package(Path(path)) as pkg:
        for name, part in _sheets(pkg):
            vml = _vml_part(pkg, part)
            if vml is None:
                continue
            text = pkg.read(vml).decode("utf-8", "replace")
            for shape in re.findall(r"<v:shape\b.*?</v:shape>", text, re.S):
                if 'ObjectType="Button"' not in shape:
                    continue
                macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape, re.S)
                caption = re.sub(r"<[^>]+>", "", (re.search(r"<v:textbox\b.*?</v:textbox>", shape, re.S) or [""])[0])
                found.append(Button(name, caption.strip(), macro.group(1) if macro else ""))
    return found


# Installing the parts ---------------------------------------------------------------------------
def _install(pkg: Package) -> tuple[str, list[str]]:
    """Add whatever of the button is missing to the package; returns (button sheet, what was added)."""
    added: list[str] = []
    workbook = pkg.main_part()
    wb = pkg.xml(workbook)
    wb_rels = pkg.rels(workbook)
    wb_changed = False

    ours = vba_project()
    existing = [r for r in wb_rels.of_type(REL_VBA_PROJECT)]
    if existing:
        current = pkg.read(existing[0].target)
        if current != ours and _is_ours(current):
            pkg.write(existing[0].target, ours)  # an older inv-sheets project: bring it up to date
            added.append("updated macros")
        elif current != ours:
            raise WriteError(
                f"{pkg.path}: already has macros of its own, which cannot be merged automatically. "
                f"In Excel, import the module {MODULE_NAME}.bas and xlwings' xlwings.bas into its VBA "
                f"project (Alt+F11, File > Import File), then assign the macro {MACRO_NAME} to a button "
                "(see docs/excel-button.md).")
    else:
        pkg.write(VBA_PART, ours, CT_VBA_PROJECT)
        wb_rels.add(REL_VBA_PROJECT, VBA_PART)
        added.append("macros")
    if pkg.content_types.of(workbook) != CT_MACRO_WORKBOOK:
        pkg.content_types.set_override(workbook, CT_MACRO_WORKBOOK)
        if not added:
            added.append("macro-enabled")

    pr = wb.find(f"{_M}workbookPr")
    if pr is None:
        pr = etree.Element(f"{_M}workbookPr")
        anchor = wb.find(f"{_M}fileVersion")
        if anchor is None:
            anchor = wb.find(f"{_M}fileSharing")
        if anchor is None:
            wb.insert(0, pr)
        else:
            anchor.addnext(pr)
    if pr.get("codeName") != "ThisWorkbook":
        pr.set("codeName", "ThisWorkbook")  # binds the project's ThisWorkbook module
        wb_changed = True

    sheets = _sheets(pkg, wb)
    code_names = {(_code_name(pkg, part) or "").casefold() for _, part in sheets}
    if not any(name.casefold() == CONF_SHEET for name, _ in sheets):
        code = next((c for c in ("Sheet2", "Sheet1") if c.casefold() not in code_names), None)
        code_names.add((code or "").casefold())
        _add_conf_sheet(pkg, wb, wb_rels, code)
        added.append(CONF_SHEET)
        wb_changed = True

    target_name, target_part = _button_sheet(sheets)
    if not any(b.macro == MACRO for b in _buttons_in(pkg, target_part)):
        code = None if _code_name(pkg, target_part) else next(
            (c for c in ("Sheet1", "Sheet2") if c.casefold() not in code_names), None)
        _add_button(pkg, target_part, code)
        added.append("button")
    if wb_changed:
        pkg.write(workbook, to_xml(wb))
    return target_name, added


def _is_ours(project: bytes) -> bool:
    """Whether a VBA project is one inv-sheets made: its module's name is in the compound file's
    directory, which is stored uncompressed in UTF-16."""
    return MODULE_NAME.encode("utf-16-le") in project and b"xlwings" in project


def _sheets(pkg: Package, wb: etree._Element | None = None) -> list[tuple[str, str]]:
    """(sheet name, part name) of every worksheet, in workbook order."""
    workbook = pkg.main_part()
    wb = wb if wb is not None else pkg.xml(workbook)
    rels = pkg.rels(workbook)
    out = []
    for el in wb.iter(f"{_M}sheet"):
        rel = rels.get(el.get(f"{{{NS_R}}}id", ""))
        if rel is not None and rel.type == REL_WORKSHEET:
            out.append((el.get("name", ""), rel.target))
    return out


def _button_sheet(sheets: list[tuple[str, str]]) -> tuple[str, str]:
    """The Start sheet if there is one, else the first sheet."""
    for name, part in sheets:
        if name.casefold() == "start":
            return name, part
    if not sheets:
        raise WriteError("the workbook has no worksheet to put the button on")
    return sheets[0]


def _code_name(pkg: Package, part: str) -> str | None:
    head = pkg.read(part)[:4096].decode("utf-8", "replace")
    m = re.search(r"<(?:\w+:)?sheetPr\b[^>]*\bcodeName=\"([^\"]*)\"", head)
    return m.group(1) if m else None


def _add_conf_sheet(pkg: Package, wb: etree._Element, wb_rels, code_name: str | None) -> None:
    """The xlwings.conf sheet, appended after the last sheet (inserting would shift sheet indexes)."""
    part = pkg.unused("xl/worksheets/sheet{}.xml")
    pkg.write(part, _conf_sheet_xml(code_name), CT_WORKSHEET)
    rid = wb_rels.add(REL_WORKSHEET, part)
    sheets = wb.find(f"{_M}sheets")
    ids = [int(s.get("sheetId", "0")) for s in sheets.iter(f"{_M}sheet")]
    el = etree.SubElement(sheets, f"{_M}sheet")
    el.set("name", CONF_SHEET)
    el.set("sheetId", str(max(ids, default=0) + 1))
    el.set(f"{{{NS_R}}}id", rid)


def _conf_sheet_xml(code_name: str | None) -> bytes:
    def cell(ref: str, value: object) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    rows = []
    for r, (key, value) in enumerate(CONF_ROWS, 1):
        cells = cell(f"A{r}", key) + (cell(f"B{r}", value) if value != "" else "")
        rows.append(f'<row r="{r}">{cells}</row>')
    first_help = len(CONF_ROWS) + 3  # a blank row ends the settings for the VBA
    rows += [f'<row r="{r}">{cell(f"A{r}", text)}</row>' for r, text in enumerate(CONF_HELP, first_help)]
    sheet_pr = f'<sheetPr codeName="{code_name}"/>' if code_name else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">{sheet_pr}'
        f'<dimension ref="A1:B{first_help + len(CONF_HELP) - 1}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="18" customWidth="1"/>'
        '<col min="2" max="2" width="60" customWidth="1"/></cols>'
        f'<sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode("utf-8")


# The button ---------------------------------------------------------------------------------------
_SHAPETYPE = (
    '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
    'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
)
# Where the button sits (VML anchor, zero-based: from column, dx px, row, dy px, to column, dx px,
# row, dy px). On the template's Start sheet, whose column B is wide, it sits in B beside the "In
# Excel: press the Refresh button" line; elsewhere in columns D..E of rows 1..3, clear of what a user
# keeps at the top left.
_ANCHOR_START = ("1, 480, 3, 2, 1, 608, 5, 18", "margin-left:468pt;margin-top:47pt;width:96pt;height:42pt")
_ANCHOR_OTHER = ("3, 0, 0, 4, 4, 32, 2, 16", "margin-left:144pt;margin-top:3pt;width:72pt;height:39pt")
WIDE_COLUMN = 80.0  # characters: a column B at least this wide has room for the button


def _button_shape(shape_id: int, wide_b: bool) -> str:
    anchor, box = _ANCHOR_START if wide_b else _ANCHOR_OTHER
    style = f"position:absolute;{box};z-index:1;mso-wrap-style:tight"
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t201" style="{style}" o:button="t" '
        'fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto">'
        '<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
        '<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
        f'<font face="Calibri" size="220" color="#000000">{BUTTON_CAPTION}</font></div></v:textbox>'
        f'<x:ClientData ObjectType="Button"><x:Anchor>{anchor}</x:Anchor><x:PrintObject>False</x:PrintObject>'
        f'<x:AutoFill>False</x:AutoFill><x:FmlaMacro>{MACRO}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
        '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape>'
    )


def _wide_column_b(pkg: Package, sheet_part: str) -> bool:
    root = pkg.xml(sheet_part)
    for col in root.iter(f"{_M}col"):
        if int(col.get("min", "0")) <= 2 <= int(col.get("max", "0")):
            return float(col.get("width", "0")) >= WIDE_COLUMN
    return False


def _vml_part(pkg: Package, sheet_part: str) -> str | None:
    rels = pkg.rels(sheet_part).of_type(REL_VML_DRAWING)
    return rels[0].target if rels else None


def _buttons_in(pkg: Package, sheet_part: str) -> list[Button]:
    vml = _vml_part(pkg, sheet_part)
    if vml is None:
        return []
    text = pkg.read(vml).decode("utf-8", "replace")
    return [Button("", "", m) for m in re.findall(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", text, re.S)]


def _add_button(pkg: Package, sheet_part: str, code_name: str | None) -> None:
    """Put the button on a sheet: in its VML drawing (notes live there too) or in a new one."""
    vml = _vml_part(pkg, sheet_part)
    if vml is not None:
        # Excel's VML is not always well-formed XML, so the shape is spliced in as text.
        text = pkg.read(vml).decode("utf-8")
        ids = [int(i) for i in re.findall(r"_x0000_s(\d+)", text)]
        shape = _button_shape(max(ids, default=1024) + 1, _wide_column_b(pkg, sheet_part))
        if "_x0000_t201" not in text:
            shape = _SHAPETYPE + shape
        end = text.rindex("</xml>")
        pkg.write(vml, (text[:end] + shape + text[end:]).encode("utf-8"))
        sheet_changed = _set_code_name(pkg, sheet_part, code_name)
        if sheet_changed is not None:
            pkg.write(sheet_part, sheet_changed)
        return

    block = _free_id_block(pkg)
    vml = pkg.unused("xl/drawings/vmlDrawing{}.vml")
    pkg.write(vml, (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
        f'{_SHAPETYPE}{_button_shape(block * 1024 + 1, _wide_column_b(pkg, sheet_part))}</xml>').encode("utf-8"))
    if pkg.content_types.of(vml) != CT_VML:
        pkg.content_types.set_override(vml, CT_VML)
    rid = pkg.rels(sheet_part).add(REL_VML_DRAWING, vml)
    root = pkg.xml(sheet_part)
    el = etree.Element(f"{_M}legacyDrawing")
    el.set(f"{{{NS_R}}}id", rid)
    later = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname in _AFTER_LEGACY_DRAWING), None)
    if later is None:
        root.append(el)
    else:
        later.addprevious(el)
    _code_name_on(root, code_name)
    pkg.write(sheet_part, to_xml(root))


def _set_code_name(pkg: Package, sheet_part: str, code_name: str | None) -> bytes | None:
    if not code_name:
        return None
    root = pkg.xml(sheet_part)
    _code_name_on(root, code_name)
    return to_xml(root)


def _code_name_on(root: etree._Element, code_name: str | None) -> None:
    """Bind the sheet to the project's document module of that name (sheetPr comes first)."""
    if not code_name:
        return
    pr = root.find(f"{_M}sheetPr")
    if pr is None:
        pr = etree.Element(f"{_M}sheetPr")
        root.insert(0, pr)
    if not pr.get("codeName"):
        pr.set("codeName", code_name)


def _free_id_block(pkg: Package) -> int:
    """A VML shape-id block (o:idmap data) no other drawing of the workbook uses."""
    used: set[int] = set()
    for name in pkg.names():
        if name.lower().endswith(".vml"):
            text = pkg.read(name).decode("utf-8", "replace")
            for m in re.finditer(r"<o:idmap\b[^>]*\bdata=\"([\d,\s]+)\"", text):
                used.update(int(x) for x in re.split(r"[,\s]+", m.group(1).strip()) if x)
    block = 1
    while block in used:
        block += 1
    return block


# Saving -------------------------------------------------------------------------------------------
__all__ = ["add_button", "init_with_button", "find_buttons", "vba_project", "Button", "ButtonResult",
           "CONF_SHEET", "MACRO", "MACRO_NAME", "REL_OFFICE_DOCUMENT"]
