"""What a person typed is never lost: count lists, -o targets, backups, their own columns beside an
output table, values typed into computed cells, output sheets others point into, protected books."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from fidelity import rewrite_zip
from ooxml import problems
from workbooks import MINIMAL, make_workbook

from inv_sheets.cli.main import main
from inv_sheets.contract.schema import OUTPUT
from inv_sheets.contract.sheetdata import sheet
from inv_sheets.io.write import write_sheets
from inv_sheets.refresh import empty_sheet, refresh

AS_OF = "2026-05-01"
STORE = {
    "Items": [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4.0], ["TEE-L", "Tee L", 4.5]],
    "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location"],
                  ["M1", pd.Timestamp("2026-03-01").to_pydatetime(), "receive", "TEE-M", 5, None, "MAIN"],
                  ["M2", pd.Timestamp("2026-03-02").to_pydatetime(), "receive", "TEE-L", 3, None, "MAIN"]],
    "Settings": [["Key", "Value"], ["as_of", AS_OF]],
}
# The parts a refresh may change besides its own sheets (README: "What a refresh promises").
BOOKKEEPING = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
               "docProps/app.xml", "xl/calcChain.xml"}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def output_parts(path: Path, names: list[str]) -> set[str]:
    """The parts of the named sheets and everything below them (tables, drawings, charts, rels)."""
    from inv_sheets.io.package import Package
    from inv_sheets.io.workbook import Workbook

    with Package(path) as pkg:
        book = Workbook(pkg)
        todo = [book.find(n).part for n in names if book.find(n) is not None]
        found: set[str] = set()
        while todo:
            part = todo.pop()
            found |= {part, f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels"}
            todo += [r.target for r in pkg.rels(part) if not r.external and r.target not in found]
    return found


# Nothing replaced without --force ---------------------------------------------------------------------
def test_count_sheet_replaces_its_untouched_list_but_never_one_with_counts_typed(tmp_path: Path) -> None:
    book = make_workbook(tmp_path / "store.xlsx", STORE)
    out = tmp_path / "count.xlsx"
    assert run("count-sheet", str(book), "--location", "MAIN", "-o", str(out)).exit_code == 0
    again = run("count-sheet", str(book), "--location", "MAIN", "-o", str(out))
    assert again.exit_code == 0, again.output  # an untouched list of its own: refreshed

    wb = openpyxl.load_workbook(out)
    ws = wb["Count sheet"]
    counted = [c.value for c in ws[5]].index("Counted qty") + 1
    ws.cell(6, counted, 4)  # the counter's figure
    wb.save(out)
    typed = out.read_bytes()
    refused = run("count-sheet", str(book), "--location", "MAIN", "-o", str(out))
    assert refused.exit_code == 3
    assert refused.stderr.count("\n") == 1 and "counts typed on it" in refused.stderr and "--force" in refused.stderr
    assert out.read_bytes() == typed
    forced = run("count-sheet", str(book), "--location", "MAIN", "-o", str(out), "--force")
    assert forced.exit_code == 0 and out.read_bytes() != typed


def test_count_sheet_never_replaces_a_store_workbook(tmp_path: Path) -> None:
    book = make_workbook(tmp_path / "store.xlsx", STORE)
    other = make_workbook(tmp_path / "other-store.xlsx", STORE)
    original, other_bytes = book.read_bytes(), other.read_bytes()
    for args in (["-o", str(book)], ["-o", str(book), "--force"]):
        result = run("count-sheet", str(book), "--location", "MAIN", *args)
        assert result.exit_code == 3 and "is the store workbook itself" in result.stderr
        assert book.read_bytes() == original
    result = run("count-sheet", str(book), "--location", "MAIN", "-o", str(other))
    assert result.exit_code == 3 and "not a count list" in result.stderr and "Traceback" not in result.output
    assert other.read_bytes() == other_bytes


@pytest.mark.parametrize("existing", ["workbook", "other file"])
@pytest.mark.parametrize("command", ["refresh", "normalise"])
def test_output_refuses_an_existing_file_unless_forced(tmp_path: Path, command: str, existing: str) -> None:
    sheets = dict(STORE, Items=STORE["Items"] + [[" tee-s ", "Tee S", 4.0]])  # something to normalise
    book = make_workbook(tmp_path / "store.xlsx", sheets)
    out = tmp_path / "out.xlsx"
    if existing == "workbook":
        make_workbook(out, {"Budget": [["Month", "Amount"], ["May", 120]]})
    else:
        out.write_bytes(b"a file of the user's")
    theirs = out.read_bytes()
    result = run(command, str(book), "-o", str(out))
    assert result.exit_code == 3 and "already exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == theirs
    forced = run(command, str(book), "-o", str(out), "--force")
    assert forced.exit_code in (0, 1), forced.output
    assert zipfile.is_zipfile(out)


def test_backups_never_overwrite_each_other_and_their_paths_are_printed(tmp_path: Path) -> None:
    sheets = dict(STORE, Items=STORE["Items"] + [[" tee-s ", "Tee S", 4.0]])
    book = make_workbook(tmp_path / "store.xlsx", sheets)
    original = book.read_bytes()
    normalised = run("normalise", str(book), "--in-place")
    assert normalised.exit_code == 0, normalised.output
    first = Path(normalised.stdout.strip().splitlines()[-1].split(" kept in ")[1])
    assert first.read_bytes() == original and first.name.startswith("store.bak-")
    after_normalise = book.read_bytes()
    refreshed = run("refresh", str(book), "--backup", "--as-of", AS_OF)
    assert refreshed.exit_code in (0, 1), refreshed.output
    second = Path(refreshed.stdout.strip().splitlines()[-1].split(" kept in ")[1])
    assert second != first and second.read_bytes() == after_normalise
    assert first.read_bytes() == original  # the un-normalised original is still there
    report = refresh(book, backup=True, as_of=AS_OF)
    assert Path(report.summary["backup"]) not in (first, second)


# Your own columns beside a computed table -------------------------------------------------------------
def _refreshed_store(tmp_path: Path) -> Path:
    book = make_workbook(tmp_path / "store.xlsx", STORE)
    refresh(book, as_of=AS_OF)
    return book


# Where things are on the Stock sheet: the table, the toolkit's Definitions link one column to its
# right, and the user's own columns after that.
STOCK_COLUMNS = [c.name for c in OUTPUT["Stock"].columns]
WIDTH = len(STOCK_COLUMNS)
COST = STOCK_COLUMNS.index("unit_cost") + 1
NOTE = WIDTH + 3  # the first free column right of the link


def _letter(column: int) -> str:
    return openpyxl.utils.get_column_letter(column)


def _stock_rows(book: Path, width: int) -> dict[str, list]:
    ws = openpyxl.load_workbook(book)["Stock"]
    return {row[0].value: [c.value for c in row] for row in ws.iter_rows(min_row=2, max_col=width) if row[0].value}


def test_own_columns_stay_with_their_row_keys_through_reordered_added_and_removed_rows(tmp_path: Path) -> None:
    book = _refreshed_store(tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb["Stock"]
    assert [c.value for c in ws[1]][WIDTH:WIDTH + 2] == [None, "Definitions"]  # the toolkit's link, not ours
    ws.cell(1, NOTE, "Note")  # one beside the table, one after a gap
    ws.cell(1, NOTE + 2, "Twice the cost")
    rows = {ws.cell(r, 1).value: r for r in range(2, 4)}
    ws.cell(rows["TEE-M"], NOTE, "called supplier 28/11")
    ws.cell(rows["TEE-L"], NOTE, "discontinued")
    ws.cell(rows["TEE-M"], NOTE + 2, f"={_letter(COST)}{rows['TEE-M']}*2")
    items = wb["Items"]
    items.delete_rows(3)  # TEE-L goes
    items.insert_rows(2)  # AAA comes first: every other row moves down
    for col, value in enumerate(["AAA", "First", 1.0], 1):
        items.cell(2, col, value)
    moves = wb["Movements"]
    moves.delete_rows(3)
    moves.append(["M3", pd.Timestamp("2026-03-03").to_pydatetime(), "receive", "AAA", 2, None, "MAIN"])
    wb.save(book)
    before = members(book)

    report = refresh(book, as_of=AS_OF)
    after = members(book)
    stock = _stock_rows(book, NOTE + 2)
    assert list(stock) == ["AAA", "TEE-M"]
    assert stock["TEE-M"][NOTE - 1] == "called supplier 28/11" and stock["AAA"][NOTE - 1] is None
    tee_m = 2 + list(stock).index("TEE-M")
    assert stock["TEE-M"][NOTE + 1] == f"={_letter(COST)}{tee_m}*2"  # the formula moved with its row
    assert [c.value for c in openpyxl.load_workbook(book)["Stock"][1]][WIDTH:NOTE + 2] == [
        None, "Definitions", "Note", None, "Twice the cost"]
    orphans = [[c.value for c in row] for row in openpyxl.load_workbook(book)["Orphaned Notes"].iter_rows()]
    assert orphans[1][:5] == ["Stock", "TEE-L / MAIN", "Note", "discontinued", "its row is gone"]
    assert [(i.code, i.value) for i in report.issues if i.code == "orphaned-note"] == [("orphaned-note", "discontinued")]
    # Everything but the output sheets and the bookkeeping parts is byte for byte as it was.
    written = report.summary["written"] + ["_inv_ledger"]
    mine = output_parts(book, written) | BOOKKEEPING
    assert {n: b for n, b in before.items() if n not in mine} == {n: b for n, b in after.items() if n not in mine}
    assert problems(book) == []

    again = refresh(book, as_of=AS_OF)  # the orphan is kept, once; the note stays
    assert not [i for i in again.issues if i.code in ("orphaned-note", "typed-over-output")]
    assert len(list(openpyxl.load_workbook(book)["Orphaned Notes"].iter_rows())) == 2
    assert _stock_rows(book, NOTE)["TEE-M"][NOTE - 1] == "called supplier 28/11"


def test_values_typed_into_computed_columns_are_kept_before_they_are_replaced(tmp_path: Path) -> None:
    book = _refreshed_store(tmp_path)
    untouched = refresh(book, as_of=AS_OF)
    assert not [i for i in untouched.issues if i.code == "typed-over-output"]
    wb = openpyxl.load_workbook(book)  # a save by another program: every part rewritten
    ws = wb["Stock"]
    row = next(r for r in range(2, 4) if ws.cell(r, 1).value == "TEE-M")
    ws.cell(row, COST, 99)  # a unit cost typed over the computed one
    wb.save(book)
    resaved_only = refresh(make_workbook(tmp_path / "twin.xlsx", STORE), as_of=AS_OF)
    assert not [i for i in resaved_only.issues if i.code == "typed-over-output"]

    report = refresh(book, as_of=AS_OF)
    found = [i for i in report.issues if i.code == "typed-over-output"]
    assert [(i.sheet, i.row, i.column) for i in found] == [("Stock", 1, _letter(COST))]
    assert _stock_rows(book, WIDTH)["TEE-M"][COST - 1] == 4  # the computed figure again
    orphans = [[c.value for c in r] for r in openpyxl.load_workbook(book)["Orphaned Notes"].iter_rows()]
    assert orphans[1][:4] == ["Stock", "TEE-M / MAIN", "Unit cost", 99]
    assert "typed over the computed 'Unit cost'; the refresh wrote 4" in orphans[1][4]
    listed = [[c.value for c in r] for r in openpyxl.load_workbook(book)["Issues"].iter_rows(max_col=6)]
    assert [f"Stock!{_letter(COST)}1", "Stock", 1, _letter(COST), "warning", "typed-over-output"] in listed  # on the Issues sheet too


# Output sheets are never removed; new ones take their place among the outputs ------------------------
def test_an_output_with_nothing_to_show_keeps_its_sheet_and_the_references_into_it(tmp_path: Path) -> None:
    from office import sheets_as_csv

    book = make_workbook(tmp_path / "store.xlsx", dict(STORE, Mine=[["Expiring qty"], ["=Expiry!E2"], ["=ExpiryQty"]]))
    rows = pd.DataFrame({"sku": ["TEE-M"], "batch": ["B1"], "location": ["MAIN"],
                         "expiry": [pd.Timestamp("2026-06-01")], "qty": [5.0], "days_left": [31], "flag": ["near"]})
    write_sheets(book, [sheet("Expiry", rows)])
    wb = openpyxl.load_workbook(book)
    wb.defined_names["ExpiryQty"] = openpyxl.workbook.defined_name.DefinedName("ExpiryQty", attr_text="Expiry!$E$2")
    wb.save(book)
    report = refresh(book, as_of=AS_OF)  # no batches: the Expiry feature has nothing to show
    wb = openpyxl.load_workbook(book)
    assert "Expiry" in wb.sheetnames and "Expiry" in report.summary["written"]
    assert [c.value for c in wb["Expiry"][2]][0] == f"No batch with an expiry on hand as of {AS_OF}."
    assert wb.defined_names["ExpiryQty"].attr_text == "Expiry!$E$2"
    assert problems(book) == []
    recalculated = sheets_as_csv(book, recalc=True)["Mine"]  # LibreOffice: no #NAME? or #REF!
    assert recalculated[1:3] == [["0"], ["0"]]


def test_new_output_sheets_take_their_place_among_the_outputs(tmp_path: Path) -> None:
    book = make_workbook(tmp_path / "store.xlsx", dict(STORE, Mine=[["notes"], ["x"]]))
    write_sheets(book, [empty_sheet("Stock", AS_OF)])
    wb = openpyxl.load_workbook(book)
    wb.move_sheet("Mine", offset=1)  # the user's own sheet after the outputs
    wb["Mine"].print_area = "A1:A2"  # a name scoped to that sheet (by its position)
    wb.active = wb.sheetnames.index("Mine")
    wb.save(book)
    assert wb.sheetnames == ["Items", "Movements", "Settings", "Stock", "Mine"]

    refresh(book, as_of=AS_OF)
    wb = openpyxl.load_workbook(book)
    # The Summary first among the outputs, the rest after Stock in their order; the user's sheet
    # stays where it was, never between the outputs.
    visible = [name for name in wb.sheetnames if wb[name].sheet_state == "visible"]
    assert visible[:5] == ["Items", "Movements", "Settings", "Summary", "Stock"]
    assert visible[-1] == "Mine"
    assert wb["Mine"].print_area == "'Mine'!$A$1:$A$2"
    assert wb.active.title == "Mine"
    assert problems(book) == []


# A structure-protected workbook ----------------------------------------------------------------------
def _protect(book: Path) -> None:
    """Review > Protect Workbook in Excel: the structure is locked (openpyxl leaves an empty element)."""
    def lock(m: dict[str, bytes]) -> None:
        xml = m["xl/workbook.xml"]
        assert b"<workbookProtection/>" in xml
        m["xl/workbook.xml"] = xml.replace(b"<workbookProtection/>", b'<workbookProtection lockStructure="1"/>')
    rewrite_zip(book, lock)


def test_a_structure_protected_workbook_is_refused_unless_every_sheet_exists(tmp_path: Path) -> None:
    book = make_workbook(tmp_path / "store.xlsx", STORE)
    _protect(book)
    original = book.read_bytes()
    result = run("refresh", str(book))
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    assert "protected structure" in result.stderr and "Review > Protect Workbook" in result.stderr
    assert book.read_bytes() == original

    refreshed = make_workbook(tmp_path / "refreshed.xlsx", STORE)
    refresh(refreshed, as_of=AS_OF)
    tabs = openpyxl.load_workbook(refreshed).sheetnames
    _protect(refreshed)
    again = run("refresh", str(refreshed), "--as-of", "2026-05-02")  # replaces contents only
    assert again.exit_code in (0, 1), again.output
    assert openpyxl.load_workbook(refreshed).sheetnames == tabs
    assert b'lockStructure="1"' in members(refreshed)["xl/workbook.xml"]


@pytest.mark.slow
def test_own_columns_survive_a_libreoffice_save(tmp_path: Path) -> None:
    """LibreOffice rewrites every part (shared strings, its own styles and names): the note still
    comes back at its key."""
    import subprocess

    from office import TIMEOUT, soffice

    book = _refreshed_store(tmp_path)
    wb = openpyxl.load_workbook(book)
    ws = wb["Stock"]
    ws.cell(1, NOTE, "Note")
    ws.cell(next(r for r in range(2, 4) if ws.cell(r, 1).value == "TEE-L"), NOTE, "shelf 4")
    items = wb["Items"]
    items.insert_rows(2)  # a new first SKU moves TEE-L down
    for col, value in enumerate(["AAA", "First", 1.0], 1):
        items.cell(2, col, value)
    wb.save(book)
    out = tmp_path / "lo"
    done = subprocess.run([soffice(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(book)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    resaved = out / "store.xlsx"
    assert resaved.exists(), done.stdout + done.stderr
    refresh(resaved, as_of=AS_OF)
    stock = _stock_rows(resaved, NOTE)
    assert list(stock)[0] == "AAA" and stock["TEE-L"][NOTE - 1] == "shelf 4" and stock["TEE-M"][NOTE - 1] is None
