"""Daily demand per reorder row: mean and standard deviation of units sold a day, with its reasons.

Demand is what customers took, so it comes from sales only: the sale legs at the store's own
locations (a bundle sale is already its components' legs; returns are a different movement type, so
they never cancel demand). The window is the Settings `demand_days` calendar days ending at `as_of`.

Three kinds of day are not ordinary demand, and each is said on the sheet:

- **Promotions.** A sale inside a promotion that names its SKU (or its bundle, or every SKU) and its
  channel (or every channel) is promo demand: it is left out of the baseline and reported as promo
  units. A day inside a promotion that covers every channel of a SKU leaves that SKU's baseline
  entirely; a promotion on one channel leaves only that channel's sales out. A promotion on a
  bundle is a promotion on its components: its days leave their baselines too.
- **Stock-outs.** A day that began and ended with nothing sellable on hand (nothing, or only
  batches already past their expiry) and sold nothing is censored: it did not show zero demand, it
  showed nothing, so it is left out of the mean and the spread (a negative book is not "nothing":
  the book was wrong, and its days stay in).
- **Short history.** A row observed on fewer than `min_history_days` days uses what it has and says
  so (a new SKU's days before its first receipt are stock-out days, so they do not count).

A reorder row is a SKU (location "" = every location without a rule of its own; stock counts only
at sellable ones) or a SKU at a location with its own rule in Item Locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...contract.book import Store

if TYPE_CHECKING:
    from ...ledger.postings import Ledger

EPS = 1e-9
ALL_LOCATIONS = ""  # the location of a SKU-level reorder row


@dataclass(frozen=True)
class Window:
    """The demand window: `days` calendar days from `start` to `end`, both included."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D", name="date")


def window(store: Store, as_of: pd.Timestamp) -> Window:
    """The Settings `demand_days` days ending at as_of."""
    end = pd.Timestamp(as_of).normalize()
    return Window(end - pd.Timedelta(days=int(store.settings.demand_days) - 1), end)


