"""The Stock, Expiry and Bundle Stock sheets: what the store has, where, and what it can sell.

Stock has one row per SKU and location: every place the SKU has stock (or went negative), every
Item Locations pair, and, for a SKU with no sellable row, its home location (the default location
when it is sellable, else the sellable location of lowest priority) so that a SKU that is out
still shows as out.

    on_hand        the ledger's stock there, all batches
    reserved       what open orders hold there: the units the allocation ships from this location
                   (allocation.py: one location per order where possible, region then priority)
    short          the open order units no location can ship, shown once per SKU, on its first
                   sellable row (they are reserved nowhere)
    available      on hand - expired batches - reserved at a sellable location, never below 0;
                   0 elsewhere (available.py: the one definition, which Reorder adds up)
    on_order       the SKU's open PO quantity, shown once, on the row of the default location
                   (where receipts go), else on its first sellable row
    unit_cost      Items unit_cost, else the mean cost of the SKU's receipts (available.unit_costs)
    value          on_hand x unit_cost
    days_of_cover  available / the location's daily demand, worked out as Reorder's (demand.py):
                   units sold a day over the in-stock days of the demand window, promotions left
                   out; blank when it sold nothing there
    status         negative (on hand below 0), out (nothing available; at a location that is
                   not sellable, nothing on hand), low (the Reorder sheet flags the reorder row
                   this location belongs to: the same reorder point and position), ok
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.sheetdata import SheetData, sheet
from ..ledger.postings import Ledger
from .available import available, expired, reservations, unit_costs
from .replenish import demand
from .replenish.reorder import reorder_table

EPS = 1e-9
STATUS_FILLS = {"negative": "red", "out": "red", "low": "amber", "ok": "green"}


def stock_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """Stock always; Expiry when the store tracks batches; Bundle Stock when it has a Bundles sheet."""
    rows = stock_rows(store, ledger)
    out = [sheet("Stock", rows, fills={"status": STATUS_FILLS}, notes=_NOTES)]
    if store["Items"]["tracking"].isin(["batch", "expiry"]).any():
        out.append(sheet("Expiry", expiry_rows(store, ledger), fills={"flag": {"expired": "red", "near": "amber"}}))
    if store.has("Bundles"):
        out.append(sheet("Bundle Stock", bundle_rows(ledger, rows)))
    return out


def stock_rows(store: Store, ledger: Ledger) -> pd.DataFrame:
    """The Stock sheet's rows (see the module docstring), SKUs in Items order, then locations by
    priority and sheet order."""
    places = ledger.places.table
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")
    il = store["Item Locations"].dropna(subset=["sku", "location"]).drop_duplicates(["sku", "location"])
    il = il.set_index(["sku", "location"])
    held = ledger.stock.groupby(["sku", "location"])["qty"].sum()
    bundles = set(ledger.bundles["bundle_sku"])
    pairs = held.index.append(il.index).unique()
    pairs = pairs[~pairs.get_level_values(0).isin(bundles)]
    frame = pd.DataFrame({"sku": pairs.get_level_values(0).astype("str"), "location": pairs.get_level_values(1).astype("str")})
    frame["sellable"] = ledger.places.sellable(frame["location"]).to_numpy()

    home = _home(ledger)
    skus = [s for s in items.index.tolist() if s not in bundles]
    order = {s: i for i, s in enumerate(skus)}
    without = sorted(set(skus) - set(frame.loc[frame["sellable"], "sku"].tolist()), key=order.__getitem__)
    if home is not None and without:
        frame = pd.concat([frame, pd.DataFrame({"sku": without, "location": home, "sellable": True})], ignore_index=True)

    loc_rank = places.reset_index().reset_index().set_index("location")
    frame["_sku"] = frame["sku"].map(order).fillna(len(order))
    frame["_priority"] = frame["location"].map(places["priority"]).fillna(np.inf)
    frame["_place"] = frame["location"].map(loc_rank["index"]).fillna(len(places))
    frame = frame.sort_values(["_sku", "sku", "_priority", "_place", "location"], ignore_index=True)

    key = pd.MultiIndex.from_frame(frame[["sku", "location"]])
    frame["name"] = frame["sku"].map(items["name"])
    frame["bin"] = il["bin"].reindex(key).to_numpy() if len(il) else None
    frame["on_hand"] = held.reindex(key, fill_value=0.0).to_numpy()
    reserved, short = reservations(store, ledger)
    frame["reserved"] = reserved.reindex(key, fill_value=0.0).to_numpy(dtype=float)
    first = frame[frame["sellable"]].drop_duplicates("sku").index
    frame["short"] = 0.0
    frame.loc[first, "short"] = frame.loc[first, "sku"].map(short).astype(float).fillna(0.0).to_numpy()
    gone = expired(ledger).reindex(key, fill_value=0.0)
    frame["available"] = available(frame["on_hand"], gone, frame["reserved"], frame["sellable"])
    frame["on_order"] = _once_per_sku(frame, ledger.on_order.set_index("sku")["on_order"], home)
    frame["unit_cost"] = frame["sku"].map(unit_costs(store, ledger)).astype(float)
    frame["value"] = (frame["on_hand"] * frame["unit_cost"]).round(2)
    frame["days_of_cover"] = _days_of_cover(store, ledger, frame, key)
    frame["status"] = np.select(
        [frame["on_hand"] < -EPS,
         np.where(frame["sellable"], frame["available"] <= EPS, frame["on_hand"] <= EPS),
         frame["sellable"] & _flagged(store, ledger, frame)],
        ["negative", "out", "low"], "ok")
    return frame.drop(columns=["_sku", "_priority", "_place", "sellable"])


def _home(ledger: Ledger) -> str | None:
    """Where a SKU with no stock is shown: the default location when sellable, else the first
    sellable location by priority."""
    table = ledger.places.table
    default = ledger.places.defaults.get("default_location")
    if default in table.index and table.at[default, "sellable"]:
        return default
    sellable = table[table["sellable"]]
    if sellable.empty:
        return None
    return sellable.assign(_order=range(len(sellable))).sort_values(["priority", "_order"]).index[0]


def _flagged(store: Store, ledger: Ledger, frame: pd.DataFrame) -> np.ndarray:
    """Whether the Reorder sheet flags the reorder row each Stock row belongs to (its own
    location's rule, else the SKU's row when the location is sellable)."""
    if not (store.has("Items") and store.has("Movements")):
        return np.zeros(len(frame), dtype=bool)
    t = reorder_table(store, ledger)
    rows = pd.MultiIndex.from_arrays([t["sku"].to_numpy(dtype=object),
                                      t["location"].fillna(demand.ALL_LOCATIONS).to_numpy(dtype=object)])
    flag = pd.Series((t["flag"] == "reorder").to_numpy(), index=rows)
    keys = demand.row_keys(frame["sku"].to_numpy(dtype=object), frame["location"].to_numpy(dtype=object), rows,
                           frame["sellable"].to_numpy(dtype=bool))
    return flag.reindex(keys).fillna(False).to_numpy(dtype=bool)


def _once_per_sku(frame: pd.DataFrame, per_sku: pd.Series, home: str | None) -> np.ndarray:
    """A per-SKU figure on one row of the SKU: its home row, else its first sellable row, else its first."""
    rank = np.where(frame["location"] == home, 0, np.where(frame["sellable"], 1, 2))
    chosen = frame.assign(_rank=rank).sort_values(["_rank"], kind="stable").drop_duplicates("sku").index
    out = np.zeros(len(frame))
    out[chosen] = frame.loc[chosen, "sku"].map(per_sku).fillna(0.0).to_numpy()
    return out


def _days_of_cover(store: Store, ledger: Ledger, frame: pd.DataFrame, key: pd.MultiIndex) -> np.ndarray:
    """Available / the location's daily demand, on the demand rate's own base (demand.demand: the
    in-stock days of the window), so a new SKU or one out most of the window is not stretched."""
    if ledger.postings.empty or frame.empty:
        return np.full(len(frame), np.nan)
    rate = demand.daily_demand(store, ledger, key).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(rate > EPS, frame["available"].to_numpy() / rate, np.nan)
    return np.round(cover, 1)


def expiry_rows(store: Store, ledger: Ledger) -> pd.DataFrame:
    """One row per batch with an expiry on hand at a location, soonest first."""
    s = ledger.stock
    s = s[s["expiry"].notna() & (s["qty"] > EPS)]
    days_left = (s["expiry"].dt.normalize() - ledger.as_of).dt.days
    flag = np.select([days_left < 0, days_left <= store.settings.near_expiry_days], ["expired", "near"], "")
    out = pd.DataFrame({"sku": s["sku"], "batch": s["batch"], "location": s["location"], "expiry": s["expiry"],
                        "qty": s["qty"], "days_left": days_left.astype("int64"), "flag": flag})
    out["flag"] = out["flag"].replace("", None)
    return out.sort_values(["expiry", "sku", "location", "batch"], ignore_index=True)


def bundle_rows(ledger: Ledger, stock: pd.DataFrame) -> pd.DataFrame:
    """One row per bundle: how many its components' available stock makes, and which runs out first."""
    parts = ledger.bundles[ledger.bundles["qty"] > EPS]
    available = stock.groupby("sku")["available"].sum()
    have = parts["component_sku"].map(available).fillna(0.0).to_numpy()
    kits = np.floor(np.clip(have, 0.0, None) / parts["qty"].to_numpy() + EPS)
    each = parts.assign(kits=kits)
    limiting = each.sort_values("kits", kind="stable").drop_duplicates("bundle_sku").set_index("bundle_sku")
    order = list(dict.fromkeys(ledger.bundles["bundle_sku"]))
    limiting = limiting.reindex([b for b in order if b in limiting.index])
    return pd.DataFrame({"bundle_sku": limiting.index, "available": limiting["kits"].astype("int64").to_numpy(),
                         "limiting_component": limiting["component_sku"].to_numpy()})


_NOTES = (
    ("On hand", "What the ledger says is at the location now, all batches together."),
    ("Reserved", "Open order lines not yet shipped, at the location the Allocation sheet ships them from."),
    ("Short", "Open order units no location can ship (reserved nowhere); once per SKU, on its first sellable row."),
    ("Available", "On hand less expired batches and reserved, at a sellable location; never below 0."),
    ("On order", "Open purchase order lines not yet received; shown once per SKU, at the default location."),
    ("Unit cost", "Items unit cost, else the mean cost of the SKU's receipts (the cost every sheet uses)."),
    ("Days of cover", "Available divided by the location's daily demand: units sold a day over the days of the "
     "demand period it had stock, promotions left out (as on the Reorder sheet)."),
    ("Status", "negative: below zero; out: nothing available; low: the Reorder sheet flags it for reorder; ok."),
)
