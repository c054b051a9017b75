"""A big sheet that only grew is read in its new rows alone (io.tail), and gives what reading the
whole sheet gives: the same cells, of the same types, at the same rows, with the same findings.
Whatever it cannot vouch for is read whole. Speed is measured in benchmarks/, never here."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from inv_sheets.io import cache, read, tail
from inv_sheets.io.append import NewRows, append_rows
from tests.test_performance_paths import BASE, HEADER, _movements

D = dt.datetime


@pytest.fixture
def grown(tmp_path, monkeypatch):
    """Reads `path` with the cache and without it; asserts both give the same book and returns
    whether only the new rows of the Movements sheet were read."""
    monkeypatch.setenv("INV_SHEETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("INV_SHEETS_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_PART_BYTES", 0)  # every sheet is worth caching here
    monkeypatch.setattr(read, "EXACT_ROWS", 0)  # and read column-wise
    taken: list[bool] = []
    real = tail.read_grown

    def spy(*args):
        found = real(*args)
        if args[2].name == "Movements":  # (the other sheets are cached here too)
            taken.append(found is not None)
        return found

    monkeypatch.setattr(tail, "read_grown", spy)

    def read_twice(path: Path) -> bool:
        taken.clear()
        mine = read.read_book(path)
        with monkeypatch.context() as off:
            off.setenv("INV_SHEETS_CACHE", "off")
            whole = read.read_book(path)
        a, b = mine.tables["Movements"], whole.tables["Movements"]
        pd.testing.assert_frame_equal(a.data, b.data, check_exact=True)
        for col in a.data.columns:  # 1 and TRUE are equal in Python, and not the same cell
            assert list(map(type, a.data[col])) == list(map(type, b.data[col])), col
        assert (a.letters, a.headers, a.header_row, a.column_wise) == (b.letters, b.headers, b.header_row,
                                                                       b.column_wise)
        assert mine.issues == whole.issues
        return any(taken)

    return read_twice


def _store(path: Path, header=HEADER, rows=None, date1904: bool = False) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if date1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for name, sheet in {**BASE, "Movements": [header, *(rows or _movements())]}.items():
        ws = wb.create_sheet(name)
        for row in sheet:
            ws.append(list(row))
            if name == "Movements" and isinstance(row[1], dt.datetime):
                ws.cell(ws.max_row, 2).number_format = "yyyy-mm-dd"
    wb.save(path)
    return _shared(path)


def _shared(path: Path) -> Path:
    """The Movements sheet's text moved into a shared-strings part, as Excel saves it."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    strings: dict[bytes, int] = {}

    def share(m: re.Match) -> bytes:
        return b'%s t="s"><v>%d</v></c>' % (m.group(1), strings.setdefault(m.group(2), len(strings)))

    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        parts[name] = re.sub(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>', share,
                             parts[name])
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (len(strings), len(strings))
        + b"".join(b"<si><t>%s</t></si>" % text for text in strings) + b"</sst>")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _sale(mid: str, day: int, **more) -> dict:
    return {"A": mid, "B": D(2025, 3, day), "C": "sale", "D": "TEE", "E": 1.0, "F": "MAIN", **more}


def _package_edit(path: Path, sheet_edit, strings_edit=lambda xml: xml) -> None:
    """Change the Movements part and the shared strings the way another program could, keeping every
    other byte (each part rewritten whole, as a save does)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    movements = next(n for n in parts if n.startswith("xl/worksheets/") and b"Movement ID" in _texts(parts, n))
    parts[movements] = sheet_edit(parts[movements])
    parts["xl/sharedStrings.xml"] = strings_edit(parts["xl/sharedStrings.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _texts(parts: dict[str, bytes], sheet: str) -> bytes:
    """The shared strings a sheet's first row points at."""
    strings = re.findall(rb"<si>(.*?)</si>", parts["xl/sharedStrings.xml"], re.S)
    first = re.search(rb"<row\b.*?</row>", parts[sheet], re.S).group(0)
    return b" ".join(strings[int(i)] for i in re.findall(rb'<c\b[^>]*t="s"[^>]*><v>(\d+)</v>', first))


def _string_index(path: Path, text: str) -> int:
    with zipfile.ZipFile(path) as z:
        strings = re.findall(rb"<si>(.*?)</si>", z.read("xl/sharedStrings.xml"), re.S)
    return next(i for i, s in enumerate(strings) if re.sub(rb"<[^>]+>", b"", s) == text.encode())


def _add_rows(xml: bytes, rows: bytes) -> bytes:
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


def test_rows_appended_by_import_are_read_alone(tmp_path, grown):
    path = _store(tmp_path / "store.xlsx")
    assert not grown(path)  # the first read reads it whole, and marks where its rows end
    append_rows(path, [NewRows("Movements", [_sale("N1", 2), _sale("N2", 3, J="gift")])])
    assert grown(path)
    append_rows(path, [NewRows("Movements", [_sale("N3", 4)])])
    assert grown(path)  # the read of the grown sheet is marked in turn


