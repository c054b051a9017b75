"""Build typed `Store` values straight from rows, so each test shows its own data.

The validator makes Stores from workbooks; tests of the ledger and the features build them here
instead: each sheet is a list of dicts (canonical column names, missing keys blank), typed the way
the validator types them, indexed by Excel row (the first data row is 2), with the column letters
in schema order.

    store = make_store(
        items=[{"sku": "A", "name": "Apple"}],
        movements=[mv("2026-01-02", "receive", "A", 10, to="MAIN")],
        settings={"as_of": "2026-01-31"},
    )
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable

import numpy as np
import pandas as pd

from inv_sheets.contract.book import Settings, Store
from inv_sheets.contract.issues import column_letter
from inv_sheets.contract.schema import BOOL, CHOICE, CODE, DATE, INTEGER, NUMBER, SHEETS

_ARGS = {s.name: s.name.lower().replace(" ", "_") for s in SHEETS}  # "Item Locations" -> item_locations


def typed_frame(sheet: str, rows: Iterable[dict[str, Any]] | None, first_row: int = 2) -> pd.DataFrame:
    """A sheet's rows typed like the validator types them, indexed by Excel row."""
    schema = next(s for s in SHEETS if s.name == sheet)
    rows = list(rows or [])
    unknown = {k for r in rows for k in r} - {c.name for c in schema.columns}
    if unknown:
        raise KeyError(f"{sheet} has no column(s) {sorted(unknown)}")
    index = pd.Index(range(first_row, first_row + len(rows)), dtype="int64")
    data = {}
    for col in schema.columns:
        values = [r.get(col.name) for r in rows]
        if col.type in (NUMBER, INTEGER):
            data[col.name] = pd.Series([np.nan if v is None else float(v) for v in values], index=index, dtype="float64")
        elif col.type == DATE:
            data[col.name] = pd.Series([pd.NaT if v is None else pd.Timestamp(v) for v in values],
                                       index=index, dtype="datetime64[ns]")
        elif col.type == BOOL:
            data[col.name] = pd.Series([None if v is None else bool(v) for v in values], index=index, dtype="object")
        else:
            if col.type == CODE:
                values = [None if v is None else str(v).strip().upper() for v in values]
            elif col.type == CHOICE:
                values = [None if v is None else str(v).strip().lower() for v in values]
            data[col.name] = pd.Series(values, index=index, dtype="str")
    return pd.DataFrame(data, index=index)


def make_settings(values: dict[str, Any] | None = None) -> Settings:
    """Settings from a dict; as_of defaults to 2026-12-31 so tests do not depend on today."""
    values = dict(values or {})
    values["as_of"] = pd.Timestamp(values.get("as_of", "2026-12-31"))
    if isinstance(values.get("adjusters"), str):
        values["adjusters"] = tuple(a.strip() for a in values["adjusters"].split(","))
    return Settings(**values)


def make_store(settings: dict[str, Any] | None = None, **sheets: list[dict[str, Any]] | None) -> Store:
    """A Store from rows per sheet (keyword = sheet name in snake case: items, movements, item_locations).

    A sheet passed (even as an empty list) exists in the workbook; one left out does not.
    """
    by_arg = {v: k for k, v in _ARGS.items()}
    unknown = set(sheets) - set(by_arg)
    if unknown:
        raise TypeError(f"unknown sheet argument(s) {sorted(unknown)}")
    tables, titles, letters = {}, {}, {}
    for schema in SHEETS:
        rows = sheets.get(_ARGS[schema.name])
        tables[schema.name] = typed_frame(schema.name, rows)
        letters[schema.name] = {c.name: column_letter(i) for i, c in enumerate(schema.columns, start=1)}
        if rows is not None or schema.name in ("Items", "Movements"):
            titles[schema.name] = schema.name
    return Store(tables=tables, settings=make_settings(settings), titles=titles, letters=letters)


_ids = itertools.count(1)


def mv(date: str, type: str, sku: str, qty: float, *, frm: str | None = None, to: str | None = None,
       batch: str | None = None, expiry: str | None = None, ref: str | None = None, id: str | None = None,
       **more: Any) -> dict[str, Any]:
    """One Movements row as a dict (movement_id made up when not given)."""
    row = {"movement_id": id or f"M{next(_ids)}", "date": date, "type": type, "sku": sku, "qty": qty,
           "from_location": frm, "to_location": to, "batch": batch, "expiry": expiry, "reference": ref}
    row.update(more)
    return row


def items(*skus: str, **common: Any) -> list[dict[str, Any]]:
    """Items rows for some SKUs, named after themselves, with shared extra columns."""
    return [{"sku": s, "name": f"Item {s}", **common} for s in skus]
