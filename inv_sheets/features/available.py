"""What the store can sell, and what each unit costs: one definition for every sheet.

Stock shows these per SKU and location, Reorder adds them up per reorder row, Channel Stock and
Allocation ship from the same pool; none of them works them out on its own.

    on_hand    the ledger's stock at the location, all batches
    expired    units on hand of batches whose expiry is before the as-of day: never available
    reserved   the open order units the allocation ships from the location (allocation.py)
    short      the open order units no location can ship (per SKU: they are at no location)
    available  on hand - expired - reserved at a sellable location, never below 0; 0 elsewhere
    unit cost  Items unit_cost, else the mean cost of the SKU's receipts (receipt qty x unit cost
               over receipt qty); blank when neither is known
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..ledger.postings import Ledger

EPS = 1e-9


def availability(store: Store, ledger: Ledger, key: pd.MultiIndex | None = None) -> pd.DataFrame:
    """on_hand, expired, reserved, sellable and available per (sku, location) of `key` (default:
    every pair with stock on the book)."""
    held = ledger.stock.groupby(["sku", "location"])["qty"].sum()
    if key is None:
        key = held.index
    held.index = held.index.set_names(["sku", "location"])
    out = pd.DataFrame(index=key)
    out["on_hand"] = held.reindex(key, fill_value=0.0).to_numpy(dtype=float)
    out["expired"] = expired(ledger).reindex(key, fill_value=0.0).to_numpy(dtype=float)
    out["reserved"] = reservations(store, ledger)[0].reindex(key, fill_value=0.0).to_numpy(dtype=float)
    out["sellable"] = ledger.places.sellable(pd.Series(key.get_level_values(1), dtype=object)).to_numpy(dtype=bool)
    out["available"] = available(out["on_hand"], out["expired"], out["reserved"], out["sellable"])
    return out


def available(on_hand: pd.Series, expired_units: pd.Series, reserved: pd.Series, sellable: pd.Series) -> np.ndarray:
    """on hand - expired - reserved at a sellable location, never below 0; 0 elsewhere."""
    usable = on_hand.to_numpy(dtype=float) - expired_units.to_numpy(dtype=float) - reserved.to_numpy(dtype=float)
    return np.where(sellable.to_numpy(dtype=bool), np.clip(usable, 0.0, None), 0.0).round(9)


def expired(ledger: Ledger) -> pd.Series:
    """Units of batches past their expiry per (sku, location): on hand, but not for sale."""
    stock = ledger.stock
    gone = stock[(stock["expiry"] < ledger.as_of).to_numpy() & (stock["qty"] > 0).to_numpy()]
    return gone.groupby(["sku", "location"])["qty"].sum().astype(float)


def reservations(store: Store, ledger: Ledger) -> tuple[pd.Series, pd.Series]:
    """What open orders hold: units per (sku, location) the allocation ships from there, and units
    per SKU that no location can ship (short). Worked out once per ledger."""
    return ledger.derived("reservations", store, lambda: _reservations(store, ledger))


def _reservations(store: Store, ledger: Ledger) -> tuple[pd.Series, pd.Series]:
    from .channels.allocation import allocate

    if ledger.order_lines.empty:
        empty = pd.MultiIndex.from_arrays([[], []], names=["sku", "location"])
        return pd.Series(0.0, index=empty), pd.Series(dtype=float)
    placed = allocate(store, ledger)
    at = placed.dropna(subset=["location"]).groupby(["sku", "location"])["qty"].sum().astype(float)
    short = placed[placed["location"].isna()].groupby("sku")["qty"].sum().astype(float)
    return at.round(9), short.round(9)


def unit_costs(store: Store, ledger: Ledger) -> pd.Series:
    """Each Items SKU's unit cost: Items unit_cost, else the mean cost of its receipts (NaN when
    neither is known): ledger.costs, the rule every sheet and every export values stock by."""
    from ..ledger import costs

    return costs.unit_costs(store, ledger)["unit_cost"]
