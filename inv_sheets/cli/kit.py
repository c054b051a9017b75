"""What every command shares: exit codes, the one-line failure, progress on stderr, the findings table.

Kept apart from cli.py so that commands defined beside their feature (cli_counts, cli_export,
cli_button) can use it without importing the command group that registers them.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
import warnings

import click

from ..contract.issues import BadDateOption, InvSheetsError, Report, WorkbookRestored

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM  # as a shell reports them


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so a write in progress removes its temp file on the way out."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def fails_cleanly(func):
    """Turn 'could not run' into one line on stderr and exit 3 (a day option that is not one day:
    exit 2), never a traceback; Ctrl-C and SIGTERM into one line and 130 or 143 (a write in progress
    is abandoned before it replaces the file, or undone when it was writing over it). A workbook put
    back as it was after an interrupted write is said in one line on stderr, and the command goes on."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", WorkbookRestored)
                warnings.showwarning = _say_restored(warnings.showwarning)
                return func(*args, **kwargs)
        except BadDateOption as exc:
            click.echo(f"inv-sheets: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("inv-sheets: interrupted, the workbook is unchanged", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Terminated:
            click.echo("inv-sheets: stopped (SIGTERM), the workbook is unchanged", err=True)
            sys.exit(EXIT_TERMINATED)
        except InvSheetsError as exc:
            click.echo(f"inv-sheets: {exc}", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        except MemoryError:
            click.echo("inv-sheets: ran out of memory reading this workbook", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        except OSError as exc:
            click.echo(f"inv-sheets: {exc.filename or ''}: {exc.strerror or exc}".replace(": :", ":"), err=True)
            sys.exit(EXIT_CANNOT_RUN)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _say_restored(show):
    """A showwarning that prints a WorkbookRestored as one line of its own and passes on the rest."""

    def say(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, WorkbookRestored):
            click.echo(f"inv-sheets: {message}", err=True)
        else:
            show(message, category, filename, lineno, file, line)

    return say


def progress_printer(quiet: bool):
    """A progress callback writing to stderr, silent when quiet or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"  {message}...", err=True)


def render_issues(report: Report, limit: int | None = None, *, notes: bool = True) -> str:
    """The findings as a readable table, worst first, and a summary line.

    notes=False lists only errors and warnings (the notes are still counted, and on the Issues sheet).
    """
    lines = []
    issues = [i for i in report.sorted_issues() if notes or i.severity != "info"]
    shown = issues if limit is None else issues[:limit]
    if shown:
        width = max(len(i.cell) for i in shown)
        for i in shown:
            lines.append(f"{i.cell:<{width}}  {i.severity:<7}  {i.code:<24}  {i.message}")
        if len(shown) < len(issues):
            lines.append(f"... and {len(issues) - len(shown)} more (use --json or see the Issues sheet)")
    c = report.counts()
    lines.append(f"{report.path}: {c['error']} errors, {c['warning']} warnings, {c['info']} notes")
    return "\n".join(lines)


def left_out_line(report: Report) -> str:
    """'' or a line saying how many rows with errors the figures leave out, sheet by sheet."""
    gaps = report.summary.get("left_out")
    if not gaps:
        return ""
    total = sum(gaps.values())
    where = ", ".join(f"{sheet} {n}" for sheet, n in gaps.items())
    return f"\nleft out of every figure: {total} row{'s' if total != 1 else ''} with errors ({where})"


def exit_code(report: Report, strict: bool = False) -> int:
    if report.errors or (strict and report.warnings):
        return EXIT_PROBLEMS
    return EXIT_OK
