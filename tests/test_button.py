"""The macro-enabled workbook with a Refresh button: its VBA project, button, conf sheet and package."""

from __future__ import annotations

import hashlib
import importlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from inv_sheets.contract.issues import WorkbookLockedError, WriteError
from inv_sheets.excel import button
from inv_sheets.excel.button import CONF_ROWS, CONF_SHEET, MACRO, add_button, find_buttons, init_with_button
from inv_sheets.excel.resources import vba_project

olefile = pytest.importorskip("olefile", reason="olefile reads the VBA project (pip install olefile)")

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("button") / "store.xlsm"
    init_with_button(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> part name."""
    parts = members(path)
    wb = etree.fromstring(parts["xl/workbook.xml"])
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for s in wb.iterfind(".//m:sheet", NS):
        t = targets[s.get(f"{{{NS['r']}}}id")]
        out[s.get("name")] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    return out


def structural_problems(path: Path) -> list[str]:
    """What a strict reader would object to: parts without a content type, dangling relationships,
    duplicate sheet ids or relationship ids, worksheets whose type is not a worksheet's."""
    from inv_sheets.io.package import resolve_target

    parts = members(path)
    problems = []
    ct = etree.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in ct.iterfind("ct:Override", NS)}
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in ct.iterfind("ct:Default", NS)}
    for name in parts:
        if name == "[Content_Types].xml" or name.endswith("/"):
            continue
        if name not in overrides and name.rsplit(".", 1)[-1].lower() not in defaults:
            problems.append(f"no content type: {name}")
    for name in overrides:
        if name not in parts:
            problems.append(f"content type for a missing part: {name}")
    for name, data in parts.items():
        if not name.endswith(".rels"):
            continue
        folder, file = name.rsplit("/", 1) if "/" in name else ("", name)
        source = (folder.rsplit("_rels", 1)[0] + file[:-5]).lstrip("/")
        ids = [r.get("Id") for r in etree.fromstring(data)]
        if len(ids) != len(set(ids)):
            problems.append(f"duplicate relationship ids in {name}")
        for r in etree.fromstring(data):
            if r.get("TargetMode") == "External":
                continue
            target = resolve_target(source, r.get("Target"))
            if target not in parts:
                problems.append(f"{name}: {r.get('Id')} points at missing {target}")
    wb = etree.fromstring(parts["xl/workbook.xml"])
    ids = [s.get("sheetId") for s in wb.iterfind(".//m:sheet", NS)]
    if len(ids) != len(set(ids)):
        problems.append("duplicate sheetId")
    for sheet, part in sheet_parts(path).items():
        if overrides.get(part) != "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml":
            problems.append(f"{sheet}: {part} is not typed as a worksheet")
    return problems


