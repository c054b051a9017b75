"""Which location ships each open order line, from which bin and batch; and the pick list.

The rules follow the guide's Strategy 4 ("Inventory Allocation", "Batch & Expiry Tracking") and
its pick-and-pack step:

- What can be promised: on hand at sellable locations (ledger.stock), batch by batch, leaving out
  expired batches (expiry before the as-of day). Where the book of a SKU at a location went below
  zero on some batch, the location promises no more than its net on hand.
- Orders are served first come, first served (by order date, blank dates last, then by the
  order's first row on the Orders sheet). Each unit taken for an order leaves the pool, so an
  earlier order's reservation is never handed to a later one and no unit is promised twice.
- An order goes to one location that can ship all of it, preferring a location that serves the
  order's region, then the lowest priority number (blank last), then the location code. Only when
  no single location can ship it all is it split, over as few locations as possible (the same
  preference breaks ties); what no location can ship is marked short.
- An order naming a channel whose Channels row lists locations ships only from those.
- Inside a location, batches go first expiring first (FEFO): earliest expiry, then earliest
  arrival, then batch code; stock without a batch or an expiry goes last.
- A bundle line asks for its stocked components (two lines of one order needing the same SKU
  are combined).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...contract.sheetdata import SheetData, sheet
from ...ledger.postings import Ledger

EPS = 1e-9
ALLOCATION_COLUMNS = ["order", "sku", "qty", "location", "bin", "batch", "status"]
# Up to this many candidate locations, the fewest-locations split is found by trying every set
# (2**12 sets at most); beyond it, a greedy cover (most units first) is used instead.
EXACT_SPLIT_LIMIT = 12


def split_codes(text: object) -> list[str]:
    """A comma (or semicolon) separated list of codes, trimmed and upper-cased like every code."""
    if not isinstance(text, str):
        return []
    return [c.strip().upper() for c in text.replace(";", ",").split(",") if c.strip()]


def channel_feeds(store: Store, ledger: Ledger) -> dict[str, list[str]]:
    """The sellable locations that feed each channel (its Channels `locations`, blank = all sellable).

    Locations a channel names that are not sellable (a returns hold, an unknown code) never feed it.
    """
    sellable = _sellable(ledger)
    feeds: dict[str, list[str]] = {}
    for channel, named in zip(store["Channels"]["channel"], store["Channels"]["locations"]):
        if not isinstance(channel, str):
            continue
        codes = split_codes(named)
        feeds[channel] = [loc for loc in sellable if loc in codes] if codes else sellable
    return feeds


def _sellable(ledger: Ledger) -> list[str]:
    """The sellable locations, in Locations order."""
    table = ledger.places.table
    return [loc for loc in table.index if table.at[loc, "sellable"]]


def promisable_stock(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Stock that can be promised now: sku, location, batch, expiry, qty, in FEFO order per SKU-location.

    On hand at sellable locations, without expired batches and never more per SKU-location than
    its net on hand less its expired units (negative batches net against the rest).
    """
    stock = ledger.stock
    s = stock[ledger.places.sellable(stock["location"]).to_numpy()]
    expired = (s["expiry"] < ledger.as_of).to_numpy()  # NaT compares False: no expiry never expires
    qty = s["qty"].to_numpy(dtype=float)
    keys = [s["sku"], s["location"]]
    net = s["qty"].groupby(keys).transform("sum").to_numpy()
    expired_units = pd.Series(np.where(expired & (qty > 0), qty, 0.0), index=s.index).groupby(keys).transform("sum")
    cap = np.clip(net - expired_units.to_numpy(), 0.0, None)
    usable = s.assign(cap=cap, unbatched=s["batch"].isna().to_numpy(),
                      arrival=_arrival(ledger, s))[~expired & (qty > EPS)]
    usable = usable.sort_values(["sku", "location", "unbatched", "expiry", "arrival", "batch"],
                                na_position="last", kind="stable")
    before = usable.groupby(["sku", "location"])["qty"].cumsum() - usable["qty"]
    take = np.minimum(usable["qty"], usable["cap"] - before).clip(lower=0.0).round(9)
    out = usable.assign(qty=take)[take > EPS]
    return out[["sku", "location", "batch", "expiry", "qty"]].reset_index(drop=True)


def _arrival(ledger: Ledger, stock: pd.DataFrame) -> np.ndarray:
    """When each batch first came into the store (for FEFO ties on expiry); NaT when unbatched."""
    p = ledger.postings
    p = p.loc[p["batch"].notna().to_numpy() & (p["qty"] > 0).to_numpy(), ["when", "sku", "batch"]]
    first = p.groupby(["sku", "batch"])["when"].min()
    idx = pd.MultiIndex.from_arrays([stock["sku"], stock["batch"]])
    return first.reindex(idx).to_numpy(dtype="datetime64[ns]")


