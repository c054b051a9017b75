"""Zoho Inventory: vendors, then items with their opening stock, then stock in further warehouses.

Zoho maps the columns in its import screen (Configure, Map Fields, Preview), so the headers are
Zoho's own names for automatic mapping, not a strict template. The items file takes one opening
stock per item, in one warehouse: each item's largest position goes there (Opening Stock, with
Opening Stock Value as the rate per unit, which is how Zoho's item form and API define it), and its
stock in every other warehouse goes into an inventory adjustments file, one row per item and
warehouse. Zoho's CSV import has no lots, expiry, bins or composite items, and variants would
need item groups whose import format is not known: each variant is its own item, named
"<name> - <variant>".
"""

from __future__ import annotations

from .common import Files, Target, fmt_bool, fmt_date
from .snapshot import Snapshot, display_names, item_rules, supplier_names

ITEM_HEADER = ["Item Name", "SKU", "Sales Description", "Selling Price", "Is Returnable Item", "UPC", "EAN",
               "Part Number", "Product Type", "Item Type", "Sales Account", "Purchase Account",
               "Inventory Account", "Unit", "Purchase Description", "Purchase Price", "Reorder Level",
               "Preferred Vendor", "Opening Stock", "Opening Stock Value", "Warehouse Name", "Status"]
VENDOR_HEADER = ["Display Name", "Company Name", "EmailID"]
ADJUSTMENT_HEADER = ["Date", "Reference Number", "Reason", "Adjustment Type", "Item Name", "SKU",
                     "Warehouse Name", "Quantity Adjusted", "Cost Price"]


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, names = snap.items, display_names(snap.items)
    warehouse = snap.locations["name"]
    sup_name = supplier_names(snap)
    if len(snap.suppliers):
        files.csv("vendors.csv", VENDOR_HEADER,
                  [[sup_name[s], sup_name[s], e] for s, e in zip(snap.suppliers.index, snap.suppliers["email"])],
                  purpose="Vendors (Preferred Vendor in the items file must match them).",
                  screen="Purchases > Vendors > More (⋯) > Import Vendors")
    by_place = snap.stock.groupby(["sku", "location"], sort=False)["qty"].sum().reset_index()
    by_place = by_place.sort_values(["sku", "qty"], ascending=[True, False], kind="stable")
    opening = by_place.drop_duplicates("sku").set_index("sku")
    home_rule = item_rules(snap)["reorder_point"]
    rows = []
    for sku, it in items.iterrows():
        barcode = it["barcode"] if isinstance(it["barcode"], str) else None
        upc = barcode if barcode and len(barcode) == 12 and barcode.isdigit() else None
        ean = barcode if barcode and len(barcode) in (8, 13, 14) and barcode.isdigit() else None
        qty = opening["qty"].get(sku)
        rows.append([names[sku], sku, None, it["price"], fmt_bool(True), upc, ean,
                     barcode if barcode and not (upc or ean) else None, "goods", "Inventory", "Sales",
                     "Cost of Goods Sold", "Inventory Asset", it["unit"], None, it["unit_cost"],
                     home_rule.get(sku), sup_name.get(it["supplier"]) if isinstance(it["supplier"], str) else None,
                     qty, it["unit_cost"] if qty is not None else None,
                     warehouse.get(opening["location"][sku]) if qty is not None else None,
                     "Inactive" if it["status"] == "discontinued" else "Active"])
    files.csv("items.csv", ITEM_HEADER, rows,
              purpose="Items with prices, cost, reorder level, vendor and the opening stock of their main warehouse "
                      "(Opening Stock Value = cost per unit).",
              screen="Inventory > Items > More (⋯) > Import Items")
    rest = by_place.drop(index=by_place.drop_duplicates("sku").index)
    if len(rest):
        when = fmt_date(snap.as_of)
        files.csv("inventory_adjustments.csv", ADJUSTMENT_HEADER,
                  [[when, "OPENING", "Opening stock", "Quantity", names[r.sku], r.sku, warehouse.get(r.location),
                    r.qty, items.at[r.sku, "unit_cost"]] for r in rest.itertuples()],
                  purpose="Opening stock in every further warehouse, as quantity adjustments.",
                  screen="Inventory > Inventory Adjustments > More (⋯) > Import Adjustments")


TARGET = Target(
    name="zoho", title="Zoho Inventory", build=build, docs="docs/export/zoho.md",
    lost={
        "channels": "Zoho has no per-channel stock buffers",
        "variant_groups": "item groups' import format is not known: each variant is imported as its own item",
        "category": "Zoho's item import only matches existing categories and the column is not confirmed",
        "case_pack": "no order multiple on a Zoho item",
        "min_order_qty": "no minimum order quantity on a Zoho item",
        "max_stock": "Zoho holds a reorder level only",
        "safety_stock": "Zoho holds a reorder level only",
        "per_location_rules": "Zoho's CSV holds one reorder level per item, not per warehouse",
        "bins": "no bin locations in the CSV import",
        "tracking": "batch or expiry tracking is not in the CSV import: switch it on per item in Zoho",
        "shelf_life": "no shelf life on a Zoho item",
        "batches": "no batch numbers in the CSV import: stock is imported per warehouse",
        "expiry": "no expiry dates in the CSV import",
        "supplier_sku": "no supplier item code in the items import",
        "lead_time": "Zoho vendors have no lead time",
        "min_order_value": "Zoho vendors have no minimum order value",
        "location_kinds": "warehouses have no kind or sellable flag",
        "bundles": "composite items have no known CSV import: create them in Zoho by hand",
    },
)