# The workbook ---------------------------------------------------------------------------------------
def test_init_button_makes_a_macro_enabled_workbook(made):
    parts = members(made)
    ct = etree.fromstring(parts["[Content_Types].xml"])
    types = {o.get("PartName"): o.get("ContentType") for o in ct.iterfind("ct:Override", NS)}
    assert types["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert types["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    assert parts["xl/vbaProject.bin"] == button.vba_project()
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    assert [r.get("Target") for r in rels if r.get("Type").endswith("/vbaProject")] == ["vbaProject.bin"]
    assert structural_problems(made) == []


def test_the_button_runs_the_macro_that_runs_inv_sheets(made):
    assert find_buttons(made) == [button.Button("Start", "Refresh", MACRO)]
    macro = MACRO.split("!")[1]
    source = vba_project.module_source(button.vba_project())
    assert re.search(rf"^Sub {macro}\(\)\r\n\s+RunPython \"(.*)\"\r\nEnd Sub", source, re.M)
    command = re.search(r'RunPython "(.*)"', source).group(1)
    assert command == "import inv_sheets.excel; inv_sheets.excel.refresh()"
    # the Python it names exists and takes the caller's book by default
    module, call = re.fullmatch(r"import ([\w.]+); \1\.(\w+)\(\)", command).groups()
    func = getattr(importlib.import_module(module), call)
    assert callable(func) and func.__defaults__ == (None,)


def test_the_vba_project_is_xlwings_runtime_plus_one_module():
    ours, theirs = button.vba_project(), vba_project.xlwings_project()
    assert vba_project.module_names(ours) == ["ThisWorkbook", "Sheet1", "InvSheets", "Sheet2", "xlwings", "Dictionary"]
    for module in ("Dictionary", "ThisWorkbook", "Sheet1", "Sheet2"):
        assert vba_project.module_source(ours, module) == vba_project.module_source(theirs, module)
    # xlwings' runtime, but for the one line that tells a Mac user what to run
    runtime, original = vba_project.module_source(ours, "xlwings"), vba_project.module_source(theirs, "xlwings")
    assert runtime == original.replace(vba_project.MAC_SETUP_ORIGINAL, vba_project.MAC_SETUP_MESSAGE) != original
    project = olefile.OleFileIO(ours).openstream("PROJECT").read().decode("cp1252")
    assert "Module=InvSheets\r\n" in project and "Module1" not in project
    # version 0xFFFF in _VBA_PROJECT: Excel compiles every module from its source on open
    assert olefile.OleFileIO(ours).openstream("VBA/_VBA_PROJECT").read()[2:4] == b"\xff\xff"


def test_xlwings_is_pinned_to_the_release_whose_runtime_the_workbook_carries():
    """On a Mac, the runtime runs `xlwings-<its version>.applescript`, and `xlwings runpython install`
    installs the script of the xlwings pip installed: the two agree only when they are one release."""
    import tomllib

    import xlwings

    runtime = vba_project.module_source(button.vba_project(), "xlwings")
    version = re.search(r'Const XLWINGS_VERSION As String = "([^"]+)"', runtime).group(1)
    assert re.search(r"^'Version: (\S+)", runtime, re.M).group(1) == version
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"xlwings=={version}" in pyproject["project"]["dependencies"]
    assert xlwings.__version__ == version
    # the message a Mac user sees names that release and both commands
    message = vba_project.MAC_SETUP_MESSAGE
    assert '"python3 -m pip install xlwings==" & XLWINGS_VERSION' in message and "xlwings runpython install" in message
    assert message in runtime


def test_the_shipped_project_is_what_the_builder_makes():
    import xlwings

    version = re.search(r"'Version: (\S+)", vba_project.module_source(button.vba_project(), "xlwings")).group(1)
    if version != xlwings.__version__:
        pytest.skip(f"shipped project is from xlwings {version}, installed is {xlwings.__version__}")
    assert vba_project.build() == button.vba_project()


def test_the_conf_sheet_is_where_xlwings_looks(made):
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(made)).get_sheet_by_name(CONF_SHEET).to_python(skip_empty_area=False)
    keys = [r[0] for r in rows[:len(CONF_ROWS)]]
    assert keys == [k for k, _ in CONF_ROWS]
    assert keys[:2] == ["Interpreter_Win", "Interpreter_Mac"]
    assert rows[len(CONF_ROWS)][0] == ""  # xlwings reads A1 down to the first blank cell
    assert [r[1] for r in rows[6:9]] == [False, False, False]
    # xlwings must not map the workbook's OneDrive/SharePoint address to a folder before the refresh runs
    assert rows[keys.index("ADD_WORKBOOK_TO_PYTHONPATH")][1] is False
    runtime = vba_project.module_source(button.vba_project(), "xlwings")
    assert 'GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")' in runtime  # the key it reads, upper-cased
    assert list(sheet_parts(made))[-1] == CONF_SHEET  # appended: sheet indexes of the rest unchanged


def test_code_names_bind_the_projects_document_modules(made):
    parts = members(made)
    assert etree.fromstring(parts["xl/workbook.xml"]).find("m:workbookPr", NS).get("codeName") == "ThisWorkbook"
    names = {}
    for sheet, part in sheet_parts(made).items():
        pr = etree.fromstring(parts[part]).find("m:sheetPr", NS)
        if pr is not None and pr.get("codeName"):
            names[pr.get("codeName")] = sheet
    assert names == {"Sheet1": "Start", "Sheet2": CONF_SHEET}


