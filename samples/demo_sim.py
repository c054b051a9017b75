"""The demo store's year of trading, simulated day by day on a real shop's demand.

Orders arrive as the real shop's invoice lines did (samples/data/), shifted by whole weeks so that
weekdays keep (the shop never traded on Saturdays: the demo counts stock then). Stock is bought by
a weekly reorder review, moved to the other warehouses on Mondays, sold from the location nearest
the customer, returned, inspected, restocked or written off, damaged, lost, adjusted and counted.
A fixed seed and a fixed as-of date make every build the same, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from demo_catalogue import (
    ADJUST_REASONS,
    ADJUSTERS,
    BUNDLES,
    CHANNEL_SHARE,
    CHANNELS,
    COUNTERS,
    DAMAGE_REASONS,
    DISCONTINUED,
    FAMILIES,
    LOCATIONS,
    LOSS_REASONS,
    REGION_HOME,
    REGION_SHARE,
    SUPPLIERS,
    Family,
)

HERE = Path(__file__).resolve().parent

SEED = 20251212
AS_OF = pd.Timestamp("2025-12-12")
SHIFT = pd.Timedelta(weeks=731)  # 2011-12-09, the data's last day, becomes AS_OF (both Fridays)
DEMAND = HERE / "data" / "online_retail_top10_daily_lines.csv"
STOCK_LOCATIONS = ("MAIN", "SOUTH", "EU")
BIN_PREFIX = {"MAIN": "", "SOUTH": "S", "EU": "E"}
PROMO = ("Summer sale", pd.Timestamp("2025-07-04"), pd.Timestamp("2025-07-13"), "WEB")
REPEAT_OFFENDER = ("SOCK-CRW-M-BLK", "SOUTH", {"2025-11-15": -2, "2025-11-29": 0, "2025-12-06": -3})
SHORT_DATED = {"TEA-HRB-MNT": AS_OF - pd.Timedelta(days=12), "SOAP-NAT-OAT": AS_OF + pd.Timedelta(days=18)}
SHORT_PO = "PO-25040"  # delivered short, then closed
REVIEW_DAYS, COVER_DAYS, SAFETY_DAYS = 7, 28, 12


@dataclass
class Lot:
    batch: str | None
    expiry: pd.Timestamp | None
    qty: float


@dataclass
class Store:
    """The simulated store: what is where, what is on order, and everything written down."""

    rng: np.random.Generator
    days: pd.DatetimeIndex
    items: dict[str, dict]  # sku -> item facts (family, supplier, cost, tracking, ...)
    lots: dict[tuple[str, str], list[Lot]] = field(default_factory=lambda: defaultdict(list))
    on_order: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    arrivals: dict[pd.Timestamp, list] = field(default_factory=lambda: defaultdict(list))
    demand: dict[str, np.ndarray] = field(default_factory=dict)
    hold: list[dict] = field(default_factory=list)  # units in the returns hold
    due_returns: dict[pd.Timestamp, list] = field(default_factory=lambda: defaultdict(list))
    movements: list[dict] = field(default_factory=list)
    counts: list[dict] = field(default_factory=list)
    purchases: list[dict] = field(default_factory=list)
    last_po: dict[str, str] = field(default_factory=dict)
    orders_seq: int = 0
    po_seq: int = 0
    counted: int = 0

    # Stock -----------------------------------------------------------------------------------
    def on_hand(self, sku: str, loc: str, day: pd.Timestamp | None = None) -> float:
        """Units at a place; with a day, only those that have not expired by then."""
        return sum(lot.qty for lot in self.lots[sku, loc] if day is None or lot.expiry is None or lot.expiry > day)

    def take(self, sku: str, loc: str, qty: float, day: pd.Timestamp) -> list[Lot]:
        """Remove qty first-expiring-first (skipping expired lots); the pieces taken, by batch."""
        pieces, left = [], qty
        for lot in sorted(self.lots[sku, loc], key=lambda x: (x.expiry is None, x.expiry or day)):
            if left <= 0:
                break
            if lot.expiry is not None and lot.expiry <= day or lot.qty <= 0:
                continue
            n = min(lot.qty, left)
            lot.qty -= n
            left -= n
            pieces.append(Lot(lot.batch, lot.expiry, n))
        self.lots[sku, loc] = [lot for lot in self.lots[sku, loc] if lot.qty > 0]
        return pieces

    def put(self, sku: str, loc: str, lot: Lot) -> None:
        for mine in self.lots[sku, loc]:
            if mine.batch == lot.batch:
                mine.qty += lot.qty
                return
        self.lots[sku, loc].append(Lot(lot.batch, lot.expiry, lot.qty))

    def move(self, day: pd.Timestamp, type: str, sku: str, qty: float, frm: str | None = None,
             to: str | None = None, named_batch: bool = True, **extra) -> None:
        """Write a movement and apply it; stock leaving a location goes first-expiring-first."""
        if frm in self.all_locations:
            pieces = self.take(sku, frm, qty, day)
        else:
            pieces = [Lot(extra.pop("batch", None), extra.pop("expiry", None), qty)]
        for piece in pieces:
            if to in self.all_locations:
                self.put(sku, to, piece)
            tracked = self.items[sku]["tracking"] != "none"
            self.movements.append({
                "date": day, "type": type, "sku": sku, "qty": piece.qty, "from_location": frm, "to_location": to,
                "batch": piece.batch if tracked and (named_batch or type == "receive") else None,
                "expiry": piece.expiry if tracked and type == "receive" else None, **extra})

    all_locations = tuple(loc[0] for loc in LOCATIONS)

    def rate(self, sku: str, i: int, days: int = COVER_DAYS) -> float:
        """Average units asked for per day over the last `days` days."""
        return float(self.demand[sku][max(0, i - days):i].mean()) if i else 0.0


def weekday_on_or_after(day: pd.Timestamp) -> pd.Timestamp:
    """Deliveries and returns land on working days: Saturday and Sunday roll to Monday."""
    return day + pd.Timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def load_orders() -> dict[pd.Timestamp, dict[str, int]]:
    """Invoice lines per day and stock code, moved to the demo's calendar."""
    lines = pd.read_csv(DEMAND, dtype={"stock_code": str}, parse_dates=["date"])
    lines["date"] += SHIFT
    out: dict[pd.Timestamp, dict[str, int]] = defaultdict(dict)
    for row in lines.itertuples():
        out[row.date][row.stock_code] = int(row.lines)
    return out


