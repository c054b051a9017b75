"""Build small workbooks in code, so each test shows its own data.

`make_workbook(path, {"Items": [["SKU", "Name"], ["A-1", "Tee"]], ...})`: every sheet is a list
of rows, the first row its headers; values are written with their own type (a str stays text,
a float a number, a date a date), as a person typing in Excel would leave them.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

MINIMAL = {
    "Items": [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4.0], ["TEE-L", "Tee L", 4.5]],
    "Movements": [["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location"]],
}


def make_workbook(path: str | Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Write the sheets to a new .xlsx at path and return the path."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return Path(path)
