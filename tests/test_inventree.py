"""The InvenTree migration against a real InvenTree server: the files through its data-import API,
and the direct push through its REST API, each compared with the workbook.

One server for the whole session, started from the kit in shared/systems/inventree (beside the
checkout, or $INVENTREE_KIT); `reset` gives each test a clean database. Without the kit, or when
the server does not come up, every test here is skipped with the reason. The kit's venv is kept
in ~/.cache/inv-sheets-inventree-venv (or $INVENTREE_KIT_VENV), so only the first run installs it.

The demo store (samples/demo-store.xlsx) is the data: 8 categories, 111 locations, 4 suppliers,
63 parts (10 templates and 53 SKUs), 50 supplier parts, 7 BOM lines and 150 stock rows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inv_sheets.exports import export, read_workbook
from inv_sheets.exports.inventree_api import (
    ServerError,
    compare,
    connect,
    push,
    server_keys,
)
from inv_sheets.exports.snapshot import take

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(os.environ.get("INVENTREE_KIT", ROOT.parent / "shared" / "systems" / "inventree"))
DEMO = ROOT / "samples" / "demo-store.xlsx"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (KIT / "start").exists(), reason=f"no InvenTree kit at {KIT}"),
              pytest.mark.skipif(not DEMO.exists(), reason="samples/demo-store.xlsx is not built"),
              pytest.mark.xdist_group("inventree")]  # one server: every test of this file on one worker


class Server:
    """The kit's server: its URL, a fresh token after each reset, and a client."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "INVENTREE_KIT_VENV": os.environ.get(
            "INVENTREE_KIT_VENV", str(Path.home() / ".cache" / "inv-sheets-inventree-venv"))}
        self._lines(self._run("start", "auto"))

    def _run(self, *args: str) -> str:
        out = subprocess.run([str(KIT / args[0]), str(self.folder), *args[1:]], capture_output=True, text=True,
                             env=self.env, timeout=900, check=False)
        if out.returncode:
            reason = (out.stderr.strip().splitlines() or ["no reason given"])[-1]
            pytest.skip(f"the InvenTree kit could not {args[0]} a server: {reason}")
        return out.stdout

    def _lines(self, text: str) -> None:
        env = dict(line.split("=", 1) for line in text.split())
        self.url, self.token = env["INVENTREE_API_HOST"], env["INVENTREE_API_TOKEN"]
        self.api = connect(self.url, self.token)

    def reset(self) -> None:
        self._lines(self._run("reset"))

    def stop(self) -> None:
        subprocess.run([str(KIT / "stop"), str(self.folder)], capture_output=True, env=self.env, timeout=60, check=False)

    def count(self, endpoint: str, **params) -> int:
        return self.api.get(endpoint, params={**params, "limit": 1})["count"]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("inventree"))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def demo():
    store, ledger, _ = read_workbook(DEMO)
    return store, ledger, take(store, ledger)


@pytest.fixture
def clean(server):
    """The server with an empty database: reset only when a test left something (a reset stops
    and starts the server: seconds on an idle machine, most of a minute on a busy one)."""
    if any(server.count(e) for e in ("part/category/", "stock/location/", "company/", "part/", "stock/")):
        server.reset()
    return server


def import_file(server: Server, model: str, path: Path) -> int:
    """Import one CSV through InvenTree's data-import API, as its web UI does, accepting all rows
    at once in **reverse** file order (InvenTree saves them in the order given, so no id can follow
    the file's order). Returns the rows saved."""
    api, headers = server.api, {"Authorization": f"Token {server.token}"}
    import requests

    with open(path, "rb") as fh:
        answer = requests.post(f"{server.url}/api/importer/session/", headers=headers,
                               data={"model_type": model}, files={"data_file": (path.name, fh, "text/csv")}, timeout=60)
    assert answer.status_code == 201, answer.text
    session = answer.json()
    mapping = api.get("importer/column-mapping/", params={"session": session["pk"]})
    mapped = {m["column"] for m in mapping if m["column"]}
    assert mapped == set(session["columns"]), f"{path.name}: columns InvenTree did not map: {set(session['columns']) - mapped}"
    api.post(f"importer/session/{session['pk']}/accept_fields/", {})
    rows = api.get("importer/row/", params={"session": session["pk"]})
    invalid = [(r["row_index"], r["errors"]) for r in rows if not r["valid"]]
    assert not invalid, f"{path.name}: rows InvenTree rejects: {invalid[:5]}"
    backwards = [r["pk"] for r in sorted(rows, key=lambda r: -r["row_index"])]
    api.post(f"importer/session/{session['pk']}/accept_rows/", {"rows": backwards})
    done = api.get(f"importer/session/{session['pk']}/")
    assert done["status"] == 40 and done["completed_row_count"] == len(rows), done
    return len(rows)


MODELS = {"part_categories.csv": "partcategory", "stock_locations.csv": "stocklocation", "companies.csv": "company",
          "parts.csv": "part", "supplier_parts.csv": "supplierpart", "bom_items.csv": "bomitem",
          "stock_items.csv": "stockitem"}


def assert_matches_workbook(server: Server, snap, comparison) -> None:
    """Everything of the demo store is on the server, and its stock is the workbook's."""
    assert comparison.ok, comparison.mismatches[:10]
    assert comparison.rows == len(snap.stock.groupby(["sku", "location", "bin", "batch"], dropna=False))
    assert server.count("part/", is_template="false") == len(snap.items)
    assert server.count("stock/location/") == len(snap.locations) + len(
        snap.stock[["location", "bin"]].dropna().drop_duplicates())
    assert server.count("stock/") == len(snap.stock)
    assert server.count("company/part/") == int(snap.items["supplier"].isin(snap.suppliers.index).sum())
    assert server.count("bom/") == len(snap.bundles)


