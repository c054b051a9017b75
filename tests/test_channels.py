"""Channel Stock: buffers, feeding locations, allocations, expiry and bundles, by hand."""

from __future__ import annotations

import pytest
from storefactory import items, make_store, mv

from inv_sheets.features.channels.sheets import channel_sheets, channel_stock, free_stock
from inv_sheets.ledger.postings import build

AS_OF = "2026-02-01"
LOCATIONS = [{"location": "W1", "kind": "stock", "priority": 1}, {"location": "W2", "kind": "stock", "priority": 2},
             {"location": "RET", "kind": "returns_hold"}, {"location": "SHOP", "kind": "stock", "sellable": False}]


def store_with(channels, moves, orders=None, bundles=None, tracking=None):
    extra = {"orders": orders} if orders is not None else {}
    if bundles is not None:
        extra["bundles"] = bundles
    return make_store(items=items("A", "B", "K", tracking=tracking), locations=LOCATIONS, channels=channels,
                      movements=moves, settings={"as_of": AS_OF}, **extra)


def table(store):
    rows = channel_stock(store, build(store))
    return {(r.channel, r.sku): (r.available, r.buffer, r.sellable) for r in rows.itertuples()}


def receive(sku, qty, loc, batch=None, expiry=None):
    return mv("2026-01-02", "receive", sku, qty, to=loc, batch=batch, expiry=expiry)


def test_buffers_in_units_and_percent():
    store = store_with([{"channel": "WEB", "buffer_units": 2}, {"channel": "AMZ", "buffer_pct": 0.25},
                        {"channel": "EBAY", "buffer_units": 3, "buffer_pct": 0.1}, {"channel": "SHOPIFY"}],
                       [receive("A", 10, "W1"), receive("B", 1, "W1")])
    got = table(store)
    assert got[("WEB", "A")] == (10.0, 2.0, 8.0)
    assert got[("AMZ", "A")] == (10.0, 2.5, 7.0)  # 10 - 2.5, whole units published
    assert got[("EBAY", "A")] == (10.0, 3.0, 7.0)  # the larger of 3 units and 10% of 10
    assert got[("SHOPIFY", "A")] == (10.0, 0.0, 10.0)
    assert got[("WEB", "B")] == (1.0, 2.0, 0.0)  # never below zero
    assert got[("WEB", "K")] == (0.0, 2.0, 0.0)


def test_only_the_locations_that_feed_the_channel_and_only_sellable_ones():
    moves = [receive("A", 4, "W1"), receive("A", 6, "W2"), receive("A", 5, "SHOP"),
             mv("2026-01-05", "return", "A", 3, to="RET", reason="too big")]
    store = store_with([{"channel": "WEB"}, {"channel": "AMZ", "locations": "w2"},
                        {"channel": "POP", "locations": "SHOP, RET"}], moves)
    got = table(store)
    assert got[("WEB", "A")][0] == 10.0  # W1 + W2; the shop and the returns hold are not sellable
    assert got[("AMZ", "A")][0] == 6.0
    assert got[("POP", "A")][0] == 0.0


def test_open_orders_are_taken_off_where_they_are_allocated():
    store = store_with([{"channel": "WEB"}, {"channel": "AMZ", "locations": "W2"}],
                       [receive("A", 4, "W1"), receive("A", 6, "W2")],
                       orders=[{"order": "O1", "sku": "A", "qty": 3, "status": "open"},
                               {"order": "O2", "sku": "A", "qty": 5, "status": "open"}])
    # O1 ships from W1 (priority 1): W1 keeps 1; O2 cannot ship from W1 any more, so W2 ships it: W2 keeps 1.
    got = table(store)
    assert got[("WEB", "A")][0] == 2.0
    assert got[("AMZ", "A")][0] == 1.0


def test_expired_batches_are_not_published():
    store = store_with([{"channel": "WEB"}],
                       [receive("A", 5, "W1", "OLD", "2026-01-20"), receive("A", 2, "W1", "NEW", "2026-05-01")],
                       tracking="expiry")
    assert table(store)[("WEB", "A")][0] == 2.0


