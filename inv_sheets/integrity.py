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
Hashing is vectorised (pandas.util.hash_array, once per distinct value of a column where values
repeat): a million rows take about half a second.

The entries are packed, so a full sheet of movements takes about 2,200 cells, not four million:
the hidden sheet has one column, `block`, and each cell holds up to about 30,000 characters of
entries, one per line, fields separated by a tab:

    movement_id <TAB> row <TAB> fingerprint <TAB> columns

Packing and unpacking are vectorised (pyarrow compute kernels on the text, no Python string per
entry), as is the comparison with the remembered entries. An entry that cannot be packed safely
(a tab, line break or carriage return in a field, or longer than 1,000 characters) is left out,
so such a row is not fingerprinted; movement IDs are canonical codes, so in practice none is. A
sheet in the older layout (one row per movement, the four fields as columns, as the previous
version wrote it) is still read; it is recognised by its header, and the next refresh writes it
packed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .contract.book import Book, Store
from .contract.issues import InvSheetsError, Issue
from .contract.schema import DATE, INTEGER, NUMBER, SHEET, Output
from .contract.schema import O as _column
from .contract.sheetdata import SheetData
from .io import cache

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
        "movement_id": _as_pandas(_arrow_text(ids)),
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
    issues, rows = _compare(store, seen, raw_ids)
    return issues, ledger_sheet(rows)


def _compare(store: Store, seen: pd.DataFrame | None, raw_ids: Sequence[str]) -> tuple[list[Issue], pd.DataFrame]:
    """ledger_check's findings, and the fingerprints to remember (ENTRY columns, unpacked)."""
    current = fingerprints(store.tables["Movements"])
    if seen is None or not len(seen):
        current = current.drop_duplicates("movement_id", keep="first")
        return [], current[current["movement_id"] != ""]
    # The remembered entries as arrow-backed text (one conversion, in sheet order), so the lookups
    # below, the sort and pack() move arrow strings, not a million scattered Python ones. (Columns
    # that are not all text, which read_seen never gives, stay objects, compared as objects.)
    seen = seen.drop_duplicates("movement_id", keep="first").reset_index(drop=True)  # aligned with the text
    seen = seen.assign(**{name: _as_pandas(_arrow_nullable(seen[name]))
                          for name in ("movement_id", "fingerprint", "columns") if _is_text(seen[name])})
    # Every movement ID, current or remembered, as one integer code (a single hash pass over both),
    # so dropping repeated current IDs (an ID keeps its first row) and finding each remembered
    # movement among the current ones is integer work.
    current_code, seen_code = _codes(current["movement_id"], seen["movement_id"])
    keep = _first(current_code) & (current["movement_id"] != "").to_numpy(dtype=bool)
    current, current_code = current[keep], current_code[keep]
    # Where each remembered movement is among the current ones (-1: not there).
    position = np.full(max(current_code.max(initial=0), seen_code.max(initial=0)) + 1, -1, dtype=np.int64)
    position[current_code] = np.arange(len(current))
    now = position[seen_code]
    issues = _edited(store, seen, current, now) + _deleted(store, seen, now, raw_ids)
    # Known rows keep their first fingerprint (at the row they are on now); new rows are appended.
    there = now >= 0
    row = seen["row"].to_numpy().astype("int64")
    row[there] = current["row"].to_numpy(dtype=np.int64)[now[there]]
    remembered = seen.assign(row=row)
    known = np.zeros(len(current), dtype=bool)
    known[now[there]] = True
    new = current[~known]
    rows = pd.concat([remembered, new], ignore_index=True)
    if not rows["row"].is_monotonic_increasing:  # usually it is (rows are rarely moved): no copy then
        rows = rows.sort_values("row", kind="stable")
    return issues, rows


