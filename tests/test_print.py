"""The output sheets on paper and at a glance.

The demo store's computed sheets are written by the real writer into a blank store workbook (the
demo's own ledger sheets print some 1,500 pages as their owner laid them out, which is not ours to
change), LibreOffice prints that workbook to PDF, and poppler reads each page: its size, and its
text, whose first line is the page header's sheet name. Fast tests check the parts the print setup
is made of without printing.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from office import Page, printed_pages

from inv_sheets.contract.schema import OUTPUT
from inv_sheets.contract.sheetdata import sheet
from inv_sheets.contract.template import build_workbook
from inv_sheets.features.summary import DEFINITIONS, SUMMARY
from inv_sheets.io.read import read_book
from inv_sheets.io.write import write_sheets
from inv_sheets.refresh import compute

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo-store.xlsx"
# What the demo's computed sheets print in, and the whole printed workbook with the blank store's
# Start and input sheets (LibreOffice 7.4, its default Letter paper). The counts are stated, not
# measured each time: a change that adds pages must change them here.
OUTPUT_PAGES = 50
WORKBOOK_PAGES = 65
PICK_LIST_PAGES = 3  # one page per location the demo picks from


@pytest.fixture(scope="module")
def demo_sheets():
    return compute(read_book(DEMO)).sheets


@pytest.fixture(scope="module")
def printed(demo_sheets, tmp_path_factory) -> dict[str, list[Page]]:
    """The demo's visible output sheets printed: sheet name -> its pages, in order."""
    path = tmp_path_factory.mktemp("print") / "printed.xlsx"
    build_workbook(path)
    write_sheets(path, [s for s in demo_sheets if not s.hidden])
    by_sheet: dict[str, list[Page]] = defaultdict(list)
    for page in printed_pages(path):
        by_sheet[page.first_line.split("  ")[0]].append(page)
    return by_sheet


def visible(demo_sheets):
    return [s for s in demo_sheets if not s.hidden]


@pytest.mark.slow
def test_every_output_sheet_prints_one_page_wide_with_its_header_on_every_page(printed, demo_sheets):
    for data in visible(demo_sheets):
        pages = printed[data.name]
        assert pages, f"{data.name} did not print"
        first, last = data.columns[0].title, data.columns[-1].title
        for number, page in enumerate(pages, 1):
            # Both ends of the header row on every page: nothing cut off to a second page across,
            # and the header repeated.
            lines = page.text.splitlines()
            header = next(line for line in lines if first in line and last in line.split(first, 1)[-1]) \
                if any(first in line for line in lines) else None
            assert header is not None, f"{data.name} page {number} lacks its header row {first} ... {last}"
            assert "Definitions" not in header, f"{data.name} prints its definitions link"
        wide = {round(p.width) > round(p.height) for p in pages}
        assert len(wide) == 1, f"{data.name} mixes page orientations"


@pytest.mark.slow
def test_the_printed_demo_has_a_bounded_page_count(printed, demo_sheets):
    counts = {name: len(pages) for name, pages in printed.items()}
    outputs = {s.name for s in visible(demo_sheets)}
    assert sum(counts[name] for name in outputs) == OUTPUT_PAGES, counts
    assert sum(counts.values()) == WORKBOOK_PAGES, counts
    assert counts[SUMMARY] == 1
    assert counts["Reorder"] <= 3
    assert counts["Start"] == 1  # each label on the page of its description


@pytest.mark.slow
def test_the_pick_list_prints_a_page_per_location(printed, demo_sheets):
    pick = next(s for s in demo_sheets if s.name == "Pick List").frame()
    pages = printed["Pick List"]
    assert len(pages) == pick["location"].nunique() == PICK_LIST_PAGES
    for page, (location, rows) in zip(pages, pick.groupby("location", sort=False)):
        body = page.text.split("Picked", 1)[1]
        assert all(sku in body for sku in rows["sku"]), f"page of {location} misses its lines"
        others = set(pick["location"]) - {location}
        assert not any(re.search(rf"^\s*{o}\s", body, re.M) for o in others), f"{location}'s page holds another location"


