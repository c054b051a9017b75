"""The weekly KPIs to review (the guide's Strategy 5), each with its definition written on the sheet.

Weeks. One row per week for the last WEEKS weeks; every week is seven whole days and the last one
ends on the as-of day, so the newest row is always "the last 7 days". `week` is a week's first day.

Valuation. Stock and cost of goods sold are valued at each SKU's unit cost (counts.unit_costs:
Items unit_cost, else the mean cost of its receipts; a SKU with neither counts as 0). On-hand is the
ledger's end-of-day book at the store's own locations; a SKU whose book is below zero counts as 0.
Units sold are the sale movements' units (bundles as their components), returns not deducted.

The definitions (sources: research/feature-anchors.md §2, items 6-9 and 13):
  inventory accuracy  counted SKU-locations within tolerance / counted SKU-locations (IRA; each
                      SKU-location counted on a day is one, within when every batch is)
  stockout rate       active SKU-days with nothing for sale (on hand at sellable locations, expired
                      batches set aside) / active SKU-days
                      (active: not discontinued, not a bundle, stocked at least once by that day;
                      past reservations are not on record, so "available" is sellable on-hand)
  turnover            COGS of the week x 365/7 / average inventory at cost, average = (value at the
                      start + value at the end) / 2: annual turns at this week's pace
  days on hand        average inventory at cost / (COGS of the week / 7) = 365 / turnover
  sell-through        units sold / (units sold + units on hand at the week's end)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.sheetdata import LineChart, SheetData, sheet
from ..ledger.postings import Ledger
from .counts import count_days, unit_costs, variance
from .replenish.demand import unexpired_daily

WEEKS = 12
EPS = 1e-9

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Week", "Seven days starting on this date; the last row ends on the as-of day."),
    ("Inventory accuracy", "Counted SKU-locations within tolerance ÷ counted SKU-locations, counts of the week "
     "(tolerance: count_tolerance_a/b/c of the book on Settings). Variances are never netted: one "
     "SKU over and another under are two misses. Blank: nothing counted that week."),
    ("Stockout rate", "Active SKU-days with nothing for sale at the end of the day (nothing on hand at "
     "sellable locations once expired batches are set aside) ÷ active SKU-days. Active: not "
     "discontinued, not a bundle, received at least once by that day."),
    ("Turnover", "Cost of goods sold in the week × 365/7 ÷ average inventory at cost, the average being "
     "(value at the start + value at the end of the week) ÷ 2: how many times a year stock turns at "
     "this week's pace. Valued at Items unit cost (else the mean cost of its receipts)."),
    ("Days on hand", "Average inventory at cost ÷ cost of goods sold per day of the week (= 365 ÷ turnover): "
     "how long stock lasts at this week's sales. Blank: nothing sold."),
    ("Sell-through", "Units sold in the week ÷ (units sold + units on hand at the week's end): the share of "
     "the stock there was to sell that sold."),
    ("Units sold", "Sale movements (a bundle as its components); returns are not deducted."),
)

CHART = LineChart("Weekly KPIs", x="week", series=("inventory_accuracy", "stockout_rate", "sell_through"),
                  y_title="Share")


def weekly_kpis(store: Store, ledger: Ledger, abc: pd.Series | None = None, weeks: int = WEEKS) -> pd.DataFrame:
    """One row per week, oldest first: week, the five KPIs and the figures behind them.

    Figures: counted, counted_within, sku_days, stockout_days, units_sold, cogs,
    inventory_start, inventory_end, average_inventory, units_on_hand.
    """
    as_of = ledger.as_of
    first = as_of - pd.Timedelta(days=7 * weeks - 1)
    starts = pd.date_range(first, periods=weeks, freq="7D")
    out = pd.DataFrame({"week": starts})
    unit_cost = unit_costs(store, ledger)
    _accuracy(store, ledger, abc, out, first, as_of)

    on_hand = ledger.daily(first - pd.Timedelta(days=1), as_of, by=("sku",)).clip(lower=0.0)
    cost = unit_cost.reindex(on_hand.columns).fillna(0.0).to_numpy()
    value = pd.Series(on_hand.to_numpy() @ cost if on_hand.shape[1] else 0.0, index=on_hand.index)
    ends = starts + pd.Timedelta(days=6)
    out["inventory_start"] = value.reindex(starts - pd.Timedelta(days=1)).to_numpy()
    out["inventory_end"] = value.reindex(ends).to_numpy()
    out["average_inventory"] = (out["inventory_start"] + out["inventory_end"]) / 2
    out["units_on_hand"] = on_hand.sum(axis=1).reindex(ends).to_numpy()

    p = ledger.postings
    sold = p.loc[(p["type"] == "sale") & (p["location"] == "@customer") & (p["when"].dt.normalize() >= first)
                 & (p["when"].dt.normalize() <= as_of), ["when", "sku", "qty"]]
    week = ((sold["when"].dt.normalize() - first).dt.days // 7).to_numpy()  # the row each sale falls in
    out["units_sold"] = sold["qty"].groupby(week).sum().reindex(range(weeks), fill_value=0.0).to_numpy()
    cogs = (sold["qty"] * sold["sku"].map(unit_cost).astype(float).fillna(0.0)).groupby(week).sum()
    out["cogs"] = cogs.reindex(range(weeks), fill_value=0.0).to_numpy()

    _stockouts(store, ledger, out, first, as_of)
    avg, cogs_week = out["average_inventory"], out["cogs"]
    out["turnover"] = np.where(avg > EPS, cogs_week * 365 / 7 / avg.where(avg > EPS), np.nan)
    out["days_on_hand"] = np.where(cogs_week > EPS, avg * 7 / cogs_week.where(cogs_week > EPS), np.nan)
    moved = out["units_sold"] + out["units_on_hand"]
    out["sell_through"] = np.where(moved > EPS, out["units_sold"] / moved.where(moved > EPS), np.nan)
    money = ["cogs", "inventory_start", "inventory_end", "average_inventory"]
    out[money] = out[money].round(2)
    return out.round({"turnover": 2, "days_on_hand": 1, "inventory_accuracy": 4, "stockout_rate": 4,
                      "sell_through": 4})


def _accuracy(store: Store, ledger: Ledger, abc: pd.Series | None, out: pd.DataFrame,
              first: pd.Timestamp, as_of: pd.Timestamp) -> None:
    """counted, counted_within and inventory_accuracy per week, from the Variance rows."""
    counted = count_days(variance(store, ledger, abc))
    counted = counted[(counted["day"] >= first) & (counted["day"] <= as_of)]
    week = (counted["day"] - first).dt.days // 7
    n = counted.groupby(week).size().reindex(range(len(out)), fill_value=0)
    ok = counted["within"].groupby(week).sum().reindex(range(len(out)), fill_value=0)
    out["counted"], out["counted_within"] = n.to_numpy(), ok.to_numpy()
    out["inventory_accuracy"] = np.where(n > 0, ok / n.where(n > 0), np.nan)


def _stockouts(store: Store, ledger: Ledger, out: pd.DataFrame, first: pd.Timestamp, as_of: pd.Timestamp) -> None:
    """sku_days, stockout_days and stockout_rate per week."""
    items = store["Items"]
    active = items.loc[items["status"] != "discontinued", "sku"].dropna()
    active = pd.Index(active[~active.isin(ledger.bundles["bundle_sku"])].unique())
    internal = ledger.internal(["sku", "when", "qty"])
    stocked_from = internal[internal["qty"] > 0].groupby("sku")["when"].min().dt.normalize()
    active = active[active.isin(stocked_from.index)]
    # For sale: at sellable locations, expired batches set aside (an expired batch is on hand, not
    # for sale: a day with only expired stock is a stock-out day, as demand counts it).
    on_hand = unexpired_daily(ledger, first, as_of)
    at = on_hand.columns.get_level_values(1).to_series()
    on_hand = on_hand.loc[:, ledger.places.sellable(at).to_numpy()]
    sellable = on_hand.T.groupby(level=0).sum().T.reindex(columns=active, fill_value=0.0)
    days = sellable.index.to_numpy()[:, None]
    live = days >= stocked_from.reindex(active).to_numpy()[None, :]
    empty = live & (sellable.to_numpy() <= EPS)
    week = (sellable.index - first).days // 7
    sku_days = pd.Series(live.sum(axis=1), index=week).groupby(level=0).sum()
    out_days = pd.Series(empty.sum(axis=1), index=week).groupby(level=0).sum()
    out["sku_days"] = sku_days.reindex(range(len(out)), fill_value=0).to_numpy()
    out["stockout_days"] = out_days.reindex(range(len(out)), fill_value=0).to_numpy()
    out["stockout_rate"] = np.where(out["sku_days"] > 0, out["stockout_days"] / out["sku_days"].where(out["sku_days"] > 0),
                                    np.nan)


def kpi_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """The KPIs sheet: the last WEEKS weeks, the definitions beside them and a line chart of the shares."""
    if ledger.postings.empty and ledger.counts.empty:
        return []
    rows = weekly_kpis(store, ledger)
    return [sheet("KPIs", rows, notes=DEFINITIONS, chart=CHART)]
