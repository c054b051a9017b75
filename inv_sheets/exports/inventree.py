"""InvenTree: categories, locations, parts, suppliers, BOM items, then stock items.

InvenTree's importer matches columns by field name and wants related records as numeric database
ids, not names. A migration goes into a new, empty InvenTree, which numbers the records of each
kind 1, 2, 3, ... in the order they are imported; the files are written in that order and refer
to each other by those ids. ID-MAP.csv lists every id with the name or SKU it stands for: if the
database was not empty, check the ids it gave and adjust the files before the next step.

Variants: a product with several SKUs becomes a template part (is_template) and each SKU a part
with variant_of. Stock items carry batch, expiry (ISO) and purchase_price (the unit cost); each row
creates a new stock item, so import the file once. InvenTree has no supplier lead time, no
per-location rules and one part-wide minimum_stock.
"""

from __future__ import annotations

from .common import Files, Target, fmt_bool, fmt_date
from .snapshot import Snapshot, display_names, item_rules, variant_groups

SCREEN = "Admin center > Data import > new import session (model: {model}), upload, map, confirm every row"


def _ids(keys) -> dict:
    return {k: n for n, k in enumerate(keys, start=1)}


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, names = snap.items, display_names(snap.items)
    id_map: list[list[object]] = []
    cats = _ids(sorted(items["category"].dropna().astype(str).unique()))
    if cats:
        files.csv("part_categories.csv", ["name", "description"], [[c, c] for c in cats],
                  purpose="Part categories (ids 1.. in this order).", screen=SCREEN.format(model="Part Category"))
        id_map += [["category", n, c] for c, n in cats.items()]
    locs = _ids(list(snap.locations.index))
    loc_rows = [[code, snap.locations.at[code, "name"], None] for code in locs]
    for loc, bin_ in snap.stock[["location", "bin"]].dropna().drop_duplicates().itertuples(index=False):
        locs[(loc, bin_)] = len(locs) + 1
        loc_rows.append([bin_, f"Bin {bin_} at {loc}", locs[loc]])
    files.csv("stock_locations.csv", ["name", "description", "parent"], loc_rows,
              purpose="Stock locations, bins as child locations (ids 1.. in this order).",
              screen=SCREEN.format(model="Stock Location"))
    id_map += [["location", n, k if isinstance(k, str) else f"{k[0]} / {k[1]}"] for k, n in locs.items()]

    group = variant_groups(items)
    multi = group.map(group.value_counts()) > 1
    parts: dict[str, int] = {}
    rows = []
    bundles = set(snap.bundles["bundle_sku"]) if len(snap.bundles) else set()
    rules = item_rules(snap)["reorder_point"]
    for product in dict.fromkeys(group[multi]):
        first = items[group == product].iloc[0]
        parts["template:" + product] = len(parts) + 1
        rows.append([product, product, None, cats.get(first["category"]), first["unit"], None, None, None,
                     "true", None, "true", "true", "false", "true", "false"])
    for sku, it in items.iterrows():
        parts[sku] = len(parts) + 1
        tracked = it["tracking"] in ("batch", "expiry")
        rows.append([names[sku], it["variant"] if isinstance(it["variant"], str) else names[sku], sku,
                     cats.get(it["category"]), it["unit"], rules.get(sku), locs.get(it["home"]),
                     it["shelf_life_days"], "false",
                     parts.get("template:" + group[sku]) if multi[sku] else None,
                     fmt_bool(True, "true", "false"), fmt_bool(it["status"] != "discontinued", "true", "false"),
                     fmt_bool(tracked, "true", "false"), fmt_bool(it["status"] != "discontinued", "true", "false"),
                     fmt_bool(sku in bundles, "true", "false")])
    files.csv("parts.csv", ["name", "description", "IPN", "category", "units", "minimum_stock", "default_location",
                              "default_expiry", "is_template", "variant_of", "purchaseable", "salable", "trackable",
                              "active", "assembly"], rows,
              purpose="Parts: template parts for products with variants, then one part per SKU (ids 1.. in order).",
              screen=SCREEN.format(model="Part"))
    id_map += [["part", n, k] for k, n in parts.items()]
    _suppliers(snap, files, parts, id_map)
    if len(snap.bundles):
        files.csv("bom_items.csv", ["part", "sub_part", "quantity"],
                  [[parts[b.bundle_sku], parts[b.component_sku], b.qty] for b in snap.bundles.itertuples()],
                  purpose="Bundles as BOM items of assembly parts.", screen=SCREEN.format(model="BOM Item"))
    s = snap.stock
    files.csv("stock_items.csv", ["part", "quantity", "location", "batch", "expiry_date", "purchase_price"],
              [[parts[r.sku], r.qty, locs[(r.location, r.bin)] if isinstance(r.bin, str) else locs[r.location],
                r.batch, fmt_date(r.expiry), r.unit_cost] for r in s.itertuples()],
              purpose="Opening stock: one stock item per part, location and batch, with expiry and unit cost. "
                      "Each row creates stock: import it once.", screen=SCREEN.format(model="Stock Item"))
    files.csv("ID-MAP.csv", ["kind", "id", "stands_for"], id_map,
              purpose="Reference, not an import: the id each record gets in a new, empty InvenTree.",
              screen="(none: check the ids InvenTree gave after each step)", numbered=False)


def _suppliers(snap: Snapshot, files: Files, parts: dict[str, int], id_map: list) -> None:
    sup = snap.suppliers
    if not len(sup):
        return
    companies = _ids(list(sup.index))
    files.csv("companies.csv", ["name", "email", "is_supplier", "is_customer"],
              [[sup.at[s, "name"] if isinstance(sup.at[s, "name"], str) else s, sup.at[s, "email"], "true", "false"]
               for s in companies],
              purpose="Suppliers, as companies.", screen=SCREEN.format(model="Company"))
    id_map += [["company", n, s] for s, n in companies.items()]
    linked = snap.items[snap.items["supplier"].isin(companies)]
    if len(linked):
        files.csv("supplier_parts.csv", ["part", "supplier", "SKU", "pack_quantity"],
                  [[parts[sku], companies[it["supplier"]], it["supplier_sku"] if isinstance(it["supplier_sku"], str) else sku,
                    it["case_pack"]] for sku, it in linked.iterrows()],
                  purpose="Which supplier supplies each part, under which code.", screen=SCREEN.format(model="Supplier Part"))


TARGET = Target(
    name="inventree", title="InvenTree", build=build, docs="docs/export/inventree.md",
    lost={
        "channels": "InvenTree has no sales channels",
        "price": "sale prices are price breaks in InvenTree; enter them per part",
        "min_order_qty": "no minimum order quantity in the imports used",
        "max_stock": "only a part-wide minimum stock (maximum stock only in the newest versions)",
        "safety_stock": "only a part-wide minimum stock",
        "per_location_rules": "InvenTree has no per-location reorder rules",
        "lead_time": "InvenTree has no supplier lead time",
        "min_order_value": "InvenTree has no supplier minimum order value",
        "location_kinds": "stock locations have no kind or sellable flag in the import",
    },
)
