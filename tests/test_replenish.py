"""Reorder points, order quantities and the purchase plan: worked examples, references, live formulas."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from storefactory import items, make_store, mv
from workbooks import MINIMAL, make_workbook

from inv_sheets.contract import schema
from inv_sheets.contract.issues import column_letter
from inv_sheets.contract.schema import OUT_INT, OUT_NUM, O, Output
from inv_sheets.features.replenish import leadtime
from inv_sheets.features.replenish import reorder as replenish
from inv_sheets.ledger import postings as ledger_mod

Z95 = NormalDist().inv_cdf(0.95)
DAYS = pd.date_range("2026-10-03", "2026-12-31")  # the 90 days ending at as_of


def steady_store(*, on_hand_end: float = 42, per_day: float = 10, item: dict | None = None,
                 suppliers: list | None = None, settings: dict | None = None, **sheets):
    """One SKU selling `per_day` every day of the 90-day window, ending with `on_hand_end` on hand."""
    opening = per_day * len(DAYS) + on_hand_end
    moves = [mv("2026-10-01", "receive", "A", opening, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", per_day, frm="MAIN") for d in DAYS]
    return make_store(
        items=[{"sku": "A", "name": "Apple", "supplier": "S1", "unit_cost": 2.0, **(item or {})}],
        movements=moves,
        suppliers=suppliers if suppliers is not None else [{"supplier": "S1", "lead_time_days": 7}],
        settings={"as_of": "2026-12-31", **(settings or {})}, **sheets)


def table_of(store) -> pd.DataFrame:
    return replenish.reorder_table(store, ledger_mod.build(store)).set_index(["sku"])


# The guide's example and the worked references ------------------------------------------------------
def test_guide_example_reorder_point_100_and_the_reason_says_why():
    store = steady_store(item={"safety_stock": 30, "case_pack": 12}, settings={"review_every_days_a": 14})
    r = table_of(store).loc["A"]
    assert (r.daily_demand, r.demand_sd, r.lead_time_days, r.safety_stock) == (10, 0, 7, 30)
    assert r.reorder_point == 100
    assert r.position == 42 and r.flag == "reorder"
    # up to 100 + 14 days x 10/day = 240; 240 - 42 = 198 -> 204, the next multiple of 12
    assert r.suggested_qty == 204
    assert r.why.startswith("position 42 is at or below reorder point 100 (70 demand over 7 days + 30 safety "
                            "stock); order 204 = up to 240 (100 + 14 days x 10/day, class A review) - 42 = 198, "
                            "rounded up to case pack 12; safety stock 30 set on Items")


def test_worked_example_safety_stock_and_reorder_point():
    ss = replenish.safety_stock(pd.Series([10.0]), pd.Series([3.0]), pd.Series([7.0]), pd.Series([0.0]), Z95)[0]
    assert ss == pytest.approx(13.0556, abs=1e-4)
    assert 10 * 7 + ss == pytest.approx(83.0556, abs=1e-4)
    ss_l = replenish.safety_stock(pd.Series([10.0]), pd.Series([3.0]), pd.Series([7.0]), pd.Series([2.0]), Z95)[0]
    assert 10 * 7 + ss_l == pytest.approx(105.393, abs=1e-3)


def test_stockpyl_agrees_on_the_reorder_point():
    """stockpyl's normal newsvendor base stock at critical ratio 0.95 is d x L + z x sigma of lead-time demand."""
    from stockpyl.demand_source import DemandSource
    from stockpyl.newsvendor import newsvendor_normal

    source = DemandSource(type="N", mean=10, standard_deviation=3)
    assert source.lead_time_demand_distribution(7).ppf(0.95) == pytest.approx(83.0556, abs=1e-4)
    base, _ = newsvendor_normal(holding_cost=0.05, stockout_cost=0.95, demand_mean=70, demand_sd=math.sqrt(463))
    assert base == pytest.approx(105.393, abs=1e-3)


@hsettings(max_examples=60, deadline=None)
@given(d=st.floats(0, 500), sd=st.floats(0, 200), lead=st.floats(0, 120), sd_lead=st.floats(0, 30),
       level=st.floats(0.5, 0.999))
