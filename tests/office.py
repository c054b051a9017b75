"""LibreOffice headless as an independent spreadsheet engine for tests.

`sheets_as_csv(path)` converts every sheet of a workbook to CSV and returns the rows per sheet;
`printed_pages(path)` prints the workbook to PDF and returns each page's size and text.
With `recalc=True` LibreOffice recalculates every formula on load (its default trusts the cached
values), which shows whether formulas over rewritten sheets give the new numbers.
Each mode uses a private profile (-env:UserInstallation) created once per test run, so tests never
share a profile with a LibreOffice the developer or another run has open.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# CSV export: comma, double quote, UTF-8, from line 1, raw values (not "as shown"), every sheet (-1).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
TIMEOUT = 240

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str:
    """The soffice executable; skips the calling test with a clear reason when it is missing."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed: cannot check the workbook in an independent engine")
    return exe


@functools.cache
def _profile(recalc: bool) -> str:
    root = Path(tempfile.mkdtemp(prefix="inv-sheets-lo-"))
    if recalc:
        (root / "user").mkdir(parents=True)
        (root / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    return root.as_uri()


def sheets_as_csv(path: Path, *, recalc: bool = False) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as CSV rows, as LibreOffice reads (and optionally recalculates) it."""
    exe = soffice()
    out = Path(tempfile.mkdtemp(prefix="inv-sheets-csv-"))
    try:
        cmd = [exe, f"-env:UserInstallation={_profile(recalc)}", "--headless", "--convert-to", CSV_FILTER,
               "--outdir", str(out), str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        files = sorted(out.glob("*.csv"))
        if done.returncode != 0 or not files:
            raise AssertionError(f"LibreOffice could not convert {path.name}: {done.stdout}{done.stderr}")
        result = {}
        for f in files:
            # <stem>-<sheet>.csv, one per sheet
            sheet = f.stem[len(path.stem) + 1:] if f.stem.startswith(path.stem + "-") else f.stem
            with open(f, encoding="utf-8", newline="") as fh:
                result[sheet] = list(csv.reader(fh))
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class Page:
    """One printed page: its size in points and its text as laid out (pdftotext -layout)."""

    width: float
    height: float
    text: str

    @property
    def first_line(self) -> str:
        return next((line.strip() for line in self.text.splitlines() if line.strip()), "")


def printed_pages(path: Path) -> list[Page]:
    """The workbook printed to PDF by LibreOffice (every visible sheet, as its print setup says),
    page by page; poppler's pdfinfo and pdftotext read the PDF."""
    exe = soffice()
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils (pdftotext, pdfinfo) is not installed: cannot read the printed pages")
    out = Path(tempfile.mkdtemp(prefix="inv-sheets-pdf-"))
    try:
        cmd = [exe, f"-env:UserInstallation={_profile(False)}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out), str(path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        pdf = out / (path.stem + ".pdf")
        if done.returncode != 0 or not pdf.exists():
            raise AssertionError(f"LibreOffice could not print {path.name}: {done.stdout}{done.stderr}")
        info = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        sizes = [(float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info, re.M)]
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        texts = text.split("\f")[:len(sizes)]
        return [Page(w, h, t) for (w, h), t in zip(sizes, texts)]
    finally:
        shutil.rmtree(out, ignore_errors=True)