@dataclass
class _Order:
    """One open order: what it still needs per stocked SKU, and where it may ship from."""

    order: str
    needs: dict[str, float] = field(default_factory=dict)
    region: str | None = None
    channel: str | None = None


def _open_orders(store: Store, ledger: Ledger) -> list[_Order]:
    """Open orders in serving order, each with its still-open quantity per stocked SKU."""
    lines = ledger.order_lines
    lines = lines[lines["open_qty"] > EPS]
    if not len(lines):
        return []
    per = ledger.bundles.rename(columns={"qty": "per_bundle"})
    kits = lines.merge(per, left_on="sku", right_on="bundle_sku")
    kits = kits.assign(sku=kits["component_sku"], open_qty=kits["open_qty"] * kits["per_bundle"])
    plain = lines[~lines["sku"].isin(per["bundle_sku"])]
    need = pd.concat([plain, kits[plain.columns]], ignore_index=True)
    need = need[need["open_qty"] > EPS].sort_values("row", kind="stable")
    heads = lines.groupby("order", sort=False).agg(date=("date", "min"), first=("row", "min"),
                                                   region=("region", "first"), channel=("channel", "first"))
    heads = heads.sort_values(["date", "first"], na_position="last", kind="stable")
    orders = {o: _Order(o, region=_text(region), channel=_text(channel))
              for o, region, channel in zip(heads.index, heads["region"], heads["channel"])}
    summed = need.groupby(["order", "sku"], sort=False)["open_qty"].sum()
    for (order, sku), qty in summed.items():
        orders[order].needs[sku] = float(qty)
    return [o for o in orders.values() if o.needs]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _ranker(store: Store, ledger: Ledger) -> Callable[[list[str], str | None], list[str]]:
    """A function ordering candidate locations for an order's region.

    Serving the region first, then the lowest priority number (blank last), then the code.
    """
    table = ledger.places.table
    locs = store["Locations"]
    serves = {loc: set(split_codes(r)) for loc, r in zip(locs["location"], locs["regions"])}
    priority = {loc: np.inf if pd.isna(p) else float(p) for loc, p in table["priority"].items()}

    def rank(candidates: list[str], region: str | None) -> list[str]:
        return sorted(candidates, key=lambda loc: (0 if region and region in serves.get(loc, ()) else 1,
                                                   priority.get(loc, np.inf), loc))

    return rank


def _fewest_locations(needs: dict[str, float], locs: list[str], have: dict[str, dict[str, float]]) -> tuple[str, ...]:
    """The fewest locations (most preferred first) that ship as much of the order as can be shipped."""
    useful = [loc for loc in locs if any(have[loc][s] > EPS for s in needs)]

    def filled(chosen: tuple[str, ...]) -> float:
        return sum(min(q, sum(have[loc][s] for loc in chosen)) for s, q in needs.items())

    target = filled(tuple(useful))
    if target <= EPS:
        return ()
    if len(useful) <= EXACT_SPLIT_LIMIT:
        for k in range(1, len(useful) + 1):
            for chosen in combinations(useful, k):  # in preference order: the first hit is the best
                if filled(chosen) >= target - EPS:
                    return chosen
    chosen: tuple[str, ...] = ()
    while filled(chosen) < target - EPS:
        rest = [loc for loc in useful if loc not in chosen]
        chosen += (max(rest, key=lambda loc: (filled(chosen + (loc,)), -rest.index(loc))),)
    return tuple(loc for loc in useful if loc in chosen)


