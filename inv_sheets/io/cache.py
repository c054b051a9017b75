"""A cached parse of a workbook's big sheets, reused while the sheet's bytes stay the same.

Reading a million-row Movements sheet takes seconds; most refreshes add rows to other sheets, or
none at all. An .xlsx file is a zip package, so whether a sheet changed is known from a hash of its
compressed bytes, without inflating it. A sheet's cells depend on
three parts: the sheet itself, the shared-strings table its text cells point into, and the cell
styles that say which numbers are dates. The cache key is:

    sheet part     a SHA-256 of its bytes as stored (not the zip directory's CRC-32 and size, which
                   an edit can keep: see part_digest)
    date system    the workbook's (1900 or 1904): the readers turn serial numbers into dates by it
    shared strings the same (the toolkit's writer never touches that part, so a refresh keeps it;
                   any edit in Excel that adds or removes text changes it)
    styles         the number format of each cell style, compared as a prefix: the writer only
                   appends styles, so the formats the sheet's cells use stay those of the cache
    versions       the cache format, inv-sheets, fastexcel and python-calamine (reader behaviour)

What is cached is what the reader made of the sheet: the Table (raw cells by canonical column,
indexed by Excel row, with letters and headers) and the reading findings for that sheet; and,
beside it, the sheet as typed (validate.parse), keyed on the table's `source` and the date order
and system typing used. The ledger and the features still run on every refresh, and so do the
cross-sheet checks, but on ledger rows an earlier refresh checked with every other input the same
(below), so a changed setting or another sheet's edit is always taken into account.

A refresh also leaves the findings of its comparison with the remembered fingerprints, keyed on
the Movements sheets' source (`source`: what the cells were read from), how they were typed, the
rows accepted and the fingerprint part it wrote (integrity.LastRefresh says why that is enough),
and the fingerprints it wrote, as they are and as packed into the hidden sheet's cells, so the
next refresh neither reads them back from the file nor packs a grown ledger's old entries again.
And what the cross-sheet checks found on the ledger's rows, keyed on how the Movements sheet was
typed and everything else those checks read (rules.checks.Kept), so a refresh after the day's
append checks the new rows alone.

And it leaves its report, keyed on the file it wrote: the name and stored-bytes SHA-256 of every
part of the package and the as-of day asked for and the day it ran. A
refresh of a file whose parts are all as that refresh left them, asked on the same day for the
same as-of day, would compute the same sheets and write the same bytes: it returns that report
and leaves the file alone (refresh.refresh).

Where: one file per workbook and sheet in the user's cache folder, `$INV_SHEETS_CACHE_DIR`, else
`$XDG_CACHE_HOME/inv-sheets`, else `~/.cache/inv-sheets` (on Windows `%LOCALAPPDATA%\\inv-sheets`).
The file name is a hash of the workbook's absolute path and the sheet name, so a new version of a
sheet replaces the old entry instead of piling up beside it; entries unused for UNUSED_DAYS days
are removed (a copied or renamed workbook leaves its old ones). The rows of a big sheet's read,
its typing and the fingerprints are kept in chunk files beside its entry, written once each: a
sheet that grew by the day's rows adds a chunk of them instead of writing a million rows again
(see _save_rows). Nothing is written into the workbook.
`INV_SHEETS_CACHE=off` turns the cache off. The files are Python pickles of the user's own data
written by the user's own process, in a folder only the user can write to; a file that is not the
user's own, sits in a folder others can write to, or cannot be read is ignored and rewritten.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import re
import secrets
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from ..contract.book import Table
from ..contract.issues import Issue, Report
from .guard import UNREADABLE
from .package import seek_to_data

FORMAT = 5  # bump when what is cached changes shape
MIN_PART_BYTES = 512 << 10  # sheets smaller than this (inflated, some 5,000 rows) read about as fast as a cache file loads
UNUSED_DAYS = 30  # entries not used for this long are removed (copies and renamed files leave some)
REFRESHED = "\0refresh"  # the entry name of a workbook's last refresh report (no sheet has a NUL)
TYPED = "\0typed "  # + a sheet's name: the entry of that sheet as typed
CHECKED = "\0fingerprints"  # the entry name of the last comparison with the remembered fingerprints


@dataclass(frozen=True)
class Key:
    """What a cached sheet must match: an exact digest, and the cell formats it was read with."""

    digest: str
    formats: tuple[str, ...]


@dataclass
class Entry:
    """A cached sheet: the Table as read and the findings reading it produced."""

    table: Table | None
    issues: list[Issue] = field(default_factory=list)
    mark: object = None  # where its rows ended in the sheet's XML (io.tail.Mark), when it was read whole
    digest: str | None = None  # the key it was kept under (Key.digest)


def enabled() -> bool:
    return os.environ.get("INV_SHEETS_CACHE", "").strip().lower() not in ("0", "off", "no", "false")


def cache_dir() -> Path:
    """The folder cached sheets live in (see the module docstring)."""
    if os.environ.get("INV_SHEETS_CACHE_DIR"):
        return Path(os.environ["INV_SHEETS_CACHE_DIR"])
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "inv-sheets"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "inv-sheets"


def sheet_key(zf: zipfile.ZipFile, part: str, date1904: bool = False) -> Key | None:
    """The key of a sheet part read in the given date system, or None when it is too small to be
    worth caching (or caching is off). The date system is the workbook's, not the sheet's: the
    same serial numbers are other dates once it is switched."""
    if not enabled():
        return None
    try:
        info = zf.getinfo(part)
    except KeyError:
        return None
    if info.file_size < MIN_PART_BYTES:
        return None
    strings = next((i for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.xml"), None)
    try:
        fields = [str(FORMAT), _versions(), part_digest(zf, info), part_digest(zf, strings) if strings else "-",
                  f"date1904={date1904}"]
        formats = cell_formats(zf)
    except UNREADABLE:
        return None  # damage is reported by the reader that meets it
    return Key(hashlib.sha256("|".join(fields).encode()).hexdigest(), formats)


def part_digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A SHA-256 of a part's bytes as stored (still compressed), with how they are compressed.

    Not the CRC-32 of the zip directory: an edit can keep a part's CRC and size (whitespace moved
    between attributes), and a cache keyed on them would then hand back the old cells. Inflating
    is a function of the stored bytes, so equal digests mean equal parts; hashing the stored bytes
    rather than the inflated ones reads a fifth as much (a full ledger sheet: see docs/performance.md).
    """
    h = hashlib.sha256(f"{info.compress_type}:{info.file_size}:".encode())
    fp = zf.fp
    if fp is None:
        raise zipfile.BadZipFile("the package is closed")
    seek_to_data(fp, info)
    left = info.compress_size
    while left > 0:
        block = fp.read(min(left, 1 << 20))
        if not block:
            raise zipfile.BadZipFile(f"{info.filename} is cut short")
        h.update(block)
        left -= len(block)
    return h.hexdigest()


