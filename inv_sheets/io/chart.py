"""A native line chart of an output table, as a drawing part and a chart part.

Series point at the sheet's own cells, so the chart follows the data when Excel recalculates, and
carry cached points so a reader that does not calculate still draws it.
"""

from __future__ import annotations

import pandas as pd

from ..contract.issues import column_letter
from ..contract.schema import OUT_DATE, OUT_PCT, OutColumn
from ..contract.sheetdata import LineChart
from .cells import clean_text, clean_texts, encode

CHART_RID = "rId1"  # inside the drawing's own rels part
_WIDTH_COLS, _HEIGHT_ROWS = 9, 18
_CAT_AX, _VAL_AX = 500000001, 500000002

_NS = ('xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
       'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def drawing(col: int, row: int) -> bytes:
    """A drawing holding one chart anchored at zero-based (col, row)."""
    def marker(tag: str, c: int, r: int) -> str:
        return f"<xdr:{tag}><xdr:col>{c}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:{tag}>"

    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        f'<xdr:twoCellAnchor>{marker("from", col, row)}{marker("to", col + _WIDTH_COLS, row + _HEIGHT_ROWS)}'
        '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/><xdr:cNvGraphicFramePr/>'
        '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="{CHART_RID}"/>'
        '</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>'
    ).encode("utf-8")


def line_chart(spec: LineChart, sheet: str, frame: pd.DataFrame, columns: tuple[OutColumn, ...], date1904: bool) -> bytes:
    """The chart part: one line per series column against the x column's categories."""
    index = {c.name: i for i, c in enumerate(columns, 1)}
    last = max(len(frame), 1) + 1
    x_col = columns[index[spec.x] - 1]

    def ref(name: str, first: int = 2, end: int = last) -> str:
        letter = column_letter(index[name])
        return f"{sheet}!${letter}${first}:${letter}${end}" if end != first else f"{sheet}!${letter}${first}"

    x_encoded = encode(frame[spec.x], date1904)
    x_numeric = bool(x_encoded.classes) and all(c in ("n", "d") for c in x_encoded.classes)
    cat_format = "General"
    if x_numeric:
        fmt = "yyyy-mm-dd" if x_col.kind == OUT_DATE or "d" in x_encoded.classes else "General"
        cat_format = fmt
        categories = f"<c:numRef><c:f>{clean_text(ref(spec.x))}</c:f>{_cache('num', x_encoded.texts, x_encoded.classes, fmt)}</c:numRef>"
    else:
        categories = f"<c:strRef><c:f>{clean_text(ref(spec.x))}</c:f>{_cache('str', clean_texts(x_encoded.texts), x_encoded.classes)}</c:strRef>"

    series = []
    for order, name in enumerate(spec.series):
        col = columns[index[name] - 1]
        values = encode(frame[name], date1904)
        numeric = [c if c in ("n", "d") else "" for c in values.classes]
        series.append(
            f'<c:ser><c:idx val="{order}"/><c:order val="{order}"/>'
            f'<c:tx><c:strRef><c:f>{clean_text(ref(name, 1, 1))}</c:f>'
            f'<c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>{clean_text(col.title)}</c:v></c:pt></c:strCache></c:strRef></c:tx>'
            '<c:marker><c:symbol val="none"/></c:marker>'
            f'<c:cat>{categories}</c:cat>'
            f'<c:val><c:numRef><c:f>{clean_text(ref(name))}</c:f>{_cache("num", values.texts, numeric, "General")}</c:numRef></c:val>'
            '<c:smooth val="0"/></c:ser>')

    y_title = _title(spec.y_title) if spec.y_title else ""
    # Axis labels in the data's own look: dates as dates, shares as percentages (not serials, 0-1).
    cat_axis_format = _axis_format(cat_format)
    all_pct = all(columns[index[name] - 1].kind == OUT_PCT for name in spec.series)
    val_axis_format = _axis_format("0%" if all_pct else "General")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace {_NS}><c:roundedCorners val="0"/><c:chart>{_title(spec.title)}<c:autoTitleDeleted val="0"/>'
        '<c:plotArea><c:layout/><c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>'
        f'{"".join(series)}<c:marker val="1"/><c:axId val="{_CAT_AX}"/><c:axId val="{_VAL_AX}"/></c:lineChart>'
        f'<c:catAx><c:axId val="{_CAT_AX}"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        f'<c:axPos val="b"/>{cat_axis_format}<c:majorTickMark val="out"/>'
        f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="{_VAL_AX}"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="{_VAL_AX}"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        f'<c:axPos val="l"/><c:majorGridlines/>{y_title}{val_axis_format}'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        f'<c:crossAx val="{_CAT_AX}"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx></c:plotArea>'
        '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend><c:plotVisOnly val="1"/>'
        '<c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    ).encode("utf-8")


def _axis_format(code: str) -> str:
    if code == "General":
        return '<c:numFmt formatCode="General" sourceLinked="1"/>'
    return f'<c:numFmt formatCode="{code}" sourceLinked="0"/>'


def _title(text: str) -> str:
    return (f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>{clean_text(text)}</a:t></a:r></a:p>'
            '</c:rich></c:tx><c:overlay val="0"/></c:title>')


def _cache(kind: str, texts: list[str], classes: list[str], fmt: str = "") -> str:
    """A numCache/strCache of the points that have a value (blank points are left out)."""
    points = "".join(f'<c:pt idx="{i}"><c:v>{t}</c:v></c:pt>' for i, (t, c) in enumerate(zip(texts, classes)) if c)
    head = f"<c:formatCode>{clean_text(fmt)}</c:formatCode>" if kind == "num" else ""
    return f'<c:{kind}Cache>{head}<c:ptCount val="{max(len(texts), 1)}"/>{points}</c:{kind}Cache>'
