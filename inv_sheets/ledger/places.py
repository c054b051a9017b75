"""Where each movement takes stock from and to: locations, their kinds, and the defaults.

Places are the store's locations plus four places outside its walls, "@supplier", "@customer",
"@adjustment" and "@scrap", which absorb what comes in and goes out so the ledger balances.

A blank location on a movement is filled from the movement type's Settings key (schema
MOVEMENT_TYPES): default_location (or, when blank, the only stock location), returns_location (or
the only returns_hold location; a store with no returns hold takes returns straight back into its
default location), damaged_location (or the only damaged location; with none, damaged goods go to
"@scrap"). An adjust names one location, in either column (blank: default_location), and its sign
says which way. A store without a Locations sheet has the locations its Movements and Counts name,
all of kind stock and sellable; if it names none at all, everything happens at one location, MAIN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.book import Store
from ..contract.issues import Issue
from ..contract.schema import MOVEMENT_TYPE

OUTSIDE = {name: f"@{name}" for name in ("supplier", "customer", "adjustment", "scrap")}
IMPLICIT_LOCATION = "MAIN"  # the single location of a store that names none
KINDS = ("stock", "returns_hold", "damaged", "transit")
TYPES = tuple(MOVEMENT_TYPE)


@dataclass(frozen=True)
class Places:
    """The store's locations with their kinds and defaults filled in.

    `table` is indexed by location code with columns kind (stock, returns_hold, damaged, transit),
    sellable (bool: the Locations value, or, when blank, True for kind stock) and priority (float,
    NaN when blank). `defaults` maps each Settings key (default_location, returns_location,
    damaged_location) to the place it resolves to, or None.
    """

    table: pd.DataFrame
    defaults: dict[str, str | None]

    def kind(self, codes: pd.Series) -> pd.Series:
        """The kind of each place (NaN for outside places and unknown codes)."""
        return codes.map(self.table["kind"])

    def sellable(self, codes: pd.Series) -> pd.Series:
        """Whether each place is a sellable location (False for outside places and unknown codes)."""
        return codes.isin(self.table.index[self.table["sellable"].to_numpy(dtype=bool)])


def store_places(store: Store) -> Places:
    """The store's locations (from the Locations sheet, or else as named by Movements and Counts)."""
    locs = store["Locations"]
    if store.has("Locations") and len(locs):
        locs = locs.dropna(subset=["location"]).drop_duplicates("location")
        table = pd.DataFrame({
            "kind": locs["kind"].fillna("stock").to_numpy(dtype=object),
            "sellable": locs["sellable"].to_numpy(dtype=object),
            "priority": locs["priority"].to_numpy(dtype=float),
        }, index=pd.Index(locs["location"].to_numpy(dtype=object), name="location", dtype="str"))
    else:
        named = pd.concat([store["Movements"]["from_location"], store["Movements"]["to_location"],
                           store["Counts"]["location"], pd.Series([store.settings.default_location], dtype="str")])
        codes = sorted(named.dropna().unique()) or [IMPLICIT_LOCATION]
        table = pd.DataFrame({"kind": "stock", "sellable": None, "priority": np.nan},
                             index=pd.Index(codes, name="location", dtype="str"))
    blank = table["sellable"].isna().to_numpy()
    table["sellable"] = np.where(blank, table["kind"].to_numpy() == "stock", table["sellable"].fillna(False).to_numpy(dtype=bool))
    table["sellable"] = table["sellable"].astype(bool)
    kinds = table["kind"]

    def only(kind: str) -> str | None:
        codes = table.index[kinds == kind]
        return codes[0] if len(codes) == 1 else None

    s = store.settings
    default = s.default_location or only("stock")
    defaults = {
        "default_location": default,
        "returns_location": s.returns_location or only("returns_hold")
        or (default if "returns_hold" not in set(kinds) else None),
        "damaged_location": s.damaged_location or only("damaged")
        or (OUTSIDE["scrap"] if "damaged" not in set(kinds) else None),
    }
    return Places(table, defaults)


@dataclass(frozen=True)
class Resolved:
    """Movements' places as integer codes into `names` (-1: missing), for fast work on many rows.

    qty is what moves from `frm` to `to` (never negative); ok is False where a row cannot be posted.
    """

    names: np.ndarray  # place code -> name (object array); the outside places come first
    frm: np.ndarray
    to: np.ndarray
    qty: np.ndarray
    ok: np.ndarray

    def frame(self, index: pd.Index) -> pd.DataFrame:
        names = pd.array(self.names, dtype="str")
        return pd.DataFrame({"from_place": names.take(self.frm, allow_fill=True),
                             "to_place": names.take(self.to, allow_fill=True),
                             "qty": self.qty, "ok": self.ok}, index=index)


def resolve_places(store: Store, places: Places | None = None) -> tuple[pd.DataFrame, list[Issue]]:
    """Each movement's from and to place after defaults, and the problems found doing so.

    Returns a frame indexed like store["Movements"] (Excel row) with columns from_place, to_place
    (a location code or an outside place such as "@customer"; missing (NaN) where it cannot be
    told) and qty (the quantity moved from from_place to to_place, never negative: a negative
    adjust, or any other negative quantity, swaps the two places), plus ok: False for rows that
    cannot be posted (a missing location, a transfer to itself, an unknown type). Findings:
    missing-location (error), same-location (error), wrong-location-kind (warning). Works on any
    Movements frame; rows of unknown type are left not ok without a finding (the validator reports
    them).
    """
    resolved, issues = resolve_codes(store, places or store_places(store))
    return resolved.frame(store["Movements"].index), issues