def return_rates() -> dict[str, float]:
    """Online clothes come back more often than a gift shop's lines: three times its cancel rate."""
    lines = pd.read_csv(DEMAND, dtype={"stock_code": str}).groupby("stock_code")[["lines", "cancel_lines"]].sum()
    return {code: min(0.15, 3 * r.cancel_lines / r.lines) for code, r in lines.iterrows()}


def catalogue() -> dict[str, dict]:
    """Every SKU's facts, bundles included, keyed by SKU."""
    items: dict[str, dict] = {}
    for n, fam in enumerate(FAMILIES):
        for k, (sku, variant, share) in enumerate(fam.variants()):
            bins = {loc: f"{BIN_PREFIX[loc]}{fam.aisle}-{n + 1:02d}-{k + 1:02d}" for loc in fam.stocked_at}
            items[sku] = {"family": fam, "variant": variant, "share": share, "tracking": fam.tracking,
                          "supplier": fam.supplier, "cost": fam.cost, "bundle": None, "bins": bins,
                          "status": "discontinued" if sku in DISCONTINUED else "active", "n": n * 100 + k}
    for n, (sku, _name, _price, parts, _fam, _share) in enumerate(BUNDLES):
        items[sku] = {"family": None, "tracking": "none", "bundle": parts, "status": "active", "n": 9000 + n,
                      "cost": round(sum(items[c]["cost"] * q for c, q in parts.items()), 2), "supplier": None}
    return items


