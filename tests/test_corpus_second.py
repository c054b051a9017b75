"""The second corpus (tests/corpus_second.py): refusals in one line, answers at the cell, and the
situations around a file (links, signals, pipes) that the first corpus did not try."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import corpus
import corpus_second
import openpyxl
import pytest
from test_corpus import COMMANDS, assert_refused, refused_in_one_line, run
from workbooks import make_workbook

from inv_sheets.close_period import close_period
from inv_sheets.contract.issues import CloseRefused
from inv_sheets.io import cache
from inv_sheets.rules.validate import load, parse

ROOT = Path(__file__).resolve().parents[1]


def _findings(path: Path) -> dict[str, set[str]]:
    result = run("validate", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    found: dict[str, set[str]] = {}
    for issue in json.loads(result.stdout)["issues"]:
        found.setdefault(issue["cell"], set()).add(issue["code"])
    return found


# Refused in one line ---------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [b for b in corpus_second.REFUSED if b is not corpus_second.too_many_rows],
                         ids=lambda b: b.__name__)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_unusable_packages_are_refused_in_one_line(tmp_path: Path, build, command: str) -> None:
    refused_in_one_line(tmp_path, build, command, corpus_second.REFUSED[build])


@pytest.mark.parametrize("build", [b for b in corpus_second.REFUSED if b is not corpus_second.too_many_rows],
                         ids=lambda b: b.__name__)
def test_unusable_packages_are_refused_in_one_line_when_their_sheets_are_worth_caching(tmp_path: Path, build,
                                                                                      monkeypatch) -> None:
    """A store's big sheets are keyed and scanned for the cache before they are read: damage met
    there (a part zipfile cannot inflate, damaged styles) is the reader's to report, in one line."""
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_PART_BYTES", 0)
    for command in ("validate", "refresh"):
        (tmp_path / command).mkdir()
        refused_in_one_line(tmp_path / command, build, command, corpus_second.REFUSED[build])


@pytest.mark.slow
def test_a_ledger_longer_than_a_sheet_is_refused_at_the_row_limit(tmp_path: Path) -> None:
    path = corpus_second.too_many_rows(tmp_path)
    before = path.read_bytes()
    assert len(before) < 8 << 20  # a few MB on disk, over a million rows inside
    for command in ("validate", "refresh"):
        result = run(command, str(path))
        assert_refused(result, path, before)
        assert "1,048,576 rows" in result.stderr


# Dates, settings, sheet names, messages --------------------------------------------------------------
def test_a_date_with_a_time_zone_is_a_finding_and_a_time_does_not_resolve_day_and_month(tmp_path: Path) -> None:
    path = corpus_second.zoned_dates(tmp_path)
    found = _findings(path)
    assert "not-a-date" in found["Movements!B5"] and "not-a-date" in found["Movements!B6"]
    assert "ambiguous-date" in found["Movements!B7"]
    refreshed = run("refresh", str(path), "-q")
    assert refreshed.exit_code in (0, 1) and refreshed.exception is None or isinstance(refreshed.exception, SystemExit)
    out = tmp_path / "clean.xlsx"
    normalised = run("normalise", str(path), "-o", str(out))
    assert normalised.exit_code == 0, normalised.output
    assert "B7" not in normalised.stdout  # an ambiguous date is never written as one reading of it


