"""The Returns sheet: why goods come back, how often, and what still waits in the returns hold.

The guide's Strategy 4, "Returns & Restocking": returns wait in a hold location until inspected,
and "track return reasons instead of ignoring them. If you keep seeing the same reason, it could
point to a product quality issue or a listing problem".

One table in four blocks, named in its first column (`view`, so a filter shows one block), each
filling its own columns:

    reasons          reason, units, share: each reason's returned units and share of all returned units
    reasons by SKU   reason, units, share, sku: the same for each of the SKUs returned most (share of that SKU)
    return rate      "return rate", units, sku, sold, return_rate: returned and sold units of a SKU,
                     return_rate = returned / sold
    in the hold      sku, location, qty, days_waiting: units in a returns hold, by the day they arrived

The window: reasons and rates count the return and sale movements of the last `demand_days`
days up to the as-of day (both ends included), the same window the demand figures use. Units and
sales are counted by the SKU on the movement (a returned bundle is one return of the bundle).

Days waiting: a hold releases its units first in, first out (the oldest returns are inspected
first), so the units still there are the latest arrivals; each is aged from the day it arrived.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...contract.sheetdata import SheetData, sheet
from ...ledger.postings import Ledger

EPS = 1e-9
TOP_SKUS = 5  # how many of the most-returned SKUs get their own reason breakdown
NO_REASON = "(no reason given)"
RATE_LABEL = "return rate"
COLUMNS = ["view", "reason", "units", "share", "sku", "location", "qty", "days_waiting", "sold", "return_rate"]
VIEWS = ("reasons", "reasons by SKU", "return rate", "in the hold")  # the blocks, in the sheet's order


def window(store: Store, ledger: Ledger) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day (inclusive) whose returns and sales the rates count."""
    end = ledger.as_of
    return end - pd.Timedelta(days=max(int(store.settings.demand_days), 1) - 1), end


def returns_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """The Returns sheet, or none when nothing was ever returned and no returns hold holds stock."""
    moved = _moved(store, ledger)
    ever_returned = bool((moved["type"] == "return").any())
    hold = hold_ages(ledger)
    if not ever_returned and not len(hold):
        return []
    start, end = window(store, ledger)
    moved = moved[(moved["day"] >= start) & (moved["day"] <= end)]
    returned = moved[moved["type"] == "return"]
    blocks = (reason_table(returned), top_sku_reasons(returned), return_rates(returned, moved), hold.assign(reason=None))
    rows = pd.concat([block.assign(view=view) for view, block in zip(VIEWS, blocks)], ignore_index=True)
    span = f"{start.date().isoformat()} to {end.date().isoformat()} ({store.settings.demand_days} days)"
    return [sheet("Returns", rows.reindex(columns=COLUMNS), notes=(
        ("View", "Four blocks in one table: " + ", ".join(VIEWS) + ". Filter this column to see one."),
        ("Window", f"Returns and sales from {span}, the demand_days setting."),
        ("Share", "For a reason: its share of the returned units (of all SKUs, or of the SKU named)."),
        ("Return rate", (f"On a '{RATE_LABEL}' row: returned / sold, the SKU's units returned over units sold "
                        "in the window (blank when none were sold).")),
        ("Days waiting", ("Units in a returns hold, aged from the day they arrived; the oldest are "
                         "assumed to leave the hold first. Inspect them, then restock or mark damaged.")),
    ))]


