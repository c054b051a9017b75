"""The paths that keep a big ledger quick: the cached read of unchanged sheets, and a ledger that
continues on further sheets. Correctness only: speed is measured in benchmarks/, never here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from inv_sheets.io import cache
from inv_sheets.io.read import continuation_of, read_book
from inv_sheets.refresh import compute, refresh
from tests.workbooks import make_workbook

D = dt.datetime
HEADER = ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Batch", "Expiry", "Reason"]


def _movements() -> list[list[object]]:
    """Forty movements over two months: receipts (one batch-tracked SKU), sales, transfers, returns."""
    rows: list[list[object]] = [
        ["M1", D(2025, 1, 2), "receive", "TEE", 50.0, None, "MAIN", None, None, None],
        ["M2", D(2025, 1, 2), "receive", "JAM", 20.0, None, "MAIN", "J1", D(2025, 6, 1), None],
        ["M3", D(2025, 1, 3), "receive", "JAM", 20.0, None, "MAIN", "J2", D(2025, 4, 1), None],
    ]
    for i in range(4, 41):
        day = D(2025, 1, 3) + dt.timedelta(days=i)
        kind = ("sale", "sale", "transfer", "return")[i % 4]
        sku = "TEE" if i % 3 else "JAM"
        frm, to = {"sale": ("MAIN", None), "transfer": ("MAIN", "BACK"), "return": (None, "RET")}[kind]
        rows.append([f"M{i}", day, kind, sku, 1.0 + i % 2, frm, to, None, None,
                     "too small" if kind == "return" else None])
    return rows


BASE = {
    "Items": [["SKU", "Name", "Unit cost", "Tracking"], ["TEE", "Tee", 4.0, "none"], ["JAM", "Jam", 2.0, "expiry"]],
    "Locations": [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"], ["BACK", "stock", "yes"],
                  ["RET", "returns_hold", "no"]],
    "Counts": [["Date", "Location", "SKU", "Counted qty"], [D(2025, 2, 1), "MAIN", "TEE", 20.0]],
    "Settings": [["Key", "Value"], ["as_of", "2025-03-31"]],
}


def _single(path: Path) -> Path:
    return make_workbook(path, {**BASE, "Movements": [HEADER, *_movements()]})


def _split(path: Path, names: tuple[str, str] = ("Movements 2025", "Movements")) -> Path:
    """The same ledger over two sheets: the older half first, its columns in another order."""
    rows = _movements()
    order = [3, 0, 2, 1, 4, 6, 5, 7, 8, 9]  # SKU, ID, Type, Date, Qty, To, From, ...
    older = [[HEADER[i] for i in order]] + [[r[i] for i in order] for r in rows[:20]]
    return make_workbook(path, {**BASE, names[0]: older, names[1]: [HEADER, *rows[20:]]})


def _outputs(path: Path) -> dict[str, pd.DataFrame]:
    result = compute(read_book(path))
    return {s.name: s.rows.reset_index(drop=True) for s in result.sheets if not s.name.startswith("_")}


# Continuation sheets -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, base", [
    ("Movements 2025", "Movements"), ("Movements (2)", "Movements"), ("Ledger 2024 part 1", "Movements"),
    ("movements_2026", "Movements"), ("Movements archive", None), ("Movements", None), ("Items 2025", None),
    ("Stock 2025", None), ("Movements 2024 summary", None), ("Movements Q1 2025", "Movements"),
    ("Movements 2025-01", "Movements"), ("Movements " + "1" * 25 + "x", None),
])
def test_which_sheets_continue_the_ledger(name, base):
    assert continuation_of(name) == base


def test_a_ledger_over_two_sheets_computes_what_one_sheet_does(tmp_path, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    one = _outputs(_single(tmp_path / "one.xlsx"))
    two = _outputs(_split(tmp_path / "two.xlsx"))
    assert one.keys() == two.keys()
    for name in one:
        if name == "Issues":
            continue
        pd.testing.assert_frame_equal(one[name], two[name], check_dtype=False, obj=name)


def test_the_continuation_may_come_first_or_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    book = read_book(_split(tmp_path / "two.xlsx", names=("Movements 2025", "Movements 2024")))
    table = book.tables["Movements"]
    assert table.title == "Movements 2025" and [p.title for p in table.parts] == ["Movements 2024"]
    assert len(table.data) == 40
    assert not [i for i in book.issues if i.code == "missing-sheet" and i.sheet == "Movements"]


def test_findings_on_a_continuation_sheet_point_at_its_own_cells(tmp_path, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    path = _split(tmp_path / "two.xlsx")
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["Movements 2025"]
    ws["A4"] = "NOPE"  # SKU is column A there (row 4 = the third movement)
    ws["B6"] = "M30"  # an ID the Movements sheet also has (row 11 there)
    wb.save(path)
    issues = compute(read_book(path)).report.issues
    unknown = [i for i in issues if i.code == "unknown-reference"]
    assert [(i.sheet, i.row, i.column) for i in unknown] == [("Movements 2025", 4, "A")]
    assert unknown[0].cell == "'Movements 2025'!A4"
    dupes = [i for i in issues if i.code == "duplicate-key" and i.field == "movement_id"]
    assert [(i.sheet, i.row, i.column) for i in dupes] == [("Movements 2025", 6, "B")]
    assert "row 11" in dupes[0].message
    assert all(i.row is None or i.row <= 1_048_576 for i in issues)
    wb = openpyxl.load_workbook(path)
    wb["Movements 2025"]["B6"] = "M5"  # as it was
    wb["Movements 2025"]["B8"] = "M2"  # repeats row 3 of the same sheet
    wb.save(path)
    dupes = [i for i in compute(read_book(path)).report.issues if i.code == "duplicate-key" and i.field == "movement_id"]
    assert [(i.sheet, i.row) for i in dupes] == [("Movements 2025", 8)]
    assert "row 3 of 'Movements 2025'" in dupes[0].message


# The cached read -----------------------------------------------------------------------------------

@pytest.fixture
def cached(tmp_path, monkeypatch):
    """Every sheet is worth caching here, in a cache folder of the test's own."""
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_PART_BYTES", 0)
    return tmp_path / "cache"


