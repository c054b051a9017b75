"""inFlow Inventory (Cloud): vendors, products, vendor product details, BOMs, reorder settings, stock levels.

inFlow's import (Settings > Import data) takes one file per kind, named and headed like its own
exports (inFlow_ProductDetails.csv with ProductName, BarCode, Uom, ...), matches products by name,
and writes booleans as True/False. A product name must be unique, so each variant is
"<name> - <variant>". Opening stock goes per location and sublocation (the workbook's bin); inFlow
tracks serial numbers but no batches or expiry, so batches of one SKU at one place are summed. Cost
lives on the product (Cost), as the workbook's unit cost. The files carry a byte-order mark:
inFlow's own exports are opened in Excel, which reads a BOM-less UTF-8 file as the local code page.
"""

from __future__ import annotations

import pandas as pd

from .common import Files, Target, fmt_bool
from .snapshot import Snapshot, display_names, item_rules, supplier_names

SCREEN = "Settings (gear) > Import data > choose the kind of data > upload"


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, names = snap.items, display_names(snap.items)
    loc_name = snap.locations["name"]
    sup = snap.suppliers
    sup_name = supplier_names(snap)
    if len(sup):
        files.csv("inFlow_Vendor.csv", ["Name", "Email"], [[sup_name[s], e] for s, e in zip(sup.index, sup["email"])],
                  purpose="Vendors.", screen=f"{SCREEN} (Vendors)")
    rules = item_rules(snap)
    rows = []
    for sku, it in items.iterrows():
        rop, top = rules["reorder_point"].get(sku), rules["max_stock"].get(sku)
        rows.append([names[sku], sku, it["category"], it["variant"], it["barcode"], it["unit"], it["price"],
                     it["unit_cost"], rop, top - rop if pd.notna(top) and pd.notna(rop) else None,
                     fmt_bool(it["status"] != "discontinued", "True", "False")])
    files.csv("inFlow_ProductDetails.csv",
              ["ProductName", "SKU", "Category", "Description", "BarCode", "Uom", "DefaultUnitPrice", "Cost",
               "ReorderPoint", "ReorderQuantity", "IsActive"], rows,
              purpose="Products with SKU, barcode, price, cost and reorder point.", screen=f"{SCREEN} (Products)")
    with_sup = items[items["supplier"].notna()]
    if len(with_sup):
        lead = sup["lead_time"] if len(sup) else pd.Series(dtype=float)
        files.csv("inFlow_VendorProductDetails.csv",
                  ["Product", "SKU", "Vendor", "VendorProductCode", "VendorPrice", "LeadTimeDays"],
                  [[names[sku], sku, sup_name.get(it["supplier"], it["supplier"]), it["supplier_sku"], it["unit_cost"],
                    lead.get(it["supplier"])] for sku, it in with_sup.iterrows()],
                  purpose="Which vendor supplies each product, at what price and lead time.",
                  screen=f"{SCREEN} (Vendor product details)")
    if len(snap.bundles):
        files.csv("inFlow_BOM.csv",
                  ["FinishedProduct", "FinishedProductSKU", "ComponentProduct", "ComponentProductSKU", "Quantity"],
                  [[names[b.bundle_sku], b.bundle_sku, names[b.component_sku], b.component_sku, b.qty]
                   for b in snap.bundles.itertuples()],
                  purpose="Bundles as bills of materials, one component per row.", screen=f"{SCREEN} (Bill of materials)")
    per = snap.rules[snap.rules["per_location"].astype(bool)] if len(snap.rules) else snap.rules
    if len(per):
        files.csv("inFlow_ReorderSettings.csv",
                  ["ProductName", "Location", "EnableReordering", "ReorderPoint", "ReorderQuantity"],
                  [[names[r.sku], loc_name.get(r.location), "True", r.reorder_point,
                    r.max_stock - r.reorder_point if pd.notna(r.max_stock) and pd.notna(r.reorder_point) else None]
                   for r in per.itertuples()],
                  purpose="Per-location reorder points.", screen=f"{SCREEN} (Reorder settings)")
    levels = snap.stock.groupby(["sku", "location", "bin"], dropna=False, sort=False)["qty"].sum().reset_index()
    files.csv("inFlow_StockLevels.csv", ["ProductName", "SKU", "Location", "Sublocation", "Quantity"],
              [[names[r.sku], r.sku, loc_name.get(r.location), r.bin if isinstance(r.bin, str) else None, r.qty]
               for r in levels.itertuples()],
              purpose="Opening stock per location and sublocation.", screen=f"{SCREEN} (Stock levels)")


TARGET = Target(
    name="inflow", title="inFlow Inventory", build=build, bom=True, docs="docs/export/inflow.md",
    lost={
        "channels": "inFlow has no per-channel buffers",
        "variant_groups": "each variant is its own product in inFlow (named with its variant)",
        "safety_stock": "inFlow holds a reorder point and reorder quantity only",
        "case_pack": "no order multiple in the product import",
        "min_order_qty": "no minimum order quantity in the product import",
        "tracking": "inFlow tracks serial numbers, not batches or expiry",
        "shelf_life": "no shelf life in inFlow",
        "batches": "no batches: quantities of one product at one place are summed",
        "expiry": "no expiry dates in inFlow",
        "min_order_value": "no vendor minimum order value in the import",
        "location_kinds": "locations have no kind or sellable flag in the import",
    },
)
