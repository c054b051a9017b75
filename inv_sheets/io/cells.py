"""Values to SpreadsheetML cell text, a whole column at a time.

Every cell is typed by its own value (text, number, yes/no, date), so a stray "n/a" in a number
column is still written faithfully; the column's kind only chooses the look. The common cases
(a numeric, boolean, datetime or string column) take a vectorised path, because an output sheet can
hold a few million cells and must still be written in a second or two.

Text is made safe for XML and for Excel: characters XML forbids are dropped, `_xHHHH_` sequences
(which Excel would decode) are escaped, a cell holds at most 32,767 characters, and NaN or infinity
becomes an empty cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_CELL_TEXT = 32_767
_ILLEGAL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_SEP = "\x00"  # joins a column's strings for one pass of C-speed cleaning; never legal in XML
# ASCII that cleaning leaves as it is: tab, line feed and the printable characters but & < > ",
# and the separator (a text holding NUL itself is cleaned apart).
_PLAIN_ASCII = b"\x00\t\n" + bytes(c for c in range(0x20, 0x80) if chr(c) not in '&<>"')

EPOCH_1900 = pd.Timestamp("1899-12-30")
EPOCH_1904 = pd.Timestamp("1904-01-01")
_LEAP_BUG_END = pd.Timestamp("1900-03-01")  # Excel's 1900 system counts a 29 Feb 1900


def clean_texts(texts: list[str]) -> list[str]:
    """Texts made XML-safe and escaped for element content, in one pass over the column."""
    if not texts:
        return texts
    return _cleaned(texts, _SEP.join(texts))


def element_texts(texts: list[str]) -> tuple[list[str], bool]:
    """A column's texts for <t> elements: clean_texts, and whether any of them needs
    xml:space="preserve" (starts or ends with a space, holds a tab or a line break).

    Both from one join of the column: the hidden fingerprint sheet's column is some 66 MB of
    text at a full ledger, and each copy of it costs a tenth of a second.
    """
    if not texts:
        return texts, False
    joined = _SEP.join(texts)
    preserve = (texts[0][:1] == " " or texts[-1][-1:] == " "
                or any(mark in joined for mark in ("\n", "\t", "\r", " " + _SEP, _SEP + " ")))
    return _cleaned(texts, joined), preserve


def _cleaned(texts: list[str], joined: str) -> list[str]:
    """clean_texts, given the texts joined by _SEP."""
    if joined.count(_SEP) != len(texts) - 1:  # a text holds NUL itself: clean one by one
        return [clean_text(t) for t in texts]
    if _plain(joined) and max(map(len, texts)) <= MAX_CELL_TEXT:
        return texts
    joined = _ILLEGAL.sub("", joined)
    parts = joined.split(_SEP)
    if max(map(len, parts)) > MAX_CELL_TEXT:
        parts = [p[:MAX_CELL_TEXT] for p in parts]
    return _escape(_SEP.join(parts)).split(_SEP)


def _plain(joined: str) -> bool:
    """Whether cleaning would leave a column's joined texts as they are: ASCII (known without a
    scan) with no byte but _PLAIN_ASCII, and no _xHHHH_ sequence.

    bytes.translate finds another byte at memory speed; a regular expression over every character
    took about a second for the fingerprint sheet of a full ledger, plain ASCII but for odd IDs."""
    if not joined.isascii() or joined.encode("ascii").translate(None, _PLAIN_ASCII):
        return False
    return "_x" not in joined or not _EXCEL_ESCAPE.search(joined)


def clean_text(text: str) -> str:
    """One text made XML-safe and escaped for element content or an attribute."""
    return _escape(_ILLEGAL.sub("", text.replace(_SEP, ""))[:MAX_CELL_TEXT])


def _escape(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # A carriage return would be normalised away by every XML parser; a character reference keeps it.
    s = s.replace("\r", "&#13;")
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", s)


def number_text(x: float) -> str:
    """A finite number as <v> text: whole numbers without '.0', others shortest round-trip."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


@dataclass
class Column:
    """One encoded column: per row, a value class and its <v>/<t> text ('' class = empty cell).

    classes: "s" text, "n" number, "d" date serial, "b" yes/no (written as text), "" empty.
    """

    classes: list[str]
    texts: list[str]


