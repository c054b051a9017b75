"""Batches of tracked items: which batch each movement takes, first expiring first out (FEFO).

Only items with Items.tracking batch or expiry come here; everything else is booked by location
alone in ledger.py.

Rules:
- Stock coming from outside (receive, return, a positive adjust) goes into the movement's batch,
  with its expiry; without a batch it is unbatched stock.
- Stock leaving a location with an explicit batch takes that batch, even below zero; a batch that
  was never at that location is an unknown-batch finding.
- Stock leaving without a batch takes the batches on hand at that location by expiry (blank
  expiry last), then by when the batch first arrived; unbatched stock comes after every batch.
  What is still missing is taken from unbatched stock, below zero.
- A transfer carries the batches it took to the destination, with their expiry.
- A count with a batch sets that batch; without a batch it sets the location's total: a surplus
  becomes unbatched stock, a shortage is taken FEFO, like a sale.
A batch's expiry is the one it first arrived with.

How. Taking batches is sequential by nature (what a sale takes depends on what earlier sales
left), but most places are simple: every batch comes in from outside, in expiry order, nothing
names a batch on the way out, nothing is counted and stock never runs short. There FEFO is plain
first in, first out, and the split is a cumulative-sum allocation (fefo_fast.py), vectorised over
all such places at once. The other places (a later receipt expiring earlier, transfers in,
counts, explicit batches, shortages) are walked event by event here, keeping each location's
batches in FEFO order in a heap, so taking costs in proportion to the batches used up.

Codes are integers: SKUs, places and batches (-1: no batch); expiry is int64 nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappop, heappush

import numpy as np
import pandas as pd

from .fefo_kernels import first_arrivals, rank_lookup, simple_places, split_simple

EPS = 1e-9
NONE = -1
Arrays = dict[str, np.ndarray]


@dataclass
class FefoResult:
    """How tracked movement lines split into batches, and what tracked counts found.

    line_parts: (line index, batch, qty) arrays, qty >= 0, summing to each line's qty.
    count_parts: (count index, batch, qty) arrays, qty signed (+ into the location).
    count_book: the book quantity just before each count.
    expiry: (sku, batch) -> expiry (int64 ns).
    unknown_batch: line indexes that named a batch never seen at their source location.
    """

    line_parts: tuple[np.ndarray, np.ndarray, np.ndarray]
    count_parts: tuple[np.ndarray, np.ndarray, np.ndarray]
    count_book: np.ndarray
    expiry: dict[tuple[int, int], int]
    unknown_batch: np.ndarray


def allocate(lines: Arrays, counts: Arrays, outside: int, n_places: int, *, vectorise: bool = True) -> FefoResult:
    """Split tracked movement lines by batch and apply tracked counts, in ledger order (seq).

    `lines` holds arrays seq, sku, src, dst (place codes; codes below `outside` are outside
    places), qty (>= 0), batch, expiry (int64 ns); `counts` holds seq, sku, location, batch,
    counted. Lines and counts never share a seq. vectorise=False walks every place event by event
    (the reference the fast path is tested against).
    """
    arrivals = first_arrivals(lines, counts)
    simple = simple_places(lines, counts, outside, n_places, arrivals) if vectorise else np.zeros(0, np.int64)
    from_outside = lines["src"] < outside
    src_simple = ~from_outside & np.isin(lines["sku"] * n_places + lines["src"], simple)
    parts = [(np.flatnonzero(from_outside), lines["batch"][from_outside], lines["qty"][from_outside].astype(float))]
    fast = split_simple(lines, np.flatnonzero(src_simple), n_places)
    parts.append(fast)
    # The walk covers every event at a place that is not simple; a line out of a simple place into
    # one that is not brings the batches the fast split gave it.
    dst_walked = (lines["dst"] >= outside) & ~np.isin(lines["sku"] * n_places + lines["dst"], simple)
    walked = np.flatnonzero((~src_simple & ~from_outside) | dst_walked)
    line_parts, count_parts, book, unknown = _walk(lines, counts, walked, fast, outside, n_places, arrivals)
    parts.append(line_parts)
    idx, batch, qty = (np.concatenate(a) for a in zip(*parts))
    order = np.lexsort((np.arange(len(idx)), idx))  # by line, each line's parts in the order taken
    expiry = dict(zip(zip(arrivals["sku"].tolist(), arrivals["batch"].tolist()), arrivals["expiry"].tolist()))
    return FefoResult((idx[order], batch[order], qty[order]), count_parts, book, expiry, unknown)


Parts = tuple[np.ndarray, np.ndarray, np.ndarray]


def _walk(lines: Arrays, counts: Arrays, walked: np.ndarray, fast: Parts, outside: int, n_places: int,
          arrivals: pd.DataFrame) -> tuple[Parts, Parts, np.ndarray, np.ndarray]:
    """Apply the walked lines and every count in seq order, place by place.

    Batches are known here by their FEFO rank (arrivals.rank), so each place's batches on hand are
    a heap of integers; unbatched stock is rank -1. Returns the parts of walked lines that leave a
    place (line, batch, qty), the count parts (count, batch, signed qty), the book at each count
    and the lines that named a batch never seen at their source.
    """
    width = len(arrivals) + 1  # ranks and unbatched (-1), for (place, rank) keys of `seen`
    rank_of = lambda sku, batch: rank_lookup(arrivals, sku, batch)  # noqa: E731
    sku = lines["sku"][walked]
    src, dst = lines["src"][walked], lines["dst"][walked]
    keys = np.concatenate([sku * n_places + src, sku * n_places + dst, counts["sku"] * n_places + counts["location"]])
    inside = np.concatenate([src >= outside, dst >= outside, np.ones(len(counts["seq"]), bool)])
    dense = np.full(len(keys), -1, dtype=np.int64)
    uniq, dense[inside] = np.unique(keys[inside], return_inverse=True)
    n = len(walked)
    g_src, g_dst, g_count = dense[:n].tolist(), dense[n:2 * n].tolist(), dense[2 * n:].tolist()
    l_rank = rank_of(sku, lines["batch"][walked]).tolist()
    l_qty, index = lines["qty"][walked].tolist(), walked.tolist()
    c_rank = rank_of(counts["sku"], counts["batch"]).tolist()
    c_counted = counts["counted"].tolist()
    given: dict[int, list[tuple[int, float]]] = {}
    f_idx, f_batch, f_qty = fast
    into_walk = np.isin(f_idx, walked)
    for i, r, q in zip(f_idx[into_walk].tolist(), rank_of(lines["sku"][f_idx[into_walk]], f_batch[into_walk]).tolist(),
                       f_qty[into_walk].tolist()):
        given.setdefault(i, []).append((r, q))

    held: list[dict[int, float]] = [{} for _ in range(len(uniq))]
    heaps: list[list[int]] = [[] for _ in range(len(uniq))]
    queued: list[set[int]] = [set() for _ in range(len(uniq))]
    seen: set[int] = set()
    lp_i, lp_r, lp_q, cp_i, cp_r, cp_q = [], [], [], [], [], []
    book = [0.0] * len(c_rank)
    unknown = []

    def put(g: int, r: int, q: float) -> None:
        h = held[g]
        v = h.get(r, 0.0) + q
        h[r] = v
        seen.add(g * width + r + 1)
        if r >= 0 and v > EPS and r not in queued[g]:
            heappush(heaps[g], r)
            queued[g].add(r)

    def take_fefo(g: int, q: float) -> list[tuple[int, float]]:
        h, heap, inq = held[g], heaps[g], queued[g]
        parts = []
        while q > EPS and heap:
            r = heap[0]
            v = h[r]
            if v > EPS:
                t = v if v < q else q
                v -= t
                h[r] = v
                q -= t
                parts.append((r, t))
            if v <= EPS:  # used up: off the heap (back on if the batch comes back)
                heappop(heap)
                inq.discard(r)
        if q > EPS:  # the batches are used up: the rest is unbatched stock, below zero if need be
            h[NONE] = h.get(NONE, 0.0) - q
            parts.append((NONE, q))
        return parts

    events = np.argsort(np.concatenate([lines["seq"][walked], counts["seq"]]), kind="stable").tolist()
    for e in events:
        if e < n:
            i, gs, gd, q, r = index[e], g_src[e], g_dst[e], l_qty[e], l_rank[e]
            if gs < 0:
                parts = [(r, q)]
            elif i in given:
                parts = given[i]
            else:
                if r >= 0:
                    if gs * width + r + 1 not in seen:
                        unknown.append(i)
                    h = held[gs]
                    h[r] = h.get(r, 0.0) - q
                    parts = [(r, q)]
                else:
                    parts = take_fefo(gs, q)
                for r, q in parts:
                    lp_i.append(i)
                    lp_r.append(r)
                    lp_q.append(q)
            if gd >= 0:
                for r, q in parts:
                    put(gd, r, q)
        else:
            k = e - n
            g, r = g_count[k], c_rank[k]
            h = held[g]
            book[k] = h.get(r, 0.0) if r >= 0 else sum(h.values())
            diff = c_counted[k] - book[k]
            if abs(diff) <= EPS:
                continue
            if r < 0 and diff < 0:
                parts = [(b, -q) for b, q in take_fefo(g, -diff)]
            else:
                put(g, r, diff)
                parts = [(r, diff)]
            for r, q in parts:
                cp_i.append(k)
                cp_r.append(r)
                cp_q.append(q)
    batch_of = np.r_[arrivals["batch"].to_numpy(), NONE]  # rank -1 (unbatched) is the last entry

    def as_parts(i: list, r: list, q: list) -> Parts:
        return np.asarray(i, np.int64), batch_of[np.asarray(r, np.int64)], np.asarray(q, float)

    return (as_parts(lp_i, lp_r, lp_q), as_parts(cp_i, cp_r, cp_q), np.asarray(book, float),
            np.asarray(unknown, np.int64))
