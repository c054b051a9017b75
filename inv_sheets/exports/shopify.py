"""Shopify: the per-location inventory CSV of what the shop may sell (On hand (new)).

Shopify's inventory import sets the on-hand quantity of each variant at each location; it holds no
costs, lots, reorder rules or bundles, and the products themselves must already be in Shopify.

What is published: the Shopify channel is the Channels row whose code contains "SHOPIFY" (with
none, no buffer, all sellable locations). Its locations are the ones it lists, else every sellable
location. For each SKU, sellable = on hand at those locations; the channel's buffer,
buffer_units + buffer_pct x sellable rounded up to whole units, is held back from the locations
that ship last (highest priority number first), so the main location publishes the most. Open
orders are not subtracted: Shopify counts its own unfulfilled orders as Committed inside On hand.
Shopify takes whole numbers only, so each quantity is rounded down.

Rows are matched by Handle and option values: the handle is the product's name made URL-safe,
and a SKU without variants is Shopify's "Title" / "Default Title" option.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..contract.schema import fold
from .common import Files, Target
from .snapshot import Snapshot, slug, split_variant, variant_groups

HEADER = ["Handle", "Title", "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
          "Option3 Value", "SKU", "HS Code", "COO", "Location", "Bin name", "Incoming (not editable)",
          "Unavailable (not editable)", "Committed (not editable)", "Available (not editable)",
          "On hand (current)", "On hand (new)"]


def shopify_channel(snap: Snapshot) -> pd.Series | None:
    """The Channels row for Shopify, if the workbook has one."""
    ch = snap.channels
    hit = ch[ch["channel"].map(lambda c: "shopify" in fold(c))] if len(ch) else ch
    return hit.iloc[0] if len(hit) else None


def feeding_locations(snap: Snapshot, channel: pd.Series | None) -> list[str]:
    """The locations whose stock Shopify may sell."""
    known = snap.locations.index
    listed = channel["locations"] if channel is not None else None
    if isinstance(listed, str) and listed.strip():
        codes = [c.strip().upper() for c in listed.split(",") if c.strip()]
        return [c for c in codes if c in known]
    return list(known[snap.locations["sellable"].astype(bool)])


def sellable(snap: Snapshot) -> pd.DataFrame:
    """sku, location, bin, on_hand, held (the buffer taken here), publish (whole units to publish)."""
    channel = shopify_channel(snap)
    feeds = feeding_locations(snap, channel)
    grid = pd.MultiIndex.from_product([snap.items.index, feeds], names=["sku", "location"])
    on_hand = snap.stock.groupby(["sku", "location"])["qty"].sum().reindex(grid, fill_value=0.0)
    df = on_hand.rename("on_hand").reset_index()
    df["priority"] = df["location"].map(snap.locations["priority"]).fillna(np.inf)
    df = df.sort_values(["sku", "priority", "location"], ascending=[True, False, True], kind="stable")
    units = _number(channel, "buffer_units")
    pct = _number(channel, "buffer_pct")
    total = df.groupby("sku")["on_hand"].transform("sum")
    buffer = np.ceil(units + pct * total - 1e-9).clip(lower=0)
    before = df.groupby("sku")["on_hand"].cumsum() - df["on_hand"]
    df["held"] = (buffer - before).clip(lower=0).clip(upper=df["on_hand"])
    df["publish"] = np.floor(df["on_hand"] - df["held"] + 1e-9).clip(lower=0).astype(int)
    bins = snap.stock.drop_duplicates(["sku", "location"]).set_index(["sku", "location"])["bin"]
    df["bin"] = bins.reindex(pd.MultiIndex.from_frame(df[["sku", "location"]])).to_numpy() if len(bins) else None
    return df.sort_values(["sku", "location"], kind="stable").reset_index(drop=True)


def _number(channel: pd.Series | None, column: str) -> float:
    value = channel[column] if channel is not None else None
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def build(snap: Snapshot, files: Files, version: str | None) -> None:
    items, df = snap.items, sellable(snap)
    group = variant_groups(items)
    multi = group.map(group.value_counts()) > 1
    rows = []
    for r in df.itertuples():
        it = items.loc[r.sku]
        values = split_variant(it["variant"])[:3] if multi[r.sku] else []
        options = [("Title", "Default Title")] if not values else [(f"Option {i}", v) for i, v in enumerate(values, 1)]
        options += [(None, None)] * (3 - len(options))
        title = group[r.sku] if multi[r.sku] else it["name"]
        rows.append([slug(title), title, *[x for pair in options for x in pair], r.sku, None, None,
                     snap.locations.at[r.location, "name"], r.bin if isinstance(r.bin, str) else None,
                     None, None, None, None, None, int(r.publish)])
    files.csv("shopify_inventory.csv", HEADER, rows,
              purpose="On hand (new) per variant and location: the sellable stock after the Shopify channel's buffer.",
              screen="Shopify admin > Products > Inventory > Import")
    feeds = set(df["location"])
    elsewhere = snap.stock[~snap.stock["location"].isin(feeds)]
    files.lose("stock at locations that do not feed Shopify", len(elsewhere),
               "only sellable stock at the channel's locations is published; the rest stays in the workbook")
    files.lose("units held back by the Shopify channel buffer", int(math.ceil(df["held"].sum())),
               "the buffer is kept off the shop on purpose (Channels buffer_units / buffer_pct)")
    fractions = (df["on_hand"] - df["held"]) - df["publish"]
    files.lose("fractions of units", int((fractions > 1e-9).sum()),
               "Shopify takes whole numbers only: quantities are rounded down")


TARGET = Target(
    name="shopify", title="Shopify", build=build, docs="docs/export/shopify.md",
    lost={
        "variant_groups": "products must already exist in Shopify; rows are matched by handle and options",
        "unit_cost": "costs live on the product in Shopify (Cost per item), not in the inventory CSV",
        "price": "prices live on the product in Shopify, not in the inventory CSV",
        "barcode": "barcodes live on the product in Shopify, not in the inventory CSV",
        "category": "not in the inventory CSV",
        "discontinued": "not in the inventory CSV",
        "units": "Shopify counts units only",
        "item_supplier": "Shopify has no suppliers",
        "supplier_sku": "Shopify has no suppliers",
        "case_pack": "Shopify has no reordering",
        "min_order_qty": "Shopify has no reordering",
        "reorder_point": "Shopify has no reordering",
        "max_stock": "Shopify has no reordering",
        "safety_stock": "Shopify has no reordering",
        "per_location_rules": "Shopify has no reordering",
        "tracking": "Shopify has no lots or expiry",
        "shelf_life": "Shopify has no lots or expiry",
        "batches": "Shopify has no lots: batches are summed per location",
        "expiry": "Shopify has no expiry dates",
        "suppliers": "Shopify has no suppliers",
        "supplier_email": "Shopify has no suppliers",
        "lead_time": "Shopify has no suppliers",
        "min_order_value": "Shopify has no suppliers",
        "location_kinds": "only the channel's locations are published",
        "bundles": "Shopify has no bundle import; a bundle app must compute bundle stock",
        "channels": "only the Shopify channel's buffer is applied; other channels stay in the workbook",
    },
)
