"""Daily demand: sales only, stock-out days censored, promotions apart, short history said; on real data too."""

from __future__ import annotations

import statistics
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storefactory import make_store, mv

from inv_sheets.features.replenish import demand
from inv_sheets.ledger import postings as ledger_mod

REAL = Path(__file__).parent / "data" / "online_retail_daily_3sku.csv"
SKU_ROW = pd.MultiIndex.from_tuples([("A", "")], names=["sku", "location"])


def demand_of(store, rows=SKU_ROW) -> pd.DataFrame:
    return demand.demand(store, ledger_mod.build(store), rows)


def test_daily_stats_mean_and_sample_sd_over_observed_days():
    days = pd.date_range("2026-01-01", periods=5)
    sold = pd.DataFrame({"x": [4.0, 0.0, 8.0, 100.0, 6.0]}, index=days)
    observed = pd.DataFrame({"x": [True, True, True, False, True]}, index=days)
    got = demand.daily_stats(sold, observed).loc["x"]
    assert got.daily_demand == 4.5 and got.days_observed == 4
    assert got.demand_sd == pytest.approx(statistics.stdev([4, 0, 8, 6]))


def test_returns_do_not_cancel_demand_and_bundles_count_for_their_components():
    moves = [mv("2026-12-01", "receive", "A", 100, to="MAIN"),
             mv("2026-12-02", "sale", "A", 6, frm="MAIN"),
             mv("2026-12-03", "return", "A", 6, to="MAIN"),
             mv("2026-12-04", "sale", "KIT", 2, frm="MAIN")]
    store = make_store(items=[{"sku": "A", "name": "A"}, {"sku": "KIT", "name": "Kit"}], movements=moves,
                       bundles=[{"bundle_sku": "KIT", "component_sku": "A", "qty": 3}],
                       settings={"as_of": "2026-12-10", "demand_days": 10})
    got = demand_of(store).loc[("A", "")]
    # 10 days, 1 to 10 December; 1 December opens empty but ends with stock, so it counts
    assert got.baseline_units == 12 and got.days_observed == 10 and got.daily_demand == pytest.approx(1.2)


def test_stock_out_days_are_censored_not_zero_demand():
    moves = [mv("2026-12-01", "receive", "A", 20, to="MAIN")]
    moves += [mv(f"2026-12-{d:02d}", "sale", "A", 5, frm="MAIN") for d in range(1, 5)]  # empty after the 4th
    moves += [mv("2026-12-09", "receive", "A", 50, to="MAIN")]
    moves += [mv(f"2026-12-{d:02d}", "sale", "A", 5, frm="MAIN") for d in range(9, 11)]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                       settings={"as_of": "2026-12-10", "demand_days": 10})
    got = demand_of(store).loc[("A", "")]
    assert got.days_stockout == 4  # 5 to 8 December began and ended with nothing
    assert got.days_observed == 6 and got.daily_demand == 5 and got.demand_sd == 0


def test_a_negative_book_is_not_a_stock_out():
    moves = [mv(f"2026-12-{d:02d}", "sale", "A", 3, frm="MAIN") for d in (2, 4, 6)]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                       settings={"as_of": "2026-12-10", "demand_days": 10})
    got = demand_of(store).loc[("A", "")]
    assert got.days_stockout == 1  # only 1 December, before any sale, was truly empty
    assert got.daily_demand == pytest.approx(1.0)  # 9 units over 9 days, not 3 a day


def test_promotion_sales_are_left_out_and_reported():
    moves = [mv("2026-12-01", "receive", "A", 500, to="MAIN")]
    moves += [mv(f"2026-12-{d:02d}", "sale", "A", 30 if 5 <= d <= 6 else 4, frm="MAIN") for d in range(1, 11)]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                       promotions=[{"name": "Winter", "start": "2026-12-05", "end": "2026-12-06", "sku": "A"}],
                       settings={"as_of": "2026-12-10", "demand_days": 10})
    got = demand_of(store).loc[("A", "")]
    assert (got.daily_demand, got.demand_sd, got.days_observed) == (4, 0, 8)
    assert (got.promo_units, got.days_promo) == (60, 2)


def test_a_promotion_on_one_channel_leaves_only_that_channel_out():
    moves = [mv("2026-12-01", "receive", "A", 500, to="MAIN")]
    moves += [mv(f"2026-12-{d:02d}", "sale", "A", 2, frm="MAIN", channel="WEB") for d in range(1, 11)]
    moves += [mv(f"2026-12-{d:02d}", "sale", "A", 2, frm="MAIN", channel="SHOP") for d in range(1, 11)]
    moves += [mv("2026-12-05", "sale", "A", 20, frm="MAIN", channel="WEB")]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                       channels=[{"channel": "WEB"}, {"channel": "SHOP"}],
                       promotions=[{"start": "2026-12-05", "end": "2026-12-05", "channel": "WEB"}],
                       settings={"as_of": "2026-12-10", "demand_days": 10})
    got = demand_of(store).loc[("A", "")]
    assert got.promo_units == 22 and got.days_observed == 10
    assert got.baseline_units == 38  # 9 days x 4 + the shop's 2 on the promo day


