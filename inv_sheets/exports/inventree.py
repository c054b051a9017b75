"""InvenTree: categories, locations, companies, parts, supplier parts, BOM items and stock items.

One plan (`plan`) is the definition of what the workbook becomes in InvenTree: a list of records,
each with its natural key (a category's name, a location's path, a part's IPN or a template's
name, a company's name, ...), its plain fields, and its references to other records by their
natural keys. Both ways into InvenTree read that plan: the import files written here, and the
direct push through the REST API (inventree_api.py).

InvenTree's importer wants every reference as the database id of a record that already exists,
and it validates every row of a file before it saves any. So the files never predict an id: a
record is written only when everything it refers to is already on the server, with the id the
server gave it (`keys`, read from the server by inventree_api.server_keys), and a record already
on the server is not written again. Without a server the export is the first round for an empty
InvenTree: the records that refer to nothing (top-level locations, categories, companies).
Importing a round's files, in any order of rows, and exporting again gives the next round; the
last round holds the stock. IMPORT-ORDER.txt says how many records wait for the next round.

Values the importer rejects are never written: a blank numeric cell (the default is written), a
unit InvenTree does not know (written blank, and counted as a loss).

Variants: a product with several SKUs becomes a template part (is_template) and each SKU a part
with variant_of. Stock items carry batch, expiry (ISO) and purchase_price (the unit cost) in the
currency given (`currency`), else the server's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from .common import Files, Target, fmt_date, neutralise
from .snapshot import Snapshot, display_names, item_rules, variant_groups

SCREEN = "Admin center > Data import > new import session (model: {model}), upload, check the mapping, accept the rows"

# Units of measure InvenTree's unit registry (pint) knows, as a shop writes them. Anything else
# ("set", "pack", "box") is rejected by InvenTree's importer: it is written blank (no unit).
KNOWN_UNITS = frozenset({
    "each", "pcs", "piece", "pieces", "kg", "g", "mg", "lb", "oz", "t", "l", "ml", "cl", "dl", "m", "cm", "mm",
    "km", "ft", "in", "yd", "m2", "m3", "ft2", "gal", "pint", "quart", "hour", "h", "min", "day", "dozen",
})

# The kinds of record, in the order InvenTree needs them, with their file and importer model.
KINDS: dict[str, tuple[str, str]] = {
    "category": ("part_categories.csv", "Part Category"),
    "location": ("stock_locations.csv", "Stock Location"),
    "company": ("companies.csv", "Company"),
    "part": ("parts.csv", "Part"),
    "supplier_part": ("supplier_parts.csv", "Supplier Part"),
    "bom_item": ("bom_items.csv", "BOM Item"),
    "stock_item": ("stock_items.csv", "Stock Item"),
}

LABELS = {"category": "categories", "location": "locations", "company": "companies", "part": "parts",
          "supplier_part": "supplier parts", "bom_item": "BOM lines", "stock_item": "stock items"}

HEADERS: dict[str, tuple[str, ...]] = {
    "category": ("name", "description"),
    "location": ("name", "description", "parent"),
    "company": ("name", "description", "email", "is_supplier", "is_customer", "currency"),
    "part": ("name", "description", "IPN", "category", "units", "minimum_stock", "default_location",
             "default_expiry", "is_template", "variant_of", "component", "purchaseable", "salable", "trackable",
             "active", "assembly"),
    "supplier_part": ("part", "supplier", "SKU", "pack_quantity"),
    "bom_item": ("part", "sub_part", "quantity"),
    "stock_item": ("part", "location", "quantity", "batch", "expiry_date", "purchase_price",
                   "purchase_price_currency"),
}

Key = tuple  # (kind, natural key): ("location", "MAIN/A1"), ("part", ("ipn", "TEE-M")), ...
Keys = Mapping[Key, int]  # the id the server gave each record it holds


@dataclass(frozen=True)
class Record:
    """One thing to create in InvenTree: its natural key, plain fields and references (field -> Key)."""

    kind: str
    key: object
    fields: dict
    refs: dict = field(default_factory=dict)

    @property
    def ident(self) -> Key:
        return (self.kind, self.key)


def part_key(sku: str) -> object:
    """A SKU's part: found by its IPN."""
    return ("ipn", sku)


