"""What a migration carries: the store's catalogue, partners, rules and opening stock at as_of.

Every exporter reads one `Snapshot`, so the targets cannot disagree about what the workbook holds.

Opening stock is the ledger's on hand at as_of (`ledger.stock`: per SKU, location, batch and
expiry) with the SKU's bin (Item Locations) and unit cost. Unit cost is the one the sheets value
stock by (ledger.costs: the Items unit_cost, else the mean cost of the SKU's receipts that carried
one); else 0, and the loss report says so. value = qty x unit cost. Negative positions cannot be opening stock
in any target: they are left out and listed as a loss.

Reorder rules: a row of Item Locations with a reorder point or max is a rule at that location;
an Items reorder point or max (when the SKU has no Item Locations rule) is a rule at the SKU's
home location (the Settings default_location, else where most of it is, else the first stock
location). Computed reorder points (the Reorder sheet) are not exported: a migration carries what
was typed, and the new system computes its own.

FACTS names each kind of thing the workbook can hold, with how many of it this workbook has; a
target's `lost` map says which it cannot hold, and the loss report is that map filtered by count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..ledger.costs import unit_costs
from ..ledger.places import store_places

EPS = 1e-9


@dataclass(frozen=True)
class Snapshot:
    """The workbook, as a migration sees it (see the module docstring for each rule)."""

    as_of: pd.Timestamp
    items: pd.DataFrame        # indexed by sku: the Items columns + unit_cost (resolved), cost_source, home
    stock: pd.DataFrame        # sku, location, bin, batch, expiry, qty, unit_cost, value (qty > 0)
    negative: pd.DataFrame     # the same columns, qty < 0: left out of every export
    locations: pd.DataFrame    # indexed by location: name, kind, sellable, priority
    suppliers: pd.DataFrame    # Suppliers + lead_time (total: lead_time_days, else the sum of the parts)
    rules: pd.DataFrame        # sku, location, reorder_point, max_stock, safety_stock, multiple, per_location
    bundles: pd.DataFrame      # bundle_sku, component_sku, qty
    channels: pd.DataFrame
    facts: dict[str, int]


def take(store: Store, ledger: object) -> Snapshot:
    """The snapshot of a store and its ledger at the store's as_of."""
    places = store_places(store)
    locs = store["Locations"].drop_duplicates("location").set_index("location")
    locations = places.table.copy()
    locations["name"] = locations.index.map(locs["name"]) if len(locs) else None
    locations["name"] = locations["name"].where(locations["name"].notna(), pd.Series(locations.index, index=locations.index))
    items = store["Items"].drop_duplicates("sku").set_index("sku", drop=False)
    items = _with_costs(items, store, ledger)
    stock_all = _stock(store, ledger, items)
    # A forced export of a workbook with errors: stock of a SKU whose Items row was left out has no
    # item to hang on (the error that left it out is in the validation report).
    stock_all = stock_all[stock_all["sku"].isin(items.index)]
    items["home"] = _homes(items, stock_all, places)
    positive = stock_all[stock_all["qty"] > EPS].reset_index(drop=True)
    negative = stock_all[stock_all["qty"] < -EPS].reset_index(drop=True)
    suppliers = store["Suppliers"].drop_duplicates("supplier").set_index("supplier", drop=False)
    parts = suppliers[["processing_days", "shipping_days", "customs_days", "receiving_days", "putaway_days"]]
    summed = parts.sum(axis=1, min_count=1)
    suppliers = suppliers.assign(lead_time=suppliers["lead_time_days"].where(suppliers["lead_time_days"].notna(), summed))
    rules = _rules(store, items)
    snap = Snapshot(pd.Timestamp(store.settings.as_of), items, positive, negative, locations, suppliers, rules,
                    store["Bundles"].reset_index(drop=True), store["Channels"].reset_index(drop=True), {})
    snap.facts.update(_facts(store, snap))
    return snap


def _with_costs(items: pd.DataFrame, store: Store, ledger: object) -> pd.DataFrame:
    """Items with the unit cost every export uses: the sheets' own (see the module docstring)."""
    costs = unit_costs(store, ledger).reindex(items.index)  # type: ignore[arg-type]
    items = items.copy()
    items["cost_source"] = costs["source"].fillna("none").to_numpy()
    items["unit_cost"] = costs["unit_cost"].fillna(0.0).astype(float).to_numpy()
    return items


def _stock(store: Store, ledger: object, items: pd.DataFrame) -> pd.DataFrame:
    s = ledger.stock.copy()  # type: ignore[attr-defined]
    s["batch"] = s["batch"].where(s["batch"].notna() & (s["batch"].astype(str) != "nan"), None)
    bins = store["Item Locations"].drop_duplicates(["sku", "location"]).set_index(["sku", "location"])["bin"]
    key = pd.MultiIndex.from_arrays([s["sku"], s["location"]])
    s["bin"] = bins.reindex(key).to_numpy() if len(bins) else None
    s["unit_cost"] = s["sku"].map(items["unit_cost"]).fillna(0.0).astype(float)
    s["value"] = (s["qty"] * s["unit_cost"]).round(6)
    cols = ["sku", "location", "bin", "batch", "expiry", "qty", "unit_cost", "value"]
    return s[cols].sort_values(["sku", "location", "expiry", "batch"], na_position="last", kind="stable")


