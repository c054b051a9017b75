"""The blank workbook every store starts from, drawn from the contract in schema.py.

`build_workbook` writes a new .xlsx: a Start sheet that explains the file, then every input sheet
with friendly headers, a note on each header, dropdowns wherever a column has allowed values, and
number formats that keep dates as dates and codes as text. Given tables, it writes them under the
headers, which is how the demo store and test fixtures are made. The output is byte-reproducible:
the same tables give the same file.

    python -m inv_sheets.contract.template templates/inventory-template.xlsx
"""

from __future__ import annotations

import io
import math
import re
import shutil
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from .issues import WriteError, column_letter, sheet_ref
from .schema import (
    BOOL,
    CODE,
    DATE,
    INTEGER,
    MOVEMENT_TYPES,
    NUMBER,
    OUTPUTS,
    SETTINGS,
    SHEET,
    SHEETS,
    YES_NO,
    Column,
    Sheet,
)

START = "Start"
LISTS = "Lists"  # hidden: sources of dropdowns too long to spell inline
DROPDOWN_ROWS = 20_000  # rows a blank sheet's dropdowns and formats cover
FIXED_TIME = datetime(2026, 1, 1)  # docProps and zip entry times, so builds are reproducible
# The demo store: shipped in the package's resources, or found in a source checkout
DEMO_FILES = (Path(__file__).parents[1] / "resources" / "demo-store.xlsx",
              Path(__file__).parents[2] / "samples" / "demo-store.xlsx")

DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)

# Lists the schema keeps outside Column.choices: the movement types and the setting keys.
EXTRA_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Movements", "type"): tuple(t.name for t in MOVEMENT_TYPES),
    ("Settings", "key"): tuple(s.key for s in SETTINGS),
}


def build_workbook(path: str | Path, tables: Mapping[str, pd.DataFrame] | None = None, *,
                   created: datetime = FIXED_TIME) -> None:
    """Write a new workbook at `path`: the Start sheet, then every input sheet of the contract.

    `tables` maps canonical sheet names to frames with canonical column names; their rows are
    written under the headers (dates as Excel dates, numbers as numbers, codes as text). Settings
    rows fill in the values of the pre-listed keys. Unknown sheets or columns raise ValueError.
    """
    tables = dict(tables or {})
    _check_tables(tables)
    wb = Workbook()
    _start_sheet(wb.active)
    lists = wb.create_sheet(LISTS)
    lists.sheet_state = "hidden"
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        frame = _settings_rows(tables.get(sheet.name)) if sheet.name == "Settings" else tables.get(sheet.name)
        _input_sheet(ws, sheet, frame, lists)
    wb.move_sheet(LISTS, offset=len(wb.sheetnames))  # keep it last, out of the way
    wb.properties.creator = "inv-sheets"
    wb.properties.created = created
    _save_reproducibly(wb, Path(path), created)


