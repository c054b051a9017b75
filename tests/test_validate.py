"""validate: every finding code at its exact cell, on workbooks built in code."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import make_workbook

from inv_sheets.contract.issues import CODES
from inv_sheets.rules.validate import validate_inputs as validate

ITEMS = [["SKU", "Name", "Unit cost", "Tracking"],
         ["TEE-M", "Tee M", 4.0, "none"], ["TEE-L", "Tee L", 4.5, "none"], ["JAM-1", "Jam", 2.0, "expiry"]]
MOVE_HEAD = ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Reason", "User",
             "Batch", "Expiry"]
LOCATIONS = [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"], ["HOLD", "returns_hold", "no"],
             ["BIN", "damaged", "no"]]
SETTINGS = [["Key", "Value"], ["as_of", dt.date(2026, 5, 1)], ["default_location", "MAIN"]]
D = dt.date(2026, 1, 5)


def _book(tmp_path, moves=(), items=ITEMS, **extra):
    sheets = {"Items": items, "Locations": LOCATIONS, "Movements": [MOVE_HEAD, *moves], "Settings": SETTINGS}
    sheets.update(extra)
    return make_workbook(tmp_path / "store.xlsx", sheets)


def _found(report):
    return {(i.code, i.cell) for i in report.issues}


def test_clean_workbook_has_no_findings(tmp_path):
    path = _book(tmp_path, [
        ["M1", D, "receive", "TEE-M", 10, None, "MAIN"],
        ["M2", D, "sale", "TEE-M", 2, "MAIN", None],
        ["M3", D, "return", "TEE-M", 1, None, "HOLD", "too small"],
        ["M4", D, "adjust", "TEE-L", 1, None, "MAIN", "count fix", "ann"],  # -1 would take the book below 0
        ["M5", D, "receive", "JAM-1", 5, None, "MAIN", None, None, "B1", dt.date(2026, 9, 1)],
    ])
    assert validate(path).issues == []


CASES = [
    ("number-with-unit", [["M1", D, "receive", "TEE-M", "12 pcs", None, "MAIN"]], "Movements!E2"),
    ("not-a-number", [["M1", D, "receive", "TEE-M", "twelve", None, "MAIN"]], "Movements!E2"),
    ("number-as-text", [["M1", D, "receive", "TEE-M", "12", None, "MAIN"]], "Movements!E2"),
    ("ambiguous-date", [["M1", "03/04/2026", "receive", "TEE-M", 1, None, "MAIN"]], "Movements!B2"),
    ("date-as-text", [["M1", "13/04/2026", "receive", "TEE-M", 1, None, "MAIN"]], "Movements!B2"),
    ("not-a-date", [["M1", "soon", "receive", "TEE-M", 1, None, "MAIN"]], "Movements!B2"),
    ("not-allowed", [["M1", D, "recieve-ish", "TEE-M", 1, None, "MAIN"]], "Movements!C2"),
    ("unknown-reference", [["M1", D, "receive", "TEE-X", 1, None, "MAIN"]], "Movements!D2"),
    ("unknown-reference", [["M1", D, "receive", "TEE-M", 1, None, "ATTIC"]], "Movements!G2"),
    ("duplicate-key", [["M1", D, "receive", "TEE-M", 1, None, "MAIN"], ["M1", D, "receive", "TEE-M", 1, None, "MAIN"]], "Movements!A3"),
    ("negative-quantity", [["M1", D, "sale", "TEE-M", -1, "MAIN", None]], "Movements!E2"),
    ("zero-quantity", [["M1", D, "sale", "TEE-M", 0, "MAIN", None]], "Movements!E2"),
    ("reason-required", [["M1", D, "damage", "TEE-M", 1, "MAIN", None]], "Movements!H2"),
    ("user-required", [["M1", D, "adjust", "TEE-M", 1, None, "MAIN", "found"]], "Movements!I2"),
    ("same-location", [["M1", D, "transfer", "TEE-M", 1, "MAIN", "MAIN"]], "Movements!G2"),
    ("batch-required", [["M1", D, "receive", "JAM-1", 1, None, "MAIN"]], "Movements!J2"),
    ("expiry-required", [["M1", D, "receive", "JAM-1", 1, None, "MAIN", None, None, "B1"]], "Movements!K2"),
    ("future-date", [["M1", dt.date(2026, 6, 1), "receive", "TEE-M", 1, None, "MAIN"]], "Movements!B2"),
    ("required-value", [["M1", D, "receive", None, 1, None, "MAIN"]], "Movements!D2"),
]


@pytest.mark.parametrize("code,moves,cell", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_movement_finding_at_its_cell(tmp_path, code, moves, cell):
    found = _found(validate(_book(tmp_path, moves)))
    assert (code, cell) in found, found


ITEM_CASES = [
    ("near-duplicate-key", [["SKU", "Name"], ["SKU-1", "a"], ["sku 1", "b"]], "Items!A3"),
    ("near-duplicate-key", [["SKU", "Name"], ["SKU-1", "a"], ["SKU\u20131", "b"]], "Items!A3"),
    ("lookalike-characters", [["SKU", "Name"], ["SKU\u20131", "b"]], "Items!A2"),
    ("bad-check-digit", [["SKU", "Name", "Barcode"], ["A", "a", "4006381333932"]], "Items!C2"),
    ("sku-lost-leading-zeros", [["SKU", "Name", "Barcode"], ["A", "a", 12345678901]], "Items!C2"),
    ("inconsistent-variant", [["SKU", "Name", "Product", "Variant"], ["A", "a", "Tee", "M / Blue"],
                              ["B", "b", "Tee", "L / Blue"], ["C", "c", "Tee", "Blue-S"]], "Items!D4"),
    ("unknown-column", [["SKU", "Name", "Colour??"], ["A", "a", "x"]], "Items!C1"),
    ("duplicate-column", [["SKU", "Name", "Description"], ["A", "a", "b"]], "Items!C1"),
    ("missing-column", [["SKU"], ["A"]], "Items!1:1"),
    ("out-of-range", [["SKU", "Name", "Unit cost"], ["A", "a", -3]], "Items!C2"),
    ("not-a-whole-number", [["SKU", "Name", "Case pack"], ["A", "a", 2.5]], "Items!C2"),
    ("control-character", [["SKU", "Name"], ["A", "a_x0007_b"]], "Items!B2"),
    ("untrimmed-text", [["SKU", "Name"], [" A", "a"]], "Items!A2"),
]


@pytest.mark.parametrize("code,items,cell", ITEM_CASES, ids=[f"{c[0]}-{c[2]}" for c in ITEM_CASES])
def test_item_finding_at_its_cell(tmp_path, code, items, cell):
    found = _found(validate(_book(tmp_path, items=items)))
    assert (code, cell) in found, found


def test_missing_sheet_and_unknown_sheet(tmp_path):
    path = make_workbook(tmp_path / "s.xlsx", {"Items": ITEMS, "Scratch": [["x"], [1]]})
    found = _found(validate(path))
    assert ("missing-sheet", "Movements") in found
    assert ("unknown-sheet", "Scratch") in found


def test_sheet_names_with_spaces_are_quoted(tmp_path):
    path = _book(tmp_path, **{"Item Locations": [["SKU", "Location", "Bin"], ["NOPE", "MAIN", "A1"]]})
    assert ("unknown-reference", "'Item Locations'!A2") in _found(validate(path))


def test_ambiguous_date_is_read_when_settings_say_the_order(tmp_path):
    settings = SETTINGS + [["date_order", "DMY"]]
    path = _book(tmp_path, [["M1", "03/04/2026", "receive", "TEE-M", 1, None, "MAIN"]], Settings=settings)
    codes = {i.code for i in validate(path).issues}
    assert "ambiguous-date" not in codes and "date-as-text" in codes


def test_messy_workbook_a_person_typed(tmp_path):
    """Mixed dates, trailing spaces, 'pcs', a duplicate SKU in another case, an unknown location."""
    items = [["Item SKU", "Description", "Cost"], ["TEE-M ", "Tee M", 4], ["tee-m", "Tee M again", 4], ["CAP", "Cap", 3]]
    moves = [["M1", "2026-01-05", "receipt", "TEE-M", "12 pcs", None, "MAIN"],
             ["M2", D, "sold", "CAP", 1, "SHOP", None],
             ["M3", "05/01/2026", "sale", "TEE-M", 2, "MAIN", None]]
    found = _found(validate(_book(tmp_path, moves, items=items)))
    expected = {("untrimmed-text", "Items!A2"), ("near-duplicate-key", "Items!A3"), ("date-as-text", "Movements!B2"),
                ("number-with-unit", "Movements!E2"), ("unknown-reference", "Movements!F3"),
                ("ambiguous-date", "Movements!B4")}
    assert expected <= found, expected - found


def test_every_code_is_registered_once():
    assert len(CODES) == len(set(CODES))
    assert all(c.severity in ("error", "warning", "info") for c in CODES.values())


cell_values = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12), st.integers(-10**6, 10**6),
                        st.floats(allow_nan=False, allow_infinity=False, width=32),
                        st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell_values, min_size=len(MOVE_HEAD), max_size=len(MOVE_HEAD)), max_size=6))
def test_no_finding_points_outside_its_sheet(tmp_path, rows):
    path = _book(tmp_path, rows)
    for issue in validate(path).issues:
        if issue.sheet == "Movements" and issue.row is not None:
            assert 1 <= issue.row <= len(rows) + 1
        if issue.column is not None:
            assert issue.column in "ABCDEFGHIJK"


def test_a_counted_bundle_is_reported(tmp_path):
    items = ITEMS + [["KIT", "Kit", 9.0, "none"]]
    path = _book(tmp_path, items=items, Bundles=[["Bundle SKU", "Component SKU", "Qty"], ["KIT", "TEE-M", 2]],
                 Counts=[["Date", "Location", "SKU", "Counted qty"], [D, "MAIN", "KIT", 3]])
    assert ("bundle-counted", "Counts!C2") in _found(validate(path))


def test_damage_comes_from_the_default_location(tmp_path):
    path = _book(tmp_path, [["M1", D, "receive", "TEE-M", 5, None, "MAIN"], ["M2", D, "damage", "TEE-M", 1, None, None, "torn"]])
    assert not validate(path).errors


def test_an_excel_error_in_a_cell_is_reported_at_it(tmp_path):
    import openpyxl

    path = _book(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Items"]["C3"].value = "#DIV/0!"
    wb["Items"]["C3"].data_type = "e"
    wb["Items"]["C4"].value = "=1/0"  # a formula saved by a program that does not calculate
    wb.save(path)
    found = _found(validate(path))
    assert ("cell-error", "Items!C3") in found
    assert ("formula-without-value", "Items!C4") in found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aZ09 -_.%/é\u2013\u00a0\u200bİß"), max_size=8), min_size=1, max_size=6))
def test_a_column_folds_as_each_of_its_texts_folds(texts: list[str]) -> None:
    """fold_all (column-wise, for plain ASCII) gives what schema.fold gives text by text."""
    import pandas as pd

    from inv_sheets.contract.schema import fold
    from inv_sheets.rules.checks import fold_all

    assert fold_all(pd.Series(texts, dtype="str")).tolist() == [fold(t) for t in texts]


# Findings on the ledger's rows kept from one refresh to the next ------------------------------------
_IDS = ("M1", "m-1", "M2", "M 3", "M4", "Ü5", None)


@st.composite
def _ledgers(draw):
    """Movements with every kind of finding a row can have: unknown SKUs and places, signs, missing
    reasons and users, batches, dates after the as-of day, IDs repeated or spelled apart."""
    rows = []
    for i in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["sale", "receive", "transfer", "adjust", "damage", "return"]))
        rows.append({"movement_id": draw(st.sampled_from(_IDS)) if draw(st.booleans()) else f"R{i}",
                     "date": draw(st.sampled_from(["2026-01-01", "2026-01-02", "2026-01-03", None])),
                     "type": kind, "sku": draw(st.sampled_from(["TEE", "JAM", "NOPE", None])),
                     "qty": draw(st.sampled_from([1.0, -2.0, 0.0, 3.0])),
                     "from_location": draw(st.sampled_from(["MAIN", "BACK", "ATTIC", None])),
                     "to_location": draw(st.sampled_from(["MAIN", "RET", "ATTIC", None])),
                     "batch": draw(st.sampled_from([None, "B1"])),
                     "reason": draw(st.sampled_from([None, "broken"])), "user": draw(st.sampled_from([None, "ann", "bob"]))})
    return rows


def _store(movements, as_of):
    from storefactory import make_store

    return make_store(
        settings={"as_of": as_of, "adjusters": "ann"},
        items=[{"sku": "TEE", "name": "Tee"}, {"sku": "JAM", "name": "Jam", "tracking": "expiry"}],
        locations=[{"location": "MAIN", "kind": "stock"}, {"location": "BACK", "kind": "stock"},
                   {"location": "RET", "kind": "returns_hold"}],
        movements=movements)


def _said(issues) -> list[tuple]:
    from inv_sheets.rules.validate import unique

    return sorted((i.code, i.sheet, i.row or 0, i.column or "", i.message, str(i.value)) for i in unique(issues))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ledgers(), split=st.integers(0, 14), then=st.sampled_from(["2026-01-01", "2026-01-02"]),
       now=st.sampled_from(["2026-01-02", "2026-01-03"]))
def test_kept_findings_of_the_earlier_rows_and_the_new_rows_checked_are_every_row_checked(rows, split, then, now):
    """The last refresh checked the first rows (as of its own day); the day's rows were appended
    below; this refresh keeps what it found and checks the new rows alone."""
    from inv_sheets.rules import checks

    split = min(split, len(rows))
    _, kept = checks.run(_store(rows[:split], then))
    store = _store(rows, now)
    found, now_kept = checks.run(store, kept)
    every_row, fresh = checks.run(store)
    assert _said(found) == _said(every_row)
    assert _said(now_kept.found) == _said(fresh.found) and now_kept.rows == fresh.rows == len(rows)
    assert sorted(now_kept.folded["movement_id"].to_pylist()) == sorted(fresh.folded["movement_id"].to_pylist())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), cut=st.sets(st.integers(2, 310), max_size=120))
def test_rows_cut_out_between_slices_are_the_rows_filtered_out(n, cut):
    import numpy as np
    import pandas as pd

    from inv_sheets.rules.validate import _without

    frame = pd.DataFrame({"id": pd.array([f"M{i}" if i % 7 else None for i in range(n)], dtype="str"),
                          "qty": np.arange(n, dtype=float), "date": pd.date_range("2026-01-01", periods=n)},
                         index=pd.RangeIndex(2, n + 2))
    kept = _without(frame, cut)
    expected = frame[~frame.index.isin(list(cut))]
    pd.testing.assert_frame_equal(kept, expected)
    assert list(kept.dtypes) == list(frame.dtypes)


def test_the_ids_kept_day_after_day_stay_in_a_few_chunks(monkeypatch):
    from inv_sheets.rules import checks

    monkeypatch.setattr(checks, "KEPT_CHUNKS", 2)
    rows = [{"movement_id": f"D{i}", "date": "2026-01-01", "type": "sale", "sku": "TEE", "qty": 1.0,
             "from_location": "MAIN"} for i in range(8)]
    _, kept = checks.run(_store(rows[:1], "2026-01-01"))
    for day in range(2, 9):
        _, kept = checks.run(_store(rows[:day], "2026-01-02"), kept)
        assert kept.folded["movement_id"].num_chunks <= 3
    assert kept.folded["movement_id"].to_pylist() == [f"d{i}" for i in range(8)]
