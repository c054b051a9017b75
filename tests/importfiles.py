"""Shop export files and a store workbook for the import tests, built in code.

Each export's header is the platform's documented column set (Shopify's Orders > Export, Etsy's
EtsySoldOrderItems / EtsySoldOrders, the WooCommerce export plugins, Amazon's All Orders report,
Square's item detail CSV), with the quirks real files have: Shopify's continuation lines, dates with
offsets, padded or missing SKUs, quoted notes spanning lines, a BOM, tabs, US dates.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Zip",
    "Billing Country", "Shipping Name", "Shipping Zip", "Shipping Country", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Id", "Tags",
    "Risk Level", "Source", "Lineitem discount",
]

ETSY_ITEMS_HEADER = [
    "Sale Date", "Item Name", "Buyer", "Quantity", "Price", "Coupon Code", "Coupon Details", "Discount Amount",
    "Shipping Discount", "Order Shipping", "Order Sales Tax", "Item Total", "Currency", "Transaction ID",
    "Listing ID", "Date Paid", "Date Shipped", "Ship Name", "Ship Address1", "Ship Address2", "Ship City",
    "Ship State", "Ship Zipcode", "Ship Country", "Order ID", "Variations", "Order Type", "Listings Type",
    "Payment Type", "InPerson Discount", "InPerson Location", "VAT Paid by Buyer", "SKU",
]

ETSY_ORDERS_HEADER = [
    "Sale Date", "Order ID", "Buyer User ID", "Full Name", "First Name", "Last Name", "Number of Items",
    "Payment Method", "Date Shipped", "Street 1", "Street 2", "Ship City", "Ship State", "Ship Zipcode",
    "Ship Country", "Currency", "Order Value", "Coupon Code", "Coupon Details", "Discount Amount",
    "Shipping Discount", "Shipping", "Sales Tax", "Order Total", "Status", "Card Processing Fees", "Order Net",
    "Adjusted Order Total", "Adjusted Card Processing Fees", "Adjusted Net Order Amount", "Buyer", "Order Type",
    "Payment Type", "InPerson Discount", "InPerson Location", "SKU",
]

AMAZON_HEADER = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku",
    "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation",
]

SQUARE_HEADER = [
    "Date", "Time", "Time Zone", "Category", "Item", "Qty", "Price Point Name", "SKU", "Modifiers Applied",
    "Gross Sales", "Discounts", "Net Sales", "Tax", "Transaction ID", "Payment ID", "Device Name", "Notes",
    "Details", "Event Type", "Location", "Dining Option", "Customer ID", "Customer Name",
    "Customer Reference ID", "Unit", "Count", "Itemization Type", "Channel", "Token",
]

WOO_ALGOL_HEADER = [
    "Order Number", "Order Status", "Order Date", "Customer Note", "First Name (Billing)", "Last Name (Billing)",
    "Country Code (Shipping)", "Payment Method Title", "Cart Discount Amount", "Order Subtotal Amount",
    "Order Total Amount", "Order Currency", "Item #", "SKU", "Item Name", "Quantity (- Refund)", "Item Cost",
]

WOO_SKYVERGE_HEADER = [
    "order_id", "order_number", "order_date", "status", "shipping_total", "order_total", "order_currency",
    "payment_method", "billing_first_name", "billing_country", "item_id", "item_name", "item_sku",
    "item_quantity", "item_subtotal", "item_total",
]

WOO_WEBTOFFEE_HEADER = [
    "order_id", "order_number", "order_date", "status", "order_currency", "order_total", "customer_note",
    "line_item_1", "line_item_2",
]


def export(path: Path, header: list[str], rows: list[dict[str, object]], *, delimiter: str = ",",
           bom: bool = False, crlf: bool = False) -> Path:
    """Write an export: the header, then each row's values under it (missing columns left blank)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"not in the header: {unknown}"
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in header])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def store_workbook(path: Path) -> Path:
    """A small store: tees, a mug and a gift set, two stock locations and a returns hold, the shops as
    Channels, and a Movements sheet with an Excel Table, a dropdown and a conditional format."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)

    def sheet(name: str, rows: list[list[object]]):
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        return ws

    sheet("Items", [["SKU", "Name", "Variant", "Unit cost"], ["TEE-M", "Organic tee", "M", 4.0],
                    ["TEE-L", "Organic tee", "L", 4.5], ["MUG", "Mug", None, 2.0], ["GIFT", "Gift set", None, 6.0]])
    sheet("Locations", [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"], ["FBA", "stock", "yes"],
                        ["RET", "returns_hold", "no"]])
    sheet("Channels", [["Channel", "Locations"], ["shopify", "MAIN"], ["etsy", "MAIN"], ["woocommerce", "MAIN"],
                       ["amazon", "FBA"], ["square", "MAIN"], ["market", "MAIN"]])
    sheet("Channel SKUs", [["Channel", "Channel SKU", "Listing", "SKU"], ["shopify", "OLD-TEE-M", None, "TEE-M"],
                           ["shopify", None, "Mystery box", "MUG"]])
    sheet("Bundles", [["Bundle SKU", "Component SKU", "Qty"], ["GIFT", "TEE-M", 1], ["GIFT", "MUG", 1]])
    moves = sheet("Movements", [
        ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Reference", "Channel", "Note"],
        ["M-1", datetime(2024, 1, 2), "receive", "TEE-M", 50, None, "MAIN", "PO-1", None, None],
        ["M-2", datetime(2024, 1, 2), "receive", "MUG", 40, None, "MAIN", "PO-1", None, None],
        ["M-3", datetime(2024, 1, 2), "receive", "TEE-L", 30, None, "MAIN", "PO-1", None, None],
        ["M-4", datetime(2024, 1, 2), "receive", "TEE-M", 20, None, "FBA", "PO-2", None, None],
    ])
    for row in range(2, 6):
        moves.cell(row, 2).number_format = "dd/mm/yyyy"
    moves.add_table(Table(displayName="tblMovements", ref="A1:J5",
                          tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)))
    types = DataValidation(type="list", formula1='"receive,sale,return,restock,transfer,adjust"', allow_blank=True)
    types.add("C2:C5")
    moves.add_data_validation(types)
    moves.conditional_formatting.add("E2:E5", CellIsRule(operator="lessThan", formula=["0"],
                                                         fill=PatternFill("solid", fgColor="FFC7CE")))
    sheet("Orders", [["Order", "Date", "Channel", "SKU", "Qty", "Region", "Status"]])
    sheet("Counts", [["Date", "Location", "SKU", "Batch", "Counted qty", "Counter", "Bin"]])
    sheet("Settings", [["Key", "Value"], ["default_location", "MAIN"], ["returns_location", "RET"],
                       ["as_of", datetime(2024, 3, 31)]])
    wb.save(path)
    return path