def simulate() -> Store:
    """Trade every day from the data's first day to AS_OF."""
    rng = np.random.default_rng(SEED)
    orders = load_orders()
    days = pd.date_range(min(orders), AS_OF, freq="D")
    store = Store(rng, days, catalogue())
    store.demand = {sku: np.zeros(len(days)) for sku in store.items}
    rates = return_rates()
    prior = {f.code: sum(orders[d].get(f.code, 0) for d in days) / len(days) for f in FAMILIES}
    launch = {f.code: min(d for d in orders if f.code in orders[d]) for f in FAMILIES}
    for i, day in enumerate(days):
        if i == 0:
            opening_stock(store, day, prior, launch)
        for arrival in store.arrivals.pop(day, []):
            receive(store, day, *arrival)
        if day.weekday() == 0:
            if day.day <= 7:
                vendor_returns(store, day)
            reorder_review(store, i, day)
            rebalance(store, i, day)
        if day.weekday() in (0, 3):
            inspect_returns(store, day)
        for fam in FAMILIES:
            n = orders.get(day, {}).get(fam.code, 0)
            for _ in range(n):
                sell(store, i, day, fam, rates[fam.code])
            if PROMO[1] <= day <= PROMO[2]:  # the promo's extra web orders
                for _ in range(n // 2):
                    sell(store, i, day, fam, rates[fam.code], channel=PROMO[3])
        for ret in store.due_returns.pop(day, []):
            store.move(day, "return", ret["sku"], ret["qty"], None, "RET", reference=ret["order"],
                       channel=ret["channel"], reason=ret["reason"])
            store.hold.append({**ret, "received": day})
        if day.weekday() < 5:
            incidents(store, day)
        if day.weekday() == 5:
            count(store, day)
    return store


def opening_stock(store: Store, day: pd.Timestamp, prior: dict[str, float],
                  launch: dict[str, pd.Timestamp]) -> None:
    """What the store held when the ledger starts: about six weeks of sales, spread by region.

    A product launched later in the year starts with nothing: its first orders find it out of stock.
    """
    for sku, item in store.items.items():
        fam: Family | None = item["family"]
        if fam is None or launch[fam.code] > day + pd.Timedelta(days=30):
            continue
        daily = prior[fam.code] * item["share"] * 2.2  # 1.4 rows an order, 1.56 units a row
        days_of_stock = 540 if sku in SHORT_DATED else 42  # short-dated stock outlasts its date
        for loc in fam.stocked_at:
            share = {"MAIN": 0.55, "SOUTH": 0.35, "EU": 0.15}[loc] if len(fam.stocked_at) > 1 else 1.0
            qty = packs(daily * days_of_stock * share, fam.case_pack)
            expiry = SHORT_DATED.get(sku) or expiry_for(store, fam, day)
            store.move(day, "receive", sku, qty, None, loc, batch=batch_for(fam, day), expiry=expiry,
                       unit_cost=fam.cost, note="Opening stock")


def packs(qty: float, case_pack: int) -> int:
    return int(max(1, np.ceil(qty / case_pack)) * case_pack)


def batch_for(fam: Family, day: pd.Timestamp) -> str | None:
    return f"L{day:%y%m%d}" if fam.tracking != "none" else None


def expiry_for(store: Store, fam: Family, day: pd.Timestamp) -> pd.Timestamp | None:
    if fam.tracking != "expiry":
        return None
    return day + pd.Timedelta(days=int(fam.shelf_life - store.rng.integers(20, 90)))


def sell(store: Store, i: int, day: pd.Timestamp, fam: Family, return_rate: float, channel: str | None = None) -> None:
    """One customer order: a variant (sometimes two, or the family's bundle) from the nearest stock."""
    rng = store.rng
    channel = channel or ("WEB" if rng.random() < CHANNEL_SHARE["WEB"] else "AMAZON")
    regions = REGION_SHARE[channel]
    region = str(rng.choice(list(regions), p=list(regions.values())))
    store.orders_seq += 1
    order = f"{'W' if channel == 'WEB' else 'AMZ-'}{100000 + store.orders_seq}"
    bundle = next((b for b in BUNDLES if b[4] == fam.prefix), None)
    if bundle and rng.random() < bundle[5]:
        sku, parts = bundle[0], bundle[3]
        store.demand[sku][i] += 1
        if all(store.on_hand(c, "MAIN", day) >= q for c, q in parts.items()):
            for c, q in parts.items():
                store.demand[c][i] += q
                store.take(c, "MAIN", q, day)  # the bundle's sale row moves its components
            store.movements.append({"date": day, "type": "sale", "sku": sku, "qty": 1, "from_location": "MAIN",
                                    "reference": order, "channel": channel})
        return
    variants = fam.variants()
    n_rows = 2 if rng.random() < 0.4 else 1  # a second size or colour in the same order
    for k in rng.choice(len(variants), size=n_rows, replace=False, p=[v[2] for v in variants]):
        sku = variants[k][0]
        qty = int(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3]))
        store.demand[sku][i] += qty
        loc = allocate(store, sku, qty, region, channel, day)
        if loc is None:
            continue  # out of stock everywhere: a lost sale
        store.move(day, "sale", sku, qty, loc, None, reference=order, channel=channel)
        if fam.returnable and rng.random() < return_rate:
            back = weekday_on_or_after(day + pd.Timedelta(days=int(rng.integers(4, 22))))
            if back <= AS_OF:
                store.due_returns[back].append({"sku": sku, "qty": 1, "order": order, "channel": channel,
                                                "reason": str(rng.choice(fam.reasons))})