def test_safety_stock_matches_stockpyl_for_any_inputs(d, sd, lead, sd_lead, level):
    from stockpyl.newsvendor import newsvendor_normal

    z = NormalDist().inv_cdf(level)
    ss = replenish.safety_stock(pd.Series([d]), pd.Series([sd]), pd.Series([lead]), pd.Series([sd_lead]), z)[0]
    sigma = math.sqrt(lead * sd ** 2 + d ** 2 * sd_lead ** 2)
    if sigma > 1e-6 and d * lead > 1e-6:  # stockpyl needs a positive mean
        base, _ = newsvendor_normal(holding_cost=1 - level, stockout_cost=level, demand_mean=d * lead, demand_sd=sigma)
        assert ss == pytest.approx(base - d * lead, abs=1e-4 + 1e-6 * abs(base))
    assert ss >= 0


# Hand-set values, rounding and who gets a row ---------------------------------------------------------
def test_hand_set_reorder_point_wins_and_implies_its_safety_stock():
    r = table_of(steady_store(item={"reorder_point": 90, "safety_stock": 5})).loc["A"]
    assert r.reorder_point == 90 and r.safety_stock == 20  # 90 - 10/day x 7 days
    assert "(the hand-set safety stock 5 is not used)" in r.why


def test_computed_safety_stock_uses_demand_spread():
    moves = [mv("2026-10-01", "receive", "A", 5000, to="MAIN")]
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", 7 if i % 2 else 13, frm="MAIN") for i, d in enumerate(DAYS)]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S1"}], movements=moves,
                       suppliers=[{"supplier": "S1", "lead_time_days": 7}], settings={"as_of": "2026-12-31"})
    r = table_of(store).loc["A"]
    sd = pd.Series([7, 13] * 45).std(ddof=1)
    assert r.daily_demand == 10 and r.demand_sd == pytest.approx(sd, abs=1e-4)
    assert r.safety_stock == pytest.approx(Z95 * sd * math.sqrt(7), abs=1e-3)
    assert r.flag == "ok" and r.suggested_qty == 0 and "is above reorder point" in r.why


def test_max_stock_case_pack_and_minimum_order():
    r = table_of(steady_store(item={"safety_stock": 30, "max_stock": 150, "case_pack": 20})).loc["A"]
    assert r.suggested_qty == 120  # 150 - 42 = 108 -> 120
    r = table_of(steady_store(item={"safety_stock": 30, "max_stock": 150, "case_pack": 20,
                                    "min_order_qty": 130})).loc["A"]
    assert r.suggested_qty == 140  # at least 130, itself rounded up to the case pack
    assert "raised to the minimum order 130" in r.why


def test_discontinued_items_and_bundles_get_no_row():
    store = steady_store(item={"status": "discontinued"})
    assert "A" not in table_of(store).index
    store = make_store(items=items("A", "KIT"), movements=[], bundles=[{"bundle_sku": "KIT", "component_sku": "A", "qty": 2}])
    assert list(table_of(store).index) == ["A"]


def test_position_is_available_plus_on_order():
    store = steady_store(item={"safety_stock": 30},
                         orders=[{"order": "O1", "sku": "A", "qty": 2}],
                         purchases=[{"po": "P9", "supplier": "S1", "sku": "A", "qty": 100, "ordered": "2026-12-30"}])
    r = table_of(store).loc["A"]
    assert (r.on_hand, r.reserved, r.on_order, r.available, r.position) == (42, 2, 100, 40, 140)
    assert r.flag == "ok"
    assert r.why.startswith("position 140 (available 40 + on order 100) is above reorder point 100")


def test_at_the_order_up_to_level_nothing_is_ordered():
    r = table_of(steady_store(on_hand_end=0, per_day=0, suppliers=[])).loc["A"]
    assert r.position == 0 and r.reorder_point == 0 and r.flag == "ok" and r.suggested_qty == 0


def test_location_with_its_own_rule_gets_its_own_row():
    moves = [mv("2026-10-01", "receive", "A", 100, to="MAIN"), mv("2026-10-01", "receive", "A", 30, to="SHOP")]
    moves += [mv("2026-12-20", "sale", "A", 4, frm="SHOP"), mv("2026-12-20", "sale", "A", 9, frm="MAIN")]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                       locations=[{"location": "MAIN", "kind": "stock"}, {"location": "SHOP", "kind": "stock"}],
                       item_locations=[{"sku": "A", "location": "SHOP", "reorder_point": 40, "max_stock": 60}],
                       settings={"as_of": "2026-12-31", "default_location": "MAIN"})
    t = replenish.reorder_table(store, ledger_mod.build(store)).set_index(["sku", "location"], drop=False)
    shop = t[t["location"] == "SHOP"].iloc[0]
    whole = t[t["location"].isna()].iloc[0]
    assert (shop.on_hand, shop.reorder_point, shop.flag, shop.suggested_qty) == (26, 40, "reorder", 34)
    assert shop.baseline_units == 4 and whole.baseline_units == 9 and whole.on_hand == 91


