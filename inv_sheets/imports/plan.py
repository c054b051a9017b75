"""What an import adds to the workbook, given what is already in it: the idempotent part.

Every row an import appends carries its channel line's key: a sale's Movement ID is the key itself
(`shopify:#1001:line2`), a return's the key with `:return`, an open order line's Order is the channel
and order (`shopify:#1001`). Before anything is added the workbook's own rows are looked up, so
importing the same file twice, or a later export that overlaps an earlier one, adds nothing twice;
a line seen open before and shipped or cancelled now closes its Orders row instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..contract.book import Book, Store
from ..contract.issues import Issue
from ..contract.parse import canonical_code
from .core import CANCELLED, FULFILLED, OPEN, REFUNDED, RETURN, RETURNED, Line, Rows

NEW, ALREADY, CHANGED, REFUSED, NOTHING = "new", "already", "changed", "refused", "nothing"


@dataclass
class Plan:
    """The rows to append (canonical column -> value), the Orders rows to close, and the tally."""

    movements: list[dict[str, object]] = field(default_factory=list)
    orders: list[dict[str, object]] = field(default_factory=list)
    counts: list[dict[str, object]] = field(default_factory=list)
    closes: list[tuple[int, str]] = field(default_factory=list)  # (Orders Excel row, new status)
    tally: dict[str, int] = field(default_factory=lambda: dict.fromkeys((NEW, ALREADY, CHANGED, REFUSED, NOTHING), 0))
    issues: list[Issue] = field(default_factory=list)


class Known:
    """The keys already in the workbook: movement IDs, open and closed order lines, counts."""

    def __init__(self, book: Book, store: Store) -> None:
        moves = book.table("Movements")
        ids = moves.data["movement_id"] if moves is not None and "movement_id" in moves.data else pd.Series(dtype=object)
        self.ids = {canonical_code(_plain(v)) for v in ids.dropna()}
        self.orders: dict[tuple[str, str], tuple[int, str]] = {}  # (order, sku) -> (Excel row, status)
        orders = book.table("Orders")
        if orders is not None and {"order", "sku"} <= set(orders.data):
            status = orders.data["status"] if "status" in orders.data else pd.Series(None, index=orders.data.index)
            for row, order, sku, state in zip(orders.data.index, orders.data["order"], orders.data["sku"], status):
                if order is not None and sku is not None:
                    word = str(state).strip().lower() if state not in (None, "") else "open"
                    self.orders.setdefault((canonical_code(_plain(order)), canonical_code(_plain(sku))), (int(row), word))
        counts = store["Counts"]
        self.counts = {(d, loc, sku, canonical_code(_plain(b)) if isinstance(b, str) else ""): q
                       for d, loc, sku, b, q in zip(counts["date"], counts["location"], counts["sku"], counts["batch"],
                                                    counts["counted_qty"])}

    def add_id(self, movement_id: str) -> None:
        self.ids.add(canonical_code(movement_id))


def plan_lines(lines: list[tuple[Line, str]], channel: str, ship_from: str | None, known: Known, plan: Plan,
               rows: Rows) -> None:
    """Add to `plan` what each matched (line, sku) needs, given what `known` holds already."""
    open_lines: dict[tuple[str, str], dict[str, object]] = {}
    for line, sku in lines:
        key = f"{channel.lower()}:{line.key}"
        order = f"{channel.lower()}:{line.order}"
        booked = known.orders.get((canonical_code(order), sku))
        sold = canonical_code(key) in known.ids
        added = False
        if line.state in (FULFILLED, RETURNED, REFUNDED) and not sold:
            note = {RETURNED: "refunded and restocked", REFUNDED: "refunded without restock: nothing came back"}.get(line.state, "")
            plan.movements.append(_move(key, line, "sale", sku, channel, from_location=ship_from, note=note or line.note))
            known.add_id(key)
            added = True
        if line.state in (RETURNED, RETURN) and canonical_code(key + ":return") not in known.ids:
            plan.movements.append(_move(key + ":return", line, "return", sku, channel, note="refund with restock"))
            known.add_id(key + ":return")
            added = True
        closed = False
        if booked is not None and booked[1] == "open" and line.state != OPEN:
            status = "cancelled" if line.state == CANCELLED and not sold else "shipped"
            plan.closes.append((booked[0], status))
            known.orders[canonical_code(order), sku] = (booked[0], status)
            closed = True
        if line.state == OPEN and booked is None and not sold:
            merged = open_lines.get((order, sku))
            if merged is None:  # the Orders sheet keys a line by order and SKU: one row per pair
                open_lines[order, sku] = merged = {"order": order, "date": line.date, "channel": channel, "sku": sku,
                                                   "qty": 0.0, "region": line.region or None, "status": "open"}
                plan.orders.append(merged)
            merged["qty"] = float(merged["qty"]) + line.qty
            added = True
        if sold and line.state == CANCELLED:
            plan.issues.append(rows.finding(
                "import-line-changed", line.row, None,
                f"{key} was imported as sold, and the export now shows it cancelled; nothing is undone: "
                "if the goods came back, record a return.", line.key))
        plan.tally[CHANGED if closed else NEW if added else NOTHING if line.state == CANCELLED and booked is None and not sold
                   else ALREADY] += 1


def plan_counts(lines: list, known: Known, plan: Plan, rows_file: Rows) -> None:
    """Counts rows for the counted lines not in the Counts sheet yet (its key: day, location, SKU, batch)."""
    for line in lines:
        key = (line.date, canonical_code(line.location), line.sku, canonical_code(line.batch) if line.batch else "")
        before = known.counts.get(key)
        if before is None:
            plan.counts.append({"date": line.date, "location": line.location, "sku": line.sku, "batch": line.batch or None,
                                "counted_qty": line.counted_qty, "counter": line.counter or None, "bin": line.bin or None})
            known.counts[key] = line.counted_qty
            plan.tally[NEW] += 1
        elif before == line.counted_qty:
            plan.tally[ALREADY] += 1
        else:
            plan.tally[REFUSED] += 1
            plan.issues.append(rows_file.finding(
                "import-line-changed", line.row, None,
                f"{line.sku} at {line.location} on {line.date:%Y-%m-%d} is already on Counts as {before:g}, "
                f"the list says {line.counted_qty:g}; correct the Counts row by hand if the list is right.",
                line.counted_qty))


def _move(movement_id: str, line: Line, kind: str, sku: str, channel: str, *, from_location: str | None = None,
          note: str = "") -> dict[str, object]:
    return {"movement_id": movement_id, "date": line.date, "type": kind, "sku": sku, "qty": line.qty,
            "from_location": from_location, "reference": line.order, "channel": channel, "note": note or None}


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
