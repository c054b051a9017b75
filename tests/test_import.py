"""`inv-sheets import`: each shop's export becomes sales, open orders and returns, once.

The export files are built from each platform's documented columns (tests/importfiles.py); what was
appended is read back from the saved workbook with the toolkit's own reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from inv_sheets.cli.main import main
from inv_sheets.contract.issues import ImportRefused, WorkbookLockedError
from inv_sheets.imports import import_files
from inv_sheets.rules.validate import load, parse

from importfiles import (
    AMAZON_HEADER,
    ETSY_ITEMS_HEADER,
    ETSY_ORDERS_HEADER,
    SHOPIFY_HEADER,
    SQUARE_HEADER,
    WOO_ALGOL_HEADER,
    WOO_SKYVERGE_HEADER,
    WOO_WEBTOFFEE_HEADER,
    export,
    store_workbook,
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return store_workbook(tmp_path / "store.xlsx")


def rows(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet as the toolkit reads it back: typed, indexed by Excel row."""
    typed, _ = parse(load(path))
    return typed[sheet]


def first(**kw):
    """An order's first Shopify line: it alone carries the order's status, currency and dates."""
    base = {"Email": "a@example.com", "Accepts Marketing": "no", "Currency": "EUR", "Subtotal": "38.00",
            "Shipping": "4.90", "Taxes": "7.22", "Total": "42.90", "Shipping Method": "Standard",
            "Lineitem requires shipping": "true", "Lineitem taxable": "true", "Billing Zip": "'4001",
            "Shipping Zip": "'4001", "Shipping Country": "DE", "Payment Method": "Shopify Payments",
            "Refunded Amount": "0.00", "Risk Level": "Low", "Source": "web", "Lineitem discount": "0.00"}
    return base | kw


def later(**kw):
    """A continuation line: Name, Email, Created at and the Lineitem columns only."""
    return {"Email": "a@example.com", "Lineitem requires shipping": "true", "Lineitem taxable": "true",
            "Lineitem discount": "0.00"} | kw


def shopify_file(path: Path) -> Path:
    return export(path, SHOPIFY_HEADER, [
        # #1001: two lines, both shipped; the second leaves status, currency and dates blank.
        first(Name="#1001", **{"Financial Status": "paid", "Fulfillment Status": "fulfilled",
                               "Fulfilled at": "2024-03-02 09:15:00 +0100", "Created at": "2024-03-01 11:01:12 +0100",
                               "Lineitem quantity": "2", "Lineitem name": "Organic tee - M", "Lineitem sku": " TEE-M ",
                               "Lineitem fulfillment status": "fulfilled",
                               "Notes": "Please gift wrap\nand leave at the door, \"thanks\""}),
        later(Name="#1001", **{"Created at": "2024-03-01 11:01:12 +0100", "Lineitem quantity": "1",
                               "Lineitem name": "Organic tee - L", "Lineitem sku": "",
                               "Lineitem fulfillment status": "fulfilled"}),
        # #1002: partly fulfilled: the mug went out, the gift set waits.
        first(Name="#1002", Currency="USD", **{"Financial Status": "paid", "Fulfillment Status": "partial",
                                               "Created at": "2024-03-03 16:20:00 -0500", "Lineitem quantity": "1",
                                               "Lineitem name": "Mug", "Lineitem sku": "MUG",
                                               "Lineitem fulfillment status": "fulfilled"}),
        later(Name="#1002", **{"Created at": "2024-03-03 16:20:00 -0500", "Lineitem quantity": "2",
                               "Lineitem name": "Gift set", "Lineitem sku": "GIFT",
                               "Lineitem fulfillment status": "pending"}),
        # #1003: shipped, refunded and restocked.
        first(Name="#1003", **{"Financial Status": "refunded", "Fulfillment Status": "restocked",
                               "Created at": "2024-03-04 10:00:00 +0100", "Lineitem quantity": "1",
                               "Lineitem name": "Organic tee - L", "Lineitem sku": "TEE-L",
                               "Lineitem fulfillment status": "fulfilled", "Refunded Amount": "19.00"}),
        # #1004: shipped, refunded, goods kept by the customer.
        first(Name="#1004", **{"Financial Status": "refunded", "Fulfillment Status": "fulfilled",
                               "Created at": "2024-03-05 10:00:00 +0100", "Lineitem quantity": "1",
                               "Lineitem name": "Mystery box", "Lineitem sku": "",
                               "Lineitem fulfillment status": "fulfilled", "Refunded Amount": "12.00"}),
        # #1005: voided before shipping.
        first(Name="#1005", **{"Financial Status": "voided", "Fulfillment Status": "unfulfilled",
                               "Created at": "2024-03-05 12:00:00 +0100", "Cancelled at": "2024-03-05 13:00:00 +0100",
                               "Lineitem quantity": "1", "Lineitem name": "Organic tee - M", "Lineitem sku": "TEE-M",
                               "Lineitem fulfillment status": "pending"}),
        # #1006: an old SKU the Channel SKUs sheet maps, and one nobody knows.
        first(Name="#1006", **{"Financial Status": "paid", "Fulfillment Status": "unfulfilled",
                               "Created at": "2024-03-06 08:00:00 +0100", "Lineitem quantity": "3",
                               "Lineitem name": "Organic tee (old)", "Lineitem sku": "OLD-TEE-M",
                               "Lineitem fulfillment status": "pending"}),
        later(Name="#1006", **{"Created at": "2024-03-06 08:00:00 +0100", "Lineitem quantity": "1",
                               "Lineitem name": "Organic tee - XL", "Lineitem sku": "TEE-XL",
                               "Lineitem fulfillment status": "pending"}),
    ], bom=True)


