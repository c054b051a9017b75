"""Generate a realistic store workbook with N movement rows, up to a full Excel sheet (1,048,575).

The store: 10,000 SKUs (one in ten batch-tracked with expiry, 60 bundles of two or three
components), 20 locations (17 stock, a returns hold, a damaged location, a transit), 12 suppliers
with lead times, three sales channels, a year of every movement type (receipts against purchase
orders, sales, returns with reasons, restocks, damage, loss, transfers, signed adjustments, vendor
returns), 20,000 counts, 5,000 open order lines and the purchase order lines behind the receipts
plus 5,000 open ones.

The package is written directly, sheet XML streamed in blocks with a shared-strings table (as Excel
saves it): openpyxl would take minutes at a million rows. `--sheets 2` splits the ledger over
"Movements" and "Movements 2025" (older rows in the second) to exercise a ledger longer than a sheet.

    python benchmarks/generate.py out.xlsx --rows 100000
"""

from __future__ import annotations

import argparse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

EXCEL_ROWS = 1_048_576
MAX_MOVEMENTS = EXCEL_ROWS - 1  # one row for the header
EPOCH = pd.Timestamp("1899-12-30")
START = pd.Timestamp("2025-01-01")
AS_OF = pd.Timestamp("2025-12-31")
BLOCK = 50_000  # rows of sheet XML built and written at a time

MOVEMENT_COLUMNS = ("Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Batch",
                    "Expiry", "Unit cost", "Reference", "Channel", "Reason", "User")


@dataclass
class SheetSpec:
    """One sheet to write: its name, its frame (header = column names) and each column's cell kind."""

    name: str
    frame: pd.DataFrame
    kinds: dict[str, str]  # column -> "s" (text), "n" (number) or "d" (date)


