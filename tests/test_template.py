"""The blank template: drawn from the contract, reproducible, and the committed copy up to date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from inv_sheets.contract.issues import WriteError, column_letter
from inv_sheets.contract.schema import BOOL, CODE, DATE, SETTINGS, SHEET, SHEETS, match_column
from inv_sheets.contract.template import DROPDOWN_ROWS, LISTS, START, allowed_values, build_workbook, init_workbook

COMMITTED = Path(__file__).resolve().parent.parent / "templates" / "inventory-template.xlsx"


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "blank.xlsx"
    build_workbook(path)
    return path


@pytest.fixture(scope="module")
def book(blank):
    return openpyxl.load_workbook(blank)


def describe(path: Path) -> dict:
    """What a user sees in a workbook: sheets, cells, notes, formats, widths, dropdowns, frozen panes."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb:
        out[ws.title] = {
            "state": ws.sheet_state,
            "freeze": ws.freeze_panes,
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "notes": {c.coordinate: c.comment.text for row in ws.iter_rows(max_row=1) for c in row if c.comment},
            "columns": {k: (d.width, d.number_format) for k, d in ws.column_dimensions.items()},
            "dropdowns": sorted((str(dv.sqref), dv.type, dv.formula1) for dv in ws.data_validations.dataValidation),
        }
    return out


def test_committed_template_is_up_to_date(blank):
    assert COMMITTED.exists(), "run: python -m inv_sheets.contract.template templates/inventory-template.xlsx"
    assert describe(COMMITTED) == describe(blank), \
        "templates/inventory-template.xlsx is stale: python -m inv_sheets.contract.template templates/inventory-template.xlsx"


def test_builds_are_byte_for_byte_the_same(blank, tmp_path):
    again = tmp_path / "again.xlsx"
    build_workbook(again)
    assert again.read_bytes() == blank.read_bytes()


def test_start_sheet_first_then_every_input_sheet_in_order(book):
    visible = [ws.title for ws in book if ws.sheet_state == "visible"]
    assert visible == [START] + [s.name for s in SHEETS]
    assert book[LISTS].sheet_state == "hidden"
    start = "\n".join(str(c.value) for row in book[START].iter_rows() for c in row if c.value)
    assert "inv-sheets refresh" in start and "Refresh button" in start
    for sheet in SHEETS:
        assert sheet.help in start


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_every_column_is_a_header_with_a_note(book, sheet):
    ws = book[sheet.name]
    headers = [c.value for c in ws[1]][:len(sheet.columns)]
    assert headers == [c.title for c in sheet.columns]
    for i, col in enumerate(sheet.columns, start=1):
        note = ws.cell(1, i).comment
        if col.help:
            assert note is not None and col.help.rstrip(".") in note.text
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_headers_read_back_as_their_own_columns(sheet):
    for col in sheet.columns:
        assert match_column(sheet.name, col.title) == col.name


def dropdown_values(book, ws, dv) -> list[str]:
    source = dv.formula1
    if source.startswith('"'):
        return source.strip('"').split(",")
    sheet, cells = source.split("!")
    return [c.value for row in book[sheet.strip("'")][cells.replace("$", "")] for c in row]


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_every_column_with_allowed_values_has_a_dropdown(book, sheet):
    ws = book[sheet.name]
    dropdowns = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    for i, col in enumerate(sheet.columns, start=1):
        values = allowed_values(sheet, col)
        letter = column_letter(i)
        if not values:
            assert col.type != BOOL and not col.choices
            continue
        dv = dropdowns[f"{letter}2"]
        assert dv.type == "list"
        assert dropdown_values(book, ws, dv) == list(values)
        last = int(str(dv.sqref).split(":")[1][len(letter):])
        assert last >= DROPDOWN_ROWS


def test_movement_types_and_setting_keys_are_offered(book):
    ws = book["Movements"]
    types = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("C2"))
    assert "vendor-return" in dropdown_values(book, ws, types)
    keys = book["Settings"].data_validations.dataValidation[0]
    assert dropdown_values(book, book["Settings"], keys) == [s.key for s in SETTINGS]


def test_references_offer_the_referenced_sheet(book):
    ws = book["Movements"]
    sku = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("D2"))
    assert sku.formula1.startswith("Items!$A$2")


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name)
def test_formats_keep_dates_as_dates_and_codes_as_text(book, sheet):
    ws = book[sheet.name]
    for i, col in enumerate(sheet.columns, start=1):
        fmt = ws.column_dimensions[column_letter(i)].number_format
        if col.type == CODE:
            assert fmt == "@"
        elif col.type == DATE:
            assert "yy" in fmt
        assert ws.column_dimensions[column_letter(i)].width >= 9


def test_settings_lists_every_key_with_what_it_means(book):
    rows = list(book["Settings"].iter_rows(values_only=True))
    assert rows[0] == tuple(c.title for c in SHEET["Settings"].columns)
    assert [r[0] for r in rows[1:]] == [s.key for s in SETTINGS]
    assert all(r[1] is None for r in rows[1:])
    demand = next(r for r in rows if r[0] == "demand_days")
    assert "(default 90)" in demand[2]


def test_tables_are_written_with_their_types(tmp_path):
    path = tmp_path / "store.xlsx"
    build_workbook(path, {
        "Items": pd.DataFrame({"sku": ["007"], "name": ["Tee"], "barcode": ["0712345000017"], "unit_cost": [4.2]}),
        "Movements": pd.DataFrame({"movement_id": ["M1"], "date": [pd.Timestamp("2026-03-04")], "type": ["receive"],
                                   "sku": ["007"], "qty": [12]}),
        "Settings": pd.DataFrame({"key": ["as_of", "my_own"], "value": [pd.Timestamp("2026-03-31"), "x"]}),
    })
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["Items"][2]][:3] == ["007", "Tee", None]
    assert wb["Items"]["H2"].value == "0712345000017" and wb["Items"]["H2"].number_format == "@"
    assert wb["Items"]["F2"].value == 4.2
    assert wb["Movements"]["B2"].value == datetime(2026, 3, 4) and wb["Movements"]["E2"].value == 12
    settings = {r[0]: r[1] for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["as_of"] == datetime(2026, 3, 31) and settings["my_own"] == "x"
    assert wb["Settings"]["B2"].number_format == "yyyy-mm-dd"
    frames = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=str)  # a second, independent reader
    assert frames["Items"].loc[0, "SKU"] == "007"


def test_unknown_sheets_and_columns_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown sheet"):
        build_workbook(tmp_path / "x.xlsx", {"Stock": pd.DataFrame()})
    with pytest.raises(ValueError, match="no column"):
        build_workbook(tmp_path / "x.xlsx", {"Items": pd.DataFrame({"colour": ["red"]})})


def test_init_never_overwrites(tmp_path):
    path = init_workbook(tmp_path / "store.xlsx")
    assert openpyxl.load_workbook(path).sheetnames[0] == START
    with pytest.raises(WriteError):
        init_workbook(path)


def test_init_with_sample_copies_the_demo_store(tmp_path):
    path = init_workbook(tmp_path / "demo.xlsx", sample=True)
    assert "Movements" in openpyxl.load_workbook(path, read_only=True).sheetnames