# Lead time -----------------------------------------------------------------------------------------
def test_lead_time_is_the_sum_of_its_parts_else_the_total():
    store = make_store(suppliers=[
        {"supplier": "P", "processing_days": 2, "shipping_days": 5, "customs_days": 1, "receiving_days": 1,
         "putaway_days": 1, "lead_time_days": 99},
        {"supplier": "T", "lead_time_days": 12}, {"supplier": "N"}])
    dec = leadtime.declared(store)
    assert dec.loc["P", "days"] == 10 and dec.loc["P", "how"] == "2 processing + 5 shipping + 1 customs + 1 receiving + 1 put-away"
    assert dec.loc["T", "days"] == 12 and math.isnan(dec.loc["N", "days"])


def test_observed_lead_time_from_purchase_lines_wins_and_says_so():
    moves = [mv("2026-10-11", "receive", "A", 50, to="MAIN", ref="P1"),
             mv("2026-11-17", "receive", "A", 50, to="MAIN", ref="P2"),
             mv("2026-12-09", "receive", "A", 50, to="MAIN", ref="P3")]
    purchases = [{"po": "P1", "supplier": "S1", "sku": "A", "qty": 50, "ordered": "2026-10-01", "status": "closed"},
                 {"po": "P2", "supplier": "S1", "sku": "A", "qty": 50, "ordered": "2026-11-02", "status": "closed"},
                 {"po": "P3", "supplier": "S1", "sku": "A", "qty": 60, "ordered": "2026-12-01", "status": "closed"}]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S1"}], movements=moves, purchases=purchases,
                       suppliers=[{"supplier": "S1", "lead_time_days": 7}], settings={"as_of": "2026-12-31"})
    led = ledger_mod.build(store)
    lt = leadtime.lead_times(store, led.po_lines).loc["S1"]
    assert (lt.lead_time_days, lt.source, lt.observed_count) == (pytest.approx(11), "observed", 3)  # 10, 15, 8 days
    assert lt.lead_time_sd == pytest.approx(pd.Series([10, 15, 8]).std(ddof=1))
    r = replenish.reorder_table(store, led).iloc[0]
    assert "lead time 11 days (SD 3.61) observed on 3 received purchase lines of S1; Suppliers says 7" in r.why
    _, short = replenish.purchase_plan(store, led, replenish.reorder_table(store, led))
    assert short[["supplier", "lines_short", "lines_closed", "short_qty", "po", "short"]].values.tolist() == [
        ["S1", 1, 3, 10.0, "P3", 10.0]]


def test_no_lead_time_is_said_and_zero_days_used():
    r = table_of(steady_store(suppliers=[{"supplier": "S1"}])).loc["A"]
    assert r.lead_time_days == 0 and "no lead time for S1: set lead_time_days on Suppliers (0 days used)" in r.why


# The sheets ---------------------------------------------------------------------------------------
def test_no_sheets_without_items_and_movements():
    store = make_store(items=items("A"))
    store.titles.pop("Movements")
    assert replenish.replenish_sheets(store, ledger_mod.build(store)) == []


def test_purchase_plan_groups_by_supplier_and_checks_minimum_order_value():
    moves = [mv("2026-12-01", "receive", s, 10, to="MAIN") for s in ("A", "B", "C")]
    moves += [mv("2026-12-02", "sale", s, 10, frm="MAIN") for s in ("A", "B", "C")]
    store = make_store(
        items=[{"sku": "A", "name": "A", "supplier": "S1", "unit_cost": 2, "reorder_point": 5, "max_stock": 50},
               {"sku": "B", "name": "B", "supplier": "S1", "unit_cost": 3, "reorder_point": 5, "max_stock": 20},
               {"sku": "C", "name": "C", "supplier": "S2", "unit_cost": 1, "reorder_point": 5, "max_stock": 10}],
        movements=moves, suppliers=[{"supplier": "S1", "min_order_value": 100}, {"supplier": "S2", "min_order_value": 5}],
        settings={"as_of": "2026-12-31"})
    sheets = replenish.replenish_sheets(store, ledger_mod.build(store))
    assert [s.name for s in sheets] == ["Reorder", "Purchase Plan"]
    plan = sheets[1].frame()
    assert plan.values.tolist() == [["S1", "A", "A", 50.0, 2.0, 100.0, 160.0, 100.0, True],
                                    ["S1", "B", "B", 20.0, 3.0, 60.0, 160.0, 100.0, True],
                                    ["S2", "C", "C", 10.0, 1.0, 10.0, 10.0, 5.0, True]]
    assert sheets[1].formulas == {"line_value": "=D{row}*E{row}", "order_value": "=SUMIF($A:$A,A{row},$F:$F)",
                                  "meets_min_order": '=OR(H{row}="",G{row}>=H{row})'}


