"""Hostile workbooks: XML entity attacks in any part, formula injection in CSV exports, names from the
workbook that become file names, and no evaluation of workbook content."""

from __future__ import annotations

import ast
import csv
import time
from pathlib import Path

import corpus
import pytest
from click.testing import CliRunner
from lxml import etree
from workbooks import make_workbook

from inv_sheets.cli.main import main
from inv_sheets.exports import TARGETS, export_workbook
from inv_sheets.exports.common import neutralise, safe_path
from inv_sheets.io import package, xmlsafe

ROOT = Path(__file__).resolve().parents[1]
SECRET = "CANARY-SECRET-4242"
PARSERS = [xmlsafe.parse, package.parse_xml]


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


# XML ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__module__)
def test_billion_laughs_is_never_expanded(parse) -> None:
    started = time.perf_counter()
    with pytest.raises(etree.XMLSyntaxError):
        parse((corpus.BILLION_LAUGHS + '<r a="&lol9;">&lol9;</r>').encode())
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__module__)
def test_an_external_entity_never_reads_a_local_file(parse, canary: Path) -> None:
    root = parse((corpus.external_entity(canary) + "<r>&xxe;</r>").encode())
    assert SECRET not in etree.tostring(root).decode()
    with pytest.raises(etree.XMLSyntaxError):  # in an attribute it is refused outright
        parse((corpus.external_entity(canary) + '<r a="&xxe;"/>').encode())


ATTACKS = {"laughs": (lambda c: corpus.BILLION_LAUGHS, "&lol9;"), "external": (corpus.external_entity, "&xxe;")}


@pytest.mark.parametrize("part", corpus.XML_PARTS)
@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("command", ["validate", "refresh"])
def test_a_doctype_in_any_part_is_refused_in_one_line(tmp_path: Path, canary: Path, part: str, attack: str,
                                                       command: str) -> None:
    prolog, entity = ATTACKS[attack]
    path = corpus.with_prolog(tmp_path, "attack.xlsx", part, prolog(canary), entity)
    before = path.read_bytes()
    started = time.perf_counter()
    result = CliRunner().invoke(main, [command, str(path)])
    assert time.perf_counter() - started < 10
    assert result.exit_code == 3, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert SECRET not in result.output
    assert path.read_bytes() == before


def test_the_spreadsheet_readers_never_expand_an_entity_either(tmp_path: Path, canary: Path) -> None:
    """calamine and fastexcel parse sheets themselves: past the guard, they must still be inert."""
    import fastexcel
    from python_calamine import CalamineWorkbook

    path = corpus.with_prolog(tmp_path, "xxe.xlsx", "xl/worksheets/sheet1.xml", corpus.external_entity(canary), "&xxe;")
    for read in (lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Items").to_python(),
                 lambda: fastexcel.read_excel(str(path)).load_sheet("Items").to_pandas().to_string()):
        try:
            seen = str(read())
        except Exception:  # noqa: BLE001 - refusing is as good as ignoring; leaking is what fails
            continue
        assert SECRET not in seen


# CSV exports --------------------------------------------------------------------------------------
INJECTIONS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
              "\t=1+1", "\r=1+1", "=1+1"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_neutralise_defuses_every_formula_start(text: str) -> None:
    assert neutralise(text).startswith("'")
    assert neutralise("-12.5") == "-12.5" and neutralise("TEE-M") == "TEE-M"


def _hostile_store(path: Path) -> Path:
    items = [["SKU", "Name", "Unit cost", "Category", "Barcode"]]  # near-duplicate barcodes: rows left out
    items += [[f"S{i}", text, 1.0, text, text] for i, text in enumerate(INJECTIONS)]
    movements = [["Movement ID", "Date", "Type", "SKU", "Qty", "To location", "Reference", "Note"]]
    movements += [[f"M{i}", "2026-01-02", "receive", f"S{i}", 5, "MAIN", text, text] for i, text in enumerate(INJECTIONS)]
    return make_workbook(path, {"Items": items, "Locations": [["Location"], ["MAIN"]], "Movements": movements,
                                "Settings": [["Key", "Value"], ["as_of", "2026-01-31"]]})


@pytest.mark.parametrize("target", list(TARGETS))
def test_no_exported_csv_cell_can_run_as_a_formula(tmp_path: Path, target: str) -> None:
    path = _hostile_store(tmp_path / "store.xlsx")
    result = export_workbook(path, target, tmp_path / "out", force=True)
    files = sorted((tmp_path / "out").glob("*.csv"))
    assert files, result
    for file in files:
        text = file.read_text(encoding="utf-8-sig")
        first = text.splitlines()[0] if text else ""
        delimiter = max(",;\t", key=first.count)
        for row in csv.reader(text.splitlines(), delimiter=delimiter):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (file.name, cell)
                assert not cell.startswith("-") or _is_number(cell), (file.name, cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Names that become paths --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escape.csv", "/etc/passwd", "a/b.csv", "..", ".", "", ".hidden",
                                  "C:evil.csv", "a\\..\\b.csv", "nul\x00.csv"])
def test_an_export_file_name_cannot_leave_its_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        safe_path(tmp_path, name)


@pytest.mark.parametrize("location", ["../../ESCAPE", "A/B", "..", "C:\\WIN"])
def test_a_location_code_cannot_steer_the_count_sheet_out_of_the_folder(tmp_path: Path, location: str) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    path = make_workbook(folder / "store.xlsx", {
        "Items": [["SKU", "Name"], ["TEE-M", "Tee"]],
        "Locations": [["Location"], [location]],
        "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "To location"],
                      ["M1", "2026-01-02", "receive", "TEE-M", 5, location]],
        "Settings": [["Key", "Value"], ["as_of", "2026-01-31"]]})
    result = CliRunner().invoke(main, ["count-sheet", str(path), "--location", location])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    made = {p for p in tmp_path.rglob("*") if p.is_file()} - {path}
    assert all(p.parent == folder for p in made), made


# No evaluation of workbook content ----------------------------------------------------------------
def test_the_package_never_evaluates_anything() -> None:
    """No eval, exec or compile anywhere in the package: a formula or a name from a workbook is data."""
    for file in (ROOT / "inv_sheets").rglob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile"), f"{file.name}:{node.lineno}"


def test_a_cache_file_others_could_write_is_never_unpickled(tmp_path, monkeypatch):
    """Unpickling runs code: the parse cache loads only files in a folder no one else can write to."""
    import os

    from inv_sheets.io import cache

    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    path = cache.entry_path(tmp_path / "book.xlsx", "Movements")
    path.parent.mkdir(mode=0o700)
    path.write_bytes(b"not a pickle")
    assert cache._private(path)
    os.chmod(path.parent, 0o777)
    assert not cache._private(path)
    os.chmod(path.parent, 0o700)
    os.chmod(path, 0o666)
    assert not cache._private(path)
