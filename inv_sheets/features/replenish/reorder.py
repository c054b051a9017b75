"""Replenishment: when to reorder each SKU, how much, and why; and the draft purchase orders.

For every active, stocked SKU (and every SKU at a location with its own rule in Item Locations):

    safety stock   SS  = a value set by hand (Items or Item Locations), else
                         z(service_level) x sqrt(L x sd_d^2 + d^2 x sd_L^2)
    reorder point  ROP = d x L + SS; a reorder point set by hand wins, and its safety stock is then
                         what it implies: ROP - d x L
    position           = available + on order - short: available as on Stock (on hand less expired
                         batches and reservations, never below 0, at sellable locations; available.py),
                         short the open order units no location can ship
    order up to        = max_stock when set, else ROP + d x review days (the ABC class's cadence)
    flag               = "reorder" when position <= ROP (ERPNext's rule; Odoo triggers on <) and
                         the order-up-to level is above the position, else "ok"
    suggested qty      = order up to - position, rounded up to the case pack, at least the minimum
                         order quantity (itself rounded up to the case pack); 0 when not flagged

Findings beside the figures (reorder_findings): a hand-set reorder point below the demand expected
during the lead time (reorder-point-below-lead-demand), and a suggestion that lasts longer than
Settings max_order_days of demand (order-exceeds-demand).

d and sd_d are daily demand (demand.py), L and sd_L the supplier's lead time in days (leadtime.py).
Discontinued items and bundles (never stocked: their components are) get no row. Every input is
rounded to 4 decimals before the arithmetic, so the sheet's formulas, which work on the rounded
cells, give the very numbers the library wrote. Sources: docs/replenishment.md.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...contract.issues import Issue, column_letter
from ...contract.schema import OUTPUT, Output
from ...contract.sheetdata import SheetData
from ..available import availability, reservations, unit_costs
from . import abc, demand, leadtime
from .demand import ALL_LOCATIONS
from .reasons import n, reorder_reasons

if TYPE_CHECKING:
    from ...ledger.postings import Ledger

MANUAL = ("safety_stock", "reorder_point", "max_stock")

# The derived columns as formulas over the row's own cells, by column name. A column gets its
# formula only when the output sheet has it and every column it names.
DERIVED = {
    "reorder_point": "=ROUND({daily_demand}*{lead_time_days}+{safety_stock},4)",
    "order_up_to": '=IF({max_stock}="",ROUND({reorder_point}+{daily_demand}*{review_days},4),{max_stock})',
    "position": "=ROUND({available}+{on_order}-{short},4)",
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


def reorder_findings(store: Store, ledger: Ledger) -> list[Issue]:
    """What the Reorder sheet's numbers say about the hand-set values behind them: a reorder point
    below the demand expected during the lead time, and a suggestion that buys more than Settings
    max_order_days of demand. Empty when the Reorder sheet is not made."""
    if not (store.has("Items") and store.has("Movements")):
        return []
    t = reorder_table(store, ledger)
    out = []
    for r in t[t["safety_stock"] < -1e-9].itertuples():
        sheet = r.manual_from
        lead_demand = n(r.daily_demand * r.lead_time_days)
        where = f" at {r.location}" if isinstance(r.location, str) else ""
        out.append(Issue(
            "reorder-point-below-lead-demand", store.titles.get(sheet, sheet), int(r.manual_row),
            store.letters.get(sheet, {}).get("reorder_point"),
            f"{r.sku}{where}: the reorder point {n(r.reorder_point)} is {n(-r.safety_stock)} below the {lead_demand} "
            f"expected to sell during the {n(r.lead_time_days)}-day lead time, so it is likely to run out before a "
            f"new order arrives: raise it to at least {lead_demand}, or clear it to let the Reorder sheet work it out.",
            value=r.manual_rop, field="reorder_point"))
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku")
    item_row = pd.Series(items.index, index=items["sku"].to_numpy())
    for r in t[t["order_days"] > t["max_order_days"]].itertuples():
        column, cause = _order_cause(r)
        days = "no demand at all" if math.isinf(r.order_days) else f"{n(round(r.order_days))} days of demand"
        sheet = "Items" if column != "max_stock" else r.manual_from
        row = int(item_row[r.sku]) if sheet == "Items" else int(r.manual_row)
        where = f" at {r.location}" if isinstance(r.location, str) else ""
        out.append(Issue(
            "order-exceeds-demand", store.titles.get(sheet, sheet), row, store.letters.get(sheet, {}).get(column),
            f"{r.sku}{where}: the suggested order of {n(r.suggested_qty)} is {days} at {n(r.daily_demand)}/day, more than "
            f"max_order_days ({r.max_order_days}) on Settings; {cause}.",
            value=r.suggested_qty, field=column))
    return out


def _order_cause(r) -> tuple[str, str]:
    """The column that made a suggestion that big, and what to change there."""
    need = max(r.order_up_to - r.position, 0.0)
    by_pack = float(_ceil_to(pd.Series([need]), pd.Series([r.case_pack]))[0])
    if r.min_order_qty > 0 and r.suggested_qty > by_pack + 1e-9:
        return "min_order_qty", (f"it is the minimum order quantity {n(r.min_order_qty)}: ask the supplier for a "
                                 "smaller minimum, or buy this SKU from one that sells fewer")
    if r.daily_demand > 0 and need / r.daily_demand <= r.max_order_days < by_pack / r.daily_demand:
        return "case_pack", f"whole cases of {n(r.case_pack)} take it from {n(need)} to {n(by_pack)}: look for a smaller pack"
    if not math.isnan(r.max_stock):
        return "max_stock", f"max stock {n(r.max_stock)} is set high: lower it"
    return "sku", (f"the order-up-to level {n(r.order_up_to)} (reorder point + {r.review_days} review days of demand) "
                   "asks for that much: at this little demand, a hand-set reorder point or max stock keeps it small")


def reorder_rows(store: Store, ledger: Ledger) -> tuple[pd.MultiIndex, pd.DataFrame]:
    """The reorder rows (sku, location; "" = the SKU's own row) and their hand-set values
    (safety_stock, reorder_point, max_stock; manual_from: "Items" or "Item Locations", and
    manual_row: the Excel row there)."""
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku")
    active = items[(items["status"] != "discontinued").to_numpy()
                   & ~items["sku"].isin(ledger.bundles["bundle_sku"]).to_numpy()]
    il = store["Item Locations"].dropna(subset=["sku", "location"]).drop_duplicates(["sku", "location"])
    il = il[il["sku"].isin(active["sku"]).to_numpy() & il[list(MANUAL)].notna().any(axis=1).to_numpy()]
    sku_rows = active[["sku", *MANUAL]].assign(location=ALL_LOCATIONS, manual_from="Items", manual_row=active.index)
    loc_rows = il[["sku", "location", *MANUAL]].assign(manual_from="Item Locations", manual_row=il.index)
    frame = pd.concat([sku_rows, loc_rows], ignore_index=True).set_index(["sku", "location"])
    return frame.index, frame.astype({c: float for c in MANUAL})


def reorder_table(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Every reorder row with all its inputs, results and reason (one row per sku, location).

    Worked out once per ledger (the Reorder sheet, Stock's status and the findings read it)."""
    return ledger.derived("reorder_table", store, lambda: _reorder_table(store, ledger))


def _reorder_table(store: Store, ledger: Ledger) -> pd.DataFrame:
    s = store.settings
    rows, manual = reorder_rows(store, ledger)
    dem = demand.demand(store, ledger, rows)
    skus = pd.Index(rows.get_level_values(0))
    items = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")
    supplier = _suppliers(items, ledger.po_lines).reindex(skus)
    lead = leadtime.lead_times(store, ledger.po_lines).reindex(supplier.to_numpy())
    classes = abc.abc_classes(store, ledger).reindex(skus).fillna("C")
    review = classes.map(lambda c: int(s.by_class("review_every_days", c)))
    stock = _stock(store, ledger, rows)

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
    t["position"] = excel_round(t["available"] + t["on_order"] - t["short"], 4)
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
    t["manual_row"] = manual["manual_row"]
    with np.errstate(divide="ignore", invalid="ignore"):
        t["order_days"] = np.where(t["suggested_qty"] > 0, t["suggested_qty"] / t["daily_demand"], 0.0)
    t["max_order_days"] = int(s.max_order_days)
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
    # Each distinct value once (most rows share a few: 0 above all); distinct by its bits, so -0.0
    # stays -0.0.
    bits, at = np.unique(np.ascontiguousarray(values.to_numpy(dtype=float)).view(np.int64), return_inverse=True)
    distinct = bits.view(np.float64)
    # Beyond 1e15 a double has no decimals left to round (and Decimal would refuse the quantize).
    out = np.array([float(Decimal(f"{v:.15g}").quantize(step, ROUND_HALF_UP)) if math.isfinite(v) and abs(v) < 1e15
                    else v for v in distinct.tolist()], dtype=float)
    return pd.Series(out[at], index=values.index, dtype=float)


def _ceil_to(qty: pd.Series, step: pd.Series) -> np.ndarray:
    """Round up to a whole number of steps (Excel's CEILING(qty, step)); 0 stays 0."""
    return np.ceil(qty.to_numpy(dtype=float) / step.to_numpy(dtype=float)) * step.to_numpy(dtype=float)


def _suppliers(items: pd.DataFrame, po_lines: pd.DataFrame) -> pd.Series:
    """Each SKU's supplier: Items supplier, else the supplier of its latest purchase line."""
    latest = po_lines.dropna(subset=["supplier"]).sort_values(["ordered", "row"], na_position="first")
    fallback = latest.drop_duplicates("sku", keep="last").set_index("sku")["supplier"]
    return items["supplier"].astype(object).fillna(fallback.reindex(items.index))


def _stock(store: Store, ledger: Ledger, rows: pd.MultiIndex) -> pd.DataFrame:
    """on_hand, reserved, available, short and on_order per reorder row. A SKU's row adds up the
    sellable locations without a rule of their own, each location's available as on Stock (so never
    below 0), and carries the SKU's short units and open PO lines (they are at no location); a
    location row counts its own location."""
    at = availability(store, ledger)
    sku = at.index.get_level_values(0).to_numpy(dtype=object)
    keys = demand.row_keys(sku, at.index.get_level_values(1).to_numpy(dtype=object), rows, at["sellable"].to_numpy())
    keep = ~pd.isna(keys.get_level_values(0))
    per_row = at.loc[keep, ["on_hand", "reserved", "available"]].groupby(keys[keep]).sum() if keep.any() else None
    out = pd.DataFrame(index=rows)
    for column in ("on_hand", "reserved", "available"):
        out[column] = per_row[column].reindex(rows, fill_value=0.0).to_numpy() if per_row is not None else 0.0
    sku_level = (rows.get_level_values(1) == ALL_LOCATIONS)
    skus = rows.get_level_values(0)
    short = reservations(store, ledger)[1]
    out["short"] = np.where(sku_level, short.reindex(skus).fillna(0.0).to_numpy(), 0.0)
    out["on_order"] = np.where(sku_level, ledger.on_order.set_index("sku")["on_order"].reindex(skus).fillna(0.0).to_numpy(), 0.0)
    return out.round(4)


def _drop_empty_sku_rows(t: pd.DataFrame) -> pd.DataFrame:
    """A SKU whose every location has its own rule keeps only those rows: its own row would show
    nothing (no demand, stock, order or hand-set value)."""
    sku_level = t.index.get_level_values(1) == ALL_LOCATIONS
    has_loc_rows = t.index.get_level_values(0).isin(t.index.get_level_values(0)[~sku_level])
    empty = ((t["daily_demand"] == 0) & (t["position"] == 0) & (t["on_hand"] == 0) & (t["short"] == 0)
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
        ("Position", "available + on order - short; available as on Stock: on hand at sellable locations less "
                     "expired batches and what the Allocation ships from there, never below 0"),
        ("Short", "open order units no location can ship: owed to customers, so they lower the position"),
        ("Suggested qty", ("(max stock, or reorder point + daily demand x review days) - position, rounded up "
                           "to the case pack, at least the minimum order quantity (itself rounded up to the case "
                           f"pack); more than {s.max_order_days} days of demand (max_order_days) is flagged")),
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

    Plan columns supplier, sku, qty, unit_cost (available.unit_costs, else the latest PO line's), line_value,
    order_value (the supplier's lines together), min_order_value, meets_min_order. Shortfalls: one row
    per supplier with a closed PO line received short (short_deliveries).
    """
    lines = table[table["suggested_qty"] > 0].assign(supplier=lambda f: f["supplier"].fillna(""))
    plan = lines.groupby(["supplier", "sku"], as_index=False)["suggested_qty"].sum().rename(
        columns={"suggested_qty": "qty"})
    po = ledger.po_lines.dropna(subset=["unit_cost"]).sort_values(["ordered", "row"], na_position="first")
    last_cost = po.drop_duplicates("sku", keep="last").set_index("sku")["unit_cost"]
    costs = unit_costs(store, ledger)  # the cost every sheet uses; a SKU never received: its latest PO line's
    plan["unit_cost"] = costs.reindex(plan["sku"]).fillna(last_cost.reindex(plan["sku"])).to_numpy()
    # A blank cost counts 0, as it does in the sheet's formula.
    plan["line_value"] = plan["qty"] * plan["unit_cost"].fillna(0.0)
    plan["order_value"] = plan.groupby("supplier")["line_value"].transform("sum")
    minimum = store["Suppliers"].drop_duplicates("supplier").set_index("supplier")["min_order_value"]
    plan["min_order_value"] = minimum.reindex(plan["supplier"]).to_numpy()
    plan["meets_min_order"] = plan["min_order_value"].isna() | (plan["order_value"] >= plan["min_order_value"])
    plan["supplier"] = plan["supplier"].replace("", None)
    return plan, short_deliveries(ledger.po_lines)


def short_deliveries(po_lines: pd.DataFrame) -> pd.DataFrame:
    """Each supplier that delivered short, by supplier: how many of its closed PO lines were
    received short (lines_short of lines_closed), the units short in all (short_qty), and its
    latest short line (po, sku, qty, received, short: the last received, then the last on Purchases).

    One row a supplier, not one a line: years of purchases can hold thousands of short lines, and
    what the plan needs is which suppliers ship short, how often, and the line to chase now.
    """
    closed = po_lines[po_lines["status"] == "closed"].assign(supplier=lambda f: f["supplier"].fillna(""))
    short = closed[closed["short_qty"] > 0]
    if not len(short):
        return pd.DataFrame(columns=["supplier", "lines_short", "lines_closed", "short_qty", "po", "sku", "qty",
                                     "received", "short"])
    latest = (short.sort_values(["last_receipt", "row"], na_position="first").drop_duplicates("supplier", keep="last")
              .set_index("supplier")[["po", "sku", "qty", "received", "short_qty"]].rename(columns={"short_qty": "short"}))
    counts = short.groupby("supplier").agg(lines_short=("short_qty", "size"), short_qty=("short_qty", "sum"))
    counts.insert(1, "lines_closed", closed.groupby("supplier").size().reindex(counts.index))
    return counts.join(latest).rename_axis("supplier").reset_index()


def plan_sheet(plan: pd.DataFrame, shortfalls: pd.DataFrame, store: Store) -> SheetData:
    """The Purchase Plan sheet, with each supplier's short deliveries summed up beside it."""
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
    for r in shortfalls.astype(object).itertuples():
        notes.append((f"{r.supplier or '(no supplier)'} short deliveries",
                      f"{r.lines_short} of {r.lines_closed} closed purchase lines received short, "
                      f"{_n(r.short_qty)} short in all; latest: PO {r.po} {r.sku}, ordered {_n(r.qty)}, "
                      f"received {_n(r.received)}, short {_n(r.short)}"))
    return SheetData(output, plan.assign(name=_names(store, plan["sku"])), formulas=formulas(output, PLAN_DERIVED),
                     notes=tuple(notes))


def _names(store: Store, skus: pd.Series) -> pd.Series:
    """Each SKU's name from Items, beside the code a person may not know by heart."""
    names = store["Items"].dropna(subset=["sku"]).drop_duplicates("sku").set_index("sku")["name"]
    return skus.map(names)


@functools.lru_cache(maxsize=4096)  # a few distinct quantities, written out on thousands of lines
def _n(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".") if not math.isnan(x) else ""
