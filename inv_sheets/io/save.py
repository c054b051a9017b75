"""Saving a workbook: the new file is built beside it, checked, then put in its place.

`save_atomically` writes a temp file in the same directory, fsyncs it, re-opens and verifies it,
checks that the source has not changed since it was read, then os.replace. On any failure the
original file is left as it was.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..contract.issues import WorkbookChangedError, WorkbookLockedError, WriteError
from .package import Package, compressed_bytes


@dataclass(frozen=True)
class FileState:
    """What the file was when it was read: compared again just before it is replaced."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileState:
        st = os.stat(path)
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
    """Temp file, fsync, verify, re-check the source, (backup,) replace. The target is never truncated.

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
            copied = pkg.save(out)
            out.flush()
            os.fsync(out.fileno())
        _verify(tmp, check_parts, copied)
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
        _replace(tmp, target)
        tmp = None
        _fsync_dir(target.parent)
        return size, kept
    except OSError as e:
        reason = "the disk is full" if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) else (e.strerror or str(e))
        raise WriteError(f"could not write {target.name}: {reason}; the workbook is unchanged") from e
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


TEMP_PREFIX = ".~invsheets-"
STALE_TEMP_SECONDS = 3600


def _remove_stale_temps(folder: Path) -> None:
    """Temp files an interrupted write left behind (the workbook itself was never touched)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in folder.glob(TEMP_PREFIX + "*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # someone else's, or already gone


def _verify(path: Path, sheet_parts: list[str], copied: dict[str, int]) -> None:
    """Re-open what was written: every member's bytes, and the new sheets parse as XML.

    A written member is inflated to its end (which checks its CRC); a member copied as it was
    stored is checked on its deflated bytes against `copied` (their CRC-32), without inflating it.
    """
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename in copied:
                    if zlib.crc32(compressed_bytes(z, info)) != copied[info.filename]:
                        raise WriteError(f"the written file is damaged at {info.filename}; the workbook is unchanged")
                    continue
                # A parser whose target has no element callbacks checks well-formedness at C speed,
                # without building a tree of a few million cells.
                parser = (etree.XMLParser(target=_Discard(), resolve_entities=False, no_network=True)
                          if info.filename in sheet_parts else None)
                with z.open(info) as stream:
                    for block in iter(lambda: stream.read(1 << 20), b""):
                        if parser is not None:
                            parser.feed(block)
                if parser is not None:
                    parser.close()
    except (zipfile.BadZipFile, zlib.error, etree.XMLSyntaxError) as e:
        raise WriteError(f"the written file did not verify ({e}); the workbook is unchanged") from e


class _Discard:
    """A parser target that keeps nothing."""

    def close(self) -> None:
        return None


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
