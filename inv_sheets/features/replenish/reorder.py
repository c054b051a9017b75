"""Replenishment: when to reorder each SKU, how much, and why; and the draft purchase orders.

For every active, stocked SKU (and every SKU at a location with its own rule in Item Locations):

    safety stock   SS  = a value set by hand (Items or Item Locations), else
                         z(service_level) x sqrt(L x sd_d^2 + d^2 x sd_L^2)
    reorder point  ROP = d x L + SS; a reorder point set by hand wins, and its safety stock is then
                         what it implies: ROP - d x L
    position           = available (on hand at sellable locations - reserved) + on order
    order up to        = max_stock when set, else ROP + d x review days (the ABC class's cadence)
    flag               = "reorder" when position <= ROP (ERPNext's rule; Odoo triggers on <) and
                         the order-up-to level is above the position, else "ok"
    suggested qty      = order up to - position, rounded up to the case pack, at least the minimum
                         order quantity (itself rounded up to the case pack); 0 when not flagged

d and sd_d are daily demand (demand.py), L and sd_L the supplier's lead time in days (leadtime.py).
Discontinued items and bundles (never stocked: their components are) get no row. Every input is
rounded to 4 decimals before the arithmetic, so the sheet's formulas, which work on the rounded
cells, give the very numbers the library wrote. Sources: docs/replenishment.md.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...contract.issues import column_letter
from ...contract.schema import OUTPUT, Output
from ...contract.sheetdata import SheetData
from . import abc, demand, leadtime
from .demand import ALL_LOCATIONS
from .reasons import reorder_reasons

if TYPE_CHECKING:
    from ...ledger.postings import Ledger

MANUAL = ("safety_stock", "reorder_point", "max_stock")

# The derived columns as formulas over the row's own cells, by column name. A column gets its
# formula only when the output sheet has it and every column it names.
DERIVED = {
    "reorder_point": "=ROUND({daily_demand}*{lead_time_days}+{safety_stock},4)",
    "order_up_to": '=IF({max_stock}="",ROUND({reorder_point}+{daily_demand}*{review_days},4),{max_stock})',
    "position": "=ROUND({available}+{on_order},4)",
    "flag": '=IF(AND({position}<={reorder_point},ROUND({order_up_to}-{position},6)>0),"reorder","ok")',
    "suggested_qty": ('=IF({flag}="reorder",MAX(CEILING(ROUND({order_up_to}-{position},6),{case_pack}),'
                      'CEILING({min_order_qty},{case_pack})),0)'),
}
PLAN_DERIVED = {
    "line_value": "={qty}*{unit_cost}",
    "order_value": "=SUMIF(${supplier:col}:${supplier:col},{supplier},${line_value:col}:${line_value:col})",
    "meets_min_order": '=OR({min_order_value}="",{order_value}>={min_order_value})',
}


def replenish_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """The Reorder sheet (when the store has Items and Movements) and the Purchase Plan sheet (when
    some line is suggested or a supplier delivered short)."""
    if not (store.has("Items") and store.has("Movements")):
        return []
    table = reorder_table(store, ledger)
    sheets = [reorder_sheet(table, store)]
    plan, shortfalls = purchase_plan(store, ledger, table)
    if len(plan) or len(shortfalls):
        sheets.append(plan_sheet(plan, shortfalls, store))
    return sheets


def reorder_rows(store: Store, ledger: Ledger) -> tuple[pd.MultiIndex, pd.DataFrame]:
    """The reorder rows (sku, location; "" = the SKU's own row) and their hand-set values
    (safety_stock, reorder_point, max_stock, and manual_from: "Items" or "Item Locations")."""
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku")
    active = items[(items["status"] != "discontinued").to_numpy()
                   & ~items["sku"].isin(ledger.bundles["bundle_sku"]).to_numpy()]
    il = store["Item Locations"].dropna(subset=["sku", "location"]).drop_duplicates(["sku", "location"])
    il = il[il["sku"].isin(active["sku"]).to_numpy() & il[list(MANUAL)].notna().any(axis=1).to_numpy()]
    sku_rows = active[["sku", *MANUAL]].assign(location=ALL_LOCATIONS, manual_from="Items")
    loc_rows = il[["sku", "location", *MANUAL]].assign(manual_from="Item Locations")
    frame = pd.concat([sku_rows, loc_rows], ignore_index=True).set_index(["sku", "location"])
    return frame.index, frame.astype({c: float for c in MANUAL})


def reorder_table(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Every reorder row with all its inputs, results and reason (one row per sku, location)."""
    s = store.settings
    rows, manual = reorder_rows(store, ledger)
    dem = demand.demand(store, ledger, rows)
    skus = pd.Index(rows.get_level_values(0))
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")
    supplier = _suppliers(items, ledger.po_lines).reindex(skus)
    lead = leadtime.lead_times(store, ledger.po_lines).reindex(supplier.to_numpy())
    classes = abc.abc_classes(store, ledger).reindex(skus).fillna("C")
    review = classes.map(lambda c: int(s.by_class("review_every_days", c)))
    stock = _stock(ledger, rows)

    t = pd.DataFrame(index=rows)
    t["supplier"] = supplier.to_numpy()
    t["daily_demand"] = dem["daily_demand"].round(4)
    t["demand_sd"] = dem["demand_sd"].round(4)
    t["lead_time_days"] = lead["lead_time_days"].fillna(0.0).round(4).to_numpy()
    t["lead_time_sd"] = lead["lead_time_sd"].fillna(0.0).round(4).to_numpy()
    z = NormalDist().inv_cdf(float(s.service_level))
    computed = safety_stock(t["daily_demand"], t["demand_sd"], t["lead_time_days"], t["lead_time_sd"], z)
    lead_demand = t["daily_demand"] * t["lead_time_days"]
    t["safety_stock"] = np.where(manual["reorder_point"].notna(), (manual["reorder_point"] - lead_demand).round(4),
                                 manual["safety_stock"].fillna(computed))
    t["reorder_point"] = excel_round(lead_demand + t["safety_stock"], 4)
    t["review_days"] = review.to_numpy()
    t["max_stock"] = manual["max_stock"]
    t["order_up_to"] = t["max_stock"].fillna(excel_round(t["reorder_point"] + t["daily_demand"] * t["review_days"], 4))
    t = t.join(stock)
    t["position"] = excel_round(t["available"] + t["on_order"], 4)
    items_pack = items.reindex(skus)
    t["case_pack"] = items_pack["case_pack"].fillna(1.0).clip(lower=1.0).to_numpy()
    t["min_order_qty"] = items_pack["min_order_qty"].fillna(0.0).to_numpy()
    need = excel_round(t["order_up_to"] - t["position"], 6)
    flagged = (t["position"] <= t["reorder_point"]) & (need > 0)
    t["flag"] = np.where(flagged, "reorder", "ok")
    qty = np.maximum(_ceil_to(need, t["case_pack"]), _ceil_to(t["min_order_qty"], t["case_pack"]))
    t["suggested_qty"] = np.where(flagged, qty, 0.0)
    t["abc"] = classes.to_numpy()
    t["next_review"] = abc.next_review(ledger.as_of, t["review_days"]).to_numpy()
    t = t.join(dem.drop(columns=["daily_demand", "demand_sd"]))
    t["lead_source"], t["lead_count"] = lead["source"].fillna("none").to_numpy(), lead["observed_count"].fillna(0).to_numpy()
    t["lead_declared"], t["lead_how"] = lead["declared_days"].to_numpy(), lead["declared_how"].fillna("").to_numpy()
    t["manual_ss"], t["manual_rop"], t["manual_from"] = manual["safety_stock"], manual["reorder_point"], manual["manual_from"]
    t["z"], t["service_level"] = z, float(s.service_level)
    t = _drop_empty_sku_rows(t)
    t["why"] = reorder_reasons(t, s)
    t = t.reset_index()
    t["location"] = t["location"].replace(ALL_LOCATIONS, None)
    order = np.lexsort((t["location"].fillna("").to_numpy(dtype=str), t["sku"].to_numpy(dtype=str),
                        (t["flag"] != "reorder").to_numpy()))
    return t.iloc[order].reset_index(drop=True)


def safety_stock(d: pd.Series, sd_d: pd.Series, lead: pd.Series, sd_lead: pd.Series, z: float) -> pd.Series:
    """z x sqrt(L x sd_d^2 + d^2 x sd_L^2), rounded to 4 decimals (demand and lead-time spread)."""
    return (z * np.sqrt(lead * sd_d ** 2 + d ** 2 * sd_lead ** 2)).round(4)


def excel_round(values: pd.Series, digits: int) -> pd.Series:
    """Round half away from zero on the value's 15 significant digits, as Excel's ROUND does, so the
    library's numbers are the ones the sheet's formulas give (numpy would round 47.68325 down)."""
    step = Decimal(1).scaleb(-digits)
    # Beyond 1e15 a double has no decimals left to round (and Decimal would refuse the quantize).
    out = [float(Decimal(f"{v:.15g}").quantize(step, ROUND_HALF_UP)) if math.isfinite(v) and abs(v) < 1e15 else v
           for v in values.to_numpy(dtype=float)]  # one per reorder row, not per movement
    return pd.Series(out, index=values.index, dtype=float)


def _ceil_to(qty: pd.Series, step: pd.Series) -> np.ndarray:
    """Round up to a whole number of steps (Excel's CEILING(qty, step)); 0 stays 0."""
    return np.ceil(qty.to_numpy(dtype=float) / step.to_numpy(dtype=float)) * step.to_numpy(dtype=float)


def _suppliers(items: pd.DataFrame, po_lines: pd.DataFrame) -> pd.Series:
    """Each SKU's supplier: Items supplier, else the supplier of its latest purchase line."""
    latest = po_lines.dropna(subset=["supplier"]).sort_values(["ordered", "row"], na_position="first")
    fallback = latest.drop_duplicates("sku", keep="last").set_index("sku")["supplier"]
    return items["supplier"].astype(object).fillna(fallback.reindex(items.index))


def _stock(ledger: Ledger, rows: pd.MultiIndex) -> pd.DataFrame:
    """on_hand, reserved, available and on_order per reorder row. A SKU's row counts the sellable
    locations without a rule of their own and carries its reservations and open PO lines (they name
    no location); a location row counts its own location."""
    st = ledger.stock.groupby(["sku", "location"], as_index=False)["qty"].sum()
    sellable = ledger.places.sellable(st["location"]).to_numpy()
    keys = demand.row_keys(st["sku"].to_numpy(dtype=object), st["location"].to_numpy(dtype=object), rows, sellable)
    keep = ~pd.isna(keys.get_level_values(0))
    on_hand = st["qty"][keep].groupby(keys[keep]).sum() if keep.any() else pd.Series(dtype=float)
    out = pd.DataFrame({"on_hand": on_hand.reindex(rows, fill_value=0.0).to_numpy()}, index=rows)
    sku_level = (rows.get_level_values(1) == ALL_LOCATIONS)
    sku = rows.get_level_values(0)
    for column, frame in (("reserved", ledger.reserved), ("on_order", ledger.on_order)):
        per_sku = frame.set_index("sku")[column]
        out[column] = np.where(sku_level, per_sku.reindex(sku).fillna(0.0).to_numpy(), 0.0)
    out = out.round(4)
    out["available"] = (out["on_hand"] - out["reserved"]).round(4)
    return out


def _drop_empty_sku_rows(t: pd.DataFrame) -> pd.DataFrame:
    """A SKU whose every location has its own rule keeps only those rows: its own row would show
    nothing (no demand, stock, order or hand-set value)."""
    sku_level = t.index.get_level_values(1) == ALL_LOCATIONS
    has_loc_rows = t.index.get_level_values(0).isin(t.index.get_level_values(0)[~sku_level])
    empty = ((t["daily_demand"] == 0) & (t["position"] == 0) & (t["on_hand"] == 0)
             & t[["manual_ss", "manual_rop", "max_stock"]].isna().all(axis=1)) if "manual_ss" in t else False
    return t[~(sku_level & has_loc_rows & empty)]


def formulas(output: Output, derived: dict[str, str]) -> dict[str, str]:
    """Formula templates ("{row}" for the Excel row) for the derived columns the sheet can hold.

    `{name}` in a template is that column's cell in the same row, `{name:col}` its column letter.
    """
    letters = {c: column_letter(i) for i, c in enumerate(output.column_names(), start=1)}

    def cell(m: re.Match) -> str:
        return letters[m.group(1)] + ("" if m.group(2) else "{row}")

    out = {}
    for column, template in derived.items():
        names = set(re.findall(r"\{(\w+)(?::col)?\}", template))
        if column in letters and names <= set(letters):
            out[column] = re.sub(r"\{(\w+)(:col)?\}", cell, template)
    return out


def reorder_sheet(table: pd.DataFrame, store: Store) -> SheetData:
    """The Reorder sheet: one row per reorder row, its derived columns live formulas."""
    s = store.settings
    output = OUTPUT["Reorder"]
    z = NormalDist().inv_cdf(float(s.service_level))
    notes = (
        ("Flag", "reorder when position <= reorder point and the order-up-to level is above the position"),
        ("Reorder point", "daily demand x lead time (days) + safety stock; a hand-set value wins"),
        ("Safety stock", (f"z x sqrt(lead time x demand SD^2 + daily demand^2 x lead time SD^2); "
                          f"z = {z:.4f} for service level {s.service_level:g}; a hand-set value wins")),
        ("Position", "available (on hand at sellable locations - reserved) + on order"),
        ("Suggested qty", ("(max stock, or reorder point + daily demand x review days) - position, rounded up "
                           "to the case pack, at least the minimum order quantity")),
        ("Daily demand", (f"mean units sold a day over the last {s.demand_days} days, stock-out days "
                          "and promotion sales left out; demand SD is their sample standard deviation")),
        ("Lead time", ("observed on received purchase lines when there are any, else Suppliers "
                       "(the sum of its parts, or lead_time_days)")),
        ("ABC", (f"by 12-month consumption value: A up to {s.abc_a:g} of the cumulative value, "
                 f"B up to {s.abc_b:g}, C the rest; the SKU that crosses a boundary joins the upper class")),
    )
    return SheetData(output, table.assign(name=_names(store, table["sku"])), formulas=formulas(output, DERIVED),
                     fills={"flag": {"reorder": "red", "ok": "green"}}, notes=notes)


def purchase_plan(store: Store, ledger: Ledger, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suggested lines grouped into one draft order per supplier, and the receiving shortfalls.

    Plan columns supplier, sku, qty, unit_cost (Items, else the latest PO line's), line_value,
    order_value (the supplier's lines together), min_order_value, meets_min_order. Shortfalls: the
    closed PO lines received short (po, supplier, sku, qty, received, short_qty).
    """
    lines = table[table["suggested_qty"] > 0].assign(supplier=lambda f: f["supplier"].fillna(""))
    plan = lines.groupby(["supplier", "sku"], as_index=False)["suggested_qty"].sum().rename(
        columns={"suggested_qty": "qty"})
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")
    po = ledger.po_lines.dropna(subset=["unit_cost"]).sort_values(["ordered", "row"], na_position="first")
    last_cost = po.drop_duplicates("sku", keep="last").set_index("sku")["unit_cost"]
    plan["unit_cost"] = items["unit_cost"].reindex(plan["sku"]).fillna(last_cost.reindex(plan["sku"])).to_numpy()
    # A blank cost counts 0, as it does in the sheet's formula.
    plan["line_value"] = plan["qty"] * plan["unit_cost"].fillna(0.0)
    plan["order_value"] = plan.groupby("supplier")["line_value"].transform("sum")
    minimum = store["Suppliers"].drop_duplicates("supplier").set_index("supplier")["min_order_value"]
    plan["min_order_value"] = minimum.reindex(plan["supplier"]).to_numpy()
    plan["meets_min_order"] = plan["min_order_value"].isna() | (plan["order_value"] >= plan["min_order_value"])
    plan["supplier"] = plan["supplier"].replace("", None)
    pl = ledger.po_lines
    shortfalls = pl[pl["short_qty"] > 0][["po", "supplier", "sku", "qty", "received", "short_qty"]]
    return plan, shortfalls.sort_values(["supplier", "po", "sku"]).reset_index(drop=True)


def plan_sheet(plan: pd.DataFrame, shortfalls: pd.DataFrame, store: Store) -> SheetData:
    """The Purchase Plan sheet, with each supplier's short deliveries listed beside it."""
    output = OUTPUT["Purchase Plan"]
    notes: list[tuple[str, str]] = [
        ("Line value", "qty x unit cost (a blank cost counts 0)"),
        ("Order value", "the supplier's line values added up"),
        ("Meets min order", "order value >= the supplier's min_order_value on Suppliers (yes when none)"),
    ]
    for s in plan.drop_duplicates("supplier").itertuples():
        if s.min_order_value == s.min_order_value:
            notes.append((f"{s.supplier or '(no supplier)'} minimum",
                          f"order value {_n(s.order_value)} vs min order value {_n(s.min_order_value)}"))
    for r in shortfalls.itertuples():
        notes.append((f"{r.supplier} short delivery",
                      f"PO {r.po} {r.sku}: ordered {_n(r.qty)}, received {_n(r.received)}, short {_n(r.short_qty)}"))
    return SheetData(output, plan.assign(name=_names(store, plan["sku"])), formulas=formulas(output, PLAN_DERIVED),
                     notes=tuple(notes))


def _names(store: Store, skus: pd.Series) -> pd.Series:
    """Each SKU's name from Items, beside the code a person may not know by heart."""
    names = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")["name"]
    return skus.map(names)


def _n(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".") if not math.isnan(x) else ""
