"""One set of numbers: every sheet agrees with every other, and validate tells what refresh tells.

Each item has a small store built here that shows it; `assert_one_set_of_numbers` then checks the
cross-sheet rules on the demo store and on an awkward store (counts mid-day, transfers, returns
hold, batches with expiry, nested bundles, a promotion on a bundle, a PO received in two parts,
hand-set reorder points, an order no location can fill, no Locations sheet).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from storefactory import items, make_store, mv
from workbooks import make_workbook

import inv_sheets
from inv_sheets.cli.main import main
from inv_sheets.exports import snapshot
from inv_sheets.features import checklist, counts, kpis, stock
from inv_sheets.features.channels.allocation import allocate
from inv_sheets.features.replenish import demand
from inv_sheets.features.replenish import reorder as replenish
from inv_sheets.io import count_list
from inv_sheets.ledger.postings import build

AS_OF = "2026-12-31"
DAYS = pd.date_range("2026-10-03", AS_OF)  # the 90-day demand window
DEMO = Path(__file__).parent.parent / "samples" / "demo-store.xlsx"


def sheets_of(store):
    ledger = build(store)
    return ledger, stock.stock_rows(store, ledger).set_index(["sku", "location"]), \
        replenish.reorder_table(store, ledger).set_index("sku")


# 1. Expired stock is never available, and expired-only days are stock-out days ---------------------------
def test_expired_stock_is_not_available_on_reorder_either_and_its_days_are_stockout_days():
    moves = [mv("2026-10-02", "receive", "M", 50, to="MAIN", batch="L1", expiry="2026-12-01")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "M", 1, frm="MAIN", batch="L1") for d in pd.date_range("2026-10-03", periods=40)]
    store = make_store(items=[{"sku": "M", "name": "Milk", "tracking": "expiry", "supplier": "S"}], movements=moves,
                       suppliers=[{"supplier": "S", "lead_time_days": 5}], settings={"as_of": AS_OF})
    _, st, ro = sheets_of(store)
    assert (st.loc[("M", "MAIN"), "on_hand"], st.loc[("M", "MAIN"), "available"]) == (10, 0)
    assert st.loc[("M", "MAIN"), "status"] == "out"
    r = ro.loc["M"]
    assert r.available == 0 and r.position == 0 and r.flag == "reorder"
    # 40 sold over the 40 selling days and 20 days with good stock and no sale; the 29 days after
    # the day the batch expired on began and ended with nothing sellable: left out.
    assert r.days_stockout == 29
    assert r.daily_demand == round(40 / 61, 4)


# 2. A promotion on a bundle is a promotion on its components ---------------------------------------------
def test_a_promotion_on_a_bundle_takes_its_days_out_of_the_components_baseline():
    promo = pd.date_range("2026-12-01", periods=10)
    moves = [mv("2026-10-01", "receive", s, 500, to="MAIN") for s in ("A", "B")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", 1, frm="MAIN") for d in DAYS if d not in promo]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "KIT", 2, frm="MAIN") for d in promo]
    store = make_store(items=items("A", "B", "KIT"), movements=moves,
                       bundles=[{"bundle_sku": "KIT", "component_sku": "A", "qty": 1},
                                {"bundle_sku": "KIT", "component_sku": "B", "qty": 1}],
                       promotions=[{"name": "Kit week", "start": "2026-12-01", "end": "2026-12-10", "sku": "KIT"}],
                       settings={"as_of": AS_OF})
    r = sheets_of(store)[2].loc["A"]
    assert r.daily_demand == 1.0 and r.days_observed == 80  # not 80/90 = 0.889
    assert r.days_promo == 10 and r.promo_units == 20
    assert "+100% on normal" in r.why  # 2 a day in the promotion against 1 a day: not a false +12 %


# 3. Reserved is what the Allocation ships; the rest is short ---------------------------------------------
def test_reserved_is_what_allocation_ships_from_the_location_and_the_rest_is_short():
    store = make_store(items=items("A"), movements=[mv("2026-12-01", "receive", "A", 10, to="MAIN")],
                       orders=[{"order": "SO1", "sku": "A", "qty": 50}], settings={"as_of": AS_OF})
    ledger, st, ro = sheets_of(store)
    placed = allocate(store, ledger)
    assert placed.loc[placed["location"] == "MAIN", "qty"].sum() == 10
    assert tuple(st.loc[("A", "MAIN"), ["on_hand", "reserved", "short", "available"]]) == (10, 10, 40, 0)
    # 7. One definition of available: Reorder's is Stock's, never below 0; the short units lower the position.
    assert (ro.loc["A"].available, ro.loc["A"].short, ro.loc["A"].position) == (0, 40, -40)


# 4. Stock's low is the Reorder sheet's flag ---------------------------------------------------------------
def test_stock_low_uses_the_reorder_point_the_reorder_sheet_uses():
    moves = [mv("2026-10-01", "receive", "A", 942, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", 10, frm="MAIN") for d in DAYS]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S"}], movements=moves,
                       suppliers=[{"supplier": "S", "lead_time_days": 7}], settings={"as_of": AS_OF})
    _, st, ro = sheets_of(store)
    assert ro.loc["A"].flag == "reorder"  # 42 on hand, reorder point 70: no reorder point typed anywhere
    assert st.loc[("A", "MAIN"), "status"] == "low"


# 5. Days of cover on the in-stock days --------------------------------------------------------------------
def test_days_of_cover_of_a_new_sku_uses_its_in_stock_days():
    new_days = pd.date_range("2026-12-22", AS_OF)
    moves = [mv("2026-01-05", "receive", "OLD", 5, to="MAIN"), mv("2026-12-22", "receive", "NEW", 100, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "NEW", 2, frm="MAIN") for d in new_days]
    store = make_store(items=items("OLD", "NEW"), movements=moves, settings={"as_of": AS_OF})
    st = sheets_of(store)[1]
    assert st.loc[("NEW", "MAIN"), "available"] == 80
    assert st.loc[("NEW", "MAIN"), "days_of_cover"] == 40  # 2 a day over its 10 days, not 20 over 90 (360 days)


# 6. One cost rule -----------------------------------------------------------------------------------------
def test_stock_values_at_the_mean_receipt_cost_when_items_has_none():
    moves = [mv("2026-12-01", "receive", "A", 10, to="MAIN", unit_cost=4.0),
             mv("2026-12-02", "receive", "A", 30, to="MAIN", unit_cost=6.0),
             mv("2026-12-03", "receive", "B", 5, to="MAIN")]
    store = make_store(items=[{"sku": "A", "name": "A"}, {"sku": "B", "name": "B", "unit_cost": 3.0}],
                       movements=moves, settings={"as_of": AS_OF})
    ledger, st, _ = sheets_of(store)
    assert st.loc[("A", "MAIN"), "unit_cost"] == 5.5 and st.loc[("A", "MAIN"), "value"] == 220
    assert st.loc[("B", "MAIN"), "unit_cost"] == 3.0
    assert counts.unit_costs(store, ledger).to_dict() == {"A": 5.5, "B": 3.0}


# 7. A hand-set reorder point below lead-time demand is a finding ------------------------------------------
def test_a_hand_set_reorder_point_below_lead_time_demand_is_a_warning_at_its_cell():
    moves = [mv("2026-10-01", "receive", "A", 1000, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", 10, frm="MAIN") for d in DAYS]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S", "reorder_point": 50}], movements=moves,
                       suppliers=[{"supplier": "S", "lead_time_days": 7}], settings={"as_of": AS_OF})
    [found] = replenish.reorder_findings(store, build(store))
    at = f"Items!{store.letters['Items']['reorder_point']}2"
    assert (found.code, found.severity, found.cell) == ("reorder-point-below-lead-demand", "warning", at)
    assert "20 below the 70 expected to sell during the 7-day lead time" in found.message
    assert "raise it to at least 70" in found.message


# 8 and 9. An order that buys years; the why texts -----------------------------------------------------------
def test_a_minimum_order_that_buys_years_is_flagged_in_why_and_on_issues():
    moves = [mv("2026-10-01", "receive", "CHAIR", 5, to="MAIN")]
    moves += [mv(d, "sale", "CHAIR", 1, frm="MAIN") for d in ("2026-10-20", "2026-11-10", "2026-11-30", "2026-12-20")]
    store = make_store(items=[{"sku": "CHAIR", "name": "Chair", "supplier": "S", "reorder_point": 2,
                               "min_order_qty": 120}], movements=moves,
                       suppliers=[{"supplier": "S", "lead_time_days": 7}], settings={"as_of": AS_OF})
    ledger = build(store)
    r = replenish.reorder_table(store, ledger).set_index("sku").loc["CHAIR"]
    assert r.suggested_qty == 120 and r.daily_demand == 0.0444
    assert "at 0.04/day it lasts 2703 days, more than max_order_days 180: see Issues" in r.why
    [found] = replenish.reorder_findings(store, ledger)
    assert found.code == "order-exceeds-demand" and found.field == "min_order_qty"
    assert "minimum order quantity 120" in found.message
    fine = make_store(items=[{"sku": "CHAIR", "name": "Chair", "supplier": "S", "reorder_point": 2,
                              "min_order_qty": 120}], movements=moves, suppliers=[{"supplier": "S", "lead_time_days": 7}],
                      settings={"as_of": AS_OF, "max_order_days": 3000})
    assert replenish.reorder_findings(fine, build(fine)) == []


def test_why_says_the_minimum_was_rounded_to_the_case_pack_and_counts_purchase_lines_in_whole_numbers():
    moves = [mv("2026-10-01", "receive", "A", 942, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", 10, frm="MAIN") for d in DAYS]
    moves += [mv(d, "receive", "B", 5, to="MAIN", ref=po) for d, po in
              (("2026-10-11", "P1"), ("2026-11-17", "P2"), ("2026-12-09", "P3"))]
    purchases = [{"po": po, "supplier": "S2", "sku": "B", "qty": 5, "ordered": day, "status": "closed"}
                 for po, day in (("P1", "2026-10-01"), ("P2", "2026-11-02"), ("P3", "2026-12-01"))]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S", "case_pack": 24, "min_order_qty": 100,
                               "max_stock": 60}, {"sku": "B", "name": "B", "supplier": "S2"}],
                       movements=moves, purchases=purchases, suppliers=[{"supplier": "S", "lead_time_days": 7}],
                       settings={"as_of": AS_OF})
    t = replenish.reorder_table(store, build(store)).set_index("sku")
    assert t.loc["A"].suggested_qty == 120
    assert "= 18, raised to the minimum order 100 rounded up to case pack 24 = 120" in t.loc["A"].why
    assert "observed on 3 received purchase lines of S2" in t.loc["B"].why


def test_checklist_counts_one_thing_in_the_singular():
    store = make_store(items=items("A"), movements=[mv("2026-12-01", "receive", "A", 5, to="MAIN"),
                                                    mv("2026-12-02", "transfer", "A", 1, frm="MAIN", to="SHOP")],
                       suppliers=[{"supplier": "S1"}], settings={"as_of": AS_OF})
    steps = checklist.checklist(store, build(store)).set_index("step")
    assert steps.loc["Week 4: Track stock by location", "missing"] == "2 locations not on a Locations sheet: MAIN, SHOP"
    assert steps.loc["Week 3: Document lead times per supplier", "missing"] == "1 supplier: S1"  # not "1 suppliers"


# 10. validate tells what refresh tells -----------------------------------------------------------------------
LEDGER_TROUBLE = {
    "Items": [["SKU", "Name", "Tracking"], ["TEE", "Tee", None], ["JAM", "Jam", "batch"]],
    "Locations": [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"]],
    "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Batch"],
                  ["M1", "2026-12-01", "receive", "TEE", 5, None, "MAIN", None],
                  ["M2", "2026-12-02", "sale", "TEE", 8, "MAIN", None, None],
                  ["M3", "2026-12-02", "receive", "JAM", 5, None, "MAIN", "B1"],
                  ["M4", "2026-12-03", "sale", "JAM", 1, "MAIN", None, "B9"]],
    "Counts": [["Date", "Location", "SKU", "Counted qty"], ["2026-12-20", "MAIN", "JAM", 3]],
    "Orders": [["Order", "SKU", "Qty", "Status"], ["SO1", "JAM", 40, "open"]],
    "Settings": [["Key", "Value"], ["as_of", "2026-12-31"]],
}


def test_validate_reports_every_finding_refresh_reports(tmp_path):
    path = make_workbook(tmp_path / "store.xlsx", LEDGER_TROUBLE)
    before = path.read_bytes()
    checked = inv_sheets.validate(path)
    assert path.read_bytes() == before  # nothing written
    codes = {i.code for i in checked.issues}
    assert {"negative-stock", "over-reserved", "count-variance", "unknown-batch"} <= codes
    strict = CliRunner().invoke(main, ["validate", str(path), "--strict"])
    assert strict.exit_code == 1 and "negative-stock" in strict.stdout
    refreshed = inv_sheets.refresh(path, output=tmp_path / "out.xlsx")
    assert sorted((i.code, i.cell) for i in checked.issues) == sorted((i.code, i.cell) for i in refreshed.issues)


# 11. Rows left out are said to be left out ----------------------------------------------------------------------
def test_a_row_left_out_for_an_error_is_counted_on_the_sheets_and_in_the_summary(tmp_path):
    sheets = {
        "Items": [["SKU", "Name"], ["TEE", "Tee"]],
        "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location"],
                      ["M1", "2026-12-01", "receive", "TEE", 10, None, "MAIN"],
                      ["M2", "03/04/2026", "sale", "TEE", 4, "MAIN", None]],  # ambiguous: left out
        "Settings": [["Key", "Value"], ["as_of", "2026-12-31"]],
    }
    path = make_workbook(tmp_path / "store.xlsx", sheets)
    result = CliRunner().invoke(main, ["refresh", str(path)])
    assert result.exit_code == 1
    assert "left out of every figure: 1 row with errors (Movements 1)" in result.stdout
    report = inv_sheets.validate(path)
    assert report.summary["left_out"] == {"Movements": 1}
    wb = openpyxl.load_workbook(path)
    for name in ("Stock", "KPIs", "Reorder"):
        texts = [c.value for row in wb[name].iter_rows() for c in row if isinstance(c.value, str)]
        assert any("1 row with errors (Movements 1) is not in these figures" in t for t in texts), name
    assert wb["Stock"]["E2"].value == 10  # on hand: the sale is not in it, and the sheet says so


# 12 is in test_cli.py (the options follow the cells' date rule).

# 13. A count cadence a small shop can keep ---------------------------------------------------------------------
def test_default_cadence_is_a_few_counts_a_day_and_the_checklist_step_can_be_done():
    skus = [f"S{i:02d}" for i in range(15)]
    moves = [mv("2026-11-01", "receive", s, 20, to="MAIN") for s in skus]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", s, 1 + i % 3, frm="MAIN") for i, s in enumerate(skus)
              for d in pd.date_range("2026-11-02", periods=8, freq="7D")]
    def shop(as_of, counted=None):
        rows = [{"date": counted, "location": "MAIN", "sku": s, "counted_qty": 20} for s in skus] if counted else []
        store = make_store(items=items(*skus, unit_cost=2.0), movements=moves, counts=rows, settings={"as_of": as_of})
        return store, build(store)

    def step(store, ledger):
        return checklist.checklist(store, ledger).set_index("step").loc["Week 2: Run a cycle count schedule", "status"]

    store, ledger = shop(AS_OF)
    plan = counts.count_plan(store, ledger, days=30)
    assert plan.groupby("due").size().max() <= 1  # 15 SKUs: at most one count a day (A daily made it 10)
    assert set(plan["every_days"]) <= {30, 90, 180}
    assert step(*shop("2026-11-20")) == "done"  # stocked 19 days ago: the first counts are not due yet
    assert step(store, ledger) == "to do"  # 60 days and never counted: the A items are overdue
    assert step(*shop(AS_OF, counted="2026-12-15")) == "done"  # counted as planned: done, and it stays done


def test_the_demo_store_counts_a_few_skus_a_day():
    store, ledger = _demo()
    per_day = counts.count_plan(store, ledger).groupby("due").size()
    assert per_day.max() <= 8  # the guide's daily cadence for A made it 56-58


# 14. The count list's columns are the Counts sheet's ------------------------------------------------------------
def test_a_filled_count_list_reads_back_as_counts_rows(tmp_path):
    store = make_store(items=items("A", "B"), movements=[mv("2026-12-01", "receive", s, 7, to="MAIN") for s in "AB"],
                       counts=[], settings={"as_of": AS_OF})
    ledger = build(store)
    ws = openpyxl.load_workbook(_bytes_file(tmp_path, count_list.count_sheet(store, ledger, "MAIN"))).active
    headers = [c.value for c in ws[5] if c.value]
    counts_headers = [c.title for c in inv_sheets.contract.schema.SHEET["Counts"].columns]
    assert headers[:len(counts_headers)] == counts_headers
    lines = [[c.value for c in row][:len(counts_headers)] for row in ws.iter_rows(min_row=6) if row[0].value]
    assert lines
    for line in lines:
        line[headers.index("Counted qty")] = 6  # what the counter wrote
    book = make_workbook(tmp_path / "store.xlsx", {"Items": [["SKU", "Name"], ["A", "A"], ["B", "B"]],
                                                  "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty"]],
                                                  "Counts": [counts_headers, *lines],
                                                  "Settings": [["Key", "Value"], ["as_of", AS_OF]]})
    store2, found = inv_sheets.parse(inv_sheets.load(book))
    assert not [i for i in found if i.severity == "error"], found
    back = store2["Counts"]
    assert back["counted_qty"].tolist() == [6] * len(lines) and set(back["location"]) == {"MAIN"}
    assert (back["date"] == pd.Timestamp(AS_OF)).all() and set(back["sku"]) <= {"A", "B"}


def _bytes_file(tmp_path, data: bytes) -> Path:
    path = tmp_path / "list.xlsx"
    path.write_bytes(data)
    return path


# The whole: every sheet agrees with every other -------------------------------------------------------------------
def assert_one_set_of_numbers(store, ledger) -> int:
    """The cross-sheet rules; returns how many Stock rows they were checked on."""
    st = stock.stock_rows(store, ledger)
    key = pd.MultiIndex.from_frame(st[["sku", "location"]])
    placed = allocate(store, ledger)
    shipped = placed.dropna(subset=["location"]).groupby(["sku", "location"])["qty"].sum()
    assert np.allclose(st["reserved"], shipped.reindex(key, fill_value=0.0)), "Stock reserved = Allocation shipped"
    assert shipped.index.isin(key).all(), "every allocated location has a Stock row"
    short = placed[placed["location"].isna()].groupby("sku")["qty"].sum()
    assert np.allclose(st.groupby("sku")["short"].sum().reindex(short.index, fill_value=0.0), short)

    t = replenish.reorder_table(store, ledger)
    rows = pd.MultiIndex.from_arrays([t["sku"], t["location"].fillna(demand.ALL_LOCATIONS)])
    sellable = ledger.places.sellable(st["location"]).to_numpy()
    belongs = demand.row_keys(st["sku"].to_numpy(dtype=object), st["location"].to_numpy(dtype=object), rows, sellable)
    flags = pd.Series((t["flag"] == "reorder").to_numpy(), index=rows).reindex(belongs).fillna(False).to_numpy()
    ranked = st["status"].isin(["low", "ok"]).to_numpy() & sellable
    assert ((st["status"] == "low").to_numpy()[ranked] == flags[ranked]).all(), "Stock low iff Reorder flags"
    per_row = st.assign(_sku=belongs.get_level_values(0), _loc=belongs.get_level_values(1)).dropna(subset=["_sku"])
    summed = per_row.groupby(["_sku", "_loc"])["available"].sum().reindex(rows, fill_value=0.0)
    assert np.allclose(t["available"], summed.to_numpy(), atol=1e-4), "Reorder available = Stock available"
    assert (t["available"] >= 0).all()

    # The cost rule, worked out here from the sheets themselves: Items, else the mean receipt cost.
    p = store["Movements"]
    got = p[(p["type"] == "receive") & p["unit_cost"].notna() & (p["date"] <= ledger.as_of)]
    mean = (got["qty"] * got["unit_cost"]).groupby(got["sku"]).sum() / got["qty"].groupby(got["sku"]).sum()
    rule = store["Items"].drop_duplicates("sku").set_index("sku")["unit_cost"].astype(float).fillna(mean)
    assert np.allclose(st["unit_cost"], st["sku"].map(rule).astype(float), equal_nan=True), "Stock cost"
    v = counts.variance(store, ledger)
    moved = v[v["variance_qty"].abs() > 0]
    assert np.allclose(moved["variance_value"], moved["variance_qty"] * moved["sku"].map(rule).astype(float),
                       equal_nan=True), "Variance cost"
    weeks = kpis.weekly_kpis(store, ledger)
    on_hand = st.groupby("sku")["on_hand"].sum().clip(lower=0.0)
    valued = (on_hand * on_hand.index.map(rule).astype(float)).fillna(0.0).sum()
    assert weeks["inventory_end"].iloc[-1] == pytest.approx(valued, abs=0.01), "KPIs cost"
    plan, _ = replenish.purchase_plan(store, ledger, t)
    known = plan[plan["sku"].isin(rule.dropna().index)]
    assert np.allclose(known["unit_cost"], known["sku"].map(rule).astype(float)), "Purchase Plan cost"
    assert counts.unit_costs(store, ledger).dropna().to_dict() == pytest.approx(rule.dropna().to_dict())
    snap = snapshot.take(store, ledger)  # every export's opening stock: the same cost, 0 where none is known
    assert np.allclose(snap.stock["unit_cost"], snap.stock["sku"].map(rule).astype(float).fillna(0.0)), "export cost"
    return len(st)


def _demo():
    store, _ = inv_sheets.parse(inv_sheets.load(DEMO))
    return store, build(store)


def test_every_sheet_agrees_on_the_demo_store():
    assert assert_one_set_of_numbers(*_demo()) > 50


def awkward_store():
    """Counts mid-day, a transfer, the returns hold, batches (one expired), nested bundles, a promotion
    on a bundle, a PO received in two parts, hand-set reorder points, an order beyond stock, and no
    Locations sheet (places are named by the movements)."""
    sale_days = pd.date_range("2026-10-05", "2026-12-28", freq="3D")
    moves = [mv("2026-10-01", "receive", "TEE", 60, to="MAIN", unit_cost=4.0, ref="P1"),
             mv("2026-10-20", "receive", "TEE", 40, to="MAIN", unit_cost=5.0, ref="P1"),
             mv("2026-10-01", "receive", "CAP", 30, to="MAIN"),
             mv("2026-10-02", "transfer", "TEE", 20, frm="MAIN", to="SHOP"),
             mv("2026-10-02", "receive", "JAM", 12, to="MAIN", batch="OLD", expiry="2026-11-30", unit_cost=2.0),
             mv("2026-10-03", "receive", "JAM", 20, to="SHOP", batch="NEW", expiry="2027-06-30", unit_cost=3.0),
             mv("2026-11-10", "return", "TEE", 2, to="HOLD", reason="size")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "TEE", 1, frm="SHOP") for d in sale_days]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "BOX", 1, frm="MAIN") for d in sale_days[::4]]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "JAM", 1, frm="SHOP", batch="NEW") for d in sale_days[::2]]
    return make_store(
        items=[{"sku": "TEE", "name": "Tee", "supplier": "S", "reorder_point": 3},
               {"sku": "CAP", "name": "Cap", "unit_cost": 6.0, "supplier": "S", "case_pack": 12, "min_order_qty": 30},
               {"sku": "JAM", "name": "Jam", "tracking": "expiry", "supplier": "S"},
               {"sku": "KIT", "name": "Tee and cap"}, {"sku": "BOX", "name": "Gift box"}],
        bundles=[{"bundle_sku": "KIT", "component_sku": "TEE", "qty": 1},
                 {"bundle_sku": "KIT", "component_sku": "CAP", "qty": 1},
                 {"bundle_sku": "BOX", "component_sku": "KIT", "qty": 1},
                 {"bundle_sku": "BOX", "component_sku": "JAM", "qty": 1}],
        movements=moves,
        counts=[{"date": "2026-12-15 14:30", "location": "SHOP", "sku": "TEE", "counted_qty": 1},
                {"date": "2026-12-20", "location": "MAIN", "sku": "CAP", "counted_qty": 20}],
        purchases=[{"po": "P1", "supplier": "S", "sku": "TEE", "qty": 100, "ordered": "2026-09-20", "status": "closed"},
                   {"po": "P2", "supplier": "S", "sku": "CAP", "qty": 24, "ordered": "2026-12-20", "status": "open"}],
        promotions=[{"name": "Box week", "start": "2026-11-01", "end": "2026-11-07", "sku": "BOX"}],
        item_locations=[{"sku": "TEE", "location": "SHOP", "reorder_point": 1}],
        orders=[{"order": "SO1", "sku": "CAP", "qty": 50}, {"order": "SO2", "sku": "JAM", "qty": 3}],
        suppliers=[{"supplier": "S", "lead_time_days": 10}],
        settings={"as_of": AS_OF, "returns_location": "HOLD", "default_location": "MAIN"})


def test_every_sheet_agrees_on_an_awkward_store():
    store = awkward_store()
    ledger = build(store)
    assert assert_one_set_of_numbers(store, ledger) >= 6
    st = stock.stock_rows(store, ledger).set_index(["sku", "location"])
    assert st.loc[("JAM", "MAIN"), "available"] == 0  # the OLD batch expired on 30 Nov
    assert st.loc[("CAP", "MAIN"), "short"] > 0


def test_docs_say_one_thing_about_available_expiry_cost_and_cover():
    docs = Path(__file__).parent.parent / "docs"
    text = {name: (docs / name).read_text() for name in ("ledger.md", "replenishment.md", "counts-and-kpis.md")}
    for name, body in text.items():
        assert "never below 0" in body, name
        assert "mean cost of its receipts" in body, name
    for name in ("ledger.md", "replenishment.md"):
        assert "in-stock days" in text[name] and "expired" in text[name], name