def template_key(product: str) -> object:
    """A product's template part: found by its name (templates have no IPN)."""
    return ("name", product)


def unit_for(unit: object) -> str:
    """The unit written to InvenTree: the workbook's when InvenTree knows it, else blank."""
    text = unit.strip() if isinstance(unit, str) else ""
    return text if text.lower() in KNOWN_UNITS else ""


def stock_key(sku: str, path: str, batch: object, expiry: object) -> tuple:
    """One opening stock item: SKU, location path, batch ('' when none) and expiry (ISO, '' when none)."""
    return (sku, path, batch if isinstance(batch, str) else "", fmt_date(expiry))


def plan(snap: Snapshot, currency: str | None = None) -> list[Record]:
    """Every record the workbook becomes in InvenTree, in creation order (see the module)."""
    items, names = snap.items, display_names(snap.items)
    out: list[Record] = []
    for c in sorted(items["category"].dropna().astype(str).unique()):
        out.append(Record("category", c, {"name": c, "description": c}))
    for code in snap.locations.index:
        out.append(Record("location", code, {"name": code, "description": snap.locations.at[code, "name"]}))
    for loc, bin_ in snap.stock[["location", "bin"]].dropna().drop_duplicates().itertuples(index=False):
        out.append(Record("location", f"{loc}/{bin_}", {"name": bin_, "description": f"Bin {bin_} at {loc}"},
                          {"parent": ("location", loc)}))
    sup = snap.suppliers
    for s in sup.index:
        name = sup.at[s, "name"] if isinstance(sup.at[s, "name"], str) else s
        out.append(Record("company", name, {"name": name, "description": name, "email": sup.at[s, "email"],
                                            "is_supplier": True, "is_customer": False,
                                            **({"currency": currency} if currency else {})}))
    out += _parts(snap, names)
    company = {s: (sup.at[s, "name"] if isinstance(sup.at[s, "name"], str) else s) for s in sup.index}
    for sku, it in items[items["supplier"].isin(company)].iterrows():
        code = it["supplier_sku"] if isinstance(it["supplier_sku"], str) else sku
        pack = it["case_pack"] if pd.notna(it["case_pack"]) else 1
        out.append(Record("supplier_part", (sku, company[it["supplier"]]), {"SKU": code, "pack_quantity": pack},
                          {"part": ("part", part_key(sku)), "supplier": ("company", company[it["supplier"]])}))
    for b in snap.bundles.itertuples():
        out.append(Record("bom_item", (b.bundle_sku, b.component_sku), {"quantity": b.qty},
                          {"part": ("part", part_key(b.bundle_sku)), "sub_part": ("part", part_key(b.component_sku))}))
    for r in snap.stock.itertuples():
        path = f"{r.location}/{r.bin}" if isinstance(r.bin, str) else r.location
        out.append(Record("stock_item", stock_key(r.sku, path, r.batch, r.expiry),
                          {"quantity": r.qty, "batch": r.batch, "expiry_date": fmt_date(r.expiry),
                           "purchase_price": r.unit_cost, **({"purchase_price_currency": currency} if currency else {})},
                          {"part": ("part", part_key(r.sku)), "location": ("location", path)}))
    return out


