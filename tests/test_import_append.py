"""Appending is as safe as refreshing: the rest of the file byte-identical, the Table, dropdowns and
conditional formats grown over the new rows, LibreOffice reading it; and a filled count list comes
back as Counts whose variances the next refresh shows."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import pandas as pd
from importfiles import SHOPIFY_HEADER, export, store_workbook
from office import sheets_as_csv
from ooxml import problems

from inv_sheets.features.counts import count_schedule
from inv_sheets.imports import import_files
from inv_sheets.io.append import NewRows, append_rows, extend_range
from inv_sheets.io.count_list import write_count_sheet
from inv_sheets.ledger.postings import build
from inv_sheets.refresh import refresh
from inv_sheets.rules.validate import load, parse


def sales(path: Path, n: int) -> Path:
    return export(path, SHOPIFY_HEADER, [
        {"Name": f"#{2000 + i}", "Financial Status": "paid", "Fulfillment Status": "fulfilled", "Currency": "EUR",
         "Created at": "2024-03-10 10:00:00 +0100", "Lineitem quantity": "1", "Lineitem name": "Mug",
         "Lineitem sku": "MUG", "Lineitem fulfillment status": "fulfilled"} for i in range(n)])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def sheet_part(path: Path, title: str) -> str:
    wb = openpyxl.load_workbook(path)
    return f"xl/worksheets/sheet{wb.sheetnames.index(title) + 1}.xml"


def test_appended_rows_leave_everything_else_byte_identical_and_grow_table_validation_and_formats(tmp_path):
    store = store_workbook(tmp_path / "store.xlsx")
    before = members(store)
    moves = sheet_part(store, "Movements")
    import_files(store, [sales(tmp_path / "o.csv", 6)])
    after = members(store)

    changed = {n for n in before if before[n] != after.get(n)} | (set(after) - set(before))
    table = "xl/tables/table1.xml"
    assert changed <= {moves, table, "xl/styles.xml", "xl/workbook.xml"}, changed
    assert [n for n in after] == [n for n in before]  # same members, same order
    assert re.search(rb'<table\b[^>]*\bref="A1:J11"', after[table])
    assert b'<autoFilter ref="A1:J11"' in after[table]
    assert b'sqref="C2:C11"' in after[moves] and b'sqref="E2:E11"' in after[moves]
    assert b'<dimension ref="A1:J11"/>' in after[moves]
    old = before[moves]
    rows_before = old[old.find(b"<sheetData>"):old.find(b"</sheetData>")]
    assert rows_before in after[moves]  # the existing rows are untouched bytes
    assert problems(store) == []

    seen = sheets_as_csv(store)["Movements"]
    assert len(seen) == 11 and seen[5][:5] == ["shopify:#2000:line1", "03/10/2024", "sale", "MUG", "1"]
    assert seen[1][1] == "01/02/2024"  # dates shown as the rows above show theirs
    typed, _ = parse(load(store))
    assert typed["Movements"].loc[6, "date"] == pd.Timestamp("2024-03-10")  # the date style carried down


def test_rows_go_below_the_last_value_not_below_formatted_empty_rows(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Movements"
    ws.append(["Movement ID", "Date", "Qty"])
    ws.append(["M-1", datetime(2024, 1, 1), 3])
    ws["C9"].number_format = "0.00"  # a formatted, empty cell far below
    ws["C40"].number_format = "0.00"
    wb.save(path)
    result = append_rows(path, [NewRows("Movements", [{"A": "M-2", "C": 4.0}] * 8)])
    assert result.rows == {"Movements": (3, 10)}
    back = openpyxl.load_workbook(path)["Movements"]
    assert [back.cell(r, 1).value for r in range(2, 11)] == ["M-1"] + ["M-2"] * 8
    assert back["C9"].number_format == "0.00"  # the new row took row 9's own format
    assert back["C40"].number_format == "0.00" and back["C40"].value is None  # kept, still below


def test_ranges_grow_only_when_they_end_at_the_data():
    assert extend_range("C2:C5 E2:E5", 5, 9) == "C2:C9 E2:E9"
    assert extend_range("C2:C1000", 5, 9) == "C2:C1000"  # already covers the new rows
    assert extend_range("$C$2:$C$5", 5, 9) == "$C$2:$C$9"
    assert extend_range("H1", 5, 9) == "H1"
    assert extend_range("C7:C8", 5, 9) == "C7:C8"  # starts below the data: someone else's range


def test_a_filled_count_list_imports_into_counts_and_the_next_refresh_shows_its_variance(tmp_path):
    store = store_workbook(tmp_path / "store.xlsx")
    typed, _ = parse(load(store))
    ledger = build(typed)
    plan = count_schedule(typed, ledger)
    slot = plan[(plan["sku"] == "TEE-M") & (plan["location"] == "MAIN")]["slot"].iloc[0]
    day = ledger.as_of + pd.Timedelta(days=int(slot))  # the day TEE-M at MAIN is due
    listed = tmp_path / "count-MAIN.xlsx"
    n = write_count_sheet(typed, ledger, "MAIN", listed, date=day)
    assert n >= 1
    wb = openpyxl.load_workbook(listed)
    ws = wb.active
    header = next(r for r in range(1, 10) if "SKU" in [c.value for c in ws[r]])
    titles = [c.value for c in ws[header]]
    sku_col, counted_col = titles.index("SKU") + 1, titles.index("Counted qty") + 1
    book_col = titles.index("Book qty") + 1
    ws["A3"] = "Counted by: Ann    Checked by: ______________________    Time: ________"
    counted = {}
    for r in range(header + 1, header + 1 + n):
        sku = ws.cell(r, sku_col).value
        if sku != "TEE-M":
            continue  # not counted: skipped, not a zero
        counted[sku] = ws.cell(r, book_col).value - 1
        ws.cell(r, counted_col, counted[sku])
    wb.save(listed)

    result = import_files(store, [listed])
    assert result.files[0].format == "counts"
    assert result.tally["new"] == 1 and result.tally["nothing"] == n - 1
    counts = parse(load(store))[0]["Counts"].set_index("sku")
    assert counts.loc["TEE-M", "counted_qty"] == counted["TEE-M"] and counts.loc["TEE-M", "counter"] == "Ann"
    assert counts.loc["TEE-M", "location"] == "MAIN"
    assert import_files(store, [listed]).tally["new"] == 0  # the same list twice: nothing more

    refresh(store, as_of=day)  # the day the list was counted: the day it is refreshed
    variance = pd.DataFrame(openpyxl.load_workbook(store, data_only=True)["Variance"].values)
    variance.columns = variance.iloc[0]
    row = variance[variance["SKU"] == "TEE-M"].iloc[0]
    assert row["Variance qty"] == -1


def test_a_count_list_laid_out_like_the_counts_sheet_reads_by_its_headers(tmp_path):
    store = store_workbook(tmp_path / "store.xlsx")
    listed = export(tmp_path / "counts.csv", ["Date", "Location", "SKU", "Batch", "Counted qty", "Counter", "Bin"], [
        {"Date": "2024-03-31", "Location": "MAIN", "SKU": "TEE-L", "Counted qty": "29", "Counter": "Bo", "Bin": "A1"},
        {"Date": "2024-03-31", "Location": "MAIN", "SKU": "TEE-XL", "Counted qty": "2"},
    ])
    result = import_files(store, [listed])
    assert result.tally["new"] == 1 and result.tally["refused"] == 1
    assert "did you mean" in next(i.message for i in result.issues if i.code == "import-unknown-sku")
    assert parse(load(store))[0]["Counts"].set_index("sku").loc["TEE-L", "counter"] == "Bo"


def test_a_workbook_saved_elsewhere_while_importing_is_not_overwritten(tmp_path, monkeypatch):
    import inv_sheets.imports as imports
    from inv_sheets.contract.issues import WorkbookChangedError

    store = store_workbook(tmp_path / "store.xlsx")
    planned = imports.plan_lines

    def saved_meanwhile(*args, **kwargs):  # the owner saves in Excel while the import plans
        wb = openpyxl.load_workbook(store)
        wb["Items"]["B2"] = "Organic tee (renamed)"
        wb.save(store)
        return planned(*args, **kwargs)

    monkeypatch.setattr(imports, "plan_lines", saved_meanwhile)
    with pytest.raises(WorkbookChangedError):
        import_files(store, [sales(tmp_path / "o.csv", 2)])
    assert openpyxl.load_workbook(store)["Items"]["B2"].value == "Organic tee (renamed)"
    assert not any(p.name.startswith(".~invsheets-") for p in tmp_path.iterdir())


def test_an_empty_table_grows_and_a_table_with_a_totals_row_is_refused(tmp_path):
    from openpyxl.worksheet.table import Table

    from inv_sheets.contract.issues import WriteError

    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order", "SKU", "Qty"])
    ws.add_table(Table(displayName="tblOrders", ref="A1:C2"))  # Excel's empty table: one blank row
    wb.save(path)
    append_rows(path, [NewRows("Orders", [{"A": "shopify:#1", "B": "MUG", "C": 1.0}] * 3)])
    with zipfile.ZipFile(path) as z:
        assert re.search(rb'ref="A1:C4"', z.read("xl/tables/table1.xml"))

    wb = openpyxl.load_workbook(path)
    wb["Orders"].tables["tblOrders"].totalsRowCount = 1
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(WriteError, match="totals row"):
        append_rows(path, [NewRows("Orders", [{"A": "shopify:#2", "B": "MUG", "C": 1.0}])])
    assert path.read_bytes() == before