def test_short_history_is_flagged():
    moves = [mv("2026-12-20", "receive", "A", 50, to="MAIN"), mv("2026-12-22", "sale", "A", 5, frm="MAIN")]
    store = make_store(items=[{"sku": "A", "name": "A"}], movements=moves, settings={"as_of": "2026-12-31"})
    got = demand_of(store).loc[("A", "")]
    assert got.days_observed == 12 and bool(got.short_history) and got.daily_demand == pytest.approx(5 / 12)


# Real demand ------------------------------------------------------------------------------------------
def real_series(code: str) -> pd.Series:
    frame = pd.read_csv(REAL, parse_dates=["date"]).set_index("date")
    return frame[code].astype(float)


def store_from(series: pd.Series, *, opening: float, restock: dict | None = None, **extra):
    """A store that sold the series (one sale a day) from one location, after an opening receipt."""
    moves = [mv(f"{series.index[0] - pd.Timedelta(days=1):%Y-%m-%d}", "receive", "A", opening, to="MAIN")]
    for day, units in (restock or {}).items():
        moves.append(mv(day, "receive", "A", units, to="MAIN"))
    moves += [mv(f"{d:%Y-%m-%d}", "sale", "A", q, frm="MAIN") for d, q in series.items() if q > 0]
    return make_store(items=[{"sku": "A", "name": "A"}], movements=moves,
                      settings={"as_of": f"{series.index[-1]:%Y-%m-%d}", "demand_days": 90}, **extra)


@pytest.mark.parametrize("code", ["85123A", "22423", "47566"])
def test_real_shop_demand_matches_a_direct_computation(code):
    series = real_series(code)
    got = demand_of(store_from(series, opening=series.sum() + 1)).loc[("A", "")]
    last90 = series.iloc[-90:].tolist()  # the shop's closed Saturdays are real zero-demand days here
    assert got.days_observed == 90 and got.days_stockout == 0
    assert got.daily_demand == pytest.approx(statistics.mean(last90))
    assert got.demand_sd == pytest.approx(statistics.stdev(last90))


def test_real_shop_demand_with_a_stock_out_is_censored():
    series = real_series("85123A")
    window = series.iloc[-90:]
    empty = window.index[30:40]  # ten days with nothing on the shelf: those sales could not happen
    sold = series.drop(empty)
    opening = series.loc[:empty[0] - pd.Timedelta(days=1)].sum()  # runs out the evening before
    restock = {f"{empty[-1] + pd.Timedelta(days=1):%Y-%m-%d}": sold.sum()}
    store = store_from(sold.reindex(series.index, fill_value=0.0), opening=opening, restock=restock)
    got = demand_of(store).loc[("A", "")]
    kept = window.drop(empty).tolist()
    assert got.days_stockout == 10 and got.days_observed == 80
    assert got.daily_demand == pytest.approx(statistics.mean(kept))
    assert got.demand_sd == pytest.approx(statistics.stdev(kept))
    zero_filled = statistics.mean(window.drop(empty).tolist() + [0.0] * 10)
    assert got.daily_demand > zero_filled  # treating the empty shelf as no demand would under-order


def test_real_shop_promotion_week_is_reported_apart():
    series = real_series("22423")
    week = series.index[-20:-13]
    store = store_from(series, opening=series.sum() + 1,
                       promotions=[{"name": "Cake week", "start": f"{week[0]:%Y-%m-%d}", "end": f"{week[-1]:%Y-%m-%d}"}])
    got = demand_of(store).loc[("A", "")]
    window = series.iloc[-90:]
    assert got.days_observed == 83 and got.days_promo == 7
    assert got.promo_units == series.loc[week].sum()
    assert got.daily_demand == pytest.approx(statistics.mean(window.drop(week).tolist()))


PLACES = [{"location": "MAIN", "kind": "stock"}, {"location": "SHOP", "kind": "stock"},
          {"location": "BACK", "kind": "stock", "sellable": "no"}]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), st.sampled_from(["receive", "sale", "transfer"]), st.sampled_from("ABC"),
                          st.sampled_from(["MAIN", "SHOP", "BACK"]), st.integers(1, 9)), max_size=30))
def test_daily_demand_of_pairs_is_demands_own_figure(moves):
    """Worked out for the selling pairs alone, the figure is demand()'s for every pair."""
    rows = []
    for day, kind, sku, loc, qty in moves:
        when = f"2026-12-{day:02d}"
        if kind == "receive":
            rows.append(mv(when, kind, sku, qty, to=loc))
        elif kind == "sale":
            rows.append(mv(when, kind, sku, qty, frm=loc))
        else:
            rows.append(mv(when, kind, sku, qty, frm=loc, to="BACK" if loc != "BACK" else "MAIN"))
    store = make_store(items=[{"sku": s, "name": s} for s in "ABC"], locations=PLACES, movements=rows,
                       settings={"as_of": "2026-12-20", "demand_days": 14})
    led = ledger_mod.build(store)
    pairs = pd.MultiIndex.from_tuples([(s, loc) for s in "ABC" for loc in ("MAIN", "SHOP", "BACK")],
                                      names=["sku", "location"])
    want = demand.demand(store, led, pairs)["daily_demand"].reindex(pairs)
    pd.testing.assert_series_equal(demand.daily_demand(store, led, pairs), want, check_names=False)
    with pytest.raises(ValueError):
        demand.daily_demand(store, led, SKU_ROW)
