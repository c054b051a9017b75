"""The `inv-sheets close-period` command: archive older ledger rows, opening balances in their place.

A thin front end over archive.close_period; cli.py registers the command.
"""

from __future__ import annotations

import json
import sys

import click

from .kit import EXIT_PROBLEMS, fails_cleanly


@click.command("close-period")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--before", required=True, help="The cut: rows dated before this day are archived (YYYY-MM-DD).")
@click.option("--archive", "archive_path", type=click.Path(dir_okay=False),
              help="The archive workbook to create (default: '<name> archive <before>.xlsx' beside it).")
@click.option("--as-of", help="The day the figures are for (default: Settings as_of, else today).")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@fails_cleanly
def close_period(path: str, before: str, archive_path: str | None, as_of: str | None, as_json: bool) -> None:
    """Move Movements and Counts rows dated before a day into an archive workbook, and write opening
    balances (per SKU, location and batch, with cost) in their place, so the workbook stays small.

    Stock, batches, reservations, what is on order, to count and to reorder stay the same; history
    before the cut (earlier KPI weeks, the Variance of archived counts) is in the archive.

    \b
    Example:
        inv-sheets close-period store.xlsx --before 2026-01-01
    """
    from ..close_period import close_period as close
    from ..contract.issues import CloseRefused

    try:  # the day is read with the workbook's date_order, as its cells are (a bad one: exit 2)
        result = close(path, before, archive=archive_path, as_of=as_of)
    except CloseRefused as exc:
        click.echo(f"inv-sheets: cannot close the period: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    done = {"path": str(result.path), "archive": str(result.archive), "before": f"{result.cut:%Y-%m-%d}",
            "archived_movements": result.archived_movements, "archived_counts": result.archived_counts,
            "opening_rows": result.opening_rows, "kept_before": result.kept_before}
    if as_json:
        click.echo(json.dumps(done, indent=2))
        return
    click.echo(f"archived {result.archived_movements:,} movements and {result.archived_counts:,} counts dated before "
               f"{result.cut:%Y-%m-%d} into {result.archive}")
    click.echo(f"wrote {result.opening_rows:,} opening-balance rows at the top of the Movements sheet"
               + (f"; {result.kept_before:,} earlier movements stay (they name a PO or order line)"
                  if result.kept_before else ""))
