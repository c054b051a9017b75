"""Saving a workbook: the new file is built beside it, checked, then put in its place.

`save_atomically` writes a temp file in the same directory, fsyncs it, re-opens and verifies it,
checks that the source has not changed since it was read, then puts it in the workbook's place
(`put_in_place`). On any failure the original file is left as it was.

Putting it in place is a rename (os.replace) for a workbook with one name. A workbook with several
hard links (st_nlink > 1) is written over in place instead: a rename would give this name a new
file and leave every other name on the old one. Writing over a file is not atomic, so it is made
recoverable first:

1. the new workbook is complete and verified (the temp file above);
2. the workbook's bytes are copied to another temp file, fsynced, checked against what the command
   read (WorkbookChangedError otherwise), and only then linked under the recovery name beside it,
   `.~invsheets-<name>.recover`, and the folder fsynced. A link never replaces a file, so only one
   run writes a workbook in place at a time, and whatever is under that name is complete;
3. the workbook is written over from the temp file, cut to its length and fsynced. It stays the same
   file (inode), so every hard link, its mode, owner and extended attributes stay;
4. the recovery file and the temp file are removed.

The run holds an exclusive lock (flock) on the recovery file from before it has that name until it
is removed. If anything stops step 3 (a full disk, Ctrl-C, SIGTERM, any error), the workbook is
written back from the recovery file before the error goes on, with Ctrl-C and SIGTERM held until
that is done, so "the workbook is unchanged" stays true. A process that dies outright (SIGKILL, a
power cut) leaves the recovery file behind: the next command that reads or writes the workbook
(`recover`, called when a package is opened, checked for writing or its state taken) finds it
unlocked, writes the workbook back from it the same way, removes it and says so in one line (a
WorkbookRestored warning), then goes on. A second run finds the first one's file locked and is
refused in one line, whether it starts while the first writes or reaches its own step 2 then.

Why back and not forward: the temp file holds the new workbook whole, so a crashed write could be
finished instead; but a run that stops says "the workbook is unchanged" (or nothing at all), so the
workbook as it was is what the user expects, and the file under the recovery name is always whole,
which makes writing it back safe without asking. A crash just after step 3 is undone the same way.

The recovery file is found beside the name the workbook was written through: a command run through
another of its names does not look for it, until one runs through this name again. And a command
that opened the workbook just before another run started writing over it may find it damaged
(its zip checksums fail) instead of reading a mix: run it again.

Room: while the workbook is written over, the folder holds it, the new workbook and the recovery
copy. A disk that fills while the copy is made stops the write before the workbook is touched; one
that fills during step 3 gets the workbook written back into the space it had.

`--backup` still copies the workbook to its own new name first; the recovery file is apart from it
(it has a fixed name, which the lock and the next run need) and is removed when the write is done.

On a file system that gives no locks (NFS without its lock service) a workbook with several hard
links is replaced as before, and its other names keep the old content.

In-place writes are POSIX only. NTFS has hard links too, but Windows does not let a file that is
open be removed, which the locked recovery file above needs, and Excel's own save there replaces the
file, so the other names would lose the workbook at its next save in Excel anyway. On Windows a
workbook with several names is replaced like any other, and its other names keep the old content.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from lxml import etree

from ..contract.issues import WorkbookChangedError, WorkbookLockedError, WorkbookRestored, WriteError
from .package import DEFLATE_THREADS, Package, compressed_bytes

try:
    import fcntl
except ImportError:  # Windows: no in-place writes (see above)
    fcntl = None

IN_PLACE = fcntl is not None
TEMP_PREFIX = ".~invsheets-"
RECOVERY_SUFFIX = ".recover"
STALE_TEMP_SECONDS = 3600


@dataclass(frozen=True)
class FileState:
    """What the file was when it was read: compared again just before it is replaced. Taking it
    first undoes an in-place write that did not finish (`recover`).

    A file with several hard links, which is written over in place, is also known by a SHA-256 of
    its bytes, so the copy kept to write it back is checked to be what was read; a file with one
    name is replaced by a rename and is not read again (at a full ledger, 46 MB twice a refresh)."""

    size: int
    mtime_ns: int
    sha256: str | None

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileState:
        recover(path)
        st = os.stat(path)
        if st.st_nlink < 2:
            return cls(st.st_size, st.st_mtime_ns, None)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return cls(st.st_size, st.st_mtime_ns, digest.hexdigest())


def backup_path(path: Path) -> Path:
    """A new name beside `path` for its backup: store.bak-2026-12-07-143005.xlsx (-2, -3... if taken).

    Each backup gets its own name, so a later one never replaces an earlier one.
    """
    stem = f"{path.stem}.bak-{time.strftime('%Y-%m-%d-%H%M%S')}"
    candidate = path.with_name(stem + path.suffix)
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{stem}-{n}{path.suffix}")
        n += 1
    return candidate


def save_atomically(pkg: Package, source: Path, target: Path, expected: FileState | None, backup: bool,
                     check_parts: list[str]) -> tuple[int, Path | None]:
    """Temp file, fsync, verify, re-check the source, (backup,) put it in the target's place: a
    rename, or a recoverable write over it when it has other hard links (see the module docstring).

    A symlinked target is written through to the file it points at (the link stays a link), and the
    new file keeps the old one's mode, owner and extended attributes. Returns the size written and
    the backup's path (None without one)."""
    tmp: Path | None = None
    target = Path(os.path.realpath(target))
    try:
        _remove_stale_temps(target.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as out:
            try:
                copied = pkg.save(out, xml_parts=check_parts)
            except etree.XMLSyntaxError as e:
                raise WriteError(f"a written sheet is not well-formed XML ({e}); the workbook is unchanged") from e
            out.flush()
            os.fsync(out.fileno())
        _verify(tmp, copied)
        keep_mode = target if target.exists() else source
        os.chmod(tmp, stat.S_IMODE(keep_mode.stat().st_mode))
        _keep_owner_and_attributes(keep_mode, tmp)
        if expected is not None and FileState.of(source) != expected:
            raise WorkbookChangedError(f"{source.name} changed while it was being written; run again")
        kept = None
        if backup and target.exists():
            kept = backup_path(target)
            shutil.copy2(target, kept)
        size = tmp.stat().st_size
        same = expected is not None and Path(os.path.realpath(source)) == target
        put_in_place(tmp, target, expected.sha256 if same else None)
        return size, kept
    except OSError as e:
        raise WriteError(f"could not write {target.name}: {_reason(e)}; the workbook is unchanged") from e
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _keep_owner_and_attributes(old: Path, new: Path) -> None:
    """Give the new file the old one's owner and extended attributes (a refresh run as root must
    not leave the user a file they cannot save). What this process may not set is left as it is:
    a user cannot give a file away, and some attributes (security labels) are the system's."""
    st = old.stat()
    if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.chown(new, st.st_uid, st.st_gid)
        except OSError:
            pass
    if hasattr(os, "listxattr"):
        try:
            names = os.listxattr(old)
        except OSError:
            return  # a file system without extended attributes
        for name in names:
            try:
                os.setxattr(new, name, os.getxattr(old, name))
            except OSError:
                pass


def _remove_stale_temps(folder: Path) -> None:
    """Temp files an interrupted write left behind (the workbook itself was never touched)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in folder.glob(TEMP_PREFIX + "*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # someone else's, or already gone


def _verify(path: Path, copied: dict[str, int]) -> None:
    """Re-open what was written and check every member's bytes.

    A written member is inflated to its end and checked against the size and CRC-32 of the bytes
    that were deflated (already checked to be well-formed XML when they are a sheet), two at a
    time: ISA-L lets go of the interpreter while it inflates. A member copied as it was stored is
    checked on its deflated bytes against `copied` (their CRC-32), without inflating it.
    """
    from isal import isal_zlib

    try:
        with zipfile.ZipFile(path) as z:
            written = []
            for info in z.infolist():
                if info.filename not in copied:
                    written.append(info.filename)
                elif zlib.crc32(compressed_bytes(z, info)) != copied[info.filename]:
                    raise WriteError(f"the written file is damaged at {info.filename}; the workbook is unchanged")
        with ThreadPoolExecutor(max_workers=DEFLATE_THREADS) as pool:
            for _ in pool.map(lambda name: _inflate(path, name), written):
                pass
    except (zipfile.BadZipFile, zlib.error, isal_zlib.error) as e:
        raise WriteError(f"the written file did not verify ({e}); the workbook is unchanged") from e


def _inflate(path: Path, name: str) -> None:
    """Inflate one deflated member of the zip at `path` to its end: BadZipFile unless it ends
    there with the size and CRC-32 its directory entry records."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        stored = memoryview(compressed_bytes(z, info))
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"{name} was written without deflating it")
    from isal import isal_zlib

    inflater = isal_zlib.decompressobj(-15)  # about twice as fast as zlib's
    size = crc = 0
    for start in range(0, len(stored), 1 << 20):
        block = inflater.decompress(stored[start:start + (1 << 20)])
        size, crc = size + len(block), zlib.crc32(block, crc)
    if not inflater.eof or inflater.unused_data or size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"{name} does not inflate to the bytes that were written")