def test_rows_with_new_shared_strings_are_read_alone(tmp_path, grown):
    """Another program adds the new rows' text to the end of the shared strings, and points at old
    strings too; rows may leave gaps, be empty, and carry styles."""
    path = _store(tmp_path / "store.xlsx")
    grown(path)
    tee, main = _string_index(path, "TEE"), _string_index(path, "MAIN")
    with zipfile.ZipFile(path) as z:
        count = len(re.findall(rb"<si>", z.read("xl/sharedStrings.xml")))

    def strings(xml: bytes) -> bytes:
        return xml.replace(b"</sst>", b"<si><t>NEW-1</t></si><si><r><t>N</t></r><r><t>EW-2</t></r></si></sst>")

    rows = (b'<row r="50"><c r="A50" t="s"><v>%d</v></c><c r="B50" s="1"><v>45720</v></c>'
            b'<c r="C50" t="inlineStr"><is><t>sale</t></is></c><c r="D50" t="s"><v>%d</v></c>'
            b'<c r="E50"><v>2</v></c><c r="F50" t="s"><v>%d</v></c></row><row r="51" spans="1:6"/>'
            b'<row r="53"><c r="A53" t="s"><v>%d</v></c><c r="B53" s="1"><v>45721</v></c>'
            b'<c r="C53" t="str"><f>"sale"</f><v>sale</v></c><c r="D53" t="s"><v>%d</v></c>'
            b'<c r="E53"><v>1.5</v></c><c r="F53" t="s"><v>%d</v></c></row>'
            % (count, tee, main, count + 1, tee, main))
    _package_edit(path, lambda xml: _add_rows(xml, rows), strings)
    assert grown(path)


def test_a_1904_workbook_reads_its_new_dates_in_its_own_date_system(tmp_path, grown):
    path = _store(tmp_path / "store.xlsx", date1904=True)
    grown(path)
    append_rows(path, [NewRows("Movements", [_sale("N1", 2)])])
    assert grown(path)


@pytest.mark.parametrize("change", [
    "text in a number column", "a column filled for the first time", "a past cell edited",
    "a row above the last one", "a string pointed at that is not there", "strings renumbered",
    "a string index written otherwise"])
def test_what_the_new_rows_alone_cannot_vouch_for_is_read_whole(tmp_path, grown, change):
    header = [*HEADER, "Unit cost"]
    path = _store(tmp_path / "store.xlsx", header, [[*row, None] for row in _movements()])
    grown(path)
    tee = _string_index(path, "TEE")
    if change == "text in a number column":
        append_rows(path, [NewRows("Movements", [_sale("N1", 2, E="two")])])
    elif change == "a column filled for the first time":
        append_rows(path, [NewRows("Movements", [_sale("N1", 2, K=3.5)])])
    elif change == "a past cell edited":
        _package_edit(path, lambda xml: _add_rows(xml.replace(b"<v>50</v>", b"<v>51</v>", 1),
                                                  b'<row r="60"><c r="E60"><v>1</v></c></row>'))
    elif change == "a row above the last one":
        _package_edit(path, lambda xml: _add_rows(xml, b'<row r="3"><c r="E3"><v>1</v></c></row>'))
    elif change == "a string pointed at that is not there":
        _package_edit(path, lambda xml: _add_rows(xml, b'<row r="60"><c r="D60" t="s"><v>99999</v></c></row>'))
    elif change == "a string index written otherwise":  # not a plain index: renumbering could miss it
        _package_edit(path, lambda xml: _add_rows(xml, b'<row r="60"><c r="D60" t="s"><f>D2</f><v>%d</v></c></row>'
                                                         % tee))
    else:
        def renumber(xml: bytes) -> bytes:  # TEE's string moved to the end, the sheet pointing at it there
            return xml.replace(b"</sst>", b"<si><t>TEE</t></si></sst>")
        with zipfile.ZipFile(path) as z:
            last = len(re.findall(rb"<si>", z.read("xl/sharedStrings.xml")))
        _package_edit(path, lambda xml: re.sub(rb'(t="s"><v>)%d(</v>)' % tee, rb"\g<1>%d\g<2>" % last, xml),
                      renumber)
    if change == "a string pointed at that is not there":
        with pytest.raises(Exception):
            grown(path)  # the whole read refuses it too
        return
    assert not grown(path)


def test_a_sheet_read_cell_by_cell_is_read_whole(tmp_path, grown, monkeypatch):
    """A sheet small enough to be read exactly keeps each cell's own type: it has no mark."""
    monkeypatch.setattr(read, "EXACT_ROWS", 10_000)
    path = _store(tmp_path / "store.xlsx")
    grown(path)
    append_rows(path, [NewRows("Movements", [_sale("N1", 2)])])
    assert not grown(path)


def test_a_switched_date_system_reads_every_date_again(tmp_path, grown):
    """The sheet's bytes are the same, and its serial numbers are other dates now."""
    path = _store(tmp_path / "store.xlsx")
    grown(path)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/workbook.xml"] = re.sub(rb"<workbookPr\b[^>]*/>", b'<workbookPr date1904="1"/>', parts["xl/workbook.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert not grown(path)
