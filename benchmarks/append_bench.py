"""Time appending imported lines to a big Movements sheet against copying that sheet's part.

    copy     inflate the Movements part and deflate it into a new package at the writer's level:
             the least any change to that sheet costs (the yardstick)
    append   io.append.append_rows of N new sale rows into a copy of the workbook: the whole
             library call, file state check, splice, Table and range growth, atomic save and verify
    import   inv-sheets import of a Shopify export of N lines into a copy, end to end (reading the
             workbook for the keys already in it included); shown, not targeted

The existing rows are never parsed one by one, so append stays within APPEND_TARGET x copy. Each
phase runs in this process, best of `--repeat`. The workbook is generated once per size
(benchmarks/generate.py) in the work folder and reused.

    python benchmarks/append_bench.py                      # 100,000 rows
    python benchmarks/append_bench.py --rows 1000000       # the issue's size
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a fresh clone without installing

APPEND_TARGET = 2.0  # append within 2 x copying the sheet's part


def movements_part(path: Path) -> str:
    from inv_sheets.io.package import Package
    from inv_sheets.io.workbook import Workbook

    with Package(path) as pkg:
        return Workbook(pkg).find("Movements").part


def copy_part(path: Path, part: str, out: Path) -> float:
    """Seconds to inflate the Movements part and deflate it again into a new package."""
    started = time.perf_counter()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr(part, src.read(part), compresslevel=1)
    return time.perf_counter() - started


def append(path: Path, lines: int) -> float:
    """Seconds for append_rows to add `lines` sale rows."""
    import pandas as pd

    from inv_sheets.io.append import NewRows, append_rows

    day = pd.Timestamp("2026-01-05")
    rows = [{"A": f"shopify:#{100000 + i}:line1", "B": day, "C": "sale", "D": "SKU00001", "E": 1.0,
             "K": f"#{100000 + i}", "L": "WEB"} for i in range(lines)]
    started = time.perf_counter()
    append_rows(path, [NewRows("Movements", rows)])
    return time.perf_counter() - started


def shopify_export(path: Path, lines: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Financial Status", "Fulfillment Status", "Currency", "Created at", "Lineitem quantity",
                    "Lineitem name", "Lineitem sku", "Lineitem fulfillment status"])
        for i in range(lines):
            w.writerow([f"#{200000 + i}", "paid", "fulfilled", "EUR", "2026-01-05 10:00:00 +0100", "1", "Item",
                        "SKU00001", "fulfilled"])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="movement rows in the workbook")
    parser.add_argument("--lines", type=int, default=5_000, help="lines to append")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "inv-sheets-bench")
    parser.add_argument("--no-import", action="store_true", help="skip the end-to-end import")
    args = parser.parse_args()

    from benchmarks.run import workbook_for

    source = workbook_for(args.rows, args.work, 1)
    work = Path(tempfile.mkdtemp(prefix="append-", dir=args.work))
    try:
        part = movements_part(source)
        with zipfile.ZipFile(source) as z:
            part_mb = z.getinfo(part).file_size / 1e6
        copies, appends = [], []
        for _ in range(args.repeat):
            copies.append(copy_part(source, part, work / "copy.zip"))
            target = work / "store.xlsx"
            shutil.copyfile(source, target)
            appends.append(append(target, args.lines))
        copy_s, append_s = min(copies), min(appends)
        ratio = append_s / copy_s
        print(f"Movements: {args.rows:,} rows, {part_mb:,.0f} MB of sheet XML; appending {args.lines:,} rows")
        print(f"  copy the part   {copy_s:6.2f} s")
        print(f"  append_rows     {append_s:6.2f} s   {ratio:.2f} x copy (target <= {APPEND_TARGET:g} x): "
              + ("ok" if ratio <= APPEND_TARGET else "MISSED"))
        if not args.no_import:
            from inv_sheets.imports import import_files

            target = work / "store.xlsx"
            shutil.copyfile(source, target)
            export = shopify_export(work / "orders_export.csv", args.lines)
            started = time.perf_counter()
            result = import_files(target, [export], channel="WEB")
            took = time.perf_counter() - started
            print(f"  import (end to end, {result.tally['new']:,} new lines)  {took:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
