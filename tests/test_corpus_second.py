"""The second corpus (tests/corpus_second.py): refusals in one line, answers at the cell, and the
situations around a file (links, signals, pipes) that the first corpus did not try."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import corpus
import corpus_second
import pytest
from test_corpus import COMMANDS, assert_refused, run

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
    path = build(tmp_path)
    before = path.read_bytes()
    out = tmp_path / "made"
    out.mkdir()
    result = run(*COMMANDS[command](path, out))
    assert_refused(result, path, before)
    assert any(word in result.stderr.lower() for word in corpus_second.REFUSED[build]), result.stderr
    assert not list(out.iterdir())


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
import sys, time
import inv_sheets.io.write as write
real = write._verify
def slow(*args, **kwargs):
    real(*args, **kwargs)
    print("saving", flush=True)
    time.sleep(30)
write._verify = slow
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
