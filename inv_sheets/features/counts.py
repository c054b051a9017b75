"""Cycle counts: what to count when (Count Plan) and how each count compared with the book (Variance).

Cadence. Every SKU-location worth counting (see `count_targets`) is counted every
count_every_days_<class> days (Settings: A 30, B 90, C 180 by default), its class being the SKU's
ABC class (abc.abc_classes, as on the Reorder sheet; a SKU without one is C). Its next count falls that many days
after its last one.

Spreading. A SKU-location never counted, or already overdue, may be put on any of the next
`every` days; the others keep their due day. The free ones are placed one at a time, never-counted
first, then the longest overdue, each on the day (of its cycle) with the fewest counts planned so
far, earliest on a tie: so each day's list ends up about the same size, and the first counts of a
new store are spread over a cycle instead of piling up on day one. The Count Plan lists the counts
of the next PLAN_DAYS days; later ones repeat every `every` days.

Tolerance. A count is within tolerance when |counted - book| <= count_tolerance_<class> x |book|,
the book being the quantity just before the count (ledger.counts: movements after it do not
change it). With a book of zero there is no room: only a count of zero is within tolerance, and
the variance % is blank (a share of nothing), or 0 when nothing was found either.

Repeat offender. A SKU-location whose count, together with its previous ones, is out of tolerance
in at least REPEAT_LIMIT of its last REPEAT_WINDOW counts (counting days: the batches of one
SKU-location counted on one day are one count, out when any batch is out). The guide's advice:
when one SKU keeps going off, look for the reason; the last receipt, return and adjustment before
the count are beside it for that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import column_letter
from ..contract.schema import OUTPUT, SHEET
from ..contract.sheetdata import SheetData, sheet
from ..ledger.postings import Ledger
from . import available
from .replenish.abc import abc_classes

PLAN_DAYS = 7  # the Count Plan lists this many days, starting on the as-of day
REPEAT_WINDOW = 3  # a SKU-location's last this many counts ...
REPEAT_LIMIT = 2  # ... of which this many out of tolerance make it a repeat offender
COUNTED_KINDS = ("stock",)  # shelves; the returns hold and damaged goods have their own routine, transit is on the road
CAUSES = {  # Variance column -> the movement types at the counted location it dates
    "last_receipt": ("receive",),
    "last_return": ("return", "restock"),
    "last_adjustment": ("adjust", "loss", "damage"),
}
EPS = 1e-9


def class_of(skus: pd.Series, abc: pd.Series) -> pd.Series:
    """The class of each SKU (C when the classification has none for it)."""
    classes = skus.map(abc).astype(object)
    return classes.where(classes.notna(), "C").astype(str)


def unit_costs(store: Store, ledger: Ledger) -> pd.Series:
    """Each SKU's unit cost, the one every sheet uses (available.unit_costs): Items unit_cost, else
    the mean cost of its receipts."""
    return available.unit_costs(store, ledger)


def count_targets(store: Store, ledger: Ledger) -> pd.DataFrame:
    """The SKU-locations to keep counted, with their bin: columns sku, location, bin.

    Every Item Locations row and every SKU-location with stock on the book (or below zero), at
    locations of kind stock (COUNTED_KINDS); not bundles (their components are counted), not discontinued
    SKUs with nothing on hand. The bin is the Item Locations one, else the one last written on a
    count there.
    """
    assigned = store["Item Locations"].dropna(subset=["sku", "location"])[["sku", "location", "bin"]]
    assigned = assigned.drop_duplicates(["sku", "location"])
    on_book = ledger.stock.groupby(["sku", "location"], as_index=False)["qty"].sum()
    on_book = on_book[on_book["qty"].abs() > EPS]
    pairs = pd.concat([assigned[["sku", "location"]], on_book[["sku", "location"]]], ignore_index=True)
    pairs = pairs.drop_duplicates(ignore_index=True).astype({"sku": object, "location": object})
    items = store["Items"]
    discontinued = items.loc[items["status"] == "discontinued", "sku"]
    stocked = _key(pairs).isin(_key(on_book))
    keep = (ledger.places.kind(pairs["location"]).isin(COUNTED_KINDS).to_numpy()
            & ~pairs["sku"].isin(ledger.bundles["bundle_sku"]).to_numpy()
            & (stocked | ~pairs["sku"].isin(discontinued).to_numpy()))
    pairs = pairs[keep]
    counted = store["Counts"].dropna(subset=["sku", "location", "bin"]).sort_values("date", kind="stable")
    counted_bin = counted.drop_duplicates(["sku", "location"], keep="last").set_index(["sku", "location"])["bin"]
    bins = assigned.set_index(["sku", "location"])["bin"].combine_first(counted_bin)
    out = pairs.assign(bin=bins.reindex(_key(pairs)).to_numpy(dtype=object))
    return out.reset_index(drop=True)


def _key(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame["sku"].to_numpy(dtype=object), frame["location"].to_numpy(dtype=object)])


def count_schedule(store: Store, ledger: Ledger, abc: pd.Series | None = None) -> pd.DataFrame:
    """Every SKU-location to count, with when its counts fall (see the module docstring).

    Columns sku, location, bin, abc, every_days, last_counted (day, NaT when never), never_counted,
    overdue (its due day passed before the as-of day), slot: days after the as-of day of its
    first planned count; the next ones follow every every_days days. `abc` defaults to the
    store's ABC classes; the schedule they give is worked out once per ledger (the Count Plan, the
    count sheet and the checklist use it), and callers only read it.
    """
    if abc is None:
        return ledger.derived("count_schedule", store, lambda: _schedule(store, ledger, abc_classes(store, ledger)))
    return _schedule(store, ledger, abc)


def _schedule(store: Store, ledger: Ledger, abc: pd.Series) -> pd.DataFrame:
    as_of = ledger.as_of
    s = count_targets(store, ledger)
    s["abc"] = class_of(s["sku"], abc).to_numpy()
    every = {c: max(1, int(store.settings.by_class("count_every_days", c))) for c in "ABC"}
    s["every_days"] = s["abc"].map(every).astype(np.int64)
    last = ledger.counts.groupby(["sku", "location"])["date"].max().dt.normalize()
    s["last_counted"] = last.reindex(_key(s)).to_numpy(dtype="datetime64[ns]")
    s["never_counted"] = s["last_counted"].isna()
    natural = ((s["last_counted"] - as_of).dt.days + s["every_days"]).fillna(0).astype(np.int64)
    s["overdue"] = natural < 0
    s["slot"] = natural.clip(lower=0)
    return _spread(s)


def _spread(s: pd.DataFrame) -> pd.DataFrame:
    """Place the never-counted and overdue SKU-locations on their least busy days."""
    s = s.reset_index(drop=True)
    free = (s["never_counted"] | s["overdue"]).to_numpy()
    every = s["every_days"].to_numpy()
    slot = s["slot"].to_numpy().copy()
    width = int(every.max()) if len(s) else 1
    load = np.zeros(width)
    for e in np.unique(every[~free]):
        first = slot[~free & (every == e)]
        days = (first[:, None] + e * np.arange(-(-width // e))[None, :]).ravel()
        np.add.at(load, days[days < width], 1)
    # Never counted first, then by the day the count fell due (longest overdue first).
    order = s.assign(_never=~s["never_counted"], _due=(s["last_counted"] + pd.to_timedelta(s["every_days"], "D")))
    order = order[free].sort_values(["_never", "_due", "location", "bin", "sku"], na_position="last", kind="stable")
    # Each placement goes to the day whose calendar (day, day + e, ...) carries the least load on
    # average. The load summed by day modulo each cadence is kept up to date as counts are placed,
    # so a placement costs a few small sums instead of averaging the whole calendar again.
    cadences = np.unique(every[free]) if free.any() else np.zeros(0, dtype=np.int64)
    calendar = np.arange(width)
    sums = {e: np.bincount(calendar % e, weights=load, minlength=e) for e in cadences.tolist()}
    sizes = {e: np.bincount(calendar % e, minlength=e).astype(float) for e in cadences.tolist()}
    adds: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray]]] = {}  # what placing on (cadence, day) adds
    for i in order.index.to_numpy():
        e = int(every[i])
        day = int((sums[e] / sizes[e]).argmin())
        add = adds.get((e, day))
        if add is None:
            placed = calendar[day::e]
            add = adds[(e, day)] = [(total, np.bincount(placed % other, minlength=other)) for other, total in sums.items()]
        for total, more in add:
            total += more
        slot[i] = day
    return s.assign(slot=slot)


def count_plan(store: Store, ledger: Ledger, abc: pd.Series | None = None, days: int = PLAN_DAYS) -> pd.DataFrame:
    """The counts due in the `days` days from the as-of day: the Count Plan's rows.

    Columns due, location, bin, sku, name, abc, every_days, last_counted; sorted by day, then
    never-counted SKU-locations first, then location and bin (the walk through the shelves).
    """
    s = count_schedule(store, ledger, abc)
    slot, every = s["slot"].to_numpy(), s["every_days"].to_numpy()
    n = np.where(slot < days, -(-(days - slot) // every), 0)
    pick = np.repeat(np.arange(len(s)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    plan = s.iloc[pick].reset_index(drop=True)
    plan["due"] = ledger.as_of + pd.to_timedelta(slot[pick] + k * every[pick], "D")
    plan["name"] = plan["sku"].map(_first(store["Items"], "name"))
    plan = plan.sort_values(["due", "never_counted", "location", "bin", "sku"],
                            ascending=[True, False, True, True, True], na_position="last", kind="stable")
    return plan[["due", "location", "bin", "sku", "name", "abc", "every_days", "last_counted"]].reset_index(drop=True)


def due_on(schedule: pd.DataFrame, as_of: pd.Timestamp, day: pd.Timestamp) -> pd.Series:
    """Which SKU-locations of a schedule are to be counted on `day` (a bool Series)."""
    t = (pd.Timestamp(day).normalize() - as_of).days
    return (t >= schedule["slot"]) & ((t - schedule["slot"]) % schedule["every_days"] == 0)


def _first(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column of a sheet keyed by SKU (the first row of a SKU wins)."""
    rows = frame.dropna(subset=["sku"]).drop_duplicates("sku")
    return rows.set_index("sku")[column]


