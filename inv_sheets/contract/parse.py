"""Typing one column: raw cell values in, values of the declared type out, with a finding per bad cell.

Each parser takes a pandas Series of raw cells (any mix of None, numbers, text, dates, booleans;
or an already typed column from the fast reader) and returns the typed Series and the cells it
could not use. It never guesses: a date that reads two ways stays unparsed and is reported.
Vectorised where the column is already clean; element-wise only over the cells that need it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import BOOL, CHOICE, CODE, DATE, INTEGER, MOVEMENT_TYPE_BY_FOLDED, NUMBER, Column, fold

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_EPOCH_1904 = pd.Timestamp("1904-01-01")
MAX_SERIAL = 109_575  # 2200-01-01: later day numbers are not dates a store means (and overflow pandas)
MAX_NUMBER = 1e15  # below 2^53, so whole units stay exact, and a million of them still sum to a finite number
FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")  # the same window for any date
_LOOKALIKES = {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
               "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\ufeff": ""}
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_LATIN_RE = re.compile("[A-Za-z]")
_CYRILLIC_GREEK_RE = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
_LOOKALIKE_RE = re.compile("[" + "".join(_LOOKALIKES) + "]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Python's \s, spelled out. pandas runs a pattern holding \s through Python's re one cell at a time
# (pyarrow's RE2 reads \s differently); this class of the same characters runs column-wise in C++.
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE_RUN = "[" + "".join(f"\\x{ord(c):02x}" if ord(c) < 0x80 else c for c in _SPACES) + "]+"
_UNIT_RE = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(pcs?|pieces?|units?|ea|each|x|stk|pc\.|pcs\.)\s*$", re.I)
_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_ISO_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*$")
# A time after the day does not say which number is the month: 02/01/2025 14:30 is as ambiguous as 02/01/2025.
_SLASH_RE = re.compile(r"^\s*(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
TRUE_WORDS = {"yes", "y", "true", "1", "x", "ja", "oui", "si"}
FALSE_WORDS = {"no", "n", "false", "0", "nein", "non"}
COUNT_UNITS = "pcs, units, ea, each, x"


@dataclass(frozen=True)
class Bad:
    """A cell that could not be used as typed (row is the Excel row)."""

    row: int
    code: str
    message: str
    value: object


def canonical_code(text: str) -> str:
    """A code as the toolkit keeps it: look-alike dashes and spaces made plain, trimmed, upper case."""
    s = unicodedata.normalize("NFKC", text).translate(_LOOKALIKE_TABLE)
    return re.sub(r"\s+", " ", s).strip().upper()


def canonical_codes(text: pd.Series) -> pd.Series:
    """canonical_code over a column of text, vectorised: plain ASCII text (nearly every code) only
    needs trimming, single spaces and upper case; the rest goes through canonical_code."""
    out = text.str.strip().str.replace(SPACE_RUN, " ", regex=True).str.upper()
    other = ~text.str.isascii().fillna(True).to_numpy(dtype=bool)
    if other.any():
        out = out.astype(object)
        out[other] = text[other].map(canonical_code)
    return out


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def parse_column(raw: pd.Series, column: Column, *, date_order: str | None = None, date1904: bool = False,
                 exact: bool = True) -> tuple[pd.Series, list[Bad]]:
    """Type one column. Blank cells stay blank (required-ness is checked elsewhere)."""
    kind = column.type
    if kind in (NUMBER, INTEGER):
        return _numbers(raw, column)
    if kind == DATE:
        return _dates(raw, date_order, date1904)
    if kind == BOOL:
        return _bools(raw)
    if kind == CHOICE:
        return _choices(raw, column)
    return _texts(raw, code=kind == CODE, column=column, exact=exact)


def blank_cells(raw: pd.Series) -> pd.Series:
    """Which cells are empty: None, NaN, NaT or only spaces."""
    blank = raw.isna()
    if raw.dtype == object:
        stripped = raw.map(lambda v: v.strip() == "" if isinstance(v, str) else False)
        blank |= stripped.astype(bool)
    elif pd.api.types.is_string_dtype(raw):  # a text column from the fast reader: vectorised
        blank |= (raw.str.strip() == "").fillna(False).astype(bool)
    return blank


_NUMBER_TYPES = (float, int, np.float64, np.int64)  # exact types: bool (an int) is not a number here


def _numbers(raw: pd.Series, column: Column) -> tuple[pd.Series, list[Bad]]:
    bad: list[Bad] = []
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64")
    else:
        kinds = raw.map(type)
        blank = raw.isna().to_numpy(dtype=bool, copy=True)
        text = kinds.isin([k for k in kinds.unique() if issubclass(k, str)]).to_numpy(dtype=bool)
        if text.any():  # blank_cells, with the types already known
            blank[text] = (raw[text].str.strip() == "").to_numpy(dtype=bool)
        # Cells the exact reader gave as numbers (nearly all of them) are taken column-wise, by
        # position; the rest one by one below.
        plain = kinds.isin(_NUMBER_TYPES).to_numpy(dtype=bool) & ~blank
        values = pd.Series(np.nan, index=raw.index, dtype="float64")
        values.iloc[np.flatnonzero(plain)] = raw[plain].astype("float64").to_numpy()
        found: dict[object, float] = {}
        for row, v in raw[~blank & ~plain].items():
            if isinstance(v, bool) or isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
                bad.append(Bad(row, "not-a-number", f"'{_as_text(v)}' is not a number: type the {column.title.lower()} as a number.", v))
            elif isinstance(v, (int, float, np.integer, np.floating)):
                found[row] = float(v)
            else:
                text = str(v).strip().replace("\u2212", "-")
                if _NUMBER_RE.match(text):
                    found[row] = float(text)
                    bad.append(Bad(row, "number-as-text", f"'{v}' is a number stored as text: retype it as a number "
                                   "(or run `inv-sheets normalise`).", v))
                elif (m := _UNIT_RE.match(text)) is not None:
                    bad.append(Bad(row, "number-with-unit", f"'{v}' has a unit in it: type only the number "
                                   f"{m.group(1)} (the unit belongs in Items' unit column).", v))
                else:
                    bad.append(Bad(row, "not-a-number", f"'{v}' is not a number: type the {column.title.lower()} as a number.", v))
        if found:
            values.loc[list(found)] = list(found.values())
    finite = values.notna() & ~np.isfinite(values.fillna(0))
    for row in values.index[finite]:
        bad.append(Bad(row, "bad-number", "This is not a finite number (NaN or infinity): type a real number.", raw[row]))
        values[row] = np.nan
    huge = values.abs() > MAX_NUMBER
    for row in values.index[huge.fillna(False).astype(bool)]:
        bad.append(Bad(row, "out-of-range", f"{values[row]:g} is too large: numbers beyond {MAX_NUMBER:.0e} cannot be "
                       "counted exactly (nor summed without overflow); check the cell.", values[row]))
        values[row] = np.nan
    if column.type == INTEGER:
        frac = values.notna() & (values % 1 != 0)
        for row in values.index[frac]:
            bad.append(Bad(row, "not-a-whole-number", f"{values[row]:g} is not a whole number: "
                           f"{column.title.lower()} counts whole units.", values[row]))
            values[row] = np.nan
    for bound, outside, word in ((column.min, values < (column.min or 0), "at least"),
                                 (column.max, values > (column.max or 0), "at most")):
        if bound is None:
            continue
        for row in values.index[outside.fillna(False).astype(bool)]:
            bad.append(Bad(row, "out-of-range", f"{values[row]:g} is out of range: {column.title.lower()} must be "
                           f"{word} {bound:g}.", values[row]))
            values[row] = np.nan
    return values, bad


def excel_serial_to_timestamp(serial: float, date1904: bool = False) -> pd.Timestamp:
    epoch = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH
    return (epoch + pd.to_timedelta(serial, unit="D")).round("s")


def _dates(raw: pd.Series, date_order: str | None, date1904: bool) -> tuple[pd.Series, list[Bad]]:
    bad: list[Bad] = []
    if pd.api.types.is_datetime64_any_dtype(raw):
        far = raw.notna() & ((raw < FIRST_DATE) | (raw >= LAST_DATE))
        if not far.any():
            return raw.astype("datetime64[ns]"), bad
        raw = raw.astype(object).where(raw.notna(), None)  # the far ones get their finding below
    present = raw[~blank_cells(raw)]
    found: dict[object, pd.Timestamp] = {}
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    # Cells the exact reader gave as plain (naive) datetimes, nearly all of them, are taken
    # column-wise, by position; the rest one by one below.
    plain = present.map(_is_naive_datetime).to_numpy(dtype=bool, copy=True)
    stamps = pd.to_datetime(present[plain].to_numpy(dtype=object)) if plain.any() else pd.DatetimeIndex([])
    inside = (stamps >= FIRST_DATE) & (stamps < LAST_DATE)
    values.iloc[raw.index.get_indexer(present.index[plain][inside])] = stamps[inside].as_unit("ns")
    plain[np.flatnonzero(plain)[~inside]] = False  # out of range: their finding comes below
    for row, v in present[~plain].items():
        if isinstance(v, (dt.datetime, dt.date, pd.Timestamp, np.datetime64)) and not isinstance(v, bool):
            stamp = pd.Timestamp(v).tz_localize(None)  # a zone-aware one (no reader makes them) at its wall time
            if FIRST_DATE <= stamp < LAST_DATE:
                found[row] = stamp
            else:
                bad.append(Bad(row, "not-a-date", f"{stamp.date()} is outside the dates inv-sheets reads (1900 to "
                               "2199): check the year.", v))
        elif isinstance(v, bool):
            bad.append(Bad(row, "not-a-date", f"'{v}' is not a date: type a date such as 2026-03-31.", v))
        elif isinstance(v, (dt.time, dt.timedelta)):  # what a reader makes of a day number 0 or below
            bad.append(Bad(row, "not-a-date", f"'{v}' is a time or a day number before 1900, not a date: type a "
                           "date such as 2026-03-31.", str(v)))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            if 1 <= float(v) < MAX_SERIAL:  # a date that lost its format: Excel stores dates as day numbers
                found[row] = excel_serial_to_timestamp(float(v), date1904)
            else:
                bad.append(Bad(row, "not-a-date", f"{v} is not a date: type a date such as 2026-03-31.", v))
        else:
            stamp, problem = parse_text_date(str(v), date_order)
            if stamp is not None and not FIRST_DATE <= stamp < LAST_DATE:
                bad.append(Bad(row, "not-a-date", f"'{v}' is outside the dates inv-sheets reads (1900 to 2199): "
                               "check the year.", v))
            elif stamp is not None:
                found[row] = stamp
                bad.append(Bad(row, "date-as-text", f"'{v}' is a date stored as text: retype it as a date "
                               "(or run `inv-sheets normalise`).", v))
            else:
                bad.append(Bad(row, problem[0], problem[1], v))
    if found:
        values.loc[list(found)] = pd.DatetimeIndex(list(found.values())).as_unit("ns")
    return values, bad


def _is_naive_datetime(v: object) -> bool:
    return type(v) in (dt.datetime, pd.Timestamp) and v.tzinfo is None


def parse_text_date(text: str, date_order: str | None) -> tuple[pd.Timestamp | None, tuple[str, str]]:
    """A date typed as text: ISO always; d/m/y or m/d/y only when unambiguous or Settings says which."""
    text = text.strip()
    if m := _ISO_RE.match(text):
        y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
        try:
            return pd.Timestamp(y, mo, d, hh, mm, ss), ("", "")
        except ValueError:
            return None, ("not-a-date", f"'{text}' is not a real date: check the day and month.")
    if m := _SLASH_RE.match(text):
        a, b, c = (int(g) for g in m.groups()[:3])
        time = tuple(int(g) if g else 0 for g in m.groups()[3:])
        if len(m.group(1)) == 4:  # 2026/03/04 is year-month-day everywhere
            return _make(a, b, c, text, time)
        year = c + 2000 if c < 100 else c
        if a > 12 and b <= 12:
            return _make(year, b, a, text, time)
        if b > 12 and a <= 12:
            return _make(year, a, b, text, time)
        if a == b:
            return _make(year, a, b, text, time)
        if date_order == "DMY":
            return _make(year, b, a, text, time)
        if date_order == "MDY":
            return _make(year, a, b, text, time)
        return None, ("ambiguous-date", f"'{text}' reads as {a:02d} {_month(b)} or {b:02d} {_month(a)}: type it as "
                      f"{year}-{b:02d}-{a:02d} or set Settings date_order to DMY or MDY.")
    try:
        stamp = pd.Timestamp(pd.to_datetime(text, format="mixed", dayfirst=date_order == "DMY"))
    except (ValueError, OverflowError, TypeError):
        return None, ("not-a-date", f"'{text}' is not a date: type it as a date such as 2026-03-31.")
    if re.fullmatch(r"\D*\d{1,2}\D+\d{1,2}\D*", text) or stamp is pd.NaT:
        return None, ("not-a-date", f"'{text}' has no year: type it as a full date such as 2026-03-31.")
    if stamp.tzinfo is not None:  # a store's dates are its own local days: a zone would need converting
        return None, ("not-a-date", f"'{text}' carries a time zone, which inv-sheets does not convert: type the "
                      f"store's own date and time without it, such as {stamp.strftime('%Y-%m-%d %H:%M')}.")
    return stamp, ("", "")


def parse_day(value: object, date_order: str | None, *, name: str = "the date") -> pd.Timestamp:
    """A day asked for by a person (a command-line option, an argument): the same rule as a cell.

    ISO (2026-12-11) always; 11/12/2026 only when Settings date_order or the numbers themselves
    say which is the day; a date or Timestamp as it is. Raises BadDateOption with both readings
    for an ambiguous one, and for a blank, 'NaT' or anything that is not a real day.
    """
    from .issues import BadDateOption

    if isinstance(value, (dt.date, pd.Timestamp)) and not pd.isna(value):
        return pd.Timestamp(value).normalize()
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
    if not text or text.casefold() in ("nat", "nan", "none", "null"):
        raise BadDateOption(f"{name} {value!r} is not a date: use YYYY-MM-DD")
    stamp, (_, message) = parse_text_date(text, date_order)
    if stamp is None or pd.isna(stamp) or not FIRST_DATE <= stamp < LAST_DATE:
        raise BadDateOption(f"{name}: {message or repr(text) + ' is not a date a store means: use YYYY-MM-DD.'}")
    return stamp.normalize()


def _month(m: int) -> str:
    return ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[m - 1] if 1 <= m <= 12 else str(m)


def _make(y: int, m: int, d: int, text: str, time: tuple[int, ...] = (0, 0, 0)):
    try:
        return pd.Timestamp(y, m, d, *time), ("", "")
    except ValueError:
        return None, ("not-a-date", f"'{text}' is not a real date: check the day and month.")


def _bools(raw: pd.Series) -> tuple[pd.Series, list[Bad]]:
    bad: list[Bad] = []
    values = pd.Series(None, index=raw.index, dtype=object)
    for row, v in raw[~blank_cells(raw)].items():
        word = str(int(v) if isinstance(v, float) and v.is_integer() else v).strip().casefold()
        if isinstance(v, bool):
            values[row] = v
        elif word in TRUE_WORDS:
            values[row] = True
        elif word in FALSE_WORDS:
            values[row] = False
        else:
            bad.append(Bad(row, "not-allowed", f"'{v}' is not yes or no: type yes or no.", v))
    return values, bad


def _choices(raw: pd.Series, column: Column) -> tuple[pd.Series, list[Bad]]:
    import difflib

    if column.name == "type" and not column.choices:  # Movements.type: the movement types and aliases
        table = MOVEMENT_TYPE_BY_FOLDED
        allowed = sorted(set(table.values()), key=list(table.values()).index)
    else:
        table = {fold(c): c for c in column.choices}
        allowed = list(column.choices)
    bad: list[Bad] = []
    present = raw[~blank_cells(raw)]
    # A column holds a handful of distinct spellings: fold each once.
    folded_once = {v: fold(_as_text(v)) for v in present.unique()}
    folded = present.map(folded_once)
    mapped = folded.map(table)
    values = pd.Series(None, index=raw.index, dtype=object)
    values[mapped.index] = mapped
    for row in mapped.index[mapped.isna()]:
        v = present[row]
        near = difflib.get_close_matches(fold(_as_text(v)), [fold(a) for a in allowed], n=1, cutoff=0.5)
        hint = f" (did you mean '{next(a for a in allowed if fold(a) == near[0])}'?)" if near else ""
        bad.append(Bad(row, "not-allowed", f"'{v}' is not allowed here{hint}: use one of {', '.join(allowed)}.", v))
    return values, bad


def _texts(raw: pd.Series, *, code: bool, column: Column, exact: bool) -> tuple[pd.Series, list[Bad]]:
    bad: list[Bad] = []
    blank = blank_cells(raw)
    present = raw[~blank]
    if pd.api.types.is_numeric_dtype(present) or (
            present.dtype == object and present.map(type).isin([float, int]).any()):
        text = present.map(_as_text)
        numeric = present.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    else:
        text = present.astype(str)
        numeric = pd.Series(False, index=present.index)
    # Patterns as text, not compiled, so a fast-reader column is searched column-wise (pyarrow).
    has_control = text.str.contains(_CONTROL_RE.pattern, regex=True)
    for row in text.index[has_control]:
        bad.append(Bad(row, "control-character", "This text holds invisible control characters: retype it.", present[row]))
    if has_control.any():
        text = text.str.replace(_CONTROL_RE, "", regex=True)
    if not code:
        values = pd.Series(None, index=raw.index, dtype=object)
        values[text.index] = text.str.strip()
        return values, bad
    # Look-alike and Cyrillic or Greek letters are never ASCII: only other text needs searching.
    other = text[~text.str.isascii().fillna(True).to_numpy(dtype=bool)]
    lookalike = pd.Series(False, index=text.index)
    lookalike[other.index] = other.str.contains(_LOOKALIKE_RE).to_numpy(dtype=bool)
    for row in text.index[lookalike]:
        bad.append(Bad(row, "lookalike-characters", f"'{present[row]}' contains look-alike dashes or spaces: "
                       f"retype it as '{canonical_code(text[row])}'.", present[row]))
    # Cyrillic or Greek letters beside Latin ones: 'ТЕЕ-M' looks like 'TEE-M' but never matches it.
    mixed = pd.Series(False, index=text.index)
    mixed[other.index] = (other.str.contains(_LATIN_RE) & other.str.contains(_CYRILLIC_GREEK_RE)).to_numpy(dtype=bool)
    mixed &= ~lookalike
    for row in text.index[mixed]:
        bad.append(Bad(row, "lookalike-characters", f"'{present[row]}' mixes Latin letters with Cyrillic or Greek "
                       "ones that look the same: retype it with the keyboard's Latin letters.", present[row]))
    untrimmed = text != text.str.strip()
    for row in text.index[untrimmed & ~lookalike]:
        bad.append(Bad(row, "untrimmed-text", f"'{present[row]}' has spaces before or after it.", present[row]))
    canon = canonical_codes(text) if lookalike.any() else text.str.strip().str.replace(SPACE_RUN, " ", regex=True).str.upper()
    if numeric.any() and column.name in ("sku", "barcode"):
        padded = canon[~numeric].str.fullmatch(r"0\d+")
        for row in canon.index[numeric]:
            digits = canon[row]
            if column.name == "barcode" and len(digits) in (7, 11, 12) or padded.any():
                bad.append(Bad(row, "sku-lost-leading-zeros", f"{digits} is stored as a number, so leading zeros may "
                               f"have been lost: format the column as Text and retype it (e.g. '0{digits}').", present[row]))
    values = pd.Series(None, index=raw.index, dtype=object)
    values[canon.index] = canon
    return values, bad


def gtin_ok(code: str) -> bool:
    """Whether a GTIN-8/12/13/14 check digit is right (GS1 mod 10)."""
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def is_finite_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
