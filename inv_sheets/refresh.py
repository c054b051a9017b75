"""The refresh pipeline: read, validate, ledger, features, write.

`compute` is the whole calculation on a Book, whatever it was read from (a file or a live Excel
workbook); `refresh` is compute plus the preserving file writer. The CLI and the Excel button both
end up here, so they cannot disagree.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import pandas as pd

from .contract.book import Book, Store
from .contract.issues import INFO, Issue, Report
from .contract.schema import OUTPUTS
from .contract.sheetdata import SheetData, sheet

if TYPE_CHECKING:
    from .integrity import LastRefresh

Progress = Callable[[str], None]
Feature = Callable[[Store, object], list[SheetData]]


def features(issues: list[Issue]) -> tuple[Feature, ...]:
    """The features, in the order their sheets appear. Each returns [] when its inputs are absent."""
    from .features import checklist, counts, kpis, stock
    from .features.channels import sheets as channels
    from .features.replenish import reorder as replenish

    return (stock.stock_sheets, replenish.replenish_sheets, counts.count_sheets, channels.channel_sheets,
            kpis.kpi_sheets, functools.partial(checklist.checklist_sheets, issues=issues))


@dataclass
class Result:
    """What a computation produced: the typed store, the ledger, the sheets and the report."""

    store: Store
    ledger: object
    sheets: list[SheetData]
    report: Report
    timings: dict[str, float] = field(default_factory=dict)
    kept: tuple[str, ...] = ()  # outputs whose sheets in the workbook are already right: left as they are


def compute(book: Book, *, as_of=None, progress: Progress | None = None,
            seen: pd.DataFrame | LastRefresh | None = None) -> Result:
    """Validate, run the ledger and every feature; return the sheets to write and the report.

    `seen` is the movement fingerprints the last refresh left: as read (integrity.read_seen), or
    as the file that holds them (integrity.LastRefresh, read only if need be). Past rows edited or
    deleted since are reported, and the new fingerprints go in a hidden sheet.
    """
    from .features import summary
    from .integrity import SHEET_NAME, LastRefresh, ledger_check, raw_movement_ids
    from .ledger.postings import build
    from .rules.validate import parse

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now
        if progress:
            progress(name)

    store, issues = parse(book, as_of=as_of)
    lap("validate")
    # Fingerprints first: the memory their hashing passes through is then reused by the ledger,
    # instead of adding to it (at a full ledger, the peak is some 200 MB lower).
    if isinstance(seen, LastRefresh):
        tampered, fingerprints = seen.check(book, store)
    else:
        tampered, fingerprints = ledger_check(store, seen, raw_movement_ids(book, store))
    del seen  # a million remembered fingerprints: not needed by the ledger or the features
    ledger = build(store)
    issues = _unique(book.locate(issues + list(ledger.issues) + tampered))
    lap("ledger")
    sheets: list[SheetData] = []
    for feature in features(issues):
        sheets.extend(feature(store, ledger))
    lap("features")
    sheets.append(issues_sheet(issues))
    sheets = summary.around(sheets, issues, store)
    if fingerprints is not None:
        sheets.append(fingerprints)
    report = Report(book.path, issues)
    report.summary = {"as_of": store.settings.as_of.date().isoformat(),
                      "rows": {name: len(store.tables[name]) for name in store.titles}}
    return Result(store, ledger, sheets, report, timings, kept=() if fingerprints is not None else (SHEET_NAME,))


def refresh(path: str | os.PathLike, *, output: str | os.PathLike | None = None, as_of=None,
            backup: bool = False, progress: Progress | None = None) -> Report:
    """Recompute the output sheets and write them into the workbook (or into `output`).

    A workbook refreshed in place is left alone when every part of it is as the last refresh left
    it and the same as-of day is asked on the same day (cache.refresh_key): that refresh's report
    is returned, with summary["unchanged"] set and nothing written.

    Raises InvSheetsError when it cannot run; the workbook is then left exactly as it was.
    """
    from .integrity import LastRefresh
    from .io import cache
    from .io.read import read_book
    from .io.write import FileState, source_and_target, write_sheets

    path = os.fspath(path)
    started = time.perf_counter()
    source_and_target(path, output)  # refuse an unwritable workbook or destination before any work
    in_place = output is None or os.path.abspath(output) == os.path.abspath(path)
    key = cache.refresh_key(path, as_of) if in_place and not backup else None
    done = cache.load_refresh(path, key) if key else None
    if done is not None:
        done.summary.update({"output": path, "written": [], "unchanged": True,
                             "seconds": {"read": round(time.perf_counter() - started, 3)}})
        return done
    state = FileState.of(path)
    book = read_book(path, progress=progress)
    read_seconds = time.perf_counter() - started
    last = LastRefresh(path)
    result = compute(book, as_of=as_of, progress=progress, seen=last)
    # Writing needs only the sheets: let go of the cells, the store and the ledger first (at a
    # full ledger they are over a gigabyte, and the rendered sheets come on top).
    sheets, report, timings = result.sheets, result.report, {"read": read_seconds, **result.timings}
    keep = {s.name for s in sheets} | set(result.kept)
    del book, result
    stale = [o.name for o in OUTPUTS if o.name not in keep]
    clock = time.perf_counter()
    written = write_sheets(path, sheets, output=output, backup=backup, expected=state, remove=stale)
    timings["write"] = time.perf_counter() - clock
    visible = [name for name, data in zip(written.sheets, sheets) if not data.hidden]
    report.summary.update({"output": os.fspath(written.path), "written": visible,
                           "seconds": {k: round(v, 3) for k, v in timings.items()}})
    last.remember(written.path)
    if in_place and (after := cache.refresh_key(written.path, as_of)):
        cache.save_refresh(written.path, after, report)
    return report


def issues_sheet(issues: list[Issue]) -> SheetData:
    """The Issues sheet: every finding, worst first, each linked to its cell."""
    ordered = Report("", issues).sorted_issues()
    rows = pd.DataFrame({
        "cell": [i.cell for i in ordered],
        "sheet": [i.sheet for i in ordered],
        "row": [i.row for i in ordered],
        "column": [i.column for i in ordered],
        "severity": [i.severity for i in ordered],
        "code": [i.code for i in ordered],
        "message": [i.message for i in ordered],
    })
    return sheet("Issues", rows, fills={"severity": {"error": "red", "warning": "amber", INFO: "grey"}})


def _unique(issues: list[Issue]) -> list[Issue]:
    """One finding per code and cell (two steps may notice the same thing)."""
    seen: set[tuple] = set()
    out = []
    for i in issues:
        key = (i.code, i.sheet, i.row, i.column)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
