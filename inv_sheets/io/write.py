"""The preserving writer: put the toolkit's sheets into the user's own workbook, and nothing else.

`write_sheets` adds or replaces the output sheets it owns (see workbook.py for the ownership
marker); a new one takes its place among the outputs (after the one written before it, the Summary
before the first), or goes at the end when there are none. It never removes an
output sheet: one whose feature has nothing to show gets its headers and a line saying why, so
formulas and names that point into it keep working. It edits only this allow-list of package members:

    [Content_Types].xml, xl/workbook.xml and its rels, xl/styles.xml (append-only),
    docProps/app.xml, xl/calcChain.xml (removed), and the parts of its own output sheets.

What the user typed on an output sheet is read before it is replaced (typed.py): their own
columns beside a table go back on their rows' keys, and values that cannot stay go to Orphaned
Notes. Every other member is copied with its compressed bytes unchanged and in its place; a guard
refuses to save if anything outside the list would change. VBA projects, buttons, pictures,
pivot tables and everything the toolkit does not understand are carried through untouched.

calcChain.xml is removed on every write: the workbook is set to recalculate fully on load
(`fullCalcOnLoad`, so formulas over the outputs show new numbers), and Excel rebuilds the chain
during that recalculation anyway, whereas a chain that names a replaced or removed cell makes Excel
"repair" the file. Dropping it costs nothing and removes that risk.

Saving is atomic (save.py): a temp file in the same directory, fsync, re-open and verify, a last
check that the source has not changed since it was read, then os.replace, or, for a workbook with
several hard links, a write over it in place that is undone if it does not finish. On any failure
the original file is left as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable
from xml.sax.saxutils import unescape

import pandas as pd
from lxml import etree

from ..contract.issues import (
    EncryptedWorkbookError,
    Issue,
    NotAWorkbookError,
    WorkbookChangedError,
    WorkbookLockedError,
    WouldOverwriteError,
    WriteError,
)
from ..contract.sheetdata import SheetData
from .docprops import APP, update_titles
from .guard import UNREADABLE
from .package import (
    CONTENT_TYPES,
    CT_CHART,
    CT_DRAWING,
    CT_STYLES,
    CT_TABLE,
    CT_WORKSHEET,
    REL_CALC_CHAIN,
    REL_CHART,
    REL_DRAWING,
    REL_STYLES,
    REL_TABLE,
    Package,
    rels_name,
)
from .forked import Forked, wanted
from .render import DRAWING_RID, TABLE_RID, SheetParts, render
from .save import FileState, recover, save_atomically
from .styles import MINIMAL_STYLES, CellStyle, StyleSheet
from .typed import (
    ORPHANS,
    Before,
    Grid,
    calamine_grid,
    lost,
    orphans_sheet,
    put_back,
    read_before,
    read_orphans,
    record,
)
from .workbook import Sheet, Workbook, record_name, unique_sheet_name, unique_table_name

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_STRICT_NS = b"http://purl.oclc.org/ooxml/"
_CODE_NAME = re.compile(rb'<(?:\w+:)?sheetPr\b[^>]*?\bcodeName="([^"]*)"')


@dataclass(frozen=True)
class WriteResult:
    path: Path  # the file written
    sheets: tuple[str, ...]  # the final names of the sheets written, in order
    bytes: int  # its size
    backup: Path | None = None  # the copy of the file as it was, when one was asked for
    visible: tuple[str, ...] = ()  # the sheets written that are not hidden, in order
    findings: tuple[Issue, ...] = ()  # what happened to values the user typed on the output sheets


# Checks before any work ------------------------------------------------------------------------------
def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse early, with a specific reason, a workbook that must not or cannot be written in place."""
    path = Path(path)
    check_workbook(path)
    check_replaceable(path)


def check_replaceable(path: Path) -> None:
    """Refuse a file that is open in another program or cannot be replaced."""
    check_not_open(path)
    mode = path.stat().st_mode
    if not os.access(path, os.W_OK) or not mode & stat.S_IWUSR:
        raise WorkbookLockedError(f"{path.name} is read-only")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise WorkbookLockedError(f"the folder of {path.name} is not writable")
    try:  # on Windows this is where a workbook open in Excel shows up (a sharing violation)
        with open(path, "r+b"):
            pass
    except PermissionError as e:
        raise WorkbookLockedError(f"{path.name} is open in another program or read-only") from e