def store_frames(rows: int, skus: int = 10_000, seed: int = 1) -> list[SheetSpec]:
    """Every sheet of the store as frames, the Movements sheet with `rows` rows."""
    if not 1 <= rows <= MAX_MOVEMENTS:
        raise ValueError(f"rows must be between 1 and {MAX_MOVEMENTS:,}")
    rng = np.random.default_rng(seed)
    n_bundles = 60
    plain = skus - n_bundles
    sku_codes = np.array([f"SKU{i:05d}" for i in range(plain)] + [f"KIT{i:03d}" for i in range(n_bundles)], dtype=object)
    tracked = np.zeros(skus, dtype=bool)
    tracked[:plain] = rng.random(plain) < 0.10
    stock_locs = np.array([f"L{i:02d}" for i in range(17)], dtype=object)
    suppliers = np.array([f"SUP{i:02d}" for i in range(12)], dtype=object)
    channels = np.array(["WEB", "AMAZON", "SHOP"], dtype=object)
    sku_supplier = rng.choice(suppliers, skus)
    unit_cost = np.round(rng.uniform(1, 50, skus), 2)
    home = rng.choice(stock_locs, skus)
    components = rng.choice(plain, (n_bundles, 3), replace=False) if plain >= 3 * n_bundles else rng.integers(0, plain, (n_bundles, 3))
    parts = rng.integers(2, 4, n_bundles)
    for b in range(n_bundles):  # a kit is packed where its parts are kept
        home[components[b, :parts[b]]] = home[plain + b]

    items = pd.DataFrame({
        "SKU": sku_codes, "Name": [f"Product {c}" for c in sku_codes], "Unit cost": unit_cost,
        "Price": np.round(unit_cost * rng.uniform(1.5, 3.0, skus), 2), "Supplier": sku_supplier,
        "Case pack": rng.choice([1, 6, 12, 24], skus).astype(float),
        "Tracking": np.where(tracked, "expiry", "none"), "Status": "active",
    })
    locations = pd.DataFrame({
        "Location": [*stock_locs, "RET", "DMG", "TRN"], "Name": [f"Place {i}" for i in range(20)],
        "Kind": ["stock"] * 17 + ["returns_hold", "damaged", "transit"],
        "Sellable": ["yes"] * 17 + ["no"] * 3, "Priority": np.arange(1, 21, dtype=float),
    })
    item_locations = pd.DataFrame({"SKU": sku_codes[:plain], "Location": home[:plain],
                                   "Bin": [f"{h}-{i % 400:03d}" for i, h in enumerate(home[:plain])]})
    supplier_frame = pd.DataFrame({
        "Supplier": suppliers, "Name": [f"Supplier {s}" for s in suppliers],
        "Processing days": rng.integers(1, 5, len(suppliers)).astype(float),
        "Shipping days": rng.integers(2, 20, len(suppliers)).astype(float),
        "Receiving days": 1.0, "Min order value": 200.0,
    })
    bundle_rows = [(sku_codes[plain + b], sku_codes[components[b, k]], float(k + 1)) for b in range(n_bundles) for k in range(parts[b])]
    bundles = pd.DataFrame(bundle_rows, columns=["Bundle SKU", "Component SKU", "Qty"])
    channel_frame = pd.DataFrame({"Channel": channels, "Buffer units": [0.0, 2.0, 0.0], "Buffer %": [0.0, 0.05, 0.1]})

    movements, receipts = _movements(rows, rng, sku_codes, plain, tracked, home, stock_locs, channels, unit_cost)
    purchases = _purchases(receipts, rng, sku_codes[:plain], sku_supplier, unit_cost)
    # Counts of batch-tracked SKUs would name their batch; these count the untracked ones.
    counted = set(bundles["Component SKU"]) | set(sku_codes[tracked])
    counts = _counts(movements, rng, sku_codes[:plain], home, excluded=counted, n=20_000)
    orders = pd.DataFrame({
        "Order": [f"SO{i // 2:05d}" for i in range(5000)], "Date": AS_OF - pd.Timedelta(days=1),
        "Channel": rng.choice(channels, 5000), "SKU": sku_codes[rng.integers(0, plain, 5000)],
        "Qty": rng.integers(1, 4, 5000).astype(float), "Status": "open",
    }).drop_duplicates(["Order", "SKU"])
    settings = pd.DataFrame({"Key": ["as_of", "default_location"], "Value": [AS_OF.strftime("%Y-%m-%d"), "L00"]})

    text = "s"
    return [
        SheetSpec("Items", items, {c: ("n" if c in ("Unit cost", "Price", "Case pack") else text) for c in items}),
        SheetSpec("Locations", locations, {c: ("n" if c == "Priority" else text) for c in locations}),
        SheetSpec("Item Locations", item_locations, dict.fromkeys(item_locations, text)),
        SheetSpec("Suppliers", supplier_frame, {c: (text if c in ("Supplier", "Name") else "n") for c in supplier_frame}),
        SheetSpec("Movements", movements, _kinds(movements, numbers=("Qty", "Unit cost"), dates=("Date", "Expiry"))),
        SheetSpec("Counts", counts, _kinds(counts, numbers=("Counted qty",), dates=("Date",))),
        SheetSpec("Orders", orders, _kinds(orders, numbers=("Qty",), dates=("Date",))),
        SheetSpec("Purchases", purchases, _kinds(purchases, numbers=("Qty", "Unit cost"), dates=("Ordered", "Expected"))),
        SheetSpec("Bundles", bundles, _kinds(bundles, numbers=("Qty",), dates=())),
        SheetSpec("Channels", channel_frame, _kinds(channel_frame, numbers=("Buffer units", "Buffer %"), dates=())),
        SheetSpec("Settings", settings, dict.fromkeys(settings, text)),
    ]


def _kinds(frame: pd.DataFrame, numbers: tuple[str, ...], dates: tuple[str, ...]) -> dict[str, str]:
    return {c: "n" if c in numbers else "d" if c in dates else "s" for c in frame}


