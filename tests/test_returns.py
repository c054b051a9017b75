"""Returns: reasons and their shares, return rates over the named window, and aged units in the hold."""

from __future__ import annotations

import pandas as pd
import pytest
from storefactory import items, make_store, mv

from inv_sheets.features.channels.returns import RATE_LABEL, hold_ages, returns_sheets, window
from inv_sheets.ledger.postings import build

AS_OF = "2026-03-31"
LOCATIONS = [{"location": "W1", "kind": "stock"}, {"location": "RET", "kind": "returns_hold"},
             {"location": "DMG", "kind": "damaged"}]


def make(moves, **settings):
    store = make_store(items=items("A", "B", "C"), locations=LOCATIONS, movements=moves,
                       settings={"as_of": AS_OF, **settings})
    return store, build(store)


def ret(date, sku, qty, reason):
    return mv(date, "return", sku, qty, to="RET", reason=reason)


def sale(date, sku, qty):
    return mv(date, "sale", sku, qty, frm="W1")


BASE = [mv("2025-11-01", "receive", s, 100, to="W1") for s in "ABC"]


def test_window_is_demand_days_ending_on_as_of():
    store, ledger = make(BASE, demand_days=30)
    assert window(store, ledger) == (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-31"))


def test_reasons_shares_top_skus_and_rates():
    moves = BASE + [
        sale("2026-03-01", "A", 10), sale("2026-03-10", "A", 10), sale("2026-03-10", "B", 4),
        ret("2026-03-05", "A", 3, "Too small"), ret("2026-03-06", "A", 1, " too small"), ret("2026-03-07", "B", 2, "damaged"),
        ret("2026-03-08", "C", 2, None),
        ret("2025-12-01", "A", 50, "old news"),  # outside the 90-day window
    ]
    store, ledger = make(moves)
    frame = returns_sheets(store, ledger)[0].frame()
    overall = frame[frame["reason"].notna() & frame["sku"].isna()]
    assert list(zip(overall["reason"], overall["units"], overall["share"])) == [
        ("too small", 4.0, 0.5), ("(no reason given)", 2.0, 0.25), ("damaged", 2.0, 0.25)]
    per_sku = frame[frame["reason"].notna() & frame["sku"].notna() & (frame["reason"] != RATE_LABEL)]
    assert list(zip(per_sku["sku"], per_sku["reason"], per_sku["units"], per_sku["share"])) == [
        ("A", "too small", 4.0, 1.0), ("B", "damaged", 2.0, 1.0), ("C", "(no reason given)", 2.0, 1.0)]
    rates = frame[frame["reason"] == RATE_LABEL]
    # A: 4 returned / 20 sold; B: 2 / 4; C: never sold, so no rate.
    assert list(rates["sku"]) == ["B", "A", "C"]
    assert rates["return_rate"].tolist()[:2] == [0.5, 0.2] and pd.isna(rates["return_rate"].iloc[2])
    assert rates["sold"].tolist() == [4, 20, 0]
    assert rates["units"].tolist() == [2.0, 4.0, 2.0]


def test_units_waiting_are_aged_first_in_first_out():
    moves = BASE + [ret("2026-03-01", "A", 2, "x"), ret("2026-03-21", "A", 3, "y"),
                    mv("2026-03-25", "restock", "A", 3, frm="RET", to="W1"),
                    ret("2026-03-30", "B", 1, "z"), mv("2026-03-30", "damage", "B", 1, frm="RET", reason="torn")]
    store, ledger = make(moves)
    ages = hold_ages(ledger)
    # The 3 restocked were the 2 oldest and 1 of the 21 March ones: 2 still wait, 10 days.
    assert ages.to_dict("records") == [{"sku": "A", "location": "RET", "qty": 2.0, "days_waiting": 10}]
    frame = returns_sheets(store, ledger)[0].frame()
    waiting = frame[frame["location"].notna()]
    assert waiting[["sku", "qty", "days_waiting"]].values.tolist() == [["A", 2.0, 10]]


def test_several_arrival_days_oldest_first():
    moves = BASE + [ret("2026-02-01", "A", 1, "x"), ret("2026-03-01", "A", 2, "x"), ret("2026-03-01", "C", 1, "x")]
    _store, ledger = make(moves)
    assert hold_ages(ledger)[["sku", "qty", "days_waiting"]].values.tolist() == [["A", 1.0, 58], ["A", 2.0, 30],
                                                                                 ["C", 1.0, 30]]


def test_no_returns_no_sheet():
    store, ledger = make(BASE + [sale("2026-03-01", "A", 1)])
    assert returns_sheets(store, ledger) == []


def test_old_returns_still_give_a_sheet_with_no_rows_in_window():
    store, ledger = make(BASE + [ret("2025-11-05", "A", 1, "x"), mv("2025-11-06", "restock", "A", 1, frm="RET", to="W1")])
    (sheet,) = returns_sheets(store, ledger)
    assert sheet.frame().empty
    assert any("2026-01-01 to 2026-03-31" in text for _, text in sheet.notes)


@pytest.mark.parametrize("demand_days", [1, 7])
def test_window_length(demand_days):
    store, ledger = make(BASE, demand_days=demand_days)
    start, end = window(store, ledger)
    assert (end - start).days + 1 == demand_days


def test_each_row_names_its_block_in_the_first_column():
    moves = BASE + [sale("2026-03-01", "A", 10), ret("2026-03-05", "A", 3, "too small"), ret("2026-03-07", "B", 2, None)]
    store, ledger = make(moves)
    (sheet,) = returns_sheets(store, ledger)
    frame = sheet.frame()
    assert list(frame.columns)[0] == "view"
    assert list(dict.fromkeys(frame["view"])) == ["reasons", "reasons by SKU", "return rate", "in the hold"]
    by_view = {view: rows for view, rows in frame.groupby("view", sort=False)}
    assert by_view["reasons"]["sku"].isna().all() and by_view["reasons"]["reason"].notna().all()
    assert (by_view["return rate"]["reason"] == RATE_LABEL).all()
    assert by_view["in the hold"]["location"].notna().all() and by_view["in the hold"]["reason"].isna().all()
