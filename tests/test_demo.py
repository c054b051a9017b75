"""The bundled demo store: built fresh, read back, held to what it promises to show, and clean."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from inv_sheets.contract.schema import CODE, MOVEMENT_TYPE, MOVEMENT_TYPES, SHEET, SHEETS

pytestmark = pytest.mark.slow  # builds a year of trading (a few seconds)

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "samples" / "demo-store.xlsx"


def load_builder():
    spec = importlib.util.spec_from_file_location("build_demo", ROOT / "samples" / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every input sheet with canonical column names, read by calamine (not the writer's library)."""
    out = {}
    for sheet in SHEETS:
        codes = {c.title: str for c in sheet.columns if c.type == CODE}  # keep leading zeros
        frame = pd.read_excel(path, sheet_name=sheet.name, engine="calamine", dtype=codes)
        out[sheet.name] = frame.rename(columns={c.title: c.name for c in sheet.columns})
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo-store.xlsx"
    load_builder().build(path)
    return path


@pytest.fixture(scope="module")
def t(built) -> dict[str, pd.DataFrame]:
    return read_tables(built)


@pytest.fixture(scope="module")
def as_of(t) -> pd.Timestamp:
    settings = dict(zip(t["Settings"].key, t["Settings"].value))
    return pd.Timestamp(settings["as_of"])


@pytest.fixture(scope="module")
def replay(t):
    """Stock by (sku, location) through time: movements in order, counts at their dates.

    Returns the final stock, the lowest point each place reached, and each count's variance.
    Bundle rows move their components. Counts fall on days without movements (the demo counts on
    Saturdays), so the order of the two within a day never matters.
    """
    parts = defaultdict(list)
    for row in t["Bundles"].itertuples():
        parts[row.bundle_sku].append((row.component_sku, row.qty))
    stock: dict[tuple[str, str], float] = defaultdict(float)
    low: dict[tuple[str, str], float] = defaultdict(float)
    variances = []
    counts = t["Counts"].sort_values("date", kind="stable")
    events = sorted([(m.date, 0, i) for i, m in enumerate(t["Movements"].itertuples())] +
                    [(c.date, 1, i) for i, c in enumerate(counts.itertuples())])
    movements, count_rows = list(t["Movements"].itertuples()), list(counts.itertuples())
    for _, kind, i in events:
        if kind:
            c = count_rows[i]
            variances.append((c.date, c.sku, c.location, c.counted_qty - stock[c.sku, c.location]))
            stock[c.sku, c.location] = c.counted_qty
            continue
        m = movements[i]
        for sku, k in parts.get(m.sku, [(m.sku, 1)]):
            if m.type == "adjust":
                stock[sku, m.to_location] += m.qty * k
                continue
            if isinstance(m.from_location, str):
                stock[sku, m.from_location] -= m.qty * k
                low[sku, m.from_location] = min(low[sku, m.from_location], stock[sku, m.from_location])
            if isinstance(m.to_location, str):
                stock[sku, m.to_location] += m.qty * k
    return stock, low, pd.DataFrame(variances, columns=["date", "sku", "location", "variance"])


def test_catalogue_has_variants_bundles_and_valid_barcodes(t):
    items = t["Items"]
    assert len(items) >= 50 and items.sku.is_unique
    assert "TEE-ORG-M-BLU" in set(items.sku)
    assert items.set_index("sku").loc["TEE-ORG-M-BLU", "variant"] == "M / Blue"
    sized = items[items.variant.str.contains(" / ", na=False)]
    assert sized["product"].nunique() >= 3
    for product, group in items.dropna(subset=["variant"]).groupby("product"):
        assert group.variant.str.count(" / ").nunique() == 1, product  # one spelling per product
    for code in items.barcode.dropna().astype(str):
        digits = [int(d) for d in code]
        assert len(digits) == 13 and sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0, code
    assert any(str(b).startswith("0") for b in items.barcode)  # a leading zero kept as text
    assert set(t["Bundles"].bundle_sku) <= set(items.sku) and 2 <= t["Bundles"].bundle_sku.nunique() <= 3
    assert {"batch", "expiry"} <= set(items.tracking) and "discontinued" in set(items.status)


