"""The `inv-sheets` command: parse options, call one library function, render its result.

Exit codes: 0 fine, 1 problems found in the data, 2 usage error, 3 could not run.
Results go to stdout; progress and notes to stderr; `--json` prints exactly what the library returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from .kit import EXIT_USAGE, exit_code, fails_cleanly, left_out_line, progress_printer, render_issues


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="inv-sheets")
def main() -> None:
    """Make a store's Excel stock workbook trustworthy: validate it, apply the ledger rules and
    write the computed sheets back into it, leaving everything else as it was.

    \b
    Example:
        inv-sheets init store.xlsx --sample
        inv-sheets refresh store.xlsx
    """


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--sample", is_flag=True, help="Fill it with the demo store.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--button", is_flag=True,
              help="Make a macro-enabled .xlsm with a Refresh button on its Start sheet (see docs/excel-button.md).")
@fails_cleanly
def init(path: str, sample: bool, force: bool, button: bool) -> None:
    """Create a new workbook from the template.

    \b
    Example:
        inv-sheets init store.xlsx
        inv-sheets init store.xlsm --button --sample
    """
    from ..contract.template import init_workbook

    if Path(path).exists() and not force:
        click.echo(f"inv-sheets: {path} already exists (use --force to overwrite it)", err=True)
        sys.exit(EXIT_USAGE)
    if button:
        from .button import init_with_button

        init_with_button(path, sample, force)
        return
    init_workbook(path, sample=sample, overwrite=force)
    click.echo(f"created {path}" + (" with the demo store" if sample else ""))


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--as-of", help="The day the figures are for (default: Settings as_of, else today).")
@click.option("--limit", type=int, default=200, show_default=True, help="Show at most this many findings.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@fails_cleanly
def validate(path: str, as_json: bool, strict: bool, as_of: str | None, limit: int, quiet: bool) -> None:
    """Check a workbook and report every problem at its cell.

    \b
    Example:
        inv-sheets validate store.xlsx --strict
    """
    from ..refresh import validate as run

    report = run(path, as_of=as_of, progress=progress_printer(quiet))
    click.echo(report.to_json() if as_json else render_issues(report, limit) + left_out_line(report))
    sys.exit(exit_code(report, strict))


@main.command()
@click.argument("path", type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the refreshed workbook here instead.")
@click.option("--as-of", help="The day the figures are for (default: Settings as_of, else today).")
@click.option("--backup", is_flag=True,
              help="Keep a copy of the workbook as it was, beside it (store.bak-<date>-<time>.xlsx).")
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@fails_cleanly
def refresh(path: str, output: str | None, as_of: str | None, backup: bool, force: bool, as_json: bool,
            quiet: bool) -> None:
    """Recompute the output sheets and write them into the workbook.

    Only the toolkit's own sheets (Stock, Reorder, Issues, ...) are added or replaced, and your own
    columns beside their tables are kept, each value on its row's key; everything else in the file
    stays exactly as it was. An output sheet is never removed.

    \b
    Example:
        inv-sheets refresh store.xlsx --backup
    """
    from ..refresh import refresh as run

    report = run(path, output=output, as_of=as_of, backup=backup, force=force, progress=progress_printer(quiet))
    if as_json:
        click.echo(report.to_json())
    else:
        click.echo(render_issues(report, limit=20, notes=False) + left_out_line(report))
        if report.summary.get("unchanged"):
            click.echo(f"{report.summary['output']} is as the last refresh left it today: its sheets are up to date")
        else:
            written = report.summary.get("written", [])
            click.echo(f"wrote {', '.join(written)} into {report.summary.get('output', path)}")
        if report.summary.get("backup"):
            click.echo(f"the workbook as it was is kept in {report.summary['backup']}")
    sys.exit(exit_code(report))


@main.command()
@click.argument("path", type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the normalised workbook here.")
@click.option("--in-place", is_flag=True,
              help="Change the workbook itself (a backup is kept beside it: store.bak-<date>-<time>.xlsx).")
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@fails_cleanly
def normalise(path: str, output: str | None, in_place: bool, force: bool, as_json: bool) -> None:
    """Tidy the input sheets: trim, canonical codes and words, text numbers and dates made real.

    Without --output or --in-place it only lists what it would change. It never guesses: an
    ambiguous date stays as it is (validate reports it).

    \b
    Example:
        inv-sheets normalise store.xlsx --in-place
    """
    import json

    from ..rules.normalise import normalise as run

    if output and in_place:
        click.echo("inv-sheets: use --output or --in-place, not both", err=True)
        sys.exit(EXIT_USAGE)
    result = run(path, output=output, in_place=in_place, force=force)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    for change in result.changes:
        d = change.to_dict()
        click.echo(f"{d['sheet']}!{d['cell']}: {d['before']!r} -> {d['after']!r}")
    for issue in result.issues:
        click.echo(f"{issue.cell}: left as it is: {issue.message}")
    verb = "changed" if result.written else "would change"
    where = f" in {result.written}" if result.written else ""
    click.echo(f"{verb} {len(result.changes)} cells{where}")
    if result.backup:
        click.echo(f"the workbook as it was is kept in {result.backup}")


def _register() -> None:
    """Commands that live beside the feature they front."""
    from .button import add_button
    from .close import close_period
    from .counts import count_sheet
    from .export import export
    from .imports import import_

    for command in (count_sheet, export, add_button, close_period, import_):
        main.add_command(command)


_register()