def check_not_open(path: Path) -> None:
    """Refuse a file that Excel or LibreOffice has open: they leave a lock file beside it."""
    for lock in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:]),
                 path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            raise WorkbookLockedError(f"{path.name} is open in another program (lock file {lock.name}); close it and try again")


def check_workbook(path: Path) -> None:
    """Raise unless `path` is an .xlsx/.xlsm package this writer can edit."""
    if path.is_dir():
        raise NotAWorkbookError(f"{path} is a folder, not a workbook file")
    if path.exists() and not path.is_file():
        raise NotAWorkbookError(f"{path} is not a regular file (a pipe or a device), not a workbook file")
    if not path.is_file():
        raise NotAWorkbookError(f"{path} does not exist")
    recover(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head == OLE_SIGNATURE:
        if _ENCRYPTION_INFO in path.read_bytes():
            raise EncryptedWorkbookError(f"{path.name} is password-protected; remove the password in Excel first")
        raise NotAWorkbookError(f"{path.name} is an old-style .xls workbook; save it as .xlsx or .xlsm in Excel")
    if not zipfile.is_zipfile(path):
        raise NotAWorkbookError(f"{path.name} is not an Excel workbook (.xlsx or .xlsm)")
    try:
        with zipfile.ZipFile(path) as z:
            package_rels = z.read("_rels/.rels")
            if _STRICT_NS in package_rels:
                raise NotAWorkbookError(f"{path.name} is saved as 'Strict Open XML'; save it as a normal Excel Workbook")
            names = set(z.namelist())
            if any(n.endswith(".bin") and n.startswith("xl/workbook") for n in names):
                raise NotAWorkbookError(f"{path.name} is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
            with Package(path) as pkg:
                main = pkg.main_part()
                if main not in names:
                    raise NotAWorkbookError(f"{path.name} has no workbook part")
                if _STRICT_NS in pkg.head(main, 4096):
                    raise NotAWorkbookError(f"{path.name} is saved as 'Strict Open XML'; save it as a normal Excel Workbook")
    except (KeyError, etree.XMLSyntaxError, *UNREADABLE) as e:
        raise NotAWorkbookError(f"{path.name} is damaged or not an Excel workbook ({e})") from e


# The write -------------------------------------------------------------------------------------------
def source_and_target(path: str | os.PathLike[str], output: str | os.PathLike[str] | None, *,
                      suffix: str | None = None) -> tuple[Path, Path]:
    """The workbook to read and the file to write, each checked: writing in place needs a writable,
    unlocked workbook; writing elsewhere a readable workbook and a writable destination."""
    source = Path(path)
    target = Path(output) if output is not None else source
    kind = (suffix or source.suffix).lower()
    if target.suffix.lower() != kind:
        # Excel opens a package by its name: a macro workbook named .xlsx (or a workbook named
        # .csv) would be refused or lose its macros.
        raise WriteError(f"{target.name}: write to a {kind} file, the kind of workbook this is")
    if target == source:
        check_writable(source)
    else:
        check_workbook(source)
        check_not_open(target)
        if target.exists():  # replaced whole: it need not be a workbook (check_new_file asks first)
            recover(target)
            check_replaceable(target)
        elif not target.parent.is_dir():
            raise WriteError(f"the folder {target.parent} does not exist: create it first, or write elsewhere")
        elif not os.access(target.parent, os.W_OK | os.X_OK):
            raise WorkbookLockedError(f"the folder {target.parent} is not writable")
    return source, target


def check_new_file(source: str | os.PathLike[str], target: str | os.PathLike[str], *, force: bool = False) -> None:
    """Refuse to replace an existing file other than the workbook itself, unless `force`."""
    source, target = Path(source), Path(target)
    if not force and target.exists() and not (source.exists() and os.path.samefile(source, target)):
        raise WouldOverwriteError(f"{target} already exists; choose another name, or use --force to replace it")


def write_sheets(path: str | os.PathLike[str], sheets: list[SheetData], *, output: str | os.PathLike[str] | None = None,
                 backup: bool = False, expected: FileState | None = None,
                 placeholders: Iterable[SheetData] = (),
                 issues: Callable[[list[Issue]], SheetData] | None = None) -> WriteResult:
    """Add or replace the toolkit's sheets in the workbook at `path` (or write the result to `output`).

    placeholders  sheets of outputs with nothing to show (headers and a line that says why): written
                  only where the output's sheet already exists, so that it, and every reference
                  into it, stays. An output sheet is never removed.
    expected      the file as it was read; if it changed since, WorkbookChangedError and nothing written.
    backup        copy the file about to be replaced beside it first, under a new name (backup_path).
    issues        builds the Issues sheet with the findings the write adds (values typed on output
                  sheets that moved to Orphaned Notes); it replaces the one in `sheets` when there are any.

    A new sheet takes its place among the output sheets (at the end when there are none), never
    between the user's own. A workbook whose structure is protected is refused if a sheet would have to be added.
    """
    source, target = source_and_target(path, output)
    if expected is not None and FileState.of(source) != expected:
        raise WorkbookChangedError(f"{source.name} changed since it was read; run again")

    with Package(source) as pkg:
        book = Workbook(pkg)
        for data in placeholders:
            existing = book.owned(data.name)
            if existing is not None:  # keeps the sheet as the user left it: hidden or not
                sheets = [*sheets, replace(data, hidden=existing.element.get("state") in ("hidden", "veryHidden"))]
        # What the user typed on the sheets about to be replaced is read first, so that the values
        # that cannot stay where they were are on Orphaned Notes and the Issues sheet in this write.
        grid = calamine_grid(source)
        befores = {data.name: _read_before(pkg, book, data, grid) for data in sheets}
        orphans, findings = [], []
        for data in sheets:
            if befores[data.name] is not None:
                more, said = lost(befores[data.name], data, book.date1904, dt.date.today())
                orphans += more
                findings += said
        if orphans:  # added to what the sheet already keeps; never cleared by the toolkit
            existing = book.owned(ORPHANS.name)
            kept = read_orphans(grid, existing.name, existing.part) if existing is not None else []
            sheets = [*sheets, orphans_sheet(kept, orphans)]
            befores[ORPHANS.name] = _read_before(pkg, book, sheets[-1], grid)
        if findings and issues is not None:
            fresh = issues(findings)
            sheets = [fresh if data.name == fresh.name else data for data in sheets]
        _check_structure(book, sheets, source)

        allowed = {CONTENT_TYPES, book.part, rels_name(book.part), APP}
        styles_part = _styles_part(pkg, book)
        allowed.add(styles_part)
        styles = StyleSheet(pkg.read(styles_part))
        for rel in book.rels.of_type(REL_CALC_CHAIN):
            pkg.remove(rel.target)
            book.rels.remove(rel.id)
            allowed.add(rel.target)

        put: dict[int, tuple[Sheet, set[str]]] = {}
        order = _write_order(book, sheets)
        ahead = _Ahead.start(pkg, book, styles, sheets, order)
        try:
            for i in order:
                # The sheet listed before it (written already, unless this one is in the workbook and
                # keeps its place): a new sheet goes right after it.
                previous = put[i - 1][0] if i - 1 in put else None
                put[i] = _put_sheet(pkg, book, styles, capped(sheets[i]), befores.get(sheets[i].name), previous,
                                    ahead)
        finally:
            if ahead is not None:
                ahead.stop()  # a write that failed midway leaves no copy running
        written, visible, new_parts = [], [], []
        for i, data in enumerate(sheets):
            sheet, parts = put[i]
            written.append(sheet.name)
            if not data.hidden:
                visible.append(sheet.name)
            new_parts.append(sheet.part)
            allowed |= parts

        book.recalculate_on_load()
        book.finish()
        pkg.write(book.part, book.to_xml())
        pkg.write(styles_part, styles.to_xml())
        update_titles(pkg, book.worksheet_names())

        stray = pkg.edited() - allowed
        if stray:
            raise WriteError(f"refusing to save: the write would change parts it does not own: {sorted(stray)}")
        size, kept = save_atomically(pkg, source, target, expected, backup, new_parts)
    return WriteResult(target, tuple(written), size, kept, tuple(visible), tuple(findings))


def _write_order(book: Workbook, sheets: list[SheetData]) -> list[int]:
    """The order to write `sheets` in: hidden ones already in the workbook first, then the rest
    as listed (each new sheet after the one listed before it, which is then written already).

    The hidden fingerprint sheet is the biggest part a refresh writes (66 MB of XML at a full
    ledger) and comes last in the list: written first, it is deflated on the worker threads while
    the other sheets render, instead of being waited for at the end. One already in the workbook
    keeps its place, and the member order of the file is the package's; a refresh wrote it, so its
    cell style is in the workbook already, and no style is numbered otherwise: the same bytes.
    """
    early = [i for i, data in enumerate(sheets) if data.hidden and book.owned(data.name) is not None]
    return early + [i for i in range(len(sheets)) if i not in early]


def _check_structure(book: Workbook, sheets: list[SheetData], source: Path) -> None:
    """Refuse a structure-protected workbook the write would have to add sheets to."""
    missing = [data.name for data in sheets if book.owned(data.name) is None]
    if book.structure_locked and missing:
        raise WorkbookLockedError(
            f"{source.name} has a protected structure, and {', '.join(missing)} must be added as new sheets; "
            "unprotect it in Excel (Review > Protect Workbook), run again, then protect it again")


SHEET_BODY_ROWS = 1_048_575  # a sheet's 1,048,576 rows under one header row


def capped(data: SheetData, limit: int | None = None) -> SheetData:
    """The sheet as it fits a worksheet: beyond `limit` rows (SHEET_BODY_ROWS), the first limit - 1
    and a last row saying how many more there are and where to see them all (Excel cannot open a
    longer sheet)."""
    limit = limit or SHEET_BODY_ROWS
    rows = data.rows
    if len(rows) <= limit:
        return data
    first = data.columns[0].name
    last = pd.DataFrame({first: [f"... and {len(rows) - limit + 1:,} more rows that a sheet cannot hold: "
                                 "`inv-sheets validate --json` (or `refresh --json`) lists them all"]})
    head = rows.iloc[:limit - 1]
    head = head.astype({first: object}) if first in head.columns else head
    kept = pd.concat([head, last], ignore_index=True)
    return replace(data, rows=kept, formulas={})


def _styles_part(pkg: Package, book: Workbook) -> str:
    found = book.rels.of_type(REL_STYLES)
    if found:
        return found[0].target
    part = "xl/styles.xml"
    pkg.write(part, MINIMAL_STYLES, CT_STYLES)
    book.rels.add(REL_STYLES, part)
    return part


def _read_before(pkg: Package, book: Workbook, data: SheetData, grid: Grid) -> Before | None:
    """What the user typed on the output's sheet, if it has one (io.typed.read_before)."""
    sheet = book.owned(data.name)
    if sheet is None:
        return None
    table_part = _own_table(pkg, sheet.part)[0]
    table_ref = pkg.xml(table_part).get("ref") if table_part else None
    return read_before(pkg, sheet.part, sheet.name, data.output, table_ref,
                       book.hidden_text(record_name(data.name)), grid, book.date1904)


def _put_sheet(pkg: Package, book: Workbook, styles: StyleSheet, data: SheetData, before: Before | None,
               previous: Sheet | None, ahead: _Ahead | None = None) -> tuple[Sheet, set[str]]:
    """Write one output sheet (replacing its old self, the user's own columns beside its table
    put back); returns it and every part it touched. A new sheet takes its place among the
    outputs: right after `previous`, the output written before it, or (the first one, the
    Summary) right before the first output sheet; at the end when there is none."""
    touched: set[str] = set()
    sheet = book.owned(data.name)
    code_name = table_part = table_name = None
    table_id = 0
    if sheet is not None:  # replace: keep sheetId, position, name, codeName, table name and id
        code_name = _code_name(pkg, sheet.part)
        table_part, table_id, table_name = _own_table(pkg, sheet.part)
        touched |= _drop_sheet_parts(pkg, sheet.part)
        book.drop_filter_database(sheet)
    else:
        first = book.owned_sheets()[:1] if previous is None else []
        sheet = book.add_sheet(unique_sheet_name(book, data.name), pkg.unused("xl/worksheets/sheet{}.xml"),
                               after=previous, before=first[0] if first else None)
    name, part = sheet.name, sheet.part
    book.set_hidden(sheet, data.hidden)
    book.mark(data.name, name)

    placed = _placed(book, data, name, code_name, table_id, table_name, _tables(pkg))
    done = ahead.take(data.name, placed) if ahead is not None else None
    rendered, recorded = done or _rendered(data, placed, styles.xf, book.date1904)
    book.set_print_names(sheet, rendered.print_area)

    worksheet = rendered.worksheet
    if recorded is not None:  # what the toolkit wrote, so the next refresh can tell whether anyone typed there
        book.set_hidden_text(record_name(data.name), recorded)
    if before is not None:
        worksheet = put_back(worksheet, before, data, book.date1904)
    pkg.write(part, worksheet, CT_WORKSHEET)
    if not table_part or table_part in pkg:
        table_part = pkg.unused("xl/tables/table{}.xml")
    pkg.write(table_part, rendered.table, CT_TABLE)
    rels = pkg.rels(part)
    assert rels.add(REL_TABLE, table_part) == TABLE_RID
    touched |= {part, rels_name(part), table_part}
    if rendered.drawing is not None and rendered.chart is not None:
        drawing_part = pkg.unused("xl/drawings/drawing{}.xml")
        chart_part = pkg.unused("xl/charts/chart{}.xml")
        pkg.write(drawing_part, rendered.drawing, CT_DRAWING)
        pkg.write(chart_part, rendered.chart, CT_CHART)
        assert rels.add(REL_DRAWING, drawing_part) == DRAWING_RID
        pkg.rels(drawing_part).add(REL_CHART, chart_part)
        touched |= {drawing_part, rels_name(drawing_part), chart_part}
    return sheet, touched


@dataclass(frozen=True)
class _Placed:
    """Where a sheet goes: with its data and the cell styles, all its rendering depends on."""

    name: str
    table_id: int
    table_name: str
    code_name: str | None


def _placed(book: Workbook, data: SheetData, name: str, code_name: str | None, table_id: int,
            table_name: str | None, tables: dict[int, str]) -> _Placed:
    """The sheet's table keeps its name and id unless another table has them (`tables`: every
    other table in the workbook); a new one gets the output's table name and the next free id."""
    table_name = unique_table_name(table_name or data.output.table_name, set(tables.values()) | book.taken_names())
    if not table_id or table_id in tables:
        table_id = max(tables, default=0) + 1
    return _Placed(name, table_id, table_name, code_name)


def _rendered(data: SheetData, placed: _Placed, style: Callable[[CellStyle], int],
              date1904: bool) -> tuple[SheetParts, str | None]:
    """The sheet's parts, and for a visible sheet the record of what was written on it (typed.record)."""
    rendered = render(data, sheet_name=placed.name, table_id=placed.table_id, table_name=placed.table_name,
                      style=style, date1904=date1904, code_name=placed.code_name)
    recorded = None if data.hidden else record(rendered.worksheet, rendered.encoded)
    return replace(rendered, encoded=()), recorded


class _Ahead:
    """The last output sheets in write order, rendered in a forked copy of this process
    (io.forked) while this one renders the others: both cores on the biggest part of a write.

    Only sheets the workbook has already go ahead, so where each goes can be worked out before
    anything is written. One is taken from the copy only if it went where the copy assumed and
    the copy added no cell style (new styles are numbered in write order, which only this
    process follows); any other is rendered here as usual. Either way the bytes are the same.
    """

    PATIENCE = 5.0  # seconds the copy is waited for beyond three times its estimated work

    def __init__(self, forked: Forked, assumed: dict[str, _Placed], patience: float) -> None:
        self._forked = forked
        self._assumed = assumed
        self._index = {name: i for i, name in enumerate(assumed)}
        self._patience = patience

    @classmethod
    def start(cls, pkg: Package, book: Workbook, styles: StyleSheet, sheets: list[SheetData],
              order: list[int]) -> _Ahead | None:
        ahead = _ahead_of(pkg, book, sheets, order)
        if not ahead:
            return None
        appended = styles.appended

        def job(data: SheetData, placed: _Placed) -> Callable[[], tuple[SheetParts, str | None] | None]:
            def run() -> tuple[SheetParts, str | None] | None:
                if styles.appended != appended:
                    return None  # an earlier sheet here added a style: its numbering is this copy's own
                done = _rendered(data, placed, styles.xf, book.date1904)
                return done if styles.appended == appended else None
            return run

        assumed = {data.name: placed for data, placed, _ in ahead}
        forked = Forked.start([job(data, placed) for data, placed, _ in ahead])
        if forked is None:
            return None
        return cls(forked, assumed, patience=cls.PATIENCE + 3 * sum(cost for _, _, cost in ahead))

    def take(self, name: str, placed: _Placed) -> tuple[SheetParts, str | None] | None:
        """The copy's rendering of sheet `name`, if it went to `placed`; None to render it here."""
        if self._assumed.get(name) != placed:
            return None
        return self._forked.results(self._patience).get(self._index[name])

    def stop(self) -> None:
        self._forked.stop()


AHEAD_MIN_SECONDS = 0.25  # rendering that a fork (a few tens of milliseconds) pays for


def _ahead_of(pkg: Package, book: Workbook, sheets: list[SheetData],
              order: list[int]) -> list[tuple[SheetData, _Placed, float]]:
    """The sheets to render ahead, with where each goes and what it costs: the workbook's own
    output sheets at the end of the write order that make up half of the rendering, or none
    when the whole is too small to share."""
    if not wanted():
        return []
    costs = {i: _render_cost(sheets[i]) for i in order}
    if sum(costs.values()) < 2 * AHEAD_MIN_SECONDS:
        return []
    tables = _tables(pkg)
    ahead, share = [], 0.0
    half = sum(costs.values()) / 2
    for i in reversed(order):
        data = capped(sheets[i])
        sheet = book.owned(data.name)
        if sheet is None or share + costs[i] / 2 > half:
            break
        _, table_id, table_name = _own_table(pkg, sheet.part)
        others = {k: v for k, v in tables.items() if k != table_id}
        ahead.append((data, _placed(book, data, sheet.name, _code_name(pkg, sheet.part), table_id, table_name,
                                    others), costs[i]))
        share += costs[i]
    return ahead[::-1] if share >= AHEAD_MIN_SECONDS else []


def _render_cost(data: SheetData) -> float:
    """Rough seconds to render a sheet: a microsecond a cell and 6 ns a character of text."""
    rows = data.rows
    text = sum(int(rows[c].str.len().sum()) for c in rows.columns if isinstance(rows[c].dtype, pd.StringDtype))
    return 1e-6 * rows.shape[0] * len(data.columns) + 6e-9 * text


def _code_name(pkg: Package, sheet_part: str) -> str | None:
    match = _CODE_NAME.search(pkg.head(sheet_part))
    return unescape(match.group(1).decode("utf-8")) if match else None


def _own_table(pkg: Package, sheet_part: str) -> tuple[str | None, int, str | None]:
    """The part, id and name of the table on an owned sheet (None, 0, None without one)."""
    for rel in pkg.rels(sheet_part).of_type(REL_TABLE):
        if rel.target in pkg:
            table = pkg.xml(rel.target)
            return rel.target, int(table.get("id", "0")), table.get("name")
    return None, 0, None


def _tables(pkg: Package) -> dict[int, str]:
    """Every table in the workbook: id -> name."""
    out = {}
    for name in pkg.names():
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            table = pkg.xml(name)
            out[int(table.get("id", "0"))] = table.get("name", "")
    return out


def _drop_sheet_parts(pkg: Package, sheet_part: str) -> set[str]:
    """Remove the parts only this sheet uses (tables, drawings, charts, comments...) and its rels.

    A part that anything else still points at is kept, with everything below it.
    """
    def below(starts: set[str]) -> set[str]:
        seen, todo = set(), list(starts)
        while todo:
            part = todo.pop()
            for rel in pkg.rels(part):
                if not rel.external and rel.target in pkg and rel.target not in seen and rel.target != sheet_part:
                    seen.add(rel.target)
                    todo.append(rel.target)
        return seen

    candidates = below({sheet_part})
    used_elsewhere = {rel.target for source, rel in pkg.all_rels() if source not in candidates and source != sheet_part}
    shared = candidates & used_elsewhere
    drop = candidates - shared - below(shared)
    for part in sorted(drop):
        pkg.remove(part)
    pkg.remove(rels_name(sheet_part))
    return drop | {rels_name(p) for p in drop} | {rels_name(sheet_part)}


