"""SheetData -> the parts of one output worksheet: sheet XML, its Excel table, its chart.

The sheet is a readable table: a bold, filled header row that stays frozen, one number format per
column, column widths from the content (long text wrapped in a capped width), and an Excel table
(the autofilter) whose name user formulas can rely on. Status cells get solid fills (static styles:
they survive every reader, LibreOffice included). Issues' `cell` column links to the cell it names.
Right of the header a link leads to the sheet's block on the Definitions sheet; a line chart sits
below the table.

Every sheet is set up to print: one page wide (landscape when the table is wider than a portrait
page), the header row repeated on every page, the print area on the table alone, the sheet name,
store and as-of day at the top and page numbers at the bottom. A sheet declared with
`page_break_on` starts a new page at each new value of those columns (a pick list per location).

Values are written as inline strings and numbers, never through sharedStrings.xml (which would make
the whole workbook's string table ours to rewrite). Formulas carry their cached value so readers
that do not calculate still see the number. The XML is built as strings, a column at a time, and
is deterministic: the same SheetData and styles give byte-identical parts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain, repeat
from typing import Callable

import numpy as np
import pandas as pd

from ..contract.issues import column_letter, sheet_ref
from ..contract.schema import (
    OUT_BOOL,
    OUT_DATE,
    OUT_DEC,
    OUT_INT,
    OUT_LINK,
    OUT_MONEY,
    OUT_NUM,
    OUT_PCT,
    OUT_TEXT,
    OutColumn,
)
from ..contract.sheetdata import DEFINITIONS_LINK, SheetData
from . import chart as chart_xml
from .cells import Column, clean_text, element_texts, encode
from .styles import CellStyle

NUM_FORMATS = {
    OUT_TEXT: "General", OUT_LINK: "General", OUT_BOOL: "General", OUT_INT: "0", OUT_NUM: "#,##0",
    OUT_DEC: "#,##0.00", OUT_MONEY: "#,##0.00", OUT_PCT: "0.0%", OUT_DATE: "yyyy-mm-dd",
}
FRACTION_FORMAT = "#,##0.00"  # a quantity column holding a value that is not whole (12.5 kg)
DATE_FORMAT = "yyyy-mm-dd"
TABLE_STYLE = "TableStyleLight1"
WRAP_WIDTH = 50.0  # characters of a wrapped column
PORTRAIT_WIDTH = 95.0  # characters of column width that fit a portrait page; wider prints landscape
MAX_PAGE_BREAKS = 1026  # Excel's limit of manual page breaks on a sheet
LINE_HEIGHT = 15.0  # points of one line of text: the default row height
NUMBERS = (OUT_INT, OUT_NUM, OUT_DEC, OUT_MONEY, OUT_PCT)  # right-aligned kinds

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
    print_area: str = ""  # the table's range, $A$1:$H$40: what prints
    encoded: tuple[Column, ...] = ()  # each table column's cells as written (cells.encode), in order


def render(data: SheetData, *, sheet_name: str, table_id: int, table_name: str, style: StyleIndex,
           date1904: bool = False, code_name: str | None = None) -> SheetParts:
    """Render one output sheet. `style` maps a CellStyle to its cellXfs index in the workbook."""
    frame = data.frame()
    columns = data.columns
    n_rows = len(frame)
    last_row = max(n_rows, 1) + 1  # a table needs at least one body row, even an empty one
    last_col = column_letter(len(columns))
    header_xf = style(CellStyle(bold=True, fill="header"))
    row_numbers = list(map(str, range(2, n_rows + 2)))

    header = [_text_cell(f"{column_letter(i)}1", header_xf, clean_text(c.title)) for i, c in enumerate(columns, 1)]
    body: list[list[str]] = []  # one list of cell XML per column, '' for an empty cell
    written: list[Column] = []
    widths: list[float] = []
    links: list[str] = []
    for i, col in enumerate(columns, 1):
        encoded = encode(frame[col.name], date1904)
        written.append(encoded)
        numbers = _numbers(frame[col.name])
        whole = _whole(col, encoded, numbers)
        body.append(_column_cells(column_letter(i), col, encoded, data, style, row_numbers, links, whole))
        width = max(_width(col.kind, encoded, numbers), len(col.title) + 4.0)
        widths.append(min(width, WRAP_WIDTH) if col.wrap else width)
    table_width = sum(widths)
    dim_col = last_col
    if data.definitions:
        # Outside the table and the print area: on screen one click away, never on paper.
        ref = f"{column_letter(len(columns) + 2)}1"
        text = clean_text(data.link_text)
        header.append(_text_cell(ref, style(CellStyle(link=True)), text))
        links.append(f'<hyperlink ref="{ref}" location="{clean_text(data.definitions)}" display="{text}"/>')
        widths += [0.0, len(DEFINITIONS_LINK) + 2.0]  # the gap column keeps the default width
        dim_col = column_letter(len(columns) + 2)

    # The rows as one join over (row open, cells..., row close) tuples: no per-row string building.
    lines = _lines(frame, columns, widths)
    opens = [f'<row r="{r}">' if n < 2 else f'<row r="{r}" ht="{n * LINE_HEIGHT:g}" customHeight="1">'
             for r, n in zip(row_numbers, lines)]

    sheet_data = "".join(chain.from_iterable(zip(opens, *body, repeat("</row>", n_rows))))

    parts = [_WORKSHEET_OPEN]
    code = f' codeName="{clean_text(code_name)}"' if code_name else ""
    parts.append(f'<sheetPr{code}><pageSetUpPr fitToPage="1"/></sheetPr>')
    parts.append(f'<dimension ref="A1:{dim_col}{last_row}"/>')
    parts.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                 'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>')
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    parts.append(_cols(widths))
    parts.append(f'<sheetData><row r="1">{"".join(header)}</row>{sheet_data}</sheetData>')
    if links:
        parts.append(f'<hyperlinks>{"".join(links)}</hyperlinks>')
    breaks = _page_breaks(frame, data.output.page_break_on)
    parts.append(_print_setup(data, landscape=table_width > PORTRAIT_WIDTH, grid=bool(data.output.page_break_on)))
    parts.append(breaks)
    if data.chart is not None:
        parts.append(f'<drawing r:id="{DRAWING_RID}"/>')
    parts.append(f'<tableParts count="1"><tablePart r:id="{TABLE_RID}"/></tableParts></worksheet>')
    worksheet = "".join(parts).encode("utf-8")

    table = _table(table_id, table_name, columns, f"A1:{last_col}{last_row}")
    area = f"$A$1:${last_col}${last_row}"
    if data.chart is None:
        return SheetParts(worksheet, table, print_area=area, encoded=tuple(written))
    # Below the table (a chart's sheet is a short weekly table), so both show without scrolling sideways.
    drawing = chart_xml.drawing(0, n_rows + 2)
    chart = chart_xml.line_chart(data.chart, sheet_ref(sheet_name), frame, columns, date1904)
    return SheetParts(worksheet, table, drawing, chart, print_area=area, encoded=tuple(written))


def number_format(col: OutColumn, whole: bool = True) -> str:
    """The one number format of an output column. A quantity column shows 2 decimals only when one
    of its values is not whole (kilograms), so a column never mixes 143 with 170.01."""
    if col.kind == OUT_NUM and not whole:
        return FRACTION_FORMAT
    return NUM_FORMATS.get(col.kind, "General")


def _print_setup(data: SheetData, *, landscape: bool, grid: bool) -> str:
    """Print options, margins, page setup and the page header (sheet, store and as-of day, file)
    and footer (page numbers), in schema order.

    Fitted to one page wide and as many pages tall as it takes; working documents (a pick list)
    print their grid lines, so every row can be followed across and ticked.
    """
    options = '<printOptions gridLines="1"/>' if grid else ""
    orientation = "landscape" if landscape else "portrait"
    centre = f"&amp;C{_header_text(data.page_header)}" if data.page_header else ""
    return (f'{options}<pageMargins left="0.4" right="0.4" top="0.75" bottom="0.6" header="0.3" footer="0.3"/>'
            f'<pageSetup orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
            f'<headerFooter><oddHeader>&amp;L&amp;"-,Bold"&amp;A{centre}&amp;R&amp;F</oddHeader>'
            '<oddFooter>&amp;CPage &amp;P of &amp;N</oddFooter></headerFooter>')


def _header_text(text: str) -> str:
    """Text for a header section: "&" doubled (a lone one starts a code), then XML-escaped."""
    return clean_text(text.replace("&", "&&"))


def _page_breaks(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """A manual page break before each row where one of `columns` differs from the row above."""
    columns = tuple(c for c in columns if c in frame)
    if not columns or len(frame) < 2:
        return ""
    keys = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), "").astype(str)
    changed = (keys != keys.shift()).any(axis=1).to_numpy()
    # Row i of the frame is Excel row i + 2; a break "after row r" puts row r + 1 on a new page.
    after = [i + 1 for i in range(1, len(frame)) if changed[i]]
    if not after or len(after) > MAX_PAGE_BREAKS:
        return ""
    brks = "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in after)
    return f'<rowBreaks count="{len(after)}" manualBreakCount="{len(after)}">{brks}</rowBreaks>'


def _text_cell(ref: str, xf: int, text: str) -> str:
    return f'<c r="{ref}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _column_cells(letter: str, col: OutColumn, encoded: Column, data: SheetData, style: StyleIndex,
                  row_numbers: list[str], links: list[str], whole: bool) -> list[str]:
    """Every body cell of one column as XML ('' for an empty cell).

    A column of only numbers or only texts (the usual case) is built by one comprehension; mixed
    columns, formulas and links go cell by cell.
    """
    link = col.kind == OUT_LINK
    classes, raw = encoded.classes, encoded.texts
    kinds = set(classes)
    top = any(c.wrap for c in data.columns)
    base = CellStyle(num_fmt=number_format(col, whole), link=link, wrap=col.wrap, top=top, indent=col.kind in NUMBERS)
    xf_base = str(style(base))
    xf_date = str(style(CellStyle(num_fmt=DATE_FORMAT, top=top))) if col.kind != OUT_DATE else xf_base
    fill_xf = {str(value): str(style(replace(base, fill=colour)))
               for value, colour in sorted(data.fills.get(col.name, {}).items())}
    formula = data.formulas.get(col.name)
    formula = clean_text(formula[1:] if formula.startswith("=") else formula) if formula else None

    if not formula and kinds <= {""}:  # an empty column
        return [""] * len(classes)
    texts, preserve = element_texts(raw) if "s" in kinds else (raw, False)
    space = ' xml:space="preserve"' if preserve else ""
    pre = f'<c r="{letter}'
    if not formula and not link and kinds == {"n"}:
        mid = f'" s="{xf_base}"><v>'
        return [f"{pre}{r}{mid}{t}</v></c>" for r, t in zip(row_numbers, texts)]
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
            cells.append(f'{pre}{r}" s="{xf_base}">{f}<v>{text}</v></c>')
        elif cls == "d":
            cells.append(f'{pre}{r}" s="{xf_date}">{f}<v>{text}</v></c>')
        else:  # text and yes/no
            xf = fill_xf.get(plain, xf_base)
            if formula:
                cells.append(f'{pre}{r}" s="{xf}" t="str">{f}<v>{text}</v></c>')
            else:
                cells.append(f'{pre}{r}" s="{xf}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            if link and cls == "s" and plain:
                location = plain if "!" in plain else sheet_ref(plain) + "!A1"  # a sheet's name: its top
                links.append(f'<hyperlink ref="{letter}{r}" location="{clean_text(location)}" display="{text}"/>')
    return cells


def _lines(frame: pd.DataFrame, columns: tuple[OutColumn, ...], widths: list[float]) -> list[int]:
    """Lines of text each row needs for its wrapped columns (1 without any): the row's height.

    Written out because readers do not all fit a row to wrapped text on opening (LibreOffice keeps
    the default height, and the lines overlap the next row).
    """
    lines = np.ones(len(frame), dtype=np.int64)
    for col, width in zip(columns, widths):
        if col.wrap and len(frame):
            lengths = frame[col.name].astype(object).where(frame[col.name].notna(), "").map(str).str.len().to_numpy()
            # A proportional font fits some 1.3 characters of text per digit width; breaking at
            # spaces loses a little of that.
            lines = np.maximum(lines, np.ceil(lengths / (width * 1.2)).astype(np.int64))
    return lines.tolist()


def _numbers(series: pd.Series) -> np.ndarray | None:
    """The finite values of a numeric column (None for a column of text, dates or mixed values)."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return None
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return values[np.isfinite(values)]


def _whole(col: OutColumn, encoded: Column, numbers: np.ndarray | None) -> bool:
    """Whether every number of a quantity column is whole (other kinds have a fixed format)."""
    if col.kind != OUT_NUM:
        return True
    if numbers is not None:
        return bool(np.all(numbers == np.round(numbers)))
    return not any("." in t or "e-" in t for t, c in zip(encoded.texts, encoded.classes) if c == "n")


def _width(kind: str, encoded: Column, numbers: np.ndarray | None) -> float:
    """Characters the column needs: the longest text, or a number as its format shows it (whole
    digits, thousands separators, a sign, 2 decimals), dates 10."""
    if not encoded.texts:
        return 0.0
    if numbers is not None:
        digits = len(str(int(np.abs(numbers).max()))) if numbers.size else 0  # +2: a sign and the indent
        longest = digits + (digits - 1) // 3 + 2 + (3 if kind in (OUT_NUM, OUT_DEC, OUT_MONEY, OUT_PCT) else 0)
    else:
        longest = max(map(len, encoded.texts))
    if kind == OUT_DATE or "d" in encoded.classes:
        longest = max(longest, 10)
    return min(longest + 2.0, 60.0)


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