class LastRefresh:
    """The fingerprints a workbook file holds, compared only when the outcome is not known already.

    ledger_check keeps each remembered row's first fingerprint, so the sheet it writes, compared
    again with the same accepted movements, finds what it found before and comes out the same.
    So once a refresh has written a file, the findings it made are kept in the cache under a key
    of: the Movements sheets' source (book.Table.source: their cells and names), the date order
    and date system the cells were typed with, the rows accepted, and the fingerprint part as
    written (its name and a digest of its bytes). The next refresh of that file with the same key
    takes those findings and leaves the fingerprint sheet as it is, without reading it: at a full
    ledger, reading a million fingerprints back and hashing a million rows again. A ledger that
    only grew since is added to that comparison (_appended), and the fingerprints written are kept
    in the cache, so a comparison made again does not read them back from the file (_seen), with
    the cells they were packed into, so the new rows' entries are packed on from those (_packed).
    """

    def __init__(self, path: str | os.PathLike, *, writes: bool = False) -> None:
        self.path = os.fspath(path)
        self.writes = writes  # whether the sheet check() returns will be written (a refresh, not a validate)
        self._inputs: str | None = None  # the key without the fingerprint part, once checked
        self._issues: list[Issue] = []
        self._written: str | None = None  # the cache name of the fingerprints to be written
        self._kept_as: str | None = None  # the cache name of the fingerprints the last refresh wrote, once read

    def check(self, book: Book, store: Store) -> tuple[list[Issue], SheetData | None]:
        """Findings, and the sheet to write: None when the one in the file is already right."""
        self._inputs = _check_inputs(book, store)
        part = _fingerprint_part(self.path) if cache.enabled() else None
        known = cache.load_check(self.path, cache.digest(self._inputs, part)) if part and self._inputs else None
        if known is not None:
            self._issues = known
            return known, None
        grown = self._appended(book, store, part) if part and self._inputs else None
        before = None
        if grown is not None:
            self._issues, rows, before = grown
        else:
            self._issues, rows = _compare(store, self._seen(part), raw_movement_ids(book, store))
        blocks, kept, packed = _packed(rows, before)
        # Kept now, under a name of their own, so a million of them are not held through the
        # features and the write; remember() ties that name to the part they are written to.
        if self.writes and cache.enabled():
            self._written = secrets.token_hex(16)
            # Packed on from the last refresh's cells: its fingerprints lead these, and its cells
            # (but the last, which may have grown) lead these cells, so only the new ones are written.
            extends = self._kept_as if before is not None else None
            cache.save_value(self.path, cache.SEEN, self._written, as_read(kept), extends=extends)
            cache.save_rows(self.path, cache.PACKED, self._written, *packed.as_rows(), extends=extends)
        return self._issues, _sheet(blocks)

    def _appended(self, book: Book, store: Store, part: str) -> tuple[list[Issue], pd.DataFrame, Packed | None] | None:
        """The comparison of a ledger that only grew since the one kept for this fingerprint part.

        When the Movements sheet is its earlier read with rows added below (book.Table.earlier),
        the earlier rows accepted then are the ones accepted now, and no new row names a movement
        remembered or already on the sheet, comparing again finds what that comparison found and
        appends the new rows' fingerprints to what it wrote: so that is the answer, without
        hashing and matching a million rows. None when any of that is not so (compare afresh).
        With it comes how the remembered rows were packed, when they still lead the rows and that
        is kept (so only the new rows are packed), else None.
        """
        table = book.table("Movements")
        earlier = table.earlier if table is not None else None
        if earlier is None or "movement_id" not in table.data:
            return None
        movements = store.tables["Movements"]
        then = movements.index.isin(earlier.rows)
        found = cache.load_check(self.path, cache.digest(_inputs(earlier.source, book, store, movements.index[then]), part))
        seen = self._seen(part) if found is not None else None
        if seen is None or not len(seen):
            return None
        new = fingerprints(movements[~then])
        rejected = table.data.index.difference(movements.index).difference(earlier.rows)
        names = {*new["movement_id"].tolist(), *(_code(v) for v in table.data.loc[rejected, "movement_id"])} - {""}
        if names:
            named = pa.array(sorted(names), type=pa.large_string())
            for known in (seen["movement_id"], movements.loc[then, "movement_id"]):
                if pc.any(pc.is_in(_arrow_text(known), value_set=named)).as_py():
                    return None
        new = new.drop_duplicates("movement_id", keep="first")
        rows = pd.concat([seen, new[new["movement_id"] != ""]], ignore_index=True)
        if not rows["row"].is_monotonic_increasing:
            return found, rows.sort_values("row", kind="stable"), None
        return found, rows, self._packed_before(len(seen))

    def _packed_before(self, entries: int) -> Packed | None:
        """How the last refresh packed the fingerprints it wrote, kept beside them (_seen found
        them in the cache), if they are the `entries` remembered ones."""
        kept = cache.load_rows(self.path, cache.PACKED, self._kept_as) if self._kept_as else None
        packed = Packed.from_rows(*kept) if kept is not None else None
        return packed if packed is not None and packed.entries == entries else None

    def _seen(self, part: str | None) -> pd.DataFrame | None:
        """The fingerprints in the file: as the last refresh wrote them, if this is the part it
        wrote (kept in the cache as read_seen would read them back), else read from the file."""
        written = cache.load_value(self.path, cache.SEEN_IN, part) if part is not None else None
        seen = cache.load_value(self.path, cache.SEEN, written) if isinstance(written, str) else None
        if isinstance(seen, pd.DataFrame):
            self._kept_as = written
            return seen
        return read_seen(self.path)

    def remember(self, written: str | os.PathLike) -> None:
        """Keep the findings, and which fingerprints were written, for the next refresh of
        `written`, the file just written."""
        part = _fingerprint_part(written) if cache.enabled() else None
        if part and self._inputs:
            cache.save_check(written, cache.digest(self._inputs, part), self._issues)
        if part and self._written and os.path.abspath(written) == os.path.abspath(self.path):
            cache.save_value(written, cache.SEEN_IN, part, self._written)


