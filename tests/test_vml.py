"""The VML drawing that holds the Refresh button: written, extended and read namespace-aware."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from inv_sheets.excel import vml

DATA = Path(__file__).parent / "data" / "apache-poi"
ANCHOR = vml.Anchor("0, 8, 4, 4, 1, 40, 6, 16", "margin-left:6pt;margin-top:63pt;width:72pt;height:39pt")
NOTE = "{urn:schemas-microsoft-com:office:excel}ClientData"


def strict(data: bytes) -> etree._Element:
    """Parse as a conforming XML reader does: an undeclared prefix is an error."""
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False))


def object_types(root: etree._Element) -> list[str]:
    return [el.get("ObjectType") for el in root.iter(NOTE)]


def openpyxl_notes_drawing(tmp_path: Path) -> bytes:
    """The VML openpyxl writes for a note: namespaces declared on each element, as ns0, ns1, ..."""
    import openpyxl
    from openpyxl.comments import Comment

    wb = openpyxl.Workbook()
    wb.active["A1"] = "SKU"
    wb.active["A1"].comment = Comment("Your code for one thing", "inv-sheets")
    wb.save(tmp_path / "notes.xlsx")
    with zipfile.ZipFile(tmp_path / "notes.xlsx") as zf:
        return next(zf.read(n) for n in zf.namelist() if n.endswith(".vml"))


def excel_notes_drawing() -> bytes:
    with zipfile.ZipFile(DATA / "SimpleWithComments.xlsx") as zf:
        return zf.read("xl/drawings/vmlDrawing1.vml")


def test_a_new_drawing_is_well_formed_and_holds_the_button():
    data = vml.new_drawing(3, "Refresh", "[0]!RefreshInventory", ANCHOR)
    root = strict(data)
    assert object_types(root) == ["Button"]
    assert vml.buttons(data) == [vml.FormButton("Refresh", "[0]!RefreshInventory")]
    assert vml.id_blocks(data) == {3} and vml.shape_ids(data) == [3 * 1024 + 1]


@pytest.mark.parametrize("writer", ["openpyxl", "excel"])
def test_a_button_added_to_notes_keeps_the_drawing_well_formed(writer, tmp_path):
    before = openpyxl_notes_drawing(tmp_path) if writer == "openpyxl" else excel_notes_drawing()
    assert b"<v:" not in before or writer == "excel"  # openpyxl's prefixes are ns0, ns1, ...: not v, o, x
    notes = object_types(strict(before))
    after = vml.with_button(before, "Refresh", "[0]!RefreshInventory", ANCHOR)
    root = strict(after)  # raises on a prefix nobody declared
    assert notes and set(notes) == {"Note"} and object_types(root) == notes + ["Button"]
    assert vml.buttons(after) == [vml.FormButton("Refresh", "[0]!RefreshInventory")]
    ids = vml.shape_ids(after)
    assert len(ids) == len(set(ids)) == len(notes) + 1
    # the button's shape type is declared once, in the drawing's own namespace
    types = [t.get("id") for t in root.iter("{urn:schemas-microsoft-com:vml}shapetype")]
    assert types.count(vml.BUTTON_TYPE) == 1


def test_adding_to_a_drawing_that_has_the_button_type_does_not_repeat_it():
    once = vml.new_drawing(1, "Refresh", "[0]!RefreshInventory", ANCHOR)
    twice = vml.with_button(once, "Again", "[0]!Other", ANCHOR)
    types = [t.get("id") for t in strict(twice).iter("{urn:schemas-microsoft-com:vml}shapetype")]
    assert types == [vml.BUTTON_TYPE]
    assert [b.caption for b in vml.buttons(twice)] == ["Refresh", "Again"]


def test_a_drawing_that_is_not_well_formed_gets_a_self_contained_fragment():
    # Excel 2003-era drawings carry HTML's <br> without its end tag
    broken = excel_notes_drawing().replace(b"</div>", b"<br></div>", 1)
    with pytest.raises(etree.XMLSyntaxError):
        strict(broken)
    after = vml.with_button(broken, "Refresh", "[0]!RefreshInventory", ANCHOR)
    assert after.startswith(broken[:broken.rindex(b"</xml>")])  # the original text is kept as it was
    fragment = after[len(broken) - len(b"</xml>"):after.rindex(b"</xml>")]
    # every element of the fragment declares the namespaces it uses: it parses on its own
    shapes = [strict(m.group(0)) for m in re.finditer(rb"<v:shape\b.*?</v:shape>", fragment, re.S)]
    assert [s.find(NOTE).get("ObjectType") for s in shapes] == ["Button"]
    assert vml.buttons(after) == [vml.FormButton("Refresh", "[0]!RefreshInventory")]


def test_id_blocks_are_read_whatever_the_prefix(tmp_path):
    assert vml.id_blocks(openpyxl_notes_drawing(tmp_path)) == {1}
    assert vml.id_blocks(excel_notes_drawing()) == {1}


def test_captions_and_macros_are_escaped():
    data = vml.new_drawing(1, "R&D <now>", "[0]!A&B", ANCHOR)
    assert vml.buttons(data) == [vml.FormButton("R&D <now>", "[0]!A&B")]
