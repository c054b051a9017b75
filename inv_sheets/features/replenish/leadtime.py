"""Lead time per supplier: what the Suppliers sheet says, and what the purchase lines show.

Declared lead time is the sum of its parts (processing + shipping + customs + receiving + put-away,
a blank part counting 0) when any part is given, else the total `lead_time_days`. Observed lead
time comes from purchase lines that have an order date and a receipt naming their PO: days from
`ordered` to the first receipt of that line. When a supplier has observed lead times, their mean
and standard deviation are used (the declared figure is shown beside them in the reason); else the
declared figure, with no spread. The guide asks for exactly this: "keep lead time notes for each
supplier and update them after every purchase".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...contract.book import Store
from .reasons import n

PARTS = ("processing_days", "shipping_days", "customs_days", "receiving_days", "putaway_days")
_PART_WORDS = {"processing_days": "processing", "shipping_days": "shipping", "customs_days": "customs",
               "receiving_days": "receiving", "putaway_days": "put-away"}


def declared(store: Store) -> pd.DataFrame:
    """Each supplier's declared lead time: index supplier, columns days (NaN when none) and how
    (e.g. "2 processing + 5 shipping", or "lead_time_days")."""
    sup = store["Suppliers"].dropna(subset=["supplier"]).drop_duplicates("supplier").set_index("supplier")
    parts = sup.reindex(columns=list(PARTS)).astype(float)
    has_parts = parts.notna().any(axis=1)
    days = parts.fillna(0.0).sum(axis=1).where(has_parts, sup["lead_time_days"].astype(float))
    # One phrase per supplier (a short list), e.g. "2 processing + 5 shipping".
    how = pd.Series(
        [" + ".join(f"{n(v)} {_PART_WORDS[p]}" for p, v in zip(PARTS, r) if not math.isnan(v)) if hp
         else ("lead_time_days" if not math.isnan(t) else "") for r, hp, t in
         zip(parts.to_numpy(), has_parts.to_numpy(), sup["lead_time_days"].to_numpy(dtype=float))],
        index=sup.index, dtype=object)
    return pd.DataFrame({"days": days, "how": how})


def observed(po_lines: pd.DataFrame) -> pd.DataFrame:
    """Observed lead times per supplier: index supplier, columns mean, sd (sample; 0 for one
    observation) and count, over PO lines with an order date and a receipt."""
    seen = po_lines.dropna(subset=["supplier", "ordered", "first_receipt"])
    days = (seen["first_receipt"].dt.normalize() - seen["ordered"].dt.normalize()).dt.days.astype(float)
    days = days.clip(lower=0.0)  # a receipt booked before its order date is a typo, not negative time
    g = days.groupby(seen["supplier"].to_numpy())
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "count": g.size().astype("int64")})
    out.index.name = "supplier"
    return out


def lead_times(store: Store, po_lines: pd.DataFrame) -> pd.DataFrame:
    """The lead time each supplier's reorder rows use.

    Index supplier; columns lead_time_days, lead_time_sd, source ("observed", "declared" or "none"),
    observed_count, declared_days, declared_how.
    """
    dec, obs = declared(store), observed(po_lines)
    suppliers = dec.index.union(obs.index)
    dec, obs = dec.reindex(suppliers), obs.reindex(suppliers)
    has_obs = obs["count"].fillna(0) > 0
    has_dec = dec["days"].notna()
    out = pd.DataFrame({
        "lead_time_days": np.where(has_obs, obs["mean"], dec["days"]),
        "lead_time_sd": np.where(has_obs, obs["sd"], np.where(has_dec, 0.0, np.nan)),
        "source": np.where(has_obs, "observed", np.where(has_dec, "declared", "none")),
        "observed_count": obs["count"].fillna(0).astype("int64"),
        "declared_days": dec["days"], "declared_how": dec["how"].fillna(""),
    }, index=suppliers)
    out.index.name = "supplier"
    return out
