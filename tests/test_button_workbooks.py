"""add-button on workbooks other programs wrote: openpyxl, XlsxWriter, LibreOffice and Excel itself.

Each workbook gets a Start sheet of inv-sheets' own, first, with the button; every part of every
sheet the user had stays byte for byte what it was; every VML, drawing and VBA part is read back
with a namespace-aware parser (and olefile for the VBA project); sheet-scoped names and the open
tab still point at the same sheets. LibreOffice, as an independent reader, must list the macro
bound to the button. The Excel files are Apache POI's test files (tests/data/apache-poi).
"""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import zipfile
from pathlib import Path

import olefile
import pytest
from lxml import etree
from ooxml import problems

from inv_sheets.contract.issues import WriteError
from inv_sheets.excel import button
from inv_sheets.excel.button import CONF_SHEET, MACRO, START_SHEET, add_button, find_buttons
from inv_sheets.excel.resources import vba_project

POI = Path(__file__).parent / "data" / "apache-poi"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"


# Workbooks as each program writes them ---------------------------------------------------------------
def by_openpyxl(folder: Path) -> Path:
    """Notes on the first sheet (openpyxl declares VML namespaces per element), a second sheet open."""
    import openpyxl
    from openpyxl.comments import Comment

    wb = openpyxl.Workbook()
    items = wb.active
    items.title = "Items"
    items.append(["SKU", "Name"])
    items.append(["A-1", "Bolt"])
    items["A1"].comment = Comment("Your code for one thing", "me")
    moves = wb.create_sheet("Movements")
    moves.append(["Date", "SKU", "Qty"])
    moves["C1"].comment = Comment("Units in (+) or out (-)", "me")
    wb.active = 1
    items.sheet_view.tabSelected = False
    moves.sheet_view.tabSelected = True
    wb.save(folder / "openpyxl.xlsx")
    return folder / "openpyxl.xlsx"


def by_xlsxwriter(folder: Path) -> Path:
    """Notes, a table, a sheet-scoped name and a print area, the second sheet open."""
    import xlsxwriter

    path = folder / "xlsxwriter.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    items = wb.add_worksheet("Items")
    items.add_table("A1:B3", {"columns": [{"header": "SKU"}, {"header": "Name"}],
                              "data": [["A-1", "Bolt"], ["A-2", "Nut"]]})
    items.write_comment("A1", "Your code for one thing")
    moves = wb.add_worksheet("Movements")
    moves.write_row(0, 0, ["Date", "SKU", "Qty"])
    moves.write_comment("C1", "Units in (+) or out (-)")
    moves.print_area("A1:C20")
    wb.define_name("Movements!Kept", "=Movements!$A$1")
    moves.activate()
    wb.close()
    return path


def by_libreoffice(folder: Path) -> Path:
    """The openpyxl workbook saved again by LibreOffice (its own VML, styles and sheet XML)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    (folder / "in").mkdir()
    source = by_openpyxl(folder / "in")
    out = folder / "lo"
    subprocess.run([exe, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)], capture_output=True, timeout=180)
    made = out / "openpyxl.xlsx"
    assert made.exists(), "LibreOffice did not write the workbook"
    return made.rename(folder / "libreoffice.xlsx")


def by_excel(name: str):
    def copy(folder: Path) -> Path:
        return Path(shutil.copy(POI / name, folder / name))
    return copy


def by_inv_sheets(folder: Path) -> Path:
    from inv_sheets.contract.template import build_workbook

    build_workbook(folder / "template.xlsx")
    return folder / "template.xlsx"


WRITERS = {
    "openpyxl": by_openpyxl,
    "xlsxwriter": by_xlsxwriter,
    "excel-47089.xlsm": by_excel("47089.xlsm"),  # Excel 2007: seven sheets, a sheet-scoped print area
    "excel-SimpleWithComments.xlsx": by_excel("SimpleWithComments.xlsx"),  # Excel 2007: notes on the first sheet
    "libreoffice": by_libreoffice,
}


# Reading a package -------------------------------------------------------------------------------------
def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rels_of(parts: dict[str, bytes], part: str) -> list[tuple[str, str]]:
    """(type, resolved target) of a part's internal relationships."""
    folder, name = posixpath.split(part)
    rels = parts.get(posixpath.join(folder, "_rels", name + ".rels"))
    if rels is None:
        return []
    out = []
    for r in etree.fromstring(rels).iter(f"{PR}Relationship"):
        if r.get("TargetMode") == "External":
            continue
        target = r.get("Target")
        out.append((r.get("Type"), target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, target))))
    return out