def test_shopify_lines_become_sales_open_orders_and_returns(store, tmp_path):
    result = import_files(store, [shopify_file(tmp_path / "orders_export.csv")])

    assert result.files[0].format == "shopify"
    moves = rows(store, "Movements")
    new = moves[moves["movement_id"].str.startswith("SHOPIFY:")].set_index("movement_id")
    assert set(new.index) == {"SHOPIFY:#1001:LINE1", "SHOPIFY:#1001:LINE2", "SHOPIFY:#1002:LINE1",
                              "SHOPIFY:#1003:LINE1", "SHOPIFY:#1003:LINE1:RETURN", "SHOPIFY:#1004:LINE1"}
    sale = new.loc["SHOPIFY:#1001:LINE1"]
    assert (sale["type"], sale["sku"], sale["qty"], sale["from_location"]) == ("sale", "TEE-M", 2, "MAIN")
    assert sale["date"] == pd.Timestamp("2024-03-02")  # the day it shipped, on the shop's clock
    assert new.loc["SHOPIFY:#1001:LINE2", "sku"] == "TEE-L"  # no SKU: its exact listing name
    assert new.loc["SHOPIFY:#1003:LINE1:RETURN", "type"] == "return"
    assert new.loc["SHOPIFY:#1004:LINE1", "sku"] == "MUG"  # Channel SKUs listing
    orders = rows(store, "Orders").set_index("sku")
    assert orders.loc["GIFT", "order"] == "SHOPIFY:#1002" and orders.loc["GIFT", "qty"] == 2
    assert orders.loc["TEE-M", "qty"] == 3 and orders.loc["TEE-M", "status"] == "open"  # OLD-TEE-M mapped
    assert "#1005" not in " ".join(orders["order"])  # voided: nothing moves, nothing waits

    assert result.tally == {"new": 7, "already": 0, "changed": 0, "refused": 1, "nothing": 1}
    unknown = [i for i in result.issues if i.code == "import-unknown-sku"]
    assert len(unknown) == 1 and unknown[0].cell == "orders_export.csv!U10"
    assert "did you mean 'TEE-L'" in unknown[0].message or "did you mean 'TEE-M'" in unknown[0].message
    assert any(i.code == "import-noted" and "#1004" in i.message for i in result.issues)


def test_importing_the_same_file_twice_adds_nothing(store, tmp_path):
    orders = shopify_file(tmp_path / "orders_export.csv")
    import_files(store, [orders])
    before = store.read_bytes()
    again = import_files(store, [orders])
    assert again.tally["new"] == 0 and again.tally["already"] == 7
    assert not again.written and store.read_bytes() == before