def encode(series: pd.Series, date1904: bool) -> Column:
    """Encode a column of values: vectorised for uniform dtypes, value by value otherwise."""
    n = len(series)
    dtype = series.dtype
    if n == 0:
        return Column([], [])
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return Column(["b"] * n, ["yes" if v else "no" for v in series.tolist()])
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return _numbers(series.to_numpy(dtype="float64", na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _dates(series, date1904)
    if isinstance(dtype, pd.StringDtype):
        return _strings(series)
    return _objects(series.tolist(), date1904)


def _numbers(arr: np.ndarray) -> Column:
    finite = np.isfinite(arr)
    whole = finite & (np.abs(arr) < 1e15) & (arr == np.trunc(arr))
    if whole.all():
        texts = _whole_texts(arr)
    elif not whole.any() and finite.all():
        texts = list(map(repr, arr.tolist()))
    else:
        out = np.full(len(arr), "", dtype=object)
        out[whole] = _whole_texts(arr[whole])
        fraction = finite & ~whole
        out[fraction] = list(map(repr, arr[fraction].tolist()))
        texts = out.tolist()
    classes = ["n"] * len(texts) if finite.all() else ["n" if ok else "" for ok in finite.tolist()]
    return Column(classes, texts)


def _whole_texts(arr: np.ndarray) -> list[str]:
    """Whole numbers (under 1e15) as str(int) writes them: Arrow's cast of int64 to text gives the
    same digits in C, about twice as fast as str() per value."""
    return pc.cast(pa.array(arr.astype(np.int64)), pa.string()).to_numpy(zero_copy_only=False).tolist()


def _strings(series: pd.Series) -> Column:
    """A string-dtype column: texts, and gaps where it is missing."""
    values = series.tolist()
    missing = series.isna().to_numpy()
    if not missing.any():
        return Column(["s"] * len(values), values)
    classes = ["" if m else "s" for m in missing.tolist()]
    return Column(classes, [v if c else "" for v, c in zip(values, classes)])


def _dates(series: pd.Series, date1904: bool) -> Column:
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    # In milliseconds: nanoseconds span only 292 years, so a date after 2192 (as_of may be 2199)
    # minus the 1899 epoch would overflow.
    stamps = series.astype("datetime64[ms]") if series.dtype != "datetime64[ms]" else series
    serial = ((stamps - epoch) / pd.Timedelta(days=1)).to_numpy(dtype="float64", na_value=np.nan)
    if not date1904:
        # Before 1900-03-01 Excel's serials are one lower than the calendar says.
        serial = np.where(stamps.to_numpy() < _LEAP_BUG_END.to_datetime64(), serial - 1, serial)
    present = ~np.isnan(serial)
    dated = present & (serial >= (0 if date1904 else 1))
    # Serials are written as numbers are, column-wise; the few dates before the epoch (Excel has no
    # serial for them) as text, one by one.
    texts = _numbers(np.where(dated, serial, np.nan)).texts
    classes = np.where(dated, "d", "").tolist()
    for i in np.flatnonzero(present & ~dated).tolist():
        value = stamps.iloc[i]
        classes[i], texts[i] = "s", str(value.date()) if value == value.normalize() else value.isoformat()
    return Column(classes, texts)


def _objects(values: list, date1904: bool) -> Column:
    """Mixed values: sort each into its class, then encode each class in bulk."""
    classes = [""] * len(values)
    texts = [""] * len(values)
    dates: list[int] = []
    for i, v in enumerate(values):
        if v is None or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, str):
            classes[i], texts[i] = "s", v
        elif isinstance(v, (bool, np.bool_)):
            classes[i], texts[i] = "b", "yes" if v else "no"
        elif isinstance(v, (int, float, np.integer, np.floating)):
            x = float(v)
            if math.isfinite(x):
                classes[i], texts[i] = "n", number_text(x)
        elif isinstance(v, (dt.date, np.datetime64)):
            dates.append(i)
        else:
            classes[i], texts[i] = "s", str(v)
    held = []
    for i in dates:
        try:
            held.append((i, pd.Timestamp(values[i]).as_unit("ns")))
        except (OverflowError, ValueError):  # a date pandas cannot hold (year 1, 9999): Excel cannot either
            classes[i], texts[i] = "s", str(values[i])
    if held:
        encoded = _dates(pd.Series([stamp for _, stamp in held]), date1904)
        for (i, _), c, t in zip(held, encoded.classes, encoded.texts):
            classes[i], texts[i] = c, t
    return Column(classes, texts)