def as_read(kept: pd.DataFrame) -> pd.DataFrame:
    """The fingerprints pack() kept, as read_seen reads them back from the sheet it packed them into."""
    types = {"movement_id": "str", "row": "int64", "fingerprint": "str", "columns": "str"}
    kept = kept.reset_index(drop=True)
    return kept if kept.dtypes.to_dict() == {k: pd.api.types.pandas_dtype(v) for k, v in types.items()} else kept.astype(types)


def _check_inputs(book: Book, store: Store) -> str | None:
    """What ledger_check's outcome depends on besides the fingerprint sheet, as one digest; None
    when the Movements cells are not known by their source (or caching is off)."""
    table = book.table("Movements")
    if table is None or table.source is None or not cache.enabled():
        return None
    return _inputs(table.source, book, store, store.tables["Movements"].index)


def _inputs(source: str, book: Book, store: Store, accepted: pd.Index) -> str:
    rows = np.ascontiguousarray(accepted.to_numpy(dtype=np.int64))
    return cache.digest(source, str(store.settings.date_order), str(book.date1904), hashlib.sha256(rows.tobytes()).hexdigest())


def _fingerprint_part(path: str | os.PathLike) -> str | None:
    """The fingerprint sheet's part in the file at `path` as "name digest", or None without one."""
    from .io.read import workbook_info

    try:
        with zipfile.ZipFile(path) as zf:
            part = dict(workbook_info(zf)[0]).get(SHEET_NAME)
            info = zf.getinfo(part) if part else None
            return f"{info.filename} {cache.part_digest(zf, info)}" if info else None
    except (OSError, KeyError, zipfile.BadZipFile, InvSheetsError):
        return None


def ledger_sheet(seen: pd.DataFrame) -> SheetData:
    """The hidden sheet holding these fingerprints (columns ENTRY, in the order given), packed."""
    return _sheet(_packed(seen)[0])


def _sheet(blocks: list[str]) -> SheetData:
    """The hidden sheet of packed cells."""
    return SheetData(LEDGER, _cells(blocks), hidden=True)


