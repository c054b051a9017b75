"""Ledger integrity: movement rows edited or deleted after a refresh saw them are reported at their cell."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from storefactory import make_store, mv
from workbooks import make_workbook

from inv_sheets import integrity
from inv_sheets.contract.schema import O as _out
from inv_sheets.contract.schema import Output
from inv_sheets.contract.sheetdata import SheetData
from inv_sheets.integrity import (
    FINGERPRINTED,
    SHEET_NAME,
    fingerprints,
    ledger_check,
    read_seen,
    seen_from_frame,
    seen_from_rows,
)
from inv_sheets.io.write import write_sheets
from inv_sheets.refresh import compute, refresh
from inv_sheets.rules.validate import load

HEADER = ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Note"]
ROWS = [
    ["M1", "2026-01-02", "receive", "TEE-M", 10, None, "MAIN", None],
    ["M2", "2026-01-03", "sale", "TEE-M", 3, "MAIN", None, None],
    ["M3", "2026-01-04", "receive", "TEE-L", 5, None, "MAIN", "first delivery"],
]


def sheets(rows: list[list[object]]) -> dict[str, list[list[object]]]:
    return {"Items": [["SKU", "Name"], ["TEE-M", "Tee M"], ["TEE-L", "Tee L"]],
            "Locations": [["Location"], ["MAIN"]],
            "Movements": [HEADER, *rows],
            "Settings": [["Key", "Value"], ["as_of", "2026-01-31"]]}


def run(tmp_path: Path, rows: list[list[object]], seen: pd.DataFrame | None = None, name: str = "s.xlsx"):
    """compute() on a workbook of these movement rows: its ledger findings and its fingerprints
    (the hidden sheet's rows unpacked)."""
    result = compute(load(make_workbook(tmp_path / name, sheets(rows))), seen=seen)
    ledger_sheet = next(s for s in result.sheets if s.name == SHEET_NAME)
    found = [i for i in result.report.issues if i.code.startswith("ledger-row")]
    return found, seen_from_frame(ledger_sheet.rows)


def test_a_first_refresh_only_records(tmp_path: Path) -> None:
    found, seen = run(tmp_path, ROWS)
    assert found == []
    assert list(seen["movement_id"]) == ["M1", "M2", "M3"] and list(seen["row"]) == [2, 3, 4]
    assert seen["fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert seen["columns"].str.len().eq(2 * len(FINGERPRINTED)).all()


def test_an_edited_past_row_is_reported_at_the_changed_cell(tmp_path: Path) -> None:
    _, seen = run(tmp_path, ROWS)
    edited = [ROWS[0], ["M2", "2026-01-03", "sale", "TEE-M", 30, "MAIN", None, None], ROWS[2]]
    found, _ = run(tmp_path, edited, seen, "b.xlsx")
    assert [(i.code, i.cell, i.severity) for i in found] == [("ledger-row-edited", "Movements!E3", "warning")]
    assert "M2" in found[0].message and "Qty" in found[0].message


def test_every_changed_column_is_named(tmp_path: Path) -> None:
    _, seen = run(tmp_path, ROWS)
    edited = [ROWS[0], ROWS[1], ["M3", "2026-01-05", "receive", "TEE-L", 5, None, "MAIN", "second delivery"]]
    (issue,), _ = run(tmp_path, edited, seen, "b.xlsx")
    assert issue.cell == "Movements!B4" and "Date" in issue.message and "Note" in issue.message
    assert "Qty" not in issue.message


def test_a_deleted_past_row_is_reported_with_the_row_it_had(tmp_path: Path) -> None:
    _, seen = run(tmp_path, ROWS)
    found, _ = run(tmp_path, [ROWS[0], ROWS[2]], seen, "b.xlsx")
    assert [(i.code, i.cell) for i in found] == [("ledger-row-deleted", "Movements!3:3")]
    assert "M2" in found[0].message


def test_appending_moving_and_retyping_rows_are_not_edits(tmp_path: Path) -> None:
    _, seen = run(tmp_path, ROWS)
    retyped = ["M1", "2026-01-02", "RECEIVE", " tee-m ", "10", None, "main", None]  # same values, typed differently
    rows = [ROWS[2], ROWS[1], retyped, ["M4", "2026-01-06", "sale", "TEE-L", 1, "MAIN", None, None]]
    found, now = run(tmp_path, rows, seen, "b.xlsx")
    assert found == []
    assert dict(zip(now["movement_id"], now["row"])) == {"M3": 2, "M2": 3, "M1": 4, "M4": 5}


def test_an_edit_is_reported_until_the_row_is_put_back(tmp_path: Path) -> None:
    _, first = run(tmp_path, ROWS)
    edited = [ROWS[0], ["M2", "2026-01-03", "sale", "TEE-M", 30, "MAIN", None, None], ROWS[2]]
    found, second = run(tmp_path, edited, first, "b.xlsx")
    assert len(found) == 1
    again, third = run(tmp_path, edited, second, "c.xlsx")
    assert [i.cell for i in again] == ["Movements!E3"]  # the first fingerprint is kept, so it is still reported
    restored, _ = run(tmp_path, ROWS, third, "d.xlsx")
    assert restored == []


def test_a_row_with_an_error_now_is_not_called_deleted(tmp_path: Path) -> None:
    _, seen = run(tmp_path, ROWS)
    broken = [ROWS[0], ["M2", "2026-01-03", "sale", "NOPE", 3, "MAIN", None, None], ROWS[2]]
    found, now = run(tmp_path, broken, seen, "b.xlsx")
    assert found == []  # the row's own error (unknown-reference) says what is wrong with it
    assert "M2" in set(now["movement_id"])


def test_fingerprints_ignore_dtype_and_blank_columns() -> None:
    store = make_store(items=[{"sku": "A"}], locations=[{"location": "L"}],
                       movements=[mv("2026-01-02", "receive", "A", 10, to="L"), mv("2026-01-03", "sale", "A", 2, frm="L")])
    frame = store.tables["Movements"]
    base = fingerprints(frame)
    as_objects = frame.astype({"note": object, "batch": object, "qty": object})
    without_blank_columns = frame.drop(columns=["note", "batch", "channel"])
    assert base.equals(fingerprints(as_objects))
    assert base["fingerprint"].equals(fingerprints(without_blank_columns)["fingerprint"])
    negative_zero = frame.assign(unit_cost=-0.0)
    assert fingerprints(negative_zero)["fingerprint"].equals(fingerprints(frame.assign(unit_cost=0.0))["fingerprint"])


def test_junk_in_the_hidden_sheet_counts_as_no_history() -> None:
    assert seen_from_rows([]) is None
    assert seen_from_rows([["something", "else"], [1, 2]]) is None
    rows = [["movement_id", "row", "fingerprint", "columns"], ["m1", 2.0, "0123456789abcdef", "00"],
            [None, 3, "0123456789abcdef", ""], ["M3", "x", "0123456789abcdef", ""], ["M4", 5, "short", ""]]
    seen = seen_from_rows(rows)
    assert list(seen["movement_id"]) == ["M1"] and list(seen["row"]) == [2]


def test_a_million_rows_are_fingerprinted_in_seconds() -> None:
    n = 1_000_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "movement_id": pd.Series([f"M{i}" for i in range(n)], dtype="str"),
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "type": pd.Series(rng.choice(["receive", "sale"], n), dtype="str"),
        "sku": pd.Series(rng.choice([f"SKU-{k}" for k in range(500)], n), dtype="str"),
        "qty": rng.integers(1, 20, n).astype(float),
    }, index=pd.RangeIndex(2, n + 2))
    started = time.perf_counter()
    result = fingerprints(frame)
    assert time.perf_counter() - started < 10
    assert len(result) == n and result["fingerprint"].nunique() == n


