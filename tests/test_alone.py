"""A small sheet is read from a workbook of its own (io.alone), and gives what reading it from the
whole workbook gives: the same cells, of the same types, at the same rows, with the same findings.
Whatever the renumbering of shared strings cannot vouch for is read from the whole workbook."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from inv_sheets.io import alone, read, tail
from inv_sheets.io.read import read_book
from tests import corpus
from tests.workbooks import make_workbook

ROOT = Path(__file__).resolve().parent.parent
ZH = "<rPh sb=\"0\" eb=\"1\"><t>カ</t></rPh>"


def _whole_and_alone(path: Path, monkeypatch) -> None:
    """Read `path` with small sheets read alone and from the whole workbook; assert the same book."""
    own = read_book(path)
    with monkeypatch.context() as m:
        m.setattr(read, "alone", lambda *a: None)
        whole = read_book(path)
    assert own.sheet_names == whole.sheet_names
    assert own.tables.keys() == whole.tables.keys()
    for name, table in whole.tables.items():
        mine = own.tables[name]
        pd.testing.assert_frame_equal(mine.data, table.data, obj=name)
        assert (mine.letters, mine.headers, mine.header_row, mine.column_wise) == \
            (table.letters, table.headers, table.header_row, table.column_wise), name
    assert own.issues == whole.issues


def _rich_strings(folder: Path) -> Path:
    """A store whose shared strings hold rich text, phonetic runs and an empty string, and whose
    small sheets use them out of order and far down the list."""
    filler = [f"<si><t>unused {i}</t></si>" for i in range(500)]
    strings = ["<si><t>SKU</t></si>", "<si><t>Name</t></si>", "<si><t>Unit cost</t></si>",
               "<si><r><rPr><b/></rPr><t>TEE</t></r><r><t>-M</t></r></si>",  # 3: rich text
               f"<si><t>Tee M</t>{ZH}</si>", "<si/>", *filler, "<si><t xml:space=\"preserve\"> TEE-L </t></si>"]
    last = len(strings) - 1

    def s(index: int) -> tuple:
        return ("raw", f' t="s"><v>{index}</v>')

    items = corpus.sheet_xml([[s(0), s(1), s(2)], [s(3), s(4), 4.0], [s(last), s(5), ("date", 46000)]])
    parts = corpus.package_parts({**corpus.store_sheets(), "Items": items})
    return corpus.write_zip(folder / "rich.xlsx", _with_strings(parts, strings))


def _with_strings(parts: dict[str, bytes], strings: list[str]) -> dict[str, bytes]:
    """The parts with a shared-strings part of `strings` (each an <si> element) and its relationship."""
    parts["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{corpus.MAIN_NS}" '
                                     f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(strings)}</sst>').encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return parts


def _openpyxl_store(folder: Path) -> Path:
    """A store openpyxl wrote (its text as inline strings), with a date typed as text and a word in a
    number column."""
    return make_workbook(folder / "openpyxl.xlsx", {
        "Items": [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4], ["TEE-L", "Tee L", 4.5], ["MUG", "Mug", None]],
        "Locations": [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"]],
        "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location"],
                      ["M1", pd.Timestamp("2026-01-02").to_pydatetime(), "receive", "TEE-M", 5, None, "MAIN"],
                      ["M2", "2026-01-03", "sale", "TEE-M", "two", "MAIN", None]],
        "Settings": [["Key", "Value"], ["as_of", pd.Timestamp("2026-01-31").to_pydatetime()]],
    })


def _as_shared_strings(path: Path) -> Path:
    """The workbook with every inline string made a shared string, as Excel saves text: the strings
    listed last-seen first, after some the sheets do not use, so each index is renumbered."""
    inline = re.compile(r'<c ([^>]*?)t="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    texts: dict[str, None] = {}
    for name in parts:
        if name.startswith("xl/worksheets/"):
            texts.update((t, None) for _, t in inline.findall(parts[name].decode()))
    order = [f"unused {i}" for i in range(300)] + list(reversed(texts))
    index = {t: i for i, t in enumerate(order)}
    for name in list(parts):
        if name.startswith("xl/worksheets/"):
            parts[name] = inline.sub(lambda m: f'<c {m.group(1)}t="s"><v>{index[m.group(2)]}</v></c>',
                                     parts[name].decode()).encode()
    parts = _with_strings(parts, [f'<si><t xml:space="preserve">{t}</t></si>' for t in order])
    return corpus.write_zip(path.with_name("shared-" + path.name), parts)


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
@pytest.mark.parametrize("build", [*corpus.READABLE, _openpyxl_store], ids=lambda b: b.__name__)
def test_a_small_sheet_read_alone_is_what_the_whole_workbook_gives(tmp_path, monkeypatch, build, shared):
    path = build(tmp_path)
    if shared:
        path = _as_shared_strings(path)
        with zipfile.ZipFile(path) as z:
            assert b'"s"' in z.read("xl/worksheets/sheet1.xml")
    _whole_and_alone(path, monkeypatch)


def test_rich_and_phonetic_shared_strings_read_alone_are_what_the_whole_workbook_gives(tmp_path, monkeypatch):
    _whole_and_alone(_rich_strings(tmp_path), monkeypatch)


def test_the_sample_store_reads_the_same_alone_without_opening_the_whole_workbook(tmp_path, monkeypatch):
    path = shutil.copyfile(ROOT / "samples" / "demo-store.xlsx", tmp_path / "demo.xlsx")
    _whole_and_alone(path, monkeypatch)
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    read_book(path)  # its ledger (over 512 KB) is cached: the next read takes it from there
    opened: list[object] = []
    for name in ("_fastexcel", "_calamine"):
        real = getattr(read, name)
        monkeypatch.setattr(read, name, lambda source, *a, real=real: opened.append(source) or real(source, *a))
    read_book(path)
    assert opened and all(isinstance(source, bytes) for source in opened)


def _sheet_with(tmp_path: Path, cell: str) -> tuple[zipfile.ZipFile, str]:
    parts = corpus.package_parts({"Items": corpus.sheet_xml([["SKU"], [("raw", cell)]])})
    parts["xl/sharedStrings.xml"] = (f'<sst xmlns="{corpus.MAIN_NS}" count="1" uniqueCount="1">'
                                     "<si><t>TEE-M</t></si></sst>").encode()
    return zipfile.ZipFile(corpus.write_zip(tmp_path / "one.xlsx", parts)), "xl/worksheets/sheet1.xml"


@pytest.mark.parametrize("cell, vouched", [
    (' t="s"><v>0</v>', True),
    (' t="s"><v>1</v>', False),  # beyond the strings
    (' t="s"><v> 0</v>', False),  # not a plain index
    (' t="s"><f>A1</f><v>0</v>', False),
    (' t="s">', False),  # no value
])
def test_what_the_renumbering_cannot_vouch_for_is_read_from_the_whole_workbook(tmp_path, cell, vouched):
    zf, part = _sheet_with(tmp_path, cell)
    assert (alone.alone(zf, part, tail.Strings(zf), None, False) is not None) == vouched


def test_a_sheet_written_with_a_prefix_is_read_from_the_whole_workbook(tmp_path):
    xml = corpus.sheet_xml([["SKU"], ["TEE-M"]]).replace("<c ", "<x:c ").replace("</c>", "</x:c>")
    zf = zipfile.ZipFile(corpus.write_zip(tmp_path / "p.xlsx", corpus.package_parts({"Items": xml})))
    assert alone.alone(zf, "xl/worksheets/sheet1.xml", tail.Strings(zf), None, False) is None


def test_a_big_sheet_is_read_from_the_whole_workbook(tmp_path, monkeypatch):
    zf, part = _sheet_with(tmp_path, ' t="s"><v>0</v>')
    assert alone.alone(zf, part, tail.Strings(zf), None, False) is not None
    monkeypatch.setattr(alone, "MAX_BYTES", zf.getinfo(part).file_size - 1)
    assert alone.alone(zf, part, tail.Strings(zf), None, False) is None