# add-button -------------------------------------------------------------------------------------------
def test_add_button_touches_only_what_it_must(tmp_path):
    from inv_sheets.contract.template import build_workbook

    plain = tmp_path / "store.xlsx"
    build_workbook(plain)
    before_bytes = plain.read_bytes()
    result = add_button(plain)
    assert result.path == tmp_path / "store.xlsm" and plain.read_bytes() == before_bytes
    before, after = members(plain), members(result.path)
    start = sheet_parts(result.path)["Start"]
    start_rels = start.replace("worksheets/", "worksheets/_rels/") + ".rels"
    allowed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", start, start_rels}
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed <= allowed
    assert set(before) <= set(after)
    new = set(after) - set(before)
    assert new == {"xl/vbaProject.bin", sheet_parts(result.path)[CONF_SHEET], "xl/drawings/vmlDrawing1.vml"}
    assert structural_problems(result.path) == []


def test_add_button_twice_changes_nothing(made, tmp_path):
    copy = tmp_path / "again.xlsm"
    shutil.copy(made, copy)
    result = add_button(copy)
    assert result.added == ()
    assert copy.read_bytes() == made.read_bytes()


def test_a_button_joins_the_notes_already_on_the_start_sheet(tmp_path):
    """openpyxl declares VML namespaces on each element: the button's drawing must stay well-formed."""
    import openpyxl
    from openpyxl.comments import Comment

    from inv_sheets.contract.template import build_workbook

    build_workbook(tmp_path / "store.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "store.xlsx")
    wb["Start"]["A1"].comment = Comment("Our shop's stock", "me")
    wb.save(tmp_path / "notes.xlsx")
    result = add_button(tmp_path / "notes.xlsx")
    assert result.sheet == "Start" and "Start sheet" not in result.added
    vml = [v for n, v in members(result.path).items() if n.endswith(".vml")]
    start_vml = [v for v in vml if b"Button" in v]
    assert len(start_vml) == 1
    root = etree.fromstring(start_vml[0])  # raises on an undeclared prefix
    types = [e.get("ObjectType") for e in root.iter("{urn:schemas-microsoft-com:office:excel}ClientData")]
    assert types == ["Note", "Button"]
    assert find_buttons(result.path) == [button.Button("Start", "Refresh", MACRO)]
    assert structural_problems(result.path) == []


def test_a_workbook_with_its_own_macros_is_refused(tmp_path):
    from fidelity import build_xlsm

    path = build_xlsm(tmp_path / "theirs.xlsm")
    before = path.read_bytes()
    with pytest.raises(WriteError, match="already has macros of its own"):
        add_button(path)
    assert path.read_bytes() == before


def test_an_open_workbook_is_not_written(made, tmp_path):
    from inv_sheets.contract.template import build_workbook

    plain = tmp_path / "open.xlsx"
    build_workbook(plain)
    (tmp_path / "~$open.xlsm").write_bytes(b"")
    with pytest.raises(WorkbookLockedError):
        add_button(plain)
    assert not (tmp_path / "open.xlsm").exists()


def test_a_xlsx_name_is_refused_for_macros(tmp_path):
    with pytest.raises(WriteError, match=r"\.xlsm"):
        init_with_button(tmp_path / "store.xlsx")


# The command ----------------------------------------------------------------------------------------
def test_add_button_command(tmp_path):
    from inv_sheets.cli.main import main
    from inv_sheets.contract.template import build_workbook

    build_workbook(tmp_path / "s.xlsx")
    result = CliRunner().invoke(main, ["add-button", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    assert f"added macros, {CONF_SHEET}, button to {tmp_path / 's.xlsm'}" in result.stdout
    again = CliRunner().invoke(main, ["add-button", str(tmp_path / "s.xlsm")])
    assert again.exit_code == 0 and "already has the Refresh button" in again.stdout
    bad = CliRunner().invoke(main, ["add-button", str(tmp_path / "missing.xlsx")])
    assert bad.exit_code == 3 and "Traceback" not in bad.output


# Living with refresh and other programs -------------------------------------------------------------
def test_a_file_refresh_keeps_the_button(made, tmp_path):
    refresh = importlib.import_module("inv_sheets.refresh")
    try:
        importlib.import_module("inv_sheets.features.stock")
    except ModuleNotFoundError:
        pytest.skip("the refresh pipeline needs inv_sheets.features.stock")
    copy = tmp_path / "refreshed.xlsm"
    shutil.copy(made, copy)
    refresh.refresh(copy)
    before, after = members(made), members(copy)
    for name in ("xl/vbaProject.bin", "xl/drawings/vmlDrawing1.vml", sheet_parts(made)[CONF_SHEET]):
        assert hashlib.sha256(after[name]).digest() == hashlib.sha256(before[name]).digest(), name
    assert find_buttons(copy) == find_buttons(made)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it(made, tmp_path):
    out = tmp_path / "lo"
    done = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                           "--convert-to", "xlsx", "--outdir", str(out), str(made)],
                          capture_output=True, timeout=180)
    converted = out / "store.xlsx"
    assert done.returncode == 0 and converted.exists(), done.stderr
    from python_calamine import CalamineWorkbook

    names = CalamineWorkbook.from_path(str(converted)).sheet_names
    assert names[0] == "Start" and names[-1] == CONF_SHEET


# The VBA container formats ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000) | st.text(alphabet="Sub End RunPython\r\n'\"x=1()", max_size=9000).map(str.encode))
def test_vba_compression_round_trips(data):
    assert vba_project.decompress(vba_project.compress(data)) == data


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(
    # stream names start with "s" so none equals a storage name (CFB names ignore case)
    st.tuples(st.sampled_from(["", "VBA/", "A/B/"]), st.text(alphabet="abcxyz_0123", min_size=1, max_size=12)).map(
        lambda t: f"{t[0]}s{t[1]}"),
    st.binary(max_size=6000), min_size=1, max_size=12))