def test_refresh_keeps_the_fingerprints_in_a_hidden_sheet_and_reports_an_edit(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "store.xlsx", sheets(ROWS))
    refresh(path)
    with zipfile.ZipFile(path) as z:
        assert f'name="{SHEET_NAME}"'.encode() in z.read("xl/workbook.xml")
        assert b'state="hidden"' in z.read("xl/workbook.xml")
    assert list(read_seen(path)["movement_id"]) == ["M1", "M2", "M3"]
    first = refresh(path)
    assert not [i for i in first.issues if i.code.startswith("ledger-row")]  # idempotent: nothing changed

    wb = openpyxl.load_workbook(path)  # someone edits a past quantity and deletes a row
    wb["Movements"]["E2"] = 12
    wb["Movements"].delete_rows(3)
    wb.save(path)
    report = refresh(path)
    found = sorted((i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row"))
    assert found == [("ledger-row-deleted", "Movements!3:3"), ("ledger-row-edited", "Movements!E2")]


@pytest.mark.parametrize("seen", [None, pd.DataFrame(columns=["movement_id", "row", "fingerprint", "columns"])])
def test_no_history_means_no_findings(seen) -> None:
    store = make_store(items=[{"sku": "A"}], locations=[{"location": "L"}],
                       movements=[mv("2026-01-02", "receive", "A", 10, to="L")])
    issues, sheet = ledger_check(store, seen)
    assert issues == [] and len(sheet.rows) == 1 and sheet.hidden


def test_the_refresh_button_reads_the_same_fingerprints(tmp_path: Path) -> None:
    """The button (xlwings' remote engine, no Excel needed) compares with the hidden sheet too."""
    from remote_book import book_json, remote_engine

    from inv_sheets.excel import live as excel

    xw = remote_engine()
    path = make_workbook(tmp_path / "store.xlsx", sheets(ROWS))
    refresh(path)
    wb = openpyxl.load_workbook(path)
    wb["Movements"]["E3"] = 4
    wb.save(path)
    report = excel.refresh(xw.Book(json=book_json(path)))
    assert [(i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row")] == \
        [("ledger-row-edited", "Movements!E3")]


# The hidden sheet's layout: entries packed into a few cells -----------------------------------------
def _hidden_rows(path: Path) -> list[list[object]]:
    """The hidden sheet's rows, header first, as a plain reader sees them."""
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[SHEET_NAME].iter_rows(values_only=True)]
    wb.close()
    return rows


def _hidden_cells(path: Path) -> list[object]:
    """The packed sheet's cells, header first: one column, `block`."""
    rows = _hidden_rows(path)
    assert all(len(r) == 1 for r in rows)
    return [r[0] for r in rows]


def test_a_refresh_packs_the_fingerprints_into_few_cells(tmp_path: Path) -> None:
    from benchmarks.generate import generate

    n = 50_000
    path = generate(tmp_path / "big.xlsx", n, skus=200)
    refresh(path)
    cells = _hidden_cells(path)
    assert cells[0] == "block"
    assert all(isinstance(c, str) and len(c) <= 32_767 for c in cells[1:])
    assert len(cells) - 1 < n / 200  # about a hundred cells, not fifty thousand rows
    seen = read_seen(path)
    assert len(seen) == n and seen["movement_id"].is_unique
    assert seen["fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert not [i for i in refresh(path).issues if i.code.startswith("ledger-row")]  # idempotent


def test_edits_and_deletions_are_found_after_a_packed_round_trip(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(integrity, "BLOCK_CHARS", 500)  # many cells even for a small ledger
    rows = [[f"M{i}", "2026-01-02", "receive", "TEE-M", 1 + i % 7, None, "MAIN", None] for i in range(1, 301)]
    path = make_workbook(tmp_path / "store.xlsx", sheets(rows))
    refresh(path)
    assert len(_hidden_cells(path)) > 20
    assert list(read_seen(path)["movement_id"]) == [f"M{i}" for i in range(1, 301)]

    wb = openpyxl.load_workbook(path)  # an edit far into the ledger, and a deletion before it
    wb["Movements"]["E251"] = 99
    wb["Movements"]["H251"] = "changed"
    wb["Movements"].delete_rows(101)
    wb.save(path)
    report = refresh(path)
    found = sorted((i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row"))
    assert found == [("ledger-row-deleted", "Movements!101:101"), ("ledger-row-edited", "Movements!E250")]
    edited = next(i for i in report.issues if i.code == "ledger-row-edited")
    assert "M250" in edited.message and "Qty" in edited.message and "Note" in edited.message


OLD_LAYOUT = Output(SHEET_NAME, tuple(_out(name, header=name) for name in ("movement_id", "row", "fingerprint", "columns")),
                    "Fingerprints, one row per movement (the previous layout).", table="tblInvLedger")


def test_a_sheet_in_the_old_one_row_per_movement_layout_is_still_read(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "store.xlsx", sheets(ROWS))
    _, first = run(tmp_path, ROWS)
    write_sheets(path, [SheetData(OLD_LAYOUT, first, hidden=True)])  # as the previous version left it
    assert _hidden_rows(path)[0] == ["movement_id", "row", "fingerprint", "columns"]
    assert read_seen(path).equals(first)
    old_rows = [["movement_id", "row", "fingerprint", "columns"], *first.values.tolist()]
    assert seen_from_rows(old_rows).equals(first)

    wb = openpyxl.load_workbook(path)
    wb["Movements"]["E3"] = 30
    wb.save(path)
    report = refresh(path)
    assert [(i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row")] == \
        [("ledger-row-edited", "Movements!E3")]
    assert _hidden_cells(path)[0] == "block"  # rewritten packed, the history kept
    assert read_seen(path).equals(first)


def test_the_button_reads_packed_cells_too() -> None:
    seen = pd.DataFrame({"movement_id": ["M1", "M2", "M3"], "row": [2, 3, 4],
                         "fingerprint": ["0123456789abcdef", "fedcba9876543210", "00000000000000ff"],
                         "columns": ["00" * 15, "ab" * 15, "01" * 15]})
    cells = integrity.ledger_sheet(seen).rows["block"].tolist()
    back = seen_from_rows([["block"], *[[c] for c in cells], [None]])
    assert back.values.tolist() == seen.values.tolist() and back["row"].dtype == "int64"


def test_an_entry_that_cannot_be_packed_is_left_out() -> None:
    seen = pd.DataFrame({"movement_id": ["M1", "BAD\tID", "M\n2", "M\r3", "M" * 1000, "M4"], "row": [2, 3, 4, 5, 6, 7],
                         "fingerprint": ["0123456789abcdef"] * 6, "columns": ["00"] * 6})
    back = seen_from_frame(integrity.ledger_sheet(seen).rows)
    assert list(back["movement_id"]) == ["M1", "M4"] and list(back["row"]) == [2, 7]


def test_an_id_that_looks_like_an_excel_escape_round_trips(tmp_path: Path) -> None:
    typed = "M_x005F_x0041_1"  # openpyxl writes text raw: this is the ID M_x0041_1 as Excel shows it
    rows = [[typed, "2026-01-02", "receive", "TEE-M", 10, None, "MAIN", None], *ROWS[1:]]
    path = make_workbook(tmp_path / "store.xlsx", sheets(rows))
    refresh(path)
    assert list(read_seen(path)["movement_id"]) == ["M_X0041_1", "M2", "M3"]  # codes are upper case
    assert not [i for i in refresh(path).issues if i.code.startswith("ledger-row")]

    seen = pd.DataFrame({"movement_id": ["M_x0041_1", "N_x005F_2"], "row": [2, 3],
                         "fingerprint": ["0123456789abcdef"] * 2, "columns": ["00"] * 2})
    write_sheets(path, [integrity.ledger_sheet(seen)])  # lower-case x: what Excel would decode
    assert "M_x005F_x0041_1\t2\t" in _hidden_cells(path)[1]  # stored escaped (openpyxl shows it raw)
    assert list(read_seen(path)["movement_id"]) == ["M_X0041_1", "N_X005F_2"]


def test_closing_a_period_keeps_the_fingerprints_of_the_rows_that_stay_packed(tmp_path: Path) -> None:
    from inv_sheets.close_period import close_period
    from tests.test_archive import CUT, STORE

    path = make_workbook(tmp_path / "store.xlsx", STORE)
    refresh(path)
    before = read_seen(path)
    close_period(path, CUT)
    after = read_seen(path)
    assert _hidden_cells(path)[0] == "block"
    assert 0 < len(after) < len(before) and set(after["movement_id"]) < set(before["movement_id"])
    wb = openpyxl.load_workbook(path)  # a row that stayed is still watched
    row = next(r for r in range(2, wb["Movements"].max_row + 1) if wb["Movements"].cell(r, 1).value == "M20")
    wb["Movements"].cell(row, 5).value = 9.0
    wb.save(path)
    found = [(i.code, i.cell) for i in refresh(path).issues if i.code.startswith("ledger-row")]
    assert found == [("ledger-row-edited", f"Movements!E{row}")]
