"""Time a refresh phase by phase against a bare fast read of the same Movements sheet.

One run measures, each in a fresh child process so their peak memory is their own:

  bare     fastexcel reads the Movements sheet (and any sheet continuing it) into Arrow: the floor
  cold     a full refresh with nothing cached: read, validate, ledger, features, write
  warm     the same workbook refreshed again, nothing in it changed: the last refresh's report
  next     refreshed again for the next as-of day: everything computed, but the Movements sheet
           (unchanged) comes from the cached parse and its fingerprint comparison is known
  bare     the bare read again (the machine is shared: the median of the two is the yardstick)

and prints each phase, the peak memory, and the ratios the targets are stated in. The workbook is
generated once per size (benchmarks/generate.py) in the work folder and reused.

    python benchmarks/run.py                    # 100,000 movement rows: a couple of minutes
    python benchmarks/run.py --rows 1048575     # a full Excel sheet
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a fresh clone without installing

COLD_TARGET = 1.5  # full refresh within 1.5 x the bare read
WARM_TARGET_SECONDS = 2.0
MEMORY_TARGET_MB = 1536
PHASES = ("read", "validate", "ledger", "features", "write")


def _peak_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def child_bare(path: str) -> dict:
    """Time fastexcel reading the ledger sheets (Movements and any continuing it) into Arrow, and
    nothing else."""
    import fastexcel

    from inv_sheets.io.read import continuation_of

    started = time.perf_counter()
    reader = fastexcel.read_excel(path)
    ledger = [n for n in reader.sheet_names if n == "Movements" or continuation_of(n) == "Movements"]
    rows = sum(reader.load_sheet(name).to_arrow().num_rows for name in ledger)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}


def child_refresh(path: str, as_of: str | None = None) -> dict:
    """Refresh the workbook in place; the per-phase seconds come from the refresh itself."""
    from inv_sheets.refresh import refresh

    started = time.perf_counter()
    report = refresh(path, as_of=as_of)
    seconds = time.perf_counter() - started
    phases = report.summary["seconds"]
    return {"seconds": seconds, "phases": phases, "peak_mb": _peak_mb(), "as_of": report.summary["as_of"],
            "issues": len(report.issues), "rows": report.summary["rows"].get("Movements")}


def _in_child(kind: str, path: Path, cache_dir: Path, as_of: str | None = None) -> dict:
    env = dict(os.environ, INV_SHEETS_CACHE_DIR=str(cache_dir), PYTHONPATH=str(HERE.parent))
    env.pop("INV_SHEETS_CACHE", None)
    extra = ["--as-of", as_of] if as_of else []
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path), *extra],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions() -> dict[str, str]:
    """The machine and the library versions a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version(), "machine": f"{platform.system()} {platform.machine()}",
             "cpus": str(os.cpu_count())}
    for name in ("inv-sheets", "pandas", "numpy", "pyarrow", "fastexcel", "python-calamine", "lxml"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "-"
    return found


def workbook_for(rows: int, folder: Path, sheets: int) -> Path:
    """The generated workbook for this size, made once and reused."""
    from benchmarks.generate import generate

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"store-{rows}-{sheets}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp.xlsx")
        generate(tmp, rows, sheets=sheets)
        tmp.replace(path)
        print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="movement rows (max 1,048,575)")
    parser.add_argument("--sheets", type=int, default=1, help="ledger sheets the movements are split over")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "inv-sheets-bench")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        print(json.dumps(child_bare(path) if kind == "bare" else child_refresh(path, args.as_of)))
        return

    source = workbook_for(args.rows, args.workdir, args.sheets)
    work = args.workdir / "refresh.xlsx"
    shutil.copyfile(source, work)
    cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=args.workdir))
    try:
        bare1 = _in_child("bare", source, cache_dir)
        cold = _in_child("refresh", work, cache_dir)
        warm = _in_child("refresh", work, cache_dir)
        next_day = (date.fromisoformat(cold["as_of"]) + timedelta(days=1)).isoformat()
        following = _in_child("refresh", work, cache_dir, as_of=next_day)
        bare2 = _in_child("bare", source, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    bare = statistics.median([bare1["seconds"], bare2["seconds"]])
    result = {"rows": args.rows, "sheets": args.sheets, "workbook_mb": round(source.stat().st_size / 1e6, 1),
              "versions": versions(), "bare": [bare1, bare2], "cold": cold, "warm": warm, "next": following,
              "cold_ratio": cold["seconds"] / bare, "bare_median": bare}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(result))


def render(r: dict) -> str:
    """The measurements as a small table with the targets beside them."""
    v = r["versions"]
    lines = [f"{r['rows']:,} movement rows over {r['sheets']} ledger sheet(s), {r['workbook_mb']} MB",
             (f"{v['machine']}, {v['cpus']} CPUs, Python {v['python']}; pandas {v['pandas']}, numpy {v['numpy']}, "
              f"fastexcel {v['fastexcel']}, python-calamine {v['python-calamine']}, pyarrow {v['pyarrow']}"),
             "",
             f"{'phase':<12}{'cold s':>9}{'warm s':>9}{'next day s':>12}"]
    runs = (r["cold"], r["warm"], r["next"])
    for phase in PHASES:
        lines.append(f"{phase:<12}" + "".join(f"{run['phases'].get(phase, 0):>{w}.2f}" for run, w in zip(runs, (9, 9, 12))))
    lines += [f"{'total':<12}" + "".join(f"{run['seconds']:>{w}.2f}" for run, w in zip(runs, (9, 9, 12))),
              f"{'peak MB':<12}" + "".join(f"{run['peak_mb']:>{w}.0f}" for run, w in zip(runs, (9, 9, 12))),
              "",
              (f"bare fastexcel read of the ledger: {r['bare'][0]['seconds']:.2f}s, {r['bare'][1]['seconds']:.2f}s "
               f"(median {r['bare_median']:.2f}s, peak {max(b['peak_mb'] for b in r['bare']):.0f} MB)"),
              f"cold refresh / bare read: {r['cold_ratio']:.2f}  (target <= {COLD_TARGET})  "
              + ("met" if r["cold_ratio"] <= COLD_TARGET else "NOT met"),
              f"warm refresh: {r['warm']['seconds']:.2f}s  (target <= {WARM_TARGET_SECONDS:.0f}s)  "
              + ("met" if r["warm"]["seconds"] <= WARM_TARGET_SECONDS else "NOT met"),
              f"next-day refresh (Movements unchanged, every sheet computed): {r['next']['seconds']:.2f}s  "
              f"(target <= {WARM_TARGET_SECONDS:.0f}s)  " + ("met" if r["next"]["seconds"] <= WARM_TARGET_SECONDS else "NOT met"),
              f"peak memory: {max(r['cold']['peak_mb'], r['next']['peak_mb']):.0f} MB  (target < {MEMORY_TARGET_MB} MB)  "
              + ("met" if max(r["cold"]["peak_mb"], r["next"]["peak_mb"]) < MEMORY_TARGET_MB else "NOT met")]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
