"""Close a period: move older ledger rows into an archive workbook, opening balances in their place.

A busy store's Movements sheet fills up. `close_period(path, before)` keeps the live workbook small
while everything it computes about today stays the same:

1. Rows dated before the cut are archived: Movements rows, and Counts rows but the last count of
   each location, SKU and batch (the Count Plan keeps knowing when each was last counted). A
   movement whose reference names a line still on the Purchases or Orders sheet stays live: it
   explains that line's received or shipped quantity and its observed lead time. So does the
   receipt of a batch still in stock at the cut: it tells the batch's expiry.
2. Opening balances replace them: one `adjust` row per SKU, location, batch and expiry whose
   quantity is the stock the archived rows leave there at the cut: the on-hand just before the cut
   from every row, minus the on-hand just before the cut from the rows that stay live (so whatever
   stays, the books agree at the cut; a row is negative where a kept row brought in more). Dated the cut day, written at the top
   of the Movements sheet (they come first that day), valued at the SKU's unit cost (Items, else the
   mean cost of its archived receipts), reason "opening balance", reference "close-period <cut>".
3. The archived rows go, exactly as typed, into a new archive workbook (Movements, Counts, and the
   Opening Balances written), and the live sheets lose them; every other part of the live file is
   left as it is (the package is edited like a refresh edits it, and saved atomically).

After the cut every output is the same: stock, batches, reservations, on order, what to count and
reorder. What depends on history before the cut (KPIs of earlier weeks, the Variance of archived
counts, negative-stock findings before the cut, demand if the cut falls inside its window) is the
archive's to tell.

Refused (CloseRefused, nothing written) when a Movements or Counts row has an error (it would leave
the books unseen), when the cut is after the as-of day, when a ledger sheet holds formulas (their
references would shift), when the Movements sheet lacks a column the opening rows need, or when a
batch-tracked SKU is below zero without a batch at the cut (an opening row could not hold that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .contract.book import Book, Store
from .contract.issues import ERROR, CloseRefused
from .ledger.postings import EPS, Ledger

OPENING_REASON = "opening balance"
OPENING_USER = "inv-sheets"
BALANCE_KEY = ["sku", "location", "batch", "expiry"]
NEEDED = ("movement_id", "date", "type", "sku", "qty", "to_location", "reason", "user")


@dataclass
class ClosePlan:
    """What closing a period does: rows to archive (by table row) and the opening rows to write."""

    cut: pd.Timestamp
    movements: pd.Index  # Movements table rows archived (continuation rows carry their offset)
    counts: pd.Index  # Counts table rows archived
    opening: pd.DataFrame  # typed Movements rows: movement_id, date, type, sku, qty, to_location, ...
    kept_before: int = 0  # movements before the cut that stay live (they name a PO or order line)


@dataclass
class CloseResult:
    """What close_period did."""

    path: Path
    archive: Path
    cut: pd.Timestamp
    archived_movements: int
    archived_counts: int
    opening_rows: int
    kept_before: int


def plan(store: Store, ledger: Ledger, before: object) -> ClosePlan:
    """Which rows to archive and the opening balances that replace them (no file is touched)."""
    from .ledger.postings import build

    cut = pd.Timestamp(before).normalize()
    mv, cn = store["Movements"], store["Counts"]
    named = set(store["Purchases"]["po"].dropna()) | set(store["Orders"]["order"].dropna())
    early = (mv["date"] < cut).to_numpy()
    # A receipt of a batch still in stock at the cut stays too: it tells the batch's expiry.
    stocked = _balance(ledger, cut, by=["sku", "batch"])
    stocked = stocked[stocked.abs() > EPS].index
    receipt_of_stocked = (mv["type"].eq("receive") & mv["batch"].notna()).to_numpy() & \
        pd.MultiIndex.from_arrays([mv["sku"], mv["batch"].fillna("")]).isin(stocked)
    keep_live = early & (mv["reference"].isin(named).to_numpy() | receipt_of_stocked)
    archived_mv = mv.index[early & ~keep_live]
    counts_early = cn[cn["date"] < cut]
    # The last count of each place, SKU and batch stays, so the Count Plan still knows it; not an
    # unbatched count of a batch-tracked SKU: with no batches on the live book before the cut, its
    # correction would land on no batch, which an opening row cannot take back from there.
    tracking = store["Items"].drop_duplicates("sku").set_index("sku")["tracking"]
    keepable = counts_early["batch"].notna() | ~counts_early["sku"].map(tracking).isin(["batch", "expiry"])
    last = counts_early[keepable].assign(_b=counts_early["batch"].fillna("")) \
        .sort_values("date", kind="stable").drop_duplicates(["location", "sku", "_b"], keep="last").index
    archived_cn = counts_early.index.difference(last)

    live = Store({**store.tables, "Movements": mv.drop(archived_mv), "Counts": cn.drop(archived_cn)},
                 store.settings, store.titles, store.letters, store.raw)
    delta = _balance(ledger, cut).sub(_balance(build(live), cut), fill_value=0.0)
    delta = delta[delta.abs() > EPS].reset_index()
    _refuse_unbatched_shortfall(store, delta)
    opening = _opening_rows(store, delta, archived_mv, cut)
    return ClosePlan(cut, archived_mv, archived_cn, opening, int(keep_live.sum()))


def _refuse_unbatched_shortfall(store: Store, delta: pd.DataFrame) -> None:
    """A batch-tracked SKU below zero without a batch cannot open that way: an outgoing row without
    a batch takes the first-expiring batch (FEFO), so the shortfall would land on a real batch."""
    tracking = store["Items"].drop_duplicates("sku").set_index("sku")["tracking"]
    tracked = delta["sku"].map(tracking).isin(["batch", "expiry"])
    stuck = delta[tracked & (delta["batch"] == "") & (delta["qty"] < 0)]
    if len(stuck):
        first = stuck.iloc[0]
        raise CloseRefused(
            f"{first['sku']} at {first['location']} is {-first['qty']:g} below zero without a batch before the cut"
            + (f" (and {len(stuck) - 1} more)" if len(stuck) > 1 else "")
            + ": count it with its batches, or correct the book, then close the period")


def _balance(ledger: Ledger, cut: pd.Timestamp, by: list[str] = BALANCE_KEY) -> pd.Series:
    """On hand just before the cut by SKU, location, batch and expiry (internal locations only)."""
    legs = ledger.internal()
    legs = legs[legs["when"] < cut]
    frame = legs[by + ["qty"]].astype({key: "str" for key in by if key in ("sku", "location", "batch")})
    frame["batch"] = frame["batch"].fillna("")
    return frame.groupby(by, dropna=False)["qty"].sum()


def _opening_rows(store: Store, delta: pd.DataFrame, archived: pd.Index, cut: pd.Timestamp) -> pd.DataFrame:
    """The opening-balance Movements rows, typed like the Store's, sorted by SKU, location, batch."""
    mv = store["Movements"]
    items_cost = store["Items"].drop_duplicates("sku").set_index("sku")["unit_cost"]
    gone = mv.loc[archived]
    receipts = gone[(gone["type"] == "receive") & gone["unit_cost"].notna()]
    mean_cost = receipts.groupby("sku")["unit_cost"].mean()
    delta = delta.sort_values(["sku", "location", "batch", "expiry"], kind="stable").reset_index(drop=True)
    cost = delta["sku"].map(items_cost).astype(float).fillna(delta["sku"].map(mean_cost).astype(float))
    adjusters = store.settings.adjusters
    stamp = f"{cut:%Y%m%d}"
    return pd.DataFrame({
        "movement_id": [f"OPEN-{stamp}-{i:05d}" for i in range(1, len(delta) + 1)],
        "date": pd.Series(cut, index=delta.index, dtype="datetime64[ns]"),
        "type": "adjust", "sku": delta["sku"], "qty": delta["qty"].round(9), "from_location": None,
        "to_location": delta["location"], "batch": delta["batch"].replace("", None),
        "expiry": pd.to_datetime(delta["expiry"]), "unit_cost": cost.round(4),
        "reference": f"CLOSE-PERIOD {cut:%Y-%m-%d}", "reason": OPENING_REASON,
        "user": adjusters[0] if adjusters else OPENING_USER,
    })


