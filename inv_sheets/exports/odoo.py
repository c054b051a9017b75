"""Odoo Inventory (16 to 19): one CSV per model, headers are the fields' technical names.

Technical names rather than labels because Odoo's import matches either, and the labels change
between versions ("Unit of Measure" became "Unit"); the product type is the one switch that
needs the version: up to 17 a stocked product is type `product` ("Storable Product"), from 18 it
is type `consu` ("Goods") with `is_storable` set.

Variants the Odoo way: one product.attribute per variant axis (named "Option 1", "Option 2", ...
because the workbook's variant text holds values, not axis names), a product.template per product
with its attribute lines (Odoo then generates the variants), and from Odoo 19 a product.product
file that gives each generated variant its SKU, barcode and cost, found by
`import_attribute_values` (a field Odoo 19 added; 16 to 18 have no way to find a generated
variant by its values in an import, so there the variants' SKUs are a loss to enter by hand).

Names that are also keys (a category in `All / <name>`, a location in `WH/Stock/<code>/<bin>`, an
attribute value in `Option 1:<value>`) are neutralised part by part exactly as their own file
writes them (common.neutralise), so a name like "@home mug" stays the same key everywhere.

Opening stock is a stock.quant import of `inventory_quantity` (the counted quantity, which SETS
the quantity once "Apply" is pressed), one row per product, location and lot: Odoo does not merge
rows during an import, so two rows for one place would add up. Odoo has no cost on a quant; stock
is valued at the product's cost (`standard_price`), which the product files carry. Lots with their
expiry come first (stock.lot), because the quant import creates a missing lot without its expiry.
Locations: each workbook location becomes WH/Stock/<code>, and a bin a child of it.
"""

from __future__ import annotations

import pandas as pd

from .common import Files, Target, fmt_date, fmt_number, neutralise
from .snapshot import Snapshot, display_names, split_variant, supplier_names, variant_groups

ROOT = "WH/Stock"  # the default warehouse's stock location in a new Odoo database
ATTRIBUTE_VALUES_FROM = 19  # product.product.import_attribute_values exists from this version


def location_path(location: str, bin_: object = None) -> str:
    """The Odoo location a workbook location (and bin) becomes."""
    path = f"{ROOT}/{neutralise(location)}"
    return f"{path}/{neutralise(bin_)}" if isinstance(bin_, str) and bin_ else path


def templates(snap: Snapshot) -> pd.DataFrame:
    """Per SKU: its template name, whether it is one variant of several, and its attribute values."""
    items = snap.items
    group = variant_groups(items)
    multi = group.map(group.value_counts()) > 1
    names = display_names(items)
    return pd.DataFrame({"template": group.where(multi, names), "is_variant": multi,
                         "axis_values": items["variant"].map(split_variant)}, index=items.index)


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    v = int(version or 18)
    items, tpl = snap.items, templates(snap)
    screen = "the model's list view: Favorites (star menu) > Import records"
    if items["category"].notna().any():
        cats = sorted(items["category"].dropna().astype(str).unique())
        files.csv("product.category.csv", ["name", "parent_id"], [[c, "All"] for c in cats],
                  purpose="Product categories, under All.", screen=f"Inventory > Configuration > Product Categories; {screen}")
    rows = []
    for loc in snap.locations.index:
        rows.append([loc, ROOT, "internal"])
    for loc, bin_ in snap.stock[["location", "bin"]].dropna().drop_duplicates().itertuples(index=False):
        rows.append([bin_, location_path(loc), "internal"])
    files.csv("stock.location.csv", ["name", "location_id", "usage"], rows,
              purpose=f"Locations (under {ROOT}) and their bins.",
              screen=f"Inventory > Configuration > Locations; {screen}")
    if len(snap.suppliers):
        files.csv("res.partner.csv", ["name", "email", "is_company"],
                  [[r.name if isinstance(r.name, str) else r.supplier, r.email, 1] for r in snap.suppliers.itertuples()],
                  purpose="Vendors (companies).", screen=f"Contacts; {screen}")
    _products(snap, files, tpl, v, screen)
    _supplierinfo(snap, files, tpl, screen)
    _stock(snap, files, screen)
    _orderpoints(snap, files, screen)
    _kits(snap, files, tpl, screen)


