"""ABC classes by 12-month consumption value, and the review calendar they set.

Consumption value = units sold in the 365 days ending at as_of (sale legs, so a bundle sale counts
for its components) x unit cost (Items unit_cost; when blank, the quantity-weighted mean cost of the
SKU's receipts; a store with no costs at all is ranked by units). SKUs are ranked by value, highest first (ties by SKU), and classed by the
cumulative share of the SKUs ranked *above* them: A while that share is below Settings `abc_a`
(0.80), B while below `abc_b` (0.95), C for the rest. So the SKU that crosses a boundary joins the
class it completes: the SKU that takes the cumulative share from 70 % to 85 % is an A, and a store
with one selling SKU has one A. (inventorize's ABC() classes by the share *including* the SKU, so
its boundary SKU falls into the lower class and a lone SKU would be a C.) A SKU with no consumption
value is always C.

Reviews fall on a fixed calendar: every `review_every_days_<class>` days counted from Monday
3 January 2000, so with the default 7 days every A item is reviewed on Mondays, and the dates do
not drift when the workbook is refreshed on another day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...contract.book import Store
from ...ledger.costs import unit_costs

if TYPE_CHECKING:
    from ...ledger.postings import Ledger

REVIEW_EPOCH = pd.Timestamp("2000-01-03")  # a Monday
_TOLERANCE = 1e-12  # cumulative sums of floats: 0.8 must not read as 0.7999999999


def consumption_value(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Per Items SKU: units sold over the 12 months to as_of, unit_cost used, value.

    Worked out once per ledger (ABC classes for Reorder, Count Plan, Variance, KPIs and the
    checklist; unit costs for Variance and KPIs); callers only read it.
    """
    return ledger.derived("consumption_value", store, lambda: _consumption_value(store, ledger))


def _consumption_value(store: Store, ledger: Ledger) -> pd.DataFrame:
    skus = pd.Index(store["Items"]["sku"].dropna().unique(), name="sku")
    p = ledger.postings
    internal = ~p["location"].str.startswith("@").to_numpy()
    day = p["when"].dt.normalize()
    start = ledger.as_of - pd.Timedelta(days=364)
    sold = p.loc[internal & (p["type"] == "sale").to_numpy() & (day >= start).to_numpy(), ["sku", "qty"]]
    units = (-sold["qty"]).groupby(sold["sku"], observed=True).sum().reindex(skus, fill_value=0.0)
    cost = unit_costs(store, ledger)["unit_cost"].reindex(skus)
    # A store that has entered no costs at all is ranked by units, rather than every SKU being a C.
    value = units * cost.fillna(0.0) if cost.notna().any() else units.copy()
    return pd.DataFrame({"units": units, "unit_cost": cost, "value": value})


def classify(value: pd.Series, a: float = 0.80, b: float = 0.95) -> pd.Series:
    """A/B/C for each index entry of `value` (see the module docstring for the boundary rule)."""
    ranked = value.fillna(0.0).clip(lower=0.0)
    order = pd.DataFrame({"v": ranked.to_numpy(), "k": ranked.index.astype(str)}, index=ranked.index)
    ranked = ranked.loc[order.sort_values(["v", "k"], ascending=[False, True]).index]
    total = ranked.sum()
    if total <= 0:
        return pd.Series("C", index=value.index, dtype=object)
    before = (ranked.cumsum() - ranked) / total
    cls = np.where(ranked <= 0, "C", np.where(before < a - _TOLERANCE, "A",
                                              np.where(before < b - _TOLERANCE, "B", "C")))
    return pd.Series(cls, index=ranked.index, dtype=object).reindex(value.index)


def abc_classes(store: Store, ledger: Ledger) -> pd.Series:
    """Every Items SKU's ABC class: index sku, values "A", "B" or "C"."""
    s = store.settings
    out = classify(consumption_value(store, ledger)["value"], s.abc_a, s.abc_b)
    out.name = "abc"
    return out


def next_review(as_of: pd.Timestamp, every_days: pd.Series) -> pd.Series:
    """The first review day on or after as_of on each row's calendar (every N days from the epoch)."""
    n = every_days.astype(float).clip(lower=1.0).to_numpy()
    elapsed = (pd.Timestamp(as_of).normalize() - REVIEW_EPOCH).days
    steps = np.ceil(elapsed / n)
    return pd.Series(REVIEW_EPOCH + pd.to_timedelta(steps * n, unit="D"), index=every_days.index)
