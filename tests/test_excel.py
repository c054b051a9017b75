"""The Refresh button's Python side, run through xlwings' own Book and Range objects.

xlwings' remote engine (the one behind xlwings Server and xlwings Lite) needs no Excel: the
workbook arrives as JSON, `inv_sheets.excel.live.refresh` works on real xlwings objects, and every
change is recorded as an action. Playing those actions back gives the sheets the button leaves in
Excel, which must hold exactly what `inv-sheets refresh` writes into the file.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from remote_book import apply_actions, book_json, remote_engine

from inv_sheets.contract.issues import WorkbookLockedError
from inv_sheets.contract.schema import OUTPUT
from inv_sheets.contract.sheetdata import sheet
from inv_sheets.excel import live as excel
from inv_sheets.io.read import read_book as read_file
from inv_sheets.rules.validate import parse

pipeline = importlib.import_module("inv_sheets.refresh")  # the module (the package exports a function of that name)
ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo-store.xlsx"

xw = remote_engine()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo-store.xlsx"
    shutil.copy(DEMO, path)
    return path


def run_button(path: Path) -> tuple[dict, dict[str, list[list]], excel.Report | None]:
    """Press the button on the workbook at `path`: (recorded actions' book, sheets after, report)."""
    payload = book_json(path)
    book = xw.Book(json=payload)
    report = excel.refresh(book)
    return book.json(), apply_actions(payload, book.json()["actions"]), report


def norm(value):
    """A cell value in one comparable form, whichever way it was read."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def grid(rows) -> list[list]:
    """Rows normalised, with trailing empty rows and columns trimmed."""
    rows = [[norm(v) for v in r] for r in rows]
    width = max((max((i + 1 for i, v in enumerate(r) if v is not None), default=0) for r in rows), default=0)
    rows = [r[:width] + [None] * (width - len(r)) for r in rows]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def expected_grid(data) -> list[list]:
    """An output sheet as the pipeline computed it: header titles, then the rows; right of the header,
    past a gap column, the link to its definitions."""
    frame = data.frame()
    rows = [[c.title for c in data.columns]] + frame.astype(object).values.tolist()
    if data.definitions:
        rows[0] = rows[0] + [None, "Definitions"]
    return grid([[None if v is pd.NaT else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in r] for r in rows])


# Reading ------------------------------------------------------------------------------------------
def test_reads_the_same_store_as_the_file_reader(demo):
    live, _ = parse(excel.read_book(xw.Book(json=book_json(demo))))
    from_file, _ = parse(read_file(demo))
    assert set(live.titles) == set(from_file.titles)
    for name, frame in from_file.tables.items():
        pd.testing.assert_frame_equal(live.tables[name], frame, check_dtype=False, obj=name)
    assert live.settings == from_file.settings


def test_header_findings_point_at_the_same_cells(tmp_path):
    from workbooks import make_workbook

    path = make_workbook(tmp_path / "odd.xlsx", {
        "Items": [[None, None, None], [None, "SKU", "Name", "Colour"], [None, "A-1", "Tee", "red"]],
        "Movements": [["Movement ID", "Date", "Type", "SKU"]],
        "Notes": [["anything"]],
    })
    live = excel.read_book(xw.Book(json=book_json(path)))
    from_file = read_file(path)
    assert sorted((i.code, i.sheet, i.row, i.column) for i in live.issues) == \
        sorted((i.code, i.sheet, i.row, i.column) for i in from_file.issues)
    assert live.tables["Items"].letters == from_file.tables["Items"].letters == {"sku": "B", "name": "C"}
    assert list(live.tables["Items"].data.index) == [3]


# Writing ------------------------------------------------------------------------------------------
def test_button_writes_exactly_what_compute_produces(demo):
    _, sheets, report = run_button(demo)
    computed = pipeline.compute(read_file(demo)).sheets
    assert report is not None
    assert report.summary["written"] == [s.name for s in computed]
    for data in computed:
        assert grid(sheets[data.name]) == expected_grid(data), data.name
    for before in book_json(demo)["sheets"]:  # the user's sheets are as they were
        assert grid(sheets[before["name"]]) == grid(before["values"]), before["name"]


def test_button_output_equals_the_cli_refresh(demo, tmp_path):
    from python_calamine import CalamineWorkbook

    out = tmp_path / "refreshed.xlsx"
    pipeline.refresh(demo, output=out)
    _, sheets, report = run_button(demo)
    wb = CalamineWorkbook.from_path(str(out))
    for name in report.summary["written"]:
        from_file = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        assert grid(sheets[name]) == grid(from_file), name
    assert wb.sheet_names == list(sheets)  # same sheets, in the same order


def test_second_press_reuses_the_owned_sheets(demo, tmp_path):
    """On a workbook refreshed before, outputs go back onto their marked sheets, tables resized."""
    out = tmp_path / "refreshed.xlsx"
    pipeline.refresh(demo, output=out)
    book, sheets, report = run_button(out)
    funcs = [a["func"] for a in book["actions"]]
    assert "addSheet" not in funcs and "addTable" not in funcs and "namesAdd" not in funcs
    assert funcs.count("resizeTable") == len(report.summary["written"])
    computed = {s.name: s for s in pipeline.compute(read_file(out)).sheets}
    for name in report.summary["written"]:
        assert grid(sheets[name]) == expected_grid(computed[name]), name


def test_a_users_own_sheet_named_like_an_output_is_left_alone(tmp_path):
    from workbooks import MINIMAL, make_workbook

    path = make_workbook(tmp_path / "mine.xlsx", {**MINIMAL, "Issues": [["my own notes"]]})
    book, sheets, report = run_button(path)
    assert sheets["Issues"] == [["my own notes"]]
    assert "Issues (inv-sheets)" in report.summary["written"]
    marker = next(a for a in book["actions"] if a["func"] == "namesAdd" and a["args"][0] == "_invsheets_Issues")
    assert marker["args"][1] == "='Issues (inv-sheets)'!$A$1"


def test_text_that_excel_would_reinterpret_is_written_as_text():
    rows = pd.DataFrame({"cell": ["Items!A2"], "sheet": ["00123"], "row": [2], "column": ["1-2"],
                         "severity": ["=cmd"], "code": ["TRUE"], "message": ["+1"]})
    values = excel.sheet_values(sheet("Issues", rows))
    assert values[0][0] == "'Cell"
    assert values[1] == ["'Items!A2", "'00123", 2.0, "'1-2", "'=cmd", "'TRUE", "'+1"]


def test_values_keep_their_kinds():
    rows = pd.DataFrame({"date": [pd.Timestamp("2026-01-02"), pd.NaT], "location": ["MAIN", None],
                         "sku": ["A", "B"], "book_qty": [1.5, float("nan")], "within_tolerance": [True, False]})
    values = excel.sheet_values(sheet("Variance", rows))
    assert values[1][:4] == [dt.datetime(2026, 1, 2), "'MAIN", "'A", 1.5]
    assert values[2][:4] == [None, None, "'B", None]
    assert values[1][OUTPUT["Variance"].column_names().index("within_tolerance")] == "yes"


# Talking to the user ------------------------------------------------------------------------------
def test_a_workbook_that_cannot_run_gets_a_message_box_not_a_traceback(demo, monkeypatch):
    def locked(*_a, **_k):
        raise WorkbookLockedError("demo-store.xlsx is read-only")

    monkeypatch.setattr(pipeline, "compute", locked)
    book = xw.Book(json=book_json(demo))
    assert excel.refresh(book) is None
    alert = next(a for a in book.json()["actions"] if a["func"] == "alert")
    assert alert["args"][:2] == ["The workbook could not be refreshed: demo-store.xlsx is read-only", "inv-sheets"]
    assert alert["args"][3] == "critical"


def test_an_unexpected_failure_is_logged_and_explained(demo, monkeypatch, tmp_path):
    monkeypatch.setattr(excel, "LOG_FILE", tmp_path / "refresh.log")

    def broken(*_a, **_k):
        raise KeyError("on_hand")

    monkeypatch.setattr(pipeline, "compute", broken)
    book = xw.Book(json=book_json(demo))
    assert excel.refresh(book) is None
    alert = next(a for a in book.json()["actions"] if a["func"] == "alert")
    assert "KeyError" in alert["args"][0] and str(tmp_path / "refresh.log") in alert["args"][0]
    assert "Traceback" in (tmp_path / "refresh.log").read_text()
    assert "Traceback" not in alert["args"][0]


def test_summary_line_counts_findings(demo):
    _, _, report = run_button(demo)
    line = excel.summary_line(report)
    c = report.counts()
    assert line.startswith(f"inv-sheets: refreshed {len(report.summary['written'])} sheets as of ")
    assert f"{c['error']} errors, {c['warning']} warnings" in line



@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    from workbooks import MINIMAL, make_workbook

    return make_workbook(tmp_path_factory.mktemp("synced") / "store.xlsx", MINIMAL)


@pytest.fixture(scope="module")
def on_disk(small_store) -> dict[str, list[list]]:
    """The sheets the button leaves in a small store when it is an ordinary file on a local disk."""
    return run_button(small_store)[1]


@pytest.mark.parametrize("url", ["https://d.docs.live.net/1a2b3c4d5e6f/Documents/store.xlsx",
                                 "https://contoso.sharepoint.com/sites/shop/Shared Documents/store.xlsx"],
                         ids=["OneDrive", "SharePoint"])
def test_a_synced_workbook_xlwings_cannot_find_is_refreshed_from_the_open_workbook(small_store, on_disk, monkeypatch, url):
    """Excel names a workbook synced by OneDrive or SharePoint by its https:// address; xlwings' Book.fullname
    then maps it to a local file with its own code, which raises when the sync folder is unknown."""
    from xlwings.pro import _xlremote
    from xlwings.utils import fullname_url_to_local_path

    for var in ("OneDrive", "OneDriveConsumer", "OneDriveCommercial"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(Exception):  # noqa: B017 - xlwings' own error (or, for SharePoint here, its bug)
        fullname_url_to_local_path(url=url)
    monkeypatch.setattr(_xlremote.Book, "fullname", property(lambda self: fullname_url_to_local_path(url=url)))
    shown: list = []
    monkeypatch.setattr(_xlremote.App, "status_bar", property(lambda self: None, lambda self, text: shown.append(text)),
                        raising=False)

    actions, sheets, report = run_button(small_store)
    assert report is not None and report.summary["file_not_found"] and report.summary["output"] == "store.xlsx"
    assert not any(a["func"] == "alert" for a in actions["actions"])
    assert sheets == on_disk  # the same sheets as for a workbook on a local disk
    assert shown[-1] == excel.summary_line(report) and shown[-1].endswith(excel.CLOUD_NOTE)
    assert "OneDrive/SharePoint file was not found" in shown[-1]



def test_an_output_with_nothing_to_show_keeps_its_sheet_when_the_button_refreshes(demo, tmp_path, monkeypatch):
    """As in a file refresh: the button never deletes an output sheet; it writes its headers and why it is empty."""
    out = tmp_path / "refreshed.xlsx"
    pipeline.refresh(demo, output=out)
    compute = pipeline.compute

    def nothing_to_order(*args, **kwargs):
        result = compute(*args, **kwargs)
        result.sheets[:] = [s for s in result.sheets if s.name != "Purchase Plan"]
        return result

    monkeypatch.setattr(pipeline, "compute", nothing_to_order)
    book, sheets, report = run_button(out)
    assert "sheetDelete" not in [a["func"] for a in book["actions"]]
    assert "Purchase Plan" in report.summary["written"]
    assert sheets["Purchase Plan"][1][0].startswith("Nothing to order as of ")
    assert len([row for row in sheets["Purchase Plan"] if any(v not in (None, "") for v in row)]) == 2


def test_a_marker_pointing_at_an_input_sheet_never_makes_the_button_overwrite_it(tmp_path):
    from openpyxl import load_workbook
    from openpyxl.workbook.defined_name import DefinedName
    from workbooks import MINIMAL, make_workbook

    path = make_workbook(tmp_path / "marked.xlsx", MINIMAL)
    wb = load_workbook(path)
    wb.defined_names["_invsheets_Issues"] = DefinedName("_invsheets_Issues", attr_text="Movements!$A$1", hidden=True)
    wb.save(path)
    before = apply_actions(book_json(path), [])["Movements"]
    book, sheets, report = run_button(path)
    assert "Movements" not in report.summary["written"] and "Issues" in report.summary["written"]
    assert sheets["Movements"] == before
