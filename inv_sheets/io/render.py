"""SheetData -> the parts of one output worksheet: sheet XML, its Excel table, its chart.

The sheet is a readable table: a bold, filled header row that stays frozen, a number format per
column kind, column widths from the content, and an Excel table (the autofilter) whose name user
formulas can rely on. Status cells get solid fills (static styles: they survive every reader,
LibreOffice included). Issues' `cell` column links to the cell it names. A definitions block sits
two columns right of the table, and a line chart below it.

Values are written as inline strings and numbers, never through sharedStrings.xml (which would make
the whole workbook's string table ours to rewrite). Formulas carry their cached value so readers
that do not calculate still see the number. The XML is built as strings, a column at a time, and
is deterministic: the same SheetData and styles give byte-identical parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import Callable

from ..contract.issues import column_letter, sheet_ref
from ..contract.schema import OUT_BOOL, OUT_DATE, OUT_INT, OUT_LINK, OUT_MONEY, OUT_NUM, OUT_PCT, OUT_TEXT, OutColumn
from ..contract.sheetdata import SheetData
from . import chart as chart_xml
from .cells import Column, clean_text, clean_texts, encode, needs_preserve
from .styles import CellStyle

NUM_FORMATS = {
    OUT_TEXT: "General", OUT_LINK: "General", OUT_BOOL: "General", OUT_INT: "0",
    OUT_NUM: "#,##0", OUT_MONEY: "#,##0.00", OUT_PCT: "0.0%", OUT_DATE: "yyyy-mm-dd",
}
FRACTION_FORMAT = "#,##0.0#"  # a "number" cell that is not whole: 12.5, 3.14 (whole ones show 1,250)
DATE_FORMAT = "yyyy-mm-dd"
TABLE_STYLE = "TableStyleLight1"
NOTES_HEADERS = ("Term", "Definition")

# Relationship ids inside the parts this module writes (their rels parts are written fresh).
TABLE_RID, DRAWING_RID = "rId1", "rId2"

_WORKSHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
)

StyleIndex = Callable[[CellStyle], int]


@dataclass(frozen=True)
class SheetParts:
    """The rendered parts of one output sheet; drawing and chart only when it has a chart."""

    worksheet: bytes
    table: bytes
    drawing: bytes | None = None
    chart: bytes | None = None


def render(data: SheetData, *, sheet_name: str, table_id: int, table_name: str, style: StyleIndex,
           date1904: bool = False, code_name: str | None = None) -> SheetParts:
    """Render one output sheet. `style` maps a CellStyle to its cellXfs index in the workbook."""
    frame = data.frame()
    columns = data.columns
    n_rows = len(frame)
    n_body = max(n_rows, len(data.notes))  # rows below the header that hold anything
    last_row = max(n_rows, 1) + 1  # a table needs at least one body row, even an empty one
    last_col = column_letter(len(columns))
    header_xf = style(CellStyle(bold=True, fill="header"))
    row_numbers = list(map(str, range(2, n_body + 2)))

    header = [_text_cell(f"{column_letter(i)}1", header_xf, clean_text(c.title)) for i, c in enumerate(columns, 1)]
    body: list[list[str]] = []  # one list of cell XML per column, '' for an empty cell
    widths: list[float] = []
    links: list[str] = []
    padding = [""] * (n_body - n_rows)
    for i, col in enumerate(columns, 1):
        encoded = encode(frame[col.name], date1904)
        cells = _column_cells(column_letter(i), col, encoded, data, style, row_numbers, links)
        body.append(cells + padding if padding else cells)
        widths.append(max(_width(col.kind, encoded), len(col.title) + 4.0))

    notes_col = len(columns) + 2
    if data.notes:
        header += _notes_header(notes_col, header_xf)
        # Unwrapped: a long definition runs on over the empty cells to its right, and the table's
        # rows keep their height.
        body += _notes_cells(data.notes, notes_col, 0, n_body)
        widths += [0.0, *_notes_widths(data.notes)]  # the gap column keeps the default width
    dim_col = column_letter(notes_col + 1) if data.notes else last_col

    # The rows as one join over (row open, cells..., row close) tuples: no per-row string building.
    opens = [f'<row r="{r}">' for r in row_numbers]

    sheet_data = "".join(chain.from_iterable(zip(opens, *body, repeat("</row>", n_body))))

    parts = [_WORKSHEET_OPEN]
    if code_name:
        parts.append(f'<sheetPr codeName="{clean_text(code_name)}"/>')
    parts.append(f'<dimension ref="A1:{dim_col}{max(last_row, n_body + 1)}"/>')
    parts.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                 'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>')
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    parts.append(_cols(widths))
    parts.append(f'<sheetData><row r="1">{"".join(header)}</row>{sheet_data}</sheetData>')
    if links:
        parts.append(f'<hyperlinks>{"".join(links)}</hyperlinks>')
    parts.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if data.chart is not None:
        parts.append(f'<drawing r:id="{DRAWING_RID}"/>')
    parts.append(f'<tableParts count="1"><tablePart r:id="{TABLE_RID}"/></tableParts></worksheet>')
    worksheet = "".join(parts).encode("utf-8")

    table = _table(table_id, table_name, columns, f"A1:{last_col}{last_row}")
    if data.chart is None:
        return SheetParts(worksheet, table)
    # Below the table (a chart's sheet is a short weekly table), so both show without scrolling sideways.
    drawing = chart_xml.drawing(0, n_body + 2)
    chart = chart_xml.line_chart(data.chart, sheet_ref(sheet_name), frame, columns, date1904)
    return SheetParts(worksheet, table, drawing, chart)


def _text_cell(ref: str, xf: int, text: str) -> str:
    return f'<c r="{ref}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _column_cells(letter: str, col: OutColumn, encoded: Column, data: SheetData, style: StyleIndex,
                  row_numbers: list[str], links: list[str]) -> list[str]:
    """Every body cell of one column as XML ('' for an empty cell).

    A column of only numbers or only texts (the usual case) is built by one comprehension; mixed
    columns, formulas and links go cell by cell.
    """
    link = col.kind == OUT_LINK
    base = CellStyle(num_fmt=NUM_FORMATS.get(col.kind, "General"), link=link)
    xf_base = str(style(base))
    xf_date = str(style(CellStyle(num_fmt=DATE_FORMAT))) if col.kind != OUT_DATE else xf_base
    xf_fraction = str(style(CellStyle(num_fmt=FRACTION_FORMAT))) if col.kind == OUT_NUM else xf_base
    fill_xf = {str(value): str(style(CellStyle(num_fmt=base.num_fmt, fill=colour, link=link)))
               for value, colour in sorted(data.fills.get(col.name, {}).items())}
    formula = data.formulas.get(col.name)
    formula = clean_text(formula[1:] if formula.startswith("=") else formula) if formula else None

    classes, raw = encoded.classes, encoded.texts
    kinds = set(classes)
    if not formula and kinds <= {""}:  # an empty column
        return [""] * len(classes)
    texts = clean_texts(raw) if "s" in kinds else raw
    space = ' xml:space="preserve"' if "s" in kinds and needs_preserve(raw) else ""
    pre = f'<c r="{letter}'
    if not formula and not link and kinds == {"n"}:
        whole, fraction = f'" s="{xf_base}"><v>', f'" s="{xf_fraction}"><v>'
        if whole == fraction:
            return [f"{pre}{r}{whole}{t}</v></c>" for r, t in zip(row_numbers, texts)]
        return [f'{pre}{r}{fraction if "." in t or "e-" in t else whole}{t}</v></c>' for r, t in zip(row_numbers, texts)]
    if not formula and not link and kinds == {"s"}:
        if not fill_xf:
            mid = f'" s="{xf_base}" t="inlineStr"><is><t{space}>'
            return [f"{pre}{r}{mid}{t}</t></is></c>" for r, t in zip(row_numbers, texts)]
        return [f'{pre}{r}" s="{fill_xf.get(p, xf_base)}" t="inlineStr"><is><t{space}>{t}</t></is></c>'
                for r, t, p in zip(row_numbers, texts, raw)]

    cells: list[str] = []
    for r, cls, text, plain in zip(row_numbers, classes, texts, raw):
        f = f"<f>{formula.replace('{row}', r)}</f>" if formula else ""
        if not cls:
            cells.append(f"{pre}{r}\">{f}</c>" if formula else "")
        elif cls == "n":
            xf = xf_fraction if "." in text or "e-" in text else xf_base
            cells.append(f'{pre}{r}" s="{xf}">{f}<v>{text}</v></c>')
        elif cls == "d":
            cells.append(f'{pre}{r}" s="{xf_date}">{f}<v>{text}</v></c>')
        else:  # text and yes/no
            xf = fill_xf.get(plain, xf_base)
            if formula:
                cells.append(f'{pre}{r}" s="{xf}" t="str">{f}<v>{text}</v></c>')
            else:
                cells.append(f'{pre}{r}" s="{xf}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            if link and cls == "s" and plain:
                location = plain if "!" in plain else plain + "!A1"
                links.append(f'<hyperlink ref="{letter}{r}" location="{clean_text(location)}" display="{text}"/>')
    return cells


def _width(kind: str, encoded: Column) -> float:
    """Characters the column needs: the longest text or number as shown (dates 10, +commas)."""
    if not encoded.texts:
        return 0.0
    longest = max(map(len, encoded.texts))
    if kind == OUT_DATE or "d" in encoded.classes:
        longest = max(longest, 10)
    if kind in (OUT_NUM, OUT_MONEY):
        longest += longest // 3 + 3  # thousands separators and decimals
    return min(longest + 2.0, 60.0)


def _notes_header(col: int, header_xf: int) -> list[str]:
    return [_text_cell(f"{column_letter(col + i)}1", header_xf, text) for i, text in enumerate(NOTES_HEADERS)]


def _notes_cells(notes: tuple[tuple[str, str], ...], col: int, text_xf: int, n_body: int) -> list[list[str]]:
    """The definitions block right of the table, as two columns of cells (term, definition)."""
    term, definition = column_letter(col), column_letter(col + 1)
    pad = [""] * (n_body - len(notes))
    terms = [_text_cell(f"{term}{r}", 0, clean_text(str(name))) for r, (name, _) in enumerate(notes, 2)]
    texts = [_text_cell(f"{definition}{r}", text_xf, clean_text(str(text))) for r, (_, text) in enumerate(notes, 2)]
    return [terms + pad, texts + pad]


def _notes_widths(notes: tuple[tuple[str, str], ...]) -> tuple[float, float]:
    return min(max([len(NOTES_HEADERS[0]), *(len(str(n)) for n, _ in notes)]) + 2.0, 40.0), 70.0


def _cols(widths: list[float]) -> str:
    spans = [f'<col min="{i}" max="{i}" width="{w:.2f}" customWidth="1"/>' for i, w in enumerate(widths, 1) if w > 0]
    return f"<cols>{''.join(spans)}</cols>"


def _table(table_id: int, name: str, columns: tuple[OutColumn, ...], ref: str) -> bytes:
    cols = "".join(f'<tableColumn id="{i}" name="{clean_text(c.title)}"/>' for i, c in enumerate(columns, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="{table_id}" '
        f'name="{clean_text(name)}" displayName="{clean_text(name)}" ref="{ref}" totalsRowShown="0">'
        f'<autoFilter ref="{ref}"/><tableColumns count="{len(columns)}">{cols}</tableColumns>'
        f'<tableStyleInfo name="{TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
        'showColumnStripes="0"/></table>'
    ).encode("utf-8")
