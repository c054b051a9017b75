"""The migration export: every target's files read back against the documented headers and the ledger.

One small store with everything a migration can meet (variants, a bin, an expiry batch, two
locations, a supplier with a lead time, a bundle, a Shopify channel with a buffer, a name that
looks like a formula) is exported to each target; the files are read back with the csv module and
checked: headers as documented, and units and value per SKU and location equal to ledger.stock.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from storefactory import make_store, mv

from inv_sheets.contract.issues import Issue
from inv_sheets.exports import IMPORT_ORDER, LOSSES, TARGETS, cin7, export, shopify, zoho
from inv_sheets.exports.common import Files, fmt_number, neutralise, safe_path
from inv_sheets.ledger.postings import build


def demo_store():
    return make_store(
        items=[
            {"sku": "TEE-M", "name": "Tee", "product": "Tee", "variant": "M / Blue", "unit_cost": 4.0, "price": 19,
             "supplier": "SUP-A", "supplier_sku": "A-TM", "reorder_point": 5, "max_stock": 20, "category": "Shirts",
             "barcode": "4006381333931", "case_pack": 6},
            {"sku": "TEE-L", "name": "Tee", "product": "Tee", "variant": "L / Blue", "price": 21},
            {"sku": "MILK", "name": "=Milk", "tracking": "expiry", "unit_cost": 1.25, "shelf_life_days": 60},
            {"sku": "BOX", "name": "Gift box", "unit_cost": 2.0},
        ],
        locations=[{"location": "MAIN", "name": "Main", "kind": "stock", "sellable": True, "priority": 1},
                   {"location": "SHOP", "name": "Shop", "kind": "stock", "sellable": True, "priority": 2}],
        item_locations=[{"sku": "TEE-M", "location": "MAIN", "bin": "A1"}],
        suppliers=[{"supplier": "SUP-A", "name": "Supplier A", "email": "a@example.com", "lead_time_days": 10}],
        bundles=[{"bundle_sku": "BOX", "component_sku": "TEE-M", "qty": 1},
                 {"bundle_sku": "BOX", "component_sku": "MILK", "qty": 2}],
        channels=[{"channel": "SHOPIFY", "buffer_units": 2}],
        movements=[
            mv("2026-01-02", "receive", "TEE-M", 10, to="MAIN"),
            mv("2026-01-02", "receive", "TEE-M", 3, to="SHOP"),
            mv("2026-01-03", "receive", "TEE-L", 5, to="MAIN", unit_cost=4.5),  # cost from the receipt
            mv("2026-01-03", "receive", "MILK", 6, to="MAIN", batch="B1", expiry="2026-03-01"),
            mv("2026-01-04", "receive", "MILK", 4, to="SHOP", batch="B2", expiry="2026-04-01"),
            mv("2026-01-05", "sale", "TEE-L", 1, frm="MAIN"),
        ],
        settings={"as_of": "2026-01-31"},
    )


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def file_named(result, suffix: str) -> Path:
    hits = [f for f in result.files if f.name.endswith(suffix)]
    assert len(hits) == 1, (suffix, [f.name for f in result.files])
    return Path(result.out_dir) / hits[0].name


@pytest.fixture(scope="module")
def store_and_ledger():
    store = demo_store()
    return store, build(store)


@pytest.fixture(scope="module")
def expected(store_and_ledger):
    """Units and value per SKU and location, straight from the ledger."""
    store, ledger = store_and_ledger
    s = ledger.stock.groupby(["sku", "location"])["qty"].sum()
    cost = {"TEE-M": 4.0, "TEE-L": 4.5, "MILK": 1.25, "BOX": 2.0}
    value = s * [cost[sku] for sku, _ in s.index]
    return s.to_dict(), value.round(6).to_dict()


def test_hand_computed_ledger_stock(expected):
    units, value = expected
    assert units == {("MILK", "MAIN"): 6, ("MILK", "SHOP"): 4, ("TEE-L", "MAIN"): 4, ("TEE-M", "MAIN"): 10,
                     ("TEE-M", "SHOP"): 3}
    assert sum(value.values()) == pytest.approx(6 * 1.25 + 4 * 1.25 + 4 * 4.5 + 10 * 4 + 3 * 4)


def run(store_and_ledger, tmp_path, target, **kw):
    store, ledger = store_and_ledger
    result = export(store, ledger, target, tmp_path / target, **kw)
    assert not result.refused
    assert (tmp_path / target / IMPORT_ORDER).exists() and (tmp_path / target / LOSSES).exists()
    order = (tmp_path / target / IMPORT_ORDER).read_text()
    positions = [order.index(f.name) for f in result.files]
    assert positions == sorted(positions)  # IMPORT-ORDER lists the files in the order written
    return result


def sums(rows, sku_col, loc_col, qty_col, cost_col=None, value_col=None):
    units, value = {}, {}
    for r in rows:
        key = (r[sku_col], r[loc_col])
        units[key] = units.get(key, 0) + float(r[qty_col])
        v = float(r[value_col]) if value_col else float(r[qty_col]) * float(r[cost_col])
        value[key] = round(value.get(key, 0) + v, 6)
    return units, value


def test_odoo(store_and_ledger, tmp_path, expected):
    result = run(store_and_ledger, tmp_path, "odoo", target_version="19")
    header, quants = read(file_named(result, "stock.quant.csv"))
    assert header == ["product_id", "location_id", "lot_id", "inventory_quantity"]
    # Odoo adds rows for one place rather than merging them: exactly one row per product, location, lot
    keys = [(q["product_id"], q["location_id"], q["lot_id"]) for q in quants]
    assert len(keys) == len(set(keys))
    _, templates = read(file_named(result, "product.template.csv"))
    _, variants = read(file_named(result, "product.product.csv"))
    cost = {t["default_code"]: t["standard_price"] for t in templates if t["default_code"]}
    cost.update({v["default_code"]: v["standard_price"] for v in variants})
    assert {t["type"] for t in templates if t["name"]} == {"consu"}  # Odoo 19: goods, is_storable
    rows = [{**q, "location": q["location_id"].split("/")[2], "cost": cost[q["product_id"]]} for q in quants]
    assert sums(rows, "product_id", "location", "inventory_quantity", "cost") == expected
    assert {v["import_attribute_values"] for v in variants} == {"Option 1:M,Option 2:Blue", "Option 1:L,Option 2:Blue"}
    _, lots = read(file_named(result, "stock.lot.csv"))
    assert {(x["name"], x["expiration_date"]) for x in lots} == {("B1", "2026-03-01 00:00:00"), ("B2", "2026-04-01 00:00:00")}
    _, bom = read(file_named(result, "mrp.bom.csv"))
    assert [b["bom_line_ids/product_id"] for b in bom] == ["TEE-M", "MILK"] and bom[0]["type"] == "phantom"
    _, rules = read(file_named(result, "orderpoint.csv"))
    assert rules == [{"product_id": "TEE-M", "location_id": "WH/Stock/MAIN", "product_min_qty": "5",
                      "product_max_qty": "20", "qty_multiple": "6", "trigger": "auto"}]


def test_odoo_before_19_has_no_variant_file(store_and_ledger, tmp_path):
    """import_attribute_values exists from Odoo 19: an older version gets no product.product file,
    and the variants' SKUs are reported as a loss instead of a column the import would reject."""
    result = run(store_and_ledger, tmp_path, "odoo", target_version="17")
    _, templates = read(file_named(result, "product.template.csv"))
    assert {t["type"] for t in templates if t["name"]} == {"product"}  # Odoo 17: storable product
    assert not [f for f in result.files if f.name.endswith("product.product.csv")]
    assert any(x.what == "SKU, barcode and cost of each variant" and x.count == 2 for x in result.losses)