def _parts(snap: Snapshot, names: pd.Series) -> list[Record]:
    items = snap.items
    group = variant_groups(items)
    multi = group.map(group.value_counts()) > 1
    bundles = set(snap.bundles["bundle_sku"]) if len(snap.bundles) else set()
    rules = item_rules(snap)["reorder_point"]
    out = []

    def place(value, kind):
        return {kind: (("category" if kind == "category" else "location"), value)} if isinstance(value, str) else {}

    for product in dict.fromkeys(group[multi]):
        first = items[group == product].iloc[0]
        out.append(Record("part", template_key(product),
                          {"name": product, "description": product, "IPN": "", "units": unit_for(first["unit"]),
                           "minimum_stock": 0, "default_expiry": 0, "is_template": True, "component": True,
                           "purchaseable": True, "salable": True, "trackable": False, "active": True,
                           "assembly": False},
                          place(first["category"], "category")))
    for sku, it in items.iterrows():
        selling = it["status"] != "discontinued"
        refs = {**place(it["category"], "category"), **place(it["home"], "default_location")}
        if multi[sku]:
            refs["variant_of"] = ("part", template_key(group[sku]))
        minimum = rules.get(sku)
        out.append(Record("part", part_key(sku),
                          {"name": names[sku], "description": it["variant"] if isinstance(it["variant"], str) else names[sku],
                           "IPN": sku, "units": unit_for(it["unit"]),
                           "minimum_stock": minimum if pd.notna(minimum) else 0,
                           "default_expiry": int(it["shelf_life_days"]) if pd.notna(it["shelf_life_days"]) else 0,
                           "is_template": False, "component": True, "purchaseable": True, "salable": bool(selling),
                           "trackable": it["tracking"] in ("batch", "expiry"), "active": bool(selling),
                           "assembly": sku in bundles},
                          refs))
    return out


def pending(records: list[Record], keys: Keys) -> tuple[list[Record], list[Record]]:
    """The records not yet on the server, split into those whose references all exist there
    (ready: they can be created now) and those that wait for a record created in this round."""
    ready, waiting = [], []
    for r in records:
        if r.ident in keys:
            continue
        (ready if all(ref in keys for ref in r.refs.values()) else waiting).append(r)
    return ready, waiting


def build(snap: Snapshot, files: Files, version: str | None, *, keys: Keys | None = None,
          currency: str | None = None) -> None:
    keys = keys or {}
    ready, waiting = pending(plan(snap, currency), keys)
    for kind, (name, model) in KINDS.items():
        rows = [r for r in ready if r.kind == kind]
        if not rows:
            continue
        header = [h for h in HEADERS[kind] if any(h in r.fields or h in r.refs for r in rows)]
        files.csv(name, header, [[_cell(r, h, keys) for h in header] for r in rows],
                  purpose=PURPOSE[kind], screen=SCREEN.format(model=model))
    units = sum(1 for u in snap.items["unit"].dropna().astype(str) if u.strip() and not unit_for(u))
    files.lose("units InvenTree does not know", units,
               "InvenTree accepts only physical units it knows (each, kg, m, ...): these parts have no unit; "
               "define the unit in InvenTree (Admin center > Part parameters > units) and set it on the parts")
    if waiting:
        kinds = ", ".join(f"{n} {LABELS[k]}" for k, n in pd.Series([r.kind for r in waiting]).value_counts(sort=False).items())
        files.note(f"{len(waiting)} records wait for the ids InvenTree gives the records above ({kinds}). "
                   "Import these files, then run the same export again with --url and --token: it reads the "
                   "ids from InvenTree and writes the next files.")
    else:
        files.note("These are the last files: after importing them everything in the workbook is on the server. "
                   "Check with: inv-sheets push store.xlsx --to inventree --url URL --token TOKEN --dry-run")


def _cell(r: Record, header: str, keys: Keys) -> object:
    if header in r.refs:
        return keys[r.refs[header]]
    value = r.fields.get(header)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


PURPOSE = {
    "category": "Part categories.",
    "location": "Stock locations (bins are child locations of their location).",
    "company": "Suppliers, as companies.",
    "part": "Parts: template parts for products with variants, one part per SKU (IPN = SKU).",
    "supplier_part": "Which supplier supplies each part, under which code.",
    "bom_item": "Bundles as BOM items of assembly parts.",
    "stock_item": "Opening stock: one stock item per part, location and batch, with expiry and unit cost. "
                  "Each row creates stock: import it once.",
}


def unneutralise(name: str) -> str:
    """A name read back from InvenTree as the workbook has it: the files write '=x' as "'=x"
    (common.neutralise), so a record imported from them still matches its workbook name."""
    return name[1:] if name.startswith("'") and neutralise(name[1:]) == name else name


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
