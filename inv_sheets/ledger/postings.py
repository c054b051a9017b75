"""The ledger: movements and counts turned into double-entry postings, positions and findings.

Every movement moves a quantity of one SKU from one place to another (places.py resolves which);
it becomes two postings, minus at the place it leaves and plus at the place it enters, so the
postings of every SKU sum to zero over all places. A bundle's movement posts its components
instead. A count becomes a correcting pair between "@adjustment" and the counted location that
brings the book to the counted quantity.

Time order. Events are ordered by their moment, then movements before counts, then by Excel row;
`seq` numbers them in that order, and every posting carries its event's seq. A movement's moment is
its date. A count dated with a plain day is taken at the end of that day, after every movement of
that day; a count with a time of day is taken at that time. (A count is usually done after the
day's sales are booked; the Stock sheet, the daily series and a count dated today then agree.)

Rows after the as-of day are left out (future-date); so are rows whose places cannot be resolved
(missing-location, same-location). Stock that goes below zero at any moment is reported with the
movement that took it there (negative-stock), once per episode, and the movement still counts.

Speed. Everything runs on integer codes for SKUs, places and batches, and on whole columns (one
sort, cumulative sums within groups, segments restarting at counts); only batches of tracked
items at places where FEFO is not plain first in, first out are walked event by event (fefo.py).
benchmarks/ledger_bench.py times a full sheet of 1,048,575 movements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence, TypeVar

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue
from . import fefo
from .bundles import leaf_components
from .commitments import over_received, over_reserved, purchase_lines, reservations
from .places import OUTSIDE, Places, resolve_codes, resolve_places, store_places
from .positions import Legs, daily, negative_findings, on_hand
from .timeline import (
    categorical,
    count_events,
    decode,
    encode,
    future_rows,
    movement_lines,
    number_events,
    untracked_counts,
)

__all__ = ["POSTING_COLUMNS", "Ledger", "build", "resolve_places"]

Progress = Callable[[str, float], None]
T = TypeVar("T")

POSTING_COLUMNS = ("when", "seq", "source", "row", "movement_id", "type", "sku", "location", "batch",
                   "expiry", "qty", "unit_cost", "reference", "channel", "parent_sku")
EPS = fefo.EPS


@dataclass(frozen=True)
class Ledger:
    """What the movements and counts add up to.

    postings     one row per leg: when, seq, source ("Movements"/"Counts"), row (Excel row),
                 movement_id, type ("count" for counts), sku, location (a location or "@supplier",
                 "@customer", "@adjustment", "@scrap"), batch, expiry, qty (+ into the place,
                 - out of it), unit_cost, reference, channel, parent_sku (the bundle a component
                 line came from). Sorted by seq; the legs of one event share its seq. The columns
                 of few distinct values (source, type, sku, location, batch, channel, parent_sku)
                 are categoricals of sorted text (timeline.categorical).
    stock        on hand now: sku, location, batch, expiry, qty; internal locations only; rows
                 that net to zero are left out (negative ones stay).
    counts       one row per counted Counts row: row, date, location, sku, batch, book_qty (just
                 before the count), counted_qty, variance_qty (counted - book).
    reserved     sku, reserved: what open order lines still hold (bundles as their components).
    order_lines  one row per open Orders row: row, order, date, channel, sku, region, qty,
                 shipped, open_qty.
    po_lines     one row per Purchases row: row, po, supplier, sku, ordered, expected, status, qty,
                 unit_cost, received, first_receipt, last_receipt, open_qty, short_qty.
    on_order     sku, on_order: the open quantity of open PO lines (bundles as their components).
    moves        per Movements row: from_place, to_place, qty (moved from -> to, >= 0), ok,
                 posted (True when it is in the postings).
    places       the locations with their kind, sellable flag, priority and the Settings defaults.
    bundles      each bundle's stocked components (bom.leaf_components).
    issues       findings: missing-location, same-location, wrong-location-kind, future-date,
                 unknown-batch, negative-stock, over-reserved, over-received, count-variance.
    legs         the postings as integer codes, row for row, for fast grouping (positions.Legs).
    """

    as_of: pd.Timestamp
    postings: pd.DataFrame
    stock: pd.DataFrame
    counts: pd.DataFrame
    reserved: pd.DataFrame
    order_lines: pd.DataFrame
    po_lines: pd.DataFrame
    on_order: pd.DataFrame
    moves: pd.DataFrame
    places: Places
    bundles: pd.DataFrame
    issues: tuple[Issue, ...]
    legs: Legs = field(repr=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def derived(self, name: str, store: Store | None, make: Callable[[], T]) -> T:
        """What `make` works out from this ledger and `store`, worked out once per ledger.

        One refresh asks for some results from several features (ABC classes, the count schedule,
        the allocation). They live as long as the ledger, and only for the store they were made
        from (the store is held, so its identity cannot pass to another object meanwhile); None
        for what the ledger alone gives.
        """
        held = self._derived.get(name)
        if held is not None and held[0] is store:
            return held[1]
        value = make()
        self._derived[name] = (store, value)
        return value

    def internal(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The postings at the store's own locations (not at outside places): only `columns` when
        given (selecting rows of the few columns a caller reads is several times faster)."""
        if columns is None:
            return self.postings[self.legs.internal]
        return self.postings.loc[self.legs.internal, list(columns)]

    def daily(self, start: object, end: object, *, by: Sequence[str] = ("sku",),
              sellable_only: bool = False, unexpired: bool = False) -> pd.DataFrame:
        """End-of-day on-hand for every day from start to end (inclusive), per group.

        A dense frame: one row per day (a DatetimeIndex named "date"), one column per group: the
        values of `by` (any of "sku", "location", "batch"; a MultiIndex when there are several),
        sorted. Every group with a posting at an internal location appears, whether or not it
        moved in the period. A day's balance includes that day's counts (taken at the end of the
        day). sellable_only counts only sellable locations. unexpired leaves out what a batch holds
        from the day after its expiry (`by` without batch): on hand, but not for sale. Size: days x
        groups floats, so a long period by sku and location can be large.
        """
        return daily(self.legs, self.places.table["sellable"], start, end, by=by, sellable_only=sellable_only,
                     unexpired=unexpired)