def test_compound_files_read_back(streams):
    data = vba_project.write_compound_file(streams)
    ole = olefile.OleFileIO(data)
    assert {"/".join(p): ole.openstream(p).read() for p in ole.listdir()} == streams


# Running add-button again on a workbook Excel has saved --------------------------------------------------
def project_with(base: bytes, *, sources: dict[str, str] | None = None, added: dict[str, tuple[str, str]] | None = None) -> bytes:
    """`base` with some modules' source replaced, and modules added (name -> (a module whose kind it
    takes, its source)), laid out as the VBA editor stores a project: the dir stream lists each module."""
    ole = olefile.OleFileIO(base)
    streams = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    records = vba_project._records(vba_project.decompress(streams["VBA/dir"]))
    for name, (like, source) in (added or {}).items():
        start = next(i for i, (rid, v) in enumerate(records) if rid == 0x19 and v == like.encode())
        end = next(i for i in range(start, len(records)) if records[i][0] == 0x2B) + 1
        copy = [(rid, name.encode() if rid in (0x19, 0x1A) else name.encode("utf-16-le") if rid in (0x47, 0x32)
                 else v) for rid, v in records[start:end]]
        done = next(i for i, (rid, _) in enumerate(records) if rid == 0x10)  # the dir stream's terminator
        records[done:done] = copy
        count = next(i for i, (rid, _) in enumerate(records) if rid == 0x0F)  # PROJECTMODULES
        records[count] = (0x0F, (int.from_bytes(records[count][1], "little") + 1).to_bytes(2, "little"))
        sources = {**(sources or {}), name: source}
    directory = vba_project._join(records)
    for name, source in (sources or {}).items():
        streams[f"VBA/{name}"] = vba_project.compress(source.encode("cp1252"))
        directory = vba_project._source_only(directory, name)
    streams["VBA/dir"] = vba_project.compress(directory)
    return vba_project.write_compound_file(streams)


def with_project(made: Path, folder: Path, project: bytes) -> Path:
    from fidelity import rewrite_zip

    copy = Path(shutil.copy(made, folder / "saved.xlsm"))
    rewrite_zip(copy, lambda m: m.update({"xl/vbaProject.bin": project}))
    return copy


SHEET_MODULE = ('Attribute VB_Name = "{}"\r\nAttribute VB_Base = "0{{00020820-0000-0000-C000-000000000046}}"\r\n'
                "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
                "Attribute VB_PredeclaredId = True\r\nAttribute VB_Exposed = True\r\nAttribute VB_TemplateDerived = False\r\n"
                "Attribute VB_Customizable = True\r\n")


def test_the_project_helper_writes_what_the_reader_reads():
    project = project_with(button.vba_project(), added={"Module7": ("InvSheets", "Sub Mine()\r\nEnd Sub\r\n")})
    found = {m.name: m for m in vba_project.modules(project)}
    assert list(found)[-1] == "Module7" and found["Module7"].code == ("Sub Mine()", "End Sub")
    assert not found["Module7"].document and found["Sheet2"].document


