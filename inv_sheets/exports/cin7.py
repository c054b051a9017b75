"""Cin7 Core (formerly DEAR Inventory): products, assembly BOMs, then a stock adjustment.

Cin7 Core needs its templates' exact column names in the templates' order, so every header here is
the full template header, in order. Each variant is its own product, tied into a product family by
the ProductFamily* columns. Batches and expiry need a batch costing method: FEFO - Batch for items
tracked by expiry, FIFO - Batch for batch-tracked ones, FIFO otherwise.

Opening stock is a stock adjustment of "zero" stock lines (Cin7's words for adding stock where a
product has none yet), with bin, batch, expiry (YYYYMMDD, as the header says) and the unit cost of
each line. Reorder quantity is max_stock - reorder_point when both are given (Cin7 orders that many
when stock falls to the minimum).
"""

from __future__ import annotations

import pandas as pd

from .common import Files, Target, fmt_date
from .snapshot import (
    Snapshot,
    display_names,
    item_rules,
    slug,
    split_variant,
    supplier_names,
    variant_groups,
)

PRODUCT_HEADER = [
    "ProductCode", "Name", "Category", "Brand", "Type", "FixedAssetType", "CostingMethod", "Length", "Width",
    "Height", "Weight", "CartonLength", "CartonWidth", "CartonHeight", "CartonInnerQuantity", "CartonQuantity",
    "CartonVolume", "WeightUnits", "DimensionUnits", "Barcode", "MinimumBeforeReorder", "ReorderQuantity",
    "DefaultLocation", "LastSuppliedBy", "SupplierProductCode", "SupplierProductName", "SupplierFixedPrice",
    "DefaultUnitOfMeasure", "Status", "Description", "PurchaseTaxRule", "SaleTaxRule",
    *[f"PriceTier{i}" for i in range(1, 11)], "AutoAssemble", "AutoDisassemble", "DropShip", "DropShipSupplier",
    "AverageCost", "InventoryAccount", "RevenueAccount", "ExpenseAccount", "COGSAccount", "ProductAttributeSet",
    *[f"AdditionalAttribute{i}" for i in range(1, 11)], "DiscountName", "ProductFamilySKU", "ProductFamilyName",
    "ProductFamilyOption1Name", "ProductFamilyOption1Value", "ProductFamilyOption2Name", "ProductFamilyOption2Value",
    "ProductFamilyOption3Name", "ProductFamilyOption3Value", "CommaDelimitedTags", "StockLocator",
    "ShortDescription", "Sellable", "PickZones", "AlwaysShowQuantity", "WarrantySetupName", "InternalNote",
    "MakeToOrderBom", "IsAccountingDimensionEnabled", *[f"DimensionAttribute{i}" for i in range(1, 11)], "HSCode",
    "CountryOfOrigin"]
SUPPLIER_HEADER = [
    "Name", "Status", "Currency", "PaymentTerm", "TaxRule", "AccountPayable", "Carrier", "Discount", "TaxNumber",
    "AttributeSet", *[f"AdditionalAttribute{i}" for i in range(1, 11)], "Comments", "ContactName", "JobTitle",
    "Phone", "MobilePhone", "Fax", "Email", "Website", "ContactComment", "ContactDefault", "ContactIncludeInEmail",
    "IsAccountingDimensionEnabled", *[f"DimensionAttribute{i}" for i in range(1, 11)]]
BOM_HEADER = ["Action", "ProductSKU", "ProductName", "ComponentSKU", "ComponentName", "Quantity",
              "WastageQuantity_ForStockComponentOnly", "WastagePercent_ForStockComponentOnly",
              "CostPercentage_ForStockComponentOnly", "PriceTier_ForServiceComponentOnly",
              "ExpenseAccount_ForServiceComponentOnly", "EstimatedUnitCost"]
STOCK_HEADER = ["Zero/NonZero", "Location", "SKU", "Name", "Bin", "BatchSerialNumber", "ExpiryDate_YYYYMMDD",
                "Quantity", "UnitCost", "Comments", "ReceivedDate_YYYYMMDD"]