def _cells(blocks: list[str]) -> pd.DataFrame:
    """Packed cells as the sheet's one `block` column (Python strings: the writer takes them as such)."""
    return pd.DataFrame({"block": pd.Series(blocks, dtype=object)})


def pack(seen: pd.DataFrame) -> pd.DataFrame:
    """The fingerprint table as the sheet's rows: one `block` cell per ~BLOCK_CHARS of entries.

    Entries keep their order; one that holds a tab, line break or carriage return in a field, or
    is longer than ENTRY_CHARS, is left out (its row is then not fingerprinted).
    """
    return _cells(_packed(seen)[0])


@dataclass(frozen=True)
class Packed:
    """What pack() made of some entries, to go on from when more are appended: the cells' texts,
    how many entries they hold, and their characters with the line break after each entry."""

    blocks: list[str]
    entries: int
    chars: int

    def as_rows(self) -> tuple[pd.DataFrame, dict]:
        """As the cache keeps it (cache.save_rows): every cell but the last as rows, and the rest.
        Packing more entries on leaves every cell but the last as it was, so those rows lead the
        rows of the grown ledger's packing, and only the new ones are written."""
        return _cells(self.blocks[:-1]), {"last": self.blocks[-1:], "entries": self.entries, "chars": self.chars}

    @classmethod
    def from_rows(cls, cells: pd.DataFrame, rest: dict) -> Packed | None:
        """A Packed from as_rows(); None when what was kept does not make one."""
        blocks = [*cells["block"].tolist(), *rest.get("last", [])] if "block" in cells else None
        entries, chars = rest.get("entries"), rest.get("chars")
        if blocks is None or not all(isinstance(b, str) for b in blocks) or not isinstance(entries, int) \
                or not isinstance(chars, int):
            return None
        return cls(blocks, entries, chars)


def _packed(seen: pd.DataFrame, before: Packed | None = None) -> tuple[list[str], pd.DataFrame, Packed]:
    """pack(seen)'s cells, the entries it kept, and how it packed them.

    `before` is how the first `before.entries` entries of `seen` were packed (all of them kept):
    only the entries after them are packed, going on from the last cell, and the cells come out
    as packing them all would make them. A full ledger's million entries are then not packed
    again each morning for the day's few hundred.
    """
    done = before or Packed([], 0, 0)
    todo = seen.iloc[done.entries:]
    if not len(todo):
        return done.blocks, seen, done
    # The work is done on arrow arrays (the pandas string methods are thin wrappers of the same
    # kernels, but each converts its input first), so a million entries cost a fraction of a second.
    row = pa.array(todo["row"].to_numpy(dtype=np.int64)).cast(pa.large_string())  # as str(int)
    lines = pc.binary_join_element_wise(_arrow_text(todo["movement_id"]), row, _arrow_text(todo["fingerprint"]),
                                        _arrow_text(todo["columns"]), _large("\t"))
    length = pc.utf8_length(lines)  # in characters, as len() counts them
    # Exactly three tabs and no line break: one pass of one pattern.
    ok = pc.and_(pc.match_substring_regex(lines, "^[^\t\n\r]*(?:\t[^\t\n\r]*){3}$"), pc.less_equal(length, ENTRY_CHARS))
    every = pc.all(ok).as_py()
    if not every:
        lines, length = lines.filter(ok), length.filter(ok)
    length = length.to_numpy().astype(np.int64)
    start = done.chars + np.cumsum(length + 1) - (length + 1)  # where each entry starts in the sheet's whole text
    # Entries go to cell start // BLOCK_CHARS; an entry is shorter than a cell, so the cells are
    # numbered 0, 1, 2... in order, each one run of entries: the first new ones may join the last
    # cell packed before.
    cell = start // BLOCK_CHARS
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(cell)) + 1, [len(cell)]])
    runs = pa.LargeListArray.from_arrays(pa.array(bounds, type=pa.int64()), lines)
    # Python strings: the writer takes them as such, and 66 MB of them turned into arrow text and
    # back would cost half a second at a full ledger.
    blocks = pc.binary_join(runs, _large("\n")).to_pylist() if len(cell) else []
    if blocks and done.blocks and cell[0] == len(done.blocks) - 1:
        blocks[0] = done.blocks[-1] + "\n" + blocks[0]
        blocks = done.blocks[:-1] + blocks
    else:
        blocks = done.blocks + blocks
    kept = seen if every else seen[np.concatenate([np.ones(done.entries, dtype=bool), ok.to_numpy(zero_copy_only=False)])]
    return blocks, kept, Packed(blocks, len(kept), done.chars + int(length.sum()) + len(length))


