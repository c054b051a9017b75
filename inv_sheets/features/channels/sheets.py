"""What to publish on each sales channel, and the channel feature's sheets.

The guide's Strategy 4, "Multi-Channel Selling": one source of truth, and "if you know syncing
can lag, hold back a small buffer". For each channel and SKU:

    available  on hand at the sellable locations that feed the channel (Channels `locations`,
               blank = every sellable location), less what open orders are allocated there
               (allocation.allocate), less expired batches
    buffer     the larger of the channel's buffer_units and buffer_pct x available
    sellable   max(0, available - buffer), rounded down to whole units: the number to publish
               (published = max(0, available - reserve), as in openlinker #1844)

A bundle is never stocked: its channel availability is what its components allow,
min over components of floor(component available / qty per bundle) (the guide's "Bundles &
Kitting": both items must be available for the bundle to be sellable). A component's own listing
and the bundles it is in draw on the same units; the buffer is the margin for that.

`channel_sheets` is the feature's entry point: Channel Stock, Allocation, Pick List and Returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...contract.sheetdata import SheetData, sheet
from ...ledger.postings import Ledger
from .allocation import (
    EPS,
    allocate,
    allocation_sheets,
    channel_feeds,
    promisable_stock,
)
from .returns import returns_sheets


def channel_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """Channel Stock (when the Channels sheet exists), Allocation and Pick List (when an order line
    is open) and Returns (when there are returns or stock in a returns hold)."""
    allocation = allocate(store, ledger)
    out: list[SheetData] = []
    if store.has("Channels"):
        out.append(channel_stock_sheet(channel_stock(store, ledger, allocation)))
    out += allocation_sheets(store, ledger, allocation)
    out += returns_sheets(store, ledger)
    return out


def free_stock(store: Store, ledger: Ledger, allocation: pd.DataFrame | None = None) -> pd.Series:
    """Promisable stock not allocated to an open order, by (sku, location); never below zero."""
    allocation = allocate(store, ledger) if allocation is None else allocation
    pool = promisable_stock(store, ledger).groupby(["sku", "location"])["qty"].sum()
    taken = allocation[allocation["location"].notna()].groupby(["sku", "location"])["qty"].sum()
    free = pool.sub(taken.reindex(pool.index, fill_value=0.0)).clip(lower=0.0).round(9)
    return free[free > EPS]


def channel_stock(store: Store, ledger: Ledger, allocation: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per channel and SKU (every Items SKU, bundles included): channel, sku, available,
    buffer, sellable. Channels in sheet order, SKUs in Items order."""
    free = free_stock(store, ledger, allocation)
    skus = list(dict.fromkeys(store["Items"]["sku"].dropna()))
    bundles = ledger.bundles[ledger.bundles["qty"] > EPS]
    frames = []
    for channel, feed in channel_feeds(store, ledger).items():
        fed = free[free.index.get_level_values("location").isin(feed)]
        per_sku = fed.groupby(level="sku").sum()
        available = per_sku.reindex(skus, fill_value=0.0)
        if len(bundles):
            have = per_sku.reindex(bundles["component_sku"], fill_value=0.0).to_numpy()
            kits = pd.Series(np.floor(have / bundles["qty"].to_numpy() + EPS), index=bundles["bundle_sku"].to_numpy())
            kits = kits.groupby(level=0).min()
            available = available.where(~available.index.isin(kits.index), kits.reindex(available.index))
        frames.append(pd.DataFrame({"channel": channel, "sku": available.index, "available": available.to_numpy()}))
    if not frames:
        return pd.DataFrame({"channel": [], "sku": [], "available": [], "buffer": [], "sellable": []})
    rows = pd.concat(frames, ignore_index=True)
    rules = store["Channels"].drop_duplicates("channel").set_index("channel")
    # astype: mapping an empty str column gives a str column, which cannot be multiplied (pandas 3).
    units = rows["channel"].map(rules["buffer_units"]).astype("float64").fillna(0.0)
    pct = rows["channel"].map(rules["buffer_pct"]).astype("float64").fillna(0.0)
    rows["available"] = rows["available"].round(9)
    rows["buffer"] = np.maximum(units, pct * rows["available"]).round(9)
    rows["sellable"] = np.floor(np.clip(rows["available"] - rows["buffer"], 0.0, None) + EPS)
    return rows


def channel_stock_sheet(rows: pd.DataFrame) -> SheetData:
    """The Channel Stock sheet; `sellable` is a live formula over available and buffer."""
    return sheet("Channel Stock", rows, formulas={"sellable": "=MAX(0,ROUNDDOWN(C{row}-D{row}+1E-9,0))"}, notes=(
        ("Available", ("On hand at the sellable locations feeding the channel, less open orders allocated "
                      "there and expired batches. A bundle: min over its components of "
                      "floor(component available / qty per bundle).")),
        ("Buffer", ("The larger of the channel's buffer units and buffer % x available: held back in "
                   "case channels sync late.")),
        ("Sellable", "max(0, available - buffer), in whole units: the number to publish on the channel."),
    ))
