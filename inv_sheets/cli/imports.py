"""The `inv-sheets import` command: append a shop's order exports or a filled count list.

A thin front end over imports.import_files: parse the options, run it, print what was (or in a dry
run would be) added, and the findings. Exit 1 when lines were refused, 3 when a file could not be
imported at all. cli/main.py registers the command.
"""

from __future__ import annotations

import json
import sys

import click

from .kit import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, fails_cleanly, render_issues

FORMAT_CHOICES = ("shopify", "etsy", "woocommerce", "amazon", "square", "counts", "csv")


@click.command("import")
@click.argument("store", type=click.Path(dir_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "fmt", type=click.Choice(FORMAT_CHOICES), help="The file's format (default: told by its header).")
@click.option("--channel", help="The Channels row the lines belong to (default: the format's name).")
@click.option("--map", "pairs", multiple=True, metavar="FIELD=HEADER",
              help="For --from csv: which header holds order, date, qty, sku (or listing), and optionally line and "
                   "status. Kept in the Import Maps sheet under --channel, so the next import needs no flags.")
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would be added.")
@click.option("--backup", is_flag=True, help="Copy the workbook to <name>.bak.xlsx before writing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@fails_cleanly
def import_(store: str, files: tuple[str, ...], fmt: str | None, channel: str | None, pairs: tuple[str, ...],
            dry_run: bool, backup: bool, as_json: bool) -> None:
    """Append order exports (Shopify, Etsy, WooCommerce, Amazon, Square, any CSV with a column map)
    as sales and open orders, or a filled count list as counts. A line already in the workbook is
    never added twice.

    \b
    Example:
        inv-sheets import store.xlsx orders_export.csv --dry-run
        inv-sheets import store.xlsx count-MAIN-2026-03-02.xlsx
        inv-sheets import store.xlsx sales.csv --from csv --channel market \\
            --map order="Receipt" --map date=Day --map sku=Code --map qty=Units
    """
    from ..imports import import_files

    column_map = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            click.echo(f"inv-sheets: --map takes FIELD=HEADER, not {pair!r}", err=True)
            sys.exit(EXIT_USAGE)
        column_map[field.strip().lower()] = header.strip()
    result = import_files(store, list(files), fmt=fmt, channel=channel, column_map=column_map or None,
                          dry_run=dry_run, backup=backup)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(render(result))
    sys.exit(EXIT_PROBLEMS if result.tally["refused"] else EXIT_OK)


def render(result) -> str:
    """The result as lines to read: each file, the rows added (listed in a dry run), the findings."""
    out = []
    for f in result.files:
        t = f.tally
        where = f" as channel {f.channel}" if f.channel else ""
        out.append(f"{f.path}: {f.format}{where}, {f.lines} lines: {t['new']} new, {t['already']} already in, "
                   f"{t['changed']} changed state, {t['refused']} refused, {t['nothing']} with nothing to move")
    if not result.written:
        for m in result.movements:
            out.append(f"  would add to Movements: {m['movement_id']}  {m['date']:%Y-%m-%d}  {m['type']}  {m['sku']}  {m['qty']:g}")
        for o in result.orders:
            out.append(f"  would add to Orders: {o['order']}  {o['sku']}  {o['qty']:g}  open")
        for c in result.counts:
            out.append(f"  would add to Counts: {c['date']:%Y-%m-%d}  {c['location']}  {c['sku']}  {c['counted_qty']:g}")
        for row, status in result.closes:
            out.append(f"  would mark Orders row {row} {status}")
    if result.issues:
        out.append(render_issues(result.report()))
    n = len(result.movements), len(result.orders), len(result.counts), len(result.closes)
    if not any(n):
        out.append("nothing new to add; the workbook is unchanged")
    elif result.written:
        out.append(f"added {n[0]} movements, {n[1]} open order lines, {n[2]} counts; closed {n[3]} order lines; "
                   "run `inv-sheets refresh` to update the figures")
    else:
        out.append(f"would add {n[0]} movements, {n[1]} open order lines, {n[2]} counts; would close {n[3]} "
                   "order lines (dry run: nothing written)")
    return "\n".join(out)