def _moved(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Posted return and sale movements: day, type, sku, qty (>= 0), reason (folded, never blank)."""
    mv = store["Movements"]
    keep = ledger.moves["posted"].reindex(mv.index, fill_value=False).to_numpy(dtype=bool) \
        & mv["type"].isin(["return", "sale"]).to_numpy()
    m = mv.loc[keep, ["date", "type", "sku", "reason"]]
    reason = m["reason"].str.strip().str.lower()
    return pd.DataFrame({
        "day": m["date"].dt.normalize(), "type": m["type"], "sku": m["sku"],
        "qty": ledger.moves.loc[m.index, "qty"].to_numpy(dtype=float),
        "reason": reason.where(reason.notna() & (reason != ""), NO_REASON),
    })


def _shares(returned: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Units per reason (within each `by` group) and their share of the group's units, most first."""
    units = returned.groupby(by + ["reason"])["qty"].sum().rename("units").reset_index()
    total = units.groupby(by)["units"].transform("sum") if by else units["units"].sum()
    units["share"] = units["units"] / total
    return units.sort_values(by + ["units", "reason"], ascending=[True] * len(by) + [False, True], kind="stable")


def reason_table(returned: pd.DataFrame) -> pd.DataFrame:
    """Every return reason with its units and share of all returned units, most first."""
    if not len(returned):
        return pd.DataFrame(columns=["reason", "units", "share"])
    return _shares(returned, [])[["reason", "units", "share"]]


def top_sku_reasons(returned: pd.DataFrame, top: int = TOP_SKUS) -> pd.DataFrame:
    """Reasons for each of the `top` SKUs returned most (ties by SKU), share within the SKU."""
    if not len(returned):
        return pd.DataFrame(columns=["reason", "units", "share", "sku"])
    per_sku = returned.groupby("sku")["qty"].sum().reset_index().sort_values(["qty", "sku"], ascending=[False, True])
    leaders = per_sku["sku"].head(top).tolist()
    out = _shares(returned[returned["sku"].isin(leaders)], ["sku"])
    out["rank"] = out["sku"].map({s: i for i, s in enumerate(leaders)})
    return out.sort_values(["rank", "units", "reason"], ascending=[True, False, True], kind="stable")[
        ["reason", "units", "share", "sku"]]


def return_rates(returned: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """Each SKU returned in the window: units returned, sold, and returned / sold (highest first).

    The rate is blank when nothing of the SKU was sold in the window.
    """
    if not len(returned):
        return pd.DataFrame(columns=["reason", "units", "sku", "sold", "return_rate"])
    back = returned.groupby("sku")["qty"].sum()
    sold = moved[moved["type"] == "sale"].groupby("sku")["qty"].sum().reindex(back.index, fill_value=0.0)
    rate = (back / sold.where(sold > EPS)).round(9)
    out = pd.DataFrame({"reason": RATE_LABEL, "units": back.to_numpy(), "sku": back.index.to_numpy(),
                        "sold": sold.to_numpy(), "return_rate": rate.to_numpy()})
    return out.sort_values(["return_rate", "sku"], ascending=[False, True], na_position="last", kind="stable")


def hold_ages(ledger: Ledger) -> pd.DataFrame:
    """Units in returns-hold locations by sku, location and arrival day: sku, location, qty, days_waiting.

    Oldest first. First in, first out: the units still held are the latest to have arrived.
    """
    table = ledger.places.table
    holds = table.index[table["kind"] == "returns_hold"]
    stock = ledger.stock[ledger.stock["location"].isin(holds)]
    held = stock.groupby(["sku", "location"])["qty"].sum()
    held = held[held > EPS]
    if not len(held):
        return pd.DataFrame(columns=["sku", "location", "qty", "days_waiting"])
    p = ledger.postings
    into_hold = p["location"].isin(holds).to_numpy() & (p["qty"] > 0).to_numpy()
    arrivals = p.loc[into_hold, ["when", "seq", "sku", "location", "qty"]]
    arrivals = arrivals.sort_values(["sku", "location", "when", "seq"], ascending=[True, True, False, False])
    keys = pd.MultiIndex.from_arrays([arrivals["sku"], arrivals["location"]])
    left = held.reindex(keys, fill_value=0.0).to_numpy()
    newer = arrivals.groupby(["sku", "location"])["qty"].cumsum().to_numpy() - arrivals["qty"].to_numpy()
    waiting = np.clip(np.minimum(arrivals["qty"].to_numpy(), left - newer), 0.0, None)
    aged = arrivals.assign(qty=waiting, day=arrivals["when"].dt.normalize())[waiting > EPS]
    out = aged.groupby(["sku", "location", "day"])["qty"].sum().round(9).reset_index()
    out["days_waiting"] = (ledger.as_of - out["day"]).dt.days.astype("int64")
    out = out.sort_values(["days_waiting", "sku", "location"], ascending=[False, True, True], kind="stable")
    return out[["sku", "location", "qty", "days_waiting"]].reset_index(drop=True)
