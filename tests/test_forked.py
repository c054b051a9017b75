"""Sheets rendered in a forked copy of the process: the same bytes as rendering them all here,
whatever the copy does."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from inv_sheets.io import forked, write
from inv_sheets.io.forked import Forked
from inv_sheets.io.styles import CellStyle
from inv_sheets.refresh import refresh

pytestmark = pytest.mark.skipif(not forked.AVAILABLE, reason="a forked copy is made on Linux only")

DEMO = Path(__file__).parent.parent / "samples" / "demo-store.xlsx"
FIRST_DAY, NEXT_DAY = "2026-01-01", "2026-01-02"


# The forked copy -----------------------------------------------------------------------------------
def test_the_copy_runs_each_job_and_a_failing_one_is_left_to_the_caller():
    parent = os.getpid()

    def fails():
        raise ValueError("not here")

    started = Forked.start([os.getpid, fails, lambda: "third"])
    results = started.results(patience=30)
    assert results[0] != parent and results[1] is None and results[2] == "third"


def test_a_copy_that_does_not_finish_in_time_is_stopped_and_gives_nothing():
    started = Forked.start([lambda: time.sleep(30) or "late"])
    clock = time.monotonic()
    assert started.results(patience=0.3) == {}
    assert time.monotonic() - clock < 10
    with pytest.raises(ChildProcessError):  # stopped and waited for: nothing is left running
        os.waitpid(started._pid, os.WNOHANG)


def test_no_copy_where_it_is_turned_off(monkeypatch):
    monkeypatch.setenv("INV_SHEETS_NO_FORK", "1")
    assert Forked.start([lambda: 1]) is None


# The writer ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    """The demo store refreshed once: every output sheet is in it, so the next refresh can render
    some of them ahead."""
    path = shutil.copyfile(DEMO, tmp_path_factory.mktemp("first") / "store.xlsx")
    refresh(path, as_of=FIRST_DAY)
    return path


@pytest.fixture(scope="module")
def alone(refreshed, tmp_path_factory) -> dict[str, bytes]:
    """The next day's refresh with every sheet rendered in this process."""
    path = shutil.copyfile(refreshed, tmp_path_factory.mktemp("alone") / "store.xlsx")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INV_SHEETS_NO_FORK", "1")
        refresh(path, as_of=NEXT_DAY)
    return _members(path)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:  # docProps/core.xml holds the time of writing
        return {i.filename: z.read(i) for i in z.infolist() if i.filename != "docProps/core.xml"}


def _next_day(refreshed: Path, tmp_path: Path, monkeypatch) -> tuple[dict[str, bytes], list[bool]]:
    """The next day's refresh with sheets rendered ahead however small they are; the bytes, and
    for each sheet offered ahead whether the copy's rendering was taken."""
    monkeypatch.setattr(write, "AHEAD_MIN_SECONDS", 0.0)
    monkeypatch.delenv("INV_SHEETS_NO_FORK", raising=False)
    taken: list[bool] = []
    take = write._Ahead.take

    def spy(self, name, placed):
        done = take(self, name, placed)
        if name in self._assumed:
            taken.append(done is not None)
        return done

    monkeypatch.setattr(write._Ahead, "take", spy)
    path = shutil.copyfile(refreshed, tmp_path / "store.xlsx")
    refresh(path, as_of=NEXT_DAY)
    return _members(path), taken


def test_sheets_rendered_ahead_are_the_bytes_rendered_here(refreshed, alone, tmp_path, monkeypatch):
    members, taken = _next_day(refreshed, tmp_path, monkeypatch)
    assert members == alone
    assert len(taken) >= 5 and all(taken)


def test_a_sheet_the_copy_could_not_render_is_rendered_here(refreshed, alone, tmp_path, monkeypatch):
    parent, rendered = os.getpid(), write._rendered

    def fails_in_the_copy(data, *args):
        if os.getpid() != parent and data.name == "Returns":
            raise RuntimeError("the copy fails here")
        return rendered(data, *args)

    monkeypatch.setattr(write, "_rendered", fails_in_the_copy)
    members, taken = _next_day(refreshed, tmp_path, monkeypatch)
    assert members == alone
    assert taken.count(False) == 1


def test_sheets_after_a_style_the_copy_added_are_rendered_here(refreshed, alone, tmp_path, monkeypatch):
    """A style new to the workbook gets the next number in write order, which only the writing
    process follows: what the copy rendered with it, or after it, is not taken."""
    parent, render = os.getpid(), write.render

    def adds_a_style_in_the_copy(data, **kwargs):
        if os.getpid() != parent and data.name == "Pick List":
            kwargs["style"](CellStyle(num_fmt="0.000", fill="red", bold=True))
        return render(data, **kwargs)

    monkeypatch.setattr(write, "render", adds_a_style_in_the_copy)
    members, taken = _next_day(refreshed, tmp_path, monkeypatch)
    assert members == alone
    first = taken.index(False)
    assert any(taken[:first]) and not any(taken[first:])


def test_a_copy_that_never_answers_costs_time_not_bytes(refreshed, alone, tmp_path, monkeypatch):
    parent, rendered = os.getpid(), write._rendered

    def hangs_in_the_copy(data, *args):
        if os.getpid() != parent:
            time.sleep(60)
        return rendered(data, *args)

    monkeypatch.setattr(write, "_rendered", hangs_in_the_copy)
    monkeypatch.setattr(write._Ahead, "PATIENCE", 0.5)
    clock = time.monotonic()
    members, taken = _next_day(refreshed, tmp_path, monkeypatch)
    assert members == alone
    assert not any(taken) and time.monotonic() - clock < 30


def test_a_write_that_fails_midway_leaves_no_copy_running(refreshed, tmp_path, monkeypatch):
    monkeypatch.setattr(write, "AHEAD_MIN_SECONDS", 0.0)
    monkeypatch.delenv("INV_SHEETS_NO_FORK", raising=False)
    started, start = [], Forked.start

    def remember(jobs):
        forked = start(jobs)
        started.append(forked)
        return forked

    def breaks(*args, **kwargs):
        raise OSError("the disk is full")

    monkeypatch.setattr(write.Forked, "start", remember)
    monkeypatch.setattr(write.Package, "write", breaks)
    path = shutil.copyfile(refreshed, tmp_path / "store.xlsx")
    before = path.read_bytes()
    with pytest.raises(OSError, match="the disk is full"):
        refresh(path, as_of=NEXT_DAY)
    assert path.read_bytes() == before
    assert started and started[0] is not None
    with pytest.raises(ChildProcessError):  # stopped and waited for
        os.waitpid(started[0]._pid, os.WNOHANG)


def test_without_a_temp_folder_to_write_in_the_caller_does_the_work(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(forked.tempfile, "TemporaryFile", full)
    assert Forked.start([lambda: 1]) is None