def _spy(monkeypatch) -> list[str]:
    """The sheets read from the file (not from the cache) from now on."""
    from inv_sheets.io import read

    seen: list[str] = []
    real = read._read_sheet

    def spy(exact, reader, zf, name, *args, **kwargs):
        seen.append(name)
        return real(exact, reader, zf, name, *args, **kwargs)

    monkeypatch.setattr(read, "_read_sheet", spy)
    return seen


def test_an_unchanged_sheet_is_read_from_the_cache_with_its_findings(tmp_path, cached, monkeypatch):
    sheets = {**BASE, "Movements": [HEADER + ["Colour"], *[r + ["red"] for r in _movements()]]}
    path = make_workbook(tmp_path / "store.xlsx", sheets)
    first = read_book(path)
    assert any(cached.iterdir())
    read_again = _spy(monkeypatch)
    second = read_book(path)
    assert read_again == []
    for name, table in first.tables.items():
        pd.testing.assert_frame_equal(table.data, second.tables[name].data)
        assert (table.letters, table.headers, table.title) == (second.tables[name].letters,
                                                               second.tables[name].headers, second.tables[name].title)
    assert [i.to_dict() for i in first.issues] == [i.to_dict() for i in second.issues]
    assert any(i.code == "unknown-column" and i.value == "Colour" for i in second.issues)


def test_a_changed_sheet_is_read_again(tmp_path, cached, monkeypatch):
    path = _single(tmp_path / "store.xlsx")
    read_book(path)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["Movements"]["E2"] = 51.0
    wb.save(path)
    read_again = _spy(monkeypatch)
    book = read_book(path)
    assert "Movements" in read_again
    assert book.tables["Movements"].data.loc[2, "qty"] == 51.0


def test_a_refresh_keeps_the_cache_valid_and_the_outputs_equal(tmp_path, cached, monkeypatch):
    path = _single(tmp_path / "store.xlsx")
    refresh(path)  # writes output sheets and appends styles: the Movements part is untouched
    before = _outputs(path)
    read_again = _spy(monkeypatch)
    refresh(path, as_of="2025-03-01")  # another as-of day: computed again, not the last report
    assert "Movements" not in read_again
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    fresh = _outputs(path)
    for name in fresh:
        pd.testing.assert_frame_equal(before[name], fresh[name], check_dtype=False, obj=name)


def test_the_key_follows_the_sheet_the_strings_and_the_styles(tmp_path, cached):
    path = _single(tmp_path / "store.xlsx")
    with zipfile.ZipFile(path) as zf:
        key = cache.sheet_key(zf, "xl/worksheets/sheet5.xml")
        other = cache.sheet_key(zf, "xl/worksheets/sheet1.xml")
    assert key is not None and other is not None and key.digest != other.digest
    assert key.formats and all(isinstance(f, str) for f in key.formats)


def test_a_damaged_or_foreign_cache_file_is_ignored(tmp_path, cached, monkeypatch):
    path = _single(tmp_path / "store.xlsx")
    expected = read_book(path).tables["Movements"].data
    entry = cache.entry_path(path, "Movements")
    entry.write_bytes(b"not a pickle")
    assert read_book(path).tables["Movements"].data.equals(expected)
    entry.write_bytes(pickle.dumps({"digest": "someone else's", "table": None, "issues": []}))
    read_again = _spy(monkeypatch)
    assert read_book(path).tables["Movements"].data.equals(expected)
    assert read_again.count("Movements") == 1


