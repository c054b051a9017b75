"""The Setup Checklist: each step done or to do, with what is missing and where."""

from __future__ import annotations

import pandas as pd
import pytest
from storefactory import make_store, mv

from inv_sheets.contract.issues import Issue
from inv_sheets.features import checklist
from inv_sheets.ledger.postings import build

AS_OF = "2026-03-29"


def messy_store():
    return make_store(
        items=[{"sku": "A", "name": "Tee", "product": "Tee", "variant": "M / Blue", "unit_cost": 2.0, "supplier": "S1"},
               {"sku": "B", "name": "Tee", "product": "Tee", "variant": "Large-Red", "unit_cost": 5.0},
               {"sku": "B2", "name": "Tee", "product": "Tee", "variant": "Large-Red", "unit_cost": 5.0},
               {"sku": "C X", "name": "Gift set", "unit_cost": 5.0}],
        suppliers=[{"supplier": "S1"}],
        locations=[{"location": "MAIN", "kind": "stock"}, {"location": "SHOP", "kind": "stock"},
                   {"location": "HOLD", "kind": "returns_hold"}],
        movements=[mv("2026-03-01", "receive", "A", 10, to="MAIN"), mv("2026-03-01", "receive", "B", 4, to="SHOP"),
                   mv("2026-03-17", "sale", "A", 4, frm="MAIN", channel="WEB"),
                   mv("2026-03-24", "sale", "A", 2, frm="MAIN", channel="SHOP"),
                   mv("2026-03-25", "return", "A", 1, to="MAIN", reason="size")],
        channels=[{"channel": "WEB", "buffer_units": 2}, {"channel": "SHOP"}],
        settings={"as_of": AS_OF, "count_every_days_a": 7, "count_every_days_b": 7, "count_every_days_c": 7})


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    store = messy_store()
    return checklist.checklist(store, build(store)).set_index("step")


def row(frame: pd.DataFrame, start: str) -> pd.Series:
    [match] = [s for s in frame.index if start in s]
    return frame.loc[match]


def test_every_step_of_the_guide_is_listed(messy):
    assert len(messy) == 13
    assert set(messy["status"]) <= {"done", "to do"}


@pytest.mark.parametrize("step, missing", [
    ("Standardise SKUs", "1 SKU: C X"),
    ("duplicate", "2 SKUs: B, B2"),
    ("bin", "2 SKU-locations: A at MAIN, B at SHOP"),
    ("adjust stock", "no adjusters on the Settings sheet"),
    ("cycle count", "2 SKU-locations overdue for a count: A at MAIN, B at SHOP"),
    ("lead times", "1 supplier: S1"),
    ("channel buffers", "1 channel without a buffer: SHOP"),
    ("bundle components", "C X"),
    ("returns", "1 return went straight to MAIN (first on Movements row 6)"),
])
def test_a_step_to_do_says_what_is_missing(messy, step, missing):
    r = row(messy, step)
    assert r["status"] == "to do"
    assert missing in r["missing"]


def test_variants_written_two_ways_are_named(messy):
    r = row(messy, "variants")
    assert r["status"] == "to do" and r["missing"] == "1 SKU: A"  # "M / Blue" beside two "Large-Red"


def test_a_store_with_one_location_does_not_need_location_tracking():
    store = make_store(items=[{"sku": "A", "name": "Tee"}], movements=[mv("2026-03-01", "receive", "A", 1)],
                       settings={"as_of": AS_OF, "default_location": "MAIN"})
    r = row(checklist.checklist(store, build(store)).set_index("step"), "location")
    assert r["status"] == "done" and "not needed" in r["missing"]


def test_a_tidy_store_is_done_throughout():
    store = make_store(
        items=[{"sku": "TEE-M", "name": "Tee", "product": "Tee", "variant": "M", "supplier": "S1", "unit_cost": 2.0,
                "reorder_point": 5, "safety_stock": 2},
               {"sku": "KIT-1", "name": "Starter kit"}],
        bundles=[{"bundle_sku": "KIT-1", "component_sku": "TEE-M", "qty": 1}],
        suppliers=[{"supplier": "S1", "lead_time_days": 10}],
        locations=[{"location": "MAIN", "kind": "stock"}, {"location": "HOLD", "kind": "returns_hold"}],
        item_locations=[{"sku": "TEE-M", "location": "MAIN", "bin": "A-1"}],
        movements=[mv("2026-03-01", "receive", "TEE-M", 10, to="MAIN"), mv("2026-03-20", "sale", "TEE-M", 2, frm="MAIN"),
                   mv("2026-03-21", "return", "TEE-M", 1, to="HOLD", reason="size")],
        counts=[{"date": "2026-03-29", "location": "MAIN", "sku": "TEE-M", "counted_qty": 8}],
        settings={"as_of": AS_OF, "adjusters": "ann"})
    frame = checklist.checklist(store, build(store))
    assert frame["status"].eq("done").all(), frame[frame["status"] != "done"].to_string()


def test_findings_the_validator_left_out_still_count():
    store = messy_store()
    dup = Issue("duplicate-key", "Items", 9, "A", "SKU 'Z' is already on row 2", value="Z", field="sku")
    r = row(checklist.checklist(store, build(store), [dup]).set_index("step"), "duplicate")
    assert "3 SKUs: B, B2, Z" == r["missing"]


def test_many_missing_things_are_summed_up_by_location():
    skus = [f"S{i}" for i in range(8)]
    store = make_store(items=[{"sku": s, "name": s} for s in skus],
                       movements=[mv("2026-03-01", "receive", s, 1, to="MAIN" if i < 5 else "SHOP") for i, s in enumerate(skus)],
                       settings={"as_of": AS_OF})
    r = row(checklist.checklist(store, build(store)).set_index("step"), "bin")
    assert r["missing"] == "8 SKU-locations: MAIN 5, SHOP 3"


def test_the_sheet_colours_the_status():
    store = messy_store()
    [data] = checklist.checklist_sheets(store, build(store))
    assert data.name == "Setup Checklist" and data.fills["status"] == {"done": "green", "to do": "amber"}
