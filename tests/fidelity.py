"""Rich workbooks built in code, for testing that a write leaves everything else as it was.

`build_xlsx` makes an .xlsx with the features a store's workbook tends to have: an Excel table,
data validation, conditional formats, notes, merged cells, a hidden sheet, defined names, a chart,
a picture, cross-sheet formulas *with* cached values and a calcChain (as Excel would save them).
`build_xlsm` starts from xlwings' own quickstart workbook (its VBA project and conf sheet) and adds
a VML form button and a shape, both wired to the `SampleCall` macro, the way a user's Refresh
button looks. openpyxl builds what it can; the rest is added to the zip by hand.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import xlwings
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

QUICKSTART = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CALC_CHAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

# Summary's formulas and the values Excel would have cached for them.
FORMULAS = {"B3": ("SUM(Data!C2:C4)", "60"), "B4": ("Data!D2*2", "3"), "B5": ('SUMIFS(Stock!E:E,Stock!A:A,"A")', "0")}


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG, written by hand (no Pillow needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class _PngImage(Image):
    """openpyxl's Image without Pillow: the size and bytes are given."""

    def __init__(self, data: bytes, width: int, height: int) -> None:  # noqa: D107 - no super(): it needs Pillow
        self.ref, self._bytes, self.width, self.height, self.format = None, data, width, height, "png"

    def _data(self) -> bytes:
        return self._bytes


def build_xlsx(path: Path, *, date1904: bool = False, user_stock: bool = False) -> Path:
    """A store workbook with most features Excel users rely on. `user_stock` adds the user's own "Stock" sheet."""
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    data.append(["SKU", "Name", "On hand", "Unit cost"])
    for row in (["A", "Apple", 10, 1.5], ["B", "Banana", 20, 0.25], ["C", "Cherry", 30, 4.0]):
        data.append(row)
    data["B2"].font = Font(bold=True, color="FF0000")
    data["D2"].number_format = "#,##0.00"
    data["D3"].fill = PatternFill("solid", fgColor="FFFF00")
    table = Table(displayName="tblItems", ref="A1:D4")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium9", showRowStripes=True)
    data.add_table(table)
    dv = DataValidation(type="list", formula1='"A,B,C"', allow_blank=True)
    data.add_data_validation(dv)
    dv.add("A2:A50")
    data.conditional_formatting.add("C2:C4", CellIsRule(operator="lessThan", formula=["15"], fill=PatternFill("solid", bgColor="FFC7CE")))
    data.conditional_formatting.add("D2:D4", ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="63BE7B"))
    data["B3"].comment = Comment("Check the supplier", "Owner")
    data["F1"] = "Supplier site"
    data["F1"].hyperlink = "https://example.com/"
    data.freeze_panes = "A2"
    data.column_dimensions["B"].width = 18

    summary = wb.create_sheet("Summary")
    summary["A1"] = "Store summary"
    summary.merge_cells("A1:C1")
    summary["A3"], summary["A4"], summary["A5"] = "Units", "Double cost", "Stock of A"
    for ref, (formula, _) in FORMULAS.items():
        summary[ref] = "=" + formula
    chart = BarChart()
    chart.title = "On hand"
    chart.add_data(Reference(data, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    chart.set_categories(Reference(data, min_col=1, min_row=2, max_row=4))
    summary.add_chart(chart, "E2")
    summary.add_image(_PngImage(tiny_png(), 20, 20), "E20")

    lists = wb.create_sheet("Lists")
    lists.append(["kind"])
    lists.append(["stock"])
    lists.sheet_state = "hidden"
    if user_stock:
        mine = wb.create_sheet("Stock")
        mine.append(["My own stock notes"])
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="Summary!$B$3")
    summary.defined_names["LocalName"] = DefinedName("LocalName", attr_text="Summary!$A$3")
    if date1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb.save(path)
    _add_cached_values_and_calc_chain(path, wb.sheetnames.index("Summary") + 1)
    return path


def _add_cached_values_and_calc_chain(path: Path, summary_id: int) -> None:
    """What Excel would have saved: a cached <v> for every formula, and xl/calcChain.xml."""
    def edit(members: dict[str, bytes]) -> None:
        sheet = members[f"xl/worksheets/sheet{summary_id}.xml"].decode()
        for ref, (_, value) in FORMULAS.items():
            sheet = re.sub(rf'(<c r="{ref}"[^>]*>)<f>(.*?)</f><v\s*/>|(<c r="{ref}"[^>]*>)<f>(.*?)</f><v></v>',
                           lambda m: f"{m.group(1) or m.group(3)}<f>{m.group(2) or m.group(4)}</f><v>{value}</v>", sheet)
            assert f"<v>{value}</v>" in sheet, ref
        members[f"xl/worksheets/sheet{summary_id}.xml"] = sheet.encode()
        chain = "".join(f'<c r="{ref}" i="{summary_id}"/>' for ref in FORMULAS)
        members["xl/calcChain.xml"] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns='
                                       f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">{chain}</calcChain>').encode()
        _add_rel(members, "xl/_rels/workbook.xml.rels", "calcChain", "calcChain.xml")
        _add_content_type(members, "Override", "/xl/calcChain.xml", CT_CALC_CHAIN)
    rewrite_zip(path, edit)


def build_xlsm(path: Path) -> Path:
    """xlwings' quickstart .xlsm plus a VML form button and a shape, both running SampleCall."""
    path.write_bytes(QUICKSTART.read_bytes())

    def edit(members: dict[str, bytes]) -> None:
        sheet = members["xl/worksheets/sheet1.xml"].decode()
        sheet = sheet.replace('<pageSetup orientation="portrait" />',
                              '<pageSetup orientation="portrait" /><drawing r:id="rId1"/><legacyDrawing r:id="rId2"/>')
        assert "legacyDrawing" in sheet
        members["xl/worksheets/sheet1.xml"] = sheet.encode()
        members["xl/worksheets/_rels/sheet1.xml.rels"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}drawing" Target="../drawings/drawing1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}vmlDrawing" Target="../drawings/vmlDrawing12.vml"/>'
            '</Relationships>').encode()
        members["xl/drawings/drawing1.xml"] = MACRO_SHAPE.encode()
        members["xl/drawings/vmlDrawing12.vml"] = VML_BUTTON.encode()
        _add_content_type(members, "Default", "vml", CT_VML)
        _add_content_type(members, "Override", "/xl/drawings/drawing1.xml", CT_DRAWING)
    rewrite_zip(path, edit)
    return path