def _products(snap: Snapshot, files: Files, tpl: pd.DataFrame, v: int, screen: str) -> None:
    items = snap.items
    variants = tpl[tpl["is_variant"]]
    axes = max((len(x) for x in variants["axis_values"]), default=0)
    if axes:
        rows = []
        for i in range(axes):
            values = sorted({x[i] for x in variants["axis_values"] if len(x) > i})
            for n, value in enumerate(values):
                rows.append([f"Option {i + 1}" if n == 0 else None, "always" if n == 0 else None, value])
        files.csv("product.attribute.csv", ["name", "create_variant", "value_ids/name"], rows,
                  purpose="Variant attributes and their values (rename Option N in Odoo afterwards if you like).",
                  screen=f"Inventory > Configuration > Attributes; {screen}")
    header = ["name", "type", *(["is_storable"] if v >= 18 else []), "tracking", "use_expiration_date",
              "expiration_time", "default_code", "barcode", "list_price", "standard_price", "categ_id", "uom_id",
              "sale_ok", "purchase_ok", "attribute_line_ids/attribute_id", "attribute_line_ids/value_ids"]
    rows, priced = [], 0
    for template, members in tpl.groupby("template", sort=False):
        its = items.loc[members.index]
        first = its.iloc[0]
        single = not bool(members["is_variant"].iloc[0])
        tracking = "lot" if its["tracking"].isin(["batch", "expiry"]).any() else "none"
        expiry = bool((its["tracking"] == "expiry").any())
        row = {"name": template, "type": "consu" if v >= 18 else "product", "is_storable": 1, "tracking": tracking,
               "use_expiration_date": 1 if expiry else None,
               "expiration_time": first["shelf_life_days"] if expiry else None,
               "default_code": first["sku"] if single else None, "barcode": first["barcode"] if single else None,
               "list_price": its["price"].min(), "standard_price": first["unit_cost"] if single else None,
               "categ_id": f"All / {neutralise(first['category'])}" if isinstance(first["category"], str) else None,
               "uom_id": _uom(first["unit"]), "sale_ok": 0 if (its["status"] == "discontinued").all() else 1,
               "purchase_ok": 1}
        priced += int(its["price"].nunique() > 1)
        lines = [] if single else _attribute_lines(members["axis_values"])
        rows.append([row.get(h) for h in header[:-2]] + (list(lines[0]) if lines else [None, None]))
        rows += [[None] * (len(header) - 2) + list(line) for line in lines[1:]]
    files.csv("product.template.csv", header, rows,
              purpose="Products (templates), with cost, price, tracking and variant attribute lines.",
              screen=f"Inventory > Products > Products; {screen}")
    files.lose("variant price differences", priced,
               "Odoo keeps one sales price per product template (the lowest is exported); add the differences "
               "as extra prices on the attribute values")
    if len(variants) and v < ATTRIBUTE_VALUES_FROM:
        files.lose("SKU, barcode and cost of each variant", len(variants),
                   f"Odoo {v} cannot find a generated variant by its attribute values in an import "
                   f"(import_attribute_values exists from Odoo {ATTRIBUTE_VALUES_FROM}): enter them in "
                   "Inventory > Products > Product Variants")
    elif len(variants):
        vrows = [[t["template"], ",".join(f"Option {i + 1}:{neutralise(x)}" for i, x in enumerate(t["axis_values"])), sku,
                  items.at[sku, "barcode"], items.at[sku, "unit_cost"]]
                 for sku, t in variants.iterrows()]
        files.csv("product.product.csv",
                  ["product_tmpl_id", "import_attribute_values", "default_code", "barcode", "standard_price"], vrows,
                  purpose="Each generated variant's SKU (Internal Reference), barcode and cost.",
                  screen=f"Inventory > Products > Product Variants; {screen}")


def _attribute_lines(values: pd.Series) -> list[tuple[str, str]]:
    axes = max(len(x) for x in values)
    return [(f"Option {i + 1}", ",".join(sorted({neutralise(x[i]) for x in values if len(x) > i}))) for i in range(axes)]


def _uom(unit: object) -> str:
    if not isinstance(unit, str) or unit.strip().lower() in ("", "each", "ea", "pcs", "pc", "unit", "units"):
        return "Units"
    return unit