def test_settings_beyond_what_dates_can_hold_are_findings_not_overflows(tmp_path: Path) -> None:
    path = corpus_second.huge_settings(tmp_path)
    found = _findings(path)
    assert "bad-setting" in found["Settings!B3"] and "bad-setting" in found["Settings!B4"]
    result = run("refresh", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def test_a_sheet_named_like_the_ledger_with_words_after_it_is_the_users_own(tmp_path: Path) -> None:
    store, issues = parse(load(corpus_second.summary_sheet(tmp_path)))
    assert len(store.tables["Movements"]) == len(corpus.GOOD_MOVEMENTS)
    assert not [i for i in issues if i.sheet == "Movements 2024 summary" and i.severity == "error"]


def test_a_header_below_title_rows_is_pointed_at_where_it_is(tmp_path: Path) -> None:
    _, issues = parse(load(corpus_second.titled_header(tmp_path)))
    missing = [i for i in issues if i.code == "missing-column" and i.sheet == "Movements"]
    assert missing and all("row 3" in i.message and "add it to row 1" not in i.message for i in missing)


def test_a_folder_given_as_the_workbook_is_named_a_folder(tmp_path: Path) -> None:
    for command in ("validate", "refresh", "normalise"):
        args = [command, str(tmp_path)] + (["--in-place"] if command == "normalise" else [])
        result = run(*args)
        assert result.exit_code == 3 and "folder" in result.stderr and "does not exist" not in result.stderr


def test_writing_into_a_missing_folder_says_it_is_missing(tmp_path: Path) -> None:
    path = corpus.store(tmp_path / "store.xlsx")
    result = run("refresh", str(path), "-o", str(tmp_path / "nowhere" / "out.xlsx"))
    assert result.exit_code == 3
    assert "does not exist" in result.stderr and "not writable" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "store.xlsx"
    os.mkfifo(pipe)
    result = subprocess.run([sys.executable, "-m", "inv_sheets", "validate", str(pipe)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr


# Signals ---------------------------------------------------------------------------------------------
_SLOW_SAVE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever started the tests
import inv_sheets.io.save as save
real = save._verify
def slow(*args, **kwargs):
    real(*args, **kwargs)
    print("saving", flush=True)
    time.sleep(30)
save._verify = slow
from inv_sheets.cli.main import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("signum, code, words", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped")])
def test_a_signal_during_the_write_leaves_the_workbook_and_no_temp_file(tmp_path: Path, signum, code, words) -> None:
    path = corpus.store(tmp_path / "store.xlsx")
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, "refresh", str(path), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "INV_SHEETS_CACHE": "off"})
    assert proc.stdout.readline().strip() == "saving"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".~invsheets-")]  # the temp file, mid-write
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.strip() == f"inv-sheets: {words}" + (", the workbook is unchanged" if signum == signal.SIGINT else
                                                     " (SIGTERM), the workbook is unchanged")
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~invsheets-")]


# Links and owners ------------------------------------------------------------------------------------
def test_a_symlinked_workbook_is_written_through_to_its_target(tmp_path: Path) -> None:
    real = corpus.store(tmp_path / "real.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    result = run("refresh", str(link), "-q")
    assert result.exit_code in (0, 1), result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    with zipfile.ZipFile(real) as z:
        assert any(n.startswith("xl/tables/") for n in z.namelist())  # the outputs are in the real file


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="extended attributes")
def test_a_refresh_keeps_the_owner_mode_and_extended_attributes(tmp_path: Path) -> None:
    path = corpus.store(tmp_path / "store.xlsx")
    try:
        os.setxattr(path, "user.origin", b"supplier-portal")
    except OSError:
        pytest.skip("this file system has no user extended attributes")
    os.chmod(path, 0o640)
    owner = (os.getuid() + 1000, os.getgid() + 1000) if os.geteuid() == 0 else None
    if owner:
        os.chown(path, *owner)
    result = run("refresh", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    st = path.stat()
    assert oct(st.st_mode & 0o777) == oct(0o640)
    assert os.getxattr(path, "user.origin") == b"supplier-portal"
    if owner:
        assert (st.st_uid, st.st_gid) == owner


# Hard links: written over in place, and put back when that does not finish ---------------------------
posix_only = pytest.mark.skipif(os.name != "posix", reason="in-place writes are POSIX only (io/save.py)")
RECOVERY = ".~invsheets-store.xlsx.recover"
RESTORED = "inv-sheets: store.xlsx: a write that was interrupted has been undone; the workbook is as it was before it"


def _linked(path: Path) -> tuple[Path, Path, bytes]:
    """The workbook at `path` with a second name, other.xlsx, beside it (a hard link)."""
    other = path.with_name("other.xlsx")
    os.link(path, other)
    return path, other, path.read_bytes()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".~invsheets-")]


def _one_file(path: Path, other: Path, inode: int) -> None:
    """Both names are still the one file they were."""
    assert path.stat().st_ino == other.stat().st_ino == inode and path.stat().st_nlink == 2


