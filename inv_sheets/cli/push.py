"""`inv-sheets push`: create a workbook's records in a running InvenTree through its API (registered in cli.py)."""

from __future__ import annotations

import json
import sys

import click

from ..contract.issues import Report
from ..exports.inventree import KINDS, LABELS
from ..exports.inventree_api import push_workbook
from .kit import EXIT_OK, EXIT_PROBLEMS, fails_cleanly, render_issues


@click.command("push")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--to", "target", required=True, type=click.Choice(["inventree"], case_sensitive=False),
              help="The system to push into.")
@click.option("--url", envvar="INVENTREE_API_HOST", required=True,
              help="The server, e.g. http://inventree.local:8000 (default: $INVENTREE_API_HOST).")
@click.option("--token", envvar="INVENTREE_API_TOKEN", required=True,
              help="An API token (default: $INVENTREE_API_TOKEN).")
@click.option("--currency", help="The currency of costs (default: the server's default currency).")
@click.option("--dry-run", is_flag=True, help="Only print what would be created; change nothing.")
@click.option("--force", is_flag=True, help="Push even though the workbook has errors.")
@click.option("--as-of", help="The day the opening stock is for (default: Settings as_of, else today).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@fails_cleanly
def push(path: str, target: str, url: str, token: str, currency: str | None, dry_run: bool, force: bool,
         as_of: str | None, as_json: bool) -> None:
    """Create the workbook's categories, locations, suppliers, parts, BOMs and stock in InvenTree.

    Only what is not on the server yet is created (a second push creates nothing; a push that
    stopped part-way finishes when run again). Ends with the server's stock compared with the
    workbook's, SKU x location x batch: exit 1 when they differ.

    \b
    Example:
        inv-sheets push store.xlsx --to inventree --url http://127.0.0.1:8000 --token inv-... --currency EUR
    """
    show = None if as_json or not sys.stderr.isatty() else \
        (lambda kind, n, total: click.echo(f"\r  {LABELS[kind]} {n}/{total}", err=True, nl=n == total))
    result, errors = push_workbook(path, url, token, currency=currency, dry_run=dry_run, force=force, as_of=as_of,
                                   progress=show)
    if result is None:
        if as_json:
            click.echo(json.dumps({"refused": True, "errors": [e.to_dict() for e in errors]}, indent=2, default=str))
        else:
            click.echo(render_issues(Report(path, errors)))
            click.echo(f"not pushed: fix the {len(errors)} errors above first (or use --force)", err=True)
        sys.exit(EXIT_PROBLEMS)
    c = result.comparison
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        verb = "would create" if dry_run else "created"
        for kind in KINDS:
            click.echo(f"{LABELS[kind]}: {verb} {result.created[kind]}, already there {result.existing[kind]}")
        click.echo(f"stock on the server against the workbook ({result.currency}): {c.matched} of {c.rows} "
                   f"SKU x location x batch match; units {c.units_server:g} on the server, {c.units_workbook:g} in the workbook")
        for m in c.mismatches[:20]:
            click.echo(f"  {m['sku']} at {m['location']}{' batch ' + m['batch'] if m['batch'] else ''}: "
                       f"workbook {m['workbook']:g}, server {m['server']:g}")
        if len(c.mismatches) > 20:
            click.echo(f"  ... and {len(c.mismatches) - 20} more (use --json)")
        if result.other_currency:
            click.echo(f"{len(result.other_currency)} of the workbook's stock items on the server are not in "
                       f"{result.currency} (ids {', '.join(map(str, result.other_currency[:10]))})")
    sys.exit(EXIT_OK if result.ok or dry_run else EXIT_PROBLEMS)
