"""Time ledger.build on a large synthetic store: 1,048,575 movements (a full Excel sheet).

10,000 SKUs (10% batch-tracked with expiry), 20 locations (17 stock, a returns hold, a damaged
location, a transit), a year of days, every movement type, 20,000 counts, 5,000 open order lines
and 5,000 PO lines. Run: python benchmarks/ledger_bench.py [rows]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from inv_sheets.contract.book import Settings, Store
from inv_sheets.contract.issues import column_letter
from inv_sheets.contract.schema import SHEETS
from inv_sheets.ledger import postings as ledger


def synthetic_store(rows: int = 1_048_575, skus: int = 10_000, seed: int = 1, tracked_share: float = 0.10) -> Store:
    """A typed Store with `rows` movements spread over a year."""
    rng = np.random.default_rng(seed)
    sku_codes = np.array([f"SKU{i:05d}" for i in range(skus)], dtype=object)
    tracked = rng.random(skus) < tracked_share
    stock_locs = np.array([f"L{i:02d}" for i in range(17)], dtype=object)
    locs = pd.DataFrame({
        "location": [*stock_locs, "RET", "DMG", "TRN"], "name": None,
        "kind": ["stock"] * 17 + ["returns_hold", "damaged", "transit"],
        "sellable": [True] * 17 + [False] * 3, "priority": np.arange(20, dtype=float), "regions": None,
    })
    items = pd.DataFrame({"sku": sku_codes, "name": sku_codes, "tracking": np.where(tracked, "expiry", "none"),
                          "unit_cost": rng.uniform(1, 50, skus)})

    kinds = np.array(["receive", "sale", "return", "restock", "damage", "loss", "transfer", "adjust", "vendor-return"])
    weights = np.array([0.18, 0.60, 0.04, 0.03, 0.02, 0.02, 0.06, 0.04, 0.01])
    t = rng.choice(kinds, size=rows, p=weights)
    sku_i = rng.integers(0, skus, rows)
    # Each SKU lives mostly at its home location; one movement in ten is elsewhere.
    home = rng.choice(stock_locs, skus)
    loc = np.where(rng.random(rows) < 0.9, home[sku_i], rng.choice(stock_locs, rows))
    other = rng.choice(stock_locs, rows)
    other = np.where(other == loc, "TRN", other)
    qty = np.where(t == "receive", rng.integers(20, 200, rows), rng.integers(1, 6, rows)).astype(float)
    qty = np.where((t == "adjust") & (rng.random(rows) < 0.5), -qty, qty)
    frm = np.full(rows, None, dtype=object)
    to = np.full(rows, None, dtype=object)
    to[t == "receive"] = loc[t == "receive"]
    for k in ("sale", "damage", "loss", "vendor-return", "transfer"):
        frm[t == k] = loc[t == k]
    to[t == "transfer"] = other[t == "transfer"]
    to[t == "return"] = "RET"
    frm[t == "restock"] = "RET"
    to[t == "restock"] = loc[t == "restock"]
    to[t == "damage"] = "DMG"
    to[t == "adjust"] = loc[t == "adjust"]
    # The first movement of every SKU is an opening receipt at home.
    first = np.unique(sku_i, return_index=True)[1]
    t[first], loc[first], qty[first] = "receive", home[sku_i[first]], 200.0
    to[first], frm[first] = loc[first], None
    day = np.sort(rng.integers(0, 365, rows))
    day[first] = 0
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(day, "D")
    is_tr_receipt = (t == "receive") & tracked[sku_i]
    batch = np.where(is_tr_receipt, np.char.add("B", rng.integers(0, 10**6, rows).astype(str)).astype(object), None)
    # Expiry mostly increases with the receipt date; one receipt in twenty expires earlier.
    shelf = rng.integers(60, 400, rows) - np.where(rng.random(rows) < 0.05, 300, 0)
    expiry = np.where(is_tr_receipt, dates + pd.to_timedelta(shelf, "D"), pd.NaT)
    movements = pd.DataFrame({
        "movement_id": np.char.add("M", np.arange(rows).astype(str)).astype(object), "date": dates, "type": t,
        "sku": sku_codes[sku_i], "qty": qty, "from_location": frm, "to_location": to, "batch": batch,
        "expiry": pd.to_datetime(expiry), "unit_cost": np.nan, "reference": None, "channel": None,
        "reason": "bench", "user": "bench", "note": None,
    }, index=pd.RangeIndex(2, rows + 2))
    n_counts = 20_000
    counts = pd.DataFrame({
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n_counts), "D"),
        "location": rng.choice(stock_locs, n_counts), "sku": sku_codes[rng.integers(0, skus, n_counts)],
        "batch": None, "counted_qty": rng.integers(0, 50, n_counts).astype(float), "counter": None, "bin": None,
    }, index=pd.RangeIndex(2, n_counts + 2)).drop_duplicates(["date", "location", "sku"])
    orders = pd.DataFrame({"order": [f"SO{i}" for i in range(5000)], "date": pd.Timestamp("2025-12-30"),
                           "channel": None, "sku": sku_codes[rng.integers(0, skus, 5000)],
                           "qty": rng.integers(1, 4, 5000).astype(float), "region": None, "status": "open"},
                          index=pd.RangeIndex(2, 5002))
    purchases = pd.DataFrame({"po": [f"PO{i // 5}" for i in range(5000)], "supplier": "SUP",
                              "sku": sku_codes[rng.permutation(skus)[:5000]], "qty": 100.0,
                              "ordered": pd.Timestamp("2025-12-01"), "expected": pd.Timestamp("2026-01-15"),
                              "unit_cost": 1.0, "status": "open"}, index=pd.RangeIndex(2, 5002))
    given = {"Items": items, "Locations": locs, "Movements": movements, "Counts": counts,
             "Orders": orders, "Purchases": purchases}
    tables, letters = {}, {}
    for s in SHEETS:
        frame = given.get(s.name, pd.DataFrame(index=pd.RangeIndex(2, 2)))
        tables[s.name] = frame.reindex(columns=[c.name for c in s.columns])
        letters[s.name] = {c.name: column_letter(i) for i, c in enumerate(s.columns, 1)}
    return Store(tables, Settings(as_of=pd.Timestamp("2025-12-31")), titles={k: k for k in given}, letters=letters)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_048_575
    t0 = time.perf_counter()
    store = synthetic_store(rows)
    t1 = time.perf_counter()
    c1 = time.process_time()
    phases: list[tuple[str, float]] = []
    led = ledger.build(store, progress=lambda phase, done: phases.append((phase, time.perf_counter())))
    t2 = time.perf_counter()
    c2 = time.process_time()
    daily = led.daily("2025-01-01", "2025-12-31")
    t3 = time.perf_counter()
    print(f"synthetic store: {t1 - t0:.2f}s ({rows:,} movements)")
    last = t1
    for phase, at in phases:
        print(f"  until {phase:<10} {at - last:6.2f}s")
        last = at
    print(f"ledger.build:    {t2 - t1:.2f}s wall, {c2 - c1:.2f}s CPU  ({len(led.postings):,} postings, {len(led.stock):,} stock rows, "
          f"{len(led.issues):,} findings)")
    print(f"ledger.daily:    {t3 - t2:.2f}s  ({daily.shape[0]} days x {daily.shape[1]:,} SKUs)")


if __name__ == "__main__":
    main()
