"""Migration export: the files another inventory system imports, in the order it imports them.

    result = export(store, ledger, "odoo", "out/", target_version="18", issues=issues)

Each target lives in its own module and declares a `TARGET` (common.Target): its file encoding,
its versions, the function that writes its files, and what it cannot hold. `export` takes one
snapshot of the workbook (snapshot.py), lets the target write its files, then writes
IMPORT-ORDER.txt (the files, in order, with the screen each goes into) and LOSSES.md (everything
the workbook holds that the target cannot, with counts), so nothing is dropped silently.

A workbook with error findings is refused (nothing written, `result.refused`) unless force: a
migration must start from clean data.

The files are written into a hidden folder beside out_dir and moved in only when all of them are
written, so a failed export leaves no half-written folder. out_dir must be new, empty, or an
earlier export (it holds IMPORT-ORDER.txt): then the files that export listed are replaced, and a
folder holding anything else is refused rather than written into.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Mapping, Sequence

from ..contract.issues import ERROR, Issue
from . import cin7, inflow, inventree, odoo, shopify, sortly, zoho
from .common import ExportFile, ExportResult, Files, Loss, Target, safe_path
from .snapshot import ALWAYS_LOST, FACTS, Snapshot, take

TARGETS: dict[str, Target] = {t.name: t for t in (
    odoo.TARGET, zoho.TARGET, cin7.TARGET, inflow.TARGET, sortly.TARGET, shopify.TARGET, inventree.TARGET)}

IMPORT_ORDER = "IMPORT-ORDER.txt"
LOSSES = "LOSSES.md"


def export(store, ledger, target: str, out_dir: str | os.PathLike, *, target_version: str | None = None,
           issues: Sequence[Issue] = (), force: bool = False, keys: Mapping | None = None,
           currency: str | None = None) -> ExportResult:
    """Write the target's import files for a store into out_dir (created when missing).

    keys and currency are for InvenTree only: the ids of the records already on the server
    (inventree_api.server_keys) and the currency of costs (see inventree.py).
    Raises ValueError for an unknown target or version, or an out_dir that holds other files.
    Returns the result, refused (and nothing written) when `issues` hold errors and not force.
    """
    spec = TARGETS.get(target)
    if spec is None:
        raise ValueError(f"unknown export target {target!r}; use one of {', '.join(TARGETS)}")
    version = target_version or spec.default_version
    if spec.versions and version not in spec.versions:
        raise ValueError(f"{spec.title} version {version!r} is not supported; use one of {', '.join(spec.versions)}")
    if not spec.versions and target_version:
        raise ValueError(f"{spec.title} exports have no versions; leave out --target-version")
    options = {k: v for k, v in (("keys", keys), ("currency", currency)) if v is not None}
    if options and spec.name != "inventree":
        raise ValueError(f"--url, --token and --currency are for InvenTree exports, not {spec.title}")
    out = Path(out_dir)
    result = ExportResult(spec.name, version, os.fspath(out))
    errors = [i for i in issues if i.severity == ERROR]
    if errors and not force:
        result.refused, result.errors = True, errors
        return result
    earlier = _earlier_export(out)
    folder = out.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = folder.parent / f".{folder.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
    stage.mkdir()  # with the user's usual permissions (it becomes out_dir when that is new)
    try:
        snap = take(store, ledger)
        files = Files(stage, bom=spec.bom)
        spec.build(snap, files, version, **options)
        losses = _losses(spec, snap) + files.losses
        files.text(IMPORT_ORDER, import_order(spec, version, snap, files.written, files.notes))
        files.text(LOSSES, loss_report(spec, version, snap, losses))
        _publish(stage, folder, earlier)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    result.files, result.losses, result.notes = files.written, losses, files.notes
    result.counts = {"files": len(files.written), "skus": len(snap.items), "stock_rows": len(snap.stock),
                     "units": round(float(snap.stock["qty"].sum()), 6),
                     "value": round(float(snap.stock["value"].sum()), 2), "losses": len(losses)}
    return result


def read_workbook(path: str | os.PathLike, as_of=None) -> tuple:
    """Read, validate and post a workbook file: (store, ledger, findings)."""
    from ..ledger.postings import build
    from ..rules.validate import load, parse

    store, issues = parse(load(path), as_of=as_of)
    ledger = build(store)
    return store, ledger, [*issues, *ledger.issues]


def export_workbook(path: str | os.PathLike, target: str, out_dir: str | os.PathLike | None = None, *,
                    target_version: str | None = None, force: bool = False, as_of=None,
                    url: str | None = None, token: str | None = None, currency: str | None = None) -> ExportResult:
    """Read, validate and post a workbook file, then `export` it (what `inv-sheets export` runs).

    out_dir defaults to '<workbook name>-<target>' beside the workbook. With url and token
    (InvenTree), the files refer to the records already on that server by the ids it gave them.
    """
    store, ledger, issues = read_workbook(path, as_of)
    keys = None
    if url:
        from .inventree_api import connect, server_keys

        keys = server_keys(connect(url, token))
    if out_dir is None:
        p = Path(path)
        out_dir = p.with_name(f"{p.stem}-{target}")
    return export(store, ledger, target, out_dir, target_version=target_version,
                  issues=issues, force=force, keys=keys, currency=currency)


def _earlier_export(out: Path) -> set[str]:
    """The files an earlier export into out listed (empty for a new or empty folder).

    Raises ValueError when out is not a folder, or holds files but no earlier export.
    """
    if not out.exists():
        return set()
    if not out.is_dir():
        raise ValueError(f"{out} is not a folder; choose a folder for the export files")
    order = out / IMPORT_ORDER
    if order.is_file():
        text = order.read_text(encoding="utf-8", errors="replace")
        return {IMPORT_ORDER, LOSSES, *re.findall(r"^\d+\. (.+?)  \(\d+ rows\)$", text, flags=re.M)}
    if any(out.iterdir()):
        raise ValueError(f"{out} already holds other files; choose a new or empty folder for the export")
    return set()


def _publish(stage: Path, out: Path, earlier: set[str]) -> None:
    """Move the written files from stage into out, removing what the earlier export there listed."""
    if not out.exists():
        os.replace(stage, out)
        return
    for name in earlier:
        try:
            safe_path(out, name).unlink(missing_ok=True)
        except (ValueError, IsADirectoryError, PermissionError):
            pass  # not a file this export wrote: leave it
    for path in stage.iterdir():
        os.replace(path, out / path.name)


def _losses(spec: Target, snap: Snapshot) -> list[Loss]:
    lost = {**ALWAYS_LOST, **spec.lost}
    return [Loss(FACTS[fact], snap.facts[fact], why) for fact, why in lost.items() if snap.facts.get(fact)]


def import_order(spec: Target, version: str | None, snap: Snapshot, written: list[ExportFile],
                 notes: Sequence[str] = ()) -> str:
    """IMPORT-ORDER.txt: the files in the order the target must import them."""
    head = f"{spec.title}{' ' + version if version else ''}: import these files in this order"
    lines = [head, "=" * len(head), "",
             f"Opening stock is the workbook's on hand at the end of {snap.as_of.date().isoformat()}.",
             f"Step-by-step guide: {spec.docs}", ""]
    for n, f in enumerate(written, start=1):
        lines += [f"{n}. {f.name}  ({f.rows} rows)", f"   {f.purpose}", f"   Import in: {f.screen}", ""]
    lines += [*notes, ""] if notes else []
    lines.append(f"Then read {LOSSES}: what the workbook holds that {spec.title} cannot.")
    return "\n".join(lines) + "\n"


def loss_report(spec: Target, version: str | None, snap: Snapshot, losses: list[Loss]) -> str:
    """LOSSES.md: everything the workbook holds that this export does not carry, and why."""
    lines = [f"# What {spec.title}{' ' + version if version else ''} cannot hold", ""]
    if not losses:
        lines.append("Nothing: every fact in the workbook is in the exported files.")
    else:
        lines += ["| what | how many | why |", "|---|---:|---|"]
        lines += [f"| {x.what} | {x.count} | {x.why} |" for x in losses]
    units, value = float(snap.stock["qty"].sum()), float(snap.stock["value"].sum())
    lines += ["", f"Exported opening stock: {len(snap.stock)} rows, {units:g} units, value {value:.2f}."]
    return "\n".join(lines) + "\n"


__all__ = ["TARGETS", "export", "export_workbook", "read_workbook", "ExportResult", "ExportFile", "Loss", "IMPORT_ORDER", "LOSSES"]