def source(key: Key, sheet: str) -> str:
    """The source of a table read under `key` from the sheet named `sheet` (book.Table.source):
    its cells are a function of the sheet part, the shared strings, the cell formats and the
    readers, and the sheet's name is where its findings point."""
    return digest(key.digest, *key.formats, sheet)


def digest(*fields: str) -> str:
    """One digest of several text fields (none holds a NUL)."""
    return hashlib.sha256("\0".join(fields).encode()).hexdigest()


def cell_formats(zf: zipfile.ZipFile) -> tuple[str, ...]:
    """The number format of each cell style (cellXfs) in order: a custom code, or "#<id>" built in."""
    try:
        xml = zf.read("xl/styles.xml")
    except KeyError:
        return ()
    custom = {m.group(1): m.group(2) for m in
              re.finditer(rb'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', xml)}
    section = re.search(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", xml, re.DOTALL)
    if section is None:
        return ()
    formats = []
    for xf in re.finditer(rb"<(?:\w+:)?xf\b([^>]*)>", section.group(0)):
        found = re.search(rb'numFmtId="(\d+)"', xf.group(1))
        fmt_id = found.group(1) if found else b"0"
        formats.append(custom.get(fmt_id, b"#" + fmt_id).decode("utf-8", "replace"))
    return tuple(formats)


def entry_path(workbook: str | os.PathLike, sheet: str) -> Path:
    """The cache file of one sheet of one workbook."""
    name = hashlib.sha256(f"{os.path.abspath(workbook)}\0{sheet}".encode()).hexdigest()[:32]
    return cache_dir() / f"{name}.pickle"


def load(workbook: str | os.PathLike, sheet: str, key: Key) -> Entry | None:
    """The cached read of a sheet if its key still matches, else None."""
    found = _load_rows(entry_path(workbook, sheet), key.digest)
    if found is None:
        return None
    stored, rows = found
    formats = tuple(stored.get("formats", ()))
    if key.formats[:len(formats)] != formats:  # a style the sheet may use now shows another format
        return None
    return Entry(_with_rows(stored.get("table"), rows), list(stored["issues"]), digest=key.digest)


def save(workbook: str | os.PathLike, sheet: str, key: Key, table: Table | None, issues: list[Issue],
         mark: object = None, extends: str | None = None) -> bool:
    """Store a sheet's read; False (and nothing left behind) when the cache folder is not writable.

    `extends` is the key of the entry whose table's rows are this table's first rows (a sheet read
    as its last read and the rows added below it): only the rows after them are written."""
    rows = table.data if table is not None else pd.DataFrame()
    kept = dataclasses.replace(table, data=rows.iloc[:0]) if table is not None else None
    return _save_rows(entry_path(workbook, sheet),
                      {"digest": key.digest, "formats": key.formats, "table": kept, "issues": list(issues),
                       "mark": mark, "reader": _reader()}, rows, extends)


def load_last(workbook: str | os.PathLike, sheet: str, key: Key) -> Entry | None:
    """The last read of a sheet whose part has changed since (its key no longer matches), if the
    same reader made it with cell formats the current ones begin with: for io.tail to read only
    the rows added, or read.earlier to compare row by row."""
    found = _load_rows(entry_path(workbook, sheet))
    if found is None or found[0].get("reader") != _reader():
        return None
    stored, rows = found
    formats = tuple(stored.get("formats", ()))
    table = _with_rows(stored.get("table"), rows)
    if key.formats[:len(formats)] != formats or not isinstance(table, Table) or table.source is None:
        return None
    return Entry(table, list(stored.get("issues", [])), stored.get("mark"), stored["digest"])


def _with_rows(table: object, rows: pd.DataFrame) -> object:
    return dataclasses.replace(table, data=rows) if isinstance(table, Table) else table


def refresh_key(workbook: str | os.PathLike, as_of: object) -> str | None:
    """What a refresh of `workbook` asked for `as_of` today depends on, as one digest (see the
    module docstring); None when caching is off or the file is not a readable zip package."""
    if not enabled():
        return None
    try:
        with zipfile.ZipFile(workbook) as zf:
            parts = sorted(f"{i.filename}\0{part_digest(zf, i)}" for i in zf.infolist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    asked = f"as_of={as_of!r}\0today={date.today().isoformat()}"
    return hashlib.sha256("\n".join([str(FORMAT), _versions(), asked, *parts]).encode()).hexdigest()


def load_refresh(workbook: str | os.PathLike, key: str) -> Report | None:
    """The report of the refresh that left `workbook` as it is now (same key), else None."""
    stored = _load(entry_path(workbook, REFRESHED), key)
    report = stored.get("report") if stored else None
    return report if isinstance(report, Report) else None


def save_refresh(workbook: str | os.PathLike, key: str, report: Report) -> bool:
    """Remember the report of the refresh that just wrote `workbook` (its key taken after the write)."""
    return _save(entry_path(workbook, REFRESHED), {"digest": key, "report": report})


def load_typed(workbook: str | os.PathLike, sheet: str, key: str) -> tuple[pd.DataFrame, list[Issue]] | None:
    """A sheet as typed before (the frame and the findings typing made), if `key` still matches."""
    found = _load_rows(entry_path(workbook, TYPED + sheet), key)
    if found is None or not isinstance(found[0].get("issues"), list):
        return None
    return found[1], list(found[0]["issues"])


def save_typed(workbook: str | os.PathLike, sheet: str, key: str, frame: pd.DataFrame, issues: list[Issue],
               extends: str | None = None) -> bool:
    """Store a sheet as typed; `extends`: the key of a typing whose rows are this frame's first (see save)."""
    return _save_rows(entry_path(workbook, TYPED + sheet), {"digest": key, "issues": list(issues)}, frame, extends)


def load_check(workbook: str | os.PathLike, key: str) -> list[Issue] | None:
    """The findings of the fingerprint comparison whose inputs had this key, else None
    (integrity.LastRefresh says what the key covers)."""
    stored = _load(entry_path(workbook, CHECKED), key)
    issues = stored.get("issues") if stored else None
    return list(issues) if isinstance(issues, list) else None


def save_check(workbook: str | os.PathLike, key: str, issues: list[Issue]) -> bool:
    return _save(entry_path(workbook, CHECKED), {"digest": key, "issues": list(issues)})


SEEN = "\0seen"  # the fingerprints a refresh wrote, under a name of their own
SEEN_IN = "\0seen in"  # that name, under the name and digest of the part they were written to
PACKED = "\0packed"  # how they were packed into the sheet's cells (integrity.Packed), under the same name
ROW_CHECKS = "\0row checks"  # what the cross-sheet checks found on the ledger's rows (rules.checks.Kept)


def load_value(workbook: str | os.PathLike, entry: str, key: str) -> object | None:
    """A value kept under `entry` for this workbook, if it was kept under `key`."""
    path = entry_path(workbook, entry)
    stored = _load(path, key)
    if stored is None:
        return None
    return _rows(path, stored) if "chunks" in stored else stored.get("value")


def save_value(workbook: str | os.PathLike, entry: str, key: str, value: object, extends: str | None = None) -> bool:
    """Keep `value` under `entry`; a frame in chunks of rows, `extends` as for save."""
    if isinstance(value, pd.DataFrame):
        return save_rows(workbook, entry, key, value, {}, extends)
    return _save(entry_path(workbook, entry), {"digest": key, "value": value})


def load_rows(workbook: str | os.PathLike, entry: str, key: str) -> tuple[pd.DataFrame, dict] | None:
    """Rows kept under `entry` by save_rows, and what was kept with them, if kept under `key`."""
    found = _load_rows(entry_path(workbook, entry), key)
    extra = found[0].get("extra") if found else None
    return (found[1], extra) if isinstance(extra, dict) else None


def save_rows(workbook: str | os.PathLike, entry: str, key: str, rows: pd.DataFrame, extra: dict,
              extends: str | None = None) -> bool:
    """Keep `rows` in chunks under `entry`, with `extra` (a small dict); `extends` as for save."""
    return _save_rows(entry_path(workbook, entry), {"digest": key, "extra": dict(extra)}, rows, extends)


def _load(path: Path, digest: str) -> dict | None:
    """A cache file's contents if it is safe to load and holds `digest`, else None."""
    stored = _unpickle(path, digest)
    if stored is None:
        return None
    try:
        os.utime(path)  # in use: not pruned
    except OSError:
        pass
    return stored


def _unpickle(path: Path, digest: str | None = None) -> dict | None:
    """A cache file's contents if it is safe to load (see _private) and is a cache entry, else None;
    with `digest`, None as well when the entry holds another.

    A file is two pickles: the entry's digest, then the entry. A refresh after an append asks for
    the grown sheet's key first and then for the entry as it was; reading the digest alone first
    spares unpickling a full sheet's entry (some 150 MB) twice.
    """
    if not _private(path):
        return None
    try:
        with open(path, "rb") as fh:
            held = pickle.load(fh)
            if not isinstance(held, str) or (digest is not None and held != digest):
                return None
            stored = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    return stored if isinstance(stored, dict) and stored.get("digest") == held else None


def _save(target: Path, payload: dict) -> bool:
    """Write a cache file atomically; False (and nothing left behind) when the folder is not writable."""
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _prune(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(payload["digest"], fh, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError):
        return False
    return True


# Rows kept in chunks. A big sheet's read and its typing grow by the day's rows; rewriting a
# million rows of them every morning to keep a few hundred more cost about a second at a full
# ledger. So their rows are kept in chunk files that are written once and never changed, and the
# entry's own file lists its chunks: a grown sheet adds a chunk of its new rows. An entry of
# MAX_CHUNKS chunks is written again as one, so a load reads a few files, not one per day.
CHUNK = ".chunk"
MAX_CHUNKS = 8


def _save_rows(path: Path, payload: dict, rows: pd.DataFrame, extends: str | None) -> bool:
    """Write `payload` to `path` with `rows` kept in chunks. When `extends` is the digest the entry
    at `path` holds, its rows are `rows`' first ones (the caller's word): only those after them
    go in a new chunk."""
    chunks: list[tuple[str, int]] = []
    held = _unpickle(path, extends) if extends is not None else None
    if held is not None and _chunks(held) and len(held["chunks"]) < MAX_CHUNKS:
        chunks = list(held["chunks"])
    start = sum(n for _, n in chunks)
    if start > len(rows):
        chunks, start = [], 0
    if start < len(rows) or not chunks:  # the first chunk is written even empty: it holds the columns' types
        name = f"{path.stem}.{secrets.token_hex(8)}{CHUNK}"
        if not _save(path.parent / name, {"digest": name, "rows": rows.iloc[start:]}):
            return False
        chunks.append((name, len(rows) - start))
    saved = _save(path, {**payload, "chunks": chunks})
    listed = {name for name, _ in chunks} if saved else set()
    for old in path.parent.glob(f"{path.stem}.*{CHUNK}"):  # chunks no entry lists any more
        if old.name not in listed:
            _unlink(old)
    return saved


def _load_rows(path: Path, digest: str | None = None) -> tuple[dict, pd.DataFrame] | None:
    """The entry at `path` (holding `digest`, when given) and its rows, else None; a chunk that is
    missing or damaged (another refresh of the workbook may have folded it away) is a miss."""
    stored = _load(path, digest) if digest is not None else _unpickle(path)
    rows = _rows(path, stored) if stored is not None else None
    return (stored, rows) if rows is not None else None


def _rows(path: Path, stored: dict) -> pd.DataFrame | None:
    """The rows of the entry `stored` (read from `path`) from its chunks, else None."""
    if not _chunks(stored):
        return None
    parts = []
    for name, n in stored["chunks"]:
        chunk = _load(path.parent / name, name)
        rows = chunk.get("rows") if chunk else None
        if not isinstance(rows, pd.DataFrame) or len(rows) != n:
            return None
        parts.append(rows)
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def _chunks(stored: dict) -> bool:
    chunks = stored.get("chunks")
    return isinstance(chunks, list) and bool(chunks) and all(
        isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], str) and c[0].endswith(CHUNK) and "/" not in c[0]
        and "\\" not in c[0] and isinstance(c[1], int) for c in chunks)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """Remove entries unused for UNUSED_DAYS days (a copied or renamed workbook leaves its old ones)."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    for entry in (*folder.glob("*.pickle"), *folder.glob(f"*{CHUNK}")):
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            pass


def _private(path: Path) -> bool:
    """Whether a cache file is safe to unpickle: ours, in a folder nobody else can write to.

    Unpickling runs code, so a file another user could have planted or changed is never loaded
    (it is simply rewritten). Windows keeps the cache in the user's own profile folder.
    """
    if os.name != "posix":
        return True
    try:
        for part in (path, path.parent):
            st = part.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


def forget(workbook: str | os.PathLike, sheets: list[str]) -> None:
    """Drop the cached sheets of a workbook, their chunks of rows too (a missing entry is fine)."""
    for sheet in sheets:
        path = entry_path(workbook, sheet)
        _unlink(path)
        for chunk in path.parent.glob(f"{path.stem}.*{CHUNK}"):
            _unlink(chunk)


def _reader() -> str:
    """What a cached read depends on besides the workbook: the cache format and the readers' versions."""
    return f"{FORMAT}|{_versions()}"


@functools.cache
def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("inv-sheets", "fastexcel", "python-calamine", "pandas"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=-")
    return ",".join(found)
