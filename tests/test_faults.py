"""Faults during a refresh: a killed process, a full disk, a locked, read-only or changing file.

The promise (DESIGN.md section 4): the workbook on disk is always either the original, byte for
byte, or the complete new one; when the refresh cannot finish it says why in one line.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from ooxml import problems

from inv_sheets.cli.main import main
from inv_sheets.contract.issues import WorkbookChangedError
from inv_sheets.refresh import refresh

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo-store.xlsx"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "INV_SHEETS_CACHE": "off"}


def _refresh_process(path: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inv_sheets", "refresh", str(path), "-q"], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _is_complete_refresh(path: Path) -> bool:
    """A whole workbook with the toolkit's sheets in it, structurally clean."""
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        workbook = z.read("xl/workbook.xml")
    return b'name="Issues"' in workbook and b'name="_inv_ledger"' in workbook and problems(path) == []


@pytest.fixture(scope="module")
def demo_seconds(tmp_path_factory) -> float:
    """How long one refresh of the demo store takes here, start to end of the process."""
    path = tmp_path_factory.mktemp("timing") / "store.xlsx"
    shutil.copy(DEMO, path)
    started = time.perf_counter()
    proc = _refresh_process(path)
    proc.communicate(timeout=300)
    assert proc.returncode in (0, 1)
    return time.perf_counter() - started


def _kill_when(proc: subprocess.Popen, folder: Path, after_temp: float, timeout: float = 120) -> bool:
    """SIGKILL `after_temp` seconds after the writer's temp file appears; False if it never did."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if any(folder.glob(".~invsheets-*")):
            time.sleep(after_temp)
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.002)
    return False


# Seconds after the new file starts being written: the window where a crash could do harm.
KILL_DURING_WRITE = (0.0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.4)


@pytest.mark.parametrize("after", KILL_DURING_WRITE)
def test_sigkill_while_writing_leaves_the_old_file_or_the_whole_new_one(tmp_path: Path, after: float) -> None:
    path = tmp_path / "store.xlsx"
    shutil.copy(DEMO, path)
    original = path.read_bytes()
    proc = _refresh_process(path)
    killed = _kill_when(proc, tmp_path, after)
    proc.communicate(timeout=60)
    untouched = path.read_bytes() == original
    assert untouched or _is_complete_refresh(path), f"broken workbook after a kill {after}s into the write"
    if not killed:
        assert not untouched  # it finished before the kill: then it is the complete new workbook
    if after == KILL_DURING_WRITE[2]:  # the next refresh works: a temp file left by the kill is never the workbook
        assert CliRunner().invoke(main, ["refresh", str(path), "-q"]).exit_code in (0, 1)
        assert _is_complete_refresh(path)


@pytest.mark.parametrize("fraction", (0.2, 0.6))
def test_sigkill_before_writing_leaves_the_file_as_it_was(tmp_path: Path, demo_seconds: float, fraction: float) -> None:
    path = tmp_path / "store.xlsx"
    shutil.copy(DEMO, path)
    original = path.read_bytes()
    proc = _refresh_process(path)
    time.sleep(demo_seconds * fraction)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert path.read_bytes() == original or _is_complete_refresh(path)


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    return apply


def test_a_full_disk_is_a_clear_error_and_the_original_stays(tmp_path: Path) -> None:
    path = tmp_path / "store.xlsx"
    shutil.copy(DEMO, path)
    original = path.read_bytes()
    proc = _refresh_process(path, preexec_fn=_limit_file_size(len(original) // 2))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, err
    assert err.strip().splitlines() == [err.strip()] and "Traceback" not in err
    assert "disk is full" in err
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["store.xlsx"], "a partial temp file was left behind"


def test_a_tiny_filesystem_runs_out_cleanly(tmp_path: Path) -> None:
    """The same on a real full filesystem, where one can be mounted (a 1 MB tmpfs)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs privileges); RLIMIT_FSIZE covers the same path")
    try:
        path = mount / "store.xlsx"
        shutil.copy(DEMO, path)  # ~0.6 MB: room for the original, not for the refreshed copy beside it
        original = path.read_bytes()
        result = CliRunner().invoke(main, ["refresh", str(path), "-q"])
        assert result.exit_code == 3 and "disk is full" in result.stderr
        assert path.read_bytes() == original
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def _open_in_excel(path: Path) -> None:
    (path.parent / f"~${path.name}").write_text("someone")


def _open_in_libreoffice(path: Path) -> None:
    (path.parent / f".~lock.{path.name}#").write_text("someone")


def _read_only(path: Path) -> None:
    path.chmod(0o444)


@pytest.mark.parametrize("make_unwritable, reason", [
    (_open_in_excel, "open in another program"),
    (_open_in_libreoffice, "open in another program"),
    (_read_only, "read-only"),
], ids=["open-in-excel", "open-in-libreoffice", "read-only"])
def test_a_workbook_that_cannot_be_written_is_refused(tmp_path: Path, make_unwritable, reason: str) -> None:
    path = tmp_path / "store.xlsx"
    shutil.copy(DEMO, path)
    make_unwritable(path)
    original = path.read_bytes()
    result = CliRunner().invoke(main, ["refresh", str(path), "-q"])
    assert result.exit_code == 3 and reason in result.stderr
    assert path.read_bytes() == original


def test_a_workbook_changed_while_refreshing_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "store.xlsx"
    shutil.copy(DEMO, path)
    theirs = DEMO.read_bytes() + b"\0"  # another program saved the file while we computed

    def save_underneath(step: str) -> None:
        if step == "features":
            path.write_bytes(theirs)

    with pytest.raises(WorkbookChangedError):
        refresh(path, progress=save_underneath)
    assert path.read_bytes() == theirs
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~invsheets-")]
