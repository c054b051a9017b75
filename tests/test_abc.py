"""ABC classes by 12-month consumption value, the boundary rule, and the review calendar."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from storefactory import make_store, mv

from inv_sheets.features.replenish import abc
from inv_sheets.ledger import postings as ledger_mod


def test_boundary_sku_joins_the_class_it_completes():
    value = pd.Series({"W": 70.0, "X": 20.0, "Y": 6.0, "Z": 4.0})
    # shares before each SKU: 0, 0.70, 0.90, 0.96 -> X takes A from 70 % past 80 %: it is an A
    assert abc.classify(value).to_dict() == {"W": "A", "X": "A", "Y": "B", "Z": "C"}


def test_a_sku_starting_exactly_at_a_boundary_belongs_to_the_next_class():
    value = pd.Series({"W": 50.0, "X": 30.0, "Y": 15.0, "Z": 5.0})  # before: 0, .5, .8, .95
    assert abc.classify(value).to_dict() == {"W": "A", "X": "A", "Y": "B", "Z": "C"}


def test_lone_seller_is_an_a_and_no_value_is_a_c():
    assert abc.classify(pd.Series({"A": 5.0, "B": 0.0, "C": 0.0})).to_dict() == {"A": "A", "B": "C", "C": "C"}
    assert set(abc.classify(pd.Series({"A": 0.0, "B": 0.0}))) == {"C"}


@given(st.dictionaries(st.text("ABCDEFGH", min_size=1, max_size=3), st.floats(0, 1e6), min_size=1, max_size=30))
def test_classes_follow_value_rank(values):
    value = pd.Series(values, dtype=float)
    cls = abc.classify(value)
    rank = {"A": 0, "B": 1, "C": 2}
    ordered = value.sort_values(ascending=False, kind="stable")
    # a higher value never gets a worse class
    for hi, lo in zip(ordered.index[:-1], ordered.index[1:]):
        if value[hi] > value[lo]:
            assert rank[cls[hi]] <= rank[cls[lo]]
    # the A class never holds less than abc_a of the value (its boundary SKU completes it)
    total = value.sum()
    if total > 0:
        assert value[cls == "A"].sum() >= 0.8 * total - 1e-6 * total


def test_abc_classes_from_the_ledger_use_a_year_of_sales_at_cost():
    moves = [mv("2025-06-01", "receive", s, 1000, to="MAIN", unit_cost=c) for s, c in (("A", 1.0), ("B", 1.0), ("C", 1.0))]
    moves += [mv("2025-06-02", "sale", "C", 900, frm="MAIN"),  # more than a year before as_of: not counted
              mv("2026-03-01", "sale", "A", 100, frm="MAIN"), mv("2026-03-01", "sale", "B", 10, frm="MAIN"),
              mv("2026-03-02", "sale", "C", 10, frm="MAIN")]
    store = make_store(items=[{"sku": "A", "name": "A", "unit_cost": 5.0}, {"sku": "B", "name": "B"},
                              {"sku": "C", "name": "C", "unit_cost": 4.0}],
                       movements=moves, settings={"as_of": "2026-06-30"})
    value = abc.consumption_value(store, ledger_mod.build(store))
    assert value["value"].to_dict() == {"A": 500.0, "B": 10.0, "C": 40.0}  # B's cost from its receipt
    assert abc.abc_classes(store, ledger_mod.build(store)).to_dict() == {"A": "A", "B": "C", "C": "B"}


def test_next_review_is_on_a_fixed_calendar():
    every = pd.Series({"A": 7, "B": 14, "C": 30})
    monday = pd.Timestamp("2026-12-28")
    got = abc.next_review(monday, every)
    assert got["A"] == monday  # every Monday
    assert (got - monday).dt.days.between(0, every - 1).all()
    assert ((got - abc.REVIEW_EPOCH).dt.days % every == 0).all()
    assert abc.next_review(monday + pd.Timedelta(days=1), every)["A"] == monday + pd.Timedelta(days=7)
