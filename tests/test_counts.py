"""Count Plan, Variance and the printable count list, on small hand-computed stores."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from storefactory import items, make_store, mv
from workbooks import make_workbook

from inv_sheets.cli.main import main
from inv_sheets.features import counts
from inv_sheets.io import count_list
from inv_sheets.ledger.postings import build

AS_OF = "2026-03-31"
ROOT = Path(__file__).resolve().parent.parent


def count(date: str, sku: str, qty: float, location: str = "MAIN", **more) -> dict:
    return {"date": date, "location": location, "sku": sku, "counted_qty": qty, **more}


def store_with(movements, counts_rows=(), settings=None, **kw):
    kw.setdefault("items", items("A", "B", "C", unit_cost=2.5))
    return make_store(movements=list(movements), counts=list(counts_rows), settings={"as_of": AS_OF, **(settings or {})},
                      **kw)


DAILY_A = {"count_every_days_a": 1}  # the guide's "count top sellers daily", for a store with the hands for it


ALL_A = pd.Series({"A": "A", "B": "A", "C": "A"})


def variance_of(store, abc=ALL_A) -> pd.DataFrame:
    return counts.variance(store, build(store), abc).sort_values("row").reset_index(drop=True)


# Book at the moment of the count -------------------------------------------------------------------
def test_movements_after_a_count_do_not_make_variance():
    store = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN"),
                        mv("2026-03-03", "sale", "A", 3, frm="MAIN")],
                       [count("2026-03-02", "A", 10)])
    v = variance_of(store)
    assert v.loc[0, ["book_qty", "counted_qty", "variance_qty"]].tolist() == [10, 10, 0]
    assert v.loc[0, "within_tolerance"]


def test_a_plain_day_count_comes_after_that_days_movements():
    store = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN"),
                        mv("2026-03-02", "sale", "A", 3, frm="MAIN")],
                       [count("2026-03-02", "A", 7)])
    assert variance_of(store).loc[0, "book_qty"] == 7


def test_a_timed_count_comes_before_later_movements_that_day():
    at = pd.Timestamp  # every date of a column typed alike, some with a time of day
    store = store_with([mv(at("2026-03-01"), "receive", "A", 10, to="MAIN"),
                        mv(at("2026-03-02 15:00"), "sale", "A", 3, frm="MAIN")],
                       [count(at("2026-03-02 09:00"), "A", 10)])
    assert variance_of(store).loc[0, "variance_qty"] == 0


def test_each_count_resets_the_book_for_the_next():
    store = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN"),
                        mv("2026-03-05", "sale", "A", 2, frm="MAIN")],
                       [count("2026-03-02", "A", 9), count("2026-03-06", "A", 6)])
    v = variance_of(store)
    assert v["book_qty"].tolist() == [10, 7]  # 9 counted, then 2 sold
    assert v["variance_qty"].tolist() == [-1, -1]
    assert v["variance_value"].tolist() == [-2.5, -2.5]


# Tolerance -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("counted, within", [(198, True), (202, True), (197, False), (203.5, False)])
def test_class_a_tolerance_is_one_percent_of_the_book(counted, within):
    store = store_with([mv("2026-03-01", "receive", "A", 200, to="MAIN")], [count("2026-03-02", "A", counted)])
    row = variance_of(store).loc[0]
    assert bool(row["within_tolerance"]) is within
    assert row["variance_pct"] == pytest.approx((counted - 200) / 200)
    assert row["tolerance"] == 0.01


def test_tolerance_follows_the_class_and_settings():
    store = make_store(items=items("A", "B", "C"), settings={"as_of": AS_OF, "count_tolerance_c": 0.10},
                       movements=[mv("2026-03-01", "receive", s, 100, to="MAIN") for s in "ABC"],
                       counts=[count("2026-03-02", s, 96) for s in "ABC"])
    v = variance_of(store, pd.Series({"A": "A", "B": "B", "C": "C"}))
    assert v["tolerance"].tolist() == [0.01, 0.03, 0.10]
    assert v["within_tolerance"].tolist() == [False, False, True]


def test_a_book_of_zero_leaves_no_room():
    store = store_with([mv("2026-03-01", "receive", "A", 5, to="MAIN"), mv("2026-03-01", "receive", "B", 5, to="MAIN"),
                        mv("2026-03-02", "sale", "A", 5, frm="MAIN"), mv("2026-03-02", "sale", "B", 5, frm="MAIN")],
                       [count("2026-03-03", "A", 0), count("2026-03-03", "B", 2)])
    v = variance_of(store)
    assert v.loc[0, "within_tolerance"] and v.loc[0, "variance_pct"] == 0
    assert not v.loc[1, "within_tolerance"] and np.isnan(v.loc[1, "variance_pct"])


# Repeat offenders ------------------------------------------------------------------------------------
def offender_flags(results: list[bool]) -> list[bool]:
    """Counts of A at MAIN, one a week, each exactly right (True) or 5 units off (False)."""
    moves = [mv("2026-01-01", "receive", "A", 100, to="MAIN")]
    rows = [count(f"2026-01-{2 + 7 * i:02d}", "A", 100 if ok else 95) for i, ok in enumerate(results)]
    # after an off count the book is 95: put it back to 100 so every count starts from 100
    moves += [mv(f"2026-01-{3 + 7 * i:02d}", "adjust", "A", 5, to="MAIN", reason="found", user="ann")
              for i, ok in enumerate(results) if not ok]
    return variance_of(store_with(moves, rows))["repeat_offender"].tolist()


def test_out_twice_in_the_last_three_counts_is_a_repeat_offender():
    assert offender_flags([False, True, False]) == [False, False, True]
    assert offender_flags([False, False]) == [False, True]


def test_an_old_miss_falls_out_of_the_window():
    assert offender_flags([False, True, True, False]) == [False, False, False, False]


def test_the_repeat_rule_is_configurable(monkeypatch):
    monkeypatch.setattr(counts, "REPEAT_LIMIT", 1)
    assert offender_flags([True, False]) == [False, True]


def test_batches_counted_on_one_day_are_one_count():
    store = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN", batch="L1"),
                        mv("2026-03-01", "receive", "A", 10, to="MAIN", batch="L2")],
                       [count("2026-03-02", "A", 9, batch="L1"), count("2026-03-02", "A", 10, batch="L2"),
                        count("2026-03-09", "A", 8, batch="L1")],  # L1's book is 9 since the first count
                       items=items("A", "B", "C", tracking="batch"))
    v = variance_of(store)
    assert v["within_tolerance"].tolist() == [False, True, False]
    assert v["repeat_offender"].tolist() == [False, False, True]


# Likely causes ---------------------------------------------------------------------------------------
def test_cause_columns_date_the_last_events_before_the_count_at_that_place():
    store = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN"),
                        mv("2026-03-02", "receive", "A", 10, to="SHOP"),
                        mv("2026-03-03", "sale", "A", 2, frm="MAIN"),
                        mv("2026-03-04", "return", "A", 1, to="MAIN", reason="size"),
                        mv("2026-03-05", "adjust", "A", -1, to="MAIN", reason="broken", user="ann"),
                        mv("2026-03-08", "receive", "A", 5, to="MAIN")],
                       [count("2026-03-06", "A", 8)])
    row = variance_of(store).loc[0]
    assert row["last_receipt"] == pd.Timestamp("2026-03-01")  # SHOP's and the later one don't count
    assert row["last_return"] == pd.Timestamp("2026-03-04")
    assert row["last_adjustment"] == pd.Timestamp("2026-03-05")


# Count Plan ------------------------------------------------------------------------------------------
def test_cadence_by_class_from_the_last_count():
    store = store_with([mv("2026-03-01", "receive", s, 10, to="MAIN") for s in "ABC"],
                       [count("2026-03-30", "A", 10), count("2026-03-30", "B", 10), count("2026-03-20", "C", 10)])
    s = counts.count_schedule(store, build(store), pd.Series({"A": "A", "B": "B", "C": "C"})).set_index("sku")
    # The defaults: A monthly, B quarterly, C twice a year.
    assert s["every_days"].to_dict() == {"A": 30, "B": 90, "C": 180}
    assert s["slot"].to_dict() == {"A": 29, "B": 89, "C": 169}  # 30 Mar + 30 = 29 Apr, + 90; 20 Mar + 180


def test_plan_lists_each_days_counts_never_counted_first_then_by_location_and_bin():
    store = store_with([mv("2026-03-01", "receive", s, 10, to="MAIN") for s in "ABC"],
                       [count("2026-03-30", "C", 10)],
                       item_locations=[{"sku": "A", "location": "MAIN", "bin": "Z-9"},
                                       {"sku": "B", "location": "MAIN", "bin": "A-1"},
                                       {"sku": "C", "location": "MAIN", "bin": "B-1"}], settings=DAILY_A)
    plan = counts.count_plan(store, build(store), ALL_A, days=2)
    assert plan["due"].dt.strftime("%d").tolist() == ["31", "31", "31", "01", "01", "01"]
    assert plan["sku"].tolist() == ["B", "A", "C", "B", "A", "C"]  # never counted first, then by bin
    assert plan.loc[2, "last_counted"] == pd.Timestamp("2026-03-30")


def test_discontinued_skus_with_nothing_on_hand_and_bundles_are_not_counted():
    store = make_store(items=[*items("A", "K"), {"sku": "OLD", "name": "Old", "status": "discontinued"}],
                       bundles=[{"bundle_sku": "K", "component_sku": "A", "qty": 2}],
                       item_locations=[{"sku": "OLD", "location": "MAIN"}, {"sku": "K", "location": "MAIN"}],
                       movements=[mv("2026-03-01", "receive", "A", 10, to="MAIN")], settings={"as_of": AS_OF})
    assert counts.count_targets(store, build(store))["sku"].tolist() == ["A"]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 120), every=st.sampled_from([7, 30]))
def test_never_counted_skus_are_spread_evenly_over_their_cycle(n, every):
    skus = [f"S{i:03d}" for i in range(n)]
    store = make_store(items=items(*skus), movements=[mv("2026-03-01", "receive", s, 1, to="MAIN") for s in skus],
                       settings={"as_of": AS_OF, "count_every_days_c": every})
    plan = counts.count_plan(store, build(store), pd.Series(dtype=object), days=every)
    per_day = plan.groupby("due").size().reindex(pd.date_range(AS_OF, periods=every), fill_value=0)
    assert per_day.max() - per_day.min() <= 1
    assert sorted(plan["sku"]) == skus  # each once in its cycle


# The printable list ----------------------------------------------------------------------------------
def plan_store():
    return store_with([mv("2026-03-01", "receive", s, 10, to="MAIN") for s in "ABC"]
                      + [mv("2026-03-01", "receive", "A", 4, to="SHOP")],
                      item_locations=[{"sku": "A", "location": "MAIN", "bin": "C-3"},
                                      {"sku": "B", "location": "MAIN", "bin": "A-1"}],
                      locations=[{"location": "MAIN", "name": "Back room", "kind": "stock"},
                                 {"location": "SHOP", "kind": "stock"}], settings=DAILY_A)


def test_count_list_is_the_days_due_skus_at_one_location_sorted_by_bin():
    store = plan_store()
    lines = counts.count_list(store, build(store), "main", abc=ALL_A)
    assert lines["sku"].tolist() == ["B", "A", "C"]  # bins A-1, C-3, then no bin
    assert lines["book_qty"].tolist() == [10, 10, 10]
    assert lines["counted_qty"].isna().all()


def test_count_list_rejects_an_unknown_location_and_a_past_day():
    store = plan_store()
    ledger = build(store)
    with pytest.raises(ValueError, match="no location 'NOPE'"):
        counts.count_list(store, ledger, "NOPE", abc=ALL_A)
    with pytest.raises(ValueError, match="before the as-of day"):
        counts.count_list(store, ledger, "MAIN", date="2026-01-01", abc=ALL_A)


def read_sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


@pytest.mark.parametrize("blind", [False, True])
def test_count_sheet_is_print_ready(blind):
    store = plan_store()
    ws = read_sheet(count_list.count_sheet(store, build(store), "MAIN", blind=blind, abc=ALL_A))
    assert ws["A1"].value == "Count sheet: MAIN (Back room)"
    headers = [c.value for c in ws[5] if c.value]
    assert ("Book qty" in headers) is not blind
    assert "Counted qty" in headers
    assert [ws.cell(r, headers.index("SKU") + 1).value for r in (6, 7, 8)] == ["B", "A", "C"]
    counted = headers.index("Counted qty") + 1
    assert all(ws.cell(r, counted).value is None for r in (6, 7, 8))
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$5:$5"


def test_count_sheet_command_writes_the_list(tmp_path):
    book = make_workbook(tmp_path / "store.xlsx", {
        "Items": [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4.0], ["TEE-L", "Tee L", 4.5]],
        "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "To location"],
                      ["M1", pd.Timestamp("2026-03-01").to_pydatetime(), "receive", "TEE-M", 5, "MAIN"]],
        "Settings": [["Key", "Value"], ["as_of", "2026-03-31"]],
    })
    out = tmp_path / "list.xlsx"
    result = CliRunner().invoke(main, ["count-sheet", str(book), "--location", "main", "--blind", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 line to count at MAIN on 2026-03-31" in result.output
    assert [c.value for c in read_sheet(out.read_bytes())[5] if c.value][:7] == [
        "Date", "Location", "SKU", "Batch", "Counted qty", "Counter", "Bin"]  # the Counts sheet's own
    default = CliRunner().invoke(main, ["count-sheet", str(book), "--location", "MAIN"])
    assert default.exit_code == 0 and (tmp_path / "count-MAIN-2026-03-31.xlsx").exists()
    bad = CliRunner().invoke(main, ["count-sheet", str(book), "--location", "NOPE"])
    assert bad.exit_code == 2 and "no location 'NOPE'" in bad.output


def test_count_sheet_renders_in_libreoffice(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    store = plan_store()
    path = tmp_path / "count.xlsx"
    count_list.write_count_sheet(store, build(store), "MAIN", path, abc=ALL_A)
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / "count.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page") <= 2


# The sheets ------------------------------------------------------------------------------------------
def test_count_sheets_gives_variance_only_with_a_counts_sheet():
    with_counts = store_with([mv("2026-03-01", "receive", "A", 10, to="MAIN")], [count("2026-03-02", "A", 9)])
    names = [s.name for s in counts.count_sheets(with_counts, build(with_counts))]
    assert names == ["Count Plan", "Variance"]
    without = make_store(items=items("A"), movements=[mv("2026-03-01", "receive", "A", 10, to="MAIN")],
                         settings={"as_of": AS_OF})
    assert [s.name for s in counts.count_sheets(without, build(without))] == ["Count Plan"]


def test_variance_formulas_point_at_the_declared_columns():
    formulas = counts._variance_formulas()
    assert formulas["variance_qty"] == "=E{row}-D{row}"
    assert formulas["variance_pct"].startswith("=IF(D{row}=0")


def test_demo_store_has_variances_and_a_repeat_offender():
    from inv_sheets.rules.validate import load, parse

    demo = ROOT / "samples" / "demo-store.xlsx"
    if not demo.exists():
        pytest.skip("the demo store is not built")
    store, _ = parse(load(demo))
    v = counts.variance(store, build(store))
    assert (~v["within_tolerance"]).sum() > 0
    assert v["repeat_offender"].any()