@pytest.mark.slow
def test_the_count_plan_prints_a_page_per_day_and_location(printed, demo_sheets):
    plan = next(s for s in demo_sheets if s.name == "Count Plan").frame()
    keys = plan["due"].dt.strftime("%Y-%m-%d") + " " + plan["location"]
    runs = (keys != keys.shift()).sum()  # a day's never-counted lines come first, so a location may recur
    pages = printed["Count Plan"]
    assert len(pages) == runs
    for page in pages:
        body = page.text.split("Counted", 1)[1]
        assert len(set(re.findall(r"^\s*(\d{4}-\d\d-\d\d)\s+([A-Z]+)\s", body, re.M))) == 1


# Without printing ---------------------------------------------------------------------------------
def print_names(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, name) -> reference of the print area and print titles openpyxl reads back."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, kind): ref for ws in wb for kind, ref in
            (("area", ws.print_area), ("titles", ws.print_title_rows)) if ref}


def test_each_output_sheet_prints_its_table_alone_with_its_header_repeated(tmp_path):
    path = tmp_path / "store.xlsx"
    build_workbook(path)
    rows = pd.DataFrame({"location": ["MAIN", "MAIN", "SHOP"], "bin": ["A1", "A2", "B1"], "sku": ["A", "B", "C"],
                         "qty": [2.0, 1.0, 5.0]})
    data = sheet("Pick List", rows, page_header="Corner shop · as of 2026-03-31", definitions="'Definitions'!A2")
    write_sheets(path, [data])
    write_sheets(path, [data])  # a second refresh replaces the names, never adds more
    names = print_names(path)
    assert names[("Pick List", "area")] == "'Pick List'!$A$1:$I$4"
    assert names[("Pick List", "titles")] == "$1:$1"
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        part = next(n for n in z.namelist() if n.startswith("xl/worksheets/") and b"Corner shop" in z.read(n))
        xml = z.read(part).decode()
    assert book.count("_xlnm.Print_Area") == 1
    # A new page where the location changes: after Excel row 3 (MAIN's last line).
    assert re.findall(r'<brk id="(\d+)"', xml) == ["3"]
    assert 'fitToWidth="1" fitToHeight="0"' in xml and '<pageSetUpPr fitToPage="1"/>' in xml
    assert "Corner shop · as of 2026-03-31" in xml and "&amp;P of &amp;N" in xml
    ws = openpyxl.load_workbook(path)["Pick List"]
    assert ws["K1"].value == "Definitions" and ws["K1"].hyperlink.location == "'Definitions'!A2"


def test_a_quantity_column_has_one_number_format(tmp_path):
    path = tmp_path / "store.xlsx"
    build_workbook(path)
    whole = pd.DataFrame({"sku": ["A", "B"], "on_hand": [143.0, 2.0]})
    mixed = pd.DataFrame({"sku": ["A", "B", "C"], "on_hand": [143.0, 170.01, 2.0], "days_of_cover": [3.0, 1.5, 0.25]})
    write_sheets(path, [sheet("Stock", whole), sheet("Expiry", pd.DataFrame({"sku": ["A"], "qty": [2.5]}))])
    ws = openpyxl.load_workbook(path)["Stock"]
    assert {ws.cell(r, 5).number_format for r in (2, 3)} == {"#,##0"}
    write_sheets(path, [sheet("Stock", mixed)])
    ws = openpyxl.load_workbook(path)["Stock"]
    assert {ws.cell(r, 5).number_format for r in (2, 3, 4)} == {"#,##0.00"}  # 143.00, 170.01, 2.00
    cover = OUTPUT["Stock"].column_names().index("days_of_cover") + 1
    assert {ws.cell(r, cover).number_format for r in (2, 3, 4)} == {"#,##0.00"}


def test_the_reorder_sheet_reads_decision_first_and_wraps_why():
    names = OUTPUT["Reorder"].column_names()
    assert names[:6] == ["sku", "name", "flag", "suggested_qty", "supplier", "why"]
    assert OUTPUT["Reorder"].columns[names.index("why")].wrap


