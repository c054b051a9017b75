"""The package layout means something: each subpackage imports only what its rule allows.

The rules (docs/architecture.md):

    contract/   imports nothing of inv_sheets outside contract/
    ledger/     contract/ only
    features/   contract/, ledger/, rules/ (pure checks), features/
    rules/      contract/, ledger/, rules/, and io/ for its two file entry points (validate, normalise)
    io/         contract/, io/ (and features/ for the count list it lays out)
    exports/    contract/, ledger/, rules/, exports/
    imports/    contract/, io/ (the append writer), rules/ (reading the workbook), imports/
    cli/        anything; the only place click is imported
    excel/      anything but cli/; the only place xlwings is imported

The checks read every module's imports from its syntax tree, lazy imports inside functions
included, so a forbidden import anywhere in a file fails here. For example, adding

    from ..io.read import read_book

to inv_sheets/features/stock.py makes `test_each_package_imports_only_what_it_may` fail with
"features/stock.py imports inv_sheets.io.read"; `import click` in inv_sheets/refresh.py makes
`test_front_end_libraries_stay_in_their_front_end[click-cli]` fail. The last test proves the checker itself sees such an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "inv_sheets"

ALLOWED = {
    "contract": {"contract"},
    "ledger": {"contract", "ledger"},
    "features": {"contract", "ledger", "rules", "features"},
    "rules": {"contract", "ledger", "rules", "io"},
    "io": {"contract", "io", "features", "ledger"},
    "exports": {"contract", "ledger", "rules", "exports"},
    "imports": {"contract", "io", "rules", "imports"},
    "excel": {"contract", "io", "excel", "integrity", "refresh", "features", "ledger", "rules"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool) -> set[str]:
    """Every module a file imports, lazy imports included, relative ones made absolute."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import cache` imports a module, not a name
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _all_imports() -> dict[Path, set[str]]:
    return {path: imports(path.read_text(), _module_name(path), path.name == "__init__.py")
            for path in sorted(PACKAGE.rglob("*.py"))}


def _subpackage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "inv_sheets" and len(parts) > 1 else None


def test_each_package_imports_only_what_it_may():
    wrong = []
    for path, names in _all_imports().items():
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) < 2 or rel.parts[0] not in ALLOWED:
            continue
        allowed = ALLOWED[rel.parts[0]]
        for name in sorted(names):
            sub = _subpackage(name)
            if sub is not None and sub not in allowed and sub not in ("__version__",):
                wrong.append(f"{rel.as_posix()} imports {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("library, home", [("click", "cli"), ("xlwings", "excel")])
def test_front_end_libraries_stay_in_their_front_end(library, home):
    wrong = [path.relative_to(PACKAGE).as_posix() for path, names in _all_imports().items()
             if any(n == library or n.startswith(library + ".") for n in names)
             and path.relative_to(PACKAGE).parts[0] != home]
    assert not wrong, f"{library} is imported outside {home}/: {wrong}"


def test_the_core_never_imports_a_front_end():
    """Nothing but the front ends (cli/, excel/) and the package root imports cli/ or excel/."""
    wrong = []
    for path, names in _all_imports().items():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("cli", "excel") or len(rel.parts) == 1 and rel.name in ("__main__.py",):
            continue
        wrong += [f"{rel.as_posix()} imports {n}" for n in names if _subpackage(n) in ("cli", "excel")]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_lazy_import():
    source = "def f():\n    from ..io.read import read_book\n    import click\n"
    found = imports(source, "inv_sheets.features.stock", is_package=False)
    assert "inv_sheets.io.read" in found and "click" in found
    assert _subpackage("inv_sheets.io.read") not in ALLOWED["features"]