def sale_lines(postings: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Units sold per sale leg between start and end (days included).

    Columns day, sku, location, channel, parent_sku (the bundle sold, for component legs), units.
    """
    sale = (postings["type"] == "sale").to_numpy() & ~postings["location"].str.startswith("@").to_numpy()
    p = postings.loc[sale, ["when", "sku", "location", "channel", "parent_sku", "qty"]]
    day = p["when"].dt.normalize()
    p = p[((day >= start) & (day <= end)).to_numpy()]
    return pd.DataFrame({
        "day": p["when"].dt.normalize().to_numpy(), "sku": p["sku"].to_numpy(dtype=object),
        "location": p["location"].to_numpy(dtype=object), "channel": p["channel"].to_numpy(dtype=object),
        "parent_sku": p["parent_sku"].to_numpy(dtype=object), "units": -p["qty"].to_numpy(dtype=float),
    })


def promo_sales(sales: pd.DataFrame, promotions: pd.DataFrame) -> np.ndarray:
    """Which sale lines fall inside a promotion (its dates, its SKU or bundle, its channel)."""
    inside = np.zeros(len(sales), dtype=bool)
    day, sku, parent, channel = (sales[c].to_numpy() for c in ("day", "sku", "parent_sku", "channel"))
    # One pass per promotion row (a handful), each over whole columns.
    for p in promotions.dropna(subset=["start", "end"]).itertuples():
        hit = (day >= p.start.normalize()) & (day <= p.end.normalize())
        if isinstance(p.sku, str):
            hit &= (sku == p.sku) | (parent == p.sku)
        if isinstance(p.channel, str):
            hit &= channel == p.channel
        inside |= hit
    return inside


def promo_days(promotions: pd.DataFrame, days: pd.DatetimeIndex, skus: pd.Index,
               bundles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days (rows) x SKUs (columns): True where a promotion on every channel covers that SKU, itself
    or as a component of a promoted bundle (`bundles`: bundle_sku, component_sku)."""
    out = pd.DataFrame(False, index=days, columns=skus)
    parts = bundles.groupby("bundle_sku")["component_sku"].agg(list).to_dict() if bundles is not None and len(bundles) else {}
    for p in promotions.dropna(subset=["start", "end"]).itertuples():
        if isinstance(p.channel, str):
            continue
        on = (days >= p.start.normalize()) & (days <= p.end.normalize())
        cols = skus if not isinstance(p.sku, str) else skus[skus.isin([p.sku, *parts.get(p.sku, [])])]
        out.loc[on, cols] = True
    return out


def row_keys(sku: np.ndarray, location: np.ndarray, rows: pd.MultiIndex,
             counts: np.ndarray | None = None) -> pd.MultiIndex:
    """The reorder row each (sku, location) belongs to: its own row when it has one, else the SKU's
    row (location ""), else none (sku None). `counts`, when given, says which locations may go to
    the SKU's row (the sellable ones, for stock)."""
    own = pd.MultiIndex.from_arrays([sku, location]).isin(rows)
    sku_rows = rows.get_level_values(0)[rows.get_level_values(1) == ALL_LOCATIONS]
    sku_level = pd.Index(sku, dtype=object).isin(sku_rows)
    if counts is not None:
        sku_level &= counts
    key_sku = np.where(own | sku_level, sku, None)
    key_loc = np.where(own, location, ALL_LOCATIONS)
    return pd.MultiIndex.from_arrays([key_sku, key_loc], names=["sku", "location"])


def _by_row(wide: pd.DataFrame, keys: pd.MultiIndex, rows: pd.MultiIndex) -> pd.DataFrame:
    """Sum the columns of a days x (sku, location) frame into days x reorder rows."""
    keep = ~pd.isna(keys.get_level_values(0))
    if not keep.any():
        return pd.DataFrame(0.0, index=wide.index, columns=rows)
    part = wide.loc[:, keep]
    part.columns = keys[keep]
    return part.T.groupby(level=[0, 1], sort=False).sum().T.reindex(columns=rows, fill_value=0.0)


def daily_stats(baseline: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample standard deviation of daily units over the observed days of each column.

    baseline and observed are days x rows (units sold, and whether the day counts). With fewer than
    two observed days the spread is 0; with none the mean is 0 too.
    """
    values = baseline.where(observed)
    n = observed.sum()
    mean = values.mean().fillna(0.0)
    sd = values.std(ddof=1).where(n >= 2, 0.0).fillna(0.0)
    return pd.DataFrame({"daily_demand": mean, "demand_sd": sd, "days_observed": n.astype("int64")})


def demand(store: Store, ledger: Ledger, rows: pd.MultiIndex) -> pd.DataFrame:
    """Demand of each reorder row (index (sku, location), location "" = the SKU's own row).

    Columns: daily_demand, demand_sd (units a day over the observed days), days_observed,
    days_window, days_stockout, days_promo (days with promo sales or an all-channel promotion),
    promo_units, baseline_units, short_history (days_observed < min_history_days).
    """
    # Level by level, as from_tuples would build it, without a Python tuple per row.
    rows = pd.MultiIndex.from_arrays([rows.get_level_values(i).to_numpy(dtype=object) for i in (0, 1)],
                                     names=["sku", "location"]) if len(rows) else \
        pd.MultiIndex.from_arrays([[], []], names=["sku", "location"])
    win = window(store, ledger.as_of)
    days = win.days
    sales = _window_sales(store, ledger, win)
    keys = row_keys(sales["sku"].to_numpy(dtype=object), sales["location"].to_numpy(dtype=object), rows)
    sales = sales.assign(row_sku=keys.get_level_values(0), row_loc=keys.get_level_values(1))
    sales = sales[sales["row_sku"].notna()]

    def per_day(frame: pd.DataFrame) -> pd.DataFrame:
        s = frame.groupby(["day", "row_sku", "row_loc"])["units"].sum()
        wide = s.unstack(["row_sku", "row_loc"]) if len(s) else pd.DataFrame(index=pd.DatetimeIndex([]))
        return wide.reindex(index=days, columns=rows, fill_value=0.0).fillna(0.0)

    baseline = per_day(sales[~sales["promo"]])
    promoted = per_day(sales[sales["promo"]])
    # Every frame here is days x rows in the same order: combine them as arrays, so the results
    # stay one block (frame-wise & on differently blocked frames makes a block per column).
    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=days, columns=rows)

    stockout = frame(_stockout_days(ledger, win, rows).to_numpy(dtype=bool)
                     & ((baseline.to_numpy(dtype=float) + promoted.to_numpy(dtype=float)) <= EPS))
    all_channel = promo_days(store["Promotions"], days, pd.Index(rows.get_level_values(0).unique()), ledger.bundles)
    promo_day = frame(all_channel.reindex(columns=rows.get_level_values(0)).to_numpy(dtype=bool))
    observed = frame(~stockout.to_numpy(dtype=bool) & ~promo_day.to_numpy(dtype=bool))
    stats = daily_stats(baseline, observed)
    stats["days_window"] = len(days)
    stats["days_stockout"] = (stockout & ~promo_day).sum().astype("int64")
    stats["days_promo"] = (promo_day | (promoted > EPS)).sum().astype("int64")
    stats["promo_units"] = promoted.sum()
    stats["baseline_units"] = baseline.where(observed, 0.0).sum()
    stats["short_history"] = stats["days_observed"] < int(store.settings.min_history_days)
    stats.index.names = ["sku", "location"]
    return stats


def daily_demand(store: Store, ledger: Ledger, pairs: pd.MultiIndex) -> pd.Series:
    """demand()'s daily_demand of (sku, location) pairs (no SKU rows), 0 for a pair without a sale
    in the window.

    Worked out for the pairs that sold in the window alone: without SKU rows, a pair's demand
    depends on its own sales and stock only, and one that sold nothing has none. (Stock's days of
    cover: 55,000 pairs at a full ledger, 10,000 of them selling.)
    """
    if (pairs.get_level_values(1) == ALL_LOCATIONS).any():
        raise ValueError("daily_demand is per SKU and location: a SKU's own row takes other locations' sales")
    sales = _window_sales(store, ledger, window(store, ledger.as_of))
    sold = pd.MultiIndex.from_arrays([sales["sku"].to_numpy(dtype=object), sales["location"].to_numpy(dtype=object)])
    selling = pairs[pairs.isin(sold)]
    return demand(store, ledger, selling)["daily_demand"].reindex(pairs, fill_value=0.0)


def _window_sales(store: Store, ledger: Ledger, win: Window) -> pd.DataFrame:
    """The window's sale lines (sale_lines) with whether each is promo demand (promo): the same for
    every set of reorder rows, so worked out once per ledger."""
    def make() -> pd.DataFrame:
        sales = sale_lines(ledger.postings, win.start, win.end)
        return sales.assign(promo=promo_sales(sales, store["Promotions"]))

    return ledger.derived(f"sales {win.start:%Y-%m-%d} {win.end:%Y-%m-%d}", store, make)


def _stockout_days(ledger: Ledger, win: Window, rows: pd.MultiIndex) -> pd.DataFrame:
    """Days x rows: True where the row began and ended the day with nothing sellable on hand
    (exactly zero once expired batches are set aside).

    A SKU-level row counts stock at the sellable locations without a rule of their own; a location
    row counts its own location.
    """
    before = win.start - pd.Timedelta(days=1)
    on_hand = unexpired_daily(ledger, before, win.end)
    if on_hand.shape[1] == 0:
        return pd.DataFrame(True, index=win.days, columns=rows)
    sku = on_hand.columns.get_level_values(0).to_numpy(dtype=object)
    loc = on_hand.columns.get_level_values(1).to_numpy(dtype=object)
    keys = row_keys(sku, loc, rows, ledger.places.sellable(pd.Series(loc, dtype=object)).to_numpy())
    stock = _by_row(on_hand, keys, rows)
    empty = stock.abs() <= EPS
    closing = empty.iloc[1:]
    opening = empty.iloc[:-1].set_axis(closing.index)
    return (opening & closing).set_axis(win.days)


def unexpired_daily(ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """End-of-day on hand per (sku, location) without the batches whose expiry is before that day
    (as on Stock: an expired batch is on hand, but not for sale). Demand's stock-out days and the
    KPIs' stockout rate both count from it.

    Worked out once per ledger and last day: demand's window and the KPIs' weeks end on the same
    day, and the shorter period is the end of the longer one. Callers only read it.
    """
    held = ledger.derived("unexpired", None, dict)  # last day -> the longest period worked out to it
    frame = held.get(end)
    if frame is None or not len(frame) or frame.index[0] > start:
        frame = held[end] = ledger.daily(start, end, by=("sku", "location"), unexpired=True)
    return frame.loc[start:]