def test_the_cache_can_be_turned_off(tmp_path, cached, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    read_book(_single(tmp_path / "store.xlsx"))
    assert not cached.exists() or not any(cached.iterdir())


def test_small_sheets_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    read_book(_single(tmp_path / "store.xlsx"))  # MIN_PART_BYTES as shipped: nothing here is that big
    assert not (tmp_path / "cache").exists()


# The last refresh's report ------------------------------------------------------------------------

def test_an_unchanged_workbook_gets_the_last_report_and_is_not_written(tmp_path, cached, monkeypatch):
    path = _single(tmp_path / "store.xlsx")
    first = refresh(path)
    assert not first.summary.get("unchanged")
    written, stamp = path.read_bytes(), path.stat().st_mtime_ns
    read_again = _spy(monkeypatch)
    second = refresh(path)
    assert second.summary["unchanged"] and second.summary["written"] == []
    assert read_again == []
    assert path.read_bytes() == written and path.stat().st_mtime_ns == stamp
    assert [i.to_dict() for i in second.issues] == [i.to_dict() for i in first.issues]
    # ... and what it would have written is what is there: a computed refresh leaves the same parts
    # (the content types list the same parts, perhaps in another order).
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    before = _parts(path)
    refresh(path)
    assert _parts(path) == before


def _parts(path: Path) -> dict[str, object]:
    with zipfile.ZipFile(path) as z:
        parts: dict[str, object] = {n: z.read(n) for n in z.namelist()}
    parts["[Content_Types].xml"] = sorted(re.findall(rb"<[^>]+>", parts["[Content_Types].xml"]))
    return parts


def _touch_part(path: Path) -> None:
    """Another program changed one part of the package (here: the document's title)."""
    from fidelity import rewrite_zip

    def retitle(members):
        members["docProps/core.xml"] = members["docProps/core.xml"].replace(b"</cp:coreProperties>",
                                                                            b"<dc:title>x</dc:title></cp:coreProperties>")
    rewrite_zip(path, retitle)


@pytest.mark.parametrize("change", ["a part", "the as-of day", "the day it runs", "a backup asked for"])
def test_anything_a_refresh_depends_on_computes_it_again(tmp_path, cached, monkeypatch, change):
    path = _single(tmp_path / "store.xlsx")
    refresh(path, as_of="2025-03-01")
    kwargs = {"as_of": "2025-03-01"}
    if change == "a part":
        _touch_part(path)
    elif change == "the as-of day":
        kwargs["as_of"] = "2025-03-02"
    elif change == "the day it runs":
        class Tomorrow(dt.date):
            @classmethod
            def today(cls):
                return dt.date.today() + dt.timedelta(days=1)
        monkeypatch.setattr(cache, "date", Tomorrow)
    else:
        kwargs["backup"] = True
    again = refresh(path, **kwargs)
    assert not again.summary.get("unchanged")
    assert again.summary["written"]


def test_the_cli_says_the_sheets_are_up_to_date(tmp_path, cached):
    from click.testing import CliRunner

    from inv_sheets.cli.main import main

    path = _single(tmp_path / "store.xlsx")
    runner = CliRunner()
    first = runner.invoke(main, ["refresh", str(path)])
    assert "wrote Summary, Stock" in first.output
    second = runner.invoke(main, ["refresh", str(path)])
    assert second.exit_code == first.exit_code
    assert f"{path} is as the last refresh left it today: its sheets are up to date" in second.output


def test_unused_cache_entries_are_pruned(tmp_path, cached):
    import os
    import time

    old = cached / "someone-elses-copy.pickle"
    cached.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"x")
    long_ago = time.time() - (cache.UNUSED_DAYS + 1) * 86400
    os.utime(old, (long_ago, long_ago))
    recent = cached / "recent.pickle"
    recent.write_bytes(b"x")
    refresh(_single(tmp_path / "store.xlsx"))
    assert not old.exists() and recent.exists()


def test_continuation_sheets_are_cached_each_on_its_own(tmp_path, cached, monkeypatch):
    path = _split(tmp_path / "two.xlsx")
    first = read_book(path)
    read_again = _spy(monkeypatch)
    second = read_book(path)
    assert read_again == []
    pd.testing.assert_frame_equal(first.tables["Movements"].data, second.tables["Movements"].data)
    assert second.tables["Movements"].parts == first.tables["Movements"].parts


def test_normalise_writes_a_continuation_row_into_its_own_sheet(tmp_path, monkeypatch):
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    from inv_sheets.rules.normalise import plan

    path = _split(tmp_path / "two.xlsx")
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["Movements 2025"]["A3"] = "  tee "  # SKU is column A there
    wb.save(path)
    changes = [c for c in plan(read_book(path)) if c.before == "  tee "]
    assert [(c.sheet, c.cell, c.after) for c in changes] == [("Movements 2025", "A3", "TEE")]