def unpack(blocks: pd.Series) -> pd.DataFrame:
    """The packed cells back as the four ENTRY columns, as text (seen_from_frame validates them)."""
    text = blocks.astype("string").dropna()
    # Split with arrow kernels (one list of lines per cell, flattened), not Series.str: a million
    # entries would otherwise be a million Python strings, several times over.
    cells = pa.array(text.to_numpy(dtype=object), type=pa.large_string())
    lines = pc.list_flatten(pc.split_pattern(cells, "\n"))
    lines = lines.filter(pc.equal(pc.count_substring(lines, "\t"), 3))
    if not len(lines):
        return pd.DataFrame({name: pd.Series([], dtype="string") for name in ENTRY})
    # Every line left has exactly four fields, so the flattened fields repeat in ENTRY order.
    fields = pc.list_flatten(pc.split_pattern(lines, "\t"))
    every = np.arange(len(lines), dtype=np.int64) * len(ENTRY)
    return pd.DataFrame({name: _as_pandas(fields.take(pa.array(every + j))) for j, name in enumerate(ENTRY)})


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

    from .io import guard
    from .io.read import open_package, workbook_info

    try:
        with open_package(path) as zf:
            part = dict(workbook_info(zf)[0]).get(SHEET_NAME)
            if part is None:
                return None
            guard.check_part(zf, path, part)  # a hidden sheet that is a zip bomb counts as none
        frame = fastexcel.read_excel(os.fspath(path)).load_sheet(SHEET_NAME, dtypes="string").to_pandas()
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
                        "row": _row_numbers(frame["row"]),
                        "fingerprint": text["fingerprint"], "columns": text["columns"]})
    out = out[(out["movement_id"] != "") & out["row"].notna() & out["fingerprint"].str.fullmatch(r"[0-9a-f]{16}")]
    return out.astype({"movement_id": "str", "row": "int64", "fingerprint": "str", "columns": "str"}).reset_index(drop=True)


def _row_numbers(values: pd.Series) -> pd.Series | np.ndarray:
    """`pd.to_numeric(values, errors="coerce")`, by an arrow cast when every value is plain digits.

    pack() writes rows as plain digits, and to_numeric would make a Python string of each first.
    Anything else (a blank, a sign, a space, a decimal point, too many digits) goes to to_numeric.
    """
    if len(values) and _is_text(values):
        text = _arrow_nullable(values)
        if text.null_count == 0 and pc.all(pc.ascii_is_decimal(text)).as_py():
            try:
                return text.cast(pa.int64()).to_numpy()
            except pa.ArrowInvalid:  # more digits than an int64 holds
                pass
    return pd.to_numeric(values, errors="coerce")


