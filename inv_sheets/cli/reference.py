"""The reference docs, generated from the contract, the finding registry and the CLI.

`python -m inv_sheets.cli.reference > docs/reference.md` rewrites docs/reference.md; a test fails when
the file and the code disagree, so the docs cannot drift.
"""

from __future__ import annotations

import click

from ..contract.issues import CODES
from ..contract.schema import MOVEMENT_TYPES, OUTPUTS, SETTINGS, SHEETS


def _cell(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole reference page as Markdown."""
    out = ["# inv-sheets reference", "",
           "Generated from the code (`python -m inv_sheets.cli.reference > docs/reference.md`); a test keeps it current.",
           "", "## Commands", ""]
    from .main import main

    # The same settings a real invocation gets (-h as well as --help), at a fixed width.
    ctx = click.Context(main, info_name="inv-sheets", terminal_width=100, max_content_width=100,
                        **main.context_settings)
    for name in sorted(main.list_commands(ctx)):
        command = main.get_command(ctx, name)
        sub = click.Context(command, info_name=name, parent=ctx, terminal_width=100, max_content_width=100)
        out += [f"### `inv-sheets {name}`", "", "```", command.get_help(sub).strip(), "```", ""]
    out += ["## Input sheets", "",
            "Sheet and column names are matched forgivingly: case, spaces, underscores and punctuation are "
            "ignored, and the aliases below are accepted. `*` marks a required column.", ""]
    for sheet in SHEETS:
        aliases = f" (also: {', '.join(sheet.aliases)})" if sheet.aliases else ""
        out += [f"### {sheet.name}{' (required)' if sheet.required else ''}", "", f"{sheet.help}{aliases}", "",
                "| column | header | type | rules | also accepted | meaning |", "|---|---|---|---|---|---|"]
        for c in sheet.columns:
            rules = []
            if c.unique:
                rules.append("unique")
            if c.choices:
                rules.append("one of " + ", ".join(c.choices))
            if c.min is not None:
                rules.append(f">= {c.min:g}")
            if c.max is not None:
                rules.append(f"<= {c.max:g}")
            if c.references:
                rules.append(f"must be on {c.references}")
            out.append(f"| {c.name}{'*' if c.required else ''} | {_cell(c.title)} | {c.type} | {_cell('; '.join(rules))} "
                       f"| {_cell(', '.join(c.aliases))} | {_cell(c.help)} |")
        out.append("")
    out += ["## Movement types", "", "| type | also accepted | from | to | needs |", "|---|---|---|---|---|"]
    for t in MOVEMENT_TYPES:
        frm = t.source + (f" [{t.source_default}]" if t.source_default else "")
        to = t.target + (f" [{t.target_default}]" if t.target_default else "")
        needs = ", ".join(n for n, on in (("reason", t.reason_required), ("user", t.user_required),
                                          ("signed qty", t.signed)) if on)
        out.append(f"| {t.name} | {_cell(', '.join(t.aliases))} | {frm} | {to} | {needs} |")
    out += ["", "`[setting]` names the Settings key that supplies the location when the row leaves it blank; "
            "`outside:` places are beyond the store's walls and balance the ledger.", "",
            "## Settings", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        out.append(f"| {s.key} | {s.type} | {_cell(s.default)} | {_cell(s.help)} |")
    out += ["", "## Output sheets", "", "Replaced on every refresh; nothing else in the workbook is touched.", ""]
    for o in OUTPUTS:
        out += [f"### {o.name}", "", o.help, "", "| column | header | kind | meaning |", "|---|---|---|---|"]
        out += [f"| {c.name} | {_cell(c.title)} | {c.kind} | {_cell(c.help)} |" for c in o.columns]
        out.append("")
    out += ["## Finding codes", "", "Every finding has a code, a severity, the cell, the value and a message "
            "that says how to fix it.", "", "| code | severity | meaning | example |", "|---|---|---|---|"]
    out += [f"| `{c.code}` | {c.severity} | {_cell(c.meaning)} | {_cell(c.example)} |" for c in CODES.values()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
