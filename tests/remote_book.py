"""A workbook file as an xlwings Book on xlwings' "remote" engine, and what a macro did to it.

The remote engine (xlwings Server / xlwings Lite) runs without Excel: the client sends the
workbook as JSON (sheets with their values, tables, names), Python works on xlwings' own Book,
Sheet and Range objects, and every change is recorded as an action for the client to apply
(`book.json()["actions"]`). `book_json` builds the payload the Office Scripts client of xlwings
(xlwings/js/xlwings.ts) sends, from a real .xlsx read by python-calamine; `apply_actions` plays
the recorded actions back onto those values, as the client would, so a test can read the sheets
the button would leave in Excel.

The remote engine lives in xlwings' `pro` package (PolyForm Noncommercial or a commercial
licence); these tests use it under the noncommercial key, only to check inv-sheets itself.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree


def remote_engine():
    """xlwings with its remote engine registered (it is only loaded with a licence key set)."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    from xlwings.main import Engine

    if "remote" not in [e.name for e in xw.engines]:
        from xlwings.pro import _xlremote

        xw.engines.add(Engine(impl=_xlremote.engine))
    return xw


def book_json(path: str | Path) -> dict[str, Any]:
    """The JSON an xlwings client sends for the workbook at `path` (values from A1, dates as ISO)."""
    import xlwings
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    tables = _tables(path)
    sheets = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        width = max((len(r) for r in rows), default=0)
        values = [[_json_value(v) for v in r] + [""] * (width - len(r)) for r in rows] or [[]]
        sheets.append({"name": name, "values": values, "pictures": [], "tables": tables.get(name, []),
                       "charts": [], "shapes": [], "notes": []})
    return {
        "client": "Microsoft Office Scripts",
        "version": xlwings.__version__,
        "book": {"name": Path(path).name, "active_sheet_index": 0, "selection": "A1"},
        "names": _names(path, wb.sheet_names),
        "sheets": sheets,
    }


def _json_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, dt.date):
        return f"{v.isoformat()}T00:00:00.000Z"
    return v


def _names(path: str | Path, sheet_names: list[str]) -> list[dict[str, Any]]:
    """Defined names that refer to one cell or range of a sheet, as the client lists them."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/workbook.xml"))
    out = []
    for dn in root.iter("{*}definedName"):
        m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", (dn.text or "").strip())
        if not m or dn.get("localSheetId") is not None:
            continue
        sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
        if sheet in sheet_names:
            out.append({"name": dn.get("name"), "sheet_index": sheet_names.index(sheet),
                        "address": m.group(3).replace("$", ""), "scope_sheet_name": None,
                        "scope_sheet_index": None, "book_scope": True})
    return out


def _tables(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Each sheet's Excel tables as the client describes them (name and addresses)."""
    from inv_sheets.io.package import REL_TABLE, REL_WORKSHEET, Package

    out: dict[str, list[dict[str, Any]]] = {}
    with Package(Path(path)) as pkg:
        main = pkg.main_part()
        rels = pkg.rels(main)
        for el in pkg.xml(main).iter("{*}sheet"):
            rel = rels.get(el.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"))
            if rel is None or rel.type != REL_WORKSHEET:
                continue
            for t in pkg.rels(rel.target).of_type(REL_TABLE):
                table = pkg.xml(t.target)
                ref = table.get("ref")
                first, last = ref.split(":")
                row0 = int(re.sub(r"[A-Z]", "", first))
                col0, col1 = re.sub(r"\d", "", first), re.sub(r"\d", "", last)
                out.setdefault(el.get("name"), []).append({
                    "name": table.get("name"), "range_address": ref,
                    "header_row_range_address": f"{first}:{col1}{row0}",
                    "data_body_range_address": f"{col0}{row0 + 1}:{last}", "total_row_range_address": None,
                    "show_headers": True, "show_totals": False, "table_style": "TableStyleLight1",
                    "show_autofilter": True})
    return out


def apply_actions(payload: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, list[list[Any]]]:
    """The sheets' values after the client applies the recorded actions (formatting is ignored).

    Values are kept as sent; a leading apostrophe is Excel's "store as text" mark and is dropped.
    """
    names = [s["name"] for s in payload["sheets"]]
    grids = {s["name"]: {} for s in payload["sheets"]}
    for s in payload["sheets"]:
        for r, row in enumerate(s["values"]):
            for c, v in enumerate(row):
                if v != "":
                    grids[s["name"]][r, c] = v
    for a in actions:
        func = a["func"]
        if func == "addSheet":
            position, name = a["args"]
            names.insert(position, name)
            grids[name] = {}
        elif func == "sheetDelete":
            del grids[names.pop(a["sheet_position"])]
        elif func == "setSheetName":
            old = names[a["sheet_position"]]
            names[a["sheet_position"]] = a["args"][0]
            grids[a["args"][0]] = grids.pop(old)
        elif func in ("setValues", "rangeClearContents", "rangeClear", "sheetClear", "sheetClearContents"):
            grid = grids[names[a["sheet_position"]]]
            if func.startswith("sheet"):
                grid.clear()
                continue
            r0, c0 = a["start_row"], a["start_column"]
            for r in range(a["row_count"]):
                for c in range(a["column_count"]):
                    value = a["values"][r][c] if func == "setValues" else ""
                    if isinstance(value, str) and value.startswith("'"):
                        value = value[1:]
                    if value in ("", None):
                        grid.pop((r0 + r, c0 + c), None)
                    else:
                        grid[r0 + r, c0 + c] = value
    out = {}
    for name in names:
        grid = grids[name]
        height = max((r for r, _ in grid), default=-1) + 1
        width = max((c for _, c in grid), default=-1) + 1
        out[name] = [[grid.get((r, c)) for c in range(width)] for r in range(height)]
    return out
