"""Fuzzing: arbitrary values in every column of every input sheet.

Whatever the cells hold, validation and the whole computation (`refresh.compute`) never crash,
every finding points at a real cell of its sheet, and the ledger balances on the rows it accepted:
the postings of every SKU sum to zero, and every posting comes from an accepted row.

Books are built in memory through the same `collect` / `table_from_rows` path the live-Excel reader
uses, so hypothesis can run many examples; a few more go through real files and the writer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
from hypothesis import HealthCheck, given, settings
from ooxml import problems
from workbooks import make_workbook

from inv_sheets.contract.book import Book
from inv_sheets.contract.issues import column_letter
from inv_sheets.contract.schema import BOOL, CHOICE, CODE, DATE, INTEGER, MOVEMENT_TYPES, NUMBER, SETTINGS, SHEETS
from inv_sheets.io.read import collect, table_from_rows
from inv_sheets.refresh import compute, refresh

SKUS = ["A", "B", "KIT", "a ", "Z"]
LOCATIONS = ["MAIN", "SHOP", "HOLD", "DMG", "X"]
CODES = ["P1", "O1", "S1", "WEB", "L1", "SUP"]
SETTING_NAMES = [s.key for s in SETTINGS]

arbitrary = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10 ** 18), 10 ** 18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2400, 1, 1)),
    st.booleans(),
    st.sampled_from(["", " ", "=1+1", "#REF!", "\x01x", "03/04/2026", "2026-02-30", "12 pcs", "1e309", "-0",
                     "TEE\u2010M", "\u0422EE", "yes", "NO", "None", "nan"]),
)
near_dates = st.datetimes(min_value=dt.datetime(2025, 11, 1), max_value=dt.datetime(2026, 2, 15)).map(
    lambda d: d.replace(hour=0, minute=0, second=0, microsecond=0))


def plausible(sheet: str, column) -> st.SearchStrategy:
    """Values that mean something in this column, so the ledger and the features get exercised."""
    name = column.name
    if sheet == "Settings" and name == "key":
        return st.sampled_from(SETTING_NAMES + ["unknown_key"])
    if name in ("sku", "bundle_sku", "component_sku"):
        return st.sampled_from(SKUS)
    if "location" in name or name == "locations":
        return st.sampled_from(LOCATIONS + [None])
    if sheet == "Movements" and name == "type":
        return st.sampled_from([t.name for t in MOVEMENT_TYPES] + ["receipt", "sold", "bogus"])
    if column.type == CHOICE and column.choices:
        return st.sampled_from([*column.choices, "other"])
    if column.type in (NUMBER, INTEGER):
        return st.one_of(st.integers(-3, 40), st.floats(-5, 100, allow_nan=False))
    if column.type == DATE:
        return near_dates
    if column.type == BOOL:
        return st.sampled_from(["yes", "no", True, False, None])
    if column.type == CODE:
        return st.sampled_from(CODES + [None])
    return st.one_of(st.none(), st.text(max_size=8))


def cell(sheet: str, column) -> st.SearchStrategy:
    good = plausible(sheet, column)
    return st.one_of(good, good, good, arbitrary)  # mostly meaningful, often hostile


@st.composite
def workbook_rows(draw) -> dict[str, list[list[object]]]:
    """Every sheet (Items and Movements always, the others sometimes), every column, a few rows."""
    sheets: dict[str, list[list[object]]] = {}
    for sheet in SHEETS:
        if sheet.name not in ("Items", "Movements") and not draw(st.booleans()):
            continue
        header = [c.title for c in sheet.columns]
        n = draw(st.integers(0, 10 if sheet.name == "Movements" else 5))
        rows = [[draw(cell(sheet.name, c)) for c in sheet.columns] for _ in range(n)]
        if sheet.name == "Settings" and draw(st.booleans()):
            rows.insert(0, ["as_of", dt.datetime(2026, 1, 31), None])
        sheets[sheet.name] = [header, *rows]
    return sheets


def as_book(sheets: dict[str, list[list[object]]]) -> Book:
    def load(name, canonical, issues):
        return table_from_rows(sheets[name], 1, 1, name, canonical, issues)

    return collect("fuzz.xlsx", list(sheets), load)


def assert_findings_point_at_real_cells(result, sheets: dict[str, list[list[object]]]) -> None:
    for issue in result.report.issues:
        if issue.sheet not in sheets:
            assert issue.code == "missing-sheet" and issue.row is None, issue
            continue
        rows = sheets[issue.sheet]
        if issue.row is not None:
            assert 1 <= issue.row <= len(rows), issue
        if issue.column is not None:
            width = max(len(r) for r in rows)
            assert issue.column in {column_letter(i) for i in range(1, width + 1)}, issue


def assert_ledger_balances(result) -> None:
    postings = result.ledger.postings
    if not len(postings):
        return
    qty = postings["qty"].to_numpy(dtype=float)
    assert np.isfinite(qty).all()
    per_sku = postings.assign(qty=qty).groupby("sku")["qty"].sum()
    assert (per_sku.abs() <= 1e-6 * max(1.0, float(np.abs(qty).sum()))).all(), per_sku
    store = result.store
    for source in ("Movements", "Counts"):
        rows = set(postings.loc[postings["source"] == source, "row"])
        assert rows <= set(store.tables[source].index), f"{source} rows posted that were left out"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workbook_rows())
def test_any_cells_compute_without_crashing(sheets) -> None:
    result = compute(as_book(sheets))
    assert_findings_point_at_real_cells(result, sheets)
    assert_ledger_balances(result)
    assert {s.name for s in result.sheets} >= {"Issues", "_inv_ledger"}


printable = st.characters(blacklist_categories=("Cs", "Cc"))


def _file_safe(value: object) -> object:
    """openpyxl refuses control characters and dates before 1900; the corpus covers those in files."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isprintable())
    if isinstance(value, dt.datetime) and value.year < 1900:
        return value.replace(year=1904)  # a leap year: 29 February of any year has a day there
    return value


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.function_scoped_fixture])
@given(workbook_rows())
def test_any_cells_refresh_a_real_file(tmp_path: Path, sheets) -> None:
    sheets = {name: [[_file_safe(v) for v in row] for row in rows] for name, rows in sheets.items()}
    path = make_workbook(tmp_path / "fuzz.xlsx", sheets)
    report = refresh(path)
    assert problems(path) == []
    assert all(i.severity in ("error", "warning", "info") for i in report.issues)
