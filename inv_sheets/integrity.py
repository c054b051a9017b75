"""Ledger integrity: a fingerprint of every movement row, so edits to the past are noticed.

The Movements sheet is an append-only ledger, but a spreadsheet lets anyone change or delete a
past row. Every refresh writes a hidden sheet the toolkit owns, `_inv_ledger`, with one entry per
movement it accepted: its movement ID, its Excel row, a 64-bit fingerprint of the row's values and
a one-byte digest per column. The next refresh recomputes the fingerprints and compares them by
movement ID:

    same ID, other fingerprint   ledger-row-edited at the first changed cell, naming the columns
    ID no longer on the sheet    ledger-row-deleted at the row it had, naming the movement

New IDs are appended rows, which is what a ledger is for. A row keeps the fingerprint it had when
first seen, so a change is reported on every refresh until the row is put back as it was (the fix
a ledger asks for is a correcting movement, not an edit); a row that now has an error is reported
by that error, not as deleted. Moving a row (sorting the sheet) is not an edit.

Fingerprints are computed on the typed values (codes upper-cased, numbers as float, dates as
instants), so retyping "12" as 12 or re-saving the file is not an edit, and a blank cell
contributes nothing, so a column added to the contract later does not make every row look edited.
Hashing is vectorised (pandas.util.hash_array): a million rows take about a second.

The entries are packed, so a full sheet of movements takes about 2,200 cells, not four million:
the hidden sheet has one column, `block`, and each cell holds up to about 30,000 characters of
entries, one per line, fields separated by a tab:

    movement_id <TAB> row <TAB> fingerprint <TAB> columns

Packing and unpacking are vectorised (pandas string operations, one join per cell). An entry that
cannot be packed safely (a tab, line break or carriage return in a field, or longer than 1,000
characters) is left out, so such a row is not fingerprinted; movement IDs are canonical codes, so
in practice none is. A sheet in the older layout (one row per movement, the four fields as
columns, as the previous version wrote it) is still read; it is recognised by its header, and the
next refresh writes it packed.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd

from .book import Book, Store
from .issues import Issue
from .schema import DATE, INTEGER, NUMBER, SHEET, Output
from .schema import O as _column
from .sheetdata import SheetData

SHEET_NAME = "_inv_ledger"
LEDGER = Output(SHEET_NAME, (
    _column("block", header="block", help="entries, one per line: movement_id, Excel row on the Movements sheet "
            "when fingerprinted, 64-bit hash of the row's values (hex), one hex byte per column of "
            "FINGERPRINTED; tab-separated"),
), "Fingerprints of the movement rows seen by refresh (the toolkit's; do not edit).", table="tblInvLedger")

# The logical table: the fields of one entry, and the header of the older one-row-per-movement layout.
ENTRY: tuple[str, ...] = ("movement_id", "row", "fingerprint", "columns")
BLOCK_CHARS = 30_000  # a cell gets entries until it reaches this; Excel's limit is 32,767
ENTRY_CHARS = 1_000  # a longer entry is not packed (so a cell stays under Excel's limit)

# The Movements columns fingerprinted, in the order of the per-column digest. Append new columns at
# the end: older digests are compared on the columns they have.
FINGERPRINTED: tuple[str, ...] = (
    "movement_id", "date", "type", "sku", "qty", "from_location", "to_location", "batch", "expiry",
    "unit_cost", "reference", "channel", "reason", "user", "note",
)

_MIX = np.uint64(0x9E3779B97F4A7C15)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def fingerprints(movements: pd.DataFrame) -> pd.DataFrame:
    """One row per movement row: movement_id, row, fingerprint (16 hex) and columns (2 hex per column).

    `movements` is the typed Movements frame of a Store, indexed by Excel row.
    """
    n = len(movements)
    total = np.zeros(n, dtype=np.uint64)
    digest = np.zeros((n, len(FINGERPRINTED)), dtype=np.uint8)
    for j, name in enumerate(FINGERPRINTED):
        if name not in movements:
            continue
        hashed, blank = _column_hash(movements[name], SHEET["Movements"].column(name).type)
        salted = _splitmix(hashed ^ _name_salt(name))
        salted[blank] = 0
        total += salted  # a sum: order-free, and a blank column adds nothing
        digest[:, j] = (salted >> np.uint64(56)).astype(np.uint8)
    ids = movements["movement_id"] if "movement_id" in movements else pd.Series("", index=movements.index)
    return pd.DataFrame({
        "movement_id": ids.astype(object).where(ids.notna(), "").astype(str).to_numpy(),
        "row": movements.index.to_numpy(dtype=np.int64),
        "fingerprint": _hex(total.astype(">u8").view(np.uint8).reshape(n, 8)),
        "columns": _hex(digest),
    })


def ledger_check(store: Store, seen: pd.DataFrame | None, raw_ids: Sequence[str] = ()) -> tuple[list[Issue], SheetData]:
    """Compare the movements with the fingerprints first seen; return findings and the sheet to write.

    seen     the `_inv_ledger` rows the last refresh wrote (read_seen), or None on a first refresh.
    raw_ids  every movement ID on the sheet as read, rows with errors included (canonical codes):
             an ID still there is not deleted, whatever its row's other errors.

    A row keeps the fingerprint it had when first seen, so an edit or a deletion is reported on
    every refresh until the row is put back, not only on the first one after the change.
    """
    current = fingerprints(store.tables["Movements"]).drop_duplicates("movement_id", keep="first")
    current = current[current["movement_id"] != ""]
    if seen is None or not len(seen):
        return [], ledger_sheet(current)
    seen = seen.drop_duplicates("movement_id", keep="first")
    issues = _edited(store, seen, current) + _deleted(store, seen, current, raw_ids)
    # Known rows keep their first fingerprint (at the row they are on now); new rows are appended.
    row_now = current.set_index("movement_id")["row"]
    remembered = seen.assign(row=seen["movement_id"].map(row_now).fillna(seen["row"]).astype("int64"))
    new = current[~_among(current["movement_id"], seen["movement_id"])]
    rows = pd.concat([remembered, new], ignore_index=True).sort_values("row", kind="stable")
    return issues, ledger_sheet(rows)


def ledger_sheet(seen: pd.DataFrame) -> SheetData:
    """The hidden sheet holding these fingerprints (columns ENTRY, in the order given), packed."""
    return SheetData(LEDGER, pack(seen), hidden=True)


def pack(seen: pd.DataFrame) -> pd.DataFrame:
    """The fingerprint table as the sheet's rows: one `block` cell per ~BLOCK_CHARS of entries.

    Entries keep their order; one that holds a tab, line break or carriage return in a field, or
    is longer than ENTRY_CHARS, is left out (its row is then not fingerprinted).
    """
    if not len(seen):
        return pd.DataFrame({"block": pd.Series([], dtype=object)})
    text = {name: seen[name].astype(object).where(seen[name].notna(), "").astype(str).reset_index(drop=True)
            for name in ("movement_id", "fingerprint", "columns")}
    row = pd.Series(seen["row"].to_numpy(dtype=np.int64)).astype(str)
    lines = text["movement_id"] + "\t" + row + "\t" + text["fingerprint"] + "\t" + text["columns"]
    length = lines.str.len()
    ok = (lines.str.count("\t") == 3) & ~lines.str.contains("[\n\r]", regex=True) & (length <= ENTRY_CHARS)
    lines, length = lines[ok], length[ok]
    start = (length + 1).cumsum() - (length + 1)  # where each entry starts in the sheet's whole text
    blocks = lines.groupby((start // BLOCK_CHARS).to_numpy(), sort=True).agg("\n".join)
    return pd.DataFrame({"block": blocks.to_numpy(dtype=object)})


def unpack(blocks: pd.Series) -> pd.DataFrame:
    """The packed cells back as the four ENTRY columns, as text (seen_from_frame validates them)."""
    text = blocks.astype("string").dropna()
    lines = text.str.split("\n").explode().dropna()
    lines = lines[(lines.str.count("\t") == 3).to_numpy(dtype=bool)].reset_index(drop=True)
    if not len(lines):
        return pd.DataFrame({name: pd.Series([], dtype="string") for name in ENTRY})
    fields = lines.str.split("\t", expand=True)
    return fields.set_axis(list(ENTRY), axis=1)


def raw_movement_ids(book: Book, store: Store) -> list[str]:
    """The movement IDs of the rows the validator left out (an error), as canonical codes.

    Only those are needed (accepted rows are in the Store already), and they are few, so a
    million-row ledger costs nothing here.
    """
    table = book.table("Movements")
    if table is None or "movement_id" not in table.data:
        return []
    ids = table.data["movement_id"]
    left_out = ids[~ids.index.isin(store.tables["Movements"].index)].dropna()
    return [_code(v) for v in left_out]


def read_seen(path: str | os.PathLike) -> pd.DataFrame | None:
    """The fingerprints the last refresh left in the workbook at `path`, or None when there are none.

    The reader skips the toolkit's `_inv*` sheets, so this one is read on its own (column-wise, as
    text), packed or in the older one-row-per-movement layout; a sheet that cannot be read as
    fingerprints counts as none (the next write replaces it).
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(os.fspath(path))
        if SHEET_NAME not in reader.sheet_names:
            return None
        frame = reader.load_sheet(SHEET_NAME, dtypes="string").to_pandas()
    except Exception:  # noqa: BLE001 - a damaged hidden sheet is rebuilt, never a reason to stop a refresh
        return None
    return seen_from_frame(frame)


