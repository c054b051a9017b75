"""Render the pictures in docs/img/ from the bundled demo store, as it prints.

    python docs/render_pictures.py          (or: make pictures)

A copy of samples/demo-store.xlsx is refreshed, LibreOffice prints it to PDF (each sheet as its
print setup says) and poppler's pdftoppm turns the first page of the Summary, the Reorder and the
Pick List into PNG files. Needs LibreOffice (soffice) and poppler-utils (pdftoppm, pdftotext).
Run it again after a change to what those sheets show, so the pictures stay current.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inv_sheets import refresh  # noqa: E402

DEMO = ROOT / "samples" / "demo-store.xlsx"
OUT = ROOT / "docs" / "img"
PICTURES = {"Summary": "summary.png", "Reorder": "reorder.png", "Pick List": "pick-list.png"}
DPI = 80  # a readable page at a size the README shows whole
TIMEOUT = 600


def main() -> None:
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils)")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("soffice is missing: install LibreOffice")
    with tempfile.TemporaryDirectory(prefix="inv-sheets-pictures-") as tmp:
        work = Path(tmp)
        book = work / "demo-store.xlsx"
        shutil.copyfile(DEMO, book)
        refresh(book)
        profile = (work / "profile").as_uri()  # a private LibreOffice profile: never the user's
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(work), str(book)], check=True, capture_output=True, timeout=TIMEOUT)
        pdf = work / "demo-store.pdf"
        firsts = first_pages(pdf)
        OUT.mkdir(parents=True, exist_ok=True)
        for sheet, name in PICTURES.items():
            page = firsts[sheet]
            stem = work / "page"
            subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(DPI), "-png", "-singlefile",
                            str(pdf), str(stem)], check=True)
            shutil.copyfile(stem.with_suffix(".png"), OUT / name)
            print(f"{OUT / name}: {sheet}, page {page} of the printed demo")


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
