"""Etsy's order downloads (Shop Manager > Settings > Options > Download Data).

EtsySoldOrderItems has a record per item: its Order ID and Transaction ID key it, Item Name, SKU and
Quantity say what sold, and Date Shipped (blank until it ships) says whether it went out:

    Date Shipped set    sale, dated the day it shipped
    Date Shipped blank  open order line
    Status cancelled    cancelled (newer downloads carry a Status on the order file only)

EtsySoldOrders has a record per order and no item names; where only that exists, an order whose SKU
column names exactly one SKU imports as Number of Items of it; anything else is refused with a
finding that asks for the items file. Dates are US style (12/31/2019, 12/26/21).
"""

from __future__ import annotations

from ..contract.issues import Issue
from .core import CANCELLED, FULFILLED, OPEN, Line, Rows, day_and_qty, has, key_part, text

NAME = "etsy"
DATE_ORDER = "MDY"


def detect(rows: Rows) -> bool:
    return has(rows, "Sale Date", "Order ID") and (has(rows, "Transaction ID", "Quantity") or has(rows, "Number of Items"))


def lines(rows: Rows, date_order: str | None) -> tuple[list[Line], list[Issue]]:
    items = has(rows, "Transaction ID", "Quantity")
    out, issues = [], []
    for i, record in enumerate(rows.records):
        order = text(record, "Order ID")
        if not order:
            continue
        shipped = text(record, "Date Shipped")
        status = text(record, "Status", "Order Status").lower()
        state = CANCELLED if status.startswith(("cancel", "canceled")) else FULFILLED if shipped else OPEN
        qty_header = "Quantity" if items else "Number of Items"
        read = day_and_qty(rows, i, "Sale Date", qty_header, date_order, day_value=shipped or None)
        if isinstance(read, Issue):
            issues.append(read)
            continue
        day, qty = read
        if items:
            key = f"{key_part(order)}:{key_part(text(record, 'Transaction ID'))}"
            out.append(Line(key, order, day, text(record, "SKU"), text(record, "Item Name"), qty, state,
                            rows.rows[i], text(record, "Currency"), text(record, "Ship Country")))
            continue
        skus = [s.strip() for s in text(record, "SKU").split(",") if s.strip()]
        if len(skus) != 1:
            issues.append(rows.finding(
                "import-bad-line", rows.rows[i], "SKU" if has(rows, "SKU") else "Order ID",
                f"order {order} lists {len(skus) or 'no'} SKUs and no item lines; download EtsySoldOrderItems "
                "(it has a line per item) and import that instead.", text(record, "SKU")))
            continue
        out.append(Line(f"{key_part(order)}:order", order, day, skus[0], "", qty, state, rows.rows[i],
                        text(record, "Currency"), text(record, "Ship Country")))
    return out, issues
