"""The command line: exit codes, stdout and stderr apart, --json equal to the library."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from workbooks import MINIMAL, make_workbook

from inv_sheets.cli.main import main
from inv_sheets.rules.validate import validate


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


@pytest.mark.parametrize("command", ["validate", "refresh"])
def test_as_of_that_is_not_a_date_is_one_line_exit_3(tmp_path, command):
    path = make_workbook(tmp_path / "s.xlsx", MINIMAL)
    before = path.read_bytes()
    result = run(command, str(path), "--as-of", "notadate")
    assert result.exit_code == 3, (result.output, result.exception)
    assert "not a date" in result.stderr and "Traceback" not in result.output
    assert path.read_bytes() == before


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