def test_places_channels_suppliers_and_bins(t):
    kinds = t["Locations"].kind.value_counts()
    assert kinds["stock"] == 3 and kinds["returns_hold"] == 1 and kinds["damaged"] == 1
    stock = t["Locations"][t["Locations"].kind == "stock"]
    assert stock.priority.notna().all() and stock.regions.notna().all()
    channels = t["Channels"].set_index("channel")
    assert set(channels.index) == {"WEB", "AMAZON"}
    assert channels.buffer_units.notna().sum() == 1 and channels.buffer_pct.notna().sum() == 1
    parts = ["processing_days", "shipping_days", "customs_days", "receiving_days", "putaway_days"]
    assert len(t["Suppliers"]) == 4 and t["Suppliers"][parts].notna().all().all()
    stocked = set(t["Movements"].loc[t["Movements"].type == "receive", "sku"])
    bins = t["Item Locations"].dropna(subset=["bin"])
    assert stocked <= set(bins.sku)


def test_a_year_of_movements_using_every_type(t, as_of):
    m = t["Movements"]
    assert len(m) >= 20_000
    assert set(m.type) == {mt.name for mt in MOVEMENT_TYPES}
    assert m.date.max() == as_of and (as_of - m.date.min()).days >= 365
    assert m.movement_id.is_unique and set(m.sku) <= set(t["Items"].sku)
    bundles = set(t["Bundles"].bundle_sku)
    assert m[(m.type == "sale") & m.sku.isin(bundles)].shape[0] > 50
    assert set(m.channel.dropna()) == {"WEB", "AMAZON"}


def test_movements_follow_the_ledger_rules(t):
    m, settings = t["Movements"], dict(zip(t["Settings"].key, t["Settings"].value))
    kinds = dict(zip(t["Locations"].location, t["Locations"].kind))
    adjusters = {a.strip() for a in settings["adjusters"].split(",")}
    for mt in MOVEMENT_TYPES:
        rows = m[m.type == mt.name]
        if not mt.signed:
            assert (rows.qty > 0).all(), mt.name
        if mt.reason_required:
            assert rows.reason.notna().all(), mt.name
        if mt.user_required:
            assert rows.user.isin(adjusters).all()
        for side, place, default in (("from_location", mt.source, mt.source_default),
                                     ("to_location", mt.target, mt.target_default)):
            if place.startswith("outside:"):
                assert rows[side].isna().all(), (mt.name, side)
            elif default is None or default not in settings:
                assert rows[side].notna().all(), (mt.name, side)
    transfers = m[m.type == "transfer"]
    assert (transfers.from_location != transfers.to_location).all()
    assert set(m.loc[m.type == "return", "to_location"].map(kinds)) == {"returns_hold"}
    assert set(m.loc[m.type == "damage", "to_location"].map(kinds)) == {"damaged"}
    assert MOVEMENT_TYPE["adjust"].signed and (m.loc[m.type == "adjust", "qty"] < 0).any()


def test_receipts_of_tracked_items_carry_batch_and_expiry(t, as_of):
    tracking = dict(zip(t["Items"].sku, t["Items"].tracking))
    m = t["Movements"]
    receipts = m[(m.type == "receive") & m.sku.map(tracking).isin(["batch", "expiry"])]
    assert receipts.batch.notna().all()
    assert receipts[receipts.sku.map(tracking) == "expiry"].expiry.notna().all()
    # batches named on every outgoing row (bundle components aside): their balance at as_of
    components = set(t["Bundles"].component_sku)
    named = m[m.batch.notna() & ~m.sku.isin(components)]
    sign = named.type.map(lambda k: 1 if k == "receive" else -1)
    left = (named.qty * sign).groupby([named.sku, named.batch]).sum()
    expiry = receipts.groupby(["sku", "batch"]).expiry.min()
    on_hand = expiry[left.reindex(expiry.index).fillna(0) > 0]
    assert (on_hand < as_of).any(), "an expired batch still on hand"
    assert ((on_hand > as_of) & (on_hand <= as_of + pd.Timedelta(days=30))).any(), "a batch near expiry"