def seen_from_rows(rows: list[list[object]]) -> pd.DataFrame | None:
    """Fingerprint rows as read from a live sheet (header first), or None if they are not that.

    Either layout: packed (header `block`) or one row per movement (header ENTRY).
    """
    if not rows:
        return None
    header = [str(h).strip() for h in rows[0]]
    if header[:1] == ["block"]:
        blocks = [r[0] if r and isinstance(r[0], str) else None for r in rows[1:]]
        return seen_from_frame(pd.DataFrame({"block": pd.Series(blocks, dtype=object)}))
    names = list(ENTRY)
    header = header[:len(names)]
    body = [list(r[:len(names)]) + [None] * (len(names) - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=header + [f"_{i}" for i in range(len(names) - len(header))], dtype=object)
    if "movement_id" in frame:
        frame["movement_id"] = frame["movement_id"].map(_code)
    return seen_from_frame(frame)


def seen_from_frame(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The fingerprint sheet's table as a clean frame (bad rows dropped), or None if it is not one.

    The layout is told by the header: `block` is packed (unpacked here first), ENTRY is the older
    one row per movement.
    """
    header = [str(c).strip() for c in frame.columns]
    if header[:1] == ["block"]:
        frame = unpack(frame.iloc[:, 0])
        header = list(ENTRY)
    names = list(ENTRY)
    if header[:len(names)] != names:
        return None
    frame = frame.iloc[:, :len(names)].set_axis(names, axis=1)
    text = {name: frame[name].astype("string").fillna("").str.strip() for name in ("movement_id", "fingerprint", "columns")}
    out = pd.DataFrame({"movement_id": text["movement_id"].str.upper(),
                        "row": pd.to_numeric(frame["row"], errors="coerce"),
                        "fingerprint": text["fingerprint"], "columns": text["columns"]})
    out = out[(out["movement_id"] != "") & out["row"].notna() & out["fingerprint"].str.fullmatch(r"[0-9a-f]{16}")]
    return out.astype({"movement_id": object, "row": "int64", "fingerprint": object, "columns": object}).reset_index(drop=True)


# Findings -----------------------------------------------------------------------------------------
def _edited(store: Store, seen: pd.DataFrame, current: pd.DataFrame) -> list[Issue]:
    both = current.merge(seen, on="movement_id", suffixes=("", "_seen"))
    changed = both[both["fingerprint"] != both["fingerprint_seen"]]
    title, _ = store.cell("Movements", "movement_id")
    issues = []
    for rec in changed.itertuples(index=False):  # one per edited row: few, by nature
        columns = _changed_columns(rec.columns, rec.columns_seen)
        letter = next((store.cell("Movements", c)[1] for c in columns if store.cell("Movements", c)[1]), None)
        what = ", ".join(SHEET["Movements"].column(c).title for c in columns) or "its values"
        moved = f" (it was row {rec.row_seen})" if rec.row_seen != rec.row else ""
        issues.append(Issue(
            "ledger-row-edited", title, int(rec.row), letter,
            f"Movement {rec.movement_id}{moved} was changed after refresh first recorded it: {what}. The ledger is "
            "append-only: put the row back as it was and record a correcting movement (an adjust, a "
            "return) instead.", value=rec.movement_id, field=columns[0] if columns else None))
    return issues


def _deleted(store: Store, seen: pd.DataFrame, current: pd.DataFrame, raw_ids: Sequence[str]) -> list[Issue]:
    present = np.concatenate([current["movement_id"].to_numpy(dtype=object), np.asarray(raw_ids, dtype=object)])
    gone = seen[~_among(seen["movement_id"], present)]
    title, _ = store.cell("Movements", "movement_id")
    return [Issue("ledger-row-deleted", title, int(rec.row), None,
                  f"Movement {rec.movement_id} (last seen on row {rec.row}) is no longer on the sheet. "
                  "The ledger is append-only: restore the row, and record a correcting movement to undo it.",
                  value=rec.movement_id)
            for rec in gone.itertuples(index=False)]


def _among(values: pd.Series, pool: np.ndarray | pd.Series) -> np.ndarray:
    """values.isin(pool) through a hash index (pandas' isin on str columns loops in Python)."""
    index = pd.Index(pd.unique(np.asarray(pool, dtype=object)), dtype=object)
    return index.get_indexer(np.asarray(values, dtype=object)) >= 0


def _changed_columns(now: str, before: str) -> list[str]:
    """The columns whose one-byte digests differ (compared on the columns both digests cover)."""
    pairs = zip(FINGERPRINTED, zip(now[0::2], now[1::2]), zip(before[0::2], before[1::2]))
    return [name for name, a, b in pairs if a != b]


# Hashing ------------------------------------------------------------------------------------------
def _column_hash(values: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """A stable uint64 hash of each value, and which values are blank.

    Each kind is brought to one representation first, so the same value hashes the same whatever
    dtype the column happened to get (an all-blank column, a column of numbers typed as text).
    """
    blank = values.isna().to_numpy(dtype=bool)
    if kind in (NUMBER, INTEGER):
        canonical = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        canonical = canonical + 0.0  # -0.0 and 0.0 are one number
    elif kind == DATE:
        instants = pd.to_datetime(values, errors="coerce")
        canonical = instants.dt.as_unit("us").to_numpy().view("int64") if len(values) else np.zeros(0, "int64")
    else:
        canonical = values.astype(object).where(~blank, "").astype(str).to_numpy(dtype=object)
    return pd.util.hash_array(canonical, categorize=False), blank


def _name_salt(name: str) -> np.uint64:
    return np.uint64(pd.util.hash_array(np.array([name], dtype=object), categorize=False)[0])


def _splitmix(x: np.ndarray) -> np.ndarray:
    """A strong 64-bit mix, so a sum of mixed hashes keeps the whole value's information."""
    x = x + _MIX
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _hex(matrix: np.ndarray) -> np.ndarray:
    """Each row of a uint8 matrix as a lower-case hex string, without a Python loop per row."""
    n, width = matrix.shape
    if n == 0:
        return np.array([], dtype=object)
    nibbles = np.empty((n, width * 2), dtype=np.uint8)
    nibbles[:, 0::2] = _HEX[matrix >> 4]
    nibbles[:, 1::2] = _HEX[matrix & 15]
    return np.ascontiguousarray(nibbles).view(f"S{width * 2}").ravel().astype(str).astype(object)


def _code(value: object) -> str:
    """A movement ID as the validator keeps codes (parse.canonical_code; 12.0 -> "12")."""
    from .parse import canonical_code

    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return canonical_code(str(value))


__all__ = ["BLOCK_CHARS", "ENTRY", "ENTRY_CHARS", "FINGERPRINTED", "LEDGER", "SHEET_NAME", "fingerprints",
           "ledger_check", "ledger_sheet", "pack", "raw_movement_ids", "read_seen", "seen_from_frame",
           "seen_from_rows", "unpack"]
