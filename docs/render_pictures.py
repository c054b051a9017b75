"""Render the pictures in docs/img/ from the bundled demo store, as it prints.

    python docs/render_pictures.py          (or: make pictures)

The demo store's sheets are computed and written, by the same writer as a refresh, into a blank
store workbook (the demo's own year of movements would add some 1,500 pages to print first);
LibreOffice prints that to PDF, each sheet as its print setup says, and poppler's pdftoppm turns
the first page of the Summary, the Reorder and the Pick List into PNG files. Needs LibreOffice
(soffice) and poppler-utils (pdftoppm, pdftotext). Run it again after a change to what those
sheets show, so the pictures stay current.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inv_sheets.contract.template import build_workbook  # noqa: E402
from inv_sheets.io.read import read_book  # noqa: E402
from inv_sheets.io.write import write_sheets  # noqa: E402
from inv_sheets.refresh import compute  # noqa: E402

DEMO = ROOT / "samples" / "demo-store.xlsx"
OUT = ROOT / "docs" / "img"
PICTURES = {"Summary": "summary.png", "Reorder": "reorder.png", "Pick List": "pick-list.png"}
DPI = 150  # small print stays readable: a wide sheet is shrunk to fit the page width
TOP = 0.5  # the top half of the page: the header and the first rows
TIMEOUT = 600


def main() -> None:
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils)")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("soffice is missing: install LibreOffice")
    with tempfile.TemporaryDirectory(prefix="inv-sheets-pictures-") as tmp:
        work = Path(tmp)
        book = work / "demo-store.xlsx"
        build_workbook(book)
        write_sheets(book, [s for s in compute(read_book(DEMO)).sheets if not s.hidden])
        profile = (work / "profile").as_uri()  # a private LibreOffice profile: never the user's
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(work), str(book)], check=True, capture_output=True, timeout=TIMEOUT)
        pdf = work / "demo-store.pdf"
        firsts = first_pages(pdf)
        OUT.mkdir(parents=True, exist_ok=True)
        for sheet, name in PICTURES.items():
            page = firsts[sheet]
            stem = work / "page"
            height = int(page_height(pdf, page) / 72 * DPI * TOP)
            subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(DPI), "-png", "-singlefile",
                            "-H", str(height), str(pdf), str(stem)], check=True)
            shutil.copyfile(stem.with_suffix(".png"), OUT / name)
            print(f"{OUT / name}: {sheet}, page {page} of the printed demo")


def page_height(pdf: Path, page: int) -> float:
    """The page's height in points (pdfinfo)."""
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    return float(re.search(r"^Page\s+\d+ size:\s+[\d.]+ x ([\d.]+)", info, re.M).group(1))


def first_pages(pdf: Path) -> dict[str, int]:
    """The first page number of each sheet, found by the sheet name the page header starts with."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    found: dict[str, int] = {}
    for number, page in enumerate(text.split("\f"), start=1):
        first = next((line.strip() for line in page.splitlines() if line.strip()), "")
        for sheet in PICTURES:
            if first.startswith(sheet) and sheet not in found:
                found[sheet] = number
    missing = set(PICTURES) - set(found)
    if missing:
        sys.exit(f"no printed page of {sorted(missing)} in {pdf.name}")
    return found


if __name__ == "__main__":
    main()