def variance(store: Store, ledger: Ledger, abc: pd.Series | None = None,
             costs: pd.Series | None = None) -> pd.DataFrame:
    """One row per count: the Variance sheet's rows, newest first (see the module docstring).

    Columns date, location, sku, batch, book_qty, counted_qty, variance_qty, variance_value,
    variance_pct, within_tolerance, repeat_offender, abc, tolerance, last_receipt, last_return,
    last_adjustment, row (the Counts row). `abc` and `costs` default to the store's ABC classes
    and unit_costs; the rows they give are worked out once per ledger (the Variance sheet and the
    KPIs' inventory accuracy), and callers only read them.
    """
    if abc is None and costs is None:
        return ledger.derived("variance", store, lambda: _variance(store, ledger, abc_classes(store, ledger),
                                                                   unit_costs(store, ledger)))
    return _variance(store, ledger, abc_classes(store, ledger) if abc is None else abc,
                     unit_costs(store, ledger) if costs is None else costs)


def _variance(store: Store, ledger: Ledger, abc: pd.Series, costs: pd.Series) -> pd.DataFrame:
    # Typed even when empty (a store without counts), so the arithmetic below stays numeric.
    c = ledger.counts.astype({"book_qty": float, "counted_qty": float, "variance_qty": float})
    c["abc"] = class_of(c["sku"], abc).to_numpy()
    c["tolerance"] = c["abc"].map({k: store.settings.by_class("count_tolerance", k) for k in "ABC"}).astype(float)
    book, off = c["book_qty"], c["variance_qty"]
    c["variance_value"] = (off * c["sku"].map(costs).astype(float)).round(6)
    with np.errstate(divide="ignore", invalid="ignore"):
        c["variance_pct"] = np.where(book.abs() > EPS, off / book.abs(), np.where(off.abs() > EPS, np.nan, 0.0))
    c["within_tolerance"] = off.abs() <= c["tolerance"] * book.abs() + EPS
    c["repeat_offender"] = _repeat_offenders(c)
    c = _causes(c, ledger)
    c = c.sort_values(["date", "location", "sku", "row"], ascending=[False, True, True, True], kind="stable")
    return c.reset_index(drop=True)[[
        "date", "location", "sku", "batch", "book_qty", "counted_qty", "variance_qty", "variance_value",
        "variance_pct", "within_tolerance", "repeat_offender", "abc", "tolerance", *CAUSES, "row"]]


