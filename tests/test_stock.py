"""The Stock, Expiry and Bundle Stock sheets, hand-computed."""

from __future__ import annotations

import pandas as pd
from storefactory import items, make_store, mv

from inv_sheets.features.stock import stock_sheets
from inv_sheets.ledger.postings import build

LOCS = [
    {"location": "MAIN", "kind": "stock", "sellable": True, "priority": 2},
    {"location": "SHOP", "kind": "stock", "sellable": True, "priority": 1},
    {"location": "RET", "kind": "returns_hold", "sellable": False},
]
SETTINGS = {"default_location": "MAIN", "as_of": "2026-01-10", "demand_days": 90}


def sheets(movements, *, catalogue=None, **more):
    store = make_store(items=catalogue or items("A", "B", unit_cost=2.5), locations=LOCS, movements=movements,
                       settings=more.pop("settings", SETTINGS), **more)
    return {s.name: s for s in stock_sheets(store, build(store))}


def rows(sheet):
    frame = sheet.frame()
    return {(r["sku"], r["location"]): r for _, r in frame.iterrows()}


def test_stock_rows_with_reservations_where_the_allocation_ships_them():
    moves = [mv("2026-01-01", "receive", "A", 6, to="MAIN"), mv("2026-01-01", "receive", "A", 3, to="SHOP"),
             mv("2026-01-05", "sale", "A", 1, frm="SHOP"), mv("2026-01-06", "return", "A", 1)]
    out = sheets(moves, orders=[{"order": "SO1", "sku": "A", "qty": 4}],
                 item_locations=[{"sku": "A", "location": "MAIN", "bin": "A-01"}])
    assert set(out) == {"Stock"}
    r = rows(out["Stock"])
    assert list(r) == [("A", "SHOP"), ("A", "MAIN"), ("A", "RET"), ("B", "MAIN")]  # by priority
    shop, main, ret = r[("A", "SHOP")], r[("A", "MAIN")], r[("A", "RET")]
    # SHOP comes first, but only MAIN can ship the whole order, and orders are not split when one
    # location can ship them: the reservation sits at MAIN, as on the Allocation sheet.
    assert (shop["on_hand"], shop["reserved"], shop["available"]) == (2, 0, 2)
    assert (main["on_hand"], main["reserved"], main["available"]) == (6, 4, 2)
    assert (ret["on_hand"], ret["reserved"], ret["available"], ret["status"]) == (1, 0, 0, "ok")
    assert main["bin"] == "A-01" and main["name"] == "Item A"
    assert (main["unit_cost"], main["value"]) == (2.5, 15.0)
    assert shop["status"] == "ok" and main["status"] == "ok"
    b = r[("B", "MAIN")]  # never moved: shown at the default location, out
    assert (b["on_hand"], b["status"]) == (0, "out")
    assert out["Stock"].fills["status"]["negative"] == "red"


def test_an_order_beyond_stock_is_reserved_where_it_ships_and_the_rest_shown_short():
    out = sheets([mv("2026-01-01", "receive", "A", 2, to="MAIN")], orders=[{"order": "SO1", "sku": "A", "qty": 5}])
    r = rows(out["Stock"])
    main = r[("A", "MAIN")]
    # The Allocation ships 2 from MAIN and marks 3 short: reserved is what ships, short is apart.
    assert (main["reserved"], main["short"], main["available"]) == (2, 3, 0)


def test_on_order_once_per_sku_days_of_cover_and_statuses():
    moves = [mv("2026-01-01", "receive", "A", 20, to="MAIN"), mv("2026-01-01", "receive", "A", 5, to="SHOP"),
             mv("2026-01-03", "sale", "A", 5, frm="MAIN"), mv("2026-01-02", "sale", "B", 1)]
    out = sheets(moves, purchases=[{"po": "P1", "supplier": "S", "sku": "A", "qty": 12, "status": "open"}],
                 item_locations=[{"sku": "A", "location": "SHOP", "reorder_point": 6}])
    r = rows(out["Stock"])
    main, shop, b = r[("A", "MAIN")], r[("A", "SHOP")], r[("B", "MAIN")]
    assert (main["on_order"], shop["on_order"]) == (12, 0)
    # 5 sold from MAIN over the 10 days it had stock: 0.5 a day; 15 available.
    assert main["days_of_cover"] == 30 and pd.isna(shop["days_of_cover"])
    # SHOP's own rule: 5 available is below its reorder point 6, and the Reorder sheet orders 1.
    assert (main["status"], shop["status"], b["status"]) == ("ok", "low", "negative")
    assert b["value"] == -2.5


def test_expiry_sheet_flags_expired_and_near_batches():
    catalogue = [{"sku": "M", "name": "Milk", "tracking": "expiry"}]
    moves = [mv("2026-01-01", "receive", "M", 2, batch="OLD", expiry="2026-01-05"),
             mv("2026-01-01", "receive", "M", 3, batch="SOON", expiry="2026-01-30"),
             mv("2026-01-01", "receive", "M", 4, batch="LATE", expiry="2026-06-30")]
    out = sheets(moves, catalogue=catalogue, settings={**SETTINGS, "near_expiry_days": 30})
    e = out["Expiry"].frame()
    assert e["batch"].tolist() == ["OLD", "SOON", "LATE"]
    assert e["days_left"].tolist() == [-5, 20, 171]
    assert e["flag"].tolist()[:2] == ["expired", "near"] and pd.isna(e["flag"].iloc[2])
    assert e["qty"].tolist() == [2, 3, 4]
    stock = out["Stock"].frame().iloc[0]
    assert (stock["on_hand"], stock["available"]) == (9, 7)  # the expired batch is held, not for sale


def test_bundle_stock_names_the_limiting_component():
    catalogue = items("A", "B", "K", "BOX")
    bundles = [{"bundle_sku": "K", "component_sku": "A", "qty": 2}, {"bundle_sku": "K", "component_sku": "B", "qty": 1},
               {"bundle_sku": "BOX", "component_sku": "K", "qty": 2}]
    moves = [mv("2026-01-01", "receive", "A", 9), mv("2026-01-01", "receive", "B", 10)]
    out = sheets(moves, catalogue=catalogue, bundles=bundles, orders=[{"order": "SO1", "sku": "B", "qty": 7}])
    b = out["Bundle Stock"].frame().set_index("bundle_sku")
    # K: A makes 4, B (3 available after the order) makes 3. BOX needs 4 A and 2 B: 2 (by A) or 1 (by B).
    assert b.loc["K"].tolist() == [3, "B"]
    assert b.loc["BOX"].tolist() == [1, "B"]
    assert "K" not in set(out["Stock"].frame()["sku"])