def test_short_deliveries_are_one_line_a_supplier_with_the_latest_to_chase():
    moves = [mv("2026-10-11", "receive", "A", 40, to="MAIN", ref="P1"),
             mv("2026-11-17", "receive", "A", 45, to="MAIN", ref="P2"),
             mv("2026-11-20", "receive", "A", 50, to="MAIN", ref="P3"),
             mv("2026-12-01", "receive", "A", 9, to="MAIN", ref="P4")]
    purchases = [{"po": "P1", "supplier": "S1", "sku": "A", "qty": 50, "ordered": "2026-10-01", "status": "closed"},
                 {"po": "P2", "supplier": "S1", "sku": "A", "qty": 50, "ordered": "2026-11-02", "status": "closed"},
                 {"po": "P3", "supplier": "S1", "sku": "A", "qty": 50, "ordered": "2026-11-05", "status": "closed"},
                 {"po": "P4", "supplier": "S2", "sku": "A", "qty": 10, "ordered": "2026-11-20", "status": "closed"},
                 {"po": "P5", "supplier": "S2", "sku": "A", "qty": 10, "ordered": "2026-12-20", "status": "open"}]
    store = make_store(items=[{"sku": "A", "name": "A", "supplier": "S1"}], movements=moves, purchases=purchases,
                       suppliers=[{"supplier": "S1"}, {"supplier": "S2"}], settings={"as_of": "2026-12-31"})
    sheets = replenish.replenish_sheets(store, ledger_mod.build(store))
    notes = dict(sheets[-1].notes)
    assert notes["S1 short deliveries"] == ("2 of 3 closed purchase lines received short, 15 short in all; "
                                            "latest: PO P2 A, ordered 50, received 45, short 5")
    assert notes["S2 short deliveries"] == ("1 of 1 closed purchase lines received short, 1 short in all; "
                                            "latest: PO P4 A, ordered 10, received 9, short 1")
    assert len([term for term in notes if "short" in term]) == 2


def test_no_purchase_plan_when_nothing_to_order_or_chase():
    store = steady_store(on_hand_end=500)
    sheets = replenish.replenish_sheets(store, ledger_mod.build(store))
    assert [s.name for s in sheets] == ["Reorder"]


def test_formula_letters_come_from_the_schema():
    f = replenish.formulas(schema.OUTPUT["Reorder"], replenish.DERIVED)
    letter = {c: column_letter(i) for i, c in enumerate(schema.OUTPUT["Reorder"].column_names(), start=1)}
    assert f["reorder_point"] == (f"=ROUND({letter['daily_demand']}{{row}}*{letter['lead_time_days']}{{row}}"
                                  f"+{letter['safety_stock']}{{row}},4)")


# Live arithmetic, recalculated by LibreOffice ----------------------------------------------------------
# The columns the Reorder sheet needs so that every derived column can be a formula over its own row.
LIVE_REORDER = Output("Reorder", (
    O("sku"), O("location"), O("supplier"), O("daily_demand", OUT_NUM), O("demand_sd", OUT_NUM),
    O("lead_time_days", OUT_NUM), O("lead_time_sd", OUT_NUM), O("safety_stock", OUT_NUM),
    O("reorder_point", OUT_NUM), O("review_days", OUT_INT), O("max_stock", OUT_NUM), O("order_up_to", OUT_NUM),
    O("available", OUT_NUM), O("on_order", OUT_NUM), O("short", OUT_NUM), O("position", OUT_NUM), O("case_pack", OUT_INT),
    O("min_order_qty", OUT_NUM), O("suggested_qty", OUT_NUM), O("flag"), O("why"), O("abc"), O("next_review"),
), "What to reorder now, how much, and why.")

LIVE_PLAN = Output("Purchase Plan", (
    O("supplier"), O("sku"), O("qty", OUT_NUM), O("unit_cost", OUT_NUM), O("line_value", OUT_NUM),
    O("order_value", OUT_NUM), O("min_order_value", OUT_NUM), O("meets_min_order"),
), "Suggested orders grouped into one draft PO per supplier.")

RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>"""


def recalculated(path: Path, sheet: str, work: Path) -> list[dict[str, str]]:
    """The sheet as LibreOffice computes it (every formula recalculated on load), as CSV rows."""
    profile = work / "profile" / "user"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "registrymodifications.xcu").write_text(RECALC_PROFILE)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(work), str(path)], check=True, capture_output=True, timeout=180)
    with open(work / f"{path.stem}-{sheet}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.parametrize("live", [False, True], ids=["schema-today", "all-derived-columns"])
def test_libreoffice_recalculates_the_library_numbers(tmp_path, monkeypatch, live):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: cannot recalculate the sheet independently")
    from inv_sheets.contract.sheetdata import SheetData
    from inv_sheets.io.read import read_book
    from inv_sheets.io.write import write_sheets
    from inv_sheets.rules.validate import parse

    if live:
        monkeypatch.setitem(schema.OUTPUT, "Reorder", LIVE_REORDER)
        monkeypatch.setitem(schema.OUTPUT, "Purchase Plan", LIVE_PLAN)
    store, _ = parse(read_book(Path(__file__).parent.parent / "samples" / "demo-store.xlsx"))
    sheets = replenish.replenish_sheets(store, ledger_mod.build(store))
    reorder = sheets[0]
    if live:
        assert set(reorder.formulas) == set(replenish.DERIVED)
        assert set(sheets[1].formulas) == set(replenish.PLAN_DERIVED)
    # Blank the cached results: whatever the file shows afterwards, LibreOffice computed.
    blanked = [SheetData(s.output, s.rows.assign(**{c: None for c in s.formulas}), formulas=s.formulas)
               for s in sheets]
    out = write_sheets(make_workbook(tmp_path / "src.xlsx", MINIMAL), blanked, output=tmp_path / "out.xlsx").path
    for data in sheets:
        got = recalculated(Path(out), data.name, tmp_path)
        want = data.frame()
        assert len(got) == len(want)
        for column in data.formulas:
            title = data.output.columns[data.output.column_names().index(column)].title
            for g, w in zip((row[title] for row in got), want[column]):
                if isinstance(w, (bool, np.bool_)):
                    assert (g.upper() in ("TRUE", "YES", "1")) == bool(w), column
                elif isinstance(w, str):
                    assert g == w
                else:
                    assert float(g) == pytest.approx(float(w), abs=1e-6), column


@hsettings(max_examples=25, deadline=None)
@given(on_hand=st.integers(0, 400), per_day=st.integers(0, 20), pack=st.integers(1, 24),
       moq=st.integers(0, 100), max_stock=st.one_of(st.none(), st.integers(0, 600)))
def test_suggested_quantity_rules_hold(on_hand, per_day, pack, moq, max_stock):
    item = {"case_pack": pack, "min_order_qty": moq, "max_stock": max_stock, "safety_stock": 10}
    r = table_of(steady_store(on_hand_end=on_hand, per_day=per_day, item=item)).loc["A"]
    assert r.reorder_point == per_day * 7 + 10
    if r.flag == "reorder":
        assert r.position <= r.reorder_point
        assert r.suggested_qty % pack == 0 and r.suggested_qty >= moq
        assert r.position + r.suggested_qty >= r.order_up_to  # it reaches the order-up-to level
        assert r.suggested_qty - pack < max(r.order_up_to - r.position, moq)  # not a pack more than needed
    else:
        assert r.suggested_qty == 0
        assert r.position > r.reorder_point or r.order_up_to <= r.position


@pytest.mark.slow
def test_demo_store_reads_sensibly():
    from inv_sheets.io.read import read_book
    from inv_sheets.rules.validate import parse

    store, _ = parse(read_book(Path(__file__).parent.parent / "samples" / "demo-store.xlsx"))
    sheets = replenish.replenish_sheets(store, ledger_mod.build(store))
    reorder = sheets[0].frame()
    flagged = reorder["flag"] == "reorder"
    assert 0 < flagged.sum() < len(reorder) / 4  # some flags, most not
    assert reorder.loc[flagged, "why"].str.contains("is at or below reorder point").all()
    assert reorder.loc[~flagged, "why"].str.contains("no order").all()
    assert (reorder.loc[flagged, "suggested_qty"] > 0).all()
    assert sheets[1].name == "Purchase Plan" and len(sheets[1].rows) == flagged.sum()
