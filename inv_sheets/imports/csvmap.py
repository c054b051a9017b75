"""Any other order export, read through a column map: which of the file's headers holds the order,
the date, the SKU (or listing name), the quantity and, optionally, the line and the status.

A map is kept in the workbook's Import Maps sheet under a name (map, field, header per row), so the
file is recognised by its headers the next time and needs no flags. The status words are the
common ones (completed, shipped, processing, cancelled, refunded ...); without a status column
every line is a sale.
"""

from __future__ import annotations

from ..contract.issues import Issue
from .core import FULFILLED, Line, Rows, day_and_qty, has, key_part, state_of, text

NAME = "csv"
DATE_ORDER = None
FIELDS = ("order", "line", "date", "sku", "listing", "qty", "status", "channel")
REQUIRED = ("order", "date", "qty")


def check_map(mapping: dict[str, str]) -> str | None:
    """Why a map cannot be used (None when it can)."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        return f"unknown fields in the column map: {', '.join(unknown)} (the fields are {', '.join(FIELDS)})"
    missing = [f for f in REQUIRED if f not in mapping]
    if missing or not ({"sku", "listing"} & set(mapping)):
        need = missing + ([] if {"sku", "listing"} & set(mapping) else ["sku or listing"])
        return f"the column map needs {', '.join(need)}"
    return None


def fits(rows: Rows, mapping: dict[str, str]) -> bool:
    """Whether the file has every header the map names."""
    return bool(mapping) and has(rows, *mapping.values())


def lines(rows: Rows, date_order: str | None, mapping: dict[str, str]) -> tuple[list[Line], list[Issue]]:
    out, issues = [], []
    count: dict[str, int] = {}
    for i, record in enumerate(rows.records):
        order = text(record, mapping["order"])
        if not order:
            continue
        status = text(record, mapping["status"]) if "status" in mapping else ""
        state = state_of(status) if status else FULFILLED
        if state is None:
            issues.append(rows.finding("import-bad-line", rows.rows[i], mapping["status"],
                                       f"the status {status!r} is not one the import knows (completed, shipped, "
                                       "processing, cancelled, refunded ...); the line is not imported.", status))
            continue
        read = day_and_qty(rows, i, mapping["date"], mapping["qty"], date_order)
        if isinstance(read, Issue):
            issues.append(read)
            continue
        day, qty = read
        count[order] = count.get(order, 0) + 1
        line = key_part(text(record, mapping["line"])) if "line" in mapping else f"line{count[order]}"
        out.append(Line(f"{key_part(order)}:{line}", order, day, text(record, mapping["sku"]) if "sku" in mapping else "",
                        text(record, mapping["listing"]) if "listing" in mapping else "", qty, state, rows.rows[i]))
    return out, issues
