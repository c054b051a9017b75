"""Bring a shop's order exports and a filled count list into the workbook's input sheets.

    import inv_sheets
    result = inv_sheets.import_files("store.xlsx", ["orders_export.csv"])   # format told by its header
    result.tally   # {"new": 12, "already": 0, "changed": 1, "refused": 2, "nothing": 1}

One module per format says how its columns and statuses become `core.Line`s (shopify, etsy,
woocommerce, amazon, square, csvmap for any other file through a column map, countlist for the
count list). `match` finds each line's SKU, `plan` decides what is new against what the workbook
holds, and io.append writes it: rows appended to Movements, Orders and Counts, open Orders rows
closed, everything else in the file left as it was. `dry_run` plans without writing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from ..contract.book import Book, Store
from ..contract.issues import ImportRefused, Issue, Report
from ..contract.parse import canonical_code
from ..contract.schema import SHEET, fold
from . import amazon, countlist, csvmap, etsy, shopify, square, woocommerce
from .core import Rows, date_order_of, read_rows
from .match import SkuMatcher
from .plan import REFUSED, Known, Plan, plan_counts, plan_lines

FORMATS = {m.NAME: m for m in (shopify, etsy, woocommerce, amazon, square, countlist)}
FORMAT_NAMES = (*FORMATS, csvmap.NAME)
MAPS_SHEET = "Import Maps"
CHECKED_AGAINST = ("Items", "Locations", "Channels", "Channel SKUs", "Counts", "Settings")


@dataclass
class FileImport:
    """One file: how it was read and what it adds."""

    path: str
    format: str
    channel: str | None
    lines: int
    tally: dict[str, int]


@dataclass
class ImportResult:
    """What an import found and did (or, in a dry run, would do)."""

    path: str
    files: list[FileImport]
    movements: list[dict[str, object]]
    orders: list[dict[str, object]]
    counts: list[dict[str, object]]
    closes: list[tuple[int, str]]
    issues: list[Issue]
    tally: dict[str, int]
    written: bool
    map_saved: dict[str, str] = field(default_factory=dict)

    def report(self) -> Report:
        return Report(self.path, list(self.issues), {"tally": self.tally, "written": self.written})

    def to_dict(self) -> dict:
        def rows(items: list[dict]) -> list[dict]:
            return [{k: (v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else v) for k, v in r.items()} for r in items]

        return {"path": self.path, "written": self.written, "tally": self.tally,
                "files": [vars(f) for f in self.files],
                "movements": rows(self.movements), "orders": rows(self.orders), "counts": rows(self.counts),
                "closed": [{"row": r, "status": s} for r, s in self.closes],
                "issues": [i.to_dict() for i in self.report().sorted_issues()]}


def import_files(path: str | os.PathLike, files: list[str | os.PathLike], *, fmt: str | None = None,
                 channel: str | None = None, column_map: dict[str, str] | None = None, dry_run: bool = False,
                 backup: bool = False) -> ImportResult:
    """Import shop exports or count lists into the workbook at `path`.

    fmt         shopify, etsy, woocommerce, amazon, square, counts or csv; None tells it from the header.
    channel     the Channels row the lines belong to (default: the format's name, or the map's).
    column_map  for csv: field -> header (order, date, qty, sku or listing; line, status optional);
                kept in the Import Maps sheet under the channel's name so the next import needs none.
    dry_run     plan only: the result lists what would be added, and nothing is written.
    Raises ImportRefused when a file cannot be imported as a whole (unknown format, unknown channel).
    """
    from ..io.append import CellChange, append_rows
    from ..io.write import FileState
    from ..rules.validate import load, parse

    if fmt is not None and fmt not in FORMAT_NAMES:
        raise ImportRefused(f"unknown format {fmt!r}; the formats are {', '.join(FORMAT_NAMES)}")
    state = None if dry_run else FileState.of(path)
    book = load(path)
    # Only the sheets a line is checked against are typed; the ledger's keys are read as they are.
    store, _ = parse(replace(book, tables={k: t for k, t in book.tables.items() if k in CHECKED_AGAINST}))
    maps = stored_maps(book)
    new_map: dict[str, str] = {}
    if column_map:
        problem = csvmap.check_map(column_map)
        if problem:
            raise ImportRefused(problem)
        if not channel:
            raise ImportRefused("a column map is kept under a channel's name: pass --channel too")
        fmt = fmt or csvmap.NAME
        if maps.get(canonical_code(channel)) != column_map:
            new_map = dict(column_map)
        maps[canonical_code(channel)] = dict(column_map)

    known = Known(book, store)
    plan = Plan()
    done = []
    for file in files:
        rows = read_rows(file, header_hint=countlist.HEADER_HINT)
        kind, chosen = _detect(rows, fmt, channel, maps)
        before = dict(plan.tally)
        if kind == countlist.NAME:
            lines, issues, skipped = countlist.lines(rows, store.settings.date_order)
            plan.issues += issues
            plan.tally[REFUSED] += len(issues)
            plan.tally["nothing"] += skipped
            checked = _checked_counts(lines, store, rows, plan)
            plan_counts(checked, known, plan, rows)
            count = len(lines) + len(issues) + skipped
        else:
            module = csvmap if kind == csvmap.NAME else FORMATS[kind]
            dates = _date_values(rows, kind, maps.get(canonical_code(chosen or "")))
            order = date_order_of(dates, store.settings.date_order or module.DATE_ORDER)
            if kind == csvmap.NAME:
                lines, issues = csvmap.lines(rows, order, maps[canonical_code(chosen)])
            else:
                lines, issues = module.lines(rows, order)
            name, ship_from = _channel(store, book, chosen or kind)
            matcher = SkuMatcher(store, name)
            matched = []
            for line in lines:
                sku = matcher.match(line)
                if sku is None:
                    issues.append(rows.finding("import-unknown-sku", line.row, _sku_header(rows), matcher.why_not(line.sku, line.listing),
                                               line.sku or line.listing))
                    continue
                if line.note:
                    plan.issues.append(rows.finding("import-noted", line.row, None, f"{line.order}: {line.note}"))
                if line.state == "refunded":
                    plan.issues.append(rows.finding("import-noted", line.row, None,
                                                    f"{line.order}: refunded without restock: the sale stands, nothing came back"))
                matched.append((line, sku))
            plan.issues += issues
            plan.tally[REFUSED] += len(issues)
            plan_lines(matched, name, ship_from, known, plan, rows)
            count = len(lines) + sum(1 for i in issues if i.code == "import-bad-line")
        done.append(FileImport(str(file), kind, None if kind == countlist.NAME else (chosen or kind), count,
                               {k: plan.tally[k] - before.get(k, 0) for k in plan.tally}))

    written = False
    if not dry_run and (plan.movements or plan.orders or plan.counts or plan.closes or new_map):
        additions = [_new_rows(book, "Movements", plan.movements), _new_rows(book, "Orders", plan.orders),
                     _new_rows(book, "Counts", plan.counts)]
        if new_map:
            additions.append(_new_rows(book, MAPS_SHEET, [{"map": channel, "field": f, "header": h} for f, h in new_map.items()]))
        orders = book.table("Orders")
        changes = []
        if plan.closes:
            letter = orders.letters.get("status") if orders is not None else None
            if letter is None:
                raise ImportRefused("the Orders sheet has no Status column, so shipped and cancelled lines cannot be "
                                    "closed; add a Status column and import again")
            changes = [CellChange(orders.title, f"{letter}{row}", status) for row, status in plan.closes]
        append_rows(path, [a for a in additions if a.rows], changes, expected=state, backup=backup)
        written = True
    return ImportResult(str(path), done, plan.movements, plan.orders, plan.counts, plan.closes, plan.issues,
                        plan.tally, written, new_map)


def stored_maps(book: Book) -> dict[str, dict[str, str]]:
    """The column maps kept in the workbook's Import Maps sheet: map name -> field -> header."""
    table = book.table(MAPS_SHEET)
    maps: dict[str, dict[str, str]] = {}
    if table is None or not {"map", "field", "header"} <= set(table.data):
        return maps
    for name, fld, header in zip(table.data["map"], table.data["field"], table.data["header"]):
        if name not in (None, "") and fld not in (None, "") and header not in (None, ""):
            maps.setdefault(canonical_code(str(name)), {})[str(fld).strip().lower()] = str(header).strip()
    return maps