# Findings -----------------------------------------------------------------------------------------
def _edited(store: Store, seen: pd.DataFrame, current: pd.DataFrame, now: np.ndarray) -> list[Issue]:
    """The remembered rows whose fingerprint changed, in the order of the current rows.

    `now` is where each `seen` row is in `current` (-1: not there). Only the changed rows, few by
    nature, become Python objects.
    """
    was = np.flatnonzero(now >= 0)
    # Compared as arrow text ("" for a blank, which no fingerprint equals), not as Python strings.
    fingerprint_now = _arrow_text(current["fingerprint"]).take(now[was])
    fingerprint_then = _arrow_text(seen["fingerprint"]).take(was)
    changed = was[pc.not_equal(fingerprint_now, fingerprint_then).to_numpy(zero_copy_only=False)]
    changed = changed[np.argsort(now[changed], kind="stable")]  # in sheet order, as the rows are now
    at = now[changed]
    title, _ = store.cell("Movements", "movement_id")
    issues = []
    for movement_id, row, row_seen, columns_now, columns_seen in zip(
            current["movement_id"].to_numpy(dtype=object)[at], current["row"].to_numpy()[at].tolist(),
            seen["row"].to_numpy()[changed].tolist(), current["columns"].to_numpy(dtype=object)[at],
            seen["columns"].to_numpy(dtype=object)[changed]):
        columns = _changed_columns(columns_now, columns_seen)
        letter = next((store.cell("Movements", c)[1] for c in columns if store.cell("Movements", c)[1]), None)
        what = ", ".join(SHEET["Movements"].column(c).title for c in columns) or "its values"
        moved = f" (it was row {row_seen})" if row_seen != row else ""
        issues.append(Issue(
            "ledger-row-edited", title, int(row), letter,
            f"Movement {movement_id}{moved} was changed after refresh first recorded it: {what}. The ledger is "
            "append-only: put the row back as it was and record a correcting movement (an adjust, a "
            "return) instead.", value=movement_id, field=columns[0] if columns else None))
    return issues


def _deleted(store: Store, seen: pd.DataFrame, now: np.ndarray, raw_ids: Sequence[str]) -> list[Issue]:
    """The remembered rows whose movement ID is neither among the current rows nor in `raw_ids`."""
    missing = seen[now < 0]
    gone = missing[~_among(missing["movement_id"], np.asarray(raw_ids, dtype=object))]
    title, _ = store.cell("Movements", "movement_id")
    return [Issue("ledger-row-deleted", title, int(rec.row), None,
                  f"Movement {rec.movement_id} (last seen on row {rec.row}) is no longer on the sheet. "
                  "The ledger is append-only: restore the row, and record a correcting movement to undo it.",
                  value=rec.movement_id)
            for rec in gone.itertuples(index=False)]


def _codes(*columns: pd.Series) -> list[np.ndarray]:
    """One integer per value, the same for equal values across all the columns (blank is a value).

    Text is encoded by arrow in one hash pass over all the columns; anything else by pandas, as
    equality of objects.
    """
    sizes = np.cumsum([len(c) for c in columns])[:-1]
    if all(_is_text(c) for c in columns):
        text = pa.concat_arrays([_arrow_nullable(c) for c in columns])
        codes = text.dictionary_encode(null_encoding="encode").indices.to_numpy().astype(np.int64)
    else:
        values = np.concatenate([np.asarray(c, dtype=object) for c in columns])
        codes = pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)
    return np.split(codes, sizes)


