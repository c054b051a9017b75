"""`inv-sheets export`: write the files another inventory system imports (registered in cli.py)."""

from __future__ import annotations

import json
import sys

import click

from ..contract.issues import Report
from ..exports import TARGETS, export_workbook
from .kit import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, fails_cleanly, render_issues


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--to", "target", required=True, type=click.Choice(list(TARGETS), case_sensitive=False),
              help="The system to migrate to.")
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Folder for the files (default: <workbook name>-<target> beside the workbook); "
                   "a new or empty folder, or an earlier export's.")
@click.option("--target-version", help="The target's version, where it matters (Odoo: 16, 17, 18, 19).")
@click.option("--force", is_flag=True, help="Export even though the workbook has errors.")
@click.option("--as-of", help="The day the opening stock is for (default: Settings as_of, else today).")
@click.option("--url", envvar="INVENTREE_API_HOST",
              help="InvenTree: the server the files go into; the files then refer to the records already there "
                   "by the ids it gave them (default: $INVENTREE_API_HOST).")
@click.option("--token", envvar="INVENTREE_API_TOKEN", help="InvenTree: an API token (default: $INVENTREE_API_TOKEN).")
@click.option("--currency", help="InvenTree: the currency of costs (default: the server's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@fails_cleanly
def export(path: str, target: str, output: str | None, target_version: str | None, force: bool,
           as_of: str | None, url: str | None, token: str | None, currency: str | None, as_json: bool) -> None:
    """Write the import files of another inventory system, in import order, with a loss report.

    Targets: odoo, zoho, cin7, inflow, sortly, shopify (the per-location stock feed) and inventree.
    A workbook with errors is refused (exit 1) unless --force: a migration must start clean.
    InvenTree files refer to records by the ids the server gave them: export, import, and export
    again with --url and --token until it says the files are the last (or use `inv-sheets push`).

    \b
    Example:
        inv-sheets export store.xlsx --to odoo --target-version 17 --output odoo-files
    """
    inventree = target.lower() == "inventree"
    try:
        result = export_workbook(path, target.lower(), output, target_version=target_version, force=force, as_of=as_of,
                                 url=url if inventree else None, token=token, currency=currency)
    except ValueError as exc:
        click.echo(f"inv-sheets: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    elif result.refused:
        click.echo(render_issues(Report(path, result.errors)))
        click.echo(f"not exported: fix the {len(result.errors)} errors above first (or use --force)", err=True)
    else:
        for n, f in enumerate(result.files, start=1):
            click.echo(f"{n}. {f.name} ({f.rows} rows)")
        c = result.counts
        click.echo(f"wrote {len(result.files)} files into {result.out_dir}: {c['stock_rows']} stock rows, "
                   f"{c['units']:g} units, value {c['value']:.2f}")
        if result.losses:
            click.echo(f"{len(result.losses)} kinds of data the target cannot hold: see LOSSES.md", err=True)
        for note in result.notes:
            click.echo(note, err=True)
    sys.exit(EXIT_PROBLEMS if result.refused else EXIT_OK)
