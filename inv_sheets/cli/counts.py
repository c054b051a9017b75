"""The `inv-sheets count-sheet` command: print the count list of one location.

A thin front end over io.count_list.write_count_sheet: read and check the workbook, build the ledger, write the
print-ready list to a new .xlsx file. cli.py registers the command.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .kit import EXIT_USAGE, fails_cleanly


@click.command("count-sheet")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--location", "-l", required=True, help="The location to count (its code).")
@click.option("--date", "day", help="The count day (default: the as-of day); its due SKUs are listed.")
@click.option("--blind", is_flag=True, help="Hide the book quantity, so the counter is not led by it.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Where to write the list (default: count-<location>-<day>.xlsx beside the workbook).")
@click.option("--as-of", help="The day the figures are for (default: Settings as_of, else today).")
@click.option("--force", is_flag=True, help="Replace the file even if it is not an untouched count list.")
@fails_cleanly
def count_sheet(path: str, location: str, day: str | None, blind: bool, output: str | None, as_of: str | None,
                force: bool) -> None:
    """Write a printable count list for one location, sorted by bin, with an empty Counted column.

    An earlier list is replaced only while nothing is typed on it; the store workbook never is.

    \b
    Example:
        inv-sheets count-sheet store.xlsx --location MAIN --blind
    """
    from ..contract.parse import parse_day
    from ..io.count_list import write_count_sheet
    from ..ledger.postings import build
    from ..rules.validate import load, parse

    store, _ = parse(load(path), as_of=as_of)
    ledger = build(store)
    code = location.strip().upper()
    when = ledger.as_of if day is None else parse_day(day, store.settings.date_order, name="--date")
    try:
        # The code comes from the workbook's Locations: only letters, digits, '-' and '_' reach a file name.
        safe = re.sub(r"[^\w-]+", "_", code, flags=re.ASCII).strip("_") or "location"
        target = Path(output) if output else Path(path).with_name(f"count-{safe}-{when:%Y-%m-%d}.xlsx")
        lines = write_count_sheet(store, ledger, code, target, date=when, blind=blind, source=path, force=force)
    except ValueError as exc:  # an unknown location or day: the user's options, not the data
        click.echo(f"inv-sheets: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"wrote {lines} line{'' if lines == 1 else 's'} to count at {code} on {when:%Y-%m-%d} into {target}")
