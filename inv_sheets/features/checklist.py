"""The guide's 30-day setup checklist (Strategy 6) as a live status the store owner works down.

Each step is a small function of the store and its ledger that returns what is still missing, as
a list of things (SKUs, locations, suppliers, ...): the step is done when the list is empty. The
Missing column gives how many and names the first few, or where they are, so the owner knows what
to fix. Steps that only matter for some stores (locations, channels) are done, "not needed", when
the store has one of each.

The validator leaves rows with errors out of the store, so a duplicate SKU it found is no longer
in it; pass the findings (`issues`) to count those too.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue
from ..contract.sheetdata import SheetData, sheet
from ..ledger.postings import Ledger
from ..rules.checks import fold_all, variants
from .counts import count_schedule
from .replenish.abc import abc_classes

SHOWN = 5  # names listed in the Missing column before "and N more"
FAST_MOVER_SHARE = 0.20  # fast movers: the top fifth of SKUs by units sold over demand_days
STANDARD_SKU = re.compile(r"[A-Z0-9]+(?:[-_./][A-Z0-9]+)*")  # letters and digits, single separators
LOOKS_LIKE_BUNDLE = re.compile(r"\b(?:bundle|kit|gift set|combo|set of \d+|\d+ ?-?pack)\b", re.IGNORECASE)
SKU_CODES = ("untrimmed-text", "lookalike-characters", "sku-lost-leading-zeros", "control-character")
DUPLICATE_CODES = ("duplicate-key", "near-duplicate-key")
PART_DAYS = ("processing_days", "shipping_days", "customs_days", "receiving_days", "putaway_days")

Missing = list[str] | str  # the things missing; a str is a note on a step that is done


def _skus_not_standard(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    skus = store["Items"]["sku"].dropna()
    odd = list(skus[~skus.map(lambda s: bool(STANDARD_SKU.fullmatch(s)))])
    return _unique(odd + _found(store, issues, "Items", SKU_CODES, "sku"))


def _duplicates(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    items = store["Items"].dropna(subset=["sku"])
    name = pd.Series([n if isinstance(n, str) else str(n) for n in items["name"].tolist()], index=items.index, dtype="str")
    variant = pd.Series([v if isinstance(v, str) else "" for v in items["variant"].tolist()], index=items.index, dtype="str")
    same = fold_all(name) + "|" + fold_all(variant)  # column-wise: fold per item took 0.2 s at 10,000 items
    twins = items.loc[same.duplicated(keep=False), "sku"]
    return _unique(list(twins) + _found(store, issues, "Items", DUPLICATE_CODES, "sku"))


def _variants(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    items = store["Items"]
    odd = [items.loc[i.row, "sku"] for i in variants(store) if i.row in items.index]
    grouped = items.dropna(subset=["product"])
    has_variant = grouped["variant"].notna().groupby(grouped["product"]).transform("any")
    blank = grouped.loc[has_variant & grouped["variant"].isna(), "sku"]
    return _unique(odd + list(blank) + _found(store, issues, "Items", ("inconsistent-variant",), "variant"))


def _no_bin(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    stock = ledger.stock[ledger.stock["qty"] > 0]
    stock = stock[(ledger.places.kind(stock["location"]) == "stock").to_numpy()].drop_duplicates(["sku", "location"])
    binned = store["Item Locations"].dropna(subset=["sku", "location", "bin"])
    have = pd.MultiIndex.from_arrays([binned["sku"], binned["location"]])
    missing = stock[~pd.MultiIndex.from_arrays([stock["sku"], stock["location"]]).isin(have)]
    return [f"{s} at {loc}" for s, loc in zip(missing["sku"].tolist(), missing["location"].tolist())]


def _no_adjusters(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    return [] if store.settings.adjusters else ["no adjusters on the Settings sheet"]


def _counts_overdue(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    """Overdue: last counted longer ago than its class's cadence, or never counted though stocked
    there for longer than that. A new SKU-location has one cycle for its first count, so a store
    that counts what the Count Plan lists each day gets this step done and keeps it done."""
    s = count_schedule(store, ledger)
    internal = ledger.internal(["sku", "location", "when", "qty"])
    stocked = internal[internal["qty"] > 0].groupby(["sku", "location"], observed=True)["when"].min().dt.normalize()
    since = stocked.reindex(pd.MultiIndex.from_arrays([s["sku"], s["location"]])).to_numpy()
    waited = (ledger.as_of - pd.Series(since, index=s.index)).dt.days
    late = s[s["overdue"] | (s["never_counted"] & (waited > s["every_days"]).to_numpy())]
    return [f"{sku} at {loc}" for sku, loc in zip(late["sku"], late["location"])]


def _lead_times(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    sup = store["Suppliers"].dropna(subset=["supplier"])
    named = pd.Index(store["Items"]["supplier"].dropna().unique()).union(pd.Index(sup["supplier"].unique()))
    if named.empty:
        return ["no supplier named on Items or Suppliers"]
    documented = sup.loc[sup[["lead_time_days", *PART_DAYS]].notna().any(axis=1), "supplier"]
    return list(named.difference(pd.Index(documented.unique())))


def _lead_time_known(store: Store, ledger: Ledger) -> pd.Index:
    """SKUs whose lead time is known: a supplier's is documented, or one of its PO lines was received."""
    sup = store["Suppliers"].dropna(subset=["supplier"])
    documented = sup.loc[sup[["lead_time_days", *PART_DAYS]].notna().any(axis=1), "supplier"]
    items = store["Items"]
    by_supplier = items.loc[items["supplier"].isin(documented), "sku"]
    po = ledger.po_lines
    observed = po.loc[po["ordered"].notna() & po["first_receipt"].notna(), "sku"] if len(po) else pd.Series(dtype=object)
    return pd.Index(by_supplier.unique()).union(pd.Index(observed.unique()))


