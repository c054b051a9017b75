"""`inv-sheets add-button` and `init --button`: the workbook's one-click Refresh (registered in cli.py)."""

from __future__ import annotations

import click

from .kit import fails_cleanly

NEXT_STEPS = ("Open it in Excel, enable macros, and press Refresh on the {sheet} sheet. "
              "It needs Python with inv-sheets installed: see docs/excel-button.md.")


@click.command("add-button")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the workbook with the button here (a .xlsm; default: PATH itself for a .xlsm, "
                   "PATH with .xlsm for a .xlsx).")
@fails_cleanly
def add_button(path: str, output: str | None) -> None:
    """Add a Refresh button that runs inv-sheets from inside Excel.

    The workbook gets xlwings' VBA runtime with a RefreshInventory macro, an xlwings.conf sheet
    (which Python to use) and a Start sheet of its own, first, with the button (a workbook made
    from the template has one already). A .xlsx is copied to a new .xlsm beside it; a .xlsm is
    updated in place. None of your sheets changes.

    \b
    Example:
        inv-sheets add-button store.xlsx
        py -m inv_sheets add-button store.xlsx   (Windows, when inv-sheets is not on the PATH)
    """
    from ..excel.button import add_button as run

    result = run(path, output=output)
    if result.added:
        click.echo(f"added {', '.join(result.added)} to {result.path}")
    else:
        click.echo(f"{result.path} already has the Refresh button")
    click.echo(NEXT_STEPS.format(sheet=result.sheet), err=True)


def init_with_button(path: str, sample: bool, force: bool) -> None:
    """What `inv-sheets init PATH.xlsm --button` does after its own checks."""
    from ..excel.button import init_with_button as run

    result = run(path, sample=sample, overwrite=force)
    click.echo(f"created {result.path} with a Refresh button" + (" and the demo store" if sample else ""))
    click.echo(NEXT_STEPS.format(sheet=result.sheet), err=True)
