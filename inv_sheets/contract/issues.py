"""Findings (problems in the data, which are values) and failures (could not run, which are exceptions).

Every finding code lives in CODES with its severity and a one-line meaning; the docs and the tests
read that registry, so a code cannot be used without being documented.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    meaning: str
    example: str  # where it typically shows, and what it looks like


_CODES = (
    # structure
    Code("missing-sheet", ERROR, "A sheet the store needs is not in the workbook.",
         "Movements: the workbook has no Movements sheet"),
    Code("missing-column", ERROR, "A required column is not on its sheet.",
         "Items!1:1: Items has no 'Name' column"),
    Code("unknown-sheet", INFO, "A sheet the toolkit does not know; it is left alone.",
         "Scratch: not a sheet inv-sheets reads"),
    Code("unknown-column", WARNING, "A column the toolkit does not know on a known sheet; it is ignored.",
         "Items!G1: 'Colour??' is ignored"),
    Code("duplicate-column", ERROR, "Two headers on one sheet mean the same column.",
         "Items!C1: 'Description' means the same as column B (Name)"),
    Code("missing-header", ERROR, "A sheet has data but no header row.",
         "Movements!P1: column P has values but no header"),
    Code("merged-header", ERROR, "Header cells are merged, so columns cannot be told apart.",
         "Items!A1: header cells A1:B1 are merged"),
    Code("cell-error", ERROR, "A cell holds an Excel error such as #DIV/0! or #N/A.",
         "Items!F7: #DIV/0!"),
    Code("formula-without-value", WARNING, "A formula cell has no saved result (the file was saved by a program that does not calculate).",
         "Items!F9: =D9*E9 saved without its result"),
    Code("formula-not-normalised", WARNING, "normalise would tidy this cell's value, but the cell holds a formula, which it never replaces.",
         "Movements!E5: =2+3 as text; fix the formula or type the value"),
    # cell values
    Code("required-value", ERROR, "A required cell is empty.",
         "Movements!D12: SKU is empty"),
    Code("not-a-number", ERROR, "Text where a number belongs.",
         "Items!C5: 'twelve'"),
    Code("number-with-unit", ERROR, "A number typed with a unit, such as '12 pcs'.",
         "Movements!E7: '12 pcs'"),
    Code("number-as-text", WARNING, "A number stored as text.",
         "Movements!E8: '12' typed as text"),
    Code("not-a-whole-number", ERROR, "A fraction where a whole number belongs.",
         "Items!K4: case pack 2.5"),
    Code("not-a-date", ERROR, "A value that cannot be read as a date.",
         "Movements!B9: 'soon'"),
    Code("ambiguous-date", ERROR, "A text date that reads two ways, such as 03/04/2026.",
         "Movements!B3: '03/04/2026' (3 April or 4 March?)"),
    Code("date-as-text", WARNING, "A date stored as text.",
         "Movements!B4: '2026-01-05' typed as text"),
    Code("future-date", WARNING, "A date after the as-of date; the row is left out of today's figures.",
         "Movements!B900: dated after the as-of date"),
    Code("not-allowed", ERROR, "A value outside the column's allowed list.",
         "Movements!C5: 'recieve-ish' (did you mean 'receive'?)"),
    Code("out-of-range", ERROR, "A number below the column's minimum or above its maximum.",
         "Items!F3: unit cost -3"),
    Code("bad-number", ERROR, "Not a finite number (NaN or infinity).",
         "Items!F3: NaN"),
    Code("control-character", WARNING, "Invisible control characters in text.",
         "Items!B2: a bell character inside the name"),
    Code("untrimmed-text", INFO, "Leading or trailing spaces in a code.",
         "Items!A2: ' TEE-M '"),
    Code("duplicate-key", ERROR, "The same key appears twice.",
         "Movements!A17: movement ID M-16 is already on row 16"),
    Code("near-duplicate-key", ERROR, "Two keys differ only by case, spaces or look-alike characters.",
         "Items!A3: 'sku 1' beside 'SKU-1' on row 2"),
    Code("sku-lost-leading-zeros", WARNING, "A numeric SKU or barcode that may have lost its leading zeros.",
         "Items!H2: barcode 12345678901 stored as a number"),
    Code("bad-check-digit", WARNING, "A barcode whose GTIN check digit is wrong.",
         "Items!H2: 4006381333932"),
    Code("inconsistent-variant", WARNING, "Variants of one product are written in different ways.",
         "Items!D4: 'Blue-S' beside 'M / Blue'"),
    Code("lookalike-characters", WARNING, "A code contains characters that look like others (dashes, spaces).",
         "Items!A4: 'TEE–L' with an en dash"),
    Code("unknown-reference", ERROR, "A value that is not on the sheet it refers to.",
         "Movements!D3: 'TEE-X' is not on Items (did you mean 'TEE-M'?)"),
    # imported files (inv-sheets import): findings at the file's own cell
    Code("import-unknown-sku", ERROR, "An imported order line names a SKU or listing that is not on Items or Channel SKUs; it is not imported.",
         "orders.csv!R12: SKU 'TEE-XL' is not on Items or Channel SKUs (did you mean 'TEE-L'?)"),
    Code("import-bad-line", ERROR, "An imported line whose date, quantity or status cannot be read; it is not imported.",
         "orders.csv!P7: the date '03/04/21' reads two ways"),
    Code("import-line-changed", WARNING, "A line already imported shows something else now; the workbook keeps what it has.",
         "orders.csv!A9: shopify:#1003:line1 was imported as sold and is cancelled now"),
    Code("import-noted", INFO, "An imported line whose export says less than the ledger needs (a refund without restock, a partly fulfilled order).",
         "orders.csv!A4: refunded without restock: the sale stands"),
    Code("bad-setting", ERROR, "A setting whose value cannot be used.",
         "Settings!B4: service_level 1.5"),
    Code("unknown-setting", WARNING, "A setting the toolkit does not know.",
         "Settings!A9: 'colour_theme'"),
    # movement rules
    Code("missing-location", ERROR, "A movement needs a location that is not given and has no default.",
         "Movements!F20: a sale with no location and no default_location"),
    Code("same-location", ERROR, "A transfer from a location to itself.",
         "Movements!G6: a transfer from MAIN to MAIN"),
    Code("negative-quantity", ERROR, "A negative quantity where only positive ones make sense.",
         "Movements!E5: a sale of -1 (use type return)"),
    Code("zero-quantity", WARNING, "A movement of zero units.",
         "Movements!E5: a sale of 0"),
    Code("reason-required", ERROR, "This movement type needs a reason.",
         "Movements!M9: a damage with no reason"),
    Code("user-required", ERROR, "This movement type needs the person who made it.",
         "Movements!N10: an adjust with no user"),
    Code("not-an-adjuster", ERROR, "An adjustment by someone not on the Settings adjusters list.",
         "Movements!N10: 'sam' is not on the adjusters list"),
    Code("wrong-location-kind", WARNING, "A movement to or from a location of an unexpected kind.",
         "Movements!F11: a sale from the returns hold"),
    Code("batch-required", ERROR, "A receipt of a batch-tracked item without a batch.",
         "Movements!H12: a receipt of a batch-tracked item with no batch"),
    Code("expiry-required", ERROR, "A receipt of an expiry-tracked item without an expiry date.",
         "Movements!I12: a receipt of an expiry-tracked item with no expiry"),
    Code("unknown-batch", WARNING, "A movement names a batch that is not at that location.",
         "Movements!H30: batch L-9 is not at MAIN"),
    Code("bundle-counted", WARNING, "A count of a bundle SKU: bundles are not stocked, their components are.",
         "Counts!C7: GIFT-SET counted; count its components instead"),
    Code("bundle-cycle", ERROR, "A bundle contains itself, directly or through other bundles.",
         "Bundles!B4: GIFT-SET contains itself"),
    Code("bad-date-range", ERROR, "A period that ends before it starts.",
         "Promotions!D2: ends before it starts"),
    # ledger results
    Code("negative-stock", WARNING, "Stock went below zero; the movement that did it is named.",
         "Movements!E812: sale M-811 took TEE-M at MAIN to -2"),
    Code("over-reserved", WARNING, "Open orders reserve more than is on hand at sellable locations.",
         "Orders!E29: open orders hold 34 but 17 is on hand"),
    Code("over-received", WARNING, "A PO line received more than was ordered.",
         "Purchases!D7: PO-12 received 60 of 50"),
    Code("reorder-point-below-lead-demand", WARNING,
         "A hand-set reorder point is below the demand expected during the lead time: it leaves no safety stock.",
         "Items!H4: CHAIR's reorder point 5 is 12 below the 17 expected to sell during the 14-day lead time"),
    Code("order-exceeds-demand", WARNING,
         "A suggested order lasts longer than Settings max_order_days of demand (a minimum order, case pack or max stock buys years).",
         "Items!L9: CHAIR's suggested order of 120 is 2400 days of demand at 0.05/day"),
    Code("count-variance", INFO, "A count differs from the book.",
         "Counts!E2: counted 16, the book said 17 (-1)"),
    # changed since the last refresh: typed on the output sheets, or past ledger rows
    Code("typed-over-output", WARNING,
         "Values typed inside a computed column of an output sheet; the refresh replaced them (the old ones are on Orphaned Notes).",
         "Reorder!R1: 1 value(s) in 'Suggested qty' were changed since the last refresh"),
    Code("orphaned-note", WARNING,
         "A value in your own column beside an output table whose row is gone; it is kept on Orphaned Notes.",
         "'Orphaned Notes': 'called supplier 28/11' in 'Note' belonged to S1 / TEE-M"),
    Code("ledger-row-edited", WARNING, "A past movement row was changed since the last refresh.",
         "Movements!E40: qty was 5, now 50, since the last refresh"),
    Code("ledger-row-deleted", WARNING, "A past movement row was deleted since the last refresh.",
         "Movements!41:41: movement M-40 is gone since the last refresh"),
)

CODES: dict[str, Code] = {c.code: c for c in _CODES}


def sheet_ref(sheet: str) -> str:
    """A sheet name as a formula reference: quoted when it holds anything but letters, digits, '_'."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Issue:
    """One finding: what is wrong, where, and how to fix it.

    `row` is the Excel row (1-based) and `column` the Excel column letter; either may be None for a
    finding about a whole sheet or column.
    """

    code: str
    sheet: str
    row: int | None
    column: str | None
    message: str
    value: object = None
    severity: str = ""
    field: str | None = None  # the canonical column name, when there is one

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered finding code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code].severity)

    @property
    def cell(self) -> str:
        """Where it is, as Excel writes it: Movements!D17, 'Item Locations'!B4, Items!C:C, Items."""
        ref = sheet_ref(self.sheet) if self.sheet else ""
        if self.column and self.row:
            return f"{ref}!{self.column}{self.row}"
        if self.column:
            return f"{ref}!{self.column}:{self.column}"
        if self.row:
            return f"{ref}!{self.row}:{self.row}"
        return ref

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cell"] = self.cell
        d["value"] = _jsonable(self.value)
        return d


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass
class Report:
    """Everything a run found, plus what it did (sheets written, changes made)."""

    path: str
    issues: list[Issue] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    def counts(self) -> dict[str, int]:
        c = Counter(i.severity for i in self.issues)
        return {ERROR: c[ERROR], WARNING: c[WARNING], INFO: c[INFO]}

    def sorted_issues(self) -> list[Issue]:
        return sorted(self.issues, key=lambda i: (_SEVERITY_ORDER[i.severity], i.sheet, i.row or 0, i.column or "", i.code))

    def to_dict(self) -> dict:
        return {"path": self.path, "counts": self.counts(), "summary": _plain(self.summary),
                "issues": [i.to_dict() for i in self.sorted_issues()]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)


