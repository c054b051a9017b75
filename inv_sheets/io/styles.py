"""Cell styles for the output sheets, added to the workbook's styles.xml without renumbering it.

The renderer asks for a `CellStyle` (a number format, bold, a fill colour, a link look) and gets a
`cellXfs` index. `StyleSheet` finds an identical entry already in the file (fonts, fills, number
formats and xfs are compared by content) or appends one, so every existing `s=` index stays valid
and a second refresh finds the entries the first one added: the file does not grow.
When nothing had to be added, the part keeps its original bytes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from .package import NS_MAIN, insert_in_order, parse_xml, to_xml

_M = f"{{{NS_MAIN}}}"

# Excel's built-in number formats that the output sheets use (ECMA-376 18.8.30).
BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
FIRST_CUSTOM_FORMAT = 164

# Solid fills: Excel's own "light red / yellow / green fill" palette, plus grey and the header's.
FILL_RGB = {"red": "FFFFC7CE", "amber": "FFFFEB9C", "green": "FFC6EFCE", "grey": "FFE7E6E6", "header": "FFDDEBF7"}
LINK_RGB = "FF0563C1"

# Child order inside <font> and <styleSheet> (the schema is a sequence: order matters to strict readers).
_FONT_ORDER = ["b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz",
               "color", "name", "family", "charset", "scheme"]
_SHEET_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst"]

MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b'</styleSheet>'
)


@dataclass(frozen=True, order=True)
class CellStyle:
    """How one output cell looks."""

    num_fmt: str = "General"
    bold: bool = False
    fill: str | None = None  # a key of FILL_RGB
    link: bool = False  # blue, underlined: a cell with a hyperlink
    wrap: bool = False
    top: bool = False  # at the top of a row made tall by a wrapped neighbour
    indent: bool = False  # a number kept one character off the right edge, clear of the next column's text


def _key(el: etree._Element) -> tuple:
    """A comparable form of an element: tag, attributes, children (whitespace ignored)."""
    return (el.tag, tuple(sorted(el.attrib.items())), tuple(_key(c) for c in el if isinstance(c.tag, str)))


class StyleSheet:
    """styles.xml, append-only."""

    def __init__(self, data: bytes) -> None:
        self.original = data
        self.root = parse_xml(data)
        self.changed = False
        self.appended = 0  # entries added so far: a lookup that adds none left every index as it was
        self._cache: dict[CellStyle, int] = {}

    def xf(self, style: CellStyle) -> int:
        """The cellXfs index of `style`, reusing an identical entry when the file has one."""
        if style not in self._cache:
            self._cache[style] = self._xf(style)
        return self._cache[style]

    def to_xml(self) -> bytes:
        return to_xml(self.root) if self.changed else self.original

    def with_number_format(self, xf: int, code: str) -> int:
        """The cellXfs index of cell style `xf` with number format `code` (the user's font, fill and
        borders kept): how a text date typed into a styled cell becomes a real date that looks dated."""
        cell_xfs = self._section("cellXfs")
        entries = [c for c in cell_xfs if isinstance(c.tag, str)]
        want = copy.deepcopy(entries[xf]) if 0 <= xf < len(entries) else etree.Element(_M + "xf", numFmtId="0",
                                                                                       fontId="0", fillId="0", borderId="0")
        want.set("numFmtId", str(self._num_fmt(code)))
        want.set("applyNumberFormat", "1")
        return self._find_or_append("cellXfs", want)

    # Entries --------------------------------------------------------------------------------------
    def _xf(self, style: CellStyle) -> int:
        want = etree.Element(_M + "xf")
        want.set("numFmtId", str(self._num_fmt(style.num_fmt)))
        want.set("fontId", str(self._font(style)))
        want.set("fillId", str(self._fill(style.fill)))
        want.set("borderId", "0")
        if self._section("cellStyleXfs", create=False) is not None:
            want.set("xfId", "0")
        if style.num_fmt != "General":
            want.set("applyNumberFormat", "1")
        if style.bold or style.link:
            want.set("applyFont", "1")
        if style.fill:
            want.set("applyFill", "1")
        if style.wrap or style.top or style.indent:
            want.set("applyAlignment", "1")
            align = etree.SubElement(want, _M + "alignment")
            if style.indent:
                align.set("horizontal", "right")
                align.set("indent", "1")
            if style.wrap or style.top:
                align.set("vertical", "top")
            if style.wrap:
                align.set("wrapText", "1")
        return self._find_or_append("cellXfs", want)

    def _num_fmt(self, code: str) -> int:
        if code in BUILTIN_FORMATS:
            return BUILTIN_FORMATS[code]
        section = self._section("numFmts")
        ids = [FIRST_CUSTOM_FORMAT - 1]
        for el in section.iterfind(_M + "numFmt"):
            if el.get("formatCode") == code:
                return int(el.get("numFmtId", "0"))
            ids.append(int(el.get("numFmtId", "0")))
        new_id = max(ids) + 1
        etree.SubElement(section, _M + "numFmt", numFmtId=str(new_id), formatCode=code)
        self._recount(section)
        return new_id

    def _font(self, style: CellStyle) -> int:
        if not (style.bold or style.link):
            return 0
        fonts = self._section("fonts")
        base = next(fonts.iterfind(_M + "font"), None)
        want = copy.deepcopy(base) if base is not None else etree.Element(_M + "font")
        drop = {"b", "u", "color"} if style.link else {"b"}
        for child in list(want):
            if not isinstance(child.tag, str) or etree.QName(child).localname in drop:
                want.remove(child)
        if style.bold:
            etree.SubElement(want, _M + "b")
        if style.link:
            etree.SubElement(want, _M + "u")
            etree.SubElement(want, _M + "color", rgb=LINK_RGB)
        order = {name: i for i, name in enumerate(_FONT_ORDER)}
        want[:] = sorted(want, key=lambda c: order.get(etree.QName(c).localname, len(order)))
        return self._find_or_append("fonts", want)

    def _fill(self, colour: str | None) -> int:
        if colour is None:
            return 0
        want = etree.Element(_M + "fill")
        pattern = etree.SubElement(want, _M + "patternFill", patternType="solid")
        etree.SubElement(pattern, _M + "fgColor", rgb=FILL_RGB[colour])
        etree.SubElement(pattern, _M + "bgColor", indexed="64")
        return self._find_or_append("fills", want)

    # Sections -------------------------------------------------------------------------------------
    def _section(self, name: str, create: bool = True) -> etree._Element:
        found = self.root.find(_M + name)
        if found is None and create:
            found = etree.Element(_M + name, count="0")
            insert_in_order(self.root, found, _SHEET_ORDER)
            self.changed = True
            self.appended += 1
        return found

    def _find_or_append(self, section_name: str, want: etree._Element) -> int:
        section = self._section(section_name)
        entries = [c for c in section if isinstance(c.tag, str)]
        key = _key(want)
        for i, entry in enumerate(entries):
            if _key(entry) == key:
                return i
        # Put the new entry straight after the last one: its index is the number of entries.
        if entries:
            entries[-1].addnext(want)
            want.tail = entries[-1].tail
        else:
            section.append(want)
        self._recount(section)
        return len(entries)

    def _recount(self, section: etree._Element) -> None:
        section.set("count", str(sum(1 for c in section if isinstance(c.tag, str))))
        self.changed = True
        self.appended += 1
