"""Cross-sheet and ledger-row checks: small functions that each yield findings.

They run on a Store whose cells are already typed (bad cells blank), before bad rows are left out,
so that, say, a movement naming a SKU whose price is mistyped is still matched to that SKU.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..contract.book import Store
from ..contract.issues import Issue
from ..contract.parse import gtin_ok
from ..contract.schema import MOVEMENT_TYPE, SHEET, SHEETS, fold

Check = Callable[[Store], Iterator[Issue]]
LEDGER = "Movements"  # the sheet whose rows' findings a later refresh can keep (Kept)
FUTURE_DATE = "future-date"
KEPT_CHUNKS = 64  # the folded IDs kept grow by a chunk a day; past this many they are joined into one


def at(store: Store, sheet: str, row: int | None, column: str | None, code: str, message: str,
       value: object = None) -> Issue:
    """A finding at a sheet's canonical column, placed at the cell the user sees."""
    title, letter = store.cell(sheet, column) if column else (store.titles.get(sheet, sheet), None)
    return Issue(code, title, None if row is None else int(row), letter, message, value=value, field=column)


def unique_keys(store: Store, folded: dict[str, pd.Series] | None = None) -> Iterator[Issue]:
    """Repeated keys, and keys that differ only by case, spaces or look-alike characters.

    `folded`: the ledger's unique columns as folded_keys gives them, when the caller has them."""
    for sheet in SHEETS:
        if not store.has(sheet.name):
            continue
        frame = store[sheet.name]
        for col in (c for c in sheet.columns if c.unique):
            known = folded.get(col.name) if folded is not None and sheet.name == LEDGER else None
            yield from _unique_column(store, sheet.name, col.name, col.title, frame[col.name], known)
        if len(sheet.key) > 1:
            key = frame[list(sheet.key)]
            complete = key.notna().all(axis=1)
            dup = key[complete].duplicated(keep="first")
            first = {}
            repeated = key[complete][key[complete].duplicated(keep=False)]  # only these need a first row
            for row, values in zip(repeated.index, repeated.itertuples(index=False, name=None)):
                first.setdefault(tuple(values), row)
            for row in dup.index[dup]:
                yield at(store, sheet.name, row, sheet.key[0], "duplicate-key",
                         f"{' + '.join(sheet.key)} repeats row {first[tuple(key.loc[row])]}: merge the two rows "
                         "or delete one.", value=" / ".join(str(v) for v in key.loc[row]))


def _unique_column(store, sheet, column, title, values: pd.Series, folded: pd.Series | None = None) -> Iterator[Issue]:
    present = values.dropna()
    if present.empty:
        return
    typed_as = store.raw.get(sheet, {}).get(column) if column in store.raw.get(sheet, {}) else None
    folded = fold_all(present.astype(str)) if folded is None else folded
    seen: dict[str, tuple[int, str]] = {}
    repeated = folded.index[folded.duplicated(keep=False).to_numpy(dtype=bool)]
    raw = (typed_as.reindex(repeated) if typed_as is not None else present.loc[repeated]).map(_as_typed)
    for row in repeated:
        key, text = folded[row], raw[row]
        if key not in seen:
            seen[key] = (row, text)
            continue
        first_row, first_text = seen[key]
        if text == first_text:
            yield at(store, sheet, row, column, "duplicate-key",
                     f"{title} '{text}' is already on row {first_row}: each {title} must be unique.", text)
        else:
            yield at(store, sheet, row, column, "near-duplicate-key",
                     f"{title} '{text}' differs from '{first_text}' on row {first_row} only by case, spaces or "
                     "punctuation: use one spelling.", text)


def fold_all(text: pd.Series) -> pd.Series:
    """schema.fold over a column of text, vectorised for plain ASCII (a million IDs in a second):
    lower case, "%" as "pct", and no spaces, underscores or punctuation; the rest goes through fold."""
    out = text.str.lower().str.replace("%", "pct", regex=False).str.replace(r"[\W_]+", "", regex=True)
    other = ~text.str.isascii().fillna(True).to_numpy(dtype=bool)
    if other.any():
        out = out.astype(object)
        out[other] = text[other].map(fold)
    return out