def _movements(rows, rng, sku_codes, plain, tracked, home, stock_locs, channels, unit_cost):
    """The ledger rows (dated in order over a year) and the receipts that name a purchase order."""
    kinds = np.array(["receive", "sale", "return", "restock", "damage", "loss", "transfer", "adjust", "vendor-return"])
    weights = np.array([0.16, 0.62, 0.04, 0.03, 0.02, 0.02, 0.06, 0.04, 0.01])
    t = rng.choice(kinds, size=rows, p=weights)
    # Popular SKUs sell far more than the tail (a Zipf-like pull), as in a real catalogue.
    popularity = 1.0 / np.arange(1, plain + 1) ** 0.8
    sku_i = rng.choice(plain, rows, p=popularity / popularity.sum())
    bundle_sale = (t == "sale") & (rng.random(rows) < 0.03)
    sku_i[bundle_sale] = plain + rng.integers(0, len(sku_codes) - plain, bundle_sale.sum())
    # Returns are of untracked goods (a returned batch item would come back with its batch).
    untracked = np.flatnonzero(~tracked[:plain])
    tracked_return = (t == "return") & tracked[sku_i]
    sku_i[tracked_return] = rng.choice(untracked, tracked_return.sum())
    qty = np.where(t == "receive", rng.integers(20, 200, rows), rng.integers(1, 6, rows)).astype(float)
    qty[(t == "adjust") & (rng.random(rows) < 0.5)] *= -1
    # Batch-tracked goods are bought in bigger lots, so their batches rarely run dry.
    qty[(t == "receive") & tracked[sku_i]] *= 4
    # A restock puts back what a return brought in: the k-th restock takes the k-th return's SKU and
    # quantity (returns outnumber restocks, so that return mostly came earlier).
    returns, restocks = np.flatnonzero(t == "return"), np.flatnonzero(t == "restock")
    pair = restocks[:len(returns)]
    back = returns[:len(pair)]
    earlier = back < pair
    sku_i[pair[earlier]], qty[pair[earlier]] = sku_i[back[earlier]], qty[back[earlier]]
    t[pair[~earlier]] = "return"  # a restock with no return before it is a return itself
    loc = home[sku_i]
    other = rng.choice(stock_locs, rows)
    other = np.where(other == loc, "TRN", other)
    first = np.unique(sku_i, return_index=True)[1]
    first = first[sku_i[first] < plain]
    t[first], qty[first] = "receive", 300.0
    frm = np.full(rows, None, dtype=object)
    to = np.full(rows, None, dtype=object)
    for k in ("sale", "damage", "loss", "vendor-return", "transfer"):
        frm[t == k] = loc[t == k]
    for k in ("receive", "restock", "adjust"):
        to[t == k] = loc[t == k]
    to[t == "transfer"] = other[t == "transfer"]
    to[t == "return"] = "RET"
    frm[t == "restock"] = "RET"
    to[t == "damage"] = "DMG"
    day = np.sort(rng.integers(0, 365, rows))
    day[first] = 0
    dates = START + pd.to_timedelta(day, "D")
    receipt = t == "receive"
    batch_rows = receipt & tracked[sku_i]
    batch = np.full(rows, None, dtype=object)
    batch[batch_rows] = np.char.add("B", rng.integers(0, 10**6, batch_rows.sum()).astype(str)).astype(object)
    shelf = rng.integers(90, 400, rows)
    expiry = pd.Series(pd.NaT, index=range(rows), dtype="datetime64[ns]")
    expiry[batch_rows] = (dates + pd.to_timedelta(shelf, "D"))[batch_rows]
    cost = np.where(receipt, unit_cost[sku_i], np.nan)
    reference = np.full(rows, None, dtype=object)
    on_po = receipt & (rng.random(rows) < 0.5)
    reference[on_po] = np.char.add("PO", np.arange(on_po.sum()).astype(str)).astype(object)
    sale = t == "sale"
    channel = np.full(rows, None, dtype=object)
    channel[sale] = rng.choice(channels, sale.sum())
    reason = np.full(rows, None, dtype=object)
    for k, why in (("return", ("too small", "changed mind", "faulty")), ("damage", ("dropped", "water")),
                   ("loss", ("shrinkage", "theft")), ("adjust", ("recount",)), ("vendor-return", ("faulty",))):
        mask = t == k
        reason[mask] = rng.choice(np.array(why, dtype=object), mask.sum())
    user = np.where(t == "adjust", "owner", None).astype(object)
    frame = pd.DataFrame(dict(zip(MOVEMENT_COLUMNS, (
        np.char.add("M", np.arange(1, rows + 1).astype(str)).astype(object), dates, t.astype(object),
        sku_codes[sku_i], qty, frm, to, batch, expiry.to_numpy(), cost, reference, channel, reason, user))))
    receipts = frame.loc[on_po, ["Reference", "SKU", "Qty", "Date", "Unit cost"]]
    return frame, receipts