def close_period(path: str | os.PathLike, before: object, *, archive: str | os.PathLike | None = None,
                 as_of: object = None) -> CloseResult:
    """Archive the ledger rows dated before `before` and write opening balances in their place.

    The archive defaults to "<name> archive <before>.xlsx" beside the workbook and must not exist.
    Raises CloseRefused (nothing written) when the period cannot be closed, InvSheetsError when the
    workbook cannot be read or written.
    """
    from .contract.parse import parse_day
    from .io.read import read_book
    from .ledger.postings import build
    from .rules.validate import parse

    source = Path(path)
    book = read_book(source)
    store, issues = parse(book, as_of=as_of)
    # The cut is read as a cell is: ISO, else only as Settings date_order makes it one day.
    cut = parse_day(before, store.settings.date_order, name="--before")
    target = Path(archive) if archive else source.with_name(f"{source.stem} archive {cut:%Y-%m-%d}.xlsx")
    if target.exists():
        raise CloseRefused(f"{target}: already exists; name another archive with --archive")
    _check(book, store, issues, cut)
    closing = plan(store, build(store), cut)
    from .io.archive import rewrite_live, write_archive

    try:
        write_archive(target, book, closing)
        rewrite_live(source, book, store, closing)
    except BaseException:
        target.unlink(missing_ok=True)  # the live file is unchanged: no (half-written) archive without its cut
        raise
    _forget_fingerprints(source, store, closing)
    from .io import cache

    cache.forget(source, [p.title for t in book.tables.values() for p in t.parts] +
                 [t.title for t in book.tables.values()])
    return CloseResult(source, target, cut, len(closing.movements), len(closing.counts), len(closing.opening),
                       closing.kept_before)