def init_workbook(path: str | Path, sample: bool = False, overwrite: bool = False) -> Path:
    """Create a store workbook at `path` (what `inv-sheets init` does): blank, or the demo store.

    Never overwrites an existing file unless `overwrite` is set: it may be the store's only copy.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise WriteError(f"{path} already exists; choose another name or remove it first")
    if not sample:
        build_workbook(path)
        return path
    demo = next((p for p in DEMO_FILES if p.exists()), None)
    if demo is None:
        raise WriteError("the demo store is not installed with this copy of inv-sheets")
    shutil.copyfile(demo, path)
    return path


# Sheets -------------------------------------------------------------------------------------------
def _check_tables(tables: Mapping[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        if name not in SHEET:
            raise ValueError(f"unknown sheet {name!r}; use one of {[s.name for s in SHEETS]}")
        known = {c.name for c in SHEET[name].columns}
        extra = [c for c in frame.columns if c not in known]
        if extra:
            raise ValueError(f"{name} has no column(s) {extra}")


def _start_sheet(ws: Worksheet) -> None:
    """The first thing the user sees: what the file is, what each sheet is for, how to refresh."""
    ws.title = START
    lines: list[tuple[str, ...] | str] = [
        "inv-sheets stock workbook",
        "Keep your stock in this workbook. inv-sheets checks it, applies the ledger rules and writes "
        "computed sheets (stock, reorder, counts, ...) back into it; your own sheets are never changed.",
        "",
        "To refresh",
        ("From a terminal:", "inv-sheets refresh THIS.xlsx   (THIS.xlsx = this file's name)"),
        ("In Excel:", "press the Refresh button, when the workbook has one"),
        ("To check only:", "inv-sheets validate THIS.xlsx"),
        "",
        "Sheets you fill in (only Items and Movements are needed; each other sheet switches on more)",
        *[(s.name, s.help + (" Needed." if s.required else "")) for s in SHEETS],
        "",
        "Sheets inv-sheets writes (replaced on every refresh: do not type in them)",
        *[(o.name, o.help) for o in OUTPUTS],
        "",
        "Movement types (the Type column of Movements)",
        *[(t.name, t.help) for t in MOVEMENT_TYPES],
        "",
        "Every header has a note: hover over it to see what the column holds.",
    ]
    for row, line in enumerate(lines, start=1):
        if isinstance(line, tuple):
            for col, text in enumerate(line, start=1):
                ws.cell(row, col, text)
            ws.cell(row, 1).font = HEADER_FONT
            if line[0] in SHEET:
                ws.cell(row, 1).hyperlink = f"#{sheet_ref(line[0])}!A1"
        elif line:
            ws.cell(row, 1, line)
    ws["A1"].font = TITLE_FONT
    for row in range(2, len(lines) + 1):
        text = lines[row - 1]
        if isinstance(text, str) and text and row > 2 and not text.startswith("Every"):
            ws.cell(row, 1).font = SECTION_FONT
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 100
    _fit_to_width(ws, landscape=False)  # each label prints on the page of its description


def _input_sheet(ws: Worksheet, sheet: Sheet, frame: pd.DataFrame | None, lists: Worksheet) -> None:
    """One input sheet: headers with notes, formats, dropdowns, then the given rows."""
    _headers(ws, [(c.title, _note(sheet, c)) for c in sheet.columns])
    n = 0 if frame is None else len(frame)
    last = max(DROPDOWN_ROWS, n + 1 + DROPDOWN_ROWS // 2)
    for i, col in enumerate(sheet.columns, start=1):
        letter = column_letter(i)
        fmt = _number_format(col)
        if fmt:
            ws.column_dimensions[letter].number_format = fmt
        values = [] if frame is None or col.name not in frame else [_cell_value(col, v) for v in frame[col.name]]
        for row, value in enumerate(values, start=2):
            if value is not None:
                cell = ws.cell(row, i, value)
                if fmt or isinstance(value, datetime):  # a date in a text column (a setting) still reads as one
                    cell.number_format = fmt or DATE_FORMAT
        ws.column_dimensions[letter].width = _width(col.title, "2026-01-31" if col.type == DATE else col.example, values)
        source = _dropdown_source(sheet, col, lists)
        if source:
            _add_dropdown(ws, source, f"{letter}2:{letter}{last}", col)


def _settings_rows(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Settings: every key listed with its given value and what it means (or the given note); rows
    with other keys, repeated ones included, follow as given, so a fixture can show a mistake."""
    meaning = {s.key: s.help + ("" if s.default is None else f" (default {s.default})") for s in SETTINGS}
    given = [] if frame is None else frame.reindex(columns=["key", "value", "note"]).to_dict("records")
    first = {}
    for row in given:
        first.setdefault(str(row["key"]), row)
    rows = [first.get(key, {"key": key}) for key in meaning]
    rows += [row for row in given if row is not first.get(str(row["key"])) or row["key"] not in meaning]
    for row in rows:
        if not isinstance(row.get("note"), str):
            row["note"] = meaning.get(row["key"])
    return pd.DataFrame(rows, columns=["key", "value", "note"])


def _headers(ws: Worksheet, headers: list[tuple[str, str]]) -> None:
    for i, (title, note) in enumerate(headers, start=1):
        cell = ws.cell(1, i, title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="top")
        if note:
            cell.comment = Comment(note, "inv-sheets", width=280, height=110)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _fit_to_width(ws, landscape=True)


def _fit_to_width(ws: Worksheet, *, landscape: bool) -> None:
    """Print one page wide (as many pages tall as it takes), with the sheet name and page numbers."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.oddHeader.left.text = "&A"
    ws.oddFooter.center.text = "Page &P of &N"


# Columns ------------------------------------------------------------------------------------------
def allowed_values(sheet: Sheet, col: Column) -> tuple[str, ...]:
    """The values a column's dropdown offers: its choices, yes/no, movement types or setting keys."""
    if (sheet.name, col.name) in EXTRA_CHOICES:
        return EXTRA_CHOICES[sheet.name, col.name]
    if col.type == BOOL:
        return col.choices or YES_NO
    return col.choices