def _plain(obj: object) -> object:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return _jsonable(obj)


# Failures: the run could not happen. One base class; the CLI maps it to exit code 3.
class InvSheetsError(Exception):
    """The workbook could not be processed."""


class BadDateOption(InvSheetsError):
    """A day given as an option (--as-of, --date, --before) cannot be read as one day; the CLI exits 2."""


class NotAWorkbookError(InvSheetsError):
    """The file is not an .xlsx/.xlsm workbook (or is damaged)."""


class EncryptedWorkbookError(InvSheetsError):
    """The workbook is password-protected."""


class WorkbookLockedError(InvSheetsError):
    """The workbook is open in another program, or read-only."""


class WorkbookChangedError(InvSheetsError):
    """The workbook changed on disk while it was being processed."""


class WouldOverwriteError(InvSheetsError):
    """A command would replace a file it did not make for the same purpose (use --force)."""


class WorkbookTooLargeError(InvSheetsError):
    """A part of the workbook inflates beyond the size limit."""


class WriteError(InvSheetsError):
    """The new workbook could not be written; the original is untouched."""


class ImportRefused(InvSheetsError):
    """A file cannot be imported as it is (the message says why and what to do)."""


class CloseRefused(InvSheetsError):
    """The period cannot be closed as the workbook stands (the message says why and what to do)."""


# A note, not a failure: the command goes on.
class WorkbookRestored(UserWarning):
    """An in-place write that did not finish was undone: the workbook was written back as it was before it."""