def test_stock_stays_non_negative_and_returns_wait_in_hold(t, replay, as_of):
    stock, low, _ = replay
    assert min(low.values()) >= 0
    returns = t["Movements"][t["Movements"].type == "return"]
    hold = t["Locations"].loc[t["Locations"].kind == "returns_hold", "location"].item()
    recent = returns[returns.date > as_of - pd.Timedelta(days=21)].groupby("sku").qty.sum()
    # more units of a SKU in the hold than came back in three weeks: the rest have waited longer
    waited = sum(max(0, q - recent.get(sku, 0)) for (sku, loc), q in stock.items() if loc == hold)
    assert waited >= 5


def test_counts_have_variances_and_a_repeat_offender(replay):
    _, _, variances = replay
    assert (variances.variance != 0).sum() >= 20
    last3 = variances.sort_values("date").groupby(["sku", "location"]).tail(3)
    off = last3.groupby(["sku", "location"]).variance.agg(lambda v: (v != 0).sum())
    assert (off >= 2).any()


def test_orders_need_splits_and_one_cannot_be_filled(t, replay, as_of):
    stock, _, _ = replay
    sellable = set(t["Locations"].loc[t["Locations"].sellable == "yes", "location"])
    orders = t["Orders"][t["Orders"].status == "open"]
    assert len(orders) >= 20 and (orders.date <= as_of).all()
    best = {s: max((q for (k, loc), q in stock.items() if k == s and loc in sellable), default=0) for s in orders.sku}
    total = {s: sum(q for (k, loc), q in stock.items() if k == s and loc in sellable) for s in orders.sku}
    split = orders[(orders.qty > orders.sku.map(best)) & (orders.qty <= orders.sku.map(total))]
    short = orders[orders.qty > orders.sku.map(total)]
    assert len(split) >= 1 and len(short) >= 1


def test_purchases_open_received_and_short(t):
    p, m = t["Purchases"], t["Movements"]
    assert (p.status == "open").any() and (p.status == "closed").any()
    received = m[m.type == "receive"].groupby(["reference", "sku"]).qty.sum()
    closed = p[p.status == "closed"].set_index(["po", "sku"]).qty
    got = received.reindex(closed.index).fillna(0)
    assert (got > 0).all(), "every closed PO line was received against its PO"
    assert (got < closed).sum() >= 1, "one PO closed short"


def test_promotion_and_settings(t, as_of):
    assert len(t["Promotions"]) == 1 and (t["Promotions"].end <= as_of).all()
    settings = dict(zip(t["Settings"].key, t["Settings"].value))
    assert {"default_location", "returns_location", "damaged_location", "adjusters"} <= {
        k for k, v in settings.items() if isinstance(v, str)}


def test_demo_is_clean_for_the_validator(built):
    validate = pytest.importorskip("inv_sheets.rules.validate")
    report = validate.validate_inputs(built)
    found = [i for i in report.issues if i.severity in ("error", "warning")
             and i.code not in ("over-reserved",)]  # the open order that cannot be filled reserves too much
    assert not found, [f"{i.cell} {i.code}: {i.message}" for i in found[:10]]


def test_committed_demo_is_up_to_date(t):
    assert COMMITTED.exists() and COMMITTED.stat().st_size < 3_000_000
    committed = read_tables(COMMITTED)
    for name in SHEET:
        pd.testing.assert_frame_equal(committed[name], t[name], obj=name)


def test_packaged_demo_is_the_sample():
    """`inv-sheets init --sample` after a pip install uses the copy inside the package."""
    root = Path(__file__).parent.parent
    assert (root / "inv_sheets" / "resources" / "demo-store.xlsx").read_bytes() == \
        (root / "samples" / "demo-store.xlsx").read_bytes(), "run `python samples/build_demo.py`"
