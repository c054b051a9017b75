"""FEFO, vectorised, for the places where it is plain first in, first out.

A place (a SKU at a location) is simple when every batch comes in from outside with a batch code,
in FEFO order (expiry, then first arrival, never decreasing), nothing leaves it naming a batch,
nothing is counted there and its stock never goes below zero. There each batch is a layer on a
cumulative-quantity axis, and each outgoing movement takes the stretch of the axis between its
cumulative quantity before and after: a searchsorted finds the layers it spans. Quantities are
worked in whole millionths (int64), so the cut points are exact.

fefo.py walks the places that are not simple.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCALE = 10**6  # quantities are cut in millionths of a unit
NAT = int(np.datetime64("NaT", "ns").astype(np.int64))
_LAST = np.iinfo(np.int64).max
Arrays = dict[str, np.ndarray]


def first_arrivals(lines: Arrays, counts: Arrays) -> pd.DataFrame:
    """Every (sku, batch) in the ledger: when it first appears (seq), the expiry it came with, and
    its FEFO rank (by expiry, blank last, then first appearance).

    A batch appears with the first movement or count naming it; a count gives no expiry. Columns
    sku, batch, first, expiry (int64 ns), rank (0, 1, ... in FEFO order; row i has rank i).
    """
    named, counted = lines["batch"] >= 0, counts["batch"] >= 0
    frame = pd.DataFrame({
        "sku": np.concatenate([lines["sku"][named], counts["sku"][counted]]),
        "batch": np.concatenate([lines["batch"][named], counts["batch"][counted]]),
        "first": np.concatenate([lines["seq"][named], counts["seq"][counted]]),
        "expiry": np.concatenate([lines["expiry"][named], np.full(int(counted.sum()), NAT, dtype=np.int64)]),
    })
    frame = frame.sort_values("first", kind="stable").drop_duplicates(["sku", "batch"])
    frame["_key"] = np.where(frame["expiry"] == NAT, _LAST, frame["expiry"])
    frame = frame.sort_values(["_key", "first", "sku", "batch"], ignore_index=True).drop(columns="_key")
    frame["rank"] = np.arange(len(frame))
    return frame


def rank_lookup(arrivals: pd.DataFrame, sku: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """The FEFO rank of each (sku, batch) code pair; -1 for no batch."""
    if len(arrivals) == 0 or len(sku) == 0:
        return np.full(len(sku), -1, dtype=np.int64)
    width = int(max(arrivals["batch"].max(), batch.max(initial=0))) + 2
    index = pd.Index(arrivals["sku"].to_numpy() * width + arrivals["batch"].to_numpy() + 1)
    return index.get_indexer(sku * width + batch + 1)


def simple_places(lines: Arrays, counts: Arrays, outside: int, n_places: int, arrivals: pd.DataFrame) -> np.ndarray:
    """The (sku * n_places + location) codes of the simple places (see the module docstring)."""
    sku, src, dst, batch, seq = (lines[c] for c in ("sku", "src", "dst", "batch", "seq"))
    out_leg, in_leg = src >= outside, dst >= outside
    g_out, g_in = sku[out_leg] * n_places + src[out_leg], sku[in_leg] * n_places + dst[in_leg]
    not_simple = [
        counts["sku"] * n_places + counts["location"],
        g_in[(src[in_leg] >= outside) | (batch[in_leg] < 0)],  # stock from another location, or unbatched
        g_out[batch[out_leg] >= 0],  # an explicit batch taken out
    ]
    # Batches arriving out of FEFO order.
    rank = rank_lookup(arrivals, sku[in_leg], batch[in_leg])
    order = np.lexsort((seq[in_leg], g_in))
    g, r = g_in[order], rank[order]
    not_simple.append(g[1:][(g[1:] == g[:-1]) & (r[1:] < r[:-1])])
    # Stock below zero at any moment.
    q = np.rint(lines["qty"] * SCALE).astype(np.int64)
    key = np.concatenate([g_out, g_in])
    delta = np.concatenate([-q[out_leg], q[in_leg]])
    order = np.lexsort((np.concatenate([seq[out_leg], seq[in_leg]]), key))
    balance = pd.Series(delta[order]).groupby(key[order]).cumsum().to_numpy()
    not_simple.append(key[order][balance < 0])
    return np.setdiff1d(np.unique(key), np.concatenate(not_simple))


def split_simple(lines: Arrays, out_lines: np.ndarray, n_places: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The batches taken by lines leaving simple places: (line index, batch, qty) arrays.

    `out_lines` are the indexes of those lines; the layers are the lines coming into the same
    places (all from outside, by the definition of simple).
    """
    # A line of no quantity takes nothing (and may leave a place that never had any stock).
    out_lines = out_lines[lines["qty"][out_lines] > 0]
    if len(out_lines) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    sku, src, dst, seq = (lines[c] for c in ("sku", "src", "dst", "seq"))
    g_out = sku[out_lines] * n_places + src[out_lines]
    into = np.flatnonzero(np.isin(sku * n_places + dst, np.unique(g_out)))
    g_in = sku[into] * n_places + dst[into]
    o_in = np.lexsort((seq[into], g_in))
    into, g_in = into[o_in], g_in[o_in]
    layer = np.rint(lines["qty"][into] * SCALE).astype(np.int64)
    top = np.cumsum(layer)  # each layer's end on the axis
    group_start = np.r_[0, top][np.searchsorted(g_in, np.unique(g_in))]  # axis offset of each place

    o_out = np.lexsort((seq[out_lines], g_out))
    out_lines, g_out = out_lines[o_out], g_out[o_out]
    take = np.rint(lines["qty"][out_lines] * SCALE).astype(np.int64)
    base = group_start[np.searchsorted(np.unique(g_in), g_out)]
    hi = base + pd.Series(take).groupby(g_out).cumsum().to_numpy()
    lo = hi - take
    first_layer = np.searchsorted(top, lo, side="right")
    last_layer = np.searchsorted(top, hi, side="left")
    pieces = np.maximum(last_layer - first_layer + 1, 0)
    which = np.repeat(np.arange(len(out_lines)), pieces)
    k = first_layer[which] + np.arange(len(which)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    qty = np.minimum(top[k], hi[which]) - np.maximum(top[k] - layer[k], lo[which])
    keep = qty > 0
    which, k = which[keep], k[keep]
    qty = qty[keep] / SCALE
    # The cuts are in millionths: the last piece of each line takes what rounding left over.
    last = np.r_[which[1:] != which[:-1], True] if len(which) else np.zeros(0, bool)
    total = np.bincount(which, weights=qty, minlength=len(out_lines))
    qty[last] += lines["qty"][out_lines[which[last]]] - total[which[last]]
    return out_lines[which], lines["batch"][into][k], qty