def resolve_codes(store: Store, places: Places) -> tuple[Resolved, list[Issue]]:
    """resolve_places, as integer place codes (what the ledger works on)."""
    mv = store["Movements"]
    n = len(mv)
    codes, uniques = pd.factorize(pd.concat([
        pd.Series([*OUTSIDE.values(), *places.table.index], dtype="str"),
        mv["from_location"].astype("str"), mv["to_location"].astype("str")], ignore_index=True))
    names = np.asarray(uniques, dtype=object)
    fixed = len(OUTSIDE) + len(places.table)
    given_from, given_to = codes[fixed:fixed + n], codes[fixed + n:]
    code_of = {name: i for i, name in enumerate(names)}
    default = {key: code_of.get(value, -1) if value is not None else -1 for key, value in places.defaults.items()}
    tcode = type_codes(mv["type"])
    frm = np.full(n, -1, dtype=np.int64)
    to = np.full(n, -1, dtype=np.int64)
    for ti, t in enumerate(MOVEMENT_TYPE.values()):
        mask = tcode == ti
        if not mask.any():
            continue
        if t.signed:  # adjust: one location, named in either column
            frm[mask] = code_of[OUTSIDE["adjustment"]]
            loc = np.where(given_to[mask] >= 0, given_to[mask], given_from[mask])
            to[mask] = np.where(loc >= 0, loc, default.get(t.target_default, -1))
            continue
        frm[mask] = _side(t.source, given_from[mask], default.get(t.source_default or "", -1), code_of)
        to[mask] = _side(t.target, given_to[mask], default.get(t.target_default or "", -1), code_of)

    known = tcode >= 0
    missing_from, missing_to = known & (frm < 0), known & (to < 0)
    qty = mv["qty"].to_numpy(dtype=float)
    flip = qty < 0
    frm[flip], to[flip] = to[flip], frm[flip].copy()
    missing = missing_from | missing_to
    same = known & ~missing & (frm == to)
    ok = known & ~missing & ~same
    issues = _findings(store, places, names, tcode, frm, to, ok, missing_from, missing_to, same, flip)
    return Resolved(names, frm, to, np.abs(qty), ok), issues


def type_codes(types: pd.Series) -> np.ndarray:
    """Each movement type's position in TYPES, -1 for a blank or unknown one: the handful of
    distinct spellings looked up once, not a million times."""
    codes, distinct = pd.factorize(types)  # a blank is code -1: the -1 appended last
    return np.append(pd.Index(TYPES).get_indexer(distinct), -1)[codes].astype(np.int8)


def _side(kind: str, given: np.ndarray, default: int, code_of: dict[str, int]) -> np.ndarray:
    if kind.startswith("outside:"):
        return np.full(len(given), code_of[OUTSIDE[kind.split(":", 1)[1]]], dtype=np.int64)
    return np.where(given >= 0, given, default)


# The location kinds that fit each side of a movement type, for wrong-location-kind.
_FITS = {"stock": ("stock", "transit"), "returns_hold": ("returns_hold",), "damaged": ("damaged",)}


def _findings(store: Store, places: Places, names: np.ndarray, tcode: np.ndarray, frm: np.ndarray,
              to: np.ndarray, ok: np.ndarray, missing_from: np.ndarray, missing_to: np.ndarray,
              same: np.ndarray, flip: np.ndarray) -> list[Issue]:
    rows = store["Movements"].index.to_numpy()
    title, _ = store.cell("Movements", "type")
    issues: list[Issue] = []
    for i in np.flatnonzero(missing_from | missing_to):
        t = MOVEMENT_TYPE[TYPES[tcode[i]]]
        side, key = ("to_location", t.target_default) if missing_to[i] else ("from_location", t.source_default)
        how = f"name a location in {side}" + (f", or set {key} on the Settings sheet" if key else "")
        issues.append(Issue("missing-location", title, int(rows[i]), store.cell("Movements", side)[1],
                            f"A {t.name} needs a {side.split('_')[0]} location: {how}.", field=side))
    for i in np.flatnonzero(same):
        issues.append(Issue("same-location", title, int(rows[i]), store.cell("Movements", "to_location")[1],
                            f"A {TYPES[tcode[i]]} from {names[frm[i]]} to {names[to[i]]} moves nothing: "
                            "name two different locations.", value=names[frm[i]], field="to_location"))

    name_index = pd.Index(names, dtype="str")
    kind = places.table["kind"].reindex(name_index).to_numpy(dtype=object)  # per place code; NaN outside
    sellable = places.table["sellable"].reindex(name_index).fillna(False).to_numpy(dtype=bool)
    present = set(places.table["kind"])
    known = ~pd.isna(kind)
    for side, codes in (("source", frm), ("target", to)):
        field = "from_location" if side == "source" else "to_location"
        for ti, t in enumerate(MOVEMENT_TYPE.values()):
            want = getattr(t, side)
            if t.signed or want == "any" or want.startswith("outside:"):
                continue
            if want in ("returns_hold", "damaged") and want not in present:
                continue  # a store without such a location uses its default instead
            mask = ok & (tcode == ti) & ~flip
            # Whether each place fits, worked out per place (a few dozen), then looked up per movement.
            fits = sellable if want == "sellable" else np.isin(kind, _FITS[want])
            c = codes[mask]
            bad = ~fits[c] & known[c]  # unknown locations are the validator's to report
            expect = "a sellable location" if want == "sellable" else f"a location of kind {want}"
            for i in np.flatnonzero(mask)[bad]:
                place = names[codes[i]]
                issues.append(Issue(
                    "wrong-location-kind", title, int(rows[i]), store.cell("Movements", field)[1],
                    f"A {t.name} {'from' if side == 'source' else 'to'} {place} (kind {kind[codes[i]]}): "
                    f"expected {expect}; check the location or the movement type.", value=place, field=field))
    return issues