def test_bundles_from_their_components():
    bundles = [{"bundle_sku": "K", "component_sku": "A", "qty": 2}, {"bundle_sku": "K", "component_sku": "B", "qty": 1}]
    store = store_with([{"channel": "WEB", "buffer_units": 1}, {"channel": "AMZ", "locations": "W2"}],
                       [receive("A", 7, "W1"), receive("B", 3, "W1"), receive("B", 2, "W2")], bundles=bundles)
    got = table(store)
    # WEB: A 7, B 5 -> min(floor(7 / 2), floor(5 / 1)) = 3 kits, less the 1-unit buffer.
    assert got[("WEB", "K")] == (3.0, 1.0, 2.0)
    # AMZ is fed by W2 only, which has no A: no kit.
    assert got[("AMZ", "K")] == (0.0, 0.0, 0.0)


def test_free_stock_never_negative():
    store = store_with([{"channel": "WEB"}], [receive("A", 2, "W1")],
                       orders=[{"order": "O1", "sku": "A", "qty": 5, "status": "open"}])
    assert free_stock(store, build(store)).empty


def test_channel_sheets_outputs_and_formula():
    store = store_with([{"channel": "WEB", "buffer_units": 1}], [receive("A", 3, "W1")],
                       orders=[{"order": "O1", "sku": "A", "qty": 1, "status": "open"}])
    sheets = {s.name: s for s in channel_sheets(store, build(store))}
    assert list(sheets) == ["Channel Stock", "Allocation", "Pick List"]
    stock = sheets["Channel Stock"]
    assert stock.formulas["sellable"] == "=MAX(0,ROUNDDOWN(C{row}-D{row}+1E-9,0))"
    assert [c.name for c in stock.columns][2:5] == ["available", "buffer", "sellable"]  # C, D, E
    assert stock.frame().iloc[0].tolist() == ["WEB", "A", 2.0, 1.0, 1.0]


def test_no_channels_sheet_no_channel_stock():
    store = make_store(items=items("A"), movements=[receive("A", 3, "MAIN")], settings={"as_of": AS_OF})
    assert channel_sheets(store, build(store)) == []


@pytest.mark.parametrize("available,units,pct,expected", [(0, 0, 0, 0), (9.5, 0, 0, 9), (10, 0, 0.05, 9), (4, 5, 0, 0)])
def test_sellable_rounding(available, units, pct, expected):
    store = store_with([{"channel": "WEB", "buffer_units": units, "buffer_pct": pct}],
                       [receive("A", available, "W1")] if available else [])
    assert table(store)[("WEB", "A")][2] == expected


def test_written_workbook_recalculates_to_the_same_sellable_in_libreoffice(tmp_path):
    """The written formula gives the computed number in an independent engine (LibreOffice)."""
    from office import sheets_as_csv, soffice
    from workbooks import make_workbook

    from inv_sheets.io.write import write_sheets
    from inv_sheets.rules.validate import load, parse

    soffice()
    book = make_workbook(tmp_path / "store.xlsx", {
        "Items": [["SKU", "Name", "Unit cost"], ["A", "Tee", 4.0], ["B", "Mug", 3.0]],
        "Locations": [["Location", "Kind", "Priority"], ["W1", "stock", 1], ["W2", "stock", 2]],
        "Channels": [["Channel", "Buffer units", "Buffer %", "Locations"], ["WEB", 2, None, None],
                     ["AMZ", None, 0.15, "W2"]],
        "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "To location"],
                      ["M1", "2026-01-02", "receive", "A", 9, "W1"], ["M2", "2026-01-02", "receive", "A", 7, "W2"],
                      ["M3", "2026-01-02", "receive", "B", 1, "W2"]],
        "Settings": [["Key", "Value"], ["as_of", "2026-02-01"]],
    })
    store, _ = parse(load(book))
    write_sheets(book, channel_sheets(store, build(store)))
    cached = sheets_as_csv(book)["Channel Stock"]
    recalculated = sheets_as_csv(book, recalc=True)["Channel Stock"]
    rows = {(r[0], r[1]): r[2:5] for r in cached[1:] if r and r[0]}
    assert rows[("WEB", "A")] == ["16", "2", "14"]
    assert rows[("AMZ", "A")] == ["7", "1.05", "5"]
    assert rows[("AMZ", "B")] == ["1", "0.15", "0"]
    assert [r[:5] for r in recalculated[1:] if r and r[0]] == [r[:5] for r in cached[1:] if r and r[0]]
