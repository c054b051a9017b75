"""Validate a workbook: type every cell against the contract, run the cross-sheet checks, and build
the `Store` the ledger computes on.

Everything is collected, nothing stops at the first problem. Which rows are left out: on the
transaction sheets (Movements, Counts, Orders, Purchases, Bundles, Promotions) a row with any error;
on the master sheets (Items, Locations, Suppliers, Channels, Item Locations, Settings) only a row
whose key is missing or repeated, while a bad cell elsewhere is left blank, so one mistyped price
does not make every movement of that SKU vanish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from ..contract.book import Book, Settings, Store, Table
from ..contract.issues import ERROR, Issue, Report
from ..contract.parse import Bad, blank_cells, parse_column, parse_day
from ..contract.schema import (
    BOOL,
    CHOICE,
    CODE,
    DATE,
    DATE_ORDERS,
    INTEGER,
    NUMBER,
    SETTING,
    SETTINGS,
    SHEETS,
    TEXT,
    Column,
    fold,
)
from ..io import cache
from . import checks

if TYPE_CHECKING:
    from ..ledger.postings import Ledger

TRANSACTION_SHEETS = ("Movements", "Counts", "Orders", "Purchases", "Bundles", "Promotions")
_SETTING_KEYS = {fold(s.key): s.key for s in SETTINGS}


def load(path: str | os.PathLike, *, progress: Callable[[str], None] | None = None) -> Book:
    """Read a workbook file (raises InvSheetsError when it cannot be read at all)."""
    from ..io.read import read_book

    return read_book(path, progress=progress)


def parse(book: Book, *, as_of: pd.Timestamp | str | None = None) -> tuple[Store, list[Issue]]:
    """Type and check every sheet; return the Store (bad rows left out) and every finding."""
    issues = list(book.issues)
    settings = _settings(book, issues, as_of)
    tables: dict[str, pd.DataFrame] = {}
    titles: dict[str, str] = {}
    letters: dict[str, dict[str, str]] = {}
    keys: dict[str, str] = {}  # the typing key of each sheet read from a known source
    for sheet in SHEETS:
        table = book.table(sheet.name)
        if table is None:
            tables[sheet.name] = empty_frame(sheet.name)
            continue
        titles[sheet.name] = table.title
        letters[sheet.name] = dict(table.letters)
        # A big sheet read before is typed as it was then: typing depends only on its cells (its
        # source), the date order and the date system.
        key = _typed_key(table.source, settings, book.date1904) if table.source else None
        known = cache.load_typed(book.path, table.title, key) if key else None
        if known is None:
            again = _typed_again(book.path, table, settings, book.date1904) if key and table.earlier else None
            known = again[:2] if again else _typed(table, settings.date_order, book.date1904)
            if key:
                cache.save_typed(book.path, table.title, key, *known, extends=again[2] if again else None)
        tables[sheet.name] = known[0]
        issues.extend(known[1])
        if key:
            keys[sheet.name] = key
    store = Store(tables, settings, titles, letters,
                  raw={name: t.data for name, t in book.tables.items()})
    issues.extend(_checked(book, store, keys))
    return _without_bad_rows(store, issues), book.locate(issues)


def _checked(book: Book, store: Store, keys: dict[str, str]) -> list[Issue]:
    """checks.run, keeping what the last refresh found on the ledger's rows (checks.Kept) when the
    rows it checked are this ledger's first rows, cell for cell (their typing key, or the key of
    the earlier read this one grew from), and everything else the checks of a row read is as it
    was (_row_context)."""
    ledger = book.table(checks.LEDGER)
    key = keys.get(checks.LEDGER)
    if ledger is None or key is None or not cache.enabled():
        return checks.run(store)[0]
    context = _row_context(store, keys)
    candidates = [key]
    earlier = ledger.earlier
    if earlier is not None and ledger.data.index[:len(earlier.rows)].equals(earlier.rows):
        candidates.append(_typed_key(earlier.source, store.settings, book.date1904))
    kept = next((found for found in (cache.load_value(book.path, cache.ROW_CHECKS, cache.digest(k, context))
                                     for k in candidates) if isinstance(found, checks.Kept)), None)
    issues, now = checks.run(store, kept)
    cache.save_value(book.path, cache.ROW_CHECKS, cache.digest(key, context), now)
    return issues


def _row_context(store: Store, keys: dict[str, str]) -> str:
    """A digest of what the checks of a ledger row read besides the row: the other sheets as typed
    (by their typing key, or their values when small), the settings but the as-of day, which
    sheets there are and their names, and the ledger's column letters (where findings point)."""
    from pandas.util import hash_pandas_object

    fields = [repr(dataclasses.replace(store.settings, as_of=None)), repr(sorted(store.titles.items())),
              repr(sorted(store.letters.get(checks.LEDGER, {}).items()))]
    for name, frame in sorted(store.tables.items()):
        if name == checks.LEDGER:
            continue
        if name in keys:
            fields.append(keys[name])
        else:
            fields.append(f"{name}|{list(frame.columns)}|{list(map(str, frame.dtypes))}|"
                          + hashlib.sha256(hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest())
    return cache.digest(*fields)


def _typed_key(source: str, settings: Settings, date1904: bool) -> str:
    return cache.digest(source, "typed", str(settings.date_order), str(date1904))


def _typed_again(path: str, table: Table, settings: Settings,
                 date1904: bool) -> tuple[pd.DataFrame, list[Issue], str | None] | None:
    """A grown sheet typed by typing only its new rows: the rows it shares with its earlier read
    (table.earlier) are typed as they were then, with the findings they had. Typing a cell depends
    on that cell alone (and the date order and system, part of the key), so this is the typing of
    the whole sheet; None when the earlier typing is not at hand or does not line up. The third
    value is the earlier typing's key when its rows are the first rows of this one (for the cache
    to keep only the new ones), else None."""
    earlier = table.earlier
    before_key = _typed_key(earlier.source, settings, date1904)
    before = cache.load_typed(path, table.title, before_key)
    if before is None or not before[0].index.equals(earlier.rows):
        return None
    frame, issues = before
    fresh = table.data.index.difference(earlier.rows, sort=False)
    if not len(fresh):  # the same cells, saved again
        return frame, issues, before_key
    added, found = _typed(dataclasses.replace(table, data=table.data.loc[fresh]), settings.date_order, date1904)
    if not frame.dtypes.equals(added.dtypes):
        return None  # the new rows' types would change a column's: type the whole sheet
    whole = pd.concat([frame, added])
    if not whole.index.equals(table.data.index):
        return whole.reindex(table.data.index), issues + found, None
    return whole, issues + found, before_key


def _typed(table: Table, date_order: str | None, date1904: bool) -> tuple[pd.DataFrame, list[Issue]]:
    """A sheet's cells as values of their declared types, and a finding for each cell that is not one."""
    sheet = table.schema
    typed, issues = {}, []
    for col in sheet.columns:
        if col.name not in table.data:
            typed[col.name] = _empty_column(col, table.data.index)
            continue
        raw = table.data[col.name]
        values, bad = parse_column(raw, col, date_order=date_order, date1904=date1904,
                                   exact=col.name not in table.column_wise)
        if col.type in (CODE, CHOICE, TEXT):
            # Arrow-backed text: a quarter of the memory of Python strings, and column-wise
            # string operations; blanks become NaN, as in every str column.
            values = values.astype("str")
        issues.extend(_issue(b, table.title, table.letters[col.name], col) for b in bad)
        if col.required:
            for row in raw.index[blank_cells(raw).to_numpy()]:
                issues.append(Issue("required-value", table.title, int(row), table.letters[col.name],
                                    f"{col.title} is required on every {sheet.name} row: fill it in "
                                    "or delete the row.", field=col.name))
        typed[col.name] = values
    return pd.DataFrame(typed, index=table.data.index), issues


def validate_inputs(source: str | os.PathLike | Book, *, as_of=None, progress=None) -> Report:
    """Every finding of the cells, the sheets and the ledger (negative stock, over-reserved,
    count variance, unknown batch, ...), as a Report; nothing is written.

    The inputs only: `inv-sheets validate` and `inv_sheets.validate` (refresh.validate) add what
    the figures find, so they report everything a refresh would.
    """
    book = source if isinstance(source, Book) else load(source, progress=progress)
    store, _, issues = check(book, as_of=as_of)
    report = Report(book.path, issues)
    report.summary = summary(store)
    return report


def check(book: Book, *, as_of=None) -> tuple[Store, Ledger, list[Issue]]:
    """The typed store, its ledger, and every finding of the cells, the sheets and the ledger."""
    from ..ledger.postings import build

    store, issues = parse(book, as_of=as_of)
    ledger = build(store)
    return store, ledger, unique(book.locate(issues + list(ledger.issues)))


def summary(store: Store, rows: str = "sheets") -> dict:
    """The as-of day, the rows of each sheet (under `rows`), and how many rows with errors the
    figures leave out (left_out, sheet -> rows; only when some are)."""
    gaps = left_out(store)
    out = {rows: {name: len(store.tables[name]) for name in store.titles},
           "as_of": store.settings.as_of.date().isoformat()}
    if gaps:
        out["left_out"] = {store.titles[name]: len(rows) for name, rows in gaps.items()}
    return out


def left_out(store: Store) -> dict[str, list[int]]:
    """The rows with errors each sheet's figures leave out (sheet name -> the rows, as in its data)."""
    out = {}
    for name in store.titles:
        raw = store.raw.get(name)
        if raw is None:
            continue
        gone = raw.index.difference(store.tables[name].index)
        if len(gone):
            out[name] = [int(r) for r in gone]
    return out


def unique(issues: list[Issue]) -> list[Issue]:
    """One finding per code and cell (two steps may notice the same thing)."""
    seen: set[tuple] = set()
    out = []
    for i in issues:
        key = (i.code, i.sheet, i.row, i.column)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def empty_frame(sheet: str) -> pd.DataFrame:
    from ..contract.schema import SHEET

    return pd.DataFrame({c.name: _empty_column(c, pd.RangeIndex(0)) for c in SHEET[sheet].columns})


def _empty_column(col: Column, index) -> pd.Series:
    if col.type in (NUMBER, INTEGER):
        return pd.Series(np.nan, index=index, dtype="float64")
    if col.type == DATE:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    return pd.Series(None, index=index, dtype=object)


def _issue(bad: Bad, title: str, letter: str, col: Column) -> Issue:
    return Issue(bad.code, title, int(bad.row), letter, bad.message, value=bad.value, field=col.name)


def _settings(book: Book, issues: list[Issue], as_of) -> Settings:
    """Settings with defaults; a bad value is a finding and the default stands."""
    values: dict[str, object] = {}
    table = book.table("Settings")
    if table is not None and "key" in table.data:
        for row, key in table.data["key"].items():
            if key is None or (isinstance(key, str) and not key.strip()):
                continue
            name = _SETTING_KEYS.get(fold(key))
            letter_key = table.letters["key"]
            if name is None:
                issues.append(Issue("unknown-setting", table.title, int(row), letter_key,
                                    f"'{key}' is not a setting inv-sheets knows; it is ignored.", value=key))
                continue
            raw = table.data["value"][row] if "value" in table.data else None
            parsed = _setting_value(SETTING[name], raw)
            if isinstance(parsed, Bad):
                issues.append(Issue("bad-setting", table.title, int(row), table.letters.get("value", letter_key),
                                    f"{name}: {parsed.message}", value=raw, field="value"))
            elif parsed is not None:
                values[name] = parsed
    if as_of is not None:  # read as a cell would be: ISO, else only as date_order makes it one day
        values["as_of"] = parse_day(as_of, values.get("date_order"), name="as of")
    values["as_of"] = pd.Timestamp(values.get("as_of") or pd.Timestamp.today()).normalize()
    return Settings(**values)


def _setting_value(setting, raw):
    """One setting's value, typed; None when blank; Bad when unusable."""
    series = pd.Series([raw], index=[0], dtype=object)
    if bool(blank_cells(series).iloc[0]):
        return None
    kind = setting.type
    if setting.key == "date_order":
        word = str(raw).strip().upper()
        return word if word in DATE_ORDERS else Bad(0, "bad-setting", f"use one of {', '.join(DATE_ORDERS)}.", raw)
    if setting.key == "adjusters":
        return tuple(sorted({p.strip().casefold() for p in str(raw).split(",") if p.strip()}))
    column = Column(setting.key, kind if kind != CHOICE else CODE)
    values, bad = parse_column(series, column)
    if bad and bad[0].code not in ("number-as-text", "date-as-text", "untrimmed-text"):
        return Bad(0, "bad-setting", bad[0].message, raw)
    value = values.iloc[0]
    if kind == INTEGER:
        if value != value or value % 1 or value < 0:
            return Bad(0, "bad-setting", "use a whole number of days.", raw)
        if setting.most is not None and value > setting.most:
            return Bad(0, "bad-setting", f"{value:g} days is more than the {setting.most:,} inv-sheets works "
                       "with: use a whole number of days up to that.", raw)
        return int(value)
    if setting.key == "service_level" and not 0.5 <= value < 1:
        return Bad(0, "bad-setting", "use a share between 0.5 and 0.999, e.g. 0.95.", raw)
    if kind == NUMBER and value != value:
        return Bad(0, "bad-setting", "use a number.", raw)
    return value


def _without_bad_rows(store: Store, issues: list[Issue]) -> Store:
    by_title = {title: name for name, title in store.titles.items()}
    drop: dict[str, set[int]] = {}
    for issue in issues:
        name = by_title.get(issue.sheet)
        if issue.severity != ERROR or issue.row is None or name is None:
            continue
        schema_key = _key_columns(name)
        if name in TRANSACTION_SHEETS or issue.field in schema_key or issue.code in ("duplicate-key", "near-duplicate-key"):
            drop.setdefault(name, set()).add(issue.row)
    for name, rows in drop.items():
        store.tables[name] = _without(store.tables[name], rows)
    return store


FEW_ROWS = 100  # rows cut out between slices; more are filtered out


def _without(frame: pd.DataFrame, rows: set[int]) -> pd.DataFrame:
    """`frame` without `rows`. The few a ledger usually loses are cut out: the slices between them
    are joined, and a text column keeps its Arrow buffers instead of copying a million strings."""
    cut = frame.index.isin(list(rows))
    at = np.flatnonzero(cut)
    if len(at) > FEW_ROWS:
        return frame[~cut]
    return pd.concat([frame.iloc[start:end] for start, end in zip(np.r_[0, at + 1], np.r_[at, len(frame)])])


def _key_columns(sheet: str) -> tuple[str, ...]:
    from ..contract.schema import SHEET

    s = SHEET[sheet]
    return s.key or tuple(c.name for c in s.columns if c.unique)


__all__ = ["load", "parse", "validate_inputs", "empty_frame", "BOOL"]