def detect(rows: Rows, maps: dict[str, dict[str, str]] | None = None) -> tuple[str, str | None] | None:
    """The format (and, for a stored map, its name) a file's header shows; None when none fits."""
    for name, mapping in (maps or {}).items():
        if csvmap.fits(rows, mapping):
            return csvmap.NAME, name
    for name, module in FORMATS.items():
        if module.detect(rows):
            return name, None
    return None


def _detect(rows: Rows, fmt: str | None, channel: str | None, maps: dict) -> tuple[str, str | None]:
    """The format to read a file with and the channel (or map) name it imports under."""
    if not rows.headers:
        raise ImportRefused(f"{rows.path.name} has no header row; is it the export file?")
    if fmt == csvmap.NAME:
        name = canonical_code(channel) if channel else next((n for n, m in maps.items() if csvmap.fits(rows, m)), None)
        if name is None or name not in maps:
            raise ImportRefused(f"{rows.path.name}: no column map fits its header; pass one with --map field=Header "
                                "(order, date, qty, sku) and --channel")
        if not csvmap.fits(rows, maps[name]):
            missing = [h for h in maps[name].values() if fold(h) not in rows.folded]
            raise ImportRefused(f"{rows.path.name} has no column {missing[0]!r}, which the map {name} names")
        return csvmap.NAME, channel or name
    if fmt is not None:
        if not FORMATS[fmt].detect(rows):
            raise ImportRefused(f"{rows.path.name} does not have the columns of a {fmt} export "
                                f"(its header starts {', '.join(rows.headers[:5])})")
        return fmt, channel
    found = detect(rows, maps)
    if found is None:
        raise ImportRefused(f"cannot tell which shop exported {rows.path.name} (its header starts "
                            f"{', '.join(rows.headers[:5])}); pass --from, or --from csv with a column map")
    kind, name = found
    return kind, channel or name


