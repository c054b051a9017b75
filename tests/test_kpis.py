"""Weekly KPIs on a small hand-computed ledger, and the KPIs sheet's chart in a real file."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pandas as pd
import pytest
from storefactory import make_store, mv
from workbooks import MINIMAL, make_workbook

from inv_sheets.features import kpis
from inv_sheets.io.write import write_sheets
from inv_sheets.ledger.postings import build

ABC = pd.Series({"A": "A", "B": "C"})


def two_weeks_store():
    """Weeks of 16-22 and 23-29 March 2026 (as of the 29th). A costs 2, B costs 5.

    Week 1: sell 4 A; counts: A right (6), B 3 against a book of 4 (out).
    Week 2: sell 6 A (A at 0 for the 24th), receive 10 A, sell 4 B (B at -1 from the 26th);
            count A right (10).
    """
    return make_store(
        items=[{"sku": "A", "name": "a", "unit_cost": 2.0}, {"sku": "B", "name": "b", "unit_cost": 5.0}],
        movements=[mv("2026-03-01", "receive", "A", 10, to="MAIN"), mv("2026-03-01", "receive", "B", 4, to="MAIN"),
                   mv("2026-03-17", "sale", "A", 4, frm="MAIN"), mv("2026-03-24", "sale", "A", 6, frm="MAIN"),
                   mv("2026-03-25", "receive", "A", 10, to="MAIN"), mv("2026-03-26", "sale", "B", 4, frm="MAIN")],
        counts=[{"date": "2026-03-18", "location": "MAIN", "sku": "A", "counted_qty": 6},
                {"date": "2026-03-20", "location": "MAIN", "sku": "B", "counted_qty": 3},
                {"date": "2026-03-27", "location": "MAIN", "sku": "A", "counted_qty": 10}],
        settings={"as_of": "2026-03-29"})


@pytest.fixture(scope="module")
def weeks() -> pd.DataFrame:
    store = two_weeks_store()
    return kpis.weekly_kpis(store, build(store), ABC, weeks=2).set_index(pd.Index([1, 2]))


def test_weeks_are_seven_days_ending_on_the_as_of_day(weeks):
    assert weeks["week"].tolist() == [pd.Timestamp("2026-03-16"), pd.Timestamp("2026-03-23")]


def test_a_day_with_only_expired_stock_is_a_stockout_day():
    """C's only batch expires on the 25th: on hand after that, but not for sale (as demand counts it)."""
    store = make_store(items=[{"sku": "C", "name": "c", "tracking": "expiry"}],
                       movements=[mv("2026-03-01", "receive", "C", 5, to="MAIN", batch="L1", expiry="2026-03-25")],
                       settings={"as_of": "2026-03-29"})
    weeks = kpis.weekly_kpis(store, build(store), pd.Series({"C": "A"}), weeks=2)
    assert weeks["sku_days"].tolist() == [7, 7]
    assert weeks["stockout_days"].tolist() == [0, 4]  # the 26th to the 29th


def test_inventory_accuracy_is_the_share_of_counts_within_tolerance(weeks):
    assert weeks["counted"].tolist() == [2, 1]
    assert weeks["inventory_accuracy"].tolist() == [0.5, 1.0]


def test_stockout_rate_is_the_share_of_active_sku_days_with_nothing_on_hand(weeks):
    # week 2: A empty at the end of the 24th (1 day), B empty from the 26th (4 days); 2 SKUs x 7 days
    assert weeks["sku_days"].tolist() == [14, 14]
    assert weeks["stockout_days"].tolist() == [0, 5]
    assert weeks.loc[2, "stockout_rate"] == pytest.approx(5 / 14, abs=1e-4)


def test_turnover_is_annualised_cogs_over_average_inventory_at_cost(weeks):
    # week 1: start 10x2 + 4x5 = 40, end 6x2 + 3x5 = 27, COGS 4x2 = 8
    # week 2: start 27, end 10x2 + B below zero (counts 0) = 20, COGS 6x2 + 4x5 = 32
    assert weeks["inventory_start"].tolist() == [40, 27]
    assert weeks["inventory_end"].tolist() == [27, 20]
    assert weeks["cogs"].tolist() == [8, 32]
    assert weeks.loc[1, "turnover"] == pytest.approx(8 * 365 / 7 / 33.5, abs=0.01)
    assert weeks.loc[2, "turnover"] == pytest.approx(32 * 365 / 7 / 23.5, abs=0.01)


def test_days_on_hand_is_average_inventory_over_daily_cogs(weeks):
    assert weeks["days_on_hand"].tolist() == [pytest.approx(33.5 * 7 / 8, abs=0.05), pytest.approx(23.5 * 7 / 32, abs=0.05)]


def test_sell_through_is_sold_over_sold_plus_on_hand_at_the_end(weeks):
    assert weeks.loc[1, "sell_through"] == pytest.approx(4 / (4 + 9), abs=1e-4)
    assert weeks.loc[2, "sell_through"] == pytest.approx(10 / (10 + 10), abs=1e-4)


def test_weeks_before_any_data_are_blank_not_zero():
    store = two_weeks_store()
    early = kpis.weekly_kpis(store, build(store), ABC).iloc[0]
    assert pd.isna(early["inventory_accuracy"]) and pd.isna(early["stockout_rate"]) and pd.isna(early["days_on_hand"])


def test_the_sheet_has_twelve_weeks_definitions_and_a_chart():
    store = two_weeks_store()
    [data] = kpis.kpi_sheets(store, build(store))
    assert data.name == "KPIs" and len(data.rows) == kpis.WEEKS >= 12
    terms = [term for term, _ in data.notes]
    for kpi in ("Inventory accuracy", "Stockout rate", "Turnover", "Days on hand", "Sell-through"):
        assert kpi in terms
    assert data.chart.x == "week" and set(data.chart.series) <= set(data.output.column_names())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The KPIs sheet written twice into a workbook, as two refreshes would."""
    folder = tmp_path_factory.mktemp("kpis")
    book = make_workbook(folder / "store.xlsx", MINIMAL)
    store = two_weeks_store()
    sheets = kpis.kpi_sheets(store, build(store))
    out = folder / "refreshed.xlsx"
    write_sheets(book, sheets, output=out)
    write_sheets(out, sheets)
    return out


def test_the_chart_part_is_wired_to_the_kpi_cells(written):
    with zipfile.ZipFile(written) as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert len(charts) == 1  # a second refresh replaces it, never adds one
        xml = z.read(charts[0]).decode()
    assert "KPIs!$A$2:$A$13" in xml  # the weeks
    assert "KPIs!$B$2:$B$13" in xml  # inventory accuracy


def test_libreoffice_renders_the_kpis_sheet(written, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    run = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(written)],
                         capture_output=True, timeout=180)
    assert run.returncode == 0, run.stderr
    pdf = (tmp_path / "refreshed.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
