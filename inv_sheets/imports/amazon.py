"""Amazon Seller Central's "All Orders" report (flat file, tab-separated): a record per order item.

amazon-order-id and sku key a line; purchase-date is ISO with an offset. The item's own item-status
says what happened to it, and order-status when the report has no item-status:

    Shipped (Shipped - Delivered to Buyer ...)   sale
    Pending, Unshipped, PartiallyShipped         open order line
    Cancelled                                    cancelled
"""

from __future__ import annotations

from ..contract.issues import Issue
from .core import CANCELLED, FULFILLED, OPEN, Line, Rows, day_and_qty, has, key_part, text

NAME = "amazon"
DATE_ORDER = None


def detect(rows: Rows) -> bool:
    return has(rows, "amazon-order-id", "purchase-date", "sku", "quantity")


def lines(rows: Rows, date_order: str | None) -> tuple[list[Line], list[Issue]]:
    out, issues = [], []
    for i, record in enumerate(rows.records):
        order = text(record, "amazon-order-id")
        if not order:
            continue
        status = (text(record, "item-status") or text(record, "order-status")).lower()
        state = CANCELLED if status.startswith("cancel") else FULFILLED if status.startswith("shipped") else OPEN
        read = day_and_qty(rows, i, "purchase-date", "quantity", date_order)
        if isinstance(read, Issue):
            issues.append(read)
            continue
        day, qty = read
        sku = text(record, "sku")
        line = key_part(sku or text(record, "asin") or str(rows.rows[i]))
        out.append(Line(f"{key_part(order)}:{line}", order, day, sku, text(record, "product-name"), qty, state,
                        rows.rows[i], text(record, "currency"), text(record, "ship-country")))
    return out, issues