def test_a_later_export_closes_the_open_lines_it_shows_shipped_or_cancelled(store, tmp_path):
    import_files(store, [shopify_file(tmp_path / "orders_export.csv")])
    later_export = export(tmp_path / "orders_export_1.csv", SHOPIFY_HEADER, [
        first(Name="#1002", **{"Financial Status": "paid", "Fulfillment Status": "fulfilled",
                               "Fulfilled at": "2024-03-08 10:00:00 +0100", "Created at": "2024-03-03 16:20:00 -0500",
                               "Lineitem quantity": "1", "Lineitem name": "Mug", "Lineitem sku": "MUG",
                               "Lineitem fulfillment status": "fulfilled"}),
        later(Name="#1002", **{"Created at": "2024-03-03 16:20:00 -0500", "Lineitem quantity": "2",
                               "Lineitem name": "Gift set", "Lineitem sku": "GIFT",
                               "Lineitem fulfillment status": "fulfilled"}),
        first(Name="#1006", **{"Financial Status": "voided", "Fulfillment Status": "unfulfilled",
                               "Created at": "2024-03-06 08:00:00 +0100", "Cancelled at": "2024-03-07 08:00:00 +0100",
                               "Lineitem quantity": "3", "Lineitem name": "Organic tee (old)", "Lineitem sku": "OLD-TEE-M",
                               "Lineitem fulfillment status": "pending"}),
    ], crlf=True)
    result = import_files(store, [later_export])
    assert result.tally == {"new": 0, "already": 1, "changed": 2, "refused": 0, "nothing": 0}
    orders = rows(store, "Orders").set_index("sku")
    assert orders.loc["GIFT", "status"] == "shipped" and orders.loc["TEE-M", "status"] == "cancelled"
    moves = rows(store, "Movements").set_index("movement_id")
    gift = moves.loc["SHOPIFY:#1002:LINE2"]
    assert (gift["type"], gift["sku"], gift["qty"], gift["date"]) == ("sale", "GIFT", 2, pd.Timestamp("2024-03-08"))


def test_etsy_items_with_us_dates_written_two_ways(store, tmp_path):
    common = {"Buyer": "jo", "Price": "19.00", "Currency": "USD", "Ship Country": "United States", "Order Type": "online",
              "Listings Type": "listing", "Payment Type": "online_cc", "Ship Zipcode": "2134"}
    items = export(tmp_path / "EtsySoldOrderItems2021-12.csv", ETSY_ITEMS_HEADER, [
        common | {"Sale Date": "12/26/21", "Item Name": "Organic tee", "Quantity": "1", "Transaction ID": "2711",
                  "Listing ID": "91", "Date Shipped": "12/28/2021", "Order ID": "1901", "Variations": "Size:M", "SKU": "TEE-M"},
        common | {"Sale Date": "12/26/2021", "Item Name": "Mug", "Quantity": "2", "Transaction ID": "2712",
                  "Listing ID": "92", "Date Shipped": "", "Order ID": "1901", "SKU": "MUG"},
    ])
    result = import_files(store, [items])
    assert result.files[0].format == "etsy" and result.tally["new"] == 2
    sale = rows(store, "Movements").set_index("movement_id").loc["ETSY:1901:2711"]
    assert (sale["sku"], sale["date"]) == ("TEE-M", pd.Timestamp("2021-12-28"))
    assert rows(store, "Orders").set_index("sku").loc["MUG", "qty"] == 2


def test_etsy_orders_file_imports_one_sku_orders_and_asks_for_items_otherwise(store, tmp_path):
    orders = export(tmp_path / "EtsySoldOrders2019.csv", ETSY_ORDERS_HEADER, [
        {"Sale Date": "12/31/2019", "Order ID": "1500", "Number of Items": "2", "Date Shipped": "1/2/2020",
         "Currency": "USD", "SKU": "MUG"},
        {"Sale Date": "12/31/2019", "Order ID": "1501", "Number of Items": "2", "Date Shipped": "", "SKU": "MUG,TEE-M"},
    ])
    result = import_files(store, [orders])
    assert result.tally["new"] == 1 and result.tally["refused"] == 1
    assert "EtsySoldOrderItems" in next(i.message for i in result.issues if i.code == "import-bad-line")
    sale = rows(store, "Movements").set_index("movement_id").loc["ETSY:1500:ORDER"]
    assert (sale["qty"], sale["date"]) == (2, pd.Timestamp("2020-01-02"))


