"""Build the bundled demo store, samples/demo-store.xlsx: a year of trading on a real shop's demand.

    python samples/build_demo.py [OUT.xlsx]

demo_catalogue.py holds the store's fixed parts, demo_sim.py trades through the year; this script
turns the result into the workbook's sheets and writes it with inv_sheets.contract.template.build_workbook.
A fixed seed and a fixed as-of date make every build the same, byte for byte.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):  # the demo modules beside this file, inv_sheets above it
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from demo_catalogue import ADJUSTERS, BUNDLES, CHANNELS, LOCATIONS, REGION_HOME, SUPPLIERS, gtin13
from demo_sim import AS_OF, PROMO, SEED, STOCK_LOCATIONS, Store, simulate  # noqa: E402

from inv_sheets.contract.schema import SHEET  # noqa: E402
from inv_sheets.contract.template import build_workbook  # noqa: E402

OUT = HERE / "demo-store.xlsx"
PACKAGED = HERE.parent / "inv_sheets" / "resources" / "demo-store.xlsx"


def build(path: str | Path = OUT) -> Path:
    """Simulate the year and write the workbook; returns its path."""
    build_workbook(path, tables_for(simulate()))
    return Path(path)


def tables_for(store: Store) -> dict[str, pd.DataFrame]:
    """Every input sheet of the demo, as frames with canonical column names."""
    frames = {
        "Items": items(store),
        "Locations": rows(LOCATIONS, "location", "name", "kind", "sellable", "priority", "regions"),
        "Item Locations": item_locations(store),
        "Suppliers": rows(SUPPLIERS, "supplier", "name", "email", "processing_days", "shipping_days",
                          "customs_days", "receiving_days", "putaway_days", "min_order_value"),
        "Movements": movements(store),
        "Counts": pd.DataFrame(store.counts),
        "Orders": orders(store),
        "Purchases": pd.DataFrame(store.purchases),
        "Bundles": pd.DataFrame([{"bundle_sku": b[0], "component_sku": c, "qty": q}
                                 for b in BUNDLES for c, q in b[3].items()]),
        "Channels": rows(CHANNELS, "channel", "buffer_units", "buffer_pct", "locations"),
        "Promotions": pd.DataFrame([{"name": PROMO[0], "start": PROMO[1], "end": PROMO[2], "channel": PROMO[3]}]),
        "Settings": pd.DataFrame({"key": ["as_of", "default_location", "returns_location", "damaged_location",
                                          "adjusters"],
                                  "value": [AS_OF, "MAIN", "RET", "DMG", ", ".join(ADJUSTERS)]}),
    }
    # Column order as the contract declares it; whole numbers as integers so cells read "12", not "12.0"
    return {name: frame.reindex(columns=[c.name for c in SHEET[name].columns if c.name in frame]).map(_whole)
            for name, frame in frames.items()}


def rows(records, *columns: str) -> pd.DataFrame:
    return pd.DataFrame(list(records), columns=list(columns))


def _whole(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def items(store: Store) -> pd.DataFrame:
    out = []
    for sku, item in store.items.items():
        fam = item["family"]
        # a few suppliers use UPC-A codes, which as GTIN-13 start with 0: they must stay text
        prefix = "0712345" if item["supplier"] == "SUP-BOT" else "5061234"
        common = {"sku": sku, "barcode": gtin13(f"{prefix}{item['n']:05d}"), "status": item["status"],
                  "unit_cost": item["cost"], "unit": "each"}
        if fam is None:
            bundle = next(b for b in BUNDLES if b[0] == sku)
            out.append({**common, "name": bundle[1], "product": bundle[1], "price": bundle[2], "category": "Bundles",
                        "unit": "set", "tracking": "none"})
            continue
        out.append({**common, "name": f"{fam.name}, {item['variant']}", "product": fam.name,
                    "variant": item["variant"], "price": fam.price, "supplier": fam.supplier,
                    "supplier_sku": f"{fam.supplier[4:]}-{1000 + item['n']}", "case_pack": fam.case_pack,
                    "min_order_qty": fam.min_order_qty, "tracking": fam.tracking, "shelf_life_days": fam.shelf_life,
                    "category": fam.category})
    return pd.DataFrame(out)


def item_locations(store: Store) -> pd.DataFrame:
    out = []
    for sku, item in store.items.items():
        for loc, bin_ in (item.get("bins") or {}).items():
            row = {"sku": sku, "location": loc, "bin": bin_}
            if loc == "EU" and sku.startswith("HOOD"):  # the 3PL keeps a fixed small range
                row.update(reorder_point=2, safety_stock=1, max_stock=8)
            out.append(row)
    return pd.DataFrame(out)


def movements(store: Store) -> pd.DataFrame:
    frame = pd.DataFrame(store.movements)
    frame.insert(0, "movement_id", [f"MV-{n:06d}" for n in range(1, len(frame) + 1)])
    return frame


def orders(store: Store) -> pd.DataFrame:
    """Order lines at the as-of date: open ones (some need two locations, one cannot be filled), a few
    shipped ones that match the last sales, and a cancelled one."""
    rng = np.random.default_rng(SEED + 1)
    sellable = {(sku, loc): store.on_hand(sku, loc, AS_OF) for sku, item in store.items.items()
                if item["family"] and item["status"] == "active" for loc in item["family"].stocked_at}
    total = {sku: sum(q for (s, _), q in sellable.items() if s == sku) for sku, _ in sellable}
    out: list[dict] = []

    def line(sku: str, qty: float, region: str, channel: str = "WEB", status: str = "open", **kw) -> None:
        store.orders_seq += 1
        out.append({"order": kw.get("order") or f"{'W' if channel == 'WEB' else 'AMZ-'}{100000 + store.orders_seq}",
                    "date": kw.get("date", AS_OF - pd.Timedelta(days=int(rng.integers(0, 2)))),
                    "channel": channel, "sku": sku, "qty": qty, "region": region, "status": status})

    in_stock = [k for k, q in sellable.items() if q >= 3]
    for k in rng.choice(len(in_stock), size=24, replace=False):
        sku, loc = in_stock[k]
        region = next(r for r, home in REGION_HOME.items() if home == loc)
        line(sku, int(rng.integers(1, 3)), region, "AMAZON" if loc != "EU" and rng.random() < 0.25 else "WEB")
    # larger than any one warehouse holds, but not than all of them: the order must be split
    most = {s: max(sellable.get((s, loc), 0) for loc in STOCK_LOCATIONS) for s in total}
    splits = sorted((s for s in total if 2 <= most[s] < total[s] - 1), key=lambda s: (most[s], s))
    for sku in splits[:3]:  # the smallest such orders: a customer's few units, not a pallet
        line(sku, most[sku] + 1, "UK-NORTH")
    short = min((s for s in total if store.items[s]["tracking"] == "none"), key=lambda s: (total[s], s))
    line(short, total[short] + 4, "UK-SOUTH")
    for sale in [m for m in store.movements if m["type"] == "sale"][-3:]:
        line(sale["sku"], sale["qty"], "UK-NORTH", sale["channel"], "shipped", order=sale["reference"], date=sale["date"])
    line(in_stock[0][0], 1, "EU", status="cancelled")
    return pd.DataFrame(out).drop_duplicates(["order", "sku"])


if __name__ == "__main__":
    started = time.perf_counter()
    out = build(sys.argv[1] if len(sys.argv) > 1 else OUT)
    if out == OUT:  # the package ships the same file, for `inv-sheets init --sample` after a pip install
        shutil.copyfile(OUT, PACKAGED)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.1f}s", file=sys.stderr)