def put_in_place(new: Path, target: Path, expected: str | None = None) -> None:
    """Put the complete, verified file `new` where `target` is: a rename, or, when the target has
    other hard links, a write over it in place that can be undone (see the module docstring).
    `expected` is the SHA-256 the target must still have when it is written over."""
    if IN_PLACE and target.exists() and target.stat().st_nlink > 1:
        try:
            _write_in_place(new, target, expected)
            return
        except _NoLocks:
            pass  # nothing written yet: replaced like a workbook with one name
    _replace(new, target)
    _fsync_dir(target.parent)


class _NoLocks(Exception):
    """The file system gives no locks (NFS without its lock service): no in-place write there."""


def recovery_path(path: str | os.PathLike[str]) -> Path:
    """Where an in-place write keeps the workbook as it was: `.~invsheets-store.xlsx.recover` beside it."""
    path = Path(os.path.realpath(path))
    return path.with_name(f"{TEMP_PREFIX}{path.name}{RECOVERY_SUFFIX}")


def recover(path: str | os.PathLike[str]) -> None:
    """Undo an in-place write that did not finish (a recovery file left beside the workbook).

    The workbook is written back from it, in place, and it is removed; a WorkbookRestored warning
    says so. Raises WorkbookLockedError while another run is writing the workbook, and WriteError,
    naming the file that holds the workbook as it was, when it cannot be written back.
    """
    target = Path(os.path.realpath(path))
    recovery = recovery_path(target)
    while True:
        try:
            saved = open(recovery, "rb")
        except FileNotFoundError:
            return
        except OSError as e:
            raise WriteError(_stuck(target, recovery, e)) from e
        unknown = (f"{recovery} holds {target.name} as it was before a write that did not finish; "
                   f"if no inv-sheets is writing it, copy that file over {target.name}")
        with saved:
            if fcntl is None:  # written from another system: whether a run is writing cannot be told
                raise WorkbookLockedError(unknown)
            try:
                fcntl.flock(saved, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkbookLockedError(f"{target.name} is being written by another inv-sheets run; "
                                          "run again when it has finished") from None
            except OSError:
                raise WorkbookLockedError(unknown) from None
            if not _same_file(saved, recovery):
                continue  # written back and removed by another run meanwhile: look again
            if not zipfile.is_zipfile(saved):  # no file this module leaves: never written over the workbook
                raise WriteError(_stuck(target, recovery, "it is not a workbook"))
            try:
                _write_back(saved, target, recovery)
            except OSError as e:
                raise WriteError(_stuck(target, recovery, e)) from e
        warnings.warn(WorkbookRestored(f"{target.name}: a write that was interrupted has been undone; "
                                       "the workbook is as it was before it"), stacklevel=2)
        return


def _write_in_place(new: Path, target: Path, expected: str | None) -> None:
    """Steps 2 to 4 of the module docstring: keep the workbook as it was, write over it, let go."""
    recovery = recovery_path(target)
    with _keep_as_it_was(target, recovery, expected) as saved:
        try:
            with open(new, "rb") as source:
                _overwrite(target, source)
        except BaseException as e:
            try:
                _write_back(saved, target, recovery)
            except OSError as again:
                raise WriteError(_stuck(target, recovery, again, e)) from e
            raise
        with _signals_held():  # the new workbook is whole: its recovery file goes, all at once
            recovery.unlink()
            _fsync_dir(target.parent)


def _write_back(saved: BinaryIO, target: Path, recovery: Path) -> None:
    """The workbook as it was, from the recovery file, and that file removed: Ctrl-C and SIGTERM
    wait until both are done."""
    with _signals_held():
        _overwrite(target, saved)
        recovery.unlink()
        _fsync_dir(target.parent)


def _keep_as_it_was(target: Path, recovery: Path, expected: str | None) -> BinaryIO:
    """The workbook's bytes under the recovery name, complete and fsynced before they have it,
    locked by this run: the open file, to write the workbook back from."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    saved = os.fdopen(fd, "w+b")
    try:
        try:
            fcntl.flock(saved, fcntl.LOCK_EX)  # a new file: no one else can hold it
        except OSError as e:
            raise _NoLocks() from e
        digest = hashlib.sha256()
        with open(target, "rb") as workbook:
            for block in iter(lambda: workbook.read(1 << 20), b""):
                saved.write(block)
                digest.update(block)
        saved.flush()
        os.fsync(saved.fileno())
        if expected is not None and digest.hexdigest() != expected:
            raise WorkbookChangedError(f"{target.name} changed while it was being written; run again")
        _keep_owner_and_attributes(target, Path(name))  # whoever owns the workbook can read it back
        try:
            os.link(name, recovery)
        except FileExistsError:
            recover(target)  # another run's: refused while it writes, written back if it died
            raise WorkbookChangedError(f"{target.name} changed while it was being written; run again") from None
        _fsync_dir(target.parent)
    except BaseException:
        saved.close()
        raise
    finally:
        os.unlink(name)
    return saved


def _overwrite(target: Path, source: BinaryIO) -> None:
    """Write `source` over `target` from its first byte, cut it there and fsync: the same file, so
    every hard link shows the new bytes."""
    source.seek(0)
    with open(target, "r+b") as out:
        shutil.copyfileobj(source, out, 1 << 20)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def _same_file(opened: BinaryIO, path: Path) -> bool:
    """Whether `path` still names the file `opened` is."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(opened.fileno())
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _stuck(target: Path, recovery: Path, error: OSError | str, cause: BaseException | None = None) -> str:
    """One line for a workbook that may be half-written and could not be written back."""
    why = error if isinstance(error, str) else _reason(error)
    first = f"could not write {target.name} ({_reason(cause)})" if isinstance(cause, OSError) else \
        f"{target.name} was left half-written by a write that did not finish"
    return (f"{first}, and it could not be written back ({why}): {recovery} holds the workbook as it was; "
            f"copy that file over {target.name}")


def _reason(e: OSError) -> str:
    return "the disk is full" if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) else (e.strerror or str(e))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then arrive. Only the main thread can set
    handlers, and only it runs them: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])


def _replace(tmp: Path, target: Path) -> None:
    """os.replace, retried briefly on Windows where a reader may hold the file for a moment."""
    for attempt in range(5 if sys.platform == "win32" else 1):
        try:
            os.replace(tmp, target)
            return
        except PermissionError as e:
            if sys.platform != "win32" or attempt == 4:
                raise WorkbookLockedError(f"{target.name} is open in another program; close it and try again") from e
            time.sleep(0.2)


def _fsync_dir(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