@pytest.mark.parametrize("header, records", [
    (WOO_ALGOL_HEADER, [
        {"Order Number": "301", "Order Status": "Completed", "Order Date": "2024-03-02 10:00", "Order Currency": "EUR",
         "Item #": "1", "SKU": "TEE-M", "Item Name": "Organic tee - M", "Quantity (- Refund)": "2"},
        {"Order Number": "302", "Order Status": "Processing", "Order Date": "2024-03-03 10:00", "Item #": "1",
         "SKU": "MUG", "Item Name": "Mug", "Quantity (- Refund)": "1"},
        {"Order Number": "303", "Order Status": "Cancelled", "Order Date": "2024-03-03 11:00", "Item #": "1",
         "SKU": "MUG", "Item Name": "Mug", "Quantity (- Refund)": "1"},
    ]),
    (WOO_SKYVERGE_HEADER, [
        {"order_id": "9001", "order_number": "301", "order_date": "2024-03-02 10:00:00", "status": "wc-completed",
         "item_id": "1", "item_name": "Organic tee - M", "item_sku": "TEE-M", "item_quantity": "2"},
        {"order_id": "9002", "order_number": "302", "order_date": "2024-03-03 10:00:00", "status": "wc-processing",
         "item_id": "2", "item_name": "Mug", "item_sku": "MUG", "item_quantity": "1"},
        {"order_id": "9003", "order_number": "303", "order_date": "2024-03-03 11:00:00", "status": "wc-cancelled",
         "item_id": "3", "item_name": "Mug", "item_sku": "MUG", "item_quantity": "1"},
    ]),
    (WOO_WEBTOFFEE_HEADER, [
        {"order_id": "9001", "order_number": "301", "order_date": "2024-03-02 10:00:00", "status": "completed",
         "line_item_1": "name:Organic tee - M|product_id:11|sku:TEE-M|quantity:2|total:38.00"},
        {"order_id": "9002", "order_number": "302", "order_date": "2024-03-03 10:00:00", "status": "processing",
         "line_item_1": "name:Mug|product_id:12|sku:MUG|quantity:1|total:9.00"},
        {"order_id": "9003", "order_number": "303", "order_date": "2024-03-03 11:00:00", "status": "cancelled",
         "line_item_1": "name:Mug|product_id:12|sku:MUG|quantity:1|total:9.00"},
    ]),
], ids=["algolplus", "skyverge", "webtoffee"])
def test_woocommerce_plugin_exports(store, tmp_path, header, records):
    result = import_files(store, [export(tmp_path / "orders.csv", header, records, bom=True)])
    assert result.files[0].format == "woocommerce"
    assert result.tally == {"new": 2, "already": 0, "changed": 0, "refused": 0, "nothing": 1}
    sale = rows(store, "Movements").set_index("movement_id").loc["WOOCOMMERCE:301:LINE1"]
    assert (sale["sku"], sale["qty"], sale["date"]) == ("TEE-M", 2, pd.Timestamp("2024-03-02"))
    assert list(rows(store, "Orders")["order"]) == ["WOOCOMMERCE:302"]


def test_amazon_all_orders_report_is_tab_separated_and_ships_from_its_channel_location(store, tmp_path):
    base = {"sales-channel": "Amazon.de", "fulfillment-channel": "Amazon", "currency": "EUR", "ship-country": "DE"}
    report = export(tmp_path / "All Orders.txt", AMAZON_HEADER, [
        base | {"amazon-order-id": "302-1234567-1234567", "purchase-date": "2024-03-02T10:20:30+00:00",
                "order-status": "Shipped", "item-status": "Shipped", "product-name": "Organic tee M", "sku": "TEE-M",
                "asin": "B0TEE", "quantity": "1"},
        base | {"amazon-order-id": "302-7654321-7654321", "purchase-date": "2024-03-03T10:20:30+00:00",
                "order-status": "Pending", "item-status": "Unshipped", "sku": "TEE-M", "asin": "B0TEE", "quantity": "2"},
        base | {"amazon-order-id": "302-1111111-1111111", "purchase-date": "2024-03-03T12:00:00+00:00",
                "order-status": "Cancelled", "item-status": "Cancelled", "sku": "MUG", "asin": "B0MUG", "quantity": "1"},
    ], delimiter="\t")
    result = import_files(store, [report])
    assert result.files[0].format == "amazon"
    assert result.tally == {"new": 2, "already": 0, "changed": 0, "refused": 0, "nothing": 1}
    sale = rows(store, "Movements").set_index("movement_id").loc["AMAZON:302-1234567-1234567:TEE-M"]
    assert sale["from_location"] == "FBA"


