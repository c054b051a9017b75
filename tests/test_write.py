"""The preserving writer: outputs go in, everything else in the user's workbook stays as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fidelity import build_xlsm, build_xlsx, rewrite_zip
from isal import isal_zlib
from lxml import etree
from ooxml import problems
from python_calamine import CalamineWorkbook

from inv_sheets.contract.issues import (
    EncryptedWorkbookError,
    NotAWorkbookError,
    WorkbookChangedError,
    WorkbookLockedError,
    WriteError,
)
from inv_sheets.contract.sheetdata import LineChart, SheetData, sheet
from inv_sheets.io import package as package_module
from inv_sheets.io.cells import clean_text, clean_texts, element_texts, encode
from inv_sheets.io.render import render
from inv_sheets.io.styles import MINIMAL_STYLES, StyleSheet
from inv_sheets.io.write import FileState, check_writable, write_sheets
from inv_sheets.refresh import empty_sheet

ALLOWED = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
           "docProps/app.xml", "xl/calcChain.xml"}
OWNED_PART = re.compile(r"xl/(worksheets|tables|drawings|charts)/(_rels/)?\w+\.xml(\.rels)?$")
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WEEKS = [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8), dt.datetime(2024, 1, 15)]


# Test data -------------------------------------------------------------------------------------------
def stock(on_hand_a: float = 7.0) -> SheetData:
    rows = pd.DataFrame({
        "sku": ["A", "B", " C ", 'D&<>"\''], "name": ["Apple", "Banana", "Cherry", "Date"],
        "location": ["MAIN"] * 4, "on_hand": [on_hand_a, 2.5, 0.0, -1.0], "reserved": [0, 1, 0, 0], "short": [0, 0, 0, 0],
        "available": [on_hand_a, 1.5, 0.0, -1.0], "unit_cost": [1.5, 0.25, 4.0, 2.0],
        "days_of_cover": [np.nan, np.inf, 3.25, 1234567.5], "status": ["ok", "low", "out", "negative"],
    })
    rows["value"] = rows["on_hand"] * rows["unit_cost"]
    return sheet("Stock", rows, fills={"status": {"low": "amber", "out": "red", "negative": "red", "ok": "green"}},
                 formulas={"value": "=E{row}*J{row}"})


def kpis() -> SheetData:
    rows = pd.DataFrame({"week": WEEKS, "inventory_accuracy": [0.9, 0.95, 1.0], "turnover": [1.5, 2.0, 2.25]})
    return sheet("KPIs", rows, notes=(("Turnover", "Cost of goods sold / average stock value"),
                                      ("Inventory accuracy", "Share of counts within tolerance")),
                 chart=LineChart("Weekly KPIs", "week", ("turnover", "inventory_accuracy"), "ratio"))


def issues() -> SheetData:
    rows = pd.DataFrame({"cell": ["Movements!D17", "'Item Locations'!B4"], "sheet": ["Movements", "Item Locations"],
                         "row": [17, 4], "column": ["D", "B"], "severity": ["error", "warning"],
                         "code": ["not-a-number", "unknown-reference"], "message": ["Text where a number belongs", "x"]})
    return sheet("Issues", rows, fills={"severity": {"error": "red", "warning": "amber"}})


def plan() -> SheetData:
    rows = pd.DataFrame({"supplier": ["S1", "S2"], "sku": ["A", "B"], "qty": [12, 6], "unit_cost": [1.5, 0.25],
                         "line_value": [18.0, 1.5], "order_value": [18.0, 1.5], "meets_min_order": [True, False]})
    return sheet("Purchase Plan", rows, hidden=True)


def outputs() -> list[SheetData]:
    return [stock(), kpis(), issues(), plan()]


# Helpers ---------------------------------------------------------------------------------------------
def digests(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def values(path: Path, name: str) -> list[list]:
    ws = openpyxl.load_workbook(path, keep_vba=True)[name]
    return [[c.value for c in row] for row in ws.iter_rows(max_col=ws.max_column)]


def sheet_part(path: Path, name: str) -> str:
    """The part name of a sheet, found the way a reader finds it."""
    with zipfile.ZipFile(path) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rid = next(s.get(f"{{{REL_NS}}}id") for s in book.iter(main + "sheet") if s.get("name") == name)
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


@pytest.fixture(params=["xlsx", "xlsm"])
def workbook(request, tmp_path: Path) -> Path:
    return build_xlsx(tmp_path / "store.xlsx") if request.param == "xlsx" else build_xlsm(tmp_path / "store.xlsm")


# Fidelity --------------------------------------------------------------------------------------------
def test_every_other_member_is_byte_identical_and_in_order(workbook: Path) -> None:
    before = digests(workbook)
    result = write_sheets(workbook, outputs())
    after = digests(workbook)
    assert result.sheets == ("Stock", "KPIs", "Issues", "Purchase Plan")
    for name, digest in before.items():
        if name not in ALLOWED:
            assert after.get(name) == digest, f"{name} changed"
    new = [n for n in after if n not in before]
    assert all(OWNED_PART.match(n) for n in new), new
    kept = [n for n in after if n in before]
    assert kept == [n for n in before if n in after]  # same order
    assert "xl/calcChain.xml" not in after
    with zipfile.ZipFile(workbook) as z:
        for name in ALLOWED & set(after):
            etree.fromstring(z.read(name))  # the edited ones still parse


def test_macro_workbook_keeps_vba_and_macro_content_type(tmp_path: Path) -> None:
    book = build_xlsm(tmp_path / "store.xlsm")
    vba = digests(book)["xl/vbaProject.bin"]
    write_sheets(book, outputs())
    assert digests(book)["xl/vbaProject.bin"] == vba
    assert b"macroEnabled" in members(book)["[Content_Types].xml"]
    assert book.suffix == ".xlsm"


def test_structure_is_clean_after_each_write(workbook: Path) -> None:
    assert problems(workbook) == []
    write_sheets(workbook, outputs())
    assert problems(workbook) == []
    write_sheets(workbook, [stock(9.0), issues()], placeholders=[empty_sheet("KPIs", "2026-12-07")])
    assert problems(workbook) == []


def test_readers_see_the_values(workbook: Path) -> None:
    write_sheets(workbook, outputs())
    rows = values(workbook, "Stock")
    assert rows[0] == ["SKU", "Name", "Location", "Bin", "On hand", "Reserved", "Short", "Available", "On order",
                       "Unit cost", "Value", "Days of cover", "Status"]
    assert rows[1] == ["A", "Apple", "MAIN", None, 7, 0, 0, 7, None, 1.5, "=E2*J2", None, "ok"]
    assert rows[3][0] == " C " and rows[4][0] == 'D&<>"\''
    assert rows[2][11] is None and rows[4][11] == 1234567.5  # inf -> empty
    cal = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("Stock").to_python()
    assert cal[1][:3] == ["A", "Apple", "MAIN"] and cal[1][10] == 10.5 and cal[2][10] == 0.625  # cached formula values
    kpi = values(workbook, "KPIs")
    assert [r[0] for r in kpi[1:4]] == WEEKS
    # Its definitions go to the Definitions sheet (refresh gathers them): the table stands alone.
    assert all(v is None for r in kpi for v in r[len(kpis().columns):])
    meets = plan().output.column_names().index("meets_min_order")
    assert values(workbook, "Purchase Plan")[1][meets] == "yes"
    links = openpyxl.load_workbook(workbook)["Issues"]
    assert links["A2"].hyperlink.location == "Movements!D17"
    assert links["A3"].hyperlink.location == "'Item Locations'!B4"


def test_output_sheets_are_appended_unselected_and_hidden_when_asked(workbook: Path) -> None:
    user_sheets = openpyxl.load_workbook(workbook, keep_vba=True).sheetnames
    write_sheets(workbook, outputs())
    wb = openpyxl.load_workbook(workbook, keep_vba=True)
    assert wb.sheetnames == user_sheets + ["Stock", "KPIs", "Issues", "Purchase Plan"]
    assert wb["Purchase Plan"].sheet_state == "hidden"
    assert wb["Stock"].freeze_panes == "A2"
    assert wb["Stock"].tables["tblStock"].ref == "A1:M5"
    for name in ("Stock", "KPIs", "Issues"):
        assert not wb[name].sheet_view.tabSelected
    assert b'fullCalcOnLoad="1"' in members(workbook)["xl/workbook.xml"]


def test_second_refresh_is_byte_identical_and_styles_do_not_grow(workbook: Path) -> None:
    write_sheets(workbook, outputs())
    first = members(workbook)
    write_sheets(workbook, outputs())
    second = members(workbook)
    assert sorted(first) == sorted(second)
    for name in first:
        if OWNED_PART.match(name) or name == "xl/styles.xml":
            assert first[name] == second[name], name


def test_replace_keeps_sheet_identity(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    write_sheets(book, [stock(), kpis()])
    part = sheet_part(book, "Stock")
    # Excel gives every sheet a codeName once the book has VBA; the replace must keep it.
    rewrite_zip(book, lambda m: m.__setitem__(part, m[part].replace(b"<dimension", b'<sheetPr codeName="Sheet9"/><dimension', 1)))
    ids_before = re.findall(rb'<sheet name="Stock" sheetId="(\d+)"', members(book)["xl/workbook.xml"])
    table_before = openpyxl.load_workbook(book)["Stock"].tables["tblStock"]
    write_sheets(book, [stock(42.0), kpis()])
    assert sheet_part(book, "Stock") == part
    assert b'<sheetPr codeName="Sheet9">' in members(book)[part]
    assert re.findall(rb'<sheet name="Stock" sheetId="(\d+)"', members(book)["xl/workbook.xml"]) == ids_before
    table = openpyxl.load_workbook(book)["Stock"].tables["tblStock"]
    assert (table.id, table.name) == (table_before.id, table_before.name)
    assert values(book, "Stock")[1][4] == 42
    assert problems(book) == []


def test_a_users_own_stock_sheet_is_never_overwritten(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx", user_stock=True)
    mine = sheet_part(book, "Stock")
    before = members(book)[mine]
    assert write_sheets(book, [stock()]).sheets == ("Stock (inv-sheets)",)
    assert write_sheets(book, [stock(3.0)], placeholders=[empty_sheet("KPIs", "2026-12-07")]).sheets == (
        "Stock (inv-sheets)",)  # no KPIs sheet to keep: none is made
    assert members(book)[mine] == before
    assert values(book, "Stock (inv-sheets)")[1][4] == 3
    write_sheets(book, [], placeholders=[empty_sheet("Stock", "2026-12-07")])  # our sheet, never the user's
    assert values(book, "Stock (inv-sheets)")[1][0] == "No stock to show as of 2026-12-07."
    assert members(book)[mine] == before
    assert problems(book) == []


def test_an_owned_sheet_renamed_by_the_user_is_followed(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    write_sheets(book, [stock()])

    def rename(m: dict[str, bytes]) -> None:  # what Excel does on rename: the sheet and the names that point at it
        m["xl/workbook.xml"] = m["xl/workbook.xml"].replace(b'name="Stock"', b'name="My stock"').replace(
            b"'Stock'!$A$1", b"'My stock'!$A$1")
    rewrite_zip(book, rename)
    assert write_sheets(book, [stock(5.0)]).sheets == ("My stock",)
    assert "Stock" not in openpyxl.load_workbook(book).sheetnames
    assert values(book, "My stock")[1][4] == 5


def test_an_output_with_nothing_to_show_keeps_its_sheet_and_drops_only_its_chart(workbook: Path) -> None:
    write_sheets(workbook, outputs())
    before = set(members(workbook))
    tabs = openpyxl.load_workbook(workbook, keep_vba=True).sheetnames
    empty = [empty_sheet(name, "2026-12-07") for name in ("KPIs", "Issues", "Purchase Plan")]
    write_sheets(workbook, [stock()], placeholders=empty)
    names = set(members(workbook))
    assert not any(n.startswith(("xl/charts/", "xl/drawings/drawing2")) and n not in before for n in names)
    book = openpyxl.load_workbook(workbook, keep_vba=True)
    assert book.sheetnames == tabs
    assert values(workbook, "KPIs")[1][0] == "No week to measure yet as of 2026-12-07."
    assert values(workbook, "Purchase Plan")[:2] == [
        [c.title for c in plan().columns], ["Nothing to order as of 2026-12-07."] + [None] * (len(plan().columns) - 1)]
    assert book["Purchase Plan"].sheet_state == "hidden"  # as it was
    assert len([n for n in names if n.startswith("xl/tables/")]) == len([n for n in before if n.startswith("xl/tables/")])
    assert b"_invsheets_KPIs" in members(workbook)["xl/workbook.xml"]
    assert problems(workbook) == []


def test_dates_in_a_1904_workbook(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "mac.xlsx", date1904=True)
    write_sheets(book, [kpis()])
    assert [r[0] for r in values(book, "KPIs")[1:4]] == WEEKS
    xml = members(book)[sheet_part(book, "KPIs")].decode()
    assert '<c r="A2" s=' in xml and "<v>43830</v>" in xml  # 2024-01-01: 45292 - 1462


# Refusals and failures: the original always stays byte-identical ------------------------------------
@pytest.mark.parametrize("lock", ["~$store.xlsx", "~$ore.xlsx", ".~lock.store.xlsx#"])
def test_a_lock_file_refuses_the_write(tmp_path: Path, lock: str) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    (tmp_path / lock).write_text("someone")
    with pytest.raises(WorkbookLockedError):
        write_sheets(book, outputs())
    assert book.read_bytes() == original


def test_a_read_only_file_refuses_the_write(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    book.chmod(0o444)
    try:
        with pytest.raises(WorkbookLockedError, match="read-only"):
            write_sheets(book, outputs())
    finally:
        book.chmod(0o644)
    assert book.read_bytes() == original


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    state = FileState.of(book)
    rewrite_zip(book, lambda m: None)  # another program saved it
    theirs = book.read_bytes()
    with pytest.raises(WorkbookChangedError):
        write_sheets(book, outputs(), expected=state)
    assert book.read_bytes() == theirs

    # ... and a save that lands while the new file is being built is caught just before the replace.
    state = FileState.of(book)
    save = package_module.Package.save

    def save_while_someone_saves(self, out, **kwargs) -> dict[str, int]:
        copied = save(self, out, **kwargs)
        with open(book, "ab") as f:
            f.write(b"\0")
        return copied
    monkeypatch.setattr(package_module.Package, "save", save_while_someone_saves)
    with pytest.raises(WorkbookChangedError):
        write_sheets(book, outputs(), expected=state)
    assert book.read_bytes() == theirs + b"\0"
    assert [p.name for p in tmp_path.iterdir()] == ["store.xlsx"]


@pytest.mark.parametrize("which", ["copied", "written"])
def test_bytes_damaged_on_the_way_to_disk_are_caught_before_the_replace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    """A member copied as stored is checked on its deflated bytes, a written one by inflating it."""
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    save = package_module.Package.save

    def save_then_damage(self, out, **kwargs) -> dict[str, int]:
        copied = save(self, out, **kwargs)
        out.flush()
        with zipfile.ZipFile(f"/proc/self/fd/{out.fileno()}") as z:
            infos = [i for i in z.infolist() if (i.filename in copied) == (which == "copied") and i.compress_size > 8]
            victim = max(infos, key=lambda i: i.compress_size)
            middle = (victim.header_offset + 30 + len(victim.orig_filename.encode()) + len(victim.extra)
                      + victim.compress_size // 2)
        byte = os.pread(out.fileno(), 1, middle)
        os.pwrite(out.fileno(), bytes([byte[0] ^ 0xFF]), middle)
        return copied
    monkeypatch.setattr(package_module.Package, "save", save_then_damage)
    with pytest.raises(WriteError, match="(damaged at|did not verify).*the workbook is unchanged"):
        write_sheets(book, outputs())
    assert book.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["store.xlsx"]


def test_members_deflated_on_threads_are_the_bytes_zipfile_writes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts are deflated on two threads as they are written (by ISA-L) and the save writes them
    itself: every byte of the file, headers and central directory included, is what
    ZipFile.writestr would have written with the same deflate, for a part replaced after it was
    first written too."""
    zipfiles_own = zipfile._get_compressor  # noqa: SLF001

    def same_deflate(compress_type: int, compresslevel: int | None = None):
        if compress_type == zipfile.ZIP_DEFLATED:
            return isal_zlib.compressobj(package_module.DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)
        return zipfiles_own(compress_type, compresslevel)

    monkeypatch.setattr(zipfile, "_get_compressor", same_deflate)
    book = build_xlsx(tmp_path / "store.xlsx")
    big = b"<x>" + b"".join(b'<r n="%d">%s</r>' % (i, os.urandom(i % 50).hex().encode()) for i in range(60_000)) + b"</x>"
    edited = {"xl/worksheets/sheet1.xml": big, "xl/new.xml": b"<y/>", "xl/empty.xml": b""}
    with package_module.Package(book) as pkg:
        pkg.write("xl/worksheets/sheet1.xml", b"<x>deflated as it is written, then replaced</x>")
        pkg.write("xl/gone.xml", b"<z/>")
        pkg.remove("xl/gone.xml")
        for name, data in edited.items():
            pkg.write(name, data)
        ours = tmp_path / "ours.xlsx"
        with open(ours, "wb") as out:
            copied = pkg.save(out, xml_parts=["xl/worksheets/sheet1.xml", "xl/new.xml"])
        theirs = tmp_path / "theirs.xlsx"
        with open(theirs, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dest:
            for name in pkg.names():
                if name in edited:
                    info = pkg._infos.get(name)  # noqa: SLF001
                    member = zipfile.ZipInfo(name, info.date_time if info else package_module._NEW_MEMBER_TIME)
                    member.compress_type = zipfile.ZIP_DEFLATED
                    member.external_attr = info.external_attr if info else 0o600 << 16
                    dest.writestr(member, edited[name])
                else:
                    package_module._copy_raw(pkg._zip, pkg._infos[name], dest)  # noqa: SLF001
    assert set(copied) == set(pkg.names()) - set(edited)
    assert ours.read_bytes() == theirs.read_bytes()


def test_a_sheet_that_is_not_well_formed_is_refused_before_the_replace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    write = package_module.Package.write

    def write_broken(self, name, data, content_type=None) -> None:
        if name.startswith("xl/worksheets/") and b"<sheetData>" in data:
            data = data.replace(b"</sheetData>", b"</sheetData", 1)
        write(self, name, data, content_type)

    monkeypatch.setattr(package_module.Package, "write", write_broken)
    with pytest.raises(WriteError, match="not well-formed XML.*the workbook is unchanged"):
        write_sheets(book, outputs())
    assert book.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["store.xlsx"]


def test_disk_full_leaves_the_original_whole(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    script = f"""
import resource, signal, sys
sys.path.insert(0, {str(Path(__file__).parents[1])!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from test_write import outputs
from inv_sheets.io.write import write_sheets
from inv_sheets.contract.issues import WriteError
try:
    write_sheets({str(book)!r}, outputs())
except WriteError as e:
    print("WriteError:", e)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "WriteError: could not write store.xlsx: the disk is full" in done.stdout, done.stdout + done.stderr
    assert book.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["store.xlsx"]


def test_output_elsewhere_and_backup(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    original = book.read_bytes()
    result = write_sheets(book, outputs(), output=tmp_path / "copy.xlsx")
    assert book.read_bytes() == original and result.path == tmp_path / "copy.xlsx"
    assert result.bytes == (tmp_path / "copy.xlsx").stat().st_size
    first = write_sheets(book, outputs(), backup=True).backup
    assert first.read_bytes() == original and first.name.startswith("store.bak-") and first.suffix == ".xlsx"
    assert book.read_bytes() != original
    second = write_sheets(book, [stock(1.0)], backup=True).backup
    assert second != first and first.read_bytes() == original  # a later backup never replaces an earlier one


@pytest.mark.parametrize("make, error", [
    (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le")), EncryptedWorkbookError),
    (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512), NotAWorkbookError),
    (lambda p: p.write_text("sku,qty\nA,1\n"), NotAWorkbookError),
    (lambda p: _zip(p, {"_rels/.rels": _rels("xl/workbook.bin"), "xl/workbook.bin": "x"}), NotAWorkbookError),
    (lambda p: _zip(p, {"_rels/.rels": _rels("xl/workbook.xml", strict=True), "xl/workbook.xml": "<workbook/>"}), NotAWorkbookError),
])
def test_files_that_are_not_editable_workbooks_are_refused(tmp_path: Path, make, error) -> None:
    path = tmp_path / "store.xlsx"
    make(path)
    original = path.read_bytes()
    with pytest.raises(error):
        check_writable(path)
    with pytest.raises(error):
        write_sheets(path, outputs())
    assert path.read_bytes() == original


def _rels(target: str, strict: bool = False) -> str:
    ns = "http://purl.oclc.org/ooxml/officeDocument/relationships" if strict else \
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument" Target="{target}"/></Relationships>')


def _zip(path: Path, parts: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        for name, text in parts.items():
            z.writestr(name, text)


# Rendering -------------------------------------------------------------------------------------------
def test_text_is_made_safe_for_xml_and_excel(tmp_path: Path) -> None:
    book = build_xlsx(tmp_path / "store.xlsx")
    nasty = ["bell\x07 and nul\x00", "x" * 40_000, "_x0041_ literal", "line\nbreak", "\ud800 lone surrogate"]
    rows = pd.DataFrame({"step": nasty, "status": ["done"] * 5, "missing": [math.nan, None, "3", "", "ok"]},
                        dtype=object)
    write_sheets(book, [sheet("Setup Checklist", rows)])
    # calamine decodes Excel's _xHHHH_ escapes as Excel does (openpyxl leaves them raw)
    got = [r[0] for r in CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Setup Checklist").to_python()[1:6]]
    assert got[0] == "bell and nul"
    assert len(got[1]) == 32_767
    assert got[2] == "_x0041_ literal"
    assert got[3] == "line\nbreak"
    assert got[4] == " lone surrogate"
    assert problems(book) == []


def test_dates_follow_excels_calendar() -> None:
    dates = pd.Series([dt.date(1, 1, 1), dt.date(1899, 6, 1), dt.date(1900, 1, 1), dt.date(1900, 2, 28),
                       dt.date(1900, 3, 1), None, dt.datetime(2024, 1, 1, 12)], dtype=object)
    got = encode(dates, date1904=False)
    assert got.classes == ["s", "s", "d", "d", "d", "", "d"]  # no serial before 1900: written as text
    assert got.texts == ["0001-01-01", "1899-06-01", "1", "59", "61", "", "45292.5"]  # 60 is Excel's 29 Feb 1900
    assert encode(pd.Series(pd.to_datetime(["2024-01-01"]).tz_localize("UTC")), date1904=True).texts == ["43830"]


def test_a_column_that_needs_no_cleaning_is_found_without_cleaning_it() -> None:
    """clean_texts skips a column it can tell needs nothing (plain ASCII, no _xHHHH_); whatever
    the column, the texts are those each text cleaned on its own gives."""
    pieces = ["a", "Z9", " ", "\t", "\n", "\r", "&", "<", ">", '"', "'", "_x0041_", "_x00g1_", "_X0041_", "\x00",
              "\x01", "\x1f", "\x7f", "é", "\ud800", "\ufffe", "€", "_", "x"]
    rng = np.random.default_rng(11)
    for _ in range(3000):
        texts = ["".join(rng.choice(pieces, rng.integers(0, 6))) for _ in range(rng.integers(1, 5))]
        assert clean_texts(texts) == [clean_text(t) for t in texts], texts
    long = ["b" * 32_767, "c" * 32_768]
    assert clean_texts(long) == [clean_text(t) for t in long]
    plain = ["SKU-1", "a b\tc\nd", "x_0041_"]
    assert clean_texts(plain) is plain


def test_a_column_for_text_elements_is_cleaned_and_told_whether_to_keep_its_spaces() -> None:
    """element_texts gives clean_texts' texts, and asks for xml:space="preserve" exactly when a
    text starts or ends with a space or holds a tab, a line feed or a carriage return."""
    pieces = ["a", " ", "\t", "\n", "\r", "&", "é", "_x0041_", "  ", ""]
    rng = np.random.default_rng(12)
    for _ in range(3000):
        texts = ["".join(rng.choice(pieces, rng.integers(0, 4))) for _ in range(rng.integers(1, 5))]
        cleaned, preserve = element_texts(texts)
        assert cleaned == clean_texts(texts), texts
        wants = any(t[:1] == " " or t[-1:] == " " or any(c in t for c in "\t\n\r") for t in texts)
        assert preserve == wants, texts
    assert element_texts([]) == ([], False)
    assert element_texts(["b", "\x00 a"]) == (["b", " a"], True)  # cleaning drops the NUL: a leading space


def test_whole_numbers_are_written_as_python_writes_them() -> None:
    """Whole numbers go to text column-wise (Arrow); the text is str(int) of each, whatever its size or sign."""
    values = np.concatenate([np.random.default_rng(7).integers(-10**15 + 1, 10**15, 50_000).astype(float),
                             [0.0, -0.0, 1.0, -1.0, 10**15 - 1, -(10**15 - 1), 2.0**31, -(2.0**63)]])
    got = encode(pd.Series(values), date1904=False)
    want = [str(int(v)) if abs(v) < 1e15 else repr(v) for v in values.tolist()]
    assert got.texts == want and set(got.classes) == {"n"}
    mixed = encode(pd.Series([1.0, 2.5, np.nan, -3.0, 1e16]), date1904=False)
    assert (mixed.classes, mixed.texts) == (["n", "n", "", "n", "n"], ["1", "2.5", "", "-3", "1e+16"])


def test_a_date_column_is_encoded_as_its_values_one_by_one() -> None:
    stamps = ["1899-06-01", "1899-12-31", "1899-12-31 06:00", "1900-01-01", "1900-02-28", "1900-03-01", None,
              "2024-01-01 12:00", "2024-01-02 00:00:00.5"]
    column = pd.Series(pd.to_datetime(stamps, format="ISO8601"))  # datetime64: the column-wise path
    got = encode(column, date1904=False)
    assert got.classes == ["s", "s", "s", "d", "d", "d", "", "d", "d"]
    assert got.texts == ["1899-06-01", "1899-12-31", "1899-12-31T06:00:00", "1", "59", "61", "", "45292.5",
                         repr(45293 + 0.5 / 86400)]
    got = encode(pd.Series(pd.to_datetime(["1903-12-31", "1904-01-01", "1904-01-02 18:00"], format="ISO8601")), date1904=True)
    assert (got.classes, got.texts) == (["s", "d", "d"], ["1903-12-31", "0", "1.75"])


def test_rendering_is_deterministic() -> None:
    """The same sheet renders to the same bytes (its speed is measured in benchmarks/, not here)."""
    n = 20_000
    rng = np.random.default_rng(7)
    rows = pd.DataFrame({
        "sku": [f"SKU-{i:06d}" for i in range(n)], "name": [f"Item {i} & co" for i in range(n)],
        "location": rng.choice(["MAIN", "SHOP"], n), "bin": [f"A{i % 40}" for i in range(n)],
        "on_hand": rng.integers(0, 500, n).astype(float), "reserved": rng.integers(0, 5, n),
        "available": rng.random(n) * 100, "on_order": rng.integers(0, 50, n), "unit_cost": rng.random(n) * 20,
        "value": rng.random(n) * 1000, "days_of_cover": rng.random(n) * 90, "status": rng.choice(["ok", "low"], n)})
    data = sheet("Stock", rows, fills={"status": {"low": "amber"}})
    styles = StyleSheet(MINIMAL_STYLES)
    first = render(data, sheet_name="Stock", table_id=1, table_name="tblStock", style=styles.xf)
    again = render(data, sheet_name="Stock", table_id=1, table_name="tblStock", style=styles.xf)
    assert first == again


# An independent engine -------------------------------------------------------------------------------
def test_libreoffice_reads_the_outputs_and_recalculates_user_formulas(tmp_path: Path) -> None:
    from office import sheets_as_csv, soffice
    soffice()
    book = build_xlsx(tmp_path / "store.xlsx")
    write_sheets(book, [stock(7.0), kpis()])
    cached = sheets_as_csv(book)
    assert cached["Stock"][1][:8] == ["A", "Apple", "MAIN", "", "7", "0", "0", "7"]
    assert cached["Stock"][2][10] == "0.625" and cached["Stock"][4][0] == 'D&<>"\''
    assert cached["KPIs"][1][:4] == ["2024-01-01", "90%", "", "1.5"]  # LibreOffice keeps % in raw mode
    recalculated = sheets_as_csv(book, recalc=True)
    assert recalculated["Summary"][4][1] == "7"  # =SUMIFS(Stock!E:E, Stock!A:A, "A") over the new sheet
    assert recalculated["Stock"][1][10] == "10.5"
    write_sheets(book, [stock(9.0), kpis()])
    assert sheets_as_csv(book, recalc=True)["Summary"][4][1] == "9"


def test_a_write_clears_temp_files_an_interrupted_write_left(tmp_path):
    import time

    from inv_sheets.io.save import STALE_TEMP_SECONDS, TEMP_PREFIX

    path = build_xlsx(tmp_path / "book.xlsx")
    old = tmp_path / f"{TEMP_PREFIX}old.tmp"
    fresh = tmp_path / f"{TEMP_PREFIX}fresh.tmp"
    for leftover in (old, fresh):
        leftover.write_bytes(b"half a zip")
    past = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(old, (past, past))
    write_sheets(path, [stock()])
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize("name", ["out.csv", "out.xlsm"])
def test_output_keeps_the_kind_of_workbook(tmp_path: Path, name: str) -> None:
    """A refreshed .xlsx written as .csv or .xlsm would not open as what its name says."""
    path = build_xlsx(tmp_path / "book.xlsx")
    with pytest.raises(WriteError):
        write_sheets(path, [stock()], output=tmp_path / name)
    assert not (tmp_path / name).exists()