def _typed(store: Store, column: str) -> pd.Index:
    """SKUs with a value typed in a column of Items or Item Locations."""
    items, il = store["Items"], store["Item Locations"]
    return pd.Index(items.loc[items[column].notna(), "sku"].unique()).union(il.loc[il[column].notna(), "sku"].unique())


def _top_sellers_without_rop(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    abc = abc_classes(store, ledger)
    top = pd.Index(abc.index[abc == "A"])
    if top.empty:
        return "no sales yet"
    return list(top.difference(_typed(store, "reorder_point").union(_lead_time_known(store, ledger))))


def _fast_movers_without_safety(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    p = ledger.postings
    since = ledger.as_of - pd.Timedelta(days=store.settings.demand_days - 1)
    sold = p.loc[(p["type"] == "sale") & (p["location"] == "@customer") & (p["when"] >= since), ["sku", "qty"]]
    units = sold.groupby("sku")["qty"].sum().sort_values(ascending=False, kind="stable")
    units = units[units > 0]
    if units.empty:
        return "no sales yet"
    fast = pd.Index(units.index[:max(1, round(len(units) * FAST_MOVER_SHARE))])
    return list(fast.difference(_typed(store, "safety_stock").union(_lead_time_known(store, ledger))))


def _locations(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    places = ledger.places.table.index
    if len(places) <= 1:
        return "not needed: one location"
    if store.has("Locations") and len(store["Locations"]):
        listed = pd.Index(store["Locations"]["location"].dropna())
        return list(places.difference(listed))
    return list(places)


def _channel_buffers(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    channels = store["Channels"].dropna(subset=["channel"])
    named = pd.Index(pd.concat([store["Movements"]["channel"], store["Orders"]["channel"], channels["channel"]]).dropna().unique())
    if len(named) <= 1:
        return "not needed: one sales channel"
    buffered = channels.loc[channels[["buffer_units", "buffer_pct"]].notna().any(axis=1), "channel"]
    return list(named.difference(pd.Index(buffered)))


def _bundles_unlisted(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    items = store["Items"]
    text = items["name"].fillna("") + " " + items["category"].fillna("")
    looks = items.loc[text.str.contains(LOOKS_LIKE_BUNDLE), "sku"]
    return list(looks[~looks.isin(store["Bundles"]["bundle_sku"])])


def _returns_hold(store: Store, ledger: Ledger, issues: Sequence[Issue]) -> Missing:
    holds = ledger.places.table.index[ledger.places.table["kind"] == "returns_hold"]
    moves, mv = ledger.moves, store["Movements"]
    returns = moves[(mv["type"] == "return").reindex(moves.index, fill_value=False) & moves["posted"]]
    straight = returns.loc[~returns["to_place"].isin(holds), "to_place"]
    missing = [] if len(holds) else ["no location of kind returns_hold"]
    return missing + [f"{n} return{'s' if n > 1 else ''} went straight to {place} (first on Movements row {straight.index[straight == place][0]})"
                      for place, n in straight.value_counts(sort=True).items()]


Step = Callable[[Store, Ledger, Sequence[Issue]], Missing]
STEPS: tuple[tuple[str, str, Step], ...] = (  # (step, what the missing things are, check)
    ("Week 1: Standardise SKUs and names", "SKUs", _skus_not_standard),
    ("Week 1: Remove duplicate SKUs", "SKUs", _duplicates),
    ("Week 1: Write variants one way", "SKUs", _variants),
    ("Week 1: Give every stocked SKU a bin", "SKU-locations", _no_bin),
    ("Week 1: Decide who may adjust stock", "", _no_adjusters),
    ("Week 2: Run a cycle count schedule", "SKU-locations overdue for a count", _counts_overdue),
    ("Week 3: Document lead times per supplier", "suppliers", _lead_times),
    ("Week 3: Reorder points on the top sellers", "A-class SKUs without a reorder point or lead time",
     _top_sellers_without_rop),
    ("Week 3: Safety stock on the fast movers", "fast movers without safety stock or lead time",
     _fast_movers_without_safety),
    ("Week 4: Track stock by location", "locations not on a Locations sheet", _locations),
    ("Week 4: Set channel buffers", "channels without a buffer", _channel_buffers),
    ("Week 4: List bundle components", "SKUs that look like bundles but have no components", _bundles_unlisted),
    ("Week 4: Hold returns for inspection", "", _returns_hold),
)


def checklist(store: Store, ledger: Ledger, issues: Sequence[Issue] = ()) -> pd.DataFrame:
    """One row per step: step, status ("done" or "to do"), missing (how many, and which or where)."""
    rows = []
    for step, noun, check in STEPS:
        missing = check(store, ledger, issues)
        if isinstance(missing, str):
            rows.append((step, "done", missing))
        else:
            rows.append((step, "to do" if missing else "done", _describe(missing, noun)))
    return pd.DataFrame(rows, columns=["step", "status", "missing"])


def checklist_sheets(store: Store, ledger: Ledger, issues: Sequence[Issue] = ()) -> list[SheetData]:
    """The Setup Checklist sheet."""
    return [sheet("Setup Checklist", checklist(store, ledger, issues), fills={"status": {"done": "green", "to do": "amber"}})]


def _describe(missing: list[str], noun: str) -> str:
    """'3 SKUs: A, B, C' or '12 SKU-locations: MAIN 10, SHOP 2' or the lone note."""
    if not missing:
        return ""
    if not noun:
        return "; ".join(missing)
    if len(missing) == 1:
        noun = _one(noun)
    at = [m.rsplit(" at ", 1)[1] for m in missing if " at " in m]
    if len(missing) > SHOWN and len(at) == len(missing):
        where = pd.Series(at).value_counts(sort=True)
        return f"{len(missing)} {noun}: " + ", ".join(f"{loc} {n}" for loc, n in where.items())
    shown = ", ".join(map(str, missing[:SHOWN]))
    more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    return f"{len(missing)} {noun}: {shown}{more}"


def _one(noun: str) -> str:
    """The noun of one thing: 'SKUs without ...' -> 'SKU without ...', 'SKUs that look' -> 'SKU that looks'."""
    words = noun.split(" ")
    i = next((k for k, w in enumerate(words) if w.endswith("s") and not w.endswith("ss")), None)
    if i is None:
        return noun
    words[i] = words[i][:-1]
    # the verbs of a 'that ...' clause agree with one thing: "that look like ... but have" -> "looks ... has"
    verbs = {"look": "looks", "have": "has", "are": "is"}
    if "that" in words:
        words = words[:words.index("that")] + [verbs.get(w, w) for w in words[words.index("that"):]]
    return " ".join(words)


def _found(store: Store, issues: Sequence[Issue], sheet_name: str, codes: Sequence[str], field: str) -> list[str]:
    """The values of findings with these codes in one column of a sheet."""
    title = store.titles.get(sheet_name, sheet_name)
    return [str(i.value) for i in issues if i.code in codes and i.sheet == title and i.field == field
            and i.value is not None]


def _unique(values: list) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values))