def _as_typed(value: object) -> str:
    """A cell as the person typed it (numbers without a trailing .0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def references(store: Store) -> Iterator[Issue]:
    """Values that name a SKU, location, supplier or channel the workbook does not have."""
    for sheet in SHEETS:
        if not store.has(sheet.name):
            continue
        frame = store[sheet.name]
        for col in (c for c in sheet.columns if c.references):
            target_sheet, target_col = col.references.split(".")
            if not store.has(target_sheet):
                continue  # a store without that sheet uses the names as they come
            known = set(store[target_sheet][target_col].dropna().tolist())  # a list first: arrow text is slow to step through
            values = frame[col.name].dropna()
            unknown = values[~_isin(values, known)]
            for row, value in unknown.items():
                near = difflib.get_close_matches(str(value), sorted(known), n=1, cutoff=0.75)
                hint = f" Did you mean '{near[0]}'?" if near else ""
                yield at(store, sheet.name, row, col.name, "unknown-reference",
                         f"'{value}' is not a {target_col} on the {target_sheet} sheet: add it there or fix the "
                         f"spelling.{hint}", value)


def _isin(values: pd.Series, known: set) -> np.ndarray:
    """values.isin(known). For text, the set goes to arrow as one array: pandas makes an arrow
    scalar of each of its values first (10,000 SKUs, once per column that names one)."""
    if isinstance(values.dtype, pd.StringDtype) and all(isinstance(k, str) for k in known):
        text = pa.chunked_array(pa.array(values, from_pandas=True))
        return pc.is_in(text, value_set=pa.array(sorted(known), type=text.type)).to_numpy(zero_copy_only=False).astype(bool)
    return values.isin(known).to_numpy(dtype=bool)


def movement_rules(store: Store) -> Iterator[Issue]:
    """Signs, reasons, who, batches and dates of each movement, and where it moves from and to."""
    from ..ledger.places import resolve_codes, store_places

    if not store.has("Movements"):
        return
    moves = store["Movements"]
    kind = moves["type"]
    # A ledger holds a handful of types and a few thousand SKUs: look each up once, not per row.
    codes, types = pd.factorize(kind)
    rule = {name: pd.Series(np.array([bool(getattr(MOVEMENT_TYPE[t], name)) if t in MOVEMENT_TYPE else False
                                      for t in types] + [False], dtype=bool)[codes], index=moves.index)
            for name in ("signed", "reason_required", "user_required")}
    qty = moves["qty"]
    items = store["Items"].drop_duplicates("sku").set_index("sku")
    if len(items):
        codes, skus = pd.factorize(moves["sku"])
        known = list(pd.Series(skus, dtype=object).map(items["tracking"]))
        tracking = pd.Series(np.array(known + [None], dtype=object)[codes], index=moves.index, dtype=object)
    else:
        tracking = pd.Series(None, index=moves.index, dtype=object)
    receive = kind == "receive"

    for row in moves.index[(qty < 0) & ~rule["signed"] & kind.notna()]:
        hint = "use type return" if kind[row] == "sale" else "type a positive quantity"
        yield at(store, "Movements", row, "qty", "negative-quantity",
                 f"A {kind[row]} of {qty[row]:g}: quantities are positive; {hint}.", qty[row])
    for row in moves.index[(qty == 0) & kind.notna()]:
        yield at(store, "Movements", row, "qty", "zero-quantity", f"A {kind[row]} of 0 units moves nothing.", 0)
    for row in moves.index[rule["reason_required"] & moves["reason"].isna()]:
        yield at(store, "Movements", row, "reason", "reason-required",
                 f"A movement of type {kind[row]} needs a reason (e.g. broken in transit, stolen, count correction).")
    no_user = rule["user_required"] & moves["user"].isna()
    for row in moves.index[no_user]:
        yield at(store, "Movements", row, "user", "user-required", f"A movement of type {kind[row]} needs the name of who made it.")
    adjusters = set(store.settings.adjusters)
    if adjusters:
        codes, users = pd.factorize(moves["user"])
        folded = np.array([u.strip().casefold() for u in users] + [None], dtype=object)
        who = pd.Series(folded[codes], index=moves.index, dtype=object)
        for row in moves.index[rule["user_required"] & who.notna() & ~who.isin(adjusters)]:
            yield at(store, "Movements", row, "user", "not-an-adjuster",
                     f"'{moves['user'][row]}' is not on the Settings adjusters list: add them there or have an "
                     "adjuster make the adjustment.", moves["user"][row])
    for row in moves.index[receive & tracking.isin(["batch", "expiry"]) & moves["batch"].isna()]:
        yield at(store, "Movements", row, "batch", "batch-required",
                 f"{moves['sku'][row]} is batch-tracked: give the batch (lot) number of this receipt.")
    for row in moves.index[receive & (tracking == "expiry") & moves["expiry"].isna()]:
        yield at(store, "Movements", row, "expiry", "expiry-required",
                 f"{moves['sku'][row]} is expiry-tracked: give the expiry date of this batch.")
    yield from _future_dates(store, moves["date"])
    _, place_issues = resolve_codes(store, store_places(store))  # the findings, not the places by name
    yield from place_issues


def _future_dates(store: Store, dates: pd.Series) -> Iterator[Issue]:
    """Movements dated after the as-of day: the one finding on a movement that depends on the day."""
    late = dates >= store.settings.as_of + pd.Timedelta(days=1)
    for row in dates.index[late.fillna(False)]:
        yield at(store, LEDGER, row, "date", FUTURE_DATE,
                 f"Dated after the as-of date {store.settings.as_of.date()}: left out of today's figures.", dates[row])


def barcodes(store: Store) -> Iterator[Issue]:
    """GTIN check digits of barcodes that look like GTINs."""
    for row, code in store["Items"]["barcode"].dropna().items():
        if re.fullmatch(r"\d{8}|\d{12,14}", code) and not gtin_ok(code):
            yield at(store, "Items", row, "barcode", "bad-check-digit",
                     f"{code} fails its GTIN check digit: a digit is probably mistyped.", code)


def variants(store: Store) -> Iterator[Issue]:
    """Variants of one product written two ways ('M / Blue' beside 'Blue-M')."""
    items = store["Items"].dropna(subset=["product", "variant"])
    for product, group in items.groupby("product", sort=False):
        if len(group) < 2:
            continue
        styles = group["variant"].map(_variant_style)
        common = styles.value_counts().index[0]
        tokens = group["variant"].map(_variant_tokens)
        position = defaultdict(lambda: defaultdict(int))
        for toks in tokens:
            for i, t in enumerate(toks):
                position[t][i] += 1
        for row in group.index:
            toks = tokens[row]
            odd_order = any(max(position[t], key=position[t].get) != i and position[t][i] < sum(position[t].values()) / 2
                            for i, t in enumerate(toks))
            if styles[row] != common or odd_order:
                example = group["variant"][styles == common].iloc[0]
                yield at(store, "Items", row, "variant", "inconsistent-variant",
                         f"'{group['variant'][row]}' is written differently from other {product} variants such as "
                         f"'{example}': use one pattern.", group["variant"][row])


def _variant_style(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\W_]+", "", text)).strip()


def _variant_tokens(text: str) -> tuple[str, ...]:
    return tuple(t.casefold() for t in re.findall(r"[^\W_]+", text))


def bundles(store: Store) -> Iterator[Issue]:
    """Bundles that contain themselves, directly or through other bundles."""
    frame = store["Bundles"].dropna(subset=["bundle_sku", "component_sku"])
    graph = defaultdict(set)
    for b, c in zip(frame["bundle_sku"], frame["component_sku"]):
        graph[b].add(c)
    for row, b in frame["bundle_sku"].items():
        stack, seen = list(graph[b]), set()
        while stack:
            node = stack.pop()
            if node == b:
                yield at(store, "Bundles", row, "component_sku", "bundle-cycle",
                         f"Bundle {b} ends up containing itself: remove the loop.", b)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))


def counted_bundles(store: Store) -> Iterator[Issue]:
    """Counts of bundle SKUs: a bundle has no stock of its own, so its count cannot set anything."""
    bundles = set(store["Bundles"]["bundle_sku"].dropna())
    counts = store["Counts"]
    for row in counts.index[counts["sku"].isin(bundles)]:
        yield at(store, "Counts", row, "sku", "bundle-counted",
                 f"{counts['sku'][row]} is a bundle: count its components instead; this count is left out.",
                 counts["sku"][row])


def date_ranges(store: Store) -> Iterator[Issue]:
    """Promotions that end before they start; counts dated after the as-of date."""
    promos = store["Promotions"]
    for row in promos.index[(promos["end"] < promos["start"]).fillna(False)]:
        yield at(store, "Promotions", row, "end", "bad-date-range", "This promotion ends before it starts.",
                 promos["end"][row])
    counts = store["Counts"]
    late = counts["date"] >= store.settings.as_of + pd.Timedelta(days=1)
    for row in counts.index[late.fillna(False)]:
        yield at(store, "Counts", row, "date", "future-date",
                 f"Counted after the as-of date {store.settings.as_of.date()}: left out of today's figures.",
                 counts["date"][row])


CHECKS: tuple[Check, ...] = (unique_keys, references, movement_rules, barcodes, variants, bundles, counted_bundles,
                             date_ranges)


@dataclass(frozen=True)
class Kept:
    """What the checks found on the ledger's first `rows` rows, for a later refresh to keep once the
    day's rows are appended below them: the findings on those rows, but for the one that depends
    on the day (future-date), and the values of their unique columns folded (folded_keys), which a
    new row must not repeat."""

    rows: int
    found: tuple[Issue, ...]
    folded: dict[str, pa.ChunkedArray]


def run(store: Store, kept: Kept | None = None) -> tuple[list[Issue], Kept]:
    """Every check's findings, and what a later refresh may keep of them.

    `kept` was made by a run on a store whose other sheets, settings (the as-of day aside) and
    ledger sheet names and columns were these, and whose ledger was this one's first kept.rows
    rows. Each check of a Movements row looks at that row and the other sheets alone, but for its
    unique values, which no other row may repeat. So only the rows after those are checked: among
    themselves, and their unique values against the kept ones (all rows are checked again if one
    is there); the earlier rows keep their findings, and their dates are compared with the as-of
    day again. That finds what checking every row finds (a test holds it to that).
    """
    moves = store[LEDGER]
    if kept is not None and kept.rows <= len(moves) and set(kept.folded) == set(_unique_columns()):
        earlier, fresh = moves.index[:kept.rows], moves.index[kept.rows:]
        tail = replace(store, tables={**store.tables, LEDGER: moves.loc[fresh]},
                       raw={name: rows.reindex(fresh) if name == LEDGER else rows for name, rows in store.raw.items()})
        folded = folded_keys(tail)
        if not any(_repeats(kept.folded[c], f) for c, f in folded.items()):
            found = _run(tail, folded)
            found += [*kept.found, *_future_dates(store, moves["date"].loc[earlier])]
            return found, _kept(store, found, {c: _arrow(f, after=kept.folded[c]) for c, f in folded.items()})
    folded = folded_keys(store)
    found = _run(store, folded)
    return found, _kept(store, found, {c: _arrow(f) for c, f in folded.items()})


def folded_keys(store: Store) -> dict[str, pd.Series]:
    """The ledger's unique columns (the movement ID), the values present folded (fold_all)."""
    moves = store[LEDGER]
    return {c: fold_all(moves[c].dropna().astype(str)) for c in _unique_columns()}