def _homes(items: pd.DataFrame, stock: pd.DataFrame, places) -> pd.Series:
    """Each SKU's home location: default_location, else where most of it is, else the first stock location."""
    default = places.defaults.get("default_location")
    stock_kind = places.table.index[places.table["kind"] == "stock"]
    fallback = default or (stock_kind[0] if len(stock_kind) else (places.table.index[0] if len(places.table) else None))
    most = (stock[stock["qty"] > 0].groupby(["sku", "location"])["qty"].sum().reset_index()
            .sort_values(["sku", "qty"], ascending=[True, False]).drop_duplicates("sku").set_index("sku")["location"])
    home = items.index.to_series().map(most)
    return home.fillna(fallback) if default is None else pd.Series(default, index=items.index)


def _rules(store: Store, items: pd.DataFrame) -> pd.DataFrame:
    il = store["Item Locations"]
    per = il[il[["reorder_point", "max_stock", "safety_stock"]].notna().any(axis=1)]
    per = per.assign(per_location=True)[["sku", "location", "reorder_point", "max_stock", "safety_stock", "per_location"]]
    it = items[items[["reorder_point", "max_stock", "safety_stock"]].notna().any(axis=1) & ~items.index.isin(per["sku"])]
    item_rules = pd.DataFrame({"sku": it.index, "location": it["home"].to_numpy(), "reorder_point": it["reorder_point"].to_numpy(),
                               "max_stock": it["max_stock"].to_numpy(), "safety_stock": it["safety_stock"].to_numpy(),
                               "per_location": False})
    rules = pd.concat([r for r in (per, item_rules) if len(r)], ignore_index=True) if len(per) or len(item_rules) else \
        pd.DataFrame(columns=["sku", "location", "reorder_point", "max_stock", "safety_stock", "per_location"])
    rules["multiple"] = rules["sku"].map(items["case_pack"]) if len(rules) else []
    return rules.sort_values(["sku", "location"], kind="stable").reset_index(drop=True)


def split_variant(text: object) -> list[str]:
    """'M / Blue' -> ['M', 'Blue'] (also ',' and '|'); [] when blank."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return []
    return [p.strip() for p in re.split(r"\s*[/|,]\s*", str(text)) if p.strip()]


def display_names(items: pd.DataFrame) -> pd.Series:
    """One unique name per SKU: the name plus its variant (unless the name already says it),
    plus the SKU in brackets when two SKUs would still share a name."""
    variant = items["variant"].fillna("").astype(str).str.strip()
    base = items["name"].astype(str).str.strip()
    says = np.array([not v or v.lower() in b.lower() for b, v in zip(base, variant)], dtype=bool)
    shown = base.where(says, base + " - " + variant)
    shared = shown.str.lower().duplicated(keep=False)
    return shown.where(~shared, shown + " [" + items.index.to_series().astype(str) + "]")


def supplier_names(snap: Snapshot) -> pd.Series:
    """Each supplier's name as the target shows it (the supplier code when the name is blank)."""
    s = snap.suppliers
    return s["name"].where(s["name"].notna(), s["supplier"]) if len(s) else pd.Series(dtype=object)


def item_rules(snap: Snapshot) -> pd.DataFrame:
    """The item-level reorder rules (not per location), one per SKU, indexed by SKU."""
    r = snap.rules
    if not len(r):
        return pd.DataFrame(columns=["reorder_point", "max_stock", "safety_stock"])
    return r[~r["per_location"].astype(bool)].drop_duplicates("sku").set_index("sku")