def test_odoo_keys_neutralised_alike(tmp_path):
    """A category or location whose name could start a formula is one key: the file that creates it
    and every reference to it write it the same way."""
    store = make_store(items=[{"sku": "MUG", "name": "Mug", "category": "@home mug", "unit_cost": 1.0}],
                       locations=[{"location": "-B", "name": "Back", "kind": "stock"}],
                       item_locations=[{"sku": "MUG", "location": "-B", "bin": "=1"}],
                       movements=[mv("2026-01-02", "receive", "MUG", 3, to="-B")], settings={"as_of": "2026-01-31"})
    result = export(store, build(store), "odoo", tmp_path)
    cats = {c["name"] for c in read(file_named(result, "product.category.csv"))[1]}
    [product] = read(file_named(result, "product.template.csv"))[1]
    assert cats == {"'@home mug"} and product["categ_id"] == "All / '@home mug"
    locations = read(file_named(result, "stock.location.csv"))[1]
    paths = {f"{x['location_id']}/{x['name']}" for x in locations}
    [quant] = read(file_named(result, "stock.quant.csv"))[1]
    assert quant["location_id"] in paths and quant["location_id"] == "WH/Stock/'-B/'=1"


def test_odoo_18_types(store_and_ledger, tmp_path):
    result = run(store_and_ledger, tmp_path, "odoo")
    assert result.target_version == "18"
    header, templates = read(file_named(result, "product.template.csv"))
    assert "is_storable" in header
    assert {(t["type"], t["is_storable"]) for t in templates if t["name"]} == {("consu", "1")}