def _supplierinfo(snap: Snapshot, files: Files, tpl: pd.DataFrame, screen: str) -> None:
    items = snap.items[snap.items["supplier"].notna()]
    if not len(items):
        return
    names = supplier_names(snap)
    lead = snap.suppliers["lead_time"] if len(snap.suppliers) else pd.Series(dtype=float)
    rows = [[names.get(it.supplier, it.supplier), tpl.at[sku, "template"], sku if tpl.at[sku, "is_variant"] else None,
             it.supplier_sku, it.min_order_qty, it.unit_cost, lead.get(it.supplier)]
            for sku, it in items.iterrows()]
    files.csv("product.supplierinfo.csv",
              ["partner_id", "product_tmpl_id", "product_id", "product_code", "min_qty", "price", "delay"], rows,
              purpose="Vendor lines: supplier, supplier's code, minimum quantity, price and lead time (days).",
              screen=f"Purchase > Configuration > Vendor Pricelists; {screen}")


def _stock(snap: Snapshot, files: Files, screen: str) -> None:
    s = snap.stock
    lots = s[s["batch"].notna()].drop_duplicates(["sku", "batch"])
    if len(lots):
        files.csv("stock.lot.csv", ["name", "product_id", "expiration_date"],
                  [[r.batch, r.sku, fmt_date(r.expiry, "%Y-%m-%d 00:00:00")] for r in lots.itertuples()],
                  purpose="Lots with their expiry dates (before the quants, which would create lots without expiry).",
                  screen=f"Inventory > Products > Lots/Serial Numbers; {screen}")
    quants = s.assign(where=[location_path(l, b) for l, b in zip(s["location"], s["bin"])])
    quants = quants.groupby(["sku", "where", "batch"], dropna=False, sort=False)["qty"].sum().reset_index()
    files.csv("stock.quant.csv", ["product_id", "location_id", "lot_id", "inventory_quantity"],
              [[r.sku, r.where, r.batch if isinstance(r.batch, str) else None, fmt_number(r.qty)]
               for r in quants.itertuples()],
              purpose="Opening stock: counted quantity per product, location and lot. After importing, select "
                      "all lines and press Apply (until then nothing is in stock).",
              screen=f"Inventory > Operations > Physical Inventory; {screen}")


def _orderpoints(snap: Snapshot, files: Files, screen: str) -> None:
    r = snap.rules
    r = r[r["reorder_point"].notna() | r["max_stock"].notna()]
    if not len(r):
        return
    low = r["reorder_point"].fillna(0.0)
    high = r["max_stock"].where(r["max_stock"].notna(), low).clip(lower=low)
    rows = [[sku, location_path(loc), lo, hi, mult if mult == mult else 1, "auto"]
            for sku, loc, lo, hi, mult in zip(r["sku"], r["location"], low, high, r["multiple"])]
    files.csv("stock.warehouse.orderpoint.csv",
              ["product_id", "location_id", "product_min_qty", "product_max_qty", "qty_multiple", "trigger"], rows,
              purpose="Reorder rules (min, max, multiple) per product and location.",
              screen=f"Inventory > Operations > Replenishment; {screen}")


def _kits(snap: Snapshot, files: Files, tpl: pd.DataFrame, screen: str) -> None:
    b = snap.bundles
    if not len(b):
        return
    rows = []
    for bundle, lines in b.groupby("bundle_sku", sort=True):
        for n, line in enumerate(lines.itertuples()):
            head = [tpl.at[bundle, "template"], bundle if tpl.at[bundle, "is_variant"] else None, "phantom", 1] \
                if n == 0 else [None] * 4
            rows.append(head + [line.component_sku, line.qty])
    files.csv("mrp.bom.csv", ["product_tmpl_id", "product_id", "type", "product_qty",
                                 "bom_line_ids/product_id", "bom_line_ids/product_qty"], rows,
              purpose="Bundles as kits (BoM type Kit); needs the Manufacturing app.",
              screen=f"Manufacturing > Products > Bills of Materials; {screen}")


TARGET = Target(
    name="odoo", title="Odoo", build=build, versions=("16", "17", "18", "19"), default_version="18",
    docs="docs/export/odoo.md",
    lost={
        "channels": "Odoo's inventory has no per-channel stock buffers",
        "safety_stock": "Odoo reorder rules hold min, max and multiple only: add safety stock into the min",
        "min_order_value": "vendor pricelists have no minimum order value",
        "location_kinds": "every location is imported as an internal location: mark return or scrap locations "
                          "in Odoo by hand",
    },
)