def _dropdown_source(sheet: Sheet, col: Column, lists: Worksheet) -> str | None:
    """A data-validation list formula: the values inline, a range of Lists, or the referenced sheet."""
    values = allowed_values(sheet, col)
    if values:
        inline = ",".join(values)
        if len(inline) <= 250:  # Excel's limit for an inline list is 255 characters
            return f'"{inline}"'
        index = lists.max_column + (1 if lists["A1"].value is not None else 0)
        for row, value in enumerate((f"{sheet.name}.{col.name}", *values), start=1):
            lists.cell(row, index, value)
        letter = column_letter(index)
        return f"{LISTS}!${letter}$2:${letter}${len(values) + 1}"
    if col.references:
        target, key = col.references.split(".")
        letter = column_letter([c.name for c in SHEET[target].columns].index(key) + 1)
        return f"{sheet_ref(target)}!${letter}$2:${letter}${DROPDOWN_ROWS + 1}"
    return None


def _add_dropdown(ws: Worksheet, source: str | None, cells: str, col: Column) -> None:
    if not source:
        return
    # A warning, not a stop: the toolkit accepts aliases and any case ("Sold" for sale), and a new
    # SKU may be typed in Movements before it is added to Items.
    dv = DataValidation(type="list", formula1=source, allow_blank=True, errorStyle="warning",
                        error=f"Not one of the listed values for {col.title}. Keep it anyway?",
                        errorTitle=col.title, showErrorMessage=True)
    dv.add(cells)
    ws.add_data_validation(dv)


def _note(sheet: Sheet, col: Column) -> str:
    """The header's note: what the column holds, whether it is needed, and its allowed values."""
    parts = [col.help.rstrip(".") + "." if col.help else ""]
    if col.required:
        parts.append("Required.")
    values = allowed_values(sheet, col)
    if values and len(values) <= 10 and ",".join(values) not in col.help:
        parts.append("One of: " + ", ".join(values) + ".")
    if col.references:
        parts.append(f"Must exist on the {col.references.split('.')[0]} sheet.")
    if col.example is not None:
        parts.append(f"Example: {col.example}")
    return " ".join(p for p in parts if p)


def _number_format(col: Column) -> str | None:
    """How a column's cells show: dates as dates, codes as text (keeps leading zeros), numbers plain."""
    if col.type == DATE:
        return DATE_FORMAT
    if col.type == CODE:
        return TEXT_FORMAT
    if col.type == INTEGER:
        return "0"
    if col.type == NUMBER:
        if col.max == 1:  # a share such as a buffer %
            return "0%"
        # money columns show cents; quantities show as typed
        return "#,##0.00" if re.search(r"cost|price|value", col.name) else "General"
    return None


def _cell_value(col: Column, value: object) -> object:
    """A table value as the cell should hold it for the column's type."""
    value = plain_value(value)
    if value is None:
        return None
    if col.type == CODE:
        return value if isinstance(value, str) else _code_text(value)
    if col.type == DATE and isinstance(value, str):
        return value  # left as typed: fixtures may hold text dates on purpose
    return value


def plain_value(value: object) -> object:
    """pandas/numpy scalars to plain Python; missing to None; timestamps to datetimes."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if hasattr(value, "item"):  # numpy scalar
        return plain_value(value.item())
    return value


def _code_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _width(title: str, example: object, values: list) -> float:
    """A column width that fits the header and most values, within reason."""
    sample = [title, "" if example is None else str(example)]
    sample += [v.strftime(DATE_FORMAT) if isinstance(v, datetime) else str(v) for v in values[:500]]
    return float(min(45, max(9, max(len(s) for s in sample) + 2)))


# Saving -------------------------------------------------------------------------------------------
def _save_reproducibly(wb: Workbook, path: Path, when: datetime) -> None:
    """Save with fixed times in docProps and in the zip entries, so equal books are equal bytes."""
    buffer = io.BytesIO()
    wb.save(buffer)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the clock at save time
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    path.write_bytes(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Write the blank template: python -m inv_sheets.contract.template OUT.xlsx"""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m inv_sheets.contract.template OUT.xlsx", file=sys.stderr)
        return 2
    build_workbook(args[0])
    print(f"wrote {args[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