@posix_only
def test_a_refresh_of_a_workbook_with_a_second_hard_link_shows_in_both(tmp_path: Path) -> None:
    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    inode = path.stat().st_ino
    result = run("refresh", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    _one_file(path, other, inode)
    assert other.read_bytes() == path.read_bytes() != before
    with zipfile.ZipFile(other) as z:
        assert any(n.startswith("xl/tables/") for n in z.namelist())  # the outputs, seen through the other name
    assert _leftovers(tmp_path) == []


def _import_store(tmp_path: Path) -> tuple[Path, list[str]]:
    from importfiles import store_workbook
    from test_import import shopify_file

    path = store_workbook(tmp_path / "store.xlsx")
    return path, ["import", str(path), str(shopify_file(tmp_path / "orders.csv"))]


def _normalise_store(tmp_path: Path) -> tuple[Path, list[str]]:
    path = corpus.store(tmp_path / "store.xlsx", items=corpus.ITEMS + [[" tee-s ", "Tee S", 3.0]])
    return path, ["normalise", str(path), "--in-place"]


def _close_store(tmp_path: Path) -> tuple[Path, list[str]]:
    path = make_workbook(tmp_path / "store.xlsx", _CLOSE_STORE)
    return path, ["close-period", str(path), "--before", "2025-01-01"]


def _button_store(tmp_path: Path) -> tuple[Path, list[str]]:
    path = corpus.store(tmp_path / "store.xlsm")
    return path, ["init", str(path), "--button", "--force"]


@posix_only
@pytest.mark.parametrize("make", [_import_store, _normalise_store, _close_store, _button_store],
                         ids=["import", "normalise-in-place", "close-period", "init-button-force"])
def test_every_save_keeps_the_hard_links_of_the_workbook(tmp_path: Path, make) -> None:
    path, args = make(tmp_path)
    path, other, before = _linked(path)
    inode = path.stat().st_ino
    result = run(*args)
    assert result.exit_code in (0, 1), result.output
    _one_file(path, other, inode)
    assert other.read_bytes() == path.read_bytes() != before
    assert _leftovers(tmp_path) == []


def _half_then(stop: BaseException, again: bool = False):
    """A stand-in for save._overwrite: the first call (the new workbook) writes half its bytes over
    the workbook and stops there; the next (writing it back) is the real one, after a second Ctrl-C
    when `again`."""
    from inv_sheets.io import save

    real, calls = save._overwrite, []

    def overwrite(target: Path, source) -> None:
        calls.append(target)
        if len(calls) > 1:
            if again:
                os.kill(os.getpid(), signal.SIGINT)
            return real(target, source)
        data = source.read()
        with open(target, "r+b") as out:
            out.write(data[:len(data) // 2])
        raise stop
    return overwrite, calls


@posix_only
@pytest.mark.parametrize("stop, again, code, said", [
    (OSError(errno.ENOSPC, "No space left on device"), False, 3,
     "inv-sheets: could not write store.xlsx: the disk is full; the workbook is unchanged"),
    (KeyboardInterrupt(), False, 130, "inv-sheets: interrupted, the workbook is unchanged"),
    (KeyboardInterrupt(), True, 130, "inv-sheets: interrupted, the workbook is unchanged"),
], ids=["disk-full", "ctrl-c", "ctrl-c-twice"])
def test_an_interrupted_write_over_a_hard_linked_workbook_puts_it_back(tmp_path: Path, monkeypatch, stop, again,
                                                                       code, said) -> None:
    """A second Ctrl-C while the workbook is written back waits until it is whole."""
    from inv_sheets.io import save

    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    inode = path.stat().st_ino
    overwrite, calls = _half_then(stop, again)
    monkeypatch.setattr(save, "_overwrite", overwrite)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever runs the tests
    try:
        result = run("refresh", str(path), "-q")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == code, result.output
    assert result.stderr.strip() == said
    assert len(calls) == 2  # written over half-way, then written back
    assert path.read_bytes() == other.read_bytes() == before
    _one_file(path, other, inode)
    assert _leftovers(tmp_path) == []


_HALF_AND_WAIT = """
import sys, time
import inv_sheets.io.save as save
real, calls = save._overwrite, []
def overwrite(target, source):
    calls.append(target)
    if len(calls) > 1:
        return real(target, source)
    data = source.read()
    with open(target, "r+b") as out:
        out.write(data[:len(data) // 2])
    print("half written", flush=True)
    time.sleep(30)
save._overwrite = overwrite
from inv_sheets.cli.main import main
main(sys.argv[1:])
"""


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_signal_during_the_write_over_a_hard_linked_workbook_leaves_it_recoverable(tmp_path: Path, signum) -> None:
    """SIGTERM: written back at once. SIGKILL: the recovery file stays, and the next command puts
    the workbook back from it."""
    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    inode = path.stat().st_ino
    proc = subprocess.Popen([sys.executable, "-c", _HALF_AND_WAIT, "refresh", str(path), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "INV_SHEETS_CACHE": "off"})
    assert proc.stdout.readline().strip() == "half written"
    assert RECOVERY in _leftovers(tmp_path) and path.read_bytes() != before
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    if signum == signal.SIGTERM:
        assert proc.returncode == 143 and err.strip() == "inv-sheets: stopped (SIGTERM), the workbook is unchanged"
    else:
        assert proc.returncode == -signal.SIGKILL and path.read_bytes() != before
        assert (tmp_path / RECOVERY).read_bytes() == before
        result = run("validate", str(path), "-q")
        assert result.exit_code in (0, 1), result.output
        assert result.stderr.strip() == RESTORED
    assert path.read_bytes() == other.read_bytes() == before
    _one_file(path, other, inode)
    # A killed run's temp file (the new workbook) stays until a write an hour later clears it.
    assert [name for name in _leftovers(tmp_path) if not name.endswith(".tmp")] == []
    assert signum == signal.SIGKILL or _leftovers(tmp_path) == []


@posix_only
@pytest.mark.parametrize("command", ["validate", "refresh", "normalise"])
def test_a_recovery_file_left_beside_the_workbook_is_put_back_by_the_next_command(tmp_path: Path, command) -> None:
    """A crash in the middle of writing over the workbook, made by hand: its old bytes in the
    recovery file, the workbook half new."""
    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    inode = path.stat().st_ino
    (tmp_path / RECOVERY).write_bytes(before)
    with open(path, "r+b") as f:
        f.write(bytes(len(before) // 2))
    result = run(command, str(path), "-q" if command != "normalise" else "--json")
    assert result.exit_code in (0, 1), result.output
    assert result.stderr.strip() == RESTORED
    if command == "refresh":  # put back, then refreshed as usual
        assert zipfile.ZipFile(path).testzip() is None and path.read_bytes() != before
    else:
        assert path.read_bytes() == before
    assert other.read_bytes() == path.read_bytes()
    _one_file(path, other, inode)
    assert _leftovers(tmp_path) == []


@posix_only
def test_a_recovery_file_that_cannot_be_written_back_is_named_in_one_line(tmp_path: Path, monkeypatch) -> None:
    from inv_sheets.io import save

    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    (tmp_path / RECOVERY).write_bytes(before)
    with open(path, "r+b") as f:
        f.write(bytes(len(before) // 2))
    half = path.read_bytes()

    def read_only(target, source) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(target))
    monkeypatch.setattr(save, "_overwrite", read_only)
    result = run("validate", str(path))
    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == (
        f"inv-sheets: store.xlsx was left half-written by a write that did not finish, and it could not be written "
        f"back (Permission denied): {os.path.realpath(tmp_path / RECOVERY)} holds the workbook as it was; copy that file over store.xlsx")
    assert path.read_bytes() == half and (tmp_path / RECOVERY).read_bytes() == before


@posix_only
@pytest.mark.parametrize("when", ["before", "while"])
def test_a_workbook_another_run_is_writing_over_is_refused(tmp_path: Path, monkeypatch, when: str) -> None:
    """Another run's recovery file, locked as a live run holds it: there when the command starts,
    or made while it computes. Nothing is written over, and the other run's file is left alone."""
    import fcntl

    from inv_sheets.io import save

    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    held = []

    def other_run() -> None:
        (tmp_path / RECOVERY).write_bytes(before)
        held.append(open(tmp_path / RECOVERY, "rb"))
        fcntl.flock(held[0], fcntl.LOCK_EX)

    if when == "before":
        other_run()
    else:
        real = save.put_in_place

        def after_the_checks(new, target, expected=None):
            other_run()
            return real(new, target, expected)
        monkeypatch.setattr(save, "put_in_place", after_the_checks)
    try:
        result = run("refresh", str(path), "-q")
    finally:
        for f in held:
            f.close()
    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == ("inv-sheets: store.xlsx is being written by another inv-sheets run; "
                                     "run again when it has finished")
    assert path.read_bytes() == other.read_bytes() == before
    assert _leftovers(tmp_path) == [RECOVERY]


@posix_only
def test_a_save_landing_just_before_the_write_over_a_hard_linked_workbook_stops_it(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """The workbook's bytes kept for putting it back are checked against what the command read."""
    from inv_sheets.io import save

    path, other, before = _linked(corpus.store(tmp_path / "store.xlsx"))
    real = save.put_in_place

    def saved_elsewhere_first(new, target, expected=None):
        with open(target, "ab") as f:
            f.write(b"\0")
        return real(new, target, expected)
    monkeypatch.setattr(save, "put_in_place", saved_elsewhere_first)
    result = run("refresh", str(path), "-q")
    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == "inv-sheets: store.xlsx changed while it was being written; run again"
    assert path.read_bytes() == other.read_bytes() == before + b"\0"
    assert _leftovers(tmp_path) == []


# normalise and close-period: what they must not break -------------------------------------------------
def _prefixed(xml: str) -> str:
    """A sheet part written with an x: prefix on every element, as some writers do."""
    xml = re.sub(r"<(/?)(?!\?)(\w+)", r"<\1x:\2", xml)
    return xml.replace(f'xmlns="{corpus.MAIN_NS}"', f'xmlns:x="{corpus.MAIN_NS}"')


def _cell(path: Path, sheet: str, ref: str) -> object:
    book = openpyxl.load_workbook(path)
    return book[sheet][ref].value


def test_normalise_never_rewrites_a_formula_and_reports_it(tmp_path: Path) -> None:
    shared = ("raw", ' t="str"><f t="shared" ref="E5:E6" si="0">TEXT(3,"0")</f><v>3</v>')
    child = ("raw", ' t="str"><f t="shared" si="0"/><v>3</v>')
    movements = corpus.GOOD_MOVEMENTS + [["M4", ("date", 46025), "receive", "TEE-M", shared, None, "MAIN"],
                                         ["M5", ("date", 46025), "receive", "TEE-M", child, None, "MAIN"],
                                         ["M6", ("date", 46025), "receive", " tee-m ", 1, None, "MAIN"]]
    path = corpus.store(tmp_path / "shared.xlsx", movements)
    result = run("normalise", str(path), "--in-place", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [c["cell"] for c in report["changes"]] == ["D7"]
    assert {i["cell"] for i in report["issues"]} == {"Movements!E5", "Movements!E6"}
    assert {i["code"] for i in report["issues"]} == {"formula-not-normalised"}
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet3.xml").decode()
    assert '<f t="shared" ref="E5:E6" si="0">' in sheet and '<f t="shared" si="0"/>' in sheet
    assert _cell(path, "Movements", "D7") == "TEE-M"


def test_normalise_renames_an_excel_tables_columns_with_its_header_cells(tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table

    path = make_workbook(tmp_path / "table.xlsx", {
        "Items": corpus.ITEMS, "Locations": corpus.LOCATIONS,
        "Movements": [["Movement ID", "When", "kind", "SKU", "Quantity", "To location"],
                      ["M1", "2026-01-01", "receive", "TEE-M", 10, "MAIN"]]})
    book = openpyxl.load_workbook(path)
    book["Movements"].add_table(Table(displayName="Ledger", ref="A1:F2"))
    book.save(path)
    result = run("normalise", str(path), "--in-place")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    sheet = book["Movements"]
    headers = [c.value for c in sheet[1]]
    assert headers[1:3] == ["Date", "Type"] and headers[4] == "Qty"
    assert [c.name for c in sheet.tables["Ledger"].tableColumns] == headers


def test_normalise_edits_a_sheet_written_with_a_prefix(tmp_path: Path) -> None:
    sheets = corpus.store_sheets(items=corpus.ITEMS + [[" tee-s ", "Tee S", 3.0]])
    parts = corpus.package_parts(sheets)
    parts["xl/worksheets/sheet1.xml"] = _prefixed(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    path = corpus.write_zip(tmp_path / "prefixed.xlsx", parts)
    out = tmp_path / "clean.xlsx"
    result = run("normalise", str(path), "-o", str(out))
    assert result.exit_code == 0 and "changed 1 cells" in result.output, result.output
    assert _cell(out, "Items", "A4") == "TEE-S"
    assert run("normalise", str(out)).output.strip() == "would change 0 cells"


def test_normalise_refuses_cells_it_cannot_find_and_writes_nothing(tmp_path: Path) -> None:
    sheets = corpus.store_sheets(items=corpus.ITEMS + [[" tee-s ", "Tee S", 3.0]])
    parts = corpus.package_parts(sheets)
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", parts["xl/worksheets/sheet1.xml"])
    path = corpus.write_zip(tmp_path / "no-refs.xlsx", parts)
    before = path.read_bytes()
    result = run("normalise", str(path), "--in-place")
    assert_refused(result, path, before)
    assert "cell addresses" in result.stderr
    assert not list(tmp_path.glob("*.bak*"))


_CLOSE_STORE = {
    "Items": [["SKU", "Name", "Unit cost"], ["TEE", "Tee", 4.0]],
    "Locations": [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"]],
    "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Reason", "User"],
                  ["M1", dt.datetime(2024, 1, 10), "receive", "TEE", 40.0, None, "MAIN"],
                  ["M2", dt.datetime(2024, 3, 1), "sale", "TEE", 5.0, "MAIN", None],
                  ["M3", dt.datetime(2025, 2, 1), "receive", "TEE", 30.0, None, "MAIN"],
                  ["M4", dt.datetime(2025, 3, 1), "sale", "TEE", 2.0, "MAIN", None]],
    "Settings": [["Key", "Value"], ["as_of", "2025-12-31"]],
}


def test_close_period_refuses_when_something_points_into_the_rows_it_moves(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "store.xlsx", {**_CLOSE_STORE, "Notes": [["Last sale", "=Movements!E5"],
                                                                              ["All sales", "=SUM(Movements!E:E)"]]})
    book = openpyxl.load_workbook(path)
    book["Movements"]["D3"].hyperlink = "https://example.com/tee"
    book.save(path)
    before = path.read_bytes()
    with pytest.raises(CloseRefused) as refused:
        close_period(path, "2025-01-01")
    assert "'Notes'!B1 (a formula)" in str(refused.value) and "'Movements'!D3 (hyperlink)" in str(refused.value)
    assert "B2" not in str(refused.value)  # a whole column still covers the ledger
    assert path.read_bytes() == before and not list(tmp_path.glob("*archive*"))


def test_close_period_reads_rows_written_without_numbers(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "store.xlsx", _CLOSE_STORE)
    numbered = tmp_path / "numbered.xlsx"
    shutil.copy(path, numbered)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet3"))
    parts[sheet] = re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", parts[sheet])
    assert b"<row r=" not in parts[sheet]
    corpus.write_zip(path, parts)
    closed = close_period(path, "2025-01-01")
    reference = close_period(numbered, "2025-01-01")
    assert (closed.archived_movements, closed.opening_rows) == (reference.archived_movements, reference.opening_rows)
    rows = lambda p: [[c.value for c in r] for r in openpyxl.load_workbook(p)["Movements"].iter_rows()]  # noqa: E731
    assert rows(path) == rows(numbered)


# The caches' keys --------------------------------------------------------------------------------------
def _same_crc(original: bytes, edited: bytes) -> bytes:
    """`edited` (as long as `original`) with whitespace inside its tags swapped between a space and a
    tab until its CRC-32 is the original's: an edit the zip directory cannot see."""
    crc = lambda data: zlib.crc32(data)  # noqa: E731
    zeros = crc(bytes(len(edited)))
    spots = [m.start() for m in re.finditer(rb"(?<=[\w\"]) (?=[\w:]+=)", edited)][:96]
    # Over messages of one length CRC-32 is affine: each swap flips a fixed set of its bits.
    flips = []
    for at in spots:
        delta = bytearray(len(edited))
        delta[at] = 0x20 ^ 0x09
        flips.append((crc(bytes(delta)) ^ zeros, 1 << len(flips)))
    want, basis = crc(original) ^ crc(edited), {}
    for bits, chosen in flips:  # Gaussian elimination over GF(2), remembering which swaps make each row
        for top in sorted(basis, reverse=True):
            if bits >> top & 1:
                bits, chosen = bits ^ basis[top][0], chosen ^ basis[top][1]
        if bits:
            basis[bits.bit_length() - 1] = (bits, chosen)
    use = 0
    for top in sorted(basis, reverse=True):
        if want >> top & 1:
            want, use = want ^ basis[top][0], use ^ basis[top][1]
    assert want == 0, "not enough whitespace to steer the CRC"
    out = bytearray(edited)
    for k, at in enumerate(spots):
        if use >> k & 1:
            out[at] = 0x09
    assert crc(bytes(out)) == crc(original) and len(out) == len(original)
    return bytes(out)


def test_an_edit_that_keeps_the_crc_and_size_is_not_hidden_by_the_cache(tmp_path: Path, monkeypatch) -> None:
    from inv_sheets.io import cache
    from inv_sheets.io.read import read_book

    monkeypatch.setenv("INV_SHEETS_CACHE", "on")
    monkeypatch.setattr(cache, "MIN_PART_BYTES", 0)  # cache every sheet, however small
    parts = corpus.package_parts(corpus.store_sheets())
    path = corpus.write_zip(tmp_path / "store.xlsx", parts)
    assert read_book(path).tables["Movements"].data["qty"].tolist() == [10, 3, 5]

    sheet = parts["xl/worksheets/sheet3.xml"]
    edited = sheet.replace(b"<v>10</v>", b"<v>90</v>", 1)  # a past row's quantity, same length
    parts["xl/worksheets/sheet3.xml"] = _same_crc(sheet, edited)
    corpus.write_zip(path, parts)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet3.xml")
        assert (info.CRC, info.file_size) == (zlib.crc32(sheet), len(sheet))
    assert read_book(path).tables["Movements"].data["qty"].tolist() == [90, 3, 5]


def test_an_output_longer_than_a_sheet_ends_with_a_row_saying_how_many_more(tmp_path: Path, monkeypatch) -> None:
    from inv_sheets.io import write

    monkeypatch.setattr(write, "SHEET_BODY_ROWS", 4)  # a sheet of four rows under its header
    bad = [[f"M{k}", "not a date", "receive", "NOPE", "x", None, "MAIN"] for k in range(4, 10)]
    path = corpus.store(tmp_path / "store.xlsx", corpus.GOOD_MOVEMENTS + bad)
    result = run("refresh", str(path), "-q", "--json")
    assert result.exit_code == 1, result.output
    total = len(json.loads(result.stdout)["issues"])
    assert total > 4
    issues = openpyxl.load_workbook(path)["Issues"]
    rows = [[c.value for c in r] for r in issues.iter_rows(min_row=2)]
    assert len(rows) == 4 and issues.tables[next(iter(issues.tables))].ref.endswith("5")
    assert rows[-1][0].startswith(f"... and {total - 3:,} more rows") and "--json" in rows[-1][0]


# Which sheets a refresh may overwrite ------------------------------------------------------------------
def test_a_marker_pointing_at_the_ledger_never_makes_a_refresh_overwrite_it(tmp_path: Path) -> None:
    parts = corpus.package_parts(corpus.store_sheets())
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'</sheets><definedNames><definedName name="_invsheets_Issues" hidden="1">'
        b"Movements!$A$1</definedName></definedNames>")
    path = corpus.write_zip(tmp_path / "store.xlsx", parts)
    with zipfile.ZipFile(path) as z:
        ledger = z.read("xl/worksheets/sheet3.xml")
    result = run("refresh", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/worksheets/sheet3.xml") == ledger
    book = openpyxl.load_workbook(path)
    assert book["Movements"]["A1"].value == "Movement ID" and "Issues" in book.sheetnames


def test_a_users_sheet_put_back_under_an_outputs_name_is_not_overwritten(tmp_path: Path) -> None:
    path = corpus.store(tmp_path / "store.xlsx")
    assert run("refresh", str(path), "-q").exit_code in (0, 1)
    book = openpyxl.load_workbook(path)  # a script replaces the Stock sheet with the user's own
    position = book.sheetnames.index("Stock")
    del book["Stock"]
    mine = book.create_sheet("Stock", position)
    mine.append(["My stock notes"])
    mine.append(["TEE-M", "count again on Friday"])
    book.save(path)
    assert "_invsheets_Stock" in openpyxl.load_workbook(path).defined_names  # the old marker is kept
    result = run("refresh", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    book = openpyxl.load_workbook(path)
    assert [[c.value for c in r] for r in book["Stock"].iter_rows()] == [["My stock notes", None],
                                                                         ["TEE-M", "count again on Friday"]]
    assert sorted(n for n in book.sheetnames if n.startswith("Stock")) == ["Stock", "Stock (inv-sheets)"]