COSTING = {"expiry": "FEFO - Batch", "batch": "FIFO - Batch"}


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, names = snap.items, display_names(snap.items)
    loc_name = snap.locations["name"]
    sup_name = supplier_names(snap)
    if len(snap.suppliers):
        files.csv("Suppliers.csv", SUPPLIER_HEADER,
                  [[{"Name": sup_name[s], "Status": "Active", "Email": e}.get(h) for h in SUPPLIER_HEADER]
                   for s, e in zip(snap.suppliers.index, snap.suppliers["email"])],
                  purpose="Suppliers, so products can name their last supplier. Before importing, fill PaymentTerm, "
                          "TaxRule and AccountPayable (Cin7 requires them) and Currency with Cin7's own names.",
                  screen="Purchases > Suppliers > Import")
    rules = item_rules(snap)
    group = variant_groups(items)
    family = group.map(group.value_counts()) > 1
    rows = []
    for sku, it in items.iterrows():
        row = dict.fromkeys(PRODUCT_HEADER)
        rop = rules["reorder_point"].get(sku)
        top = rules["max_stock"].get(sku)
        row.update({"ProductCode": sku, "Name": names[sku], "Category": it["category"], "Type": "Stock",
                    "CostingMethod": COSTING.get(it["tracking"], "FIFO"), "Barcode": it["barcode"],
                    "MinimumBeforeReorder": rop,
                    "ReorderQuantity": top - rop if pd.notna(top) and pd.notna(rop) else None,
                    "DefaultLocation": loc_name.get(it["home"]),
                    "LastSuppliedBy": sup_name.get(it["supplier"]) if isinstance(it["supplier"], str) else None,
                    "SupplierProductCode": it["supplier_sku"], "DefaultUnitOfMeasure": it["unit"] if isinstance(it["unit"], str) else "Item",
                    "Status": "Deprecated" if it["status"] == "discontinued" else "Active",
                    "PriceTier1": it["price"]})
        if family[sku]:
            row.update({"ProductFamilySKU": slug(group[sku]).upper(), "ProductFamilyName": group[sku]})
            for i, value in enumerate(split_variant(it["variant"])[:3], start=1):
                row[f"ProductFamilyOption{i}Name"], row[f"ProductFamilyOption{i}Value"] = f"Option {i}", value
        rows.append([row[h] for h in PRODUCT_HEADER])
    files.csv("Products.csv", PRODUCT_HEADER, rows,
              purpose="Products (each variant its own product, grouped into families), costing method, reorder "
                      "levels, supplier and price.",
              screen="Inventory > Products > Import > Products")
    if len(snap.bundles):
        files.csv("AssemblyBOM.csv", BOM_HEADER,
                  [["Create/Update", b.bundle_sku, names[b.bundle_sku], b.component_sku, names[b.component_sku], b.qty]
                   + [None] * 6 for b in snap.bundles.itertuples()],
                  purpose="Bundles as assembly bills of materials, one component per row.",
                  screen="Inventory > Products > Import > Assembly BOM")
    received = fmt_date(snap.as_of, "%Y%m%d")
    files.csv("StockAdjustment.csv", STOCK_HEADER,
              [["Zero", loc_name.get(r.location), r.sku, names[r.sku], r.bin, r.batch, fmt_date(r.expiry, "%Y%m%d"),
                r.qty, r.unit_cost, "Opening balance from inv-sheets", received] for r in snap.stock.itertuples()],
              purpose="Opening stock per location, bin and batch, with unit cost (zero-stock lines add new stock).",
              screen="Inventory > Stock adjustments > New > Import (zero stock lines)")


TARGET = Target(
    name="cin7", title="Cin7 Core", build=build, docs="docs/export/cin7.md",
    lost={
        "channels": "no per-channel buffers in the product import",
        "per_location_rules": "per-location reorder levels exist only through Cin7's API, not its CSV",
        "safety_stock": "Cin7 holds a minimum before reorder and a reorder quantity only",
        "case_pack": "no order multiple in the product template",
        "min_order_qty": "no minimum order quantity in the product template",
        "shelf_life": "no shelf life in the product template (expiry is per batch)",
        "lead_time": "no supplier lead time in the templates used",
        "min_order_value": "no supplier minimum order value in the templates used",
        "location_kinds": "locations have no kind or sellable flag in the import",
    },
)