def allocate(store: Store, sku: str, qty: float, region: str, channel: str, day: pd.Timestamp) -> str | None:
    """The location that ships: the region's own if it has the stock, else the first by priority."""
    feeds = dict((c[0], c[3]) for c in CHANNELS)[channel]
    allowed = [loc for loc in STOCK_LOCATIONS if feeds is None or loc in feeds]
    home = REGION_HOME[region]
    for loc in sorted(allowed, key=lambda loc: (loc != home, STOCK_LOCATIONS.index(loc))):
        if store.on_hand(sku, loc, day) >= qty:
            return loc
    return None




def lead_time(supplier: str) -> int:
    """Processing, shipping, customs, receiving and put-away days, added up."""
    return sum(next(s for s in SUPPLIERS if s[0] == supplier)[3:8])


def receive(store: Store, day: pd.Timestamp, po: str, sku: str, received: float, ordered: float, loc: str) -> None:
    """A PO line arrives; a short delivery still closes the line (the supplier credits the rest)."""
    fam = store.items[sku]["family"]
    note = f"short: {ordered - received:g} of {ordered:g} not delivered" if received < ordered else None
    store.move(day, "receive", sku, received, None, loc, batch=batch_for(fam, day), expiry=expiry_for(store, fam, day),
               unit_cost=fam.cost, reference=po, note=note)
    store.on_order[sku] -= ordered
    store.last_po[sku] = po


def reorder_review(store: Store, i: int, day: pd.Timestamp) -> None:
    """Monday review: order up to four weeks' cover past the lead time when the position is low."""
    wanted: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sku, item in store.items.items():
        fam: Family | None = item["family"]
        rate = max(store.rate(sku, i), store.rate(sku, i, REVIEW_DAYS))  # rising demand counts at once
        if fam is None or item["status"] != "active" or rate == 0:
            continue
        lead = lead_time(fam.supplier)
        position = sum(store.on_hand(sku, loc, day) for loc in STOCK_LOCATIONS) + store.on_order[sku]
        safety = rate * SAFETY_DAYS
        if position > rate * (lead + REVIEW_DAYS) + safety:
            continue
        qty = rate * (lead + REVIEW_DAYS + COVER_DAYS) + safety - position
        if fam.shelf_life:  # buy no more than a third of a shelf life ahead
            qty = min(qty, rate * fam.shelf_life / 3)
        wanted[fam.supplier].append((sku, max(packs(qty, fam.case_pack), fam.min_order_qty or 0)))
    for supplier, lines in wanted.items():
        store.po_seq += 1
        po = f"PO-{25000 + store.po_seq}"
        expected = day + pd.Timedelta(days=lead_time(supplier))
        arrives = weekday_on_or_after(expected + pd.Timedelta(days=int(store.rng.integers(-1, 5))))
        for k, (sku, qty) in enumerate(lines):
            received = qty - packs(qty * 0.2, store.items[sku]["family"].case_pack) if po == SHORT_PO and k == 0 else qty
            store.on_order[sku] += qty
            store.arrivals[arrives].append((po, sku, received, qty, "MAIN"))
            store.purchases.append({"po": po, "supplier": supplier, "sku": sku, "qty": qty, "ordered": day,
                                    "expected": expected, "unit_cost": store.items[sku]["cost"],
                                    "status": "closed" if arrives <= AS_OF else "open"})


def rebalance(store: Store, i: int, day: pd.Timestamp) -> None:
    """Monday transfers: top the other warehouses up to three weeks of their region's demand."""
    for loc, share in (("SOUTH", 0.41), ("EU", 0.11)):
        for sku, item in store.items.items():
            fam = item["family"]
            if fam is None or loc not in fam.stocked_at or fam.tracking != "none":
                continue
            rate = store.rate(sku, i)
            target = rate * share * 21
            here = store.on_hand(sku, loc)
            spare = store.on_hand(sku, "MAIN") - rate * (1 - share) * REVIEW_DAYS
            qty = int(min(target - here, spare))
            if here < target / 2 and qty >= 1:
                store.move(day, "transfer", sku, qty, "MAIN", loc)


