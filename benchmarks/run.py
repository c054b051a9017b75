"""Time a refresh phase by phase against a bare fast read of the same Movements sheet.

One run measures, each in a fresh child process so their peak memory is their own:

  bare     fastexcel reads the Movements sheet (and any sheet continuing it) into Arrow: the floor
  cold     a full refresh with nothing cached: read, validate, ledger, features, write
  warm     the same workbook refreshed again, nothing in it changed: the last refresh's report
  next     refreshed again for the next as-of day: everything computed, but the Movements sheet
           (unchanged) comes from the cached parse and its fingerprint comparison is known
  daily    the day after: DAILY_ROWS movements of that day appended to the ledger (as `inv-sheets
           import` appends them), then refreshed as of that day: what a store does every morning
  bare     the bare read again (the machine is shared: the median of the two is the yardstick)

and prints each phase, the peak memory, and the ratios the targets are stated in. The workbook is
generated once per size (benchmarks/generate.py) in the work folder and reused.

    python benchmarks/run.py                    # 100,000 movement rows: a couple of minutes
    python benchmarks/run.py --rows 1048575     # a full Excel sheet

`--rows` is the ledger's length after the daily append: the workbook is generated with DAILY_ROWS
fewer, so at 1,048,575 the day's rows fill the sheet to Excel's last row.
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

COLD_TARGET = 2.0  # full refresh within 2 x the bare read (the stretch goal is 1.5 x)
DAILY_TARGET = 1.5  # the refresh after the day's append within 1.5 x the bare read
DAILY_ROWS = 200  # movements appended for the daily refresh
WARM_TARGET_SECONDS = 2.0
SMALL_DAILY_SECONDS = 2.0  # the daily refresh of a ledger of up to 100,000 rows (a few years of most stores)
MEMORY_TARGET_MB = 1536
PHASES = ("read", "validate", "ledger", "features", "write")


def _peak_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB, macOS bytes), or of it
    and the copies it forked to render sheets (io.forked) while they ran, whichever is more."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(peak / (1 << 20) if sys.platform == "darwin" else peak / 1024, _TREE.peak_mb)


class _TreeMemory:
    """The memory of this process and its forked copies together, sampled every 50 ms on Linux.

    A copy's resident size counts the pages it shares with this process as its own too, so the
    two sizes added up would count them twice; the proportional set size (Pss) splits each shared
    page between the processes that map it, and their sum is what they take together."""

    def __init__(self) -> None:
        self.peak_mb = 0.0

    def start(self, every: float = 0.05) -> None:
        if sys.platform.startswith("linux") and os.path.exists("/proc/self/smaps_rollup"):
            import threading

            threading.Thread(target=self._sample, args=(every,), daemon=True).start()

    def _sample(self, every: float) -> None:
        while True:
            pids = ["self"]
            for children in Path("/proc/self/task").glob("*/children"):
                pids += children.read_text().split()
            if len(pids) > 1:  # alone, this process's peak is ru_maxrss
                self.peak_mb = max(self.peak_mb, sum(map(_pss_mb, pids)))
            time.sleep(every)


def _pss_mb(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:  # the copy has just ended
        pass
    return 0.0


_TREE = _TreeMemory()  # sampling only in a measuring child process (main)


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


def child_append(path: str, day: str) -> dict:
    """Append DAILY_ROWS movements dated `day` to the Movements sheet: sales, receipts, transfers
    and adjustments of SKUs at their home location (from Item Locations)."""
    import fastexcel
    import pandas as pd

    from inv_sheets.io.append import NewRows, append_rows

    homes = fastexcel.read_excel(path).load_sheet("Item Locations").to_pandas()
    homes = homes.iloc[:DAILY_ROWS]
    when = pd.Timestamp(day)
    rows = []
    for i, (sku, home) in enumerate(zip(homes["SKU"], homes["Location"])):
        kind = ("sale", "sale", "sale", "receive", "sale", "transfer", "sale", "adjust")[i % 8]
        row = {"A": f"D{when:%Y%m%d}-{i:04d}", "B": when, "C": kind, "D": sku, "E": 1.0}
        if kind == "sale":
            row.update(F=home, L="WEB")
        elif kind == "receive":
            row.update(G=home, E=24.0, J=5.0)
        elif kind == "transfer":
            row.update(F=home, G="TRN")
        else:
            row.update(G=home, M="recount", N="owner")
        rows.append(row)
    started = time.perf_counter()
    append_rows(path, [NewRows("Movements", rows)])
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}


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
        _TREE.start()
        kind, path = args.child
        run = {"bare": lambda: child_bare(path), "append": lambda: child_append(path, args.as_of),
               "refresh": lambda: child_refresh(path, args.as_of)}[kind]
        print(json.dumps(run()))
        return

    source = workbook_for(args.rows - DAILY_ROWS, args.workdir, args.sheets)
    work = args.workdir / "refresh.xlsx"
    shutil.copyfile(source, work)
    cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=args.workdir))
    try:
        bare1 = _in_child("bare", source, cache_dir)
        cold = _in_child("refresh", work, cache_dir)
        warm = _in_child("refresh", work, cache_dir)
        next_day = (date.fromisoformat(cold["as_of"]) + timedelta(days=1)).isoformat()
        following = _in_child("refresh", work, cache_dir, as_of=next_day)
        day_after = (date.fromisoformat(next_day) + timedelta(days=1)).isoformat()
        appended = _in_child("append", work, cache_dir, as_of=day_after)
        daily = _in_child("refresh", work, cache_dir, as_of=day_after)
        bare2 = _in_child("bare", source, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    bare = statistics.median([bare1["seconds"], bare2["seconds"]])
    result = {"rows": args.rows, "sheets": args.sheets, "workbook_mb": round(source.stat().st_size / 1e6, 1),
              "versions": versions(), "bare": [bare1, bare2], "cold": cold, "warm": warm, "next": following,
              "append": appended, "daily": daily, "cold_ratio": cold["seconds"] / bare,
              "daily_ratio": daily["seconds"] / bare, "bare_median": bare}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(result))


def render(r: dict) -> str:
    """The measurements as a small table with the targets beside them."""
    v = r["versions"]
    runs = (("cold", r["cold"]), ("warm", r["warm"]), ("next day", r["next"]), ("daily", r["daily"]))
    lines = [f"{r['rows']:,} movement rows over {r['sheets']} ledger sheet(s) after the daily append, "
             f"{r['workbook_mb']} MB before it",
             (f"{v['machine']}, {v['cpus']} CPUs, Python {v['python']}; pandas {v['pandas']}, numpy {v['numpy']}, "
              f"fastexcel {v['fastexcel']}, python-calamine {v['python-calamine']}, pyarrow {v['pyarrow']}"),
             "",
             f"{'phase':<12}" + "".join(f"{name + ' s':>12}" for name, _ in runs)]
    for phase in PHASES:
        lines.append(f"{phase:<12}" + "".join(f"{run['phases'].get(phase, 0):>12.2f}" for _, run in runs))
    lines += [f"{'total':<12}" + "".join(f"{run['seconds']:>12.2f}" for _, run in runs),
              f"{'peak MB':<12}" + "".join(f"{run['peak_mb']:>12.0f}" for _, run in runs),
              f"{'findings':<12}" + "".join(f"{run['issues']:>12,}" for _, run in runs),
              "",
              (f"bare fastexcel read of the ledger: {r['bare'][0]['seconds']:.2f}s, {r['bare'][1]['seconds']:.2f}s "
               f"(median {r['bare_median']:.2f}s, peak {max(b['peak_mb'] for b in r['bare']):.0f} MB)"),
              f"appending the day's {r['append']['rows']} rows: {r['append']['seconds']:.2f}s",
              "",
              _target("daily refresh / bare read", r["daily_ratio"], DAILY_TARGET),
              *([_target("daily refresh, s", r["daily"]["seconds"], SMALL_DAILY_SECONDS)] if r["rows"] <= 100_000 else []),
              _target("cold refresh / bare read", r["cold_ratio"], COLD_TARGET),
              _target("unchanged workbook, s", r["warm"]["seconds"], WARM_TARGET_SECONDS),
              _target("peak memory, MB", max(run["peak_mb"] for _, run in runs), MEMORY_TARGET_MB, "{:.0f}")]
    return "\n".join(lines)


def _target(what: str, value: float, target: float, fmt: str = "{:.2f}") -> str:
    return f"{what:<28}{fmt.format(value):>8}  (target <= {fmt.format(target)})  " + ("met" if value <= target else "NOT met")


if __name__ == "__main__":
    main()