def _unique_columns() -> list[str]:
    return [c.name for c in SHEET[LEDGER].columns if c.unique]


def _run(store: Store, folded: dict[str, pd.Series]) -> list[Issue]:
    return [issue for check in CHECKS
            for issue in (unique_keys(store, folded) if check is unique_keys else check(store))]


def _kept(store: Store, found: list[Issue], folded: dict[str, pa.ChunkedArray]) -> Kept:
    title = store.titles.get(LEDGER, LEDGER)
    return Kept(len(store[LEDGER]), tuple(i for i in found if i.sheet == title and i.code != FUTURE_DATE), folded)


def _repeats(kept: pa.ChunkedArray, folded: pd.Series) -> bool:
    """Whether any of `folded` is among the kept values (a hash set of the few new ones, probed
    with each kept one)."""
    return bool(len(folded)) and bool(pc.any(pc.is_in(kept, value_set=_arrow(folded).combine_chunks())).as_py())


def _arrow(folded: pd.Series, after: pa.ChunkedArray | None = None) -> pa.ChunkedArray:
    """Folded values as Arrow text, after the chunks of `after` when given (a day's chunk is added
    to the kept ones, not copied into them)."""
    values = pa.array(folded, from_pandas=True)  # chunked already when the column is Arrow-backed
    chunks = [c.cast(pa.large_string()) for c in getattr(values, "chunks", [values])]
    joined = pa.chunked_array([*(after.chunks if after is not None else ()), *chunks], type=pa.large_string())
    return pa.chunked_array([joined.combine_chunks()]) if joined.num_chunks > KEPT_CHUNKS else joined


__all__ = ["run", "CHECKS", "Kept", "at", "SHEET"]
