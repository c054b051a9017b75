"""Ledger integrity: movement rows edited or deleted after a refresh saw them are reported at their cell."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from inv_sheets.integrity import FINGERPRINTED, SHEET_NAME, fingerprints, ledger_check, read_seen, seen_from_rows
from inv_sheets.refresh import compute, refresh
from inv_sheets.validate import load
from storefactory import make_store, mv
from workbooks import make_workbook

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
    """compute() on a workbook of these movement rows: its ledger findings and its fingerprint rows."""
    result = compute(load(make_workbook(tmp_path / name, sheets(rows))), seen=seen)
    ledger_sheet = next(s for s in result.sheets if s.name == SHEET_NAME)
    found = [i for i in result.report.issues if i.code.startswith("ledger-row")]
    return found, ledger_sheet.rows


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

    from inv_sheets import excel

    xw = remote_engine()
    path = make_workbook(tmp_path / "store.xlsx", sheets(ROWS))
    refresh(path)
    wb = openpyxl.load_workbook(path)
    wb["Movements"]["E3"] = 4
    wb.save(path)
    report = excel.refresh(xw.Book(json=book_json(path)))
    assert [(i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row")] == \
        [("ledger-row-edited", "Movements!E3")]