def test_the_benchmark_store_is_clean_and_splits_without_changing_anything(tmp_path, monkeypatch):
    """The generated workbook the benchmarks time is a store without errors, on one sheet or two."""
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    from benchmarks.generate import generate

    one = compute(read_book(generate(tmp_path / "one.xlsx", 2_000, skus=300)))
    two = compute(read_book(generate(tmp_path / "two.xlsx", 2_000, skus=300, sheets=2)))
    assert not one.report.errors
    assert one.report.summary["rows"]["Movements"] == two.report.summary["rows"]["Movements"] == 2_000
    for a, b in zip(one.sheets, two.sheets):
        if a.name not in ("Issues", "_inv_ledger"):
            pd.testing.assert_frame_equal(a.rows.reset_index(drop=True), b.rows.reset_index(drop=True),
                                          check_dtype=False, obj=a.name)
    assert len(one.report.issues) == len(two.report.issues)


def test_the_column_wise_space_class_is_pythons_whitespace():
    """Codes are tidied column-wise with SPACE_RUN instead of \\s (which pandas runs cell by cell):
    it must be exactly the characters Python's \\s matches, and give what \\s gives."""
    import re

    from inv_sheets.contract.parse import SPACE_RUN

    spaces = {chr(i) for i in range(0x110000) if re.match(r"\s", chr(i))}
    assert {chr(i) for i in range(0x110000) if re.fullmatch(SPACE_RUN, chr(i))} == spaces
    text = pd.Series(["A \u00a0\u3000B", "C\t\x1cD", " E ", "F\u2028\u2029G", "H"], dtype="str")
    assert (text.str.replace(SPACE_RUN, " ", regex=True).tolist()
            == [re.sub(r"\s+", " ", t) for t in text])


# The fingerprint comparison ------------------------------------------------------------------------

def _fingerprint_reads(monkeypatch) -> list[str]:
    """The files whose fingerprint sheet is read (and compared) from now on."""
    from inv_sheets import integrity

    reads: list[str] = []
    real = integrity.read_seen

    def spy(path):
        reads.append(str(path))
        return real(path)

    monkeypatch.setattr(integrity, "read_seen", spy)
    return reads


def _fingerprint_part(path: Path) -> bytes:
    """The fingerprint sheet's part as stored (compressed): the same bytes mean it was left as it was."""
    from inv_sheets.integrity import SHEET_NAME
    from inv_sheets.io.package import compressed_bytes
    from inv_sheets.io.read import workbook_info

    with zipfile.ZipFile(path) as z:
        return compressed_bytes(z, z.getinfo(dict(workbook_info(z)[0])[SHEET_NAME]))


def _ledger_findings(report) -> list[tuple[str, str]]:
    return sorted((i.code, i.cell) for i in report.issues if i.code.startswith("ledger-row"))


def test_unchanged_movements_keep_the_fingerprint_sheet_and_its_findings(tmp_path, cached, monkeypatch):
    import openpyxl

    path = _single(tmp_path / "store.xlsx")
    refresh(path, as_of="2025-03-01")
    wb = openpyxl.load_workbook(path)  # a past quantity edited, a past row deleted
    wb["Movements"]["E3"] = 21.0
    wb["Movements"].delete_rows(6)
    wb.save(path)
    edited = refresh(path, as_of="2025-03-01")
    assert _ledger_findings(edited) == [("ledger-row-deleted", "Movements!6:6"), ("ledger-row-edited", "Movements!E3")]
    part = _fingerprint_part(path)

    reads = _fingerprint_reads(monkeypatch)
    next_day = refresh(path, as_of="2025-03-02")  # everything computed but the comparison
    assert reads == []
    assert _ledger_findings(next_day) == _ledger_findings(edited)  # still reported, as on every refresh
    assert _fingerprint_part(path) == part

    # ... which is what comparing again finds and writes.
    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    compared = refresh(path, as_of="2025-03-02")
    assert reads == [str(path)]
    assert [i.to_dict() for i in compared.issues] == [i.to_dict() for i in next_day.issues]
    assert _fingerprint_part(path) == part


def test_a_changed_fingerprint_sheet_is_compared_again(tmp_path, cached, monkeypatch):
    from fidelity import rewrite_zip

    from inv_sheets.integrity import SHEET_NAME
    from inv_sheets.io.read import workbook_info

    path = _single(tmp_path / "store.xlsx")
    refresh(path, as_of="2025-03-01")
    with zipfile.ZipFile(path) as z:
        part = dict(workbook_info(z)[0])[SHEET_NAME]

    def forget_m2(members):  # someone edits the hidden sheet: M2's entry is gone
        members[part] = re.sub(rb"\nM2\t[^\n<]*", b"", members[part])
    rewrite_zip(path, forget_m2)
    reads = _fingerprint_reads(monkeypatch)
    refresh(path, as_of="2025-03-02")
    assert reads == [str(path)]