def _channel(store: Store, book: Book, name: str) -> tuple[str, str | None]:
    """The channel as the Channels sheet writes it, and the location it ships from (its first
    listed location; None leaves the sale's location to default_location)."""
    channels = store["Channels"]
    row = channels[channels["channel"] == canonical_code(name)]
    if row.empty:
        known = ", ".join(map(str, channels["channel"].dropna())) or "none yet"
        raise ImportRefused(f"there is no channel {name!r} on the Channels sheet (it has {known}); add a row for it, "
                            "with the locations it ships from, or pass --channel")
    raw = book.table("Channels")
    shown = next((str(v).strip() for v in raw.data["channel"] if v is not None and canonical_code(str(v)) == canonical_code(name)),
                 name) if raw is not None else name
    locations = row.iloc[0].get("locations")
    first = str(locations).split(",")[0].strip() if isinstance(locations, str) and locations.strip() else None
    return shown, canonical_code(first) if first else None


def _checked_counts(lines: list[countlist.CountLine], store: Store, rows: Rows, plan: Plan) -> list[countlist.CountLine]:
    """Count lines whose SKU is on Items (compared as codes are); the others refused with a finding."""
    matcher = SkuMatcher(store, None)
    out = []
    for line in lines:
        sku = matcher.by_code.get(fold(line.sku)) if line.sku else None
        if sku is None:
            plan.issues.append(rows.finding("import-unknown-sku", line.row, "SKU", matcher.why_not(line.sku), line.sku))
            plan.tally[REFUSED] += 1
            continue
        out.append(replace(line, location=canonical_code(line.location), sku=sku))
    return out


def _date_values(rows: Rows, kind: str, mapping: dict[str, str] | None) -> list[object]:
    """The file's date cells, from which its day-month order is told."""
    headers = {"shopify": ("Created at", "Fulfilled at"), "etsy": ("Sale Date", "Date Shipped"),
               "amazon": ("purchase-date",), "square": ("Date",), "woocommerce": ("Order Date", "order_date", "date")}
    names = (mapping["date"],) if kind == csvmap.NAME and mapping else headers.get(kind, ())
    return [r.get(fold(h)) for r in rows.records for h in names]


def _sku_header(rows: Rows) -> str | None:
    return next((h for h in rows.headers if fold(h) in {fold(x) for x in ("Lineitem sku", "SKU", "item_sku", "sku")}), None)


def _new_rows(book: Book, sheet: str, rows: list[dict[str, object]]):
    """Rows for io.append in the sheet's own columns (its letters), or a new sheet's declared ones."""
    from ..contract.issues import column_letter
    from ..io.append import NewRows

    table = book.table(sheet)
    if table is not None:
        letters = table.letters
        return NewRows(table.title, [{letters[k]: v for k, v in r.items() if k in letters} for r in rows], table.header_row)
    columns = SHEET[sheet].columns
    letters = {c.name: column_letter(i) for i, c in enumerate(columns, start=1)}
    return NewRows(sheet, [{letters[k]: v for k, v in r.items() if k in letters} for r in rows], 1,
                   {letters[c.name]: c.title for c in columns})


__all__ = ["import_files", "ImportResult", "FileImport", "FORMATS", "FORMAT_NAMES", "detect", "stored_maps"]
