"""Positions from the postings: stock on hand, day-by-day balances, and where stock went negative.

All of it works on the postings as integer codes (`Legs`): grouping a million legs by code takes a
fraction of a second, grouping by text several seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue
from .timeline import decode, episodes

EPS = 1e-9


@dataclass(frozen=True)
class Legs:
    """The postings as integer codes, row for row (ledger.postings has the same order).

    sku, place and batch are codes into skus, places and batches (-1: none); places below
    `outside` are the outside places. day is each leg's day (datetime64[D]). expiry maps a
    (sku, batch) code pair to its expiry (int64 ns).
    """

    sku: np.ndarray
    place: np.ndarray
    batch: np.ndarray
    seq: np.ndarray
    qty: np.ndarray
    day: np.ndarray
    skus: np.ndarray
    places: np.ndarray
    batches: np.ndarray
    outside: int
    expiry: dict = field(default_factory=dict, repr=False)
    _internal_groups: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def internal(self) -> np.ndarray:
        """True for legs at the store's own locations."""
        return self.place >= self.outside

    def text(self, vocabulary: str, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The values for codes ("skus", "places" or "batches"), as a str array (-1: missing)."""
        return decode(getattr(self, vocabulary), codes)

    def expiries(self, sku: np.ndarray, batch: np.ndarray) -> np.ndarray:
        """The expiry of each (sku, batch) code pair (NaT for no batch and unknown ones)."""
        out = np.full(len(sku), np.datetime64("NaT"), dtype="datetime64[ns]")
        has = batch >= 0
        if self.expiry and has.any():
            width = len(self.batches) + 1
            keys = np.fromiter((s * width + b for s, b in self.expiry), dtype=np.int64, count=len(self.expiry))
            table = pd.Series(np.fromiter(self.expiry.values(), dtype=np.int64, count=len(self.expiry)), index=keys)
            table = table[~table.index.duplicated()]
            found = table.reindex(sku[has] * width + batch[has]).fillna(np.iinfo(np.int64).min)
            out[has] = found.to_numpy(dtype=np.int64).view("datetime64[ns]")
        return out

    def group(self, by: Sequence[str], mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], pd.Index]:
        """Group the masked legs by some of sku, location, batch.

        Returns each leg's group number, each group's codes (one array per `by` column) and the
        groups' labels (an Index, or a MultiIndex for several columns).
        """
        columns = {"sku": (self.sku, "skus"), "location": (self.place, "places"), "batch": (self.batch, "batches")}
        unknown = set(by) - set(columns)
        if unknown:
            raise ValueError(f"cannot group by {sorted(unknown)}: use sku, location and batch")
        codes = [columns[b][0][mask] + 1 for b in by]  # +1: no batch (-1) becomes 0
        sizes = [len(getattr(self, columns[b][1])) + 1 for b in by]
        key = np.zeros(int(mask.sum()), dtype=np.int64)
        for c, size in zip(codes, sizes):
            key = key * size + c
        # Hashing, then sorting only the distinct keys: np.unique would sort all two million legs.
        g, uniq = pd.factorize(key, sort=True)
        group_codes = []
        for size in reversed(sizes):
            uniq, c = np.divmod(uniq, size)
            group_codes.append(c - 1)
        group_codes.reverse()
        parts = [self.text(columns[b][1], c) for b, c in zip(by, group_codes)]
        labels = pd.Index(parts[0], name=by[0]) if len(by) == 1 else pd.MultiIndex.from_arrays(parts, names=list(by))
        return g, group_codes, labels

    def group_internal(self, by: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray], pd.Index]:
        """group(by) of the legs at internal locations, worked out once per `by`: the stock on hand
        and the day-by-day balances of every period group the same legs. Callers only read it."""
        key = tuple(by)
        if key not in self._internal_groups:
            self._internal_groups[key] = self.group(by, self.internal)
        return self._internal_groups[key]


def on_hand(legs: Legs) -> pd.DataFrame:
    """Stock on hand by sku, location, batch and expiry at the internal locations.

    Rows that net to zero are left out; negative ones stay.
    """
    g, (sku, _, batch), labels = legs.group_internal(["sku", "location", "batch"])
    qty = np.bincount(g, weights=legs.qty[legs.internal], minlength=len(labels)).round(9)
    keep = np.abs(qty) > EPS
    frame = labels[keep].to_frame(index=False)
    frame.insert(3, "expiry", legs.expiries(sku[keep], batch[keep]))
    frame["qty"] = qty[keep]
    return frame.sort_values(["sku", "location", "batch"], ignore_index=True, na_position="first")


def daily(legs: Legs, sellable: pd.Series, start: object, end: object, by: Sequence[str] = ("sku",),
          sellable_only: bool = False, unexpired: bool = False) -> pd.DataFrame:
    """End-of-day on-hand for every day from start to end (inclusive), one column per group.

    See Ledger.daily. `sellable` maps location codes to whether they are sellable.
    """
    if unexpired and "batch" in by:
        raise ValueError("unexpired balances are per sku and location: group them without batch")
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    days = pd.date_range(start, end, freq="D", name="date")
    mask = legs.internal
    if sellable_only:
        ok = sellable.reindex(pd.Index(legs.places, dtype="str")).fillna(False).to_numpy(dtype=bool)
        mask = mask & ok[legs.place]
        g, _, labels = legs.group(list(by), mask)
    else:
        g, _, labels = legs.group_internal(by)
    first = np.datetime64(start.date(), "D")
    balance = _balances(g, legs.day[mask] - first, legs.qty[mask], len(labels), len(days))
    if unexpired:
        balance -= _expired(legs, np.flatnonzero(mask), g, first, days, len(labels))
        balance.round(9, out=balance)
    out = pd.DataFrame(balance, index=days, columns=labels)
    return out.sort_index(axis=1)


def _balances(group: np.ndarray, day: np.ndarray, qty: np.ndarray, n_groups: int, n_days: int) -> np.ndarray:
    """Days x groups end-of-day balances of legs by `group` and `day` (days since the first one)."""
    d = day.astype(np.int64)
    opening = np.bincount(group[d < 0], weights=qty[d < 0], minlength=n_groups)
    inside = (d >= 0) & (d < n_days)
    change = np.bincount(d[inside] * n_groups + group[inside], weights=qty[inside], minlength=n_days * n_groups)
    # float even without legs (bincount of nothing is integer)
    balance = change.reshape(n_days, n_groups).cumsum(axis=0, dtype=float) + opening
    balance.round(9, out=balance)  # in place: days x groups floats can be a few hundred MB
    return balance


def _expired(legs: Legs, idx: np.ndarray, group: np.ndarray, first: np.datetime64, days: pd.DatetimeIndex,
             n_groups: int) -> np.ndarray:
    """Days x groups: what the batches past their expiry hold at each day's end (only what they
    hold above zero), for the legs at `idx` grouped by `group`; `days` begin on `first`.

    Only the batches that expire before the last day can count, so only their legs are grouped
    again, by group and batch: a dense day-by-batch frame of every batch ever received (74,000 at
    a full ledger) is never built.
    """
    out = np.zeros((len(days), n_groups))
    if not len(days):
        return out
    expiry = legs.expiries(legs.sku[idx], legs.batch[idx])
    ending = np.flatnonzero(expiry < days[-1].to_datetime64())  # NaT compares False: no expiry never expires
    if not len(ending):
        return out
    width = len(legs.batches) + 1
    leg = idx[ending]
    pair = pd.factorize(group[ending] * width + legs.batch[leg])[0]
    n_pairs = int(pair.max()) + 1
    held = _balances(pair, legs.day[leg] - first, legs.qty[leg], n_pairs, len(days))
    pair_group = np.zeros(n_pairs, dtype=np.int64)
    pair_expiry = np.zeros(n_pairs, dtype="datetime64[ns]")
    pair_group[pair], pair_expiry[pair] = group[ending], expiry[ending]
    gone = (days.to_numpy()[:, None] > pair_expiry[None, :]) & (held > 0)
    for_groups = np.where(gone, held, 0.0)
    order = np.argsort(pair_group, kind="stable")
    groups, starts = np.unique(pair_group[order], return_index=True)
    out[:, groups] = np.add.reduceat(for_groups[:, order], starts, axis=1)
    return out


def negative_findings(store: Store, legs: Legs, postings: pd.DataFrame, unknown: np.ndarray | None = None) -> list[Issue]:
    """negative-stock: once per episode of a location (or, when only it went short, a batch there).

    `unknown` holds the seqs of movements that named an unknown batch: that batch going below
    zero is the unknown-batch finding already.
    """
    idx = np.flatnonzero(legs.internal)
    loc_key = legs.sku * len(legs.places) + legs.place
    hits, balances = episodes(loc_key[idx], legs.seq[idx], legs.qty[idx])
    where = idx[hits]
    bidx = idx[legs.batch[idx] >= 0]
    if len(bidx):
        bkey = loc_key[bidx] * (len(legs.batches) + 1) + legs.batch[bidx]
        bhits, bbal = episodes(bkey, legs.seq[bidx], legs.qty[bidx])
        # A batch going short at the same event as its whole location is already reported.
        seen = pd.MultiIndex.from_arrays([loc_key[where], legs.seq[where]])
        new = ~pd.MultiIndex.from_arrays([loc_key[bidx[bhits]], legs.seq[bidx[bhits]]]).isin(seen)
        if unknown is not None:
            new &= ~np.isin(legs.seq[bidx[bhits]], unknown)
        where, balances = np.r_[where, bidx[bhits][new]], np.r_[balances, bbal[new]]
    e = postings.iloc[where]
    columns = ("source", "row", "movement_id", "type", "sku", "location", "batch", "parent_sku")
    days = np.datetime_as_string(e["when"].to_numpy(dtype="datetime64[ns]"), unit="D").tolist()
    out = []
    for source, row, mid, mtype, sku, loc, batch, parent, when, bal in zip(
            *(e[c].tolist() for c in columns), days, balances.tolist()):
        column = "qty" if source == "Movements" else "counted_qty"
        title, letter = store.cell(source, column)
        what = f"{sku} at {loc}" + (f" (batch {batch})" if isinstance(batch, str) else "")
        by = f"{mtype} {mid}" if isinstance(mid, str) else mtype
        via = f" (a component of bundle {parent})" if isinstance(parent, str) else ""
        out.append(Issue("negative-stock", title, int(row), letter,
                         f"Stock of {what}{via} went to {bal:g} with {by} on {when}: the book was "
                         "short before it; record the missing receipt, or count it.", value=float(bal), field=column))
    return sorted(out, key=lambda i: (i.row, i.message))