def stock_sheet(tmp_path: Path):
    """The demo workbook's Stock sheet (on hand per SKU, location and bin), refreshed here."""
    import pandas as pd

    from inv_sheets import refresh

    book = tmp_path / "demo.xlsx"
    shutil.copy(DEMO, book)
    refresh(book)
    sheet = pd.read_excel(book, sheet_name="Stock", engine="calamine")
    sheet = sheet[sheet["On hand"] > 0]
    return {(r["SKU"], r["Location"] + (f"/{r['Bin']}" if isinstance(r["Bin"], str) else "")): float(r["On hand"])
            for _, r in sheet.iterrows()}


def server_stock(server: Server) -> dict:
    parts = {p["pk"]: p["IPN"] for p in server.api.get("part/")}
    paths = {loc["pk"]: loc["pathstring"] for loc in server.api.get("stock/location/")}
    out: dict = {}
    for s in server.api.get("stock/"):
        key = (parts[s["part"]], paths[s["location"]])
        out[key] = out.get(key, 0.0) + float(s["quantity"])
    return out


DEMO_COUNTS = {"category": 8, "location": 111, "company": 4, "part": 63, "supplier_part": 50, "bom_item": 7,
               "stock_item": 150}


def test_dry_run_and_refused_currency_change_nothing(clean, demo):
    _, _, snap = demo
    dry = push(snap, clean.api, dry_run=True)
    assert dry.created == DEMO_COUNTS and not dry.comparison.ok
    with pytest.raises(ServerError, match="does not accept currency XYZ"):
        push(snap, clean.api, currency="XYZ")
    assert clean.count("part/") == clean.count("stock/location/") == clean.count("part/category/") == 0


def test_files_import_as_they_are_in_any_row_order(clean, demo, tmp_path):
    """Round after round: export with the server's ids, import every file through the data-import
    API (rows in reverse order), export again, until the export says the files are the last."""
    store, ledger, snap = demo
    started, imported = time.monotonic(), {}
    for n in range(1, 8):
        keys = server_keys(clean.api)
        result = export(store, ledger, "inventree", tmp_path / f"round{n}", keys=keys, currency="USD", force=True)
        for f in result.files:
            model = MODELS[f.name[3:]]
            imported[model] = imported.get(model, 0) + import_file(clean, model, Path(result.out_dir) / f.name)
        if "last files" in " ".join(result.notes):
            break
    assert imported == {"partcategory": 8, "stocklocation": 111, "company": 4, "part": 63, "supplierpart": 50,
                        "bomitem": 7, "stockitem": 150}
    assert_matches_workbook(clean, snap, compare(snap, clean.api))
    again = export(store, ledger, "inventree", tmp_path / "after", keys=server_keys(clean.api), force=True)
    assert again.files == []  # nothing left to import
    print(f"files: {n} rounds, {sum(imported.values())} rows, {time.monotonic() - started:.0f} s")


def test_push_stopped_part_way_finishes_then_creates_nothing(clean, demo, tmp_path):
    """A push that stops part-way (here: after 20 parts) finishes when run again, creating only the
    rest; everything then matches the workbook and its Stock sheet, in the currency asked for; a
    third push creates nothing."""
    _, _, snap = demo
    started = time.monotonic()

    def stop_in_parts(kind, n, total):
        if kind == "part" and n == 20:
            raise ServerError("connection lost")

    with pytest.raises(ServerError):
        push(snap, clean.api, currency="EUR", progress=stop_in_parts)
    assert clean.count("part/") == 20 and clean.count("stock/") == 0
    finish = push(snap, clean.api, currency="EUR")
    assert finish.existing == {**dict.fromkeys(DEMO_COUNTS, 0), "category": 8, "location": 111, "company": 4,
                               "part": 20}
    assert {k: finish.created[k] + finish.existing[k] for k in DEMO_COUNTS} == DEMO_COUNTS
    took = time.monotonic() - started
    assert_matches_workbook(clean, snap, finish.comparison)
    assert finish.ok and finish.other_currency == []
    assert {s["purchase_price_currency"] for s in clean.api.get("stock/")} == {"EUR"}
    assert {c["currency"] for c in clean.api.get("company/")} == {"EUR"}
    assert server_stock(clean) == pytest.approx(stock_sheet(tmp_path))
    again = push(snap, clean.api, currency="EUR")
    assert set(again.created.values()) == {0} and again.existing == DEMO_COUNTS and again.comparison.ok
    # and the check sees one unit gone from one stock item
    item = clean.api.get("stock/", params={"limit": 1})["results"][0]
    clean.api.post("stock/remove/", {"items": [{"pk": item["pk"], "quantity": 1}], "notes": "check the check"})
    [wrong] = compare(snap, clean.api).mismatches
    assert wrong["server"] == wrong["workbook"] - 1
    print(f"push: {sum(DEMO_COUNTS.values())} records in {took:.0f} s")


def test_cli_push(server):
    from inv_sheets.cli.main import main

    args = ["push", str(DEMO), "--to", "inventree", "--url", server.url, "--token", server.token, "--force"]
    dry = CliRunner().invoke(main, [*args, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    answer = json.loads(dry.stdout)
    assert {k: answer["created"][k] + answer["existing"][k] for k in DEMO_COUNTS} == DEMO_COUNTS
    bad = CliRunner().invoke(main, ["push", str(DEMO), "--to", "inventree", "--url", "http://127.0.0.1:9",
                                    "--token", "x", "--force"])
    assert bad.exit_code == 3 and bad.stderr.startswith("inv-sheets: cannot connect to InvenTree")