def _counts(movements: pd.DataFrame, rng, plain_codes, home, excluded: set, n: int) -> pd.DataFrame:
    """Counts at SKUs' home locations, nine in ten matching the book, the rest a few units off.

    The book at each count is the running sum of the movements in and out of that place up to the
    end of the count's day; a count resets the book, so each count's offset is added to the running
    offsets before it (the ledger then sees exactly that count's own variance).
    """
    legs = pd.concat([
        pd.DataFrame({"sku": movements["SKU"], "loc": movements["To location"], "date": movements["Date"],
                      "qty": movements["Qty"]}),
        pd.DataFrame({"sku": movements["SKU"], "loc": movements["From location"], "date": movements["Date"],
                      "qty": -movements["Qty"]}),
    ]).dropna(subset=["loc"])
    pick = rng.integers(0, len(plain_codes), n)
    counts = pd.DataFrame({"date": START + pd.to_timedelta(rng.integers(0, 365, n), "D"),
                           "sku": plain_codes[pick], "loc": home[pick]})
    counts = counts[~counts["sku"].isin(excluded)].drop_duplicates(["date", "loc", "sku"])
    daily = legs.groupby(["sku", "loc", "date"])["qty"].sum().groupby(level=[0, 1]).cumsum().rename("book")
    counts = counts.sort_values("date", kind="stable").reset_index(drop=True)
    merged = pd.merge_asof(counts, daily.reset_index().sort_values("date"), on="date", by=["sku", "loc"])
    book = merged["book"].fillna(0.0).clip(lower=0)
    offset = np.where(rng.random(len(counts)) < 0.1, rng.integers(-3, 4, len(counts)), 0).astype(float)
    running = pd.Series(offset).groupby([counts["sku"], counts["loc"]]).cumsum().to_numpy()
    counted = np.maximum(book.to_numpy() + running, 0.0)
    return pd.DataFrame({"Date": counts["date"], "Location": counts["loc"], "SKU": counts["sku"],
                         "Counted qty": counted, "Counter": "sam"})


def _purchases(receipts: pd.DataFrame, rng, plain_codes, sku_supplier, unit_cost) -> pd.DataFrame:
    """The closed purchase order lines behind the receipts, and 5,000 open ones."""
    pos = pd.Index(plain_codes).get_indexer(receipts["SKU"])
    lead = rng.integers(5, 30, len(receipts))
    closed = pd.DataFrame({
        "PO": receipts["Reference"].to_numpy(), "Supplier": sku_supplier[pos], "SKU": receipts["SKU"].to_numpy(),
        "Qty": receipts["Qty"].to_numpy() + rng.integers(0, 3, len(receipts)),
        "Ordered": receipts["Date"].to_numpy() - pd.to_timedelta(lead, "D"),
        "Expected": receipts["Date"].to_numpy() - pd.to_timedelta(rng.integers(-3, 4, len(receipts)), "D"),
        "Unit cost": receipts["Unit cost"].to_numpy(), "Status": "closed",
    })
    pick = rng.permutation(len(plain_codes))[:5000]
    open_lines = pd.DataFrame({
        "PO": [f"OPO{i // 10:04d}" for i in range(len(pick))], "Supplier": sku_supplier[pick],
        "SKU": plain_codes[pick], "Qty": 100.0, "Ordered": AS_OF - pd.Timedelta(days=10),
        "Expected": AS_OF + pd.Timedelta(days=10), "Unit cost": unit_cost[pick], "Status": "open",
    })
    return pd.concat([closed, open_lines], ignore_index=True)


class SharedStrings:
    """The workbook's shared-strings table: each distinct text once, cells refer to it by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def codes(self, values: pd.Series) -> np.ndarray:
        """The index of every value's string (-1 for blanks), adding new strings to the table."""
        local, uniques = pd.factorize(values, use_na_sentinel=True)
        table = np.array([self.index.setdefault(str(u), len(self.index)) for u in uniques], dtype=np.int64)
        return np.where(local >= 0, table[np.maximum(local, 0)] if len(table) else -1, -1)

    def xml(self) -> Iterator[bytes]:
        n = len(self.index)
        yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{NS}" count="{n}" '
               f'uniqueCount="{n}">').encode()
        items = list(self.index)
        for i in range(0, n, BLOCK):
            yield "".join(f"<si><t>{escape(s)}</t></si>" for s in items[i:i + BLOCK]).encode()
        yield b"</sst>"


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _cells(values: pd.Series, kind: str, letter: str, rows: np.ndarray, sst: SharedStrings) -> np.ndarray:
    """Each value's <c> element (empty text for a blank), as an object array of str."""
    ref = f'<c r="{letter}'
    if kind == "s":
        codes = sst.codes(values)
        body = pd.Series(codes).astype(str).to_numpy(dtype=object)
        out = ref + rows + '" t="s"><v>' + body + "</v></c>"
        return np.where(codes >= 0, out, "")
    if kind == "d":
        stamps = pd.to_datetime(values)
        serial = (stamps - EPOCH).dt.days
        ok = serial.notna().to_numpy()
        body = serial.fillna(0).astype("int64").astype(str).to_numpy(dtype=object)
        return np.where(ok, ref + rows + '" s="1"><v>' + body + "</v></c>", "")
    numbers = pd.to_numeric(values)
    ok = numbers.notna().to_numpy()
    body = numbers.map(repr).to_numpy(dtype=object)  # repr keeps every digit; '12.0' reads back as 12
    return np.where(ok, ref + rows + '"><v>' + body + "</v></c>", "")


