"""The refresh pipeline: read, validate, ledger, features, write.

`compute` is the whole calculation on a Book, whatever it was read from (a file or a live Excel
workbook); `refresh` is compute plus the preserving file writer. The CLI and the Excel button both
end up here, so they cannot disagree.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TypeVar

import pandas as pd

from .contract.book import Book, Store
from .contract.issues import INFO, Issue, Report
from .contract.schema import OUTPUT, OUTPUTS
from .contract.sheetdata import SheetData, sheet

if TYPE_CHECKING:
    from .integrity import LastRefresh

Progress = Callable[[str], None]
Feature = Callable[[Store, object], list[SheetData]]
T = TypeVar("T")


def settled(run: Callable[..., T]) -> Callable[..., T]:
    """`run` with what was alive before it (the modules and their classes and functions, some
    90,000 objects) left out of the garbage collector's full passes.

    A refresh makes enough objects for three or four full passes, and each walked all of those
    again (70 ms a pass here; 0.2 s of a refresh at 100,000 rows, 0.3 s at a full ledger). They
    are put back after, so nothing that was garbage before is kept; a caller that froze objects
    itself keeps them frozen.
    """
    @functools.wraps(run)
    def settled_run(*args, **kwargs):
        if gc.get_freeze_count():
            return run(*args, **kwargs)
        gc.freeze()
        try:
            return run(*args, **kwargs)
        finally:
            gc.unfreeze()

    return settled_run


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


@settled
def compute(book: Book, *, as_of=None, progress: Progress | None = None,
            seen: pd.DataFrame | LastRefresh | None = None, release: bool = False) -> Result:
    """Validate, run the ledger and every feature; return the sheets to write and the report.

    `seen` is the movement fingerprints the last refresh left: as read (integrity.read_seen), or
    as the file that holds them (integrity.LastRefresh, read only if need be). Past rows edited or
    deleted since are reported, and the new fingerprints go in a hidden sheet.

    With `release`, the cells as read are let go of once the fingerprints are checked (the book
    keeps its tables' rows, not their values): the caller will not read them again, and at a
    full ledger the features then run in some 150 MB less.
    """
    from .features.summary import around
    from .integrity import SHEET_NAME, LastRefresh, ledger_check, raw_movement_ids
    from .ledger.postings import build
    from .rules.validate import left_out, parse, summary, unique

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
    if release:  # nothing reads the cells as read after the check: only their rows are kept
        for table in book.tables.values():
            table.data = table.data.iloc[:, :0]
        store.raw = {name: frame.iloc[:, :0] for name, frame in store.raw.items()}
    ledger = build(store)
    issues = unique(book.locate(issues + list(ledger.issues) + tampered) + findings(store, ledger))
    lap("ledger")
    sheets: list[SheetData] = []
    for feature in features(issues):
        sheets.extend(feature(store, ledger))
    sheets = with_left_out(sheets, store, left_out(store))
    lap("features")
    sheets.append(issues_sheet(issues))
    sheets = around(sheets, issues, store)  # the Summary first, the Definitions last
    if fingerprints is not None:
        sheets.append(fingerprints)
    report = Report(book.path, issues)
    report.summary = summary(store, rows="rows")
    return Result(store, ledger, sheets, report, timings, kept=() if fingerprints is not None else (SHEET_NAME,))


@settled
def refresh(path: str | os.PathLike, *, output: str | os.PathLike | None = None, as_of=None,
            backup: bool = False, force: bool = False, progress: Progress | None = None) -> Report:
    """Recompute the output sheets and write them into the workbook (or into `output`).

    An existing `output` is replaced only with `force` (WouldOverwriteError otherwise). With
    `backup`, the workbook as it was is copied beside it first; summary["backup"] names the copy.
    An output sheet whose feature has nothing to show keeps its headers and gets one line that says
    why (empty_sheet), so references into it stay valid.

    A workbook refreshed in place is left alone when every part of it is as the last refresh left
    it and the same as-of day is asked on the same day (cache.refresh_key): that refresh's report
    is returned, with summary["unchanged"] set and nothing written.

    Raises InvSheetsError when it cannot run; the workbook is then left exactly as it was.
    """
    from .integrity import LastRefresh
    from .io import cache
    from .io.read import read_book
    from .io.write import FileState, check_new_file, source_and_target, write_sheets

    path = os.fspath(path)
    started = time.perf_counter()
    in_place = output is None or os.path.abspath(output) == os.path.abspath(path)
    if not in_place:
        check_new_file(path, output, force=force)
    source_and_target(path, output)  # refuse an unwritable workbook or destination before any work
    key = cache.refresh_key(path, as_of) if in_place and not backup else None
    done = cache.load_refresh(path, key) if key else None
    if done is not None:
        done.summary.update({"output": path, "written": [], "unchanged": True,
                             "seconds": {"read": round(time.perf_counter() - started, 3)}})
        return done
    state = FileState.of(path)
    book = read_book(path, progress=progress)
    read_seconds = time.perf_counter() - started
    last = LastRefresh(path, writes=True)
    result = compute(book, as_of=as_of, progress=progress, seen=last, release=True)
    # Writing needs only the sheets: let go of the cells, the store and the ledger first (at a
    # full ledger they are over a gigabyte, and the rendered sheets come on top).
    sheets, report, timings = result.sheets, result.report, {"read": read_seconds, **result.timings}
    keep = {s.name for s in sheets} | set(result.kept)
    del book, result
    empty = [empty_sheet(o.name, report.summary["as_of"]) for o in OUTPUTS if o.name not in keep]
    clock = time.perf_counter()
    found = report.issues
    written = write_sheets(path, sheets, output=output, backup=backup, expected=state, placeholders=empty,
                           issues=lambda typed: issues_sheet(found + typed))
    timings["write"] = time.perf_counter() - clock
    del sheets, empty
    report.summary.update({"output": os.fspath(written.path), "written": list(written.visible),
                           "seconds": {k: round(v, 3) for k, v in timings.items()}})
    if written.backup is not None:
        report.summary["backup"] = os.fspath(written.backup)
    report.issues.extend(written.findings)
    last.remember(written.path)
    if in_place and (after := cache.refresh_key(written.path, as_of)):
        cache.save_refresh(written.path, after, report)
    return report


# Why an output sheet has nothing to show, in words that fit "... as of <day>."
NOTHING_TO_SHOW = {
    "Stock": "no stock to show", "Reorder": "nothing to plan", "Purchase Plan": "nothing to order",
    "Variance": "no counts to compare with the book", "Count Plan": "nothing due for counting",
    "Expiry": "no batch with an expiry on hand", "Bundle Stock": "no bundles to assemble",
    "Channel Stock": "no sales channels to publish to", "Allocation": "no open order lines to allocate",
    "Pick List": "nothing to pick", "Returns": "no returns", "KPIs": "no week to measure yet",
}


def empty_sheet(output: str, as_of: str) -> SheetData:
    """An output sheet with nothing to show: its headers and one line that says why.

    Written instead of removing the sheet, so formulas and defined names that point into it keep
    pointing at a real sheet.
    """
    declared = OUTPUT[output]
    why = NOTHING_TO_SHOW.get(output, "nothing to show")
    line = f"{why[0].upper()}{why[1:]} as of {as_of}."
    return SheetData(declared, pd.DataFrame({declared.columns[0].name: [line]}))


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


def findings(store: Store, ledger) -> list[Issue]:
    """What the figures find about the values behind them (a hand-set reorder point below the
    lead-time demand, an order that lasts years): reported by refresh and validate alike."""
    from .features.replenish.reorder import reorder_findings

    return reorder_findings(store, ledger)


@settled
def validate(source: str | os.PathLike | Book, *, as_of=None, progress: Progress | None = None) -> Report:
    """Every finding a refresh would report (cells, sheets, ledger, the figures' findings, past
    rows edited since the last refresh), without computing a sheet or writing anything."""
    from .integrity import LastRefresh
    from .rules.validate import check, load, summary, unique

    book = source if isinstance(source, Book) else load(source, progress=progress)
    store, ledger, issues = check(book, as_of=as_of)
    tampered = LastRefresh(book.path).check(book, store)[0] if book.path and os.path.exists(book.path) else []
    report = Report(book.path, unique(issues + book.locate(tampered) + findings(store, ledger)))
    report.summary = summary(store)
    return report


def with_left_out(sheets: list[SheetData], store: Store, gaps: dict[str, list[int]]) -> list[SheetData]:
    """Each computed sheet with a note saying how many rows with errors its figures leave out and
    where they are listed, so a figure is never short without a word."""
    if not gaps:
        return sheets
    total = sum(len(rows) for rows in gaps.values())
    where = ", ".join(f"{store.titles.get(name, name)} {len(rows)}" for name, rows in gaps.items())
    said = (f"{total} row{'s' if total != 1 else ''} with errors ({where}) {'are' if total != 1 else 'is'} "
            "not in these figures")
    note = ("Left out", f"{said}: the Issues sheet lists each error at its cell; fix them and refresh.")
    return [s if s.hidden else dataclasses.replace(s, notes=(note, *s.notes), left_out=said) for s in sheets]