def test_the_remembered_comparison_follows_everything_it_depends_on(tmp_path, cached, monkeypatch):
    from inv_sheets.integrity import LastRefresh
    from inv_sheets.rules.validate import parse

    path = _single(tmp_path / "store.xlsx")
    refresh(path, as_of="2025-03-01")  # compares (nothing remembered yet) and remembers
    reads = _fingerprint_reads(monkeypatch)
    book = read_book(path)
    store, _ = parse(book)
    assert LastRefresh(path).check(book, store)[1] is None and reads == []  # the same inputs: known

    movements = store.tables["Movements"]
    changes = {
        "a row no longer accepted": lambda: store.tables.__setitem__("Movements", movements.iloc[1:]),
        "another date order": lambda: setattr(store, "settings", dataclasses.replace(store.settings, date_order="DMY")),
        "the 1904 date system": lambda: setattr(book, "date1904", True),
        "other cells": lambda: setattr(book.tables["Movements"], "source", "0" * 64),
    }
    for name, change in changes.items():
        store, _ = parse(book := read_book(path))
        change()
        assert LastRefresh(path).check(book, store)[1] is not None, name
    # Compared again each time, with the fingerprints as the last refresh wrote them (kept beside
    # its findings), not read back from the file.
    assert reads == []


def test_the_fingerprints_kept_are_those_the_file_holds(tmp_path, cached, monkeypatch):
    """What a refresh keeps of the fingerprints it wrote is what reading them back from the file
    gives, an entry pack() leaves out included; a part that is not the one written is read."""
    from inv_sheets import integrity
    from inv_sheets.io import cache

    rows = _movements()
    rows[3][0] = "M" + "9" * 1200  # longer than an entry may be: not packed, so not remembered
    path = make_workbook(tmp_path / "store.xlsx", {**BASE, "Movements": [HEADER, *rows]})
    for day in ("2025-03-01", "2025-03-02"):
        refresh(path, as_of=day)
        part = integrity._fingerprint_part(path)
        kept = cache.load_value(path, cache.SEEN, cache.load_value(path, cache.SEEN_IN, part))
        read = integrity.read_seen(path)
        pd.testing.assert_frame_equal(kept, read, check_exact=True)
        assert len(read) == len(rows) - 1
    assert cache.load_value(path, cache.SEEN_IN, part.replace(" ", " 0")) is None
    reads = _fingerprint_reads(monkeypatch)
    assert integrity.LastRefresh(path)._seen("xl/worksheets/sheet99.xml 00") is not None and reads == [str(path)]


# The typed sheets ----------------------------------------------------------------------------------

def _typings(monkeypatch) -> list[str]:
    """The sheets typed from their cells (not taken from the cache) from now on."""
    import importlib

    validate = importlib.import_module("inv_sheets.rules.validate")  # the package exports a function of that name

    typed: list[str] = []
    real = validate._typed

    def spy(table, *args):
        typed.append(table.name)
        return real(table, *args)

    monkeypatch.setattr(validate, "_typed", spy)
    return typed


def test_a_sheet_read_before_is_typed_as_it_was(tmp_path, cached, monkeypatch):
    from inv_sheets.rules.validate import parse

    rows = [*_movements(), ["M41", "2025-02-30", "sale", "TEE", "3 pcs", "MAIN", None, None, None, None]]
    path = make_workbook(tmp_path / "store.xlsx", {**BASE, "Movements": [HEADER, *rows]})
    first, first_issues = parse(read_book(path))
    typed = _typings(monkeypatch)
    second, second_issues = parse(read_book(path))
    assert typed == []
    for name, frame in first.tables.items():
        pd.testing.assert_frame_equal(frame, second.tables[name], obj=name)
    assert [i.to_dict() for i in second_issues] == [i.to_dict() for i in first_issues]
    assert {("not-a-date", "Movements!B42"), ("number-with-unit", "Movements!E42")} <= {(i.code, i.cell) for i in second_issues}

    # Typing depends on the date order and the date system too.
    book = read_book(path)
    settings = book.tables["Settings"].data
    book.tables["Settings"].data = pd.concat([settings, pd.DataFrame({"key": ["date_order"], "value": ["DMY"]},
                                                                     index=[settings.index.max() + 1])])
    parse(book)
    book = read_book(path)
    book.date1904 = True
    parse(book)
    assert typed.count("Movements") == 2


# The fast column-wise read ---------------------------------------------------------------------------