def sheet_xml(spec: SheetSpec, sst: SharedStrings) -> Iterator[bytes]:
    """The worksheet part, block by block."""
    frame = spec.frame
    last = f"{_letter(len(frame.columns) - 1)}{len(frame) + 1}"
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" '
           f'xmlns:r="{REL_NS}"><dimension ref="A1:{last}"/><sheetData>').encode()
    header = pd.Series(list(frame.columns), dtype=object)
    head_cells = _cells(header, "s", "", np.array([f"{_letter(i)}1" for i in range(len(header))], dtype=object), sst)
    yield ('<row r="1">' + "".join(head_cells) + "</row>").encode()
    for start in range(0, len(frame), BLOCK):
        block = frame.iloc[start:start + BLOCK]
        rows = np.arange(start + 2, start + 2 + len(block)).astype(str).astype(object)
        line = '<row r="' + rows + '">'
        for i, col in enumerate(frame.columns):
            line = line + _cells(block[col].reset_index(drop=True), spec.kinds[col], _letter(i), rows, sst)
        yield ("".join(line + "</row>")).encode()
    yield b"</sheetData></worksheet>"


def write_workbook(path: str | Path, sheets: list[SheetSpec]) -> Path:
    """Write the sheets as an .xlsx package (shared strings, a date style), streaming each part."""
    path = Path(path)
    sst = SharedStrings()
    n = len(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("[Content_Types].xml", _content_types(n))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
            f'"{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
            '<sheets>' + "".join(f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                                 for i, s in enumerate(sheets, 1)) + "</sheets></workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
            + f'<Relationship Id="rId{n + 2}" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
            + "</Relationships>"))
        zf.writestr("xl/styles.xml", _STYLES)
        for i, spec in enumerate(sheets, 1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as fh:
                for chunk in sheet_xml(spec, sst):
                    fh.write(chunk)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            for chunk in sst.xml():
                fh.write(chunk)
    return path


def _content_types(n: int) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sheet}.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet}.worksheet+xml"/>'
                      for i in range(1, n + 1))
            + f'<Override PartName="/xl/styles.xml" ContentType="{sheet}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sheet}.sharedStrings+xml"/></Types>')


# Style 0 is the default; style 1 shows a date (built-in number format 14), as Excel stores dates.
_STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{NS}">'
           '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def split_ledger(sheets: list[SheetSpec], parts: int) -> list[SheetSpec]:
    """The Movements sheet split into `parts` ledger sheets: the newest rows stay on "Movements",
    older ones go to "Movements <year>"-style sheets named by their first date's year and part."""
    if parts <= 1:
        return sheets
    out: list[SheetSpec] = []
    for spec in sheets:
        if spec.name != "Movements":
            out.append(spec)
            continue
        chunks = np.array_split(np.arange(len(spec.frame)), parts)
        for k, idx in enumerate(chunks):
            frame = spec.frame.iloc[idx].reset_index(drop=True)
            name = "Movements" if k == parts - 1 else f"Movements {START.year} part {k + 1}"
            out.append(SheetSpec(name, frame, spec.kinds))
    return out


def generate(path: str | Path, rows: int, *, skus: int = 10_000, seed: int = 1, sheets: int = 1) -> Path:
    """Write a store workbook with `rows` movements to `path`."""
    return write_workbook(path, split_ledger(store_frames(rows, skus, seed), sheets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sheets", type=int, default=1, help="ledger sheets to split Movements over")
    args = parser.parse_args()
    generate(args.path, args.rows, skus=args.skus, seed=args.seed, sheets=args.sheets)


if __name__ == "__main__":
    main()
