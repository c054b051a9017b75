"""The two sheets that read the others: the Summary in front, the Definitions behind.

The Summary is the first output sheet and the first thing to read after a refresh: the as-of day,
the problems found, and what needs doing today, each a count of rows of the sheet it links to (so
a figure here is never defined a second time). The Definitions sheet gathers every sheet's
explanations, its columns' meanings and its notes, in one place, so each table prints alone; each
sheet's header line links to its block. Both are written by the toolkit, never over a user's sheet.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..contract.book import Store
from ..contract.issues import ERROR, WARNING, Issue, sheet_ref
from ..contract.sheetdata import SheetData, sheet

SUMMARY, DEFINITIONS = "Summary", "Definitions"


def around(sheets: list[SheetData], issues: list[Issue], store: Store) -> list[SheetData]:
    """The sheets with the Summary first and the Definitions last, each sheet's page header set
    (store, as-of day) and its link to its definitions."""
    s = store.settings
    page_header = " · ".join(p for p in (s.store_name, f"as of {s.as_of:%Y-%m-%d}") if p)
    ordered = [summary_sheet(sheets, issues, store), *sheets]
    definitions, starts = definitions_sheet(ordered)
    out = [replace(d, page_header=page_header, definitions=starts.get(d.name, "")) for d in ordered]
    return [*out, replace(definitions, page_header=page_header)] if len(definitions.rows) else out


def summary_sheet(sheets: list[SheetData], issues: list[Issue], store: Store) -> SheetData:
    """What needs attention today, each line linked to the sheet that lists it.

    A line whose sheet was not made (the store has no channels, so no Allocation) is left out.
    """
    as_of = store.settings.as_of
    rows = {d.name: d.frame() for d in sheets}
    lines: list[tuple[str, object, str]] = [("As of", as_of, "")]
    lines.append(("Errors (rows left out of the figures)", sum(i.severity == ERROR for i in issues), "Issues"))
    lines.append(("Warnings", sum(i.severity == WARNING for i in issues), "Issues"))
    if "Reorder" in rows:
        reorder = rows["Reorder"]
        lines.append(("SKUs to reorder today", reorder.loc[reorder["flag"] == "reorder", "sku"].nunique(), "Reorder"))
    if "Count Plan" in rows:
        due = pd.to_datetime(rows["Count Plan"]["due"])
        lines.append(("Counts due today", int((due <= as_of).sum()), "Count Plan"))
    if "Allocation" in rows:
        allocation = rows["Allocation"]
        short = allocation[allocation["status"] == "short"]
        lines.append(("Orders that cannot be filled", short["order"].nunique(), "Allocation"))
    if "Expiry" in rows:
        flag = rows["Expiry"]["flag"]
        lines.append(("Batches expired", int((flag == "expired").sum()), "Expiry"))
        days = store.settings.near_expiry_days
        lines.append((f"Batches expiring within {days} days", int((flag == "near").sum()), "Expiry"))
    frame = pd.DataFrame(lines, columns=["what", "value", "see"]).replace({"see": {"": None}})
    return sheet(SUMMARY, frame)


def definitions_sheet(sheets: list[SheetData]) -> tuple[SheetData, dict[str, str]]:
    """Every sheet's column meanings and notes as one table (sheet, term, definition), and where
    each sheet's block starts ('Definitions'!A12)."""
    rows: list[tuple[str, str, str]] = []
    starts: dict[str, str] = {}
    for data in sheets:
        if data.hidden:
            continue
        block = [(c.title, c.help) for c in data.columns if c.help]
        block += [(str(term), str(text)) for term, text in data.notes]
        if block:
            starts[data.name] = f"{sheet_ref(DEFINITIONS)}!A{len(rows) + 2}"
            rows += [(data.name, term, text) for term, text in block]
    return sheet(DEFINITIONS, pd.DataFrame(rows, columns=["sheet", "term", "definition"])), starts
