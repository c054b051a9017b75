"""The corpus of bad workbooks (tests/corpus.py): a one-line refusal or a finding at the cell, never a
traceback, and never a changed input file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import corpus
import pytest
from click.testing import CliRunner
from ooxml import problems
from python_calamine import CalamineWorkbook

from inv_sheets.cli.main import main
from inv_sheets.io.cells import MAX_CELL_TEXT
from inv_sheets.rules.validate import load, parse

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_refused(result, path: Path, before: bytes) -> None:
    """Exit 3, one line on stderr, no traceback, the file as it was and no temp file left."""
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inv-sheets: "), result.stderr
    assert "Traceback" not in result.output
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".~invsheets-")]


COMMANDS = {  # every command that reads a workbook; the outputs they would make must not appear
    "validate": lambda p, out: ["validate", str(p)],
    "refresh": lambda p, out: ["refresh", str(p)],
    "refresh-to-output": lambda p, out: ["refresh", str(p), "-o", str(out / "out.xlsx")],
    "normalise": lambda p, out: ["normalise", str(p), "-o", str(out / "clean.xlsx")],
    "export": lambda p, out: ["export", str(p), "--to", "odoo", "-o", str(out / "odoo")],
    "count-sheet": lambda p, out: ["count-sheet", str(p), "--location", "MAIN", "-o", str(out / "count.xlsx")],
}


@pytest.mark.parametrize("build", list(corpus.REFUSED), ids=lambda b: b.__name__)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_unreadable_files_are_refused_in_one_line(tmp_path: Path, build, command: str) -> None:
    refused_in_one_line(tmp_path, build, command, corpus.REFUSED[build])


def refused_in_one_line(tmp_path: Path, build, command: str, words: tuple[str, ...]) -> None:
    """`command` on the file `build` makes: refused in one line naming one of `words`, nothing made."""
    path = build(tmp_path)
    before = path.read_bytes()
    out = tmp_path / "made"
    out.mkdir()
    result = run(*COMMANDS[command](path, out))
    assert_refused(result, path, before)
    assert any(word in result.stderr.lower() for word in words), result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("suffix", [".xlsb", ".xlsx"])
def test_a_binary_workbook_is_named_as_such_under_either_name(tmp_path: Path, suffix: str) -> None:
    path = corpus.xlsb(tmp_path, suffix)
    result = run("validate", str(path))
    assert_refused(result, path, path.read_bytes())
    assert "xlsb" in result.stderr


# Runs the CLI and, as it exits, writes its peak resident memory (kB, VmHWM) to the file named first.
# Measured inside the child: its rusage would also count the memory of the test process it forked from.
_WITH_PEAK = """
import atexit, runpy, sys
def report(path=sys.argv.pop(1)):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(report)
runpy.run_module("inv_sheets", run_name="__main__", alter_sys=True)
"""


def _run_limited(path: Path, seconds: int = 60, command: str = "validate") -> tuple[subprocess.CompletedProcess, float, int]:
    """`inv-sheets <command>` in a child process: its result, wall time and peak memory (bytes)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("the child's peak memory is read from /proc (Linux)")
    peak_file = path.with_name(path.name + ".peak")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WITH_PEAK, str(peak_file), command, str(path)], capture_output=True,
                          text=True, timeout=seconds, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - started
    return proc, elapsed, int(peak_file.read_text()) * 1024


@pytest.mark.parametrize("build", [corpus.zip_bomb, corpus.spread_zip_bomb, corpus.lying_zip_bomb],
                         ids=lambda b: b.__name__)
def test_zip_bombs_are_refused_quickly_without_inflating(tmp_path: Path, build) -> None:
    path = build(tmp_path)  # 3 GB inside, 3 MB on disk
    assert path.stat().st_size < 10 << 20
    before = path.read_bytes()
    proc, seconds, peak = _run_limited(path)
    assert proc.returncode == 3, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "zip bomb" in proc.stderr or "limit" in proc.stderr
    assert seconds < 30
    assert peak < 1 << 30, f"peak memory {peak:,} bytes: the bomb was inflated"
    assert path.read_bytes() == before


def test_a_bomb_in_a_sheet_nothing_reads_is_carried_through_uninflated(tmp_path: Path) -> None:
    # Worksheets are checked when a reader is about to open them: a sheet the toolkit never reads
    # is neither inflated nor refused, and the refresh copies it byte for byte like any user part.
    path = corpus.unread_lying_bomb(tmp_path)
    before = _members_stored(path)
    proc, seconds, peak = _run_limited(path, command="refresh")
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert peak < 1 << 30, f"peak memory {peak:,} bytes: the bomb was inflated"
    after = _members_stored(path)
    assert after["xl/worksheets/sheet5.xml"] == before["xl/worksheets/sheet5.xml"]


