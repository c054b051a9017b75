"""Time one text cell in a full ledger against the same ledger without it and a bare fast read.

A declared number column with one text cell in it ("12" typed as text in the Movements Qty column)
does not come back from fastexcel as numbers. Only that column is read again cell by cell
(io.mixed); before, the whole sheet went to the exact reader. One run measures, each in a fresh
child process so its peak memory (ru_maxrss) is its own, with the parse cache off:

  bare          fastexcel reads the Movements sheet into Arrow: the floor
  read          io.read.read_book of the clean workbook, then of the one with the text cell
  read, whole   the text-cell workbook read with the mixed-column pass turned off: the whole
                Movements sheet cell by cell, as before
  refresh       a full refresh of each (a copy: a refresh writes its outputs into the file)
  bare          the bare read again (the machine is shared: the median of the two is the yardstick)

The workbook is generated once per size (benchmarks/generate.py) in the work folder and reused; the
copy with the text cell is made from it once, by editing the sheet's XML in the package (openpyxl
would take minutes at a million rows).

    python benchmarks/odd_cells_bench.py                    # 100,000 movement rows
    python benchmarks/odd_cells_bench.py --rows 1048575     # a full Excel sheet
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a fresh clone without installing

from benchmarks.run import _peak_mb, child_bare, versions, workbook_for  # noqa: E402

TEXT = "12"  # a number typed as text: reported as number-as-text, and still counted as 12
QTY = "E"  # the Movements Qty column in the generated workbook


def with_text_cell(source: Path, out: Path) -> tuple[Path, str]:
    """A copy of the workbook whose middle Movements row has TEXT as a shared-string cell in the
    Qty column (as Excel saves a number typed as text), and that cell's address."""
    from inv_sheets.io.read import workbook_info

    with zipfile.ZipFile(source) as z:
        part = dict(workbook_info(z)[0])["Movements"]
        ref = f"{QTY}{_rows(z, part) // 2 + 1}"
        if out.exists():
            return out, ref
        tmp = out.with_suffix(".tmp.xlsx")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            strings = z.read("xl/sharedStrings.xml")
            count = len(re.findall(rb"<si>", strings))
            for info in z.infolist():
                data = z.read(info.filename)
                if info.filename == "xl/sharedStrings.xml":
                    data = data.replace(b"</sst>", f"<si><t>{TEXT}</t></si></sst>".encode())
                    data = re.sub(rb'(count|uniqueCount)="\d+"', lambda m: m.group(1) + b'="%d"' % (count + 1), data, 2)
                elif info.filename == part:
                    data, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*>.*?</c>',
                                      f'<c r="{ref}" t="s"><v>{count}</v></c>'.encode(), data, count=1)
                    assert n == 1, f"no cell {ref}"
                dst.writestr(info, data, compresslevel=1)
        tmp.replace(out)
    return out, ref


def _rows(z: zipfile.ZipFile, part: str) -> int:
    """The data rows of a sheet part, from its dimension (the generator writes one)."""
    with z.open(part) as fh:
        head = fh.read(4096)
    return int(re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head).group(1)) - 1


def child_read(path: str, whole: bool) -> dict:
    """Read the workbook; `whole`: with the mixed-column pass off, as before it existed."""
    from inv_sheets.io import mixed
    from inv_sheets.io.read import read_book

    if whole:
        mixed.read_columns = lambda *args: False
    started = time.perf_counter()
    book = read_book(path)
    seconds = time.perf_counter() - started
    table = book.tables["Movements"]
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": len(table.data),
            "read_exactly": sorted(set(table.data.columns) - table.column_wise)}


def child_refresh(path: str, whole: bool) -> dict:
    from inv_sheets.io import mixed
    from inv_sheets.refresh import refresh

    if whole:
        mixed.read_columns = lambda *args: False
    started = time.perf_counter()
    report = refresh(path)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "phases": report.summary["seconds"],
            "issues": sorted(f"{i.code} {i.cell}" for i in report.issues if i.code in ("number-as-text", "not-a-number"))}


def _in_child(kind: str, path: Path) -> dict:
    env = dict(os.environ, INV_SHEETS_CACHE="off", PYTHONPATH=str(HERE.parent))
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path)],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="movement rows (max 1,048,575)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "inv-sheets-bench")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        run = {"bare": child_bare, "read": lambda p: child_read(p, False), "read-whole": lambda p: child_read(p, True),
               "refresh": lambda p: child_refresh(p, False), "refresh-whole": lambda p: child_refresh(p, True)}[kind]
        print(json.dumps(run(path)))
        return

    clean = workbook_for(args.rows, args.workdir, 1)
    started = time.perf_counter()
    odd, ref = with_text_cell(clean, args.workdir / f"store-{args.rows}-1-text-cell.xlsx")
    print(f"text cell at Movements!{ref} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="odd-cells-", dir=args.workdir))
    try:
        result: dict = {"rows": args.rows, "cell": ref, "versions": versions(), "bare": [_in_child("bare", clean)]}
        for name, kind, path in (("read clean", "read", clean), ("read text cell", "read", odd),
                                 ("read text cell, whole sheet exact", "read-whole", odd)):
            result[name] = _in_child(kind, path)
        for name, kind, path in (("refresh clean", "refresh", clean), ("refresh text cell", "refresh", odd),
                                 ("refresh text cell, whole sheet exact", "refresh-whole", odd)):
            copy = work / path.name
            shutil.copyfile(path, copy)
            result[name] = _in_child(kind, copy)
            copy.unlink()
        result["bare"].append(_in_child("bare", clean))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["bare_median"] = statistics.median(b["seconds"] for b in result["bare"])
    print(json.dumps(result, indent=2) if args.json else render(result))


def render(r: dict) -> str:
    v = r["versions"]
    bare = r["bare_median"]
    lines = [f"{r['rows']:,} movement rows; the text cell at Movements!{r['cell']}",
             (f"{v['machine']}, {v['cpus']} CPUs, Python {v['python']}; pandas {v['pandas']}, "
              f"fastexcel {v['fastexcel']}, python-calamine {v['python-calamine']}, pyarrow {v['pyarrow']}"),
             "", f"{'':<40}{'seconds':>9}{'x bare':>8}{'peak MB':>9}"]
    lines.append(f"{'bare fastexcel read of Movements':<40}{bare:>9.2f}{1:>8.2f}"
                 f"{max(b['peak_mb'] for b in r['bare']):>9.0f}")
    for name in ("read clean", "read text cell", "read text cell, whole sheet exact",
                 "refresh clean", "refresh text cell", "refresh text cell, whole sheet exact"):
        run = r[name]
        lines.append(f"{name:<40}{run['seconds']:>9.2f}{run['seconds'] / bare:>8.2f}{run['peak_mb']:>9.0f}")
    reads = ", ".join(f"{b['seconds']:.2f}s" for b in r["bare"])
    lines += ["", f"bare reads: {reads} (median {bare:.2f}s)",
              f"columns read cell by cell with the text cell: {', '.join(r['read text cell']['read_exactly']) or '-'}",
              f"Qty findings: {'; '.join(r['refresh text cell']['issues']) or '-'}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