def test_summary_counts_the_rows_of_the_sheets_it_links_to(demo_sheets):
    summary = demo_sheets[0]
    assert summary.name == SUMMARY and demo_sheets[-1].name in (DEFINITIONS, "_inv_ledger")
    lines = dict(zip(summary.rows["what"], summary.rows["value"]))
    see = dict(zip(summary.rows["what"], summary.rows["see"]))
    frames = {s.name: s.frame() for s in demo_sheets}
    reorder, expiry = frames["Reorder"], frames["Expiry"]
    assert lines["SKUs to reorder today"] == reorder.loc[reorder["flag"] == "reorder", "sku"].nunique() > 0
    assert lines["Batches expired"] == (expiry["flag"] == "expired").sum()
    assert lines["Warnings"] == (frames["Issues"]["severity"] == "warning").sum()
    short = frames["Allocation"]
    assert lines["Orders that cannot be filled"] == short.loc[short["status"] == "short", "order"].nunique()
    assert see["SKUs to reorder today"] == "Reorder" and see["Warnings"] == "Issues"


def test_definitions_gather_every_sheets_notes_each_linked_from_its_sheet(demo_sheets):
    definitions = next(s for s in demo_sheets if s.name == DEFINITIONS).frame()
    for data in demo_sheets:
        if data.notes:
            assert data.definitions, f"{data.name} has notes but no link to them"
            row = int(data.definitions.rsplit("A", 1)[1])
            block = definitions.iloc[row - 2:]
            assert block.iloc[0]["sheet"] == data.name
            assert set(t for t, _ in data.notes) <= set(block.loc[block["sheet"] == data.name, "term"])


def test_a_store_name_heads_every_page(tmp_path):
    path = tmp_path / "named.xlsx"
    build_workbook(path, {
        "Items": pd.DataFrame({"sku": ["A"], "name": ["Apple"]}),
        "Movements": pd.DataFrame({"movement_id": ["M1"], "date": [pd.Timestamp("2026-03-01")], "type": ["receive"],
                                   "sku": ["A"], "qty": [5], "to_location": ["MAIN"]}),
        "Locations": pd.DataFrame({"location": ["MAIN"], "kind": ["stock"]}),
        "Settings": pd.DataFrame({"key": ["store_name", "as_of"], "value": ["Corner & Co", "2026-03-31"]}),
    })
    sheets = compute(read_book(path)).sheets
    assert {s.page_header for s in sheets if not s.hidden} == {"Corner & Co · as of 2026-03-31"}


def test_a_long_why_wraps_in_a_row_tall_enough_and_numbers_keep_clear_of_the_next_column(tmp_path):
    path = tmp_path / "store.xlsx"
    build_workbook(path)
    why = "position 2 is at or below reorder point 2; order 10 = up to max stock 8 - 2 = 6, rounded up " * 3
    rows = pd.DataFrame({"sku": ["A", "B"], "flag": ["reorder", "ok"], "suggested_qty": [10.0, 0.0],
                         "supplier": ["SUP-TEX", "SUP-TEX"], "why": [why, "fine"]})
    write_sheets(path, [sheet("Reorder", rows)])
    ws = openpyxl.load_workbook(path)["Reorder"]
    at = {c.value: c.column_letter for c in ws[1]}
    cell = ws[f"{at['Why']}2"]
    assert cell.alignment.wrap_text and ws.column_dimensions[at["Why"]].width <= 50
    lines = ws.row_dimensions[2].height / 15
    assert len(why) / (50 * 1.3) < lines <= len(why) / 40 + 1  # about as many lines as the text takes
    assert ws.row_dimensions[3].height is None  # a short why keeps the default height
    qty = ws[f"{at['Suggested qty']}2"]
    assert (qty.alignment.horizontal, qty.alignment.indent) == ("right", 1)
    assert ws[f"{at['Flag']}2"].alignment.vertical == "top"  # beside a tall cell, at its top