def build(store: Store, *, progress: Progress | None = None) -> Ledger:
    """Post every movement and count of the store and work out positions, commitments and findings.

    `progress`, when given, is called with a phase name and the share of the work done (0 to 1).
    """
    report = progress or (lambda phase, done: None)
    as_of = pd.Timestamp(store.settings.as_of).normalize()
    places = store_places(store)
    resolved, issues = resolve_codes(store, places)
    bundles = leaf_components(store)
    mv, cn = store["Movements"], store["Counts"]
    (m_sku, c_sku, b_kit, b_part), skus = encode(mv["sku"], cn["sku"], bundles["bundle_sku"], bundles["component_sku"])
    (m_batch, c_batch), batches = encode(mv["batch"], cn["batch"])
    (_, c_loc), names = encode(pd.Series(resolved.names), cn["location"])
    v = _Vocab(skus, names, batches)
    kits = pd.DataFrame({"bundle": b_kit, "component": b_part, "qty": bundles["qty"].to_numpy(dtype=float)})
    report("movements", 0.1)

    posted = (resolved.ok & ~future_rows(store, "Movements", as_of, issues) & mv["date"].notna().to_numpy()
              & (m_sku >= 0) & mv["qty"].notna().to_numpy())
    lines = movement_lines(store, posted, {"sku": m_sku, "batch": m_batch}, resolved.frm, resolved.to,
                           resolved.qty, kits)
    keep = (~future_rows(store, "Counts", as_of, issues) & cn["date"].notna().to_numpy() & (c_sku >= 0)
            & (c_loc >= 0) & cn["counted_qty"].notna().to_numpy() & ~np.isin(c_sku, b_kit))
    counts = count_events(store, keep, c_sku, c_loc, c_batch)
    number_events(lines, counts)
    report("batches", 0.3)

    parts, book, expiry, unknown = _parts(store, lines, counts, v, issues)
    report("postings", 0.6)
    postings, legs = _postings(store, parts, v, expiry)
    report("positions", 0.8)
    stock = on_hand(legs)
    issues += negative_findings(store, legs, postings, unknown)
    count_rows = _counts(counts, book, v)
    moves = resolved.frame(mv.index).assign(posted=posted)
    reserved, order_lines, held = reservations(store, moves, bundles)
    po_lines, on_order = purchase_lines(store, moves, bundles)
    issues += over_reserved(store, stock, reserved, held, places)
    issues += over_received(store, po_lines)
    issues += _count_variance(store, count_rows)
    report("done", 1.0)
    return Ledger(as_of=as_of, postings=postings, stock=stock, counts=count_rows, reserved=reserved,
                  order_lines=order_lines, po_lines=po_lines, on_order=on_order, moves=moves,
                  places=places, bundles=bundles, issues=tuple(issues), legs=legs)