def test_square_item_sales_with_a_refund(store, tmp_path):
    base = {"Time": "12:01:00", "Time Zone": "Eastern Time (US & Canada)", "Device Name": "Counter",
            "Itemization Type": "Physical Item", "Channel": "Point of Sale", "Location": "Shop"}
    sales = export(tmp_path / "items-2024-03-01-2024-04-01.csv", SQUARE_HEADER, [
        base | {"Date": "03/02/2024", "Item": "Organic tee", "Price Point Name": "M", "Qty": "1", "SKU": "",
                "Transaction ID": "T1", "Payment ID": "P1", "Event Type": "Payment"},
        base | {"Date": "03/02/2024", "Item": "Mug", "Price Point Name": "Regular", "Qty": "2", "SKU": "MUG",
                "Transaction ID": "T1", "Payment ID": "P1", "Event Type": "Payment"},
        base | {"Date": "03/05/2024", "Item": "Mug", "Price Point Name": "Regular", "Qty": "-1", "SKU": "MUG",
                "Transaction ID": "T1", "Payment ID": "P1", "Event Type": "Refund"},
    ])
    result = import_files(store, [sales])
    assert result.files[0].format == "square" and result.tally["new"] == 3
    moves = rows(store, "Movements").set_index("movement_id")
    assert moves.loc["SQUARE:T1:ITEM1", "sku"] == "TEE-M"  # "Organic tee - M": the listing name
    back = moves.loc["SQUARE:T1:REFUND1:RETURN"]
    assert (back["type"], back["qty"], back["date"]) == ("return", 1, pd.Timestamp("2024-03-05"))


def test_a_column_map_is_kept_in_the_workbook_so_the_next_import_needs_no_flags(store, tmp_path):
    day1 = export(tmp_path / "market-day1.csv", ["Receipt", "Day", "Code", "Units"],
                  [{"Receipt": "R1", "Day": "31/03/2024", "Code": "mug", "Units": "1"}])
    mapping = {"order": "Receipt", "date": "Day", "sku": "Code", "qty": "Units"}
    first_run = import_files(store, [day1], fmt="csv", channel="market", column_map=mapping)
    assert first_run.map_saved == mapping
    day2 = export(tmp_path / "market-day2.csv", ["Receipt", "Day", "Code", "Units"],
                  [{"Receipt": "R2", "Day": "15/04/2024", "Code": "TEE-L", "Units": "2"}])
    second = import_files(store, [day2])  # no flags: the stored map recognises the header
    assert second.files[0].format == "csv" and second.files[0].channel == "MARKET"
    moves = rows(store, "Movements").set_index("movement_id")
    assert moves.loc["MARKET:R1:LINE1", "date"] == pd.Timestamp("2024-03-31")
    assert moves.loc["MARKET:R2:LINE1", "date"] == pd.Timestamp("2024-04-15")
    maps = rows(store, "Import Maps")
    assert sorted(maps["field"]) == ["date", "order", "qty", "sku"]


def test_ambiguous_dates_are_refused_unless_date_order_says(store, tmp_path):
    file = export(tmp_path / "market.csv", ["Receipt", "Day", "Code", "Units"],
                  [{"Receipt": "R9", "Day": "03/04/2024", "Code": "MUG", "Units": "1"}])
    result = import_files(store, [file], fmt="csv", channel="market",
                          column_map={"order": "Receipt", "date": "Day", "sku": "Code", "qty": "Units"})
    bad = [i for i in result.issues if i.code == "import-bad-line"]
    assert len(bad) == 1 and bad[0].cell == "market.csv!B2"
    assert "date_order" in bad[0].message and result.tally["refused"] == 1


def test_dry_run_writes_nothing_and_lists_what_it_would_add(store, tmp_path):
    before = store.read_bytes()
    run = CliRunner().invoke(main, ["import", str(store), str(shopify_file(tmp_path / "o.csv")), "--dry-run"])
    assert run.exit_code == 1  # a line was refused (TEE-XL)
    assert store.read_bytes() == before
    assert "would add to Movements: shopify:#1001:line1" in run.stdout
    assert "would add to Orders: shopify:#1002  GIFT  2  open" in run.stdout
    assert "7 new, 0 already in, 0 changed state, 1 refused, 1 with nothing to move" in run.stdout


def test_cli_json_is_the_library_result(store, tmp_path):
    file = shopify_file(tmp_path / "o.csv")
    expected = import_files(store, [file], dry_run=True).to_dict()
    run = CliRunner().invoke(main, ["import", str(store), str(file), "--dry-run", "--json"])
    assert json.loads(run.stdout) == json.loads(json.dumps(expected, default=str))


