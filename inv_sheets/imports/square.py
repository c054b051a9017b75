"""Square's item sales export (Reports > Item Sales > Export > Item Detail CSV): a record per item sold.

Sales at a counter leave with the customer: a Payment record is a sale on its Date. A Refund record
is an item brought back (Square's itemised refund, which offers to put it back into stock): it goes
into the returns hold, where inspection decides whether to restock it; its sale is its own earlier
record. Transaction ID and the record's place among its transaction's items key a line. The listing
name is the Item, followed by " - " and the Price Point Name when there is one other than Regular.
"""

from __future__ import annotations

from ..contract.issues import Issue
from .core import FULFILLED, RETURN, Line, Rows, day_and_qty, has, key_part, text

NAME = "square"
DATE_ORDER = "MDY"


def detect(rows: Rows) -> bool:
    return has(rows, "Date", "Item", "Qty", "Transaction ID")


def lines(rows: Rows, date_order: str | None) -> tuple[list[Line], list[Issue]]:
    out, issues = [], []
    seen: dict[tuple[str, str], int] = {}
    for i, record in enumerate(rows.records):
        txn = text(record, "Transaction ID")
        if not txn:
            continue
        refund = text(record, "Event Type").lower() == "refund"
        kind = "refund" if refund else "item"
        seen[txn, kind] = seen.get((txn, kind), 0) + 1
        read = day_and_qty(rows, i, "Date", "Qty", date_order)
        if isinstance(read, Issue):
            issues.append(read)
            continue
        day, qty = read
        item, point = text(record, "Item"), text(record, "Price Point Name")
        listing = f"{item} - {point}" if point and point.lower() != "regular" else item
        out.append(Line(f"{key_part(txn)}:{kind}{seen[txn, kind]}", txn, day, text(record, "SKU"), listing, abs(qty),
                        RETURN if refund else FULFILLED, rows.rows[i], text(record, "Currency")))
    return out, issues