def _forget_fingerprints(source: Path, store: Store, closing: ClosePlan) -> None:
    """Drop the archived movements from the fingerprints the last refresh left (integrity.py), so
    the next refresh does not report them as deleted rows."""
    from .integrity import ledger_sheet, read_seen
    from .io.write import write_sheets

    seen = read_seen(source)
    if seen is None:
        return
    gone = set(store["Movements"].loc[closing.movements, "movement_id"])
    kept = seen[~seen["movement_id"].isin(gone)].reset_index(drop=True)
    if len(kept) < len(seen):
        write_sheets(source, [ledger_sheet(kept)])


def _check(book: Book, store: Store, issues: list, cut: pd.Timestamp) -> None:
    if cut > store.settings.as_of:
        raise CloseRefused(f"the cut {cut:%Y-%m-%d} is after the as-of day {store.settings.as_of:%Y-%m-%d}")
    titles = {book.tables[name].title for name in ("Movements", "Counts") if name in book.tables}
    titles |= {p.title for name in ("Movements", "Counts") if name in book.tables for p in book.tables[name].parts}
    bad = [i for i in issues if i.severity == ERROR and i.sheet in titles and i.row is not None]
    if bad:
        where = ", ".join(i.cell for i in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise CloseRefused(f"{len(bad)} ledger rows have errors ({where}): fix them first "
                           "(`inv-sheets validate` lists them), so no row is archived unseen")
    table = book.table("Movements")
    missing = [c for c in NEEDED if table is None or c not in table.letters]
    if missing:
        raise CloseRefused("the Movements sheet needs the columns " + ", ".join(missing) +
                           " to hold opening balances: add them to its header row")
    if store["Movements"]["batch"].notna().any() and "batch" not in table.letters:
        raise CloseRefused("the Movements sheet needs a Batch column to hold batch balances")


__all__ = ["ClosePlan", "CloseRefused", "CloseResult", "close_period", "plan"]
