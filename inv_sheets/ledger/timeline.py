"""The ledger's timeline, vectorised: movement lines, count events, their order, running balances.

These are the hot paths of ledger.build. They work on integer codes (SKU, place, batch) and whole
columns (sort once, cumulative sums within groups, segments restarting at counts), never row by
row, so a million movements take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue

EPS = 1e-9


def encode(*columns: pd.Series) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer codes for the values of several columns over one shared vocabulary (-1: blank).

    Returns the codes of each column and the vocabulary (an object array of the values), in
    order of first appearance, so values of the first column keep their positions.
    """
    codes, uniques = pd.factorize(pd.concat([c.astype("str") for c in columns], ignore_index=True))
    bounds = np.cumsum([0, *[len(c) for c in columns]])
    return [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:])], np.asarray(uniques, dtype=object)


def decode(vocabulary: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The values of codes in a vocabulary, as a str array (-1: missing)."""
    return pd.array(vocabulary, dtype="str").take(np.asarray(codes, dtype=np.int64), allow_fill=True)


def categorical(vocabulary: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    """The values of codes in a vocabulary (-1: missing), as a categorical of sorted text.

    A million postings name a few thousand SKUs and a few dozen places: codes of one or two bytes
    instead of a string each (a fifth of the memory, and selecting rows moves bytes, not strings).
    The categories are sorted, so sorting by the column is sorting by its text.
    """
    vocabulary = np.asarray(vocabulary, dtype=object)
    order = np.argsort(vocabulary.astype(str), kind="stable")
    rank = np.full(len(order) + 1, -1, dtype=np.int64)  # the last one is where a missing value (-1) looks
    rank[order] = np.arange(len(order))
    return pd.Categorical.from_codes(rank[np.asarray(codes)], categories=pd.Index(vocabulary[order], dtype="str"))


def future_rows(store: Store, sheet: str, as_of: pd.Timestamp, issues: list[Issue]) -> np.ndarray:
    """Rows dated after the as-of day: each is a future-date finding, and is left out."""
    frame = store[sheet]
    future = (frame["date"].dt.normalize() > as_of).to_numpy()
    title, col = store.cell(sheet, "date")
    for row, date in zip(frame.index[future], frame["date"][future]):
        issues.append(Issue("future-date", title, int(row), col,
                            f"Dated {date:%Y-%m-%d}, after the as-of day {as_of:%Y-%m-%d}: left out of today's "
                            "figures. Check the date, or set as_of on the Settings sheet.", value=date, field="date"))
    return future


def movement_lines(store: Store, posted: np.ndarray, codes: dict[str, np.ndarray], frm: np.ndarray,
                   to: np.ndarray, qty: np.ndarray, kits: pd.DataFrame) -> pd.DataFrame:
    """The movements to post, one line per SKU moved; a bundle becomes a line per component.

    `codes` holds the sku and batch codes of every Movements row; `kits` has bundle, component
    (sku codes) and qty (per bundle). Returns columns pos (position in Movements), row, when, sku,
    parent (the bundle's code, or -1), src, dst, qty (>= 0), batch, expiry.
    """
    mv = store["Movements"]
    pos = np.flatnonzero(posted)
    lines = pd.DataFrame({
        "pos": pos, "row": mv.index.to_numpy(dtype=np.int64)[pos], "when": mv["date"].to_numpy(dtype="datetime64[ns]")[pos],
        "sku": codes["sku"][pos], "parent": -1, "src": frm[pos], "dst": to[pos], "qty": qty[pos],
        "batch": codes["batch"][pos], "expiry": mv["expiry"].to_numpy(dtype="datetime64[ns]")[pos],
    }, copy=False)
    is_kit = lines["sku"].isin(kits["bundle"]).to_numpy()
    if is_kit.any():
        parts = lines[is_kit].merge(kits, left_on="sku", right_on="bundle", suffixes=("", "_per"))
        parts = parts.assign(parent=parts["sku"], sku=parts["component"], qty=parts["qty"] * parts["qty_per"],
                             batch=-1, expiry=np.datetime64("NaT", "ns"))
        lines = pd.concat([lines[~is_kit], parts[lines.columns]], ignore_index=True)
    return lines


def count_events(store: Store, keep: np.ndarray, sku: np.ndarray, location: np.ndarray,
                 batch: np.ndarray) -> pd.DataFrame:
    """The counts to apply: pos, row, when (the count's date), at (its moment), sku, location,
    batch, counted. A count dated with a plain day is taken at the end of that day."""
    c = store["Counts"]
    pos = np.flatnonzero(keep)
    when = c["date"].iloc[pos].astype("datetime64[ns]")
    plain_day = (when == when.dt.normalize()).to_numpy()
    at = np.where(plain_day, (when + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")).to_numpy(), when.to_numpy())
    return pd.DataFrame({
        "pos": pos, "row": c.index.to_numpy(dtype=np.int64)[pos], "when": when.to_numpy(), "at": at,
        "sku": sku[pos], "location": location[pos], "batch": batch[pos],
        "counted": c["counted_qty"].to_numpy(dtype=float)[pos],
    })


def number_events(lines: pd.DataFrame, counts: pd.DataFrame) -> None:
    """Give every movement row and count row its seq: by moment, movements first, then Excel row."""
    mrow = lines["row"].to_numpy()
    urows, first = np.unique(mrow, return_index=True)
    at = np.concatenate([lines["when"].to_numpy()[first], counts["at"].to_numpy()])
    source = np.concatenate([np.zeros(len(urows), np.int8), np.ones(len(counts), np.int8)])
    rows = np.concatenate([urows, counts["row"].to_numpy()])
    order = np.lexsort((rows, source, at))
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = np.arange(len(order))
    lines["seq"] = seq[:len(urows)][np.searchsorted(urows, mrow)]
    counts["seq"] = seq[len(urows):]


def untracked_counts(lines: dict[str, np.ndarray], counts: dict[str, np.ndarray], outside: int,
                     n_places: int) -> np.ndarray:
    """Book quantity at each count (by sku and location, batches ignored), just before it.

    Per (sku, location), the events are split into segments that each start at a count; the
    balance is the segment's counted quantity (0 before the first count) plus the running sum of
    the movements since. The book at a count is the balance of the event before it. `lines` holds
    arrays src, dst, sku, qty, seq; `counts` sku, location, seq, counted.
    """
    n = len(counts["seq"])
    if n == 0:
        return np.zeros(0)
    src, dst, sku, q, lseq = (lines[c] for c in ("src", "dst", "sku", "qty", "seq"))
    out_leg, in_leg = src >= outside, dst >= outside
    key = np.concatenate([sku[out_leg] * n_places + src[out_leg], sku[in_leg] * n_places + dst[in_leg]])
    seq = np.concatenate([lseq[out_leg], lseq[in_leg]])
    delta = np.concatenate([-q[out_leg], q[in_leg]])
    ckey = counts["sku"] * n_places + counts["location"]
    keep = pd.Series(key).isin(ckey).to_numpy()  # only locations ever counted need a running balance
    key = np.concatenate([ckey, key[keep]])
    seq = np.concatenate([counts["seq"], seq[keep]])
    delta = np.concatenate([np.zeros(n), delta[keep]])
    counted = np.concatenate([counts["counted"], np.zeros(len(key) - n)])
    is_count = np.arange(len(key)) < n

    order = np.lexsort((seq, key))
    key, delta, is_count, counted = key[order], delta[order], is_count[order], counted[order]
    new_group = np.r_[True, key[1:] != key[:-1]]
    segment = np.cumsum(new_group | is_count)
    running = pd.Series(np.where(is_count, counted, delta)).groupby(segment).cumsum().to_numpy()
    before = np.where(new_group, 0.0, np.r_[0.0, running[:-1]])
    book = np.empty(n)
    at = np.flatnonzero(is_count)
    book[order[at]] = before[at]
    return book.round(9)


def episodes(key: np.ndarray, seq: np.ndarray, qty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a group's running balance goes from >= 0 to below zero.

    `key` groups the legs (e.g. sku and location), `seq` orders them; legs of one event (same key
    and seq) count together. Returns the index of the first leg of each event that started an
    episode, and the balance just after it.
    """
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.lexsort((seq, key))
    k, s = key[order], seq[order]
    starts = np.flatnonzero(np.r_[True, (k[1:] != k[:-1]) | (s[1:] != s[:-1])])
    net = np.add.reduceat(qty[order], starts)
    ek = k[starts]
    balance = pd.Series(net).groupby(ek).cumsum().round(9).to_numpy()
    new_group = np.r_[True, ek[1:] != ek[:-1]]
    before = np.where(new_group, 0.0, np.r_[0.0, balance[:-1]])
    hit = (balance < -EPS) & (before >= -EPS)
    return order[starts[hit]], balance[hit]