def test_a_workbook_open_elsewhere_is_refused_in_one_line(store, tmp_path):
    (tmp_path / f".~lock.{store.name}#").write_text("someone")
    before = store.read_bytes()
    run = CliRunner().invoke(main, ["import", str(store), str(shopify_file(tmp_path / "o.csv"))])
    assert run.exit_code == 3 and store.read_bytes() == before
    assert run.stderr.count("\n") == 1 and "open in another program" in run.stderr
    with pytest.raises(WorkbookLockedError):
        import_files(store, [tmp_path / "o.csv"])


def test_unknown_files_and_channels_are_refused_with_what_to_do(store, tmp_path):
    odd = export(tmp_path / "odd.csv", ["When", "What"], [{"When": "x", "What": "y"}])
    with pytest.raises(ImportRefused, match="pass --from"):
        import_files(store, [odd])
    run = CliRunner().invoke(main, ["import", str(store), str(shopify_file(tmp_path / "o.csv")), "--channel", "ebay"])
    assert run.exit_code == 3 and "no channel 'ebay' on the Channels sheet" in run.stderr


def test_an_old_shopify_export_resaved_in_excel(store, tmp_path):
    """Fewer columns (no Lineitem fulfillment status), day-first dates from an Excel re-save, CRLF,
    Windows-1252 text: the order's own Fulfillment Status decides, a partly fulfilled order stays open."""
    header = ["Name", "Email", "Financial Status", "Fulfillment Status", "Currency", "Total", "Created at",
              "Lineitem quantity", "Lineitem name", "Lineitem sku", "Notes"]
    lines = [
        ["#1010", "b@example.com", "paid", "fulfilled", "EUR", "9.00", "31/12/2023 22:36", "1", "Mug", "MUG", "Grüße"],
        ["#1011", "c@example.com", "paid", "unfulfilled", "EUR", "19.00", "11/10/24 09:17", "1", "Organic tee - L", "", ""],
        ["#1012", "d@example.com", "paid", "partial", "EUR", "28.00", "12/10/24 10:00", "1", "Mug", "MUG", ""],
        ["#1012", "d@example.com", "", "", "", "", "12/10/24 10:00", "1", "Organic tee - M", "TEE-M", ""],
    ]
    text = "\r\n".join(",".join(row) for row in [header, *lines]) + "\r\n"
    path = tmp_path / "orders_export_resaved.csv"
    path.write_bytes(text.encode("cp1252"))

    result = import_files(store, [path])
    assert result.files[0].format == "shopify"
    assert result.tally == {"new": 4, "already": 0, "changed": 0, "refused": 0, "nothing": 0}
    sale = rows(store, "Movements").set_index("movement_id").loc["SHOPIFY:#1010:LINE1"]
    assert (sale["sku"], sale["date"]) == ("MUG", pd.Timestamp("2023-12-31"))
    orders = rows(store, "Orders").set_index(["order", "sku"])
    assert orders.loc[("SHOPIFY:#1011", "TEE-L"), "date"] == pd.Timestamp("2024-10-11")
    assert orders.loc[("SHOPIFY:#1012", "TEE-M"), "status"] == "open"
    assert sum(i.code == "import-noted" and "partly fulfilled" in i.message for i in result.issues) == 2


def test_an_overlapping_later_export_adds_only_what_is_new(store, tmp_path):
    def report(name: str, orders: range) -> Path:
        return export(tmp_path / name, AMAZON_HEADER, [
            {"amazon-order-id": f"302-{n:07d}-0000000", "purchase-date": f"2024-03-{n:02d}T10:00:00+00:00",
             "order-status": "Shipped", "item-status": "Shipped", "sku": "TEE-M", "quantity": "1", "currency": "EUR"}
            for n in orders], delimiter="\t")

    first_run = import_files(store, [report("march-1.txt", range(1, 6))])
    second = import_files(store, [report("march-2.txt", range(4, 9))])
    assert first_run.tally["new"] == 5 and (second.tally["new"], second.tally["already"]) == (3, 2)
    moves = rows(store, "Movements")
    ids = moves[moves["movement_id"].str.startswith("AMAZON:")]["movement_id"]
    assert len(ids) == 8 and ids.is_unique
