"""The command line: exit codes, stdout and stderr apart, --json equal to the library."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from workbooks import MINIMAL, make_workbook

from inv_sheets.cli.main import main
from inv_sheets import validate


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_validate_clean_exits_0(tmp_path):
    path = make_workbook(tmp_path / "s.xlsx", MINIMAL)
    result = run("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.stdout


def test_validate_errors_exit_1_and_json_is_the_library_report(tmp_path):
    sheets = dict(MINIMAL, Movements=MINIMAL["Movements"] + [["M1", "soon", "receive", "TEE-M", "12 pcs", None, "MAIN"]])
    path = make_workbook(tmp_path / "s.xlsx", sheets)
    result = run("validate", str(path), "--json", "--as-of", "2026-05-01")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == json.loads(validate(path, as_of="2026-05-01").to_json())


def test_strict_fails_on_warnings(tmp_path):
    sheets = dict(MINIMAL, Items=MINIMAL["Items"] + [["CAP", "Cap", "3"]])
    path = make_workbook(tmp_path / "s.xlsx", sheets)
    assert run("validate", str(path)).exit_code == 0
    assert run("validate", str(path), "--strict").exit_code == 1


@pytest.mark.parametrize("as_of", ["notadate", "", "NaT", "nan", "  "])
@pytest.mark.parametrize("command", ["validate", "refresh"])
def test_as_of_that_is_not_a_date_is_a_usage_error(tmp_path, command, as_of):
    path = make_workbook(tmp_path / "s.xlsx", MINIMAL)
    before = path.read_bytes()
    result = run(command, str(path), "--as-of", as_of)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "not a date" in result.stderr and "Traceback" not in result.output
    assert path.read_bytes() == before


def _dated_store(tmp_path, date_order):
    sheets = {**MINIMAL, "Movements": MINIMAL["Movements"] + [["M1", "2026-11-01", "receive", "TEE-M", 5, None, "MAIN"]]}
    if date_order:
        sheets["Settings"] = [["Key", "Value"], ["date_order", date_order]]
    return make_workbook(tmp_path / f"{date_order or 'blank'}.xlsx", sheets)


def test_a_day_option_follows_the_rule_cells_follow(tmp_path):
    """11/12/2026 in a cell is refused as ambiguous unless date_order says; the options too."""
    blank = _dated_store(tmp_path, None)
    result = run("validate", str(blank), "--as-of", "11/12/2026", "--json")
    assert result.exit_code == 2 and "11 Dec or 12 Nov" in result.stderr, result.output
    assert run("validate", str(blank), "--as-of", "2026-12-11").exit_code == 0  # ISO always
    assert run("validate", str(blank), "--as-of", "13/12/2026", "--json").exit_code == 0  # only one reading
    dmy = _dated_store(tmp_path, "DMY")
    result = run("validate", str(dmy), "--as-of", "11/12/2026", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["summary"]["as_of"] == "2026-12-11"
    mdy = _dated_store(tmp_path, "MDY")
    assert json.loads(run("validate", str(mdy), "--as-of", "11/12/2026", "--json").stdout)["summary"]["as_of"] == "2026-11-12"
    sheet = run("count-sheet", str(blank), "--location", "MAIN", "--as-of", "2026-11-05", "--date", "11/12/2026")
    assert sheet.exit_code == 2 and "11 Dec or 12 Nov" in sheet.stderr
    sheet = run("count-sheet", str(dmy), "--location", "MAIN", "--as-of", "2026-11-05", "--date", "11/12/2026",
                "-o", str(tmp_path / "list.xlsx"))
    assert sheet.exit_code == 0 and "on 2026-12-11" in sheet.stdout
    closing = run("close-period", str(blank), "--before", "11/02/2026", "--as-of", "2026-12-01")
    assert closing.exit_code == 2 and "11 Feb or 02 Nov" in closing.stderr
    assert not list(tmp_path.glob("*archive*"))


def _bad_files(tmp_path):
    (tmp_path / "dir.xlsx").mkdir()
    (tmp_path / "data.csv").write_text("sku,qty\nA,1\n")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "text.xlsx").write_text("hello")
    good = make_workbook(tmp_path / "good.xlsx", MINIMAL).read_bytes()
    (tmp_path / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(tmp_path / "notbook.xlsx", "w") as z:
        z.writestr("readme.txt", "hi")
    (tmp_path / "book.ods").write_bytes(b"PK\x03\x04")
    (tmp_path / "book.xlsb").write_bytes(b"PK\x03\x04")
    return ["missing.xlsx", "dir.xlsx", "data.csv", "old.xls", "locked.xlsx", "text.xlsx", "truncated.xlsx",
            "notbook.xlsx", "book.ods", "book.xlsb"]


def test_bad_files_get_one_line_and_exit_3(tmp_path):
    for name in _bad_files(tmp_path):
        result = run("validate", str(tmp_path / name))
        assert result.exit_code == 3, (name, result.output, result.exception)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("inv-sheets: "), (name, result.stderr)
        assert "Traceback" not in result.stderr


def test_empty_workbook_reports_missing_sheets(tmp_path):
    path = make_workbook(tmp_path / "empty.xlsx", {"Sheet1": []})
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "missing-sheet" in result.stdout


@pytest.mark.parametrize("command", ["validate", "refresh", "normalise", "init", "export", "count-sheet"])
def test_help_has_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.stdout


def test_refresh_into_a_missing_folder_is_refused_before_the_workbook_is_read(tmp_path, monkeypatch):
    import inv_sheets.io.read as read

    path = make_workbook(tmp_path / "s.xlsx", MINIMAL)
    monkeypatch.setattr(read, "read_book", lambda *a, **k: pytest.fail("read before the destination was checked"))
    result = run("refresh", str(path), "-o", str(tmp_path / "missing" / "out.xlsx"))
    assert result.exit_code == 3, (result.output, result.exception)
    assert "does not exist" in result.stderr