def count_days(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts as SKU-location-days: columns sku, location, day, within (every batch within)."""
    days = counts.assign(day=counts["date"].dt.normalize())
    out = days.groupby(["sku", "location", "day"], as_index=False, sort=True)["within_tolerance"].all()
    return out.rename(columns={"within_tolerance": "within"})


def _repeat_offenders(c: pd.DataFrame) -> np.ndarray:
    """Per count: out of tolerance in >= REPEAT_LIMIT of its SKU-location's last REPEAT_WINDOW counts."""
    if c.empty:
        return np.zeros(0, dtype=bool)
    days = count_days(c)
    out = (~days["within"]).astype(int)
    total = out.groupby([days["sku"], days["location"]]).cumsum()
    before = total.groupby([days["sku"], days["location"]]).shift(REPEAT_WINDOW).fillna(0)
    days["repeat"] = (total - before) >= REPEAT_LIMIT
    key = pd.MultiIndex.from_arrays([c["sku"], c["location"], c["date"].dt.normalize()])
    return days.set_index(["sku", "location", "day"])["repeat"].reindex(key).fillna(False).to_numpy(dtype=bool)


def _causes(c: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    """Add the day of the last receipt, return and adjustment at the counted place before each count."""
    plain = c["date"] == c["date"].dt.normalize()
    at = c["date"].where(~plain, c["date"] + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))  # as the ledger times it
    left = c.assign(_at=at.astype("datetime64[ns]"), _i=np.arange(len(c))).sort_values("_at", kind="stable")
    legs = ledger.internal(["when", "type", "sku", "location"])
    left["_pair"] = _pair_codes(left["sku"], left["location"], legs)
    for column, types in CAUSES.items():
        right = legs.loc[legs["type"].isin(types), ["when", "sku", "location"]].sort_values("when", kind="stable")
        right = pd.DataFrame({"_when": right["when"].astype("datetime64[ns]"), column: right["when"].dt.normalize(),
                              "_pair": _pair_codes(right["sku"], right["location"], legs)})
        merged = pd.merge_asof(left[["_at", "_pair"]], right, left_on="_at", right_on="_when", by="_pair",
                               direction="backward")
        left[column] = merged[column].to_numpy()
    return left.sort_values("_i").drop(columns=["_at", "_i", "_pair"]).set_index(c.index)


def _pair_codes(sku: pd.Series, location: pd.Series, postings: pd.DataFrame) -> np.ndarray:
    """A number for each SKU-location, from the postings' categories: merge_asof matches numbers far
    faster than text. A SKU or location the postings never name gets a number no posting has."""
    skus, places = postings["sku"].cat.categories, postings["location"].cat.categories
    s = pd.Categorical(sku, categories=skus).codes.astype(np.int64) + 1
    p = pd.Categorical(location, categories=places).codes.astype(np.int64) + 1
    return s * (len(places) + 1) + p


def _letters(name: str) -> dict[str, str]:
    """Each declared column of an output sheet -> its Excel column letter."""
    return {col: column_letter(i) for i, col in enumerate(OUTPUT[name].column_names(), start=1)}


def _variance_formulas() -> dict[str, str]:
    """Formulas for the Variance columns that follow from others on the row (when all are declared)."""
    at = _letters("Variance")
    formulas = {}
    if {"book_qty", "counted_qty", "variance_qty"} <= at.keys():
        book, counted, off = at["book_qty"], at["counted_qty"], at["variance_qty"]
        formulas["variance_qty"] = f"={counted}{{row}}-{book}{{row}}"
        if "variance_pct" in at:
            formulas["variance_pct"] = f'=IF({book}{{row}}=0,IF({off}{{row}}=0,0,""),{off}{{row}}/ABS({book}{{row}}))'
    return formulas


def count_sheets(store: Store, ledger: Ledger) -> list[SheetData]:
    """The Count Plan sheet, and the Variance sheet when the workbook has a Counts sheet."""
    out = [sheet("Count Plan", count_plan(store, ledger))]
    if store.has("Counts"):
        rows = variance(store, ledger)
        out.append(sheet("Variance", rows, formulas=_variance_formulas(), fills={
            "within_tolerance": {"no": "red", "yes": "green"}, "repeat_offender": {"yes": "red"}}))
    return out


# The printable count list -------------------------------------------------------------------------
# The Counts sheet's own columns first, in its order and under its headers, so a filled list is
# typed (or pasted) straight back; then what helps the counter find and recognise each line.
_WIDTHS = {"date": 11, "location": 10, "sku": 16, "batch": 12, "counted_qty": 13, "counter": 14, "bin": 10}
COUNT_LIST_COLUMNS = tuple((c.name, c.title, _WIDTHS.get(c.name, 12)) for c in SHEET["Counts"].columns) + (  # (column, header, width)
    ("name", "Name", 30), ("variant", "Variant", 14), ("unit", "Unit", 7), ("expiry", "Expiry", 11),
    ("book_qty", "Book qty", 10),
)


def count_list(store: Store, ledger: Ledger, location: str, *, date: object = None,
               abc: pd.Series | None = None) -> pd.DataFrame:
    """The lines to count at one location on one day (default: the as-of day), sorted by bin.

    One line per SKU due that day (count_schedule), or per batch on the book for batch-tracked
    stock; book_qty is the quantity on the book now. Columns as COUNT_LIST_COLUMNS: the Counts
    sheet's (date and location filled in, counted_qty and counter empty), then name, variant, unit,
    expiry and book_qty. Raises ValueError for an unknown location or a day before the as-of day.
    """
    location = str(location).strip().upper()
    if location not in ledger.places.table.index:
        known = ", ".join(map(str, ledger.places.table.index)) or "none"
        raise ValueError(f"no location {location!r} (the locations are: {known})")
    day = ledger.as_of if date is None else pd.Timestamp(date).normalize()
    if day < ledger.as_of:
        raise ValueError(f"{day:%Y-%m-%d} is before the as-of day {ledger.as_of:%Y-%m-%d}: the plan looks forward")
    s = count_schedule(store, ledger, abc)
    due = s[(s["location"] == location) & due_on(s, ledger.as_of, day)]
    stock = ledger.stock[ledger.stock["location"] == location]
    stock = stock.groupby(["sku", "batch", "expiry"], dropna=False, as_index=False)["qty"].sum()
    lines = due[["sku", "bin"]].merge(stock.astype({"sku": object}), on="sku", how="left")
    lines["book_qty"] = lines["qty"].fillna(0.0)
    items = store["Items"]
    for column in ("name", "variant", "unit"):
        lines[column] = lines["sku"].map(_first(items, column))
    lines["date"], lines["location"] = day, location
    lines["counted_qty"], lines["counter"] = None, None
    lines = lines.sort_values(["bin", "sku", "expiry", "batch"], na_position="last", kind="stable")
    return lines[[c for c, _, _ in COUNT_LIST_COLUMNS]].reset_index(drop=True)
