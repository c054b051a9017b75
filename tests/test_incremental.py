"""The daily refresh: a sheet that grew is read and typed only in its new rows, and its new rows are
added to the last fingerprint comparison instead of comparing every row again. Whatever happened to the
workbook in between (rows appended in or out of date order or under a movement ID seen before,
counts added, a past cell edited, a row deleted or inserted, the whole file saved again by another
program), the refresh that reuses what it knew writes the same bytes as one that works everything
out afresh."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from inv_sheets import integrity
from inv_sheets.io import cache, read, tail
from inv_sheets.io.append import NewRows, append_rows
from inv_sheets.refresh import refresh
from inv_sheets.rules import checks, validate
from tests.test_performance_paths import BASE, HEADER, _movements
from tests.workbooks import make_workbook

SKUS = ("TEE", "JAM", "MUG")  # MUG is not on Items: a row with an error


def _append_movements(path: Path, rng: random.Random, step: int, *, out_of_order: bool = False) -> None:
    rows = []
    for i in range(rng.randint(1, 6)):
        day = dt.datetime(2025, 2, 1) + dt.timedelta(days=rng.randint(0, 9) if out_of_order else 20 + step)
        kind = rng.choice(("sale", "receive", "transfer", "return"))
        row = {"A": f"N{step}-{i}", "B": day, "C": kind, "D": rng.choice(SKUS), "E": float(rng.randint(1, 4))}
        row.update({"sale": {"F": "MAIN"}, "receive": {"G": "MAIN"}, "transfer": {"F": "MAIN", "G": "BACK"},
                    "return": {"G": "RET", "J": "too small"}}[kind])
        if row["D"] == "JAM" and kind == "receive":
            row.update(H=f"J{step}", I=day + dt.timedelta(days=90))
        if rng.random() < 0.15:
            row["E"] = "two"  # text in the quantity: a finding at its cell
        rows.append(row)
    append_rows(path, [NewRows("Movements", rows)])


def _append_known_id(path: Path, rng: random.Random, step: int) -> None:
    """A new row under the ID of a movement already seen (still there, or deleted since)."""
    day = dt.datetime(2025, 2, 1) + dt.timedelta(days=20 + step)
    append_rows(path, [NewRows("Movements", [{"A": f"M{rng.randint(4, 40)}", "B": day, "C": "sale", "D": "TEE",
                                              "E": 1.0, "F": "MAIN"}])])


def _append_counts(path: Path, rng: random.Random, step: int) -> None:
    rows = [{"A": dt.datetime(2025, 2, 10) + dt.timedelta(days=step), "B": "MAIN", "C": "TEE",
             "D": float(rng.randint(0, 40))}]
    append_rows(path, [NewRows("Counts", rows)])


def _with_openpyxl(path: Path, change) -> None:
    """Change the workbook the way another program saves it: every part written again, the
    shared strings numbered anew."""
    wb = openpyxl.load_workbook(path)
    change(wb["Movements"])
    wb.save(path)


def _edit_past(path: Path, rng: random.Random, step: int) -> None:
    def edit(ws):
        row = rng.randint(2, ws.max_row)
        ws.cell(row, 5).value = float(rng.randint(1, 9))
    _with_openpyxl(path, edit)


def _delete_row(path: Path, rng: random.Random, step: int) -> None:
    _with_openpyxl(path, lambda ws: ws.delete_rows(rng.randint(2, ws.max_row)))


def _insert_row(path: Path, rng: random.Random, step: int) -> None:
    def insert(ws):
        at = rng.randint(2, ws.max_row)
        ws.insert_rows(at)
        for col, value in enumerate([f"I{step}", dt.datetime(2025, 1, 20), "sale", "TEE", 1.0, "MAIN"], 1):
            ws.cell(at, col).value = value
    _with_openpyxl(path, insert)


def _save_again(path: Path, rng: random.Random, step: int) -> None:
    _with_openpyxl(path, lambda ws: None)


CHANGES = (
    lambda p, r, s: _append_movements(p, r, s), lambda p, r, s: _append_movements(p, r, s),
    lambda p, r, s: _append_movements(p, r, s, out_of_order=True), _append_counts, _append_known_id,
    _edit_past, _delete_row, _insert_row, _save_again,
)


def _parts(path: Path) -> dict[str, bytes]:
    """Every part of the package but the document properties (they hold the time it was saved)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["exact", "fast"])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_refresh_that_reuses_what_it_knew_writes_what_a_full_one_writes(tmp_path, monkeypatch, seed, reader):
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_PART_BYTES", 0)  # every sheet is worth caching here
    if reader == "fast":
        monkeypatch.setattr(read, "EXACT_ROWS", 0)  # every sheet the fast reader can read column-wise
    grown, typed, compared = [], [], []
    monkeypatch.setattr(tail, "read_grown", _spy(tail.read_grown, grown))
    monkeypatch.setattr(validate, "_typed_again", _spy(validate._typed_again, typed))
    monkeypatch.setattr(integrity.LastRefresh, "_appended", _spy(integrity.LastRefresh._appended, compared))
    packed_on, pack = [], integrity._packed

    def packs_on(rows, before=None):  # whether the fingerprints were packed on from the cells written last
        packed_on.append(before is not None)
        return pack(rows, before)
    monkeypatch.setattr(integrity, "_packed", packs_on)
    chunked, save_rows = [], cache._save_rows

    def keeps_rows(path, payload, rows, extends):  # whether the rows kept last stay, with the new ones beside
        saved = save_rows(path, payload, rows, extends)
        chunked.append(len(cache._unpickle(path)["chunks"]) > 1)
        return saved
    monkeypatch.setattr(cache, "_save_rows", keeps_rows)
    kept_checks, run_checks = [], checks.run

    def checks_kept(store, kept=None):  # whether the last refresh's findings on the ledger's rows were at hand
        kept_checks.append(kept is not None)
        return run_checks(store, kept)
    monkeypatch.setattr(checks, "run", checks_kept)

    rng = random.Random(seed)
    path = make_workbook(tmp_path / "store.xlsx", {**BASE, "Movements": [HEADER, *_movements()]})
    refresh(path, as_of="2025-03-01")
    for step in range(9):
        change = CHANGES[step] if step < 6 else rng.choice(CHANGES)
        change(path, rng, step)
        afresh = tmp_path / f"afresh-{step}.xlsx"
        shutil.copyfile(path, afresh)
        day = (dt.date(2025, 3, 2) + dt.timedelta(days=step)).isoformat()
        incremental = refresh(path, as_of=day)
        with monkeypatch.context() as off:
            off.setenv("INV_SHEETS_CACHE", "off")
            full = refresh(afresh, as_of=day)
        assert incremental.to_dict()["issues"] == full.to_dict()["issues"], (step, change)
        mine, theirs = _parts(path), _parts(afresh)
        assert mine.keys() == theirs.keys()
        assert [n for n in mine if mine[n] != theirs[n]] == [], (step, change)
    assert any(grown) == (reader == "fast"), "only a sheet read column-wise is read in its new rows alone"
    assert any(typed), "no refresh took the typed rows it knew from the last one"
    assert any(compared), "no refresh took the fingerprint comparison it knew from the last one"
    assert any(packed_on), "no refresh packed the new fingerprints on from the cells it wrote last"
    assert any(chunked), "no refresh kept only the new rows beside the ones it kept last"
    assert any(kept_checks), "no refresh kept the findings on the ledger's rows it checked last"


def _spy(real, calls: list[bool]):
    """`real`, noting whether each call found something to reuse."""
    def spy(*args):
        found = real(*args)
        calls.append(found is not None)
        return found
    return spy
