"""WooCommerce order exports. WooCommerce itself has no order exporter; stores use a plugin, and the
common ones write a record per order item under one of these column sets:

    Order Export for WooCommerce (AlgolPlus)    Order Number, Order Date, Order Status, SKU,
                                                Item Name (or Product Name), Quantity (or Quantity (- Refund))
    Customer/Order/Coupon Export (SkyVerge)     order_number (or order_id), order_date, status,
                                                item_sku, item_name, item_quantity
    Order Export & Import (WebToffee)           order_number, order_date, status, and line_item_1,
                                                line_item_2 ... each "name:...|sku:...|quantity:2|..."

The order status, with or without its "wc-" prefix, says what happened to every line of it:
completed is a sale; pending, processing and on-hold are open; cancelled, failed and trash are
cancelled; refunded is a sale that was refunded (WooCommerce's export does not say whether the goods
were restocked, so nothing comes back: record the return when they do). Any other column set: import
it with `--from csv` and a column map.
"""

from __future__ import annotations

from ..contract.issues import Issue
from ..contract.schema import fold
from .core import Line, Rows, day_of, has, key_part, quantity, state_of, text

NAME = "woocommerce"
DATE_ORDER = None

ORDER = ("Order Number", "order_number", "Order ID", "order_id")
DATE = ("Order Date", "order_date", "date")
STATUS = ("Order Status", "status")
SKU = ("SKU", "item_sku")
ITEM = ("Item Name", "Product Name", "item_name")
QTY = ("Quantity", "Quantity (- Refund)", "item_quantity", "Qty")


def detect(rows: Rows) -> bool:
    def any_of(names: tuple[str, ...]) -> bool:
        return any(has(rows, n) for n in names)

    items = any_of(QTY) and any_of(SKU) or has(rows, "line_item_1")
    return any_of(ORDER) and any_of(DATE) and any_of(STATUS) and items and not has(rows, "Lineitem quantity")


def lines(rows: Rows, date_order: str | None) -> tuple[list[Line], list[Issue]]:
    out, issues = [], []
    count: dict[str, int] = {}
    date_header = next(h for h in DATE if has(rows, h))
    status_header = next(h for h in STATUS if has(rows, h))
    for i, record in enumerate(rows.records):
        order = text(record, *ORDER)
        if not order:
            continue
        status = text(record, *STATUS)
        state = state_of(status)
        if state is None:
            issues.append(rows.finding("import-bad-line", rows.rows[i], status_header,
                                       f"order {order} has the status {status!r}, which the import does not know; "
                                       "it is not imported.", status))
            continue
        for sku, name, qty_text in _items(rows, record):
            count[order] = count.get(order, 0) + 1
            day, why = day_of(record.get(fold(date_header)), date_order)
            qty = quantity(qty_text)
            if day is None or qty is None:
                issues.append(rows.finding("import-bad-line", rows.rows[i], date_header if day is None else None,
                                           f"order {order}: {why or f'the quantity {qty_text!r} is not a number'}; "
                                           "the line is not imported.", qty_text if day is not None else None))
                continue
            out.append(Line(f"{key_part(order)}:line{count[order]}", order, day, sku, name, qty, state, rows.rows[i],
                            text(record, "Order Currency", "order_currency", "Currency")))
    return out, issues


def _items(rows: Rows, record: dict) -> list[tuple[str, str, str]]:
    """(sku, name, quantity) of each item a record holds: one, or several serialised line_item_N."""
    if not has(rows, "line_item_1"):
        return [(text(record, *SKU), text(record, *ITEM), text(record, *QTY))]
    out, n = [], 1
    while has(rows, f"line_item_{n}"):
        raw = text(record, f"line_item_{n}")
        if raw:
            fields = dict(part.split(":", 1) for part in raw.split("|") if ":" in part)
            out.append((fields.get("sku", "").strip(), fields.get("name", "").strip(), fields.get("quantity", "").strip()))
        n += 1
    return out