def test_a_column_never_filled_keeps_the_fast_read_and_the_same_figures(tmp_path, monkeypatch):
    """An Expiry or Unit cost column with only its header (the template has them) comes back from
    the fast reader as text; it holds no value to mistype, so the sheet is not sent to the exact
    reader cell by cell, and every figure is what the exact read gives."""
    from inv_sheets.io import read

    header = [*HEADER, "Unit cost"]
    untracked = [[*r[:7], None, None, r[9], None] for r in _movements()]  # Batch, Expiry, Unit cost empty
    path = make_workbook(tmp_path / "store.xlsx", {**BASE, "Movements": [header, *untracked]})
    exact = _outputs(path)
    sent = []
    real = read._read_exact
    monkeypatch.setattr(read, "_read_exact", lambda wb, zf, name, *a: sent.append(name) or real(wb, zf, name, *a))
    monkeypatch.setattr(read, "EXACT_ROWS", 5)  # every sheet over five rows takes the fast path
    fast = _outputs(path)
    assert "Movements" not in sent
    assert fast.keys() == exact.keys()
    for name in exact:
        pd.testing.assert_frame_equal(fast[name], exact[name], check_dtype=False, obj=name)


def _exact_only_for(monkeypatch, *sheets: str) -> list[str]:
    """The sheets read by the exact reader from now on; reading one of `sheets` that way fails."""
    from inv_sheets.io import read

    sent: list[str] = []
    real = read._read_exact

    def exact(wb, zf, name, *args):
        assert name not in sheets, f"{name} was read cell by cell"
        sent.append(name)
        return real(wb, zf, name, *args)

    monkeypatch.setattr(read, "_read_exact", exact)
    return sent


def _read_and_parse_exactly(path: Path, monkeypatch):
    """The book, store and findings with every big sheet whose columns mix types read cell by cell
    (the mixed-column pass turned off), as the exact reader has them."""
    from inv_sheets.io import mixed
    from inv_sheets.rules.validate import parse

    with monkeypatch.context() as m:
        m.setattr(mixed, "read_columns", lambda *args: False)
        sent = _exact_only_for(m)
        book = read_book(path)
        assert "Movements" in sent
    return (book, *parse(book))


def _assert_same(exact, fast) -> None:
    """The same store (every sheet as typed) and the same findings, in the same order."""
    (_, exact_store, exact_issues), (_, fast_store, fast_issues) = exact, fast
    assert exact_store.tables.keys() == fast_store.tables.keys()
    for name, frame in exact_store.tables.items():
        pd.testing.assert_frame_equal(fast_store.tables[name], frame, obj=name)
    assert [i.to_dict() for i in fast_issues] == [i.to_dict() for i in exact_issues]


# Every kind of cell a declared number or date column may hold besides its own (corpus.cell_xml).
ODD_QTY = [3, "12", "12x", " 7 ", True, ("raw", ' t="e"><v>#N/A</v>'), ("date", 46023), ("formula", "2+3", 5),
           ("formula", "1+1", None), ("formula", '"9"', "9"), ("raw", ' s="1">'), ("raw", ' t="d"><v>2026-01-02T00:00:00</v>'),
           ("raw", ' t="inlineStr"><is><t>4</t></is>'), 2.5, 1 / 3, 1e20, -0.0, ("raw", ' t="n"><v>6</v>'),
           ("raw", "><v>1E+2</v>"), ("raw", ' t="b"><v>0</v>'), None, 0.1, ("raw", "><v></v>"), ("raw", " t=\"s\"><v>0</v>")]
ODD_DATE = [("date", 46023), "2026-01-05", "05/01/2026", 46030, ("date", 46023.5), ("date", 46023.123456789),
            ("date", 0.25), ("date", 5), ("date", 30), True, ("raw", ' t="e"><v>#VALUE!</v>'),
            ("raw", ' t="d"><v>2026-01-02T10:00:00</v>'), ("formula", "TODAY()", 46024), ("date", 3000000), "x",
            ("date", -3), None, ("date", 46024), 0.5, 46025.75, ("raw", ' s="1">'), ("date", 61), ("date", 46027),
            ("raw", " t=\"s\"><v>1</v>")]


def _odd_cells_store(path: Path, *, date1904: bool = False, cell_layout=None) -> Path:
    """A store whose Movements Date, Qty, Expiry and Unit cost columns hold every kind of odd cell
    among plain ones (some shared-string texts), and whose first two headers are merged."""
    from tests import corpus

    header = ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Expiry", "Unit cost"]
    rows = [[f"M{i}", date, "receive", "TEE-M", qty, None, "MAIN", ODD_DATE[-1 - i], ODD_QTY[-1 - i]]
            for i, (date, qty) in enumerate(zip(ODD_DATE, ODD_QTY))]
    rows += [[f"N{i}", ("date", 46023 + i % 20), "receive", "TEE-M", 1 + i, None, "MAIN", ("date", 46100), 2.0]
             for i in range(40)]
    rows += [[None, None, None, None, ("raw", ' t="s"><v>2</v>')]]  # an empty text alone: a blank line
    parts = corpus.package_parts(corpus.store_sheets(rows, movement_header=header), date1904=date1904)
    sheet = "xl/worksheets/sheet3.xml"
    xml = parts[sheet].replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>')
    parts[sheet] = cell_layout(xml) if cell_layout else xml
    parts["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{corpus.MAIN_NS}">'
                                     '<si><t>12</t></si><si><t>2026-01-06</t></si><si><t></t></si></sst>').encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return corpus.write_zip(path, parts)


