"""The docs say what the code does: the reference is generated and current, every code documented."""

from pathlib import Path

from inv_sheets.cli import reference
from inv_sheets.cli.main import main
from inv_sheets.contract.issues import CODES

ROOT = Path(__file__).parent.parent


def test_reference_is_current():
    assert (ROOT / "docs" / "reference.md").read_text() == reference.render(), \
        "docs/reference.md is stale: run `python -m inv_sheets.cli.reference > docs/reference.md`"


def test_every_command_and_code_is_documented():
    text = (ROOT / "docs" / "reference.md").read_text()
    for name in main.commands:
        assert f"`inv-sheets {name}`" in text
        assert "Example:" in main.commands[name].help, f"{name}'s help has no example"
    for code in CODES:
        assert f"`{code}`" in text


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head


def test_readme_shows_the_real_refresh_output(tmp_path, monkeypatch):
    """The README's first screen shows what `inv-sheets refresh` prints on the demo store."""
    import re
    import shutil

    from click.testing import CliRunner

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"\$ inv-sheets refresh demo-out/demo-store.xlsx\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "demo-out").mkdir()
    shutil.copy(ROOT / "samples" / "demo-store.xlsx", tmp_path / "demo-out" / "demo-store.xlsx")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["refresh", "demo-out/demo-store.xlsx"])
    assert result.exit_code == 0, result.output
    assert result.stdout == block