def test_zoho(store_and_ledger, tmp_path, expected):
    result = run(store_and_ledger, tmp_path, "zoho")
    header, items = read(file_named(result, "items.csv"))
    assert header == zoho.ITEM_HEADER
    header, adjustments = read(file_named(result, "inventory_adjustments.csv"))
    assert header == zoho.ADJUSTMENT_HEADER
    where = {"Main": "MAIN", "Shop": "SHOP"}
    rows = [{"sku": i["SKU"], "loc": where[i["Warehouse Name"]], "qty": i["Opening Stock"],
             "cost": i["Opening Stock Value"]} for i in items if i["Opening Stock"]]
    rows += [{"sku": a["SKU"], "loc": where[a["Warehouse Name"]], "qty": a["Quantity Adjusted"],
              "cost": a["Cost Price"]} for a in adjustments]
    assert sums(rows, "sku", "loc", "qty", "cost") == expected
    assert len({i["Item Name"] for i in items}) == len(items)  # Zoho item names must be unique


def test_cin7(store_and_ledger, tmp_path, expected):
    result = run(store_and_ledger, tmp_path, "cin7")
    header, lines = read(file_named(result, "StockAdjustment.csv"))
    assert header == cin7.STOCK_HEADER  # exact names in exact order
    assert read(file_named(result, "Products.csv"))[0] == cin7.PRODUCT_HEADER
    assert cin7.PRODUCT_HEADER[:3] == ["ProductCode", "Name", "Category"]
    assert cin7.PRODUCT_HEADER[-2:] == ["HSCode", "CountryOfOrigin"]
    assert len(set(cin7.PRODUCT_HEADER)) == len(cin7.PRODUCT_HEADER) == 93
    header, suppliers = read(file_named(result, "Suppliers.csv"))
    assert header == cin7.SUPPLIER_HEADER and len(set(header)) == len(header) == 42
    assert header[:6] == ["Name", "Status", "Currency", "PaymentTerm", "TaxRule", "AccountPayable"]
    assert header[-1] == "DimensionAttribute10"
    assert [(x["Name"], x["Status"], x["Email"]) for x in suppliers] == [("Supplier A", "Active", "a@example.com")]
    where = {"Main": "MAIN", "Shop": "SHOP"}
    rows = [{**x, "loc": where[x["Location"]]} for x in lines]
    assert sums(rows, "SKU", "loc", "Quantity", "UnitCost") == expected
    milk = {x["BatchSerialNumber"]: x["ExpiryDate_YYYYMMDD"] for x in lines if x["SKU"] == "MILK"}
    assert milk == {"B1": "20260301", "B2": "20260401"}
    assert {x["Zero/NonZero"] for x in lines} == {"Zero"}
    _, products = read(file_named(result, "Products.csv"))
    assert {p["ProductCode"]: p["CostingMethod"] for p in products}["MILK"] == "FEFO - Batch"