def sheets(parts: dict[str, bytes]) -> list[tuple[str, str]]:
    """(name, part) of every sheet, in tab order."""
    targets = dict((r, t) for r, t in ((el.get("Id"), el.get("Target")) for el in
                                       etree.fromstring(parts["xl/_rels/workbook.xml.rels"])))
    out = []
    for s in etree.fromstring(parts["xl/workbook.xml"]).iter(f"{M}sheet"):
        t = targets[s.get(R_ID)]
        out.append((s.get("name"), t.lstrip("/") if t.startswith("/") else posixpath.normpath("xl/" + t)))
    return out


def sheet_closure(parts: dict[str, bytes], part: str) -> dict[str, bytes]:
    """A sheet's part, its relationships and every part they reach (notes, drawings, tables, ...)."""
    seen: dict[str, bytes] = {}
    todo = [part]
    while todo:
        p = todo.pop()
        if p in seen or p not in parts:
            continue
        seen[p] = parts[p]
        folder, name = posixpath.split(p)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        if rels in parts:
            seen[rels] = parts[rels]
        todo += [t for _, t in rels_of(parts, p)]
    return seen


def scoped_names(parts: dict[str, bytes]) -> dict[tuple[str, str], str]:
    """(name, the sheet it is scoped to) -> what it refers to, for every sheet-scoped defined name."""
    names = [n for n, _ in sheets(parts)]
    return {(dn.get("name"), names[int(dn.get("localSheetId"))]): dn.text
            for dn in etree.fromstring(parts["xl/workbook.xml"]).iter(f"{M}definedName")
            if dn.get("localSheetId") is not None}


def open_tab(parts: dict[str, bytes]) -> str:
    view = etree.fromstring(parts["xl/workbook.xml"]).find(f"{M}bookViews/{M}workbookView")
    return [n for n, _ in sheets(parts)][int(view.get("activeTab", "0")) if view is not None else 0]


# The workbooks with a button ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """writer -> (the workbook as written, the .xlsm add-button made of it), each made when first asked for."""
    cache: dict[str, tuple[Path, Path]] = {}

    def get(writer: str) -> tuple[Path, Path]:
        if writer not in cache:
            folder = tmp_path_factory.mktemp(writer)
            source = WRITERS[writer](folder)
            target = folder / "with-button.xlsm"
            add_button(source, output=target)
            cache[writer] = (source, target)
        return cache[writer]
    return get


# LibreOffice takes seconds to start: its workbook is among the slow tests.
@pytest.fixture(params=[pytest.param(w, marks=pytest.mark.slow) if w == "libreoffice" else w for w in WRITERS])
def pair(request, made) -> tuple[Path, Path]:
    return made(request.param)