@pytest.mark.parametrize("date1904", [False, True])
def test_odd_cells_in_number_and_date_columns_are_read_as_the_exact_reader_has_them(tmp_path, monkeypatch, date1904):
    """Text, numbers typed as text, yes/no, errors, formulas with and without a result, dates in a
    number column, times, ISO date cells, blanks: only the columns that hold them are read again,
    cell by cell, and the store and every finding are those of reading the whole sheet exactly."""
    from inv_sheets.io import read
    from inv_sheets.rules.validate import parse

    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    monkeypatch.setattr(read, "EXACT_ROWS", 5)  # every sheet over five rows is read column-wise
    path = _odd_cells_store(tmp_path / "store.xlsx", date1904=date1904)
    exact = _read_and_parse_exactly(path, monkeypatch)
    _exact_only_for(monkeypatch, "Movements")
    book = read_book(path)
    table = book.tables["Movements"]
    assert table.column_wise == {"movement_id", "type", "sku", "from_location", "to_location"}
    _assert_same(exact, (book, *parse(book)))
    found = {(i.code, i.cell) for i in exact[2]}
    assert {("number-as-text", "Movements!E3"), ("number-with-unit", "Movements!E4"), ("cell-error", "Movements!E7"),
            ("formula-without-value", "Movements!E10"), ("date-as-text", "Movements!B3"),
            ("merged-header", "Movements!A1"), ("number-as-text", "Movements!E25")} <= found


def test_a_sheet_whose_cells_are_written_otherwise_is_read_exactly(tmp_path, monkeypatch):
    """Cells whose address is not their first attribute (`<c t="s" r="E3">`) are not what the mixed
    columns' pass looks for: the whole sheet is read cell by cell instead, with the same result."""
    from inv_sheets.io import read
    from inv_sheets.rules.validate import parse

    def r_last(xml: bytes) -> bytes:
        return re.sub(rb'<c r="([A-Z]+[0-9]+)"( [^>]*?)(/?)>', rb'<c\2 r="\1"\3>', xml)

    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    monkeypatch.setattr(read, "EXACT_ROWS", 5)
    path = _odd_cells_store(tmp_path / "store.xlsx", cell_layout=r_last)
    exact = _read_and_parse_exactly(path, monkeypatch)
    sent = _exact_only_for(monkeypatch)
    book = read_book(path)
    assert "Movements" in sent and not book.tables["Movements"].column_wise
    _assert_same(exact, (book, *parse(book)))


def _with_cells(path: Path, cells: dict[str, str]) -> None:
    """Replace Movements cells in a generated workbook: ref -> the new cell's attributes and content
    (`t="s"><v>TEXT` adds TEXT to the shared strings and points at it)."""
    from fidelity import rewrite_zip

    from inv_sheets.io.read import workbook_info

    with zipfile.ZipFile(path) as z:
        part = dict(workbook_info(z)[0])["Movements"]

    def edit(members):
        strings = members["xl/sharedStrings.xml"]
        count = strings.count(b"<si>")
        xml = members[part]
        for ref, cell in cells.items():
            if cell.startswith('t="s"><v>'):
                text = cell.removeprefix('t="s"><v>')
                strings = strings.replace(b"</sst>", f"<si><t>{text}</t></si></sst>".encode())
                cell, count = f't="s"><v>{count}', count + 1
            xml, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*>.*?</c>', f'<c r="{ref}" {cell}</v></c>'.encode()
                             if "<v>" in cell else f'<c r="{ref}" {cell}</c>'.encode(), xml, count=1)
            assert n == 1, ref
        members["xl/sharedStrings.xml"] = re.sub(rb'(count|uniqueCount)="\d+"', rb'\1="%d"' % count, strings, count=2)
        members[part] = xml

    rewrite_zip(path, edit)


def test_a_big_ledger_with_a_few_odd_cells_reads_them_exactly_and_the_rest_column_wise(tmp_path, monkeypatch):
    """A ledger longer than EXACT_ROWS with a number typed as text, text in the Qty column, a text
    date and a text in the Date column: the sheet is not read cell by cell (only its Date and Qty
    columns are), and the store and every finding are those of reading it exactly."""
    from benchmarks.generate import generate

    from inv_sheets.io.read import EXACT_ROWS
    from inv_sheets.rules.validate import parse

    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    path = generate(tmp_path / "store.xlsx", EXACT_ROWS + 2_000, skus=300)
    _with_cells(path, {"E1001": 't="s"><v>12', "E30001": 't="s"><v>3 pcs', "E51000": 't="b"><v>1',
                       "B2001": 't="s"><v>2025-03-04', "B40001": 't="s"><v>soon'})
    exact = _read_and_parse_exactly(path, monkeypatch)
    _exact_only_for(monkeypatch, "Movements")
    book = read_book(path)
    assert {"date", "qty"}.isdisjoint(book.tables["Movements"].column_wise)
    assert {"sku", "expiry", "unit_cost"} <= book.tables["Movements"].column_wise
    _assert_same(exact, (book, *parse(book)))
    found = {(i.code, i.cell) for i in exact[2]}
    assert {("number-as-text", "Movements!E1001"), ("number-with-unit", "Movements!E30001"),
            ("not-a-number", "Movements!E51000"), ("date-as-text", "Movements!B2001"),
            ("not-a-date", "Movements!B40001")} <= found