def test_empty_sheet_modules_excel_adds_are_not_code(made, tmp_path):
    """Excel gives every sheet a module when it saves; with "Require Variable Declaration" on, each
    holds `Option Explicit`. Neither is code of the user's: add-button has nothing to do."""
    saved = project_with(button.vba_project(), added={
        "Sheet3": ("Sheet2", SHEET_MODULE.format("Sheet3") + "Option Explicit\r\n"),
        "Sheet4": ("Sheet2", SHEET_MODULE.format("Sheet4"))})
    assert button.foreign_code(saved) == []
    copy = with_project(made, tmp_path, saved)
    before = copy.read_bytes()
    assert add_button(copy).added == ()
    assert copy.read_bytes() == before


@pytest.mark.parametrize("edit, culprit", [
    ({"added": {"Module1": ("InvSheets", 'Sub Report()\r\n    MsgBox "mine"\r\nEnd Sub\r\n')}}, "Module1"),
    ({"sources": {"Sheet2": SHEET_MODULE.format("Sheet2") + "Private Sub Worksheet_Change(ByVal Target As Range)\r\n"
                            "    Beep\r\nEnd Sub\r\n"}}, "Sheet2"),
    ({"sources": {"InvSheets": vba_project.MODULE_SOURCE.replace("End Sub", '    MsgBox "done"\r\nEnd Sub')}}, "InvSheets"),
], ids=["a module of their own", "code in a sheet module", "an edited macro"])
def test_code_inv_sheets_did_not_write_is_refused_in_one_line(made, tmp_path, edit, culprit):
    saved = project_with(button.vba_project(), **edit)
    assert button.foreign_code(saved) == [culprit]
    copy = with_project(made, tmp_path, saved)
    before = copy.read_bytes()
    with pytest.raises(WriteError, match=rf"code inv-sheets did not write \(module {culprit}\)") as refused:
        add_button(copy)
    assert "\n" not in str(refused.value)
    assert copy.read_bytes() == before
    from inv_sheets.cli.main import main

    result = CliRunner().invoke(main, ["add-button", str(copy)])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and culprit in result.stderr


def test_a_project_from_another_xlwings_release_is_brought_up_to_date(made, tmp_path):
    ours = button.vba_project()
    runtime = vba_project.module_source(ours, "xlwings")
    older = project_with(ours, sources={"xlwings": runtime.replace('"0.37.8"', '"0.36.0"').replace("0.37.8", "0.36.0")})
    assert button.foreign_code(older) == []
    copy = with_project(made, tmp_path, older)
    result = add_button(copy)
    assert result.added == ("updated macros",)
    assert members(copy)["xl/vbaProject.bin"] == ours
    assert structural_problems(copy) == []
    # the same release, edited by hand, is not another release: refused
    edited = project_with(ours, sources={"xlwings": runtime.replace("End Sub", "    Beep\r\nEnd Sub", 1)})
    assert button.foreign_code(edited) == ["xlwings"]


def test_the_guide_lists_every_message_the_button_shows():
    """docs/excel-button.md quotes the messages as the code writes them, and the release it pins."""
    import tomllib

    from inv_sheets.excel import live

    guide = " ".join((Path(__file__).parents[1] / "docs" / "excel-button.md").read_text(encoding="utf-8").split())
    runtime = vba_project.module_source(button.vba_project(), "xlwings")
    for message in ("Could not find Interpreter!",
                    "Your Conda version seems to be too old for the Conda settings. Use the Interpreter setting instead."):
        assert message in runtime and message in guide
    pin = next(d for d in tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "dependencies"] if d.startswith("xlwings"))
    version = pin.split("==")[1]
    assert f"xlwings-{version}.applescript" in guide and f"python3 -m pip install {pin}" in guide
    assert "The Refresh button needs the helper script of xlwings" in runtime
    assert f"The Refresh button needs the helper script of xlwings {version}" in guide
    assert live.CLOUD_NOTE in guide and "ADD_WORKBOOK_TO_PYTHONPATH" in guide
    for said_by_refresh in ("Rows with errors were left out of the figures; the Issues sheet lists each one at its cell, "
                            "with how to fix it.", "The workbook could not be refreshed:", "The refresh failed unexpectedly"):
        assert said_by_refresh in guide
    assert "already has macros of its own" in guide and "its macros hold code inv-sheets did not write" in guide
    assert "d4f940ab-401b-4efc-aadc-ad5f3c50688a" in guide and "py -m inv_sheets add-button" in guide
