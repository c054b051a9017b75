"""The Reorder sheet's `why` column: each row's decision in plain words, with the numbers behind it.

A reason reads in the order a person checks it: the decision (position against reorder point),
the quantity (order-up-to level minus position, the rounding), then where each input came from
(safety stock, demand, lead time). For example:

    position 42 (available 30 + on order 12) is at or below reorder point 100 (70 demand over
    7 days + 30 safety stock); order 204 = up to 240 (100 + 14 days x 10/day) - 42 = 198, rounded
    up to case pack 12; ...
"""

from __future__ import annotations

import functools
import math

import pandas as pd

from ...contract.book import Settings


def reorder_reasons(t: pd.DataFrame, settings: Settings) -> list[str]:
    """One reason per row of the reorder table (see replenish.reorder_table for its columns)."""
    # One string per reorder row (a SKU or SKU-location), not per movement: a plain loop reads best.
    # Text columns as Python objects first: stepping through arrow-backed text value by value is slow.
    text = [c for c in t.columns if isinstance(t[c].dtype, pd.StringDtype)]
    rows = t.astype(dict.fromkeys(text, object)) if text else t
    return ["; ".join(part for part in (
        _decision(r), _quantity(r), _safety(r), _demand(r, settings), _lead(r)) if part)
        for r in rows.itertuples()]


def _decision(r) -> str:
    pos = f"position {n(r.position)}"
    if r.on_order or r.short:
        parts = [f"available {n(r.available)}", f"+ on order {n(r.on_order)}"] + ([f"- short {n(r.short)}"] if r.short else [])
        pos += " (" + " ".join(parts) + ")"
    if not math.isnan(r.manual_rop):
        rop = f"reorder point {n(r.reorder_point)} (set on {r.manual_from})"
    else:
        rop = (f"reorder point {n(r.reorder_point)} ({n(r.daily_demand * r.lead_time_days)} demand over "
               f"{n(r.lead_time_days)} days + {n(r.safety_stock)} safety stock)")
    if r.position > r.reorder_point:
        return f"{pos} is above {rop}: no order"
    if r.flag != "reorder":
        return f"{pos} is at or below {rop}, but already at the order-up-to level {n(r.order_up_to)}: no order"
    return f"{pos} is at or below {rop}"


def _quantity(r) -> str:
    if r.flag != "reorder":
        return ""
    if not math.isnan(r.max_stock):
        target = f"up to max stock {n(r.max_stock)}"
    else:
        target = (f"up to {n(r.order_up_to)} ({n(r.reorder_point)} + {n(r.review_days)} days x "
                  f"{n(r.daily_demand)}/day, class {r.abc} review)")
    need = r.order_up_to - r.position
    position = n(r.position) if r.position >= 0 else f"({n(r.position)})"
    text = f"order {n(r.suggested_qty)} = {target} - {position}"
    if abs(need - r.suggested_qty) > 1e-9:
        text += f" = {n(need)}"
        moq_wins = r.min_order_qty > 0 and r.suggested_qty > math.ceil(round(need, 6) / r.case_pack) * r.case_pack
        if moq_wins:
            text += f", raised to the minimum order {n(r.min_order_qty)}"
            if abs(r.suggested_qty - r.min_order_qty) > 1e-9:  # the minimum itself comes in whole cases
                text += f" rounded up to case pack {n(r.case_pack)} = {n(r.suggested_qty)}"
        elif r.case_pack > 1:
            text += f", rounded up to case pack {n(r.case_pack)}"
        else:
            text += ", rounded up to whole units"
    if r.order_days > r.max_order_days:
        lasts = "with no demand it never sells" if math.isinf(r.order_days) else \
            f"at {n(r.daily_demand)}/day it lasts {n(round(r.order_days))} days"
        text += f" ({lasts}, more than max_order_days {r.max_order_days}: see Issues)"
    return text


def _safety(r) -> str:
    if not math.isnan(r.manual_rop):
        lead_demand = n(r.daily_demand * r.lead_time_days)
        if r.safety_stock < 0:
            text = (f"the hand-set reorder point is {n(-r.safety_stock)} below the {lead_demand} expected to sell "
                    "during the lead time: it leaves no safety stock")
        else:
            text = f"safety stock {n(r.safety_stock)} is what the hand-set reorder point leaves above {lead_demand}"
        if not math.isnan(r.manual_ss) and abs(r.manual_ss - r.safety_stock) > 1e-9:
            text += f" (the hand-set safety stock {n(r.manual_ss)} is not used)"
        return text
    if not math.isnan(r.manual_ss):
        return f"safety stock {n(r.safety_stock)} set on {r.manual_from}"
    return (f"safety stock {n(r.safety_stock)} = {r.z:.2f} (service level {r.service_level:.0%}) x "
            f"sqrt({n(r.lead_time_days)} days x {n(r.demand_sd)}^2 + {n(r.daily_demand)}^2 x {n(r.lead_time_sd)}^2)")


def _demand(r, settings: Settings) -> str:
    if r.days_observed == 0:
        return f"no days with stock in the last {r.days_window} days: demand taken as 0"
    text = f"demand {n(r.daily_demand)}/day (SD {n(r.demand_sd)}) over {r.days_observed} days"
    left_out = []
    if r.days_stockout:
        left_out.append(f"{r.days_stockout} out-of-stock days")
    if r.promo_units or r.days_promo:
        rate = r.promo_units / r.days_promo if r.days_promo else 0.0
        uplift = f", {rate / r.daily_demand - 1:+.0%} on normal" if r.daily_demand > 0 else ""
        left_out.append(f"{n(r.promo_units)} promo units over {r.days_promo} days ({n(rate)}/day{uplift})")
    if left_out:
        text += " (left out: " + ", ".join(left_out) + ")"
    if r.short_history:
        text += f"; only {r.days_observed} days of history (fewer than {settings.min_history_days}): a rough figure"
    return text


def _lead(r) -> str:
    supplier = r.supplier if isinstance(r.supplier, str) else None
    if supplier is None:
        return "no supplier on Items or Purchases: lead time 0 days used"
    if r.lead_source == "observed":
        spread = f" (SD {n(r.lead_time_sd)})" if r.lead_count > 1 else ""
        text = (f"lead time {n(r.lead_time_days)} days{spread} observed on "
                f"{int(r.lead_count)} received purchase line{'s' if r.lead_count != 1 else ''} of {supplier}")
        if not math.isnan(r.lead_declared):
            text += f"; Suppliers says {n(r.lead_declared)}"
        return text
    if r.lead_source == "declared":
        how = f" = {r.lead_how}" if r.lead_how and r.lead_how != "lead_time_days" else ""
        return f"lead time {n(r.lead_time_days)} days{how} from Suppliers ({supplier}); none observed yet"
    return f"no lead time for {supplier}: set lead_time_days on Suppliers (0 days used)"


@functools.lru_cache(maxsize=1 << 16)  # the same few numbers recur on thousands of rows
def n(x: float) -> str:
    """A number as a person writes it: 100, 13.06, 0.5."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and math.isinf(x):
        return "infinite"
    return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x - round(x)) > 1e-9 else f"{round(x):d}"