def slug(text: object) -> str:
    """A URL handle: lower case, letters and digits joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "item"


def variant_groups(items: pd.DataFrame) -> pd.Series:
    """The product each SKU belongs to (the product column, else its own name)."""
    return items["product"].where(items["product"].notna(), items["name"]).astype(str)


# Facts ---------------------------------------------------------------------------------------------
def _count(series: pd.Series) -> int:
    return int(series.notna().sum())


def _facts(store: Store, s: Snapshot) -> dict[str, int]:
    items, sup, locs = s.items, s.suppliers, s.locations
    grouped = variant_groups(items)
    multi = grouped.map(grouped.value_counts()) > 1
    orders, pos = store["Orders"], store["Purchases"]
    return {
        "history": len(store["Movements"]),
        "counts": len(store["Counts"]),
        "open_orders": int((orders["status"].fillna("open") == "open").sum()),
        "open_purchases": int((pos["status"].fillna("open") == "open").sum()),
        "promotions": len(store["Promotions"]),
        "channels": len(store["Channels"]),
        "variant_groups": int(multi.sum()),
        "variants": _count(items["variant"]),
        "units": int((items["unit"].notna() & (items["unit"].astype(str).str.lower() != "each")).sum()),
        "unit_cost": int((items["cost_source"] != "none").sum()),
        "price": _count(items["price"]),
        "barcode": _count(items["barcode"]),
        "category": _count(items["category"]),
        "discontinued": int((items["status"] == "discontinued").sum()),
        "item_supplier": _count(items["supplier"]),
        "supplier_sku": _count(items["supplier_sku"]),
        "case_pack": _count(items["case_pack"]),
        "min_order_qty": _count(items["min_order_qty"]),
        "reorder_point": int(s.rules["reorder_point"].notna().sum()),
        "max_stock": int(s.rules["max_stock"].notna().sum()),
        "safety_stock": int(s.rules["safety_stock"].notna().sum()),
        "per_location_rules": int(s.rules["per_location"].astype(bool).sum()),
        "bins": int(s.stock["bin"].notna().sum()),
        "tracking": int(items["tracking"].isin(["batch", "expiry"]).sum()),
        "shelf_life": _count(items["shelf_life_days"]),
        "batches": int(s.stock["batch"].notna().sum()),
        "expiry": int(s.stock["expiry"].notna().sum()),
        "suppliers": len(sup),
        "supplier_email": _count(sup["email"]),
        "lead_time": _count(sup["lead_time"]),
        "lead_time_parts": int(sup[["processing_days", "shipping_days", "customs_days", "receiving_days",
                                    "putaway_days"]].notna().any(axis=1).sum()),
        "min_order_value": _count(sup["min_order_value"]),
        "location_kinds": int((locs["kind"] != "stock").sum()),
        "location_priority": _count(locs["priority"]),
        "regions": _count(store["Locations"]["regions"]),
        "bundles": int(s.bundles["bundle_sku"].nunique()),
        "negative_stock": len(s.negative),
        "no_cost": int(((items["cost_source"] == "none") & items.index.isin(s.stock["sku"])).sum()),
    }


FACTS: dict[str, str] = {
    "history": "movement history (Movements rows): only the opening balance at as_of is exported",
    "counts": "count history (Counts rows)",
    "open_orders": "open customer order lines (Orders)",
    "open_purchases": "open purchase order lines (Purchases)",
    "promotions": "promotion periods (Promotions)",
    "channels": "sales channels and their buffers (Channels)",
    "variant_groups": "variant grouping (SKUs sharing a product)",
    "variants": "variant descriptions (Items variant)",
    "units": "units of measure other than each (Items unit)",
    "unit_cost": "unit costs (Items unit_cost or receipt cost)",
    "price": "selling prices (Items price)",
    "barcode": "barcodes (Items barcode)",
    "category": "categories (Items category)",
    "discontinued": "discontinued status (Items status)",
    "item_supplier": "preferred supplier of an item (Items supplier)",
    "supplier_sku": "supplier's code for an item (Items supplier_sku)",
    "case_pack": "order multiples (Items case_pack)",
    "min_order_qty": "minimum order quantities (Items min_order_qty)",
    "reorder_point": "reorder points (Items / Item Locations reorder_point)",
    "max_stock": "maximum stock levels (max_stock)",
    "safety_stock": "safety stock levels (safety_stock)",
    "per_location_rules": "per-location reorder rules (Item Locations)",
    "bins": "bins of stock (Item Locations bin)",
    "tracking": "batch or expiry tracking of items (Items tracking)",
    "shelf_life": "shelf lives (Items shelf_life_days)",
    "batches": "batch codes of stock on hand",
    "expiry": "expiry dates of stock on hand",
    "suppliers": "suppliers (Suppliers)",
    "supplier_email": "supplier e-mail addresses",
    "lead_time": "supplier lead times",
    "lead_time_parts": "lead time parts (processing, shipping, customs, receiving, put-away days)",
    "min_order_value": "supplier minimum order values",
    "location_kinds": "location kinds (returns hold, damaged, transit) and sellable flags",
    "location_priority": "location ship priorities",
    "regions": "regions a location serves",
    "bundles": "bundles and kits (Bundles)",
    "negative_stock": "negative stock positions",
    "no_cost": "SKUs in stock without any unit cost (exported at cost 0)",
}

# Lost by every target: a migration carries the opening balance, not the past or the open documents.
ALWAYS_LOST = {
    "history": "the target starts from the opening balance; keep the workbook as the archive of the past",
    "counts": "past counts are history; the opening balance already includes them",
    "open_orders": "open orders are not migrated: finish them in the workbook or re-enter them in the target",
    "open_purchases": "open purchase orders are not migrated: re-enter them in the target",
    "promotions": "promotion periods only shape demand forecasts in inv-sheets",
    "lead_time_parts": "only the total lead time can move; the parts stay in the workbook",
    "location_priority": "ship priorities are an inv-sheets allocation rule",
    "regions": "regions served are an inv-sheets allocation rule",
    "negative_stock": "a negative position cannot be an opening balance: count those SKUs and fix them first",
    "no_cost": "the target needs a cost: these SKUs go in at 0; set their cost in the target",
}