def inspect_returns(store: Store, day: pd.Timestamp) -> None:
    """Twice a week: restock what is fine, write off what is faulty. Disputed returns wait."""
    waiting = []
    for ret in store.hold:
        disputed = ret["reason"] == "not as described" and ret["received"] >= AS_OF - pd.Timedelta(weeks=8)
        if (day - ret["received"]).days < 2 or disputed:
            waiting.append(ret)
        elif ret["reason"] in ("faulty", "arrived damaged"):
            store.move(day, "damage", ret["sku"], ret["qty"], "RET", "DMG", reference=ret["order"],
                       reason=f"failed inspection: {ret['reason']}")
        else:
            store.move(day, "restock", ret["sku"], ret["qty"], "RET", "MAIN", reference=ret["order"])
    store.hold = waiting


def vendor_returns(store: Store, day: pd.Timestamp) -> None:
    """First Monday of the month: faulty clothes go back to the textile supplier against their PO."""
    for sku, item in store.items.items():
        qty = store.on_hand(sku, "DMG")
        if item["supplier"] == "SUP-TEX" and qty > 0 and sku in store.last_po:
            store.move(day, "vendor-return", sku, qty, "DMG", None, reference=store.last_po[sku],
                       reason="faulty: credit requested")


def incidents(store: Store, day: pd.Timestamp) -> None:
    """The small events teams forget: a unit damaged, a unit lost, a correction."""
    rng = store.rng
    stocked = [(sku, loc) for (sku, loc), lots in store.lots.items()
               if loc in ("MAIN", "SOUTH") and store.items[sku]["tracking"] == "none" and sum(x.qty for x in lots) >= 3]
    if not stocked:
        return
    if rng.random() < 0.15:
        sku, loc = stocked[rng.integers(len(stocked))]
        store.move(day, "damage", sku, 1, loc, "DMG", reason=str(rng.choice(DAMAGE_REASONS)))
    if rng.random() < 0.08:
        sku, loc = stocked[rng.integers(len(stocked))]
        reasons = LOSS_REASONS if loc == "SOUTH" else LOSS_REASONS[:2]  # transit losses reach the south
        store.move(day, "loss", sku, 1, loc, None, reason=str(rng.choice(reasons)))
    if rng.random() < 0.07:
        sku = next((s for s, loc in stocked[rng.integers(len(stocked)):] if loc == "MAIN"), None)
        if sku:
            delta = int(rng.choice([2, 1, -1, -2]))
            if delta < 0:
                store.take(sku, "MAIN", -delta, day)
            else:
                store.put(sku, "MAIN", Lot(None, None, delta))
            store.movements.append({"date": day, "type": "adjust", "sku": sku, "qty": delta, "to_location": "MAIN",
                                    "reason": str(rng.choice(ADJUST_REASONS)), "user": str(rng.choice(ADJUSTERS))})


def count(store: Store, day: pd.Timestamp) -> None:
    """Saturday cycle count of ten SKU-locations in turn; the count becomes the book."""
    sku0, loc0, forced = REPEAT_OFFENDER
    pairs = [(sku, loc) for sku, item in store.items.items() if item["family"] and item["tracking"] == "none"
             for loc in item["family"].stocked_at if (sku, loc) != (sku0, loc0)]
    start = store.counted % len(pairs)
    todo = [(p, None) for p in (pairs + pairs)[start:start + 10]]
    store.counted += 10
    if f"{day:%Y-%m-%d}" in forced:
        todo.append(((sku0, loc0), forced[f"{day:%Y-%m-%d}"]))
    for (sku, loc), delta in todo:
        if delta is None:
            delta = int(store.rng.choice([-2, -1, -1, 1, 2])) if store.rng.random() < 0.22 else 0
        book = store.on_hand(sku, loc)
        counted = max(0, book + delta)
        if counted < book:
            store.take(sku, loc, book - counted, day)
        elif counted > book:
            store.put(sku, loc, Lot(None, None, counted - book))
        store.counts.append({"date": day, "location": loc, "sku": sku, "counted_qty": counted,
                             "counter": str(store.rng.choice(COUNTERS)), "bin": store.items[sku]["bins"][loc]})