def rewrite_zip(path: Path, edit) -> None:
    """Apply `edit` to the members (name -> bytes, in order) and write the zip again."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    edit(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _add_rel(members: dict[str, bytes], rels: str, kind: str, target: str) -> None:
    text = members[rels].decode()
    ids = {int(n) for n in re.findall(r'Id="rId(\d+)"', text)}
    rid = max(ids, default=0) + 1
    members[rels] = text.replace("</Relationships>", f'<Relationship Id="rId{rid}" Type="{REL}{kind}" Target="{target}"/></Relationships>').encode()


def _add_content_type(members: dict[str, bytes], kind: str, key: str, content_type: str) -> None:
    attr = "Extension" if kind == "Default" else "PartName"
    text = members["[Content_Types].xml"].decode()
    if f'{attr}="{key}"' not in text:
        text = text.replace("</Types>", f'<{kind} {attr}="{key}" ContentType="{content_type}"/></Types>')
    members["[Content_Types].xml"] = text.encode()


MACRO_SHAPE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:twoCellAnchor>'
    '<xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>8</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>'
    '<xdr:to><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>10</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
    '<xdr:sp macro="[0]!SampleCall" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="Refresh shape"/><xdr:cNvSpPr/></xdr:nvSpPr>'
    '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1200000" cy="400000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
    '</a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>Refresh</a:t></a:r></a:p></xdr:txBody>'
    '</xdr:sp><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>')

VML_BUTTON = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" o:connecttype="rect"/>'
    '<o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
    '<v:shape id="_x0000_s1025" type="#_x0000_t201" style="position:absolute;margin-left:15pt;margin-top:15pt;'
    'width:90pt;height:30pt;z-index:1" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto">'
    '<v:fill color2="buttonFace [67]" o:detectmouseclick="t"/><o:lock v:ext="edit" rotation="t"/>'
    '<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
    '<font face="Calibri" size="220" color="#000000">Run Python</font></div></v:textbox>'
    '<x:ClientData ObjectType="Button"><x:Anchor>1, 0, 1, 0, 3, 0, 3, 0</x:Anchor><x:PrintObject>False</x:PrintObject>'
    '<x:AutoFill>False</x:AutoFill><x:FmlaMacro>[0]!SampleCall</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
    '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape></xml>')