def test_inflow(store_and_ledger, tmp_path, expected):
    result = run(store_and_ledger, tmp_path, "inflow")
    path = file_named(result, "inFlow_StockLevels.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for an Excel-first tool
    header, levels = read(path)
    assert header == ["ProductName", "SKU", "Location", "Sublocation", "Quantity"]
    header, products = read(file_named(result, "inFlow_ProductDetails.csv"))
    assert header[:6] == ["ProductName", "SKU", "Category", "Description", "BarCode", "Uom"]
    cost = {p["SKU"]: p["Cost"] for p in products}
    where = {"Main": "MAIN", "Shop": "SHOP"}
    rows = [{**x, "loc": where[x["Location"]], "cost": cost[x["SKU"]]} for x in levels]
    assert sums(rows, "SKU", "loc", "Quantity", "cost") == expected
    _, vendor = read(file_named(result, "inFlow_VendorProductDetails.csv"))
    assert vendor[0]["LeadTimeDays"] == "10"
    header, bom = read(file_named(result, "inFlow_BOM.csv"))
    assert header == ["FinishedProduct", "FinishedProductSKU", "ComponentProduct", "ComponentProductSKU", "Quantity"]
    assert [(b["FinishedProductSKU"], b["ComponentProductSKU"]) for b in bom] == [("BOX", "TEE-M"), ("BOX", "MILK")]


def test_sortly(store_and_ledger, tmp_path, expected):
    result = run(store_and_ledger, tmp_path, "sortly")
    header, entries = read(file_named(result, "Sortly_Import.csv"))
    assert header[:3] == ["Entry Name", "Variant Details", "Quantity"] and "Primary Folder" in header
    where = {"Main": "MAIN", "Shop": "SHOP"}
    rows = [{**e, "sku": e["Notes"].split(";")[0].removeprefix("SKU: "), "loc": where[e["Primary Folder"]]}
            for e in entries]
    assert sums(rows, "sku", "loc", "Quantity", value_col="Value") == expected


def inventree_rounds(store, ledger, out: Path, **kw):
    """Export to InvenTree round after round as a user does, the server handing out ids in an order
    of its own (here: backwards), until the export says its files are the last.

    Returns the results and the ids (natural key -> id). Every id a file refers to must be one the
    server gave before that round: no file relies on ids being numbered in file order.
    """
    from inv_sheets.exports import inventree
    from inv_sheets.exports.snapshot import take

    records, keys, results = inventree.plan(take(store, ledger)), {}, []
    ids = iter(range(5000, 0, -7))
    for n in range(1, 10):
        result = export(store, ledger, "inventree", out / f"round{n}", keys=dict(keys), **kw)
        known = set(keys.values())
        for f in result.files:
            for row in read(Path(result.out_dir) / f.name)[1]:
                refs = [row[c] for c in ("parent", "category", "default_location", "variant_of", "part", "sub_part",
                                         "supplier", "location") if row.get(c)]
                assert all(int(r) in known for r in refs), (f.name, row)
        ready, waiting = inventree.pending(records, keys)
        assert sum(f.rows for f in result.files) == len(ready)
        for r in reversed(ready):
            keys[r.ident] = next(ids)
        results.append(result)
        if not waiting:
            return results, keys
    raise AssertionError("the InvenTree export never finished")


def inventree_stock(results, keys):
    """The stock files of every round, with their ids read back as SKU and location code."""
    name = {pk: k for k, pk in keys.items()}
    rows = [x for r in results for f in r.files if f.name.endswith("stock_items.csv")
            for x in read(Path(r.out_dir) / f.name)[1]]
    return [{**x, "sku": name[int(x["part"])][1][1], "loc": name[int(x["location"])][1].split("/")[0]} for x in rows]


def test_inventree(store_and_ledger, tmp_path, expected):
    store, ledger = store_and_ledger
    results, keys = inventree_rounds(store, ledger, tmp_path)
    first = [f.name for f in results[0].files]
    assert first == ["01_part_categories.csv", "02_stock_locations.csv", "03_companies.csv"]
    assert "wait for the ids" in (Path(results[0].out_dir) / IMPORT_ORDER).read_text()
    header, _ = read(file_named(results[-1], "stock_items.csv"))
    assert header == ["part", "location", "quantity", "batch", "expiry_date", "purchase_price"]
    assert sums(inventree_stock(results, keys), "sku", "loc", "quantity", "purchase_price") == expected
    parts = [p for r in results for f in r.files if f.name[3:] == "parts.csv"
             for p in read(Path(r.out_dir) / f.name)[1]]
    by_ipn = {p["IPN"]: p for p in parts}
    template = keys[("part", ("name", "Tee"))]
    assert by_ipn["TEE-M"]["variant_of"] == by_ipn["TEE-L"]["variant_of"] == str(template)
    # InvenTree rejects a blank number: the defaults are written instead
    assert all(p["minimum_stock"] != "" and p["default_expiry"] != "" for p in parts)
    assert any(loss.what == "supplier lead times" for loss in results[0].losses)


def test_inventree_unknown_unit_is_blank_and_a_loss(tmp_path):
    store = make_store(items=[{"sku": "KIT", "name": "Kit", "unit": "set", "unit_cost": 1.0},
                              {"sku": "ROPE", "name": "Rope", "unit": "m", "unit_cost": 1.0}],
                       movements=[mv("2026-01-02", "receive", "KIT", 1, to="MAIN")], settings={"as_of": "2026-01-31"})
    results, _ = inventree_rounds(store, build(store), tmp_path)
    parts = {p["IPN"]: p for r in results for f in r.files if f.name[3:] == "parts.csv"
             for p in read(Path(r.out_dir) / f.name)[1]}
    assert parts["KIT"]["units"] == "" and parts["ROPE"]["units"] == "m"
    assert any(x.what == "units InvenTree does not know" and x.count == 1 for r in results for x in r.losses)


def test_inventree_currency_is_written(store_and_ledger, tmp_path):
    store, ledger = store_and_ledger
    results, _ = inventree_rounds(store, ledger, tmp_path, currency="EUR")
    stock = [x for r in results for f in r.files if f.name.endswith("stock_items.csv")
             for x in read(Path(r.out_dir) / f.name)[1]]
    companies = read(file_named(results[0], "companies.csv"))[1]
    assert {x["purchase_price_currency"] for x in stock} == {c["currency"] for c in companies} == {"EUR"}


def test_shopify_sellable_after_buffer(store_and_ledger, tmp_path):
    result = run(store_and_ledger, tmp_path, "shopify")
    header, rows = read(file_named(result, "shopify_inventory.csv"))
    assert header == shopify.HEADER
    published = {(r["SKU"], r["Location"]): r["On hand (new)"] for r in rows}
    # buffer 2 units per SKU, taken first from SHOP (priority 2 ships last)
    assert published == {("TEE-M", "Main"): "10", ("TEE-M", "Shop"): "1", ("TEE-L", "Main"): "2",
                         ("TEE-L", "Shop"): "0", ("MILK", "Main"): "6", ("MILK", "Shop"): "2",
                         ("BOX", "Main"): "0", ("BOX", "Shop"): "0"}
    held = next(x for x in result.losses if x.what.startswith("units held back"))
    assert held.count == 6


def test_formula_injection_neutralised(store_and_ledger, tmp_path):
    result = run(store_and_ledger, tmp_path, "cin7")
    _, products = read(file_named(result, "Products.csv"))
    assert {p["ProductCode"]: p["Name"] for p in products}["MILK"] == "'=Milk"


def test_losses_name_everything_not_carried(store_and_ledger, tmp_path):
    for target in TARGETS:
        result = run(store_and_ledger, tmp_path, target)
        report = (Path(result.out_dir) / LOSSES).read_text()
        for loss in result.losses:
            assert loss.what in report and loss.count > 0
        assert any(x.what.startswith("movement history") for x in result.losses)


def test_refuses_workbook_with_errors(store_and_ledger, tmp_path):
    store, ledger = store_and_ledger
    error = Issue("required-value", "Items", 3, "A", "SKU is required")
    refused = export(store, ledger, "odoo", tmp_path / "x", issues=[error])
    assert refused.refused and refused.errors == [error] and not (tmp_path / "x").exists()
    forced = export(store, ledger, "odoo", tmp_path / "x", issues=[error], force=True)
    assert not forced.refused and forced.files


def test_bad_target_or_version(store_and_ledger, tmp_path):
    store, ledger = store_and_ledger
    with pytest.raises(ValueError):
        export(store, ledger, "sap", tmp_path)
    with pytest.raises(ValueError):
        export(store, ledger, "odoo", tmp_path, target_version="12")
    with pytest.raises(ValueError):
        export(store, ledger, "zoho", tmp_path, target_version="2")


def test_a_folder_holding_other_files_is_refused_untouched(store_and_ledger, tmp_path):
    store, ledger = store_and_ledger
    mine = tmp_path / "docs" / "LOSSES.md"
    mine.parent.mkdir()
    mine.write_text("my notes")
    with pytest.raises(ValueError, match="already holds other files"):
        export(store, ledger, "zoho", mine.parent)
    assert mine.read_text() == "my notes" and [p.name for p in tmp_path.iterdir()] == ["docs"]
    with pytest.raises(ValueError, match="not a folder"):
        export(store, ledger, "zoho", mine)


def test_export_again_into_an_earlier_export_replaces_its_files(store_and_ledger, tmp_path):
    store, ledger = store_and_ledger
    first = export(store, ledger, "odoo", tmp_path / "out")
    (tmp_path / "out" / "keep.txt").write_text("mine")
    second = export(store, ledger, "zoho", tmp_path / "out")
    left = {p.name for p in (tmp_path / "out").iterdir()}
    assert left == {f.name for f in second.files} | {IMPORT_ORDER, LOSSES, "keep.txt"}
    assert not {f.name for f in first.files} - {f.name for f in second.files} & left
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failed_export_leaves_no_half_written_folder(store_and_ledger, tmp_path, monkeypatch):
    store, ledger = store_and_ledger

    def fails(snap, files, version):
        files.csv("first.csv", ["a"], [[1]], purpose="", screen="")
        raise RuntimeError("disk full")

    monkeypatch.setitem(TARGETS, "zoho", TARGETS["zoho"].__class__(**{**TARGETS["zoho"].__dict__, "build": fails}))
    with pytest.raises(RuntimeError):
        export(store, ledger, "zoho", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_negative_stock_is_a_loss_not_an_opening_balance(tmp_path):
    store = make_store(items=[{"sku": "A", "name": "A", "unit_cost": 1.0}],
                       movements=[mv("2026-01-02", "sale", "A", 2, frm="MAIN")], settings={"as_of": "2026-01-31"})
    result = export(store, build(store), "cin7", tmp_path)
    _, items = read(file_named(result, "StockAdjustment.csv"))
    assert items == []
    assert any(x.what == "negative stock positions" and x.count == 1 for x in result.losses)


# Safe cells and paths --------------------------------------------------------------------------
@pytest.mark.parametrize("text,safe", [("=SUM(A1)", "'=SUM(A1)"), ("+1+2", "'+1+2"), ("-A", "'-A"),
                                       ("@cmd", "'@cmd"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("-5", "-5"),
                                       ("-2.5", "-2.5"), ("plain", "plain")])
def test_neutralise(text, safe):
    assert neutralise(text) == safe


@given(st.text())
@settings(max_examples=200)
def test_no_text_cell_can_start_a_formula(text):
    out = neutralise(text)
    if out.startswith(("=", "+", "-", "@", "\t", "\r")):
        float(out)  # only a plain number may keep its sign


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_numbers_stay_numbers(x):
    text = fmt_number(x)
    assert float(text) == pytest.approx(round(x, 6), abs=1e-6)
    assert "," not in text and "e" not in text.lower()


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", "..", "", ".hidden", "c:x.csv"])
def test_paths_cannot_escape(tmp_path, name):
    with pytest.raises(ValueError):
        safe_path(tmp_path, name)


def test_negative_numbers_written_as_numbers(tmp_path):
    files = Files(tmp_path, bom=False)
    files.csv("n.csv", ["qty", "text"], [[-3.5, "-x"]], purpose="", screen="")
    assert (tmp_path / "01_n.csv").read_text().splitlines()[1] == "-3.5,'-x"


# The command ------------------------------------------------------------------------------------
def _workbook(path: Path, bad: bool = False) -> Path:
    from workbooks import make_workbook

    rows = [["Movement ID", "Date", "Type", "SKU", "Qty", "To location"],
            ["M1", "2026-01-02", "receive", "TEE-M", 5, "MAIN"]]
    if bad:
        rows.append(["M2", "2026-01-03", "receive", "NOPE", 5, "MAIN"])
    return make_workbook(path, {"Items": [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4.0]], "Movements": rows,
                                "Settings": [["Key", "Value"], ["as_of", "2026-01-31"]]})


def test_cli_exports_and_json_equals_library(tmp_path):
    from inv_sheets.cli.main import main
    from inv_sheets.exports import export_workbook

    book = _workbook(tmp_path / "store.xlsx")
    out = CliRunner().invoke(main, ["export", str(book), "--to", "shopify", "--output", str(tmp_path / "o"), "--json"])
    assert out.exit_code == 0, out.output
    lib = export_workbook(book, "shopify", tmp_path / "o")
    assert json.loads(out.stdout) == json.loads(json.dumps(lib.to_dict(), default=str))


def test_cli_refuses_errors_unless_forced(tmp_path):
    from inv_sheets.cli.main import main

    book = _workbook(tmp_path / "bad.xlsx", bad=True)
    out = CliRunner().invoke(main, ["export", str(book), "--to", "odoo", "--output", str(tmp_path / "o")])
    assert out.exit_code == 1 and "unknown-reference" in out.stdout
    assert not (tmp_path / "o").exists()
    forced = CliRunner().invoke(main, ["export", str(book), "--to", "odoo", "--output", str(tmp_path / "o"), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "o" / "IMPORT-ORDER.txt").exists()


def test_cli_inventree_first_round_and_server_failures(tmp_path, monkeypatch):
    """Without a server the InvenTree export is the first round and says what waits; an unreachable
    server is one line and exit 3; InvenTree's options on another target are a usage error."""
    from inv_sheets.cli.main import main

    monkeypatch.delenv("INVENTREE_API_HOST", raising=False)
    monkeypatch.delenv("INVENTREE_API_TOKEN", raising=False)
    book = _workbook(tmp_path / "store.xlsx")
    first = CliRunner().invoke(main, ["export", str(book), "--to", "inventree", "-o", str(tmp_path / "r1")])
    assert first.exit_code == 0, first.output
    assert "wait for the ids InvenTree gives" in first.stderr and "stock_items" not in first.stdout
    down = CliRunner().invoke(main, ["export", str(book), "--to", "inventree", "-o", str(tmp_path / "r2"),
                                     "--url", "http://127.0.0.1:9", "--token", "x"])
    assert down.exit_code == 3 and down.stderr.startswith("inv-sheets: cannot connect to InvenTree")
    assert len(down.stderr.strip().splitlines()) == 1 and not (tmp_path / "r2").exists()
    other = CliRunner().invoke(main, ["export", str(book), "--to", "odoo", "--currency", "EUR", "-o", str(tmp_path / "o")])
    assert other.exit_code == 2


def test_cli_bad_version_is_usage_error(tmp_path):
    from inv_sheets.cli.main import main

    book = _workbook(tmp_path / "store.xlsx")
    out = CliRunner().invoke(main, ["export", str(book), "--to", "odoo", "--target-version", "9", "-o", str(tmp_path / "o")])
    assert out.exit_code == 2


# The demo store ----------------------------------------------------------------------------------
def _stock_in_files(target: str, result, where: dict[str, str]):
    """Units and value per (SKU, location code) as the target will read them from the written files."""
    if target == "odoo":
        _, quants = read(file_named(result, "stock.quant.csv"))
        _, tpl = read(file_named(result, "product.template.csv"))
        variants = read(file_named(result, "product.product.csv"))[1] if any(
            f.name.endswith("product.product.csv") for f in result.files) else []
        cost = {t["default_code"]: t["standard_price"] for t in tpl if t["default_code"]}
        cost.update({v["default_code"]: v["standard_price"] for v in variants})
        rows = [{**q, "loc": q["location_id"].split("/")[2], "cost": cost[q["product_id"]]} for q in quants]
        return sums(rows, "product_id", "loc", "inventory_quantity", "cost")
    if target == "zoho":
        _, items = read(file_named(result, "items.csv"))
        rows = [{"sku": i["SKU"], "loc": where[i["Warehouse Name"]], "qty": i["Opening Stock"],
                 "cost": i["Opening Stock Value"]} for i in items if i["Opening Stock"]]
        if any(f.name.endswith("inventory_adjustments.csv") for f in result.files):
            rows += [{"sku": a["SKU"], "loc": where[a["Warehouse Name"]], "qty": a["Quantity Adjusted"],
                      "cost": a["Cost Price"]} for a in read(file_named(result, "inventory_adjustments.csv"))[1]]
        return sums(rows, "sku", "loc", "qty", "cost")
    if target == "cin7":
        rows = [{**x, "loc": where[x["Location"]]} for x in read(file_named(result, "StockAdjustment.csv"))[1]]
        return sums(rows, "SKU", "loc", "Quantity", "UnitCost")
    if target == "inflow":
        cost = {p["SKU"]: p["Cost"] for p in read(file_named(result, "inFlow_ProductDetails.csv"))[1]}
        rows = [{**x, "loc": where[x["Location"]], "cost": cost[x["SKU"]]}
                for x in read(file_named(result, "inFlow_StockLevels.csv"))[1]]
        return sums(rows, "SKU", "loc", "Quantity", "cost")
    if target == "sortly":
        rows = [{**e, "sku": e["Notes"].split(";")[0].removeprefix("SKU: "), "loc": where[e["Primary Folder"]]}
                for e in read(file_named(result, "Sortly_Import.csv"))[1]]
        return sums(rows, "sku", "loc", "Quantity", value_col="Value")
    if target == "inventree":
        return sums(inventree_stock(*result), "sku", "loc", "quantity", "purchase_price")
    raise KeyError(target)


DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo-store.xlsx"


@pytest.mark.slow
@pytest.mark.skipif(not DEMO.exists(), reason="samples/demo-store.xlsx is not built")
@pytest.mark.parametrize("target", [t for t in TARGETS if t != "shopify"])
def test_demo_store_stock_survives_every_target(tmp_path, target):
    from inv_sheets.exports.snapshot import take
    from inv_sheets.rules.validate import load, parse

    store, _ = parse(load(DEMO))
    ledger = build(store)
    # force: the export must carry the stock whatever the validator thinks of the demo's headers
    if target == "inventree":  # files come in rounds, each naming what the server already holds
        results, keys = inventree_rounds(store, ledger, tmp_path / target, force=True)
        result = results
    else:  # Odoo 19: the variants' costs are in product.product (import_attribute_values)
        result = export(store, ledger, target, tmp_path / target, force=True,
                        target_version="19" if target == "odoo" else None)
    snap = take(store, ledger)
    where = {name: code for code, name in snap.locations["name"].items()}
    units, value = _stock_in_files(target, (result, keys) if target == "inventree" else result, where)
    s = snap.stock.groupby(["sku", "location"])[["qty", "value"]].sum()
    assert units == pytest.approx({k: v for k, v in s["qty"].items()})
    assert value == pytest.approx({k: round(v, 6) for k, v in s["value"].items()})
    assert float(snap.stock["qty"].sum()) == pytest.approx(float(ledger.stock["qty"].clip(lower=0).sum()))
    lost = {x.what for x in (results[0] if target == "inventree" else result).losses}
    assert ("negative stock positions" in lost) == (len(snap.negative) > 0)


def test_an_unreachable_inventree_is_one_line_from_the_command_line_too(tmp_path):
    """As a user runs it (no test harness catching the client's log): one line, exit 3."""
    import subprocess
    import sys

    book = _workbook(tmp_path / "store.xlsx")
    done = subprocess.run([sys.executable, "-m", "inv_sheets", "push", str(book), "--to", "inventree",
                           "--url", "http://127.0.0.1:9", "--token", "x"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "cannot connect to InvenTree" in done.stderr
