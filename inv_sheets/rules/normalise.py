"""Normalise a workbook's input sheets: the same data, typed and spelled the one way.

Trims spaces, puts codes in their canonical case, turns movement types, choices and yes/no from
their aliases into the canonical words, numbers and dates typed as text into real ones ("12 pcs"
into 12), and headers into the friendly canonical ones. It never guesses: an ambiguous date or a
value it cannot read stays as it is and is reported by validate. Running it twice changes nothing
the second time. Only input sheets' cell values change; the file is written like a refresh
(atomically, every other part byte-identical).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field

import pandas as pd

from ..contract.book import Book
from ..contract.issues import Issue
from ..contract.parse import _UNIT_RE, canonical_code
from ..contract.schema import BOOL, CHOICE, CODE, DATE, INTEGER, NUMBER, SHEET, TEXT, fold


@dataclass(frozen=True)
class Change:
    """One cell's value before and after."""

    sheet: str  # the sheet's name in the workbook
    cell: str  # e.g. "B7"
    before: object
    after: object

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "cell": self.cell, "before": _show(self.before), "after": _show(self.after)}


def _show(value: object) -> object:
    if isinstance(value, (pd.Timestamp, dt.date)):
        return pd.Timestamp(value).date().isoformat() if pd.Timestamp(value) == pd.Timestamp(value).normalize() \
            else pd.Timestamp(value).isoformat(sep=" ")
    return value


def plan(book: Book) -> list[Change]:
    """Every change normalising would make, in sheet and cell order."""
    from .validate import _settings

    date_order = _settings(book, [], None).date_order  # the only setting typing depends on
    changes: list[Change] = []
    for name, table in book.tables.items():
        schema = SHEET[name]
        for col_name, text in table.headers.items():
            title = schema.column(col_name).title
            if text != title:
                changes.append(Change(table.title, f"{table.letters[col_name]}{table.header_row}", text, title))
        typed_all = _typed_without_dropping(book, name, date_order)
        for col_name in table.data.columns:
            col = schema.column(col_name)
            raw, typed = table.data[col_name], typed_all[col_name]
            letter = table.letters[col_name]
            for row, before in raw.items():
                if (name, col_name) == ("Settings", "key"):
                    after = _setting_key(before)
                else:
                    after = _after(col.type, before, typed.get(row))
                if after is not None and not _same(before, after):
                    title, at, letters = table.locate(int(row))  # a continuation sheet's own cell
                    changes.append(Change(title, f"{letters.get(col_name, letter)}{at}", before, after))
    return changes


def _typed_without_dropping(book: Book, name: str, date_order: str | None) -> pd.DataFrame:
    """The typed sheet including rows that validation leaves out (normalise still tidies them)."""
    from ..contract.parse import parse_column

    table = book.tables[name]
    out = {}
    for col_name in table.data.columns:
        values, _ = parse_column(table.data[col_name], SHEET[name].column(col_name),
                                 date_order=date_order, date1904=book.date1904)
        out[col_name] = values
    return pd.DataFrame(out, index=table.data.index)


def _setting_key(before: object) -> str | None:
    """A Settings key spelled as the toolkit spells it ("Demand Days" -> "demand_days"); None to
    leave it (a key it does not know is reported by validate)."""
    from .validate import _SETTING_KEYS

    return _SETTING_KEYS.get(fold(before)) if isinstance(before, str) else None


def _after(kind: str, before: object, typed: object) -> object:
    """The normalised value of one cell, or None to leave it."""
    if before is None or (isinstance(before, float) and before != before):
        return None
    if kind == CODE:
        return canonical_code(before) if isinstance(before, str) else None
    if kind == TEXT:
        return before.strip() if isinstance(before, str) else None
    if kind in (NUMBER, INTEGER):
        if not isinstance(before, str):
            return None
        if typed is not None and typed == typed:
            return float(typed) if not float(typed).is_integer() else int(typed)
        m = _UNIT_RE.match(before)
        if m and "," not in m.group(1):
            value = float(m.group(1))
            return int(value) if value.is_integer() else value
        return None
    if kind == DATE:
        if isinstance(before, str) and typed is not None and typed is not pd.NaT and typed == typed:
            return pd.Timestamp(typed)
        return None
    if kind == CHOICE:
        return typed if isinstance(typed, str) else None
    if kind == BOOL:
        return None if typed is None else ("yes" if typed else "no")
    return None


def _same(before: object, after: object) -> bool:
    if isinstance(before, str) and isinstance(after, str):
        return before == after
    if isinstance(before, (int, float)) and isinstance(after, (int, float)) and not isinstance(before, bool):
        return float(before) == float(after)
    return False


@dataclass
class NormaliseResult:
    path: str
    changes: list[Change]
    written: str | None = None
    backup: str | None = None  # the workbook as it was, when it was changed in place
    issues: list[Issue] = field(default_factory=list)  # cells it would tidy but leaves (formulas)

    def to_dict(self) -> dict:
        return {"path": self.path, "written": self.written, "backup": self.backup,
                "changes": [c.to_dict() for c in self.changes], "issues": [i.to_dict() for i in self.issues]}


def normalise(path: str | os.PathLike, *, output: str | os.PathLike | None = None, in_place: bool = False,
              force: bool = False) -> NormaliseResult:
    """Plan the changes and, with `output` or `in_place`, write them (in place keeps a backup).

    An existing `output` is replaced only with `force` (WouldOverwriteError otherwise).
    """
    from ..io.edit import formula_cells, write_cells
    from ..io.read import read_book
    from ..io.write import check_new_file

    path = os.fspath(path)
    if output is not None:
        check_new_file(path, output, force=force)
    book = read_book(path)
    changes = plan(book)
    formulas = formula_cells(path, {c.sheet for c in changes}) if changes else set()
    result = NormaliseResult(path, [c for c in changes if (c.sheet, c.cell) not in formulas],
                             issues=[_formula_kept(c) for c in changes if (c.sheet, c.cell) in formulas])
    changes = result.changes
    if changes and (output or in_place):
        written, backup = write_cells(path, changes, output=output, backup=in_place and not output)
        result.written, result.backup = os.fspath(written), backup and os.fspath(backup)
    return result


def _formula_kept(change: Change) -> Issue:
    column, row = re.fullmatch(r"([A-Z]+)(\d+)", change.cell).groups()
    return Issue("formula-not-normalised", change.sheet, int(row), column,
                 f"This formula's result {_show(change.before)!r} would become {_show(change.after)!r}, but a formula "
                 "is never replaced: fix the formula, or type the value instead of it.", value=_show(change.before))
