"""Safe files for the export targets: CSV writing, value formats, and what an export returns.

Every file an exporter writes goes through `Files.csv`, which

- writes UTF-8, with a byte-order mark only where the target wants one (Excel-first tools read a
  BOM-less file as the local code page and garble accented names; tools that match the first
  header exactly read a BOM as part of it, so the BOM is a per-target choice);
- neutralises formula injection: a text cell starting with =, +, -, @, tab or carriage return gets a
  leading apostrophe, so a spreadsheet opening the file shows it as text and never runs it. Real
  numbers are formatted here, never neutralised, so a negative quantity stays a number; a text
  cell that is itself a plain number ("-5") is left alone for the same reason (OWASP's rule);
- keeps every path inside the output folder (a file name cannot hold a separator or "..").

Quantities and money are written with "." as the decimal separator and no thousands separator,
at most six decimals, whole numbers without ".0".
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """Text a spreadsheet will never read as a formula (a leading apostrophe when it could)."""
    if text.startswith(_DANGEROUS_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def fmt_number(value: object, decimals: int = 6) -> str:
    """A number with '.' decimals, no thousands separator, no trailing zeros; blank for NaN/None."""
    if value is None or isinstance(value, str):
        return "" if value is None else value
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return ""
    text = f"{round(x, decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_date(value: object, pattern: str = "%Y-%m-%d") -> str:
    """A date in the target's format; blank for NaT/None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).strftime(pattern)


def fmt_bool(value: object, true: str = "TRUE", false: str = "FALSE") -> str:
    """A boolean in the target's words; blank for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return true if bool(value) else false


def cell_text(value: object) -> str:
    """Any cell value as the text written to CSV (numbers formatted, text neutralised)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if isinstance(value, pd.Timestamp):
        return fmt_date(value)
    if not isinstance(value, str) and pd.isna(value):
        return ""
    return neutralise(str(value))


@dataclass(frozen=True)
class ExportFile:
    """One written file: where it goes in the import order, and what it is for."""

    name: str
    rows: int
    header: tuple[str, ...]
    purpose: str
    screen: str  # where in the target to import it
    numbered: bool = True  # False for a reference file that is not imported

    def to_dict(self) -> dict:
        return {**asdict(self), "header": list(self.header)}


@dataclass(frozen=True)
class Loss:
    """Something the workbook holds that the target cannot (or that this export leaves out)."""

    what: str
    count: int
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ExportResult:
    """What `export` did: the files in import order, the losses and the totals.

    `refused` is True when the workbook has error findings and force was not given: nothing is
    written then, and `errors` lists the findings to fix first.
    """

    target: str
    target_version: str | None
    out_dir: str
    files: list[ExportFile] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)
    refused: bool = False
    errors: list = field(default_factory=list)  # Issue values
    notes: list[str] = field(default_factory=list)  # what to do after importing (also in IMPORT-ORDER.txt)

    def to_dict(self) -> dict:
        return {"target": self.target, "target_version": self.target_version, "out_dir": self.out_dir,
                "refused": self.refused, "errors": [e.to_dict() for e in self.errors],
                "files": [f.to_dict() for f in self.files], "losses": [x.to_dict() for x in self.losses],
                "counts": dict(self.counts), "notes": list(self.notes)}


def safe_path(out_dir: Path, name: str) -> Path:
    """`out_dir / name`, refusing any name that could land outside the folder."""
    if not name or name in (".", "..") or re.search(r"[\\/:\x00]", name) or name.startswith("."):
        raise ValueError(f"unsafe export file name {name!r}")
    root = out_dir.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise ValueError(f"export file {name!r} would leave {root}")
    return path


class Files:
    """The files of one export, written as they are added, in import order."""

    def __init__(self, out_dir: Path, *, bom: bool) -> None:
        self.out_dir = out_dir
        self.bom = bom
        self.written: list[ExportFile] = []
        self.losses: list[Loss] = []
        self.notes: list[str] = []  # what to do after importing these files (IMPORT-ORDER.txt)

    def csv(self, name: str, header: Sequence[str], rows: pd.DataFrame | Iterable[Sequence[object]], *,
            purpose: str, screen: str, numbered: bool = True, delimiter: str = ",") -> ExportFile:
        """Write one CSV file: the header, then each row's cells made safe (see the module).

        A numbered file's name starts with its place in the import order ("03_..."), so a folder
        listing shows the order too.
        """
        if numbered:
            name = f"{sum(1 for f in self.written if f.numbered) + 1:02d}_{name}"
        if isinstance(rows, pd.DataFrame):
            missing = [h for h in header if h not in rows.columns]
            if missing:
                raise KeyError(f"{name}: no column(s) {missing}")
            data = rows.reindex(columns=list(header)).astype(object).where(rows.reindex(columns=list(header)).notna(), None)
            rows = data.itertuples(index=False, name=None)
        path = safe_path(self.out_dir, name)
        count = 0
        with open(path, "w", encoding="utf-8-sig" if self.bom else "utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            writer.writerow([neutralise(h) for h in header])
            for row in rows:
                writer.writerow([cell_text(v) for v in row])
                count += 1
        entry = ExportFile(name, count, tuple(header), purpose, screen, numbered)
        self.written.append(entry)
        return entry

    def text(self, name: str, body: str) -> None:
        """Write a plain text file (the import order, the loss report); not part of the import."""
        path = safe_path(self.out_dir, name)
        path.write_text(body, encoding="utf-8")

    def note(self, text: str) -> None:
        """Add a line for IMPORT-ORDER.txt: what to do once these files are imported."""
        self.notes.append(text)

    def lose(self, what: str, count: int, why: str) -> None:
        """Record something this export cannot carry (only when there is something to lose)."""
        if count:
            self.losses.append(Loss(what, int(count), why))


@dataclass(frozen=True)
class Target:
    """An export target: its name, versions, file encoding and the function that writes its files.

    `lost` maps a workbook fact (snapshot.FACTS) to why the target cannot hold it; the loss report
    lists every such fact the workbook actually has.
    """

    name: str
    title: str
    build: Callable[..., None]  # build(snapshot, files, version)
    lost: Mapping[str, str]
    bom: bool = False
    versions: tuple[str, ...] = ()
    default_version: str | None = None
    docs: str = ""
