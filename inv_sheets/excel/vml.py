"""A sheet's VML drawing, where Excel keeps form buttons (and notes): write one, add a button, read them.

VML is XML whose elements live in three namespaces, written with the prefixes `v:`, `o:` and `x:`.
Writers declare them differently: Excel and inv-sheets once on the root `<xml>` element, openpyxl
on each element that uses them. A shape copied as text from one drawing into another can therefore
use prefixes nobody declared there, which makes the part unreadable (LibreOffice then shows no
button at all). So a drawing is edited as a tree, namespace-aware, and written back whole; only a
drawing that is not well-formed XML to begin with (older Excel wrote `<br>` without its end) gets
the button spliced in as text, as a fragment that declares every namespace it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

NS_V = "urn:schemas-microsoft-com:vml"
NS_O = "urn:schemas-microsoft-com:office:office"
NS_X = "urn:schemas-microsoft-com:office:excel"
NSMAP = {"v": NS_V, "o": NS_O, "x": NS_X}
BUTTON_TYPE = "_x0000_t201"  # Excel's shape type for a form button
BLOCK = 1024  # shape ids of a drawing run from block * 1024 + 1 (o:idmap)

_STRICT = etree.XMLParser(resolve_entities=False, no_network=True)
_LENIENT = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
_SHAPETYPE = (
    f'<v:shapetype id="{BUTTON_TYPE}" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
    'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
)
_ROOT_OPEN = f'<xml xmlns:v="{NS_V}" xmlns:o="{NS_O}" xmlns:x="{NS_X}">'


@dataclass(frozen=True)
class Anchor:
    """Where a shape sits: Excel's anchor (from column, dx px, from row, dy px, to column, dx px,
    to row, dy px; zero-based) and the matching CSS box in points."""

    cells: str
    box: str


@dataclass(frozen=True)
class FormButton:
    """A form button in a drawing: its caption and the macro it runs."""

    caption: str
    macro: str


def new_drawing(block: int, caption: str, macro: str, anchor: Anchor) -> bytes:
    """A drawing that holds one form button; `block` is its shape-id block (unused in the workbook)."""
    return (f'{_ROOT_OPEN}<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
            f'{_SHAPETYPE}{_button(block * BLOCK + 1, caption, macro, anchor)}</xml>').encode("utf-8")


def with_button(vml: bytes, caption: str, macro: str, anchor: Anchor) -> bytes:
    """The drawing `vml` with a form button added after its shapes (notes and buttons already in it stay)."""
    shape_id = max(shape_ids(vml), default=BLOCK) + 1
    fragment = _fragment(shape_id, caption, macro, anchor, with_type=BUTTON_TYPE not in _type_ids(vml))
    try:
        root = etree.fromstring(vml, _STRICT)
    except etree.XMLSyntaxError:
        text = vml.decode("utf-8")
        end = text.rindex("</xml>")
        spliced = "".join(etree.tostring(el, encoding="unicode") for el in fragment)
        return (text[:end] + spliced + text[end:]).encode("utf-8")
    for el in fragment:
        root.append(el)
    return etree.tostring(root, encoding="utf-8")


def buttons(vml: bytes) -> list[FormButton]:
    """Every form button of a drawing, read namespace-aware (leniently, if the drawing is not well-formed)."""
    root = _parse(vml)
    if root is None:
        return []
    found = []
    for shape in root.iter(f"{{{NS_V}}}shape"):
        data = shape.find(f"{{{NS_X}}}ClientData")
        if data is None or data.get("ObjectType") != "Button":
            continue
        box = shape.find(f"{{{NS_V}}}textbox")
        caption = "".join(box.itertext()).strip() if box is not None else ""
        found.append(FormButton(caption, (data.findtext(f"{{{NS_X}}}FmlaMacro") or "").strip()))
    return found


def id_blocks(vml: bytes) -> set[int]:
    """The shape-id blocks a drawing claims (its o:idmap data)."""
    root = _parse(vml)
    used: set[int] = set()
    for idmap in ([] if root is None else root.iter(f"{{{NS_O}}}idmap")):
        used.update(int(x) for x in re.split(r"[,\s]+", idmap.get("data", "").strip()) if x.isdigit())
    return used


def shape_ids(vml: bytes) -> list[int]:
    """The numbers of the drawing's shape ids (`_x0000_s1025` is 1025)."""
    return [int(i) for i in re.findall(rb"_x0000_s(\d+)", vml)]


def _type_ids(vml: bytes) -> set[str]:
    root = _parse(vml)
    return set() if root is None else {t.get("id", "") for t in root.iter(f"{{{NS_V}}}shapetype")}


def _parse(vml: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(vml, _STRICT)
    except etree.XMLSyntaxError:
        return etree.fromstring(vml, _LENIENT)


def _fragment(shape_id: int, caption: str, macro: str, anchor: Anchor, *, with_type: bool) -> list[etree._Element]:
    """The button (and its shape type, when the drawing lacks it) as elements with their namespaces."""
    text = f"{_ROOT_OPEN}{_SHAPETYPE if with_type else ''}{_button(shape_id, caption, macro, anchor)}</xml>"
    return list(etree.fromstring(text.encode("utf-8"), _STRICT))


def _button(shape_id: int, caption: str, macro: str, anchor: Anchor) -> str:
    """A form button, as Excel's Developer > Insert > Button writes it, wired to `macro`."""
    style = f"position:absolute;{anchor.box};z-index:1;mso-wrap-style:tight"
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#{BUTTON_TYPE}" style="{style}" o:button="t" '
        'fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto">'
        '<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
        '<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
        f'<font face="Calibri" size="220" color="#000000">{_escape(caption)}</font></div></v:textbox>'
        f'<x:ClientData ObjectType="Button"><x:Anchor>{anchor.cells}</x:Anchor><x:PrintObject>False</x:PrintObject>'
        f'<x:AutoFill>False</x:AutoFill><x:FmlaMacro>{_escape(macro)}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
        '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["Anchor", "FormButton", "new_drawing", "with_button", "buttons", "id_blocks", "shape_ids"]