@dataclass(frozen=True)
class _Vocab:
    """What the integer codes stand for: SKUs, places (outside places first) and batches."""

    skus: np.ndarray
    places: np.ndarray
    batches: np.ndarray

    def text(self, vocabulary: str, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The values for codes, as a str array (-1: missing)."""
        return decode(getattr(self, vocabulary), codes)


def _tracked(store: Store) -> set[str]:
    items = store["Items"]
    return set(items.loc[items["tracking"].isin(["batch", "expiry"]), "sku"])


Arrays = dict[str, np.ndarray]


def _parts(store: Store, lines: pd.DataFrame, counts: pd.DataFrame, v: _Vocab,
           issues: list[Issue]) -> tuple[Arrays, np.ndarray, dict, np.ndarray]:
    """Movement lines split by batch, and counts turned into corrections, in seq order.

    A part moves qty from src to dst; a count's correction goes from @adjustment to the location
    and may be negative. Returns the parts as arrays (seq, source (0 Movements, 1 Counts), pos,
    row, when, sku, parent, src, dst, batch, qty), the book quantity at each count, the expiry of
    each (sku, batch) code pair met, and the seqs of movements that named an unknown batch.
    """
    L = {c: lines[c].to_numpy() for c in lines.columns}
    C = {c: counts[c].to_numpy() for c in counts.columns}
    # A set look-up per SKU: np.isin on Python strings compares every SKU with every tracked one.
    tracked_skus = _tracked(store)
    tracked = np.array([sku in tracked_skus for sku in v.skus], dtype=bool)
    ltr, ctr = tracked[L["sku"]], tracked[C["sku"]]
    outside = len(OUTSIDE)
    plain_l, plain_c = np.flatnonzero(~ltr), np.flatnonzero(~ctr)
    book = np.zeros(len(counts))
    book[plain_c] = untracked_counts({c: L[c][plain_l] for c in ("src", "dst", "sku", "qty", "seq")},
                                     {c: C[c][plain_c] for c in ("sku", "location", "seq", "counted")},
                                     outside, len(v.places))
    m_idx, m_batch, m_qty = [plain_l], [np.full(len(plain_l), -1)], [L["qty"][plain_l]]
    c_idx, c_batch, c_qty = [plain_c], [np.full(len(plain_c), -1)], [C["counted"][plain_c] - book[plain_c]]
    expiry: dict = {}
    unknown = np.zeros(0, dtype=np.int64)
    if ltr.any() or ctr.any():
        tl, tc = np.flatnonzero(ltr), np.flatnonzero(ctr)
        res = fefo.allocate({c: L[c][tl] for c in ("seq", "sku", "src", "dst", "qty", "batch")}
                            | {"expiry": L["expiry"][tl].astype(np.int64)},
                            {c: C[c][tc] for c in ("seq", "sku", "location", "batch", "counted")},
                            outside, len(v.places))
        for (idx, batch, qty), base, into in ((res.line_parts, tl, (m_idx, m_batch, m_qty)),
                                              (res.count_parts, tc, (c_idx, c_batch, c_qty))):
            into[0].append(base[idx])
            into[1].append(batch)
            into[2].append(qty)
        book[tc] = res.count_book
        expiry = res.expiry
        bad = tl[res.unknown_batch]
        unknown = L["seq"][bad]
        title, col = store.cell("Movements", "batch")
        for row, b, sku, src in zip(L["row"][bad], L["batch"][bad], L["sku"][bad], L["src"][bad]):
            issues.append(Issue("unknown-batch", title, int(row), col,
                                f"Batch {v.batches[b]} of {v.skus[sku]} was never at {v.places[src]} before this "
                                "movement: check the batch code.", value=v.batches[b], field="batch"))
    m_idx, m_batch, m_qty = (np.concatenate(a) for a in (m_idx, m_batch, m_qty))
    c_idx, c_batch, c_qty = (np.concatenate(a) for a in (c_idx, c_batch, c_qty))
    c_qty = c_qty.round(9)
    fix = np.abs(c_qty) > EPS  # a count that agrees with the book posts nothing
    c_idx, c_batch, c_qty = c_idx[fix], c_batch[fix], c_qty[fix]
    n_c = len(c_idx)
    seq = np.concatenate([L["seq"][m_idx], C["seq"][c_idx]])
    order = np.argsort(seq, kind="stable")

    def both(from_lines: np.ndarray, from_counts: np.ndarray) -> np.ndarray:
        return np.concatenate([from_lines, from_counts])[order]

    adjustment = int(np.flatnonzero(v.places == OUTSIDE["adjustment"])[0])
    parts = {
        "seq": seq[order], "source": both(np.zeros(len(m_idx), np.int8), np.ones(n_c, np.int8)),
        "pos": both(L["pos"][m_idx], C["pos"][c_idx]), "row": both(L["row"][m_idx], C["row"][c_idx]),
        "when": both(L["when"][m_idx], C["when"][c_idx]), "sku": both(L["sku"][m_idx], C["sku"][c_idx]),
        "parent": both(L["parent"][m_idx], np.full(n_c, -1)), "src": both(L["src"][m_idx], np.full(n_c, adjustment)),
        "dst": both(L["dst"][m_idx], C["location"][c_idx]), "batch": both(m_batch, c_batch), "qty": both(m_qty, c_qty),
    }
    return parts, book.round(9), expiry, unknown


def _postings(store: Store, parts: Arrays, v: _Vocab, expiry: dict) -> tuple[pd.DataFrame, Legs]:
    """Two legs per part: out of src, into dst (interleaved, so the frame stays in seq order)."""
    n = len(parts["seq"])
    mv = store["Movements"]
    leg = lambda col: np.repeat(parts[col], 2)  # noqa: E731
    place = np.empty(2 * n, dtype=np.int64)
    place[0::2], place[1::2] = parts["src"], parts["dst"]
    qty = np.empty(2 * n)
    qty[0::2], qty[1::2] = -parts["qty"], parts["qty"]
    from_mv = leg("source") == 0
    pos = np.where(from_mv, leg("pos"), -1)
    at = np.maximum(pos, 0)

    def movement(col: str) -> pd.api.extensions.ExtensionArray:
        return _as_str(mv[col]).take(pos, allow_fill=True)

    def movement_categories(col: str) -> pd.Categorical:  # a Movements column of few distinct values
        code, names = pd.factorize(mv[col].astype("str"))
        return categorical(np.asarray(names, dtype=object), np.where(from_mv, code[at] if len(mv) else -1, -1))

    type_code, type_names = pd.factorize(mv["type"].astype("str"))
    type_names = np.asarray([*type_names, "count"], dtype=object)
    types = categorical(type_names, np.where(from_mv, type_code[at] if len(mv) else 0, len(type_names) - 1))
    cost = np.where(from_mv & (leg("parent") < 0), mv["unit_cost"].to_numpy(dtype=float)[at] if len(mv) else 0, np.nan)
    when, seq, sku, batch = leg("when"), leg("seq"), leg("sku"), leg("batch")
    # The frame wraps its arrays without copying; the codes keep copies of their own.
    legs = Legs(sku=sku, place=place, batch=batch, seq=seq.copy(), qty=qty.copy(), day=when.astype("datetime64[D]"),
                skus=v.skus, places=v.places, batches=v.batches, outside=len(OUTSIDE), expiry=expiry)
    frame = pd.DataFrame({
        "when": when, "seq": seq, "source": categorical(np.array(["Movements", "Counts"], dtype=object), leg("source")),
        "row": leg("row"), "movement_id": movement("movement_id"), "type": types,
        "sku": categorical(v.skus, sku), "location": categorical(v.places, place),
        "batch": categorical(v.batches, batch), "expiry": legs.expiries(sku, batch), "qty": qty,
        "unit_cost": cost, "reference": movement("reference"), "channel": movement_categories("channel"),
        "parent_sku": categorical(v.skus, leg("parent")),
    }, columns=list(POSTING_COLUMNS), copy=False)
    return frame, legs


def _as_str(col: pd.Series) -> pd.api.extensions.ExtensionArray:
    return col.array if isinstance(col.dtype, pd.StringDtype) else pd.array(col.astype("str"), dtype="str")


def _counts(counts: pd.DataFrame, book: np.ndarray, v: _Vocab) -> pd.DataFrame:
    out = pd.DataFrame({
        "row": counts["row"].to_numpy(), "date": counts["when"].to_numpy(),
        "location": v.text("places", counts["location"]), "sku": v.text("skus", counts["sku"]),
        "batch": v.text("batches", counts["batch"]), "book_qty": book, "counted_qty": counts["counted"].to_numpy(),
    })
    out["variance_qty"] = (out["counted_qty"] - out["book_qty"]).round(9)
    return out.sort_values("row", ignore_index=True)


def _count_variance(store: Store, counts: pd.DataFrame) -> list[Issue]:
    title, col = store.cell("Counts", "counted_qty")
    off = counts[counts["variance_qty"].abs() > EPS]
    return [Issue("count-variance", title, int(r.row), col,
                  f"Counted {r.counted_qty:g} of {r.sku} at {r.location}; the book said {r.book_qty:g} "
                  f"({r.variance_qty:+g}).", value=r.variance_qty, field="counted_qty")
            for r in off.itertuples()]