def _first(codes: np.ndarray) -> np.ndarray:
    """Whether each value (an integer code) is the first of its kind, as drop_duplicates keeps it."""
    first = np.full(codes.max(initial=0) + 1, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first[codes] == np.arange(len(codes))


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
    elif _is_text(values) and _repeats(values):
        # Hash each distinct value once and spread the hashes by code: hash_array works value by
        # value, so this is the same as hashing every row, and a column of few distinct values
        # (type, sku, locations, ...) costs one factorize. Blanks get code -1, which picks the ""
        # appended last, as the conversion below would give them.
        codes, uniques = pd.factorize(values)
        canonical = np.append(np.asarray(uniques, dtype=object), "")
        return pd.util.hash_array(canonical, categorize=False)[codes], blank
    elif _is_text(values):  # all but distinct (movement_id): the strings as they are, "" for a blank
        canonical = _arrow_text(values).to_numpy(zero_copy_only=False)
    else:  # not plain text (numbers, mixed objects): each value as its str()
        canonical = values.astype(object).where(~blank, "").astype(str).to_numpy(dtype=object)
    return pd.util.hash_array(canonical, categorize=False), blank


def _repeats(values: pd.Series, sample: int = 10_000) -> bool:
    """Whether values repeat enough for hashing the distinct ones to pay (judged on the first ones).

    Either way the hashes are the same; a factorize of a million distinct strings only costs more
    than it saves.
    """
    head = values.iloc[:sample]
    return head.nunique(dropna=False) <= len(head) // 2


def _name_salt(name: str) -> np.uint64:
    return np.uint64(pd.util.hash_array(np.array([name], dtype=object), categorize=False)[0])


def _splitmix(x: np.ndarray) -> np.ndarray:
    """A strong 64-bit mix, so a sum of mixed hashes keeps the whole value's information."""
    x = x + _MIX
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _hex(matrix: np.ndarray) -> pd.Series | np.ndarray:
    """Each row of a uint8 matrix as a lower-case hex string, without a Python loop per row.

    The hex digits are written into one buffer and read by arrow as fixed-width strings, so no
    Python string is made: the column is arrow-backed text, as pandas makes of strings anyway.
    """
    n, width = matrix.shape
    nibbles = np.empty((n, width * 2), dtype=np.uint8)
    nibbles[:, 0::2] = _HEX[matrix >> 4]
    nibbles[:, 1::2] = _HEX[matrix & 15]
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width * 2), n, [None, pa.py_buffer(nibbles)])
    return _as_pandas(fixed.cast(pa.large_binary()).cast(pa.large_string()))


def _is_text(values: pd.Series) -> bool:
    """Whether every non-blank value is a str (an arrow/pandas string column, or objects that are)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    if isinstance(values.dtype, pd.ArrowDtype):
        return pa.types.is_string(values.dtype.pyarrow_dtype) or pa.types.is_large_string(values.dtype.pyarrow_dtype)
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _arrow_text(values: pd.Series) -> pa.Array:
    """The values as arrow text, "" where blank: `values.astype(object).where(notna, "").astype(str)`."""
    return _arrow_nullable(values).fill_null("")


def _arrow_nullable(values: pd.Series) -> pa.Array:
    """The values as arrow text (large_string), null where blank.

    A text column goes to arrow directly (no copy for an arrow-backed one); anything else through
    str(), as `astype(str)` gives it, so a number in an object column reads as before.
    """
    if isinstance(values.dtype, (pd.StringDtype, pd.ArrowDtype)) and _is_text(values):
        return pa.chunked_array(pa.array(values, from_pandas=True)).combine_chunks().cast(pa.large_string())
    blank = values.isna().to_numpy(dtype=bool)
    if _is_text(values):  # objects, all str
        return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), mask=blank)
    as_str = values.astype(object).where(~blank, "").astype(str).to_numpy(dtype=object)
    return pa.array(as_str, type=pa.large_string(), mask=blank)


def _large(separator: str) -> pa.Scalar:
    """A separator for arrow's join kernels, which want it of the type of the text joined."""
    return pa.scalar(separator, type=pa.large_string())


def _as_pandas(text: pa.Array) -> pd.Series | np.ndarray:
    """Arrow text as the column pandas would make of the same strings (arrow-backed `str` in
    pandas 3, so no copy), not as Python objects. No text is an empty object array, the column
    pandas makes of an empty list."""
    return text.to_pandas() if len(text) else np.array([], dtype=object)


def _code(value: object) -> str:
    """A movement ID as the validator keeps codes (parse.canonical_code; 12.0 -> "12")."""
    from .contract.parse import canonical_code

    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return canonical_code(str(value))


__all__ = ["BLOCK_CHARS", "ENTRY", "ENTRY_CHARS", "FINGERPRINTED", "LEDGER", "SHEET_NAME", "LastRefresh", "fingerprints",
           "ledger_check", "ledger_sheet", "pack", "raw_movement_ids", "read_seen", "seen_from_frame",
           "seen_from_rows", "unpack"]
