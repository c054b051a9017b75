"""Stock promised but not yet moved: open customer order lines and open purchase order lines.

An open order line reserves its quantity less what sales naming that order (in `reference`) have
already shipped of its SKU. A purchase order line is received by the receipts naming the PO; an
open line still has its unreceived quantity on order, a closed one received short is short.
Order and PO lines of a bundle reserve, or bring, its components. A blank status counts as open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue
from .places import Places

EPS = 1e-9


def _posted(store: Store, moves: pd.DataFrame, mtype: str) -> pd.DataFrame:
    """Posted movements of one type (as typed: a bundle is still the bundle), with a reference."""
    mv = store["Movements"]
    m = mv[moves["posted"].to_numpy() & (mv["type"] == mtype).to_numpy() & mv["reference"].notna().to_numpy()]
    return m.assign(moved=moves.loc[m.index, "qty"])


def _as_components(frame: pd.DataFrame, qty: str, bundles: pd.DataFrame) -> pd.DataFrame:
    """Rows of bundles replaced by one row per component (qty multiplied); others unchanged."""
    is_bundle = frame["sku"].isin(bundles["bundle_sku"])
    per = bundles.rename(columns={"qty": "per_bundle"})
    kits = frame[is_bundle].merge(per, left_on="sku", right_on="bundle_sku")
    kits = kits.assign(sku=kits["component_sku"], **{qty: kits[qty] * kits["per_bundle"]})
    return pd.concat([frame[~is_bundle], kits[frame.columns]], ignore_index=True)


def reservations(store: Store, moves: pd.DataFrame, bundles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What open orders still reserve.

    Returns (reserved: sku, reserved, by stocked SKU; order_lines: row, order, date, channel, sku,
    region, qty, shipped, open_qty, one per open Orders row; held: row, sku, qty, each open line's
    reservation per stocked SKU). Lines of one order and SKU that appear twice are filled in row
    order.
    """
    orders = store["Orders"]
    lines = orders[orders["status"].isna() | (orders["status"] == "open")].dropna(subset=["order", "sku", "qty"])
    lines = lines.rename_axis("row").reset_index()
    sales = _posted(store, moves, "sale")
    shipped = sales.groupby(["reference", "sku"])["moved"].sum()
    key = pd.MultiIndex.from_frame(lines[["order", "sku"]])
    shipped_for_key = shipped.reindex(key, fill_value=0.0).to_numpy()
    before = lines.groupby(["order", "sku"])["qty"].cumsum().to_numpy() - lines["qty"].to_numpy()
    line_shipped = np.clip(shipped_for_key - before, 0.0, lines["qty"].to_numpy())
    order_lines = pd.DataFrame({
        "row": lines["row"].astype("int64"), "order": lines["order"], "date": lines["date"],
        "channel": lines["channel"], "sku": lines["sku"], "region": lines["region"],
        "qty": lines["qty"], "shipped": line_shipped, "open_qty": lines["qty"].to_numpy() - line_shipped,
    })
    held = _as_components(order_lines[["row", "sku", "open_qty"]].rename(columns={"open_qty": "qty"}), "qty", bundles)
    held = held[held["qty"] > EPS]
    reserved = held.groupby("sku", as_index=False)["qty"].sum().rename(columns={"qty": "reserved"})
    return reserved, order_lines, held


def purchase_lines(store: Store, moves: pd.DataFrame, bundles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each PO line with what has been received against it, and what is still on order per SKU.

    Returns (po_lines: row, po, supplier, sku, ordered, expected, status, qty, unit_cost,
    received, first_receipt, last_receipt, open_qty, short_qty; on_order: sku, on_order).
    """
    po = store["Purchases"].rename_axis("row").reset_index()
    receipts = _posted(store, moves, "receive")
    got = receipts.groupby(["reference", "sku"]).agg(received=("moved", "sum"), first_receipt=("date", "min"),
                                                     last_receipt=("date", "max"))
    got = got.reindex(pd.MultiIndex.from_frame(po[["po", "sku"]])).reset_index(drop=True)
    received = got["received"].fillna(0.0).to_numpy()
    status = po["status"].fillna("open")
    gap = np.clip(po["qty"].to_numpy() - received, 0.0, None)
    lines = pd.DataFrame({
        "row": po["row"].astype("int64"), "po": po["po"], "supplier": po["supplier"], "sku": po["sku"],
        "ordered": po["ordered"], "expected": po["expected"], "status": status, "qty": po["qty"],
        "unit_cost": po["unit_cost"], "received": received,
        "first_receipt": got["first_receipt"].to_numpy(dtype="datetime64[ns]"),
        "last_receipt": got["last_receipt"].to_numpy(dtype="datetime64[ns]"),
        "open_qty": np.where(status == "open", gap, 0.0),
        "short_qty": np.where(status == "closed", gap, 0.0),
    })
    open_ = _as_components(lines.loc[lines["open_qty"] > EPS, ["sku", "open_qty"]], "open_qty", bundles)
    on_order = open_.groupby("sku", as_index=False)["open_qty"].sum().rename(columns={"open_qty": "on_order"})
    return lines, on_order


def over_reserved(store: Store, stock: pd.DataFrame, reserved: pd.DataFrame, held: pd.DataFrame,
                  places: Places) -> list[Issue]:
    """over-reserved: open orders hold more of a SKU than is on hand at sellable locations.

    Pointed at the last open order line that holds it (the one that tipped it over, usually).
    """
    sellable = stock[places.sellable(stock["location"]).to_numpy()].groupby("sku")["qty"].sum()
    r = reserved.set_index("sku")["reserved"]
    over = r[r > sellable.reindex(r.index, fill_value=0.0) + EPS]
    last_row = held.groupby("sku")["row"].max()
    title, col = store.cell("Orders", "qty")
    return [Issue("over-reserved", title, int(last_row[sku]), col,
                  f"Open orders hold {qty:g} of {sku} but only {float(sellable.get(sku, 0.0)):g} is on hand at "
                  "sellable locations: receive or move stock in, or check the orders.", value=float(qty), field="qty")
            for sku, qty in over.items()]


def over_received(store: Store, po_lines: pd.DataFrame) -> list[Issue]:
    """over-received: a PO line received more than it ordered."""
    title, col = store.cell("Purchases", "qty")
    over = po_lines[po_lines["received"] > po_lines["qty"] + EPS]
    return [Issue("over-received", title, int(row), col,
                  f"PO {po} line {sku}: received {got:g}, ordered {qty:g}: check the receipts naming the PO, "
                  "or raise its quantity.", value=float(got), field="qty")
            for row, po, sku, got, qty in zip(over["row"], over["po"], over["sku"], over["received"], over["qty"])]