# Rows kept in chunks ------------------------------------------------------------------------------

def _typed_rows(start: int, stop: int) -> pd.DataFrame:
    rows = range(start, stop)
    return pd.DataFrame({"sku": pd.array([f"S{r}" for r in rows], dtype="str"), "qty": [float(r) for r in rows],
                         "date": pd.to_datetime([dt.date(2025, 1, 1) + dt.timedelta(days=r) for r in rows])},
                        index=pd.Index(list(rows)))


def _chunk_files(book: Path) -> list[Path]:
    entry = cache.entry_path(book, cache.TYPED + "Movements")
    return sorted(entry.parent.glob(f"{entry.stem}.*{cache.CHUNK}"))


def test_a_grown_sheet_keeps_its_earlier_rows_where_they_were_written(tmp_path, cached):
    """Each day's rows go in a chunk of their own; the rows kept before are not written again, and
    what loads is the whole frame, as a single save of it would give."""
    book = tmp_path / "store.xlsx"
    assert cache.save_typed(book, "Movements", "day 0", _typed_rows(2, 1000), [])
    first = _chunk_files(book)
    assert len(first) == 1
    written = first[0].stat().st_mtime_ns, first[0].read_bytes()
    for day in range(1, 4):
        assert cache.save_typed(book, "Movements", f"day {day}", _typed_rows(2, 1000 + 10 * day), [],
                                extends=f"day {day - 1}")
    assert len(_chunk_files(book)) == 4
    assert (first[0].stat().st_mtime_ns, first[0].read_bytes()) == written
    frame, issues = cache.load_typed(book, "Movements", "day 3")
    pd.testing.assert_frame_equal(frame, _typed_rows(2, 1030))
    assert issues == [] and cache.load_typed(book, "Movements", "day 2") is None


def test_chunks_are_folded_into_one_and_a_claim_that_does_not_hold_writes_all_rows(tmp_path, cached):
    book = tmp_path / "store.xlsx"
    cache.save_typed(book, "Movements", "day 0", _typed_rows(2, 100), [])
    for day in range(1, cache.MAX_CHUNKS + 1):
        cache.save_typed(book, "Movements", f"day {day}", _typed_rows(2, 100 + day), [], extends=f"day {day - 1}")
    assert len(_chunk_files(book)) == 1  # the ninth chunk would have made too many: all written as one
    pd.testing.assert_frame_equal(cache.load_typed(book, "Movements", f"day {cache.MAX_CHUNKS}")[0],
                                  _typed_rows(2, 100 + cache.MAX_CHUNKS))
    # Extending an entry the cache does not hold (another key) writes every row again.
    cache.save_typed(book, "Movements", "other", _typed_rows(5, 50), [], extends="not held")
    assert len(_chunk_files(book)) == 1
    pd.testing.assert_frame_equal(cache.load_typed(book, "Movements", "other")[0], _typed_rows(5, 50))


def test_a_missing_chunk_is_a_miss_and_forgetting_a_sheet_drops_its_chunks(tmp_path, cached):
    book = tmp_path / "store.xlsx"
    cache.save_typed(book, "Movements", "day 0", _typed_rows(2, 100), [])
    cache.save_typed(book, "Movements", "day 1", _typed_rows(2, 120), [], extends="day 0")
    _chunk_files(book)[0].unlink()
    assert cache.load_typed(book, "Movements", "day 1") is None
    cache.forget(book, [cache.TYPED + "Movements"])
    assert _chunk_files(book) == [] and not cache.entry_path(book, cache.TYPED + "Movements").exists()


# The collector -------------------------------------------------------------------------------------

def test_a_refresh_keeps_what_was_alive_before_out_of_full_collections_and_puts_it_back(tmp_path, monkeypatch):
    import gc

    from inv_sheets.ledger import postings

    monkeypatch.setenv("INV_SHEETS_CACHE", "off")
    during: list[int] = []
    real = postings.build
    monkeypatch.setattr(postings, "build", lambda store, **kw: during.append(gc.get_freeze_count()) or real(store, **kw))
    path = _single(tmp_path / "book.xlsx")
    refresh(path)
    assert during and during[0] > 0 and gc.get_freeze_count() == 0
    gc.freeze()  # a caller's own: left frozen
    try:
        refresh(path)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