def allocate(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Allocate every open order line: one row per order, SKU, location and batch taken.

    Columns order, sku, qty, location, bin, batch, status: "allocated" (the order ships from one
    location), "split" (it ships from several) or "short" (the units no allowed location has;
    location blank). Deterministic: the same store gives the same rows in the same order.

    Worked out once per ledger (Stock's Reserved column and the channel sheets both need it);
    callers only read it.
    """
    return ledger.derived("allocation", store, lambda: _allocate(store, ledger))


def _allocate(store: Store, ledger: Ledger) -> pd.DataFrame:
    orders = _open_orders(store, ledger)
    if not orders:
        return _frame([])
    pool = promisable_stock(store, ledger)
    batches: dict[tuple[str, str], list[list]] = {}
    # Columns as lists first: stepping through arrow-backed text one value at a time is slow.
    for sku, loc, batch, qty in zip(*(pool[c].tolist() for c in ("sku", "location", "batch", "qty"))):
        batches.setdefault((sku, loc), []).append([None if pd.isna(batch) else batch, float(qty)])
    available = {key: sum(q for _, q in parts) for key, parts in batches.items()}
    feeds = channel_feeds(store, ledger)
    sellable = _sellable(ledger)
    bins = _bins(store)
    rank = _ranker(store, ledger)

    # Orders share a few channels and regions: each ranking is worked out once. A location holding
    # none of an order's SKUs cannot ship any of it, so only those holding some are weighed.
    ranked = functools.cache(lambda channel, region: rank(feeds.get(channel, sellable), region))
    stocked: dict[str, set[str]] = {}
    for sku, loc in available:
        stocked.setdefault(sku, set()).add(loc)
    rows: list[tuple] = []
    for o in orders:
        holding = set().union(*(stocked.get(s, ()) for s in o.needs))
        locs = [loc for loc in ranked(o.channel, o.region) if loc in holding]
        have = {loc: {s: available.get((s, loc), 0.0) for s in o.needs} for loc in locs}
        chosen = _fewest_locations(o.needs, locs, have)
        taken: list[tuple[str, float, str, object]] = []
        short: list[tuple[str, float]] = []
        for sku, qty in o.needs.items():
            whole = next((loc for loc in chosen if have[loc][sku] >= qty - EPS), None)
            rest = qty
            for loc in [whole] if whole else chosen:
                for batch, q in _take(batches.get((sku, loc), []), rest):
                    taken.append((sku, q, loc, batch))
                    available[(sku, loc)] -= q
                    rest -= q
                if rest <= EPS:
                    break
            if rest > EPS:
                short.append((sku, rest))
        status = "split" if len({loc for _, _, loc, _ in taken}) > 1 else "allocated"
        rows += [(o.order, sku, q, loc, bins.get((sku, loc)), batch, status) for sku, q, loc, batch in taken]
        rows += [(o.order, sku, q, None, None, None, "short") for sku, q in short]
    return _frame(rows)


def _take(parts: list[list], qty: float) -> list[tuple[object, float]]:
    """Take up to qty from a location's batches, in their (FEFO) order; the batches shrink."""
    out = []
    for part in parts:
        if qty <= EPS:
            break
        q = min(part[1], qty)
        if q > EPS:
            part[1] -= q
            qty -= q
            out.append((part[0], round(q, 9)))
    return out


def _bins(store: Store) -> dict[tuple[str, str], str]:
    il = store["Item Locations"].dropna(subset=["sku", "location", "bin"])
    return {(s, loc): b for s, loc, b in zip(il["sku"].tolist(), il["location"].tolist(), il["bin"].tolist())}


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)
    return frame.astype({"order": "str", "sku": "str", "qty": "float64", "location": "str", "bin": "str",
                         "batch": "str", "status": "str"})


def allocation_sheets(store: Store, ledger: Ledger, allocation: pd.DataFrame | None = None) -> list[SheetData]:
    """The Allocation and Pick List sheets (none when no order line is open)."""
    allocation = allocate(store, ledger) if allocation is None else allocation
    if not len(allocation):
        return []
    notes = (
        ("Allocation", ("Each order ships from one location that has all of it: one serving the order's "
                       "region first, then the lowest priority number. Orders are served by order date.")),
        ("split", "No single location had the whole order; it ships from the fewest locations that can."),
        ("short", "Units no allowed location has (after earlier orders); the location is blank."),
        ("Batch", "First expiring first; expired batches are never allocated."),
    )
    return [
        sheet("Allocation", allocation, fills={"status": {"allocated": "green", "split": "amber", "short": "red"}},
              notes=notes),
        sheet("Pick List", pick_list(store, allocation), notes=(
            ("Picked", "Tick each line once you have checked SKU, size, colour and quantity against the item."),
            ("Order", "Lines are sorted by location and bin, so one walk picks them all."),
        )),
    ]


def pick_list(store: Store, allocation: pd.DataFrame) -> pd.DataFrame:
    """The allocated lines to pick, by location then bin (blank bins last), with name and variant.

    `picked` is left blank: a check column the picker ticks.
    """
    picks = allocation[allocation["location"].notna()]
    items = store["Items"].drop_duplicates("sku").set_index("sku")
    picks = picks.assign(name=picks["sku"].map(items["name"]), variant=picks["sku"].map(items["variant"]), picked=None)
    picks = picks.sort_values(["location", "bin", "sku", "batch", "order"], na_position="last", kind="stable")
    return picks[["location", "bin", "sku", "name", "variant", "qty", "batch", "order", "picked"]].reset_index(drop=True)
