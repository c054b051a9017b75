"""Batches of tracked items: which batch each movement takes, first expiring first out (FEFO).

Only items with Items.tracking batch or expiry come here; everything else is booked by location
alone, vectorised, in ledger.py. Taking batches is sequential by nature (what a sale takes depends
on what earlier sales left), so this walks the tracked events in ledger order, keeping the
quantity of every batch at every location and, per location, its batches in FEFO order (a sorted
list, so taking is proportional to the batches used up, not to the batches held).

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

Codes are integers: SKUs, places and batches (-1: no batch); expiry is int64 nanoseconds (NaT as
numpy's NaT integer).
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-9
NAT = int(np.datetime64("NaT", "ns").astype(np.int64))
_LAST = np.iinfo(np.int64).max  # a blank expiry sorts after every real one
NONE = -1


@dataclass
class FefoResult:
    """How tracked movement lines split into batches, and what tracked counts found.

    line_parts: (line index, batch, qty) lists, qty >= 0, summing to the line's qty.
    count_parts: (count index, batch, qty) lists, qty signed (+ into the location).
    count_book: book quantity just before each count (by count index).
    expiry: (sku, batch) -> expiry (int64 ns).
    unknown_batch: line indexes that named a batch never seen at their source location.
    """

    line_parts: tuple[list[int], list[int], list[float]] = field(default_factory=lambda: ([], [], []))
    count_parts: tuple[list[int], list[int], list[float]] = field(default_factory=lambda: ([], [], []))
    count_book: list[float] = field(default_factory=list)
    expiry: dict[tuple[int, int], int] = field(default_factory=dict)
    unknown_batch: list[int] = field(default_factory=list)


class _Books:
    """Batch quantities per (sku, location), with each location's batches in FEFO order."""

    def __init__(self, expiry: dict[tuple[int, int], int]) -> None:
        self.held: dict[tuple[int, int], dict[int, float]] = {}
        self.queue: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        self.queued: set[tuple[int, int, int]] = set()
        self.seen: set[tuple[int, int, int]] = set()
        self.first: dict[tuple[int, int], int] = {}
        self.expiry = expiry

    def arrive(self, sku: int, batch: int, expiry: int, seq: int) -> None:
        """Note a batch's expiry and first arrival the first time it is met."""
        if (sku, batch) not in self.first:
            self.first[(sku, batch)] = seq
            self.expiry[(sku, batch)] = expiry

    def put(self, sku: int, loc: int, batch: int, qty: float) -> None:
        held = self.held.setdefault((sku, loc), {})
        held[batch] = held.get(batch, 0.0) + qty
        self.seen.add((sku, loc, batch))
        if batch != NONE and (sku, loc, batch) not in self.queued and held[batch] > EPS:
            exp = self.expiry[(sku, batch)]
            insort(self.queue.setdefault((sku, loc), []), (_LAST if exp == NAT else exp, self.first[(sku, batch)], batch))
            self.queued.add((sku, loc, batch))

    def take(self, sku: int, loc: int, batch: int, qty: float) -> None:
        held = self.held.setdefault((sku, loc), {})
        held[batch] = held.get(batch, 0.0) - qty

    def take_fefo(self, sku: int, loc: int, qty: float) -> list[tuple[int, float]]:
        held = self.held.setdefault((sku, loc), {})
        queue = self.queue.get((sku, loc), [])
        parts = []
        i = 0
        while qty > EPS and i < len(queue):
            b = queue[i][2]
            q = held[b]
            if q > EPS:
                q = min(q, qty)
                held[b] -= q
                qty -= q
                parts.append((b, q))
            if held[b] <= EPS:
                if i == 0:  # used up: leave the queue (it comes back if the batch does)
                    queue.pop(0)
                    self.queued.discard((sku, loc, b))
                    continue
            i += 1
        if qty > EPS:  # the batches are used up: the rest is unbatched stock, below zero if need be
            held[NONE] = held.get(NONE, 0.0) - qty
            parts.append((NONE, qty))
        return parts

    def total(self, sku: int, loc: int) -> float:
        return sum(self.held.get((sku, loc), {}).values())

    def qty(self, sku: int, loc: int, batch: int) -> float:
        return self.held.get((sku, loc), {}).get(batch, 0.0)


def allocate(lines: dict[str, list], counts: dict[str, list], outside: int) -> FefoResult:
    """Walk tracked movement lines and counts in ledger order (by seq) and split them by batch.

    `lines` holds lists seq, sku, src, dst (place codes; codes below `outside` are outside
    places), qty (>= 0), batch, expiry; `counts` holds seq, sku, location, batch, counted.
    Lines and counts never share a seq.
    """
    res = FefoResult()
    books = _Books(res.expiry)
    lp_idx, lp_batch, lp_qty = res.line_parts
    cp_idx, cp_batch, cp_qty = res.count_parts
    res.count_book = [0.0] * len(counts["seq"])
    n_lines = len(lines["seq"])
    events = np.argsort(np.concatenate([np.asarray(lines["seq"], np.int64), np.asarray(counts["seq"], np.int64)]),
                        kind="stable").tolist()
    l_seq, l_sku, l_src, l_dst, l_qty, l_batch, l_exp = (
        lines[c] for c in ("seq", "sku", "src", "dst", "qty", "batch", "expiry"))
    for e in events:
        if e < n_lines:
            sku, src, dst, qty, batch, seq = l_sku[e], l_src[e], l_dst[e], l_qty[e], l_batch[e], l_seq[e]
            if src < outside:
                books.arrive(sku, batch, l_exp[e], seq)
                parts = [(batch, qty)]
            elif batch != NONE:
                if (sku, src, batch) not in books.seen:
                    res.unknown_batch.append(e)
                books.arrive(sku, batch, l_exp[e], seq)
                books.take(sku, src, batch, qty)
                parts = [(batch, qty)]
            else:
                parts = books.take_fefo(sku, src, qty)
            for b, q in parts:
                if dst >= outside:
                    books.arrive(sku, b, NAT, seq)
                    books.put(sku, dst, b, q)
                lp_idx.append(e)
                lp_batch.append(b)
                lp_qty.append(q)
        else:
            k = e - n_lines
            sku, loc, batch, counted = counts["sku"][k], counts["location"][k], counts["batch"][k], counts["counted"][k]
            book = books.qty(sku, loc, batch) if batch != NONE else books.total(sku, loc)
            res.count_book[k] = book
            diff = counted - book
            if abs(diff) <= EPS:
                continue
            if batch == NONE and diff < 0:
                parts = [(b, -q) for b, q in books.take_fefo(sku, loc, -diff)]
            else:
                books.arrive(sku, batch, NAT, counts["seq"][k])
                books.put(sku, loc, batch, diff)
                parts = [(batch, diff)]
            for b, q in parts:
                cp_idx.append(k)
                cp_batch.append(b)
                cp_qty.append(q)
    return res
