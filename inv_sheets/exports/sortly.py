"""Sortly: one items file, an entry per SKU, location (folder), bin (subfolder) and batch.

Sortly keeps items in folders, so the same SKU at two locations is two entries; a bin is a
subfolder of its location's folder. There is no SKU field (Sortly makes its own ids) and no cost:
an entry has one Price, and Sortly's Value is quantity x Price. Price carries the unit cost so that
Value is the stock's value, as in the workbook; the SKU, batch and selling price go into Notes.
Min Level holds the reorder point of that SKU at that location. Dates are ISO (YYYY-MM-DD).
"""

from __future__ import annotations

import pandas as pd

from .common import Files, Target, fmt_date, fmt_number
from .snapshot import Snapshot

HEADER = ["Entry Name", "Variant Details", "Quantity", "Unit", "Min Level", "Price", "Value", "Notes", "Tags",
          "Barcode/QR1-Data", "Primary Folder", "Subfolder-level1", "Expiry Date"]


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, loc_name = snap.items, snap.locations["name"]
    rules = snap.rules.set_index(["sku", "location"])["reorder_point"] if len(snap.rules) else pd.Series(dtype=float)
    rows = []
    for r in snap.stock.itertuples():
        it = items.loc[r.sku]
        notes = [f"SKU: {r.sku}"] + ([f"Batch: {r.batch}"] if isinstance(r.batch, str) else []) + \
            ([f"Selling price: {fmt_number(it['price'])}"] if pd.notna(it["price"]) else [])
        rows.append([it["name"], it["variant"], r.qty, it["unit"], rules.get((r.sku, r.location)), r.unit_cost,
                     r.value, "; ".join(notes), it["category"], it["barcode"], loc_name.get(r.location),
                     r.bin if isinstance(r.bin, str) else None, fmt_date(r.expiry)])
    files.csv("Sortly_Import.csv", HEADER, rows,
              purpose="Items per folder (location) and subfolder (bin), with quantity, cost as Price, min level "
                      "and expiry.", screen="Items > Import (⋯ menu) > Bulk import > upload, then map the columns")


TARGET = Target(
    name="sortly", title="Sortly", build=build, bom=True, docs="docs/export/sortly.md",
    lost={
        "channels": "Sortly has no sales channels",
        "variant_groups": "no variant grouping: each SKU is its own entry (Variant Details keeps the text)",
        "price": "one Price per entry, used for the cost; the selling price is kept in Notes only",
        "discontinued": "no item status in Sortly",
        "item_supplier": "Sortly has no suppliers",
        "supplier_sku": "Sortly has no suppliers",
        "case_pack": "no order multiples",
        "min_order_qty": "no minimum order quantities",
        "max_stock": "Min Level is Sortly's only reorder setting",
        "safety_stock": "Min Level is Sortly's only reorder setting",
        "tracking": "no batch tracking in Sortly",
        "shelf_life": "no shelf life in Sortly",
        "batches": "no batches: each batch is its own entry, with its code in Notes",
        "suppliers": "Sortly has no suppliers",
        "supplier_email": "Sortly has no suppliers",
        "lead_time": "Sortly has no suppliers",
        "min_order_value": "Sortly has no suppliers",
        "location_kinds": "folders have no kind or sellable flag",
        "bundles": "Sortly has no kits or bills of materials",
    },
)