def test_a_bomb_in_the_fingerprint_sheet_counts_as_no_fingerprints(tmp_path: Path) -> None:
    from inv_sheets.integrity import read_seen

    path = corpus.fingerprint_lying_bomb(tmp_path)
    started = time.perf_counter()
    assert read_seen(path) is None  # refused before fastexcel inflates it: 3 GB would take far longer
    assert time.perf_counter() - started < 10
    proc, seconds, peak = _run_limited(path, command="refresh")
    assert proc.returncode in (0, 1), proc.stderr
    assert peak < 1 << 30, f"peak memory {peak:,} bytes: the bomb was inflated"


def _members_stored(path: Path) -> dict[str, bytes]:
    """Each member's bytes as stored (compressed), read without inflating anything."""
    from inv_sheets.io.package import compressed_bytes

    with zipfile.ZipFile(path) as z:
        return {info.filename: compressed_bytes(z, info) for info in z.infolist()}


# Files that read: each problem is a finding at its cell ---------------------------------------------
EXPECTED = {  # builder -> {cell: codes any of which is right}
    corpus.wide: {"Items!XFD1": {"unknown-column"}},
    corpus.huge_cells: {"Movements!D6": {"unknown-reference"}},
    corpus.control_characters: {"Items!A4": {"control-character"}, "Items!B4": {"control-character"},
                                "Movements!A6": {"control-character"}, "Movements!D5": {"control-character"},
                                "Movements!H6": {"control-character"}, "Movements!I6": {"control-character"}},
    corpus.nan_and_infinity: {"Movements!E5": {"bad-number", "required-value"}, "Movements!E6": {"bad-number"},
                              "Movements!E7": {"bad-number"}, "Movements!E8": {"not-a-number", "bad-number"},
                              "Movements!E9": {"not-a-number", "bad-number"}, "Movements!B10": {"not-a-date", "required-value"}},
    corpus.date1904: {},
    corpus.old_dates: {f"Movements!B{r}": {"not-a-date"} for r in range(5, 11)},
    corpus.huge_numbers: {"Items!C4": {"out-of-range"}, "Movements!E5": {"out-of-range"},
                          "Movements!E6": {"out-of-range"}, "Movements!E7": {"out-of-range"}},
    corpus.formulas_and_links: {"Movements!E6": {"formula-without-value"}, "Movements!B10": {"formula-without-value"},
                                "Movements!E7": {"required-value", "not-a-number"},
                                "Movements!E9": {"required-value", "not-a-number"}},
    corpus.lookalike_skus: {"Items!A4": {"lookalike-characters", "near-duplicate-key"},
                            "Items!A5": {"lookalike-characters"}, "Movements!D6": {"lookalike-characters"},
                            "Movements!D7": {"lookalike-characters", "unknown-reference"},
                            "Movements!D8": {"lookalike-characters", "unknown-reference"}},
}


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("build", corpus.READABLE, ids=lambda b: b.__name__)
def test_bad_values_are_findings_at_their_cells_and_refresh_still_writes(tmp_path: Path, build) -> None:
    path = build(tmp_path)
    inputs = {n: b for n, b in _members(path).items() if n.startswith("xl/worksheets/")}
    result = run("validate", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)

    found: dict[str, set[str]] = {}
    for issue in json.loads(result.stdout)["issues"]:
        found.setdefault(issue["cell"], set()).add(issue["code"])
    for cell, codes in EXPECTED[build].items():
        assert found.get(cell, set()) & codes, f"{cell}: expected one of {codes}, found {found.get(cell)}"

    refreshed = run("refresh", str(path), "-q")
    assert refreshed.exit_code in (0, 1), refreshed.output
    assert refreshed.exception is None or isinstance(refreshed.exception, SystemExit), repr(refreshed.exception)
    after = _members(path)
    assert all(after[n] == b for n, b in inputs.items()), "an input sheet changed"
    assert problems(path) == []
    book = CalamineWorkbook.from_path(str(path))
    outputs = [n for n in book.sheet_names if n not in corpus.store_sheets()]
    for name in outputs:  # Excel refuses a cell longer than 32,767 characters
        for row in book.get_sheet_by_name(name).to_python():
            assert all(not isinstance(v, str) or len(v) <= MAX_CELL_TEXT for v in row), name


def test_the_1904_date_system_reads_the_dates_the_user_sees(tmp_path: Path) -> None:
    store, issues = parse(load(corpus.date1904(tmp_path)))
    assert [str(d.date()) for d in store.tables["Movements"]["date"]] == ["2026-01-01", "2026-01-02"]
    assert str(store.settings.as_of.date()) == "2026-01-31"
    assert not [i for i in issues if i.severity == "error"]


def test_fullwidth_letters_are_folded_to_the_sku_they_mean(tmp_path: Path) -> None:
    store, _ = parse(load(corpus.lookalike_skus(tmp_path)))
    movements = store.tables["Movements"]
    assert movements.loc[5, "sku"] == "TEE-M"  # "ＴＥＥ-M" (full-width) is the same SKU after NFKC