def test_every_user_sheet_is_byte_identical(pair):
    source, target = pair
    before, after = members(source), members(target)
    user = sheets(before)
    assert [n for n, _ in sheets(after)] == [START_SHEET] + [n for n, _ in user] + [CONF_SHEET]
    for name, part in user:
        assert dict(sheets(after))[name] == part
        assert sheet_closure(after, part) == sheet_closure(before, part), name
    # and nothing else of theirs changed but what the workbook-level additions need
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed <= {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
    assert set(before) <= set(after)


def test_the_start_sheet_holds_the_button(pair):
    _, target = pair
    assert find_buttons(target) == [button.Button(START_SHEET, "Refresh", MACRO)]


def test_names_and_the_open_tab_still_point_at_the_same_sheets(pair):
    source, target = pair
    before, after = members(source), members(target)
    assert scoped_names(after) == scoped_names(before)
    assert open_tab(after) == open_tab(before)


def test_every_vml_drawing_and_vba_part_reads_back(pair):
    _, target = pair
    parts = members(target)
    strict = etree.XMLParser(resolve_entities=False)
    for name, data in parts.items():
        if name.endswith((".vml", ".xml", ".rels")):
            etree.fromstring(data, strict)  # well-formed, every prefix declared
    vml_parts = [n for n in parts if n.endswith(".vml")]
    assert vml_parts
    project = parts["xl/vbaProject.bin"]
    assert olefile.isOleFile(project)
    assert vba_project.module_names(project) == vba_project.module_names(button.vba_project())
    assert problems(target) == []


def test_add_button_again_changes_nothing(pair, tmp_path):
    _, target = pair
    copy = Path(shutil.copy(target, tmp_path / "again.xlsm"))
    assert add_button(copy).added == ()
    assert copy.read_bytes() == target.read_bytes()


def test_the_templates_own_start_sheet_is_reused(tmp_path):
    source = by_inv_sheets(tmp_path)
    result = add_button(source)
    assert result.sheet == START_SHEET and "Start sheet" not in result.added
    assert [n for n, _ in sheets(members(result.path))][0] == START_SHEET
    assert len(sheets(members(result.path))) == len(sheets(members(source))) + 1  # only xlwings.conf


def test_a_users_own_start_sheet_is_not_taken(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Start"
    wb.active["A1"] = "My own notes"
    wb.save(tmp_path / "own.xlsx")
    result = add_button(tmp_path / "own.xlsx")
    names = [n for n, _ in sheets(members(result.path))]
    assert names == [result.sheet, "Start", CONF_SHEET] and result.sheet != "Start"
    assert sheet_closure(members(result.path), dict(sheets(members(result.path)))["Start"]) == \
        sheet_closure(members(tmp_path / "own.xlsx"), "xl/worksheets/sheet1.xml")
    assert add_button(result.path).added == ()  # found again by its marker, not by its name


def test_excels_own_macros_are_refused_and_read(tmp_path):
    path = Path(shutil.copy(POI / "SimpleMacro.xlsm", tmp_path / "SimpleMacro.xlsm"))
    before = path.read_bytes()
    project = members(path)["xl/vbaProject.bin"]
    found = {m.name: m for m in vba_project.modules(project)}
    assert "Sub TestMacro()" in found["Module1"].code and not found["Module1"].document
    assert button.foreign_code(project) is None
    with pytest.raises(WriteError, match="already has macros of its own"):
        add_button(path)
    assert path.read_bytes() == before


# LibreOffice, an independent reader of the result ---------------------------------------------------------
def libreoffice_buttons(ods: Path) -> dict[str, list[tuple[str, str]]]:
    """Sheet -> (label, macro it runs) of each button LibreOffice made of the workbook's form buttons."""
    ns = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
          "form": "urn:oasis:names:tc:opendocument:xmlns:form:1.0",
          "script": "urn:oasis:names:tc:opendocument:xmlns:script:1.0",
          "xlink": "http://www.w3.org/1999/xlink"}
    with zipfile.ZipFile(ods) as zf:
        content = etree.fromstring(zf.read("content.xml"))
    out = {}
    for table in content.iterfind(".//table:table", ns):
        found = []
        for b in table.iterfind(".//form:button", ns):
            listener = b.find(".//script:event-listener", ns)
            found.append((b.get(f"{{{ns['form']}}}label"), listener.get(f"{{{ns['xlink']}}}href") if listener is not None else ""))
        if found:
            out[table.get(f"{{{ns['table']}}}name")] = found
    return out


@pytest.mark.slow
def test_libreoffice_binds_the_button_to_the_macro(made, tmp_path):
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    inputs = {writer: Path(shutil.copy(made(writer)[1], tmp_path / f"{writer}.xlsm")) for writer in WRITERS}
    subprocess.run([exe, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "ods",
                    "--outdir", str(tmp_path / "ods"), *map(str, inputs.values())], capture_output=True, timeout=300)
    macro = "vnd.sun.star.script:VBAProject.InvSheets.RefreshInventory?language=Basic&location=document"
    for writer, path in inputs.items():
        ods = tmp_path / "ods" / (path.stem + ".ods")
        assert ods.exists(), f"LibreOffice could not open the {writer} workbook"
        assert libreoffice_buttons(ods) == {START_SHEET: [("Refresh", macro)]}, writer
        with zipfile.ZipFile(ods) as zf:
            assert "Basic/VBAProject/InvSheets.xml" in zf.namelist(), writer


@pytest.mark.slow
def test_add_button_again_after_libreoffice_saved_the_workbook(made, tmp_path):
    """LibreOffice rewrites the VBA project (adding `Option ClassModule` to class modules) and names
    the button's macro its own way (`InvSheets.RefreshInventory`): neither is code or a button of
    the user's, so add-button has nothing to add and nothing to refuse."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    source = Path(shutil.copy(made("openpyxl")[1], tmp_path / "store.xlsm"))
    subprocess.run([exe, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to",
                    "xlsm:Calc MS Excel 2007 VBA XML", "--outdir", str(tmp_path / "saved"), str(source)],
                   capture_output=True, timeout=180)
    saved = tmp_path / "saved" / "store.xlsm"
    assert saved.exists(), "LibreOffice did not save the workbook"
    assert members(saved)["xl/vbaProject.bin"] != button.vba_project()  # LibreOffice wrote its own project
    assert button.foreign_code(members(saved)["xl/vbaProject.bin"]) == []
    [found] = find_buttons(saved)
    assert found.sheet == START_SHEET and button.runs_refresh(found.macro)
    before = saved.read_bytes()
    assert add_button(saved).added == ()
    assert saved.read_bytes() == before


def test_a_workbook_without_a_window_still_opens_on_the_users_sheet(tmp_path):
    """No <bookViews>: Excel would open on the first tab, the new Start sheet, while the user's first
    sheet is still marked selected (two tabs grouped). add-button gives it a window on the user's sheet."""
    import re

    from fidelity import rewrite_zip

    source = by_xlsxwriter(tmp_path)
    rewrite_zip(source, lambda m: m.update({"xl/workbook.xml": re.sub(
        rb"<bookViews>.*?</bookViews>", b"", m["xl/workbook.xml"], flags=re.S)}))
    assert b"bookViews" not in members(source)["xl/workbook.xml"]
    result = add_button(source)
    assert open_tab(members(result.path)) == "Items"  # the first tab before the Start sheet came
    assert problems(result.path) == []


def test_a_file_refresh_keeps_the_start_sheet_first_and_the_outputs_after_the_users_sheets(tmp_path):
    """The Start sheet's marker is not an output's: refresh puts its new sheets after the user's, and
    the next add-button still finds the Start sheet."""
    from workbooks import MINIMAL, make_workbook

    from inv_sheets.refresh import refresh

    source = make_workbook(tmp_path / "store.xlsx", MINIMAL)
    user = [n for n, _ in sheets(members(source))]
    result = add_button(source)
    assert result.sheet == START_SHEET and "Start sheet" in result.added
    report = refresh(result.path)
    assert report.summary["written"]
    names = [n for n, _ in sheets(members(result.path))]
    assert names[:len(user) + 1] == [START_SHEET, *user]
    assert set(report.summary["written"]) <= set(names[len(user) + 1:])
    assert find_buttons(result.path) == [button.Button(START_SHEET, "Refresh", MACRO)]
    assert add_button(result.path).added == ()
