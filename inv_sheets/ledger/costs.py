"""The unit cost of each SKU: one rule for every figure that values stock.

    unit cost = Items unit_cost, else the mean cost of the SKU's receipts that carried one
                (receipt qty x unit cost / receipt qty, receipts into the store's own places)

Blank (NaN) when neither is known. Stock value, Variance value, the KPIs' valuation, ABC, the
Purchase Plan and every export's opening stock read it from here (docs/ledger.md).
"""

from __future__ import annotations

import pandas as pd

from ..contract.book import Store
from .postings import Ledger


def unit_costs(store: Store, ledger: Ledger) -> pd.DataFrame:
    """Per Items SKU: `unit_cost` by the rule above, and `source`: "Items unit_cost", "mean
    receipt cost" or "none". Worked out once per ledger."""
    return ledger.derived("unit_costs", store, lambda: _unit_costs(store, ledger))


def _unit_costs(store: Store, ledger: Ledger) -> pd.DataFrame:
    skus = pd.Index(store["Items"]["sku"].dropna().unique(), name="sku")
    typed = store["Items"].drop_duplicates("sku").set_index("sku")["unit_cost"].reindex(skus).astype(float)
    p = ledger.postings
    internal = ~p["location"].str.startswith("@").to_numpy()
    costed_receipt = internal & (p["type"] == "receive").to_numpy() & p["unit_cost"].notna().to_numpy()
    got = p.loc[costed_receipt, ["sku", "qty", "unit_cost"]]
    received = pd.Series(float("nan"), index=skus)
    if len(got):
        spent = (got["qty"] * got["unit_cost"]).groupby(got["sku"], observed=True).sum()
        units = got["qty"].groupby(got["sku"], observed=True).sum()
        received = (spent / units.where(units > 0)).reindex(skus)
    cost = typed.fillna(received)
    source = pd.Series("none", index=skus, dtype=object)
    source[received.notna().to_numpy()] = "mean receipt cost"
    source[typed.notna().to_numpy()] = "Items unit_cost"
    return pd.DataFrame({"unit_cost": cost, "source": source})
