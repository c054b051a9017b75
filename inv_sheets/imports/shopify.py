"""Shopify's orders export (Orders > Export, CSV): one record per line item.

Only an order's first record carries its Financial Status, Fulfillment Status, Currency, Fulfilled
at and Cancelled at; later records of the same order leave them blank, so they are carried down by
the order's Name. A line's own Lineitem fulfillment status (fulfilled or pending) says whether it
shipped; exports without that column fall back on the order's Fulfillment Status.

    Financial Status    the line shipped               it did not ship
    paid, pending ...   fulfilled: sale                open order line
    refunded            sale, and a return when the    cancelled
                        order's status is restocked
    partially_refunded  sale (noted: which line?)      open order line (noted)
    voided, expired     sale (it went out)             cancelled
    Cancelled at set    as refunded                    cancelled
"""

from __future__ import annotations

from ..contract.issues import Issue
from .core import CANCELLED, FULFILLED, OPEN, REFUNDED, RETURNED, Line, Rows, day_and_qty, has, key_part, text

NAME = "shopify"
DATE_ORDER = None  # Shopify writes ISO dates; an Excel re-save follows the owner's locale
ORDER_FIELDS = ("Financial Status", "Fulfillment Status", "Currency", "Fulfilled at", "Cancelled at", "Shipping Country")


def detect(rows: Rows) -> bool:
    return has(rows, "Name", "Lineitem quantity", "Lineitem name")


def lines(rows: Rows, date_order: str | None) -> tuple[list[Line], list[Issue]]:
    out, issues = [], []
    first: dict[str, dict[str, str]] = {}
    count: dict[str, int] = {}
    for i, record in enumerate(rows.records):
        order = text(record, "Name")
        if not order:
            continue
        # An order's first record names its status; its later records inherit it.
        known = first.setdefault(order, {})
        for name in ORDER_FIELDS:
            known.setdefault(name, text(record, name))
            if not known[name]:
                known[name] = text(record, name)
        count[order] = count.get(order, 0) + 1
        financial = known["Financial Status"].lower()
        shipped = _shipped(text(record, "Lineitem fulfillment status").lower(), known["Fulfillment Status"].lower())
        restocked = known["Fulfillment Status"].lower() == "restocked"
        state, note = _state(financial, shipped, restocked, bool(known["Cancelled at"]))
        fulfilled_at = known["Fulfilled at"] if state != OPEN else ""
        read = day_and_qty(rows, i, "Created at", "Lineitem quantity", date_order, day_value=fulfilled_at or None)
        if isinstance(read, Issue):
            issues.append(read)
            continue
        day, qty = read
        out.append(Line(f"{key_part(order)}:line{count[order]}", order, day, text(record, "Lineitem sku"),
                        text(record, "Lineitem name"), qty, state, rows.rows[i], known["Currency"],
                        known["Shipping Country"], note))
    return out, issues


def _shipped(line_status: str, order_status: str) -> bool | None:
    """Whether the line went out: its own status when the export has one, else the order's
    (None when the order only partly shipped and the line does not say)."""
    if line_status:
        return line_status == "fulfilled"
    if order_status in ("fulfilled", "shipped"):
        return True
    return None if order_status == "partial" else False


def _state(financial: str, shipped: bool | None, restocked: bool, cancelled: bool) -> tuple[str, str]:
    if financial == "refunded" or (cancelled and shipped):
        if shipped:
            return (RETURNED, "") if restocked else (REFUNDED, "")
        return CANCELLED, ""
    if financial in ("voided", "expired") or cancelled:
        return (FULFILLED, "") if shipped else (CANCELLED, "")
    if shipped is None:
        return OPEN, "the order is partly fulfilled and the export does not say which lines: kept open"
    if financial == "partially_refunded":
        return (FULFILLED if shipped else OPEN), "the order is partly refunded: record a return for any line that came back"
    return (FULFILLED if shipped else OPEN), ""
