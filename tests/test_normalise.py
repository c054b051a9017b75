"""normalise: tidy values at their cells, never guess, idempotent, touch nothing else."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import make_workbook

from inv_sheets.rules.normalise import normalise, plan
from inv_sheets.rules.validate import load

ITEMS = [["item sku", "Description", "cost"], [" tee-m ", "Tee M ", "4.5"], ["CAP", "Cap", 3]]
MOVES = [["ID", "Date", "Type", "SKU", "Qty", "To"],
         ["M1", "2026-01-05", "Receipt", "tee-m", "12 pcs", "main"],
         ["M2", "03/04/2026", "sale", "CAP", 1, "MAIN"]]


def _book(tmp_path):
    path = make_workbook(tmp_path / "s.xlsx", {"Items": ITEMS, "Movements": MOVES, "Notes": [["free text"]]})
    wb = openpyxl.load_workbook(path)
    wb["Items"]["A2"].font = openpyxl.styles.Font(bold=True)  # a style the change must keep
    wb.save(path)
    return path


def test_changes_are_listed_with_cell_before_and_after(tmp_path):
    changes = {(c.sheet, c.cell): (c.before, c.after) for c in plan(load(_book(tmp_path)))}
    assert changes[("Items", "A2")] == (" tee-m ", "TEE-M")
    assert changes[("Items", "B2")] == ("Tee M ", "Tee M")
    assert changes[("Items", "C2")] == ("4.5", 4.5)
    assert changes[("Items", "A1")] == ("item sku", "SKU")
    assert changes[("Movements", "C2")] == ("Receipt", "receive")
    assert changes[("Movements", "E2")] == ("12 pcs", 12)
    assert changes[("Movements", "B2")][1].date() == dt.date(2026, 1, 5)
    assert ("Movements", "B3") not in changes  # ambiguous: never guessed


def test_written_values_are_typed_styles_kept_and_other_parts_untouched(tmp_path):
    path = _book(tmp_path)
    out = tmp_path / "out.xlsx"
    result = normalise(path, output=out)
    assert result.written == str(out)
    wb = openpyxl.load_workbook(out)
    items, moves = wb["Items"], wb["Movements"]
    assert items["A2"].value == "TEE-M" and items["A2"].font.bold
    assert items["C2"].value == 4.5
    assert moves["E2"].value == 12
    assert moves["B2"].value == dt.datetime(2026, 1, 5) and moves["B2"].number_format == "yyyy-mm-dd"
    assert moves["B3"].value == "03/04/2026"
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(out) as b:
        before = {n: hashlib.sha256(a.read(n)).hexdigest() for n in a.namelist()}
        after = {n: hashlib.sha256(b.read(n)).hexdigest() for n in b.namelist()}
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml"}
    assert set(before) == set(after)


def test_normalise_is_idempotent(tmp_path):
    path = _book(tmp_path)
    result = normalise(path, in_place=True)
    assert result.backup and Path(result.backup).exists() and Path(result.backup).name.startswith("s.bak-")
    assert plan(load(path)) == []


words = st.sampled_from([" a ", "tee-m", "Receipt", "12 pcs", "2026-01-05", "3", "x", "yes", "SOLD", "1,5"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(words, min_size=6, max_size=6), min_size=1, max_size=4))
def test_normalise_twice_changes_nothing_more(tmp_path, rows):
    path = make_workbook(tmp_path / "p.xlsx", {"Items": ITEMS, "Movements": [MOVES[0], *rows]})
    out = tmp_path / "p2.xlsx"
    normalise(path, output=out, force=True)  # hypothesis reuses tmp_path: replace the last example's file
    assert plan(load(out if out.exists() else path)) == []


def test_settings_keys_keep_the_toolkit_spelling(tmp_path):
    settings_rows = [["Key", "Value"], ["demand_days", 30], [" Service Level ", 0.9], ["mystery", 1]]
    path = make_workbook(tmp_path / "s.xlsx", {"Items": ITEMS, "Settings": settings_rows})
    changes = {(c.sheet, c.cell): c.after for c in plan(load(path))}
    assert ("Settings", "A2") not in changes  # already as the template writes it
    assert changes[("Settings", "A3")] == "service_level"
    assert ("Settings", "A4") not in changes  # unknown: left for validate to report


def test_a_text_date_before_march_1900_keeps_its_day(tmp_path):
    path = make_workbook(tmp_path / "s.xlsx", {"Items": ITEMS, "Promotions": [["Name", "Start", "End"],
                                                                              ["P", "1900-01-15", "2026-01-15"]]})
    normalise(path, output=tmp_path / "out.xlsx")
    row = [c.value for c in openpyxl.load_workbook(tmp_path / "out.xlsx")["Promotions"][2]]
    assert row[1:] == [dt.datetime(1900, 1, 15), dt.datetime(2026, 1, 15)]
