"""The demo store's fixed parts: its products, places, suppliers, channels and bundles.

A small online clothing and home store, "Fern & Thread". Each product family takes its daily orders
from one stock code of a real shop (samples/data/README.md); its variants share those orders by
size and colour popularity. build_demo.py simulates a year of trading on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass

APPAREL_REASONS = ("too small", "too big", "changed mind", "faulty", "not as described")
GOODS_REASONS = ("changed mind", "faulty", "arrived damaged")
SIZE_WEIGHT = {"XS": 0.08, "S": 0.2, "M": 0.32, "L": 0.26, "XL": 0.14}


@dataclass(frozen=True)
class Family:
    """A product and its variants (size x colour), with the real stock code that drives its demand."""

    code: str  # the real shop's stock code
    prefix: str  # SKU prefix, e.g. TEE-ORG
    name: str
    category: str
    supplier: str
    sizes: tuple[str, ...]
    colours: tuple[tuple[str, str], ...]  # (code, name), most popular first
    cost: float
    price: float
    case_pack: int
    tracking: str = "none"
    shelf_life: int | None = None
    returnable: bool = True  # hygiene goods are not taken back
    stocked_at: tuple[str, ...] = ("MAIN",)
    aisle: str = "A"
    min_order_qty: int | None = None
    reasons: tuple[str, ...] = APPAREL_REASONS

    def variants(self) -> list[tuple[str, str, float]]:
        """(sku, variant, share of the family's demand) for every variant."""
        colour_w = [1 / (i + 1.5) for i in range(len(self.colours))]
        sizes = self.sizes or ("",)
        size_w = [SIZE_WEIGHT.get(s, 1.0) for s in sizes]
        out = []
        for size, sw in zip(sizes, size_w):
            for (code, colour), cw in zip(self.colours, colour_w):
                sku = "-".join(p for p in (self.prefix, size, code) if p)
                out.append((sku, f"{size} / {colour}" if size else colour, sw * cw))
        total = sum(w for _, _, w in out)
        return [(s, v, w / total) for s, v, w in out]


UK_AND_EU = ("MAIN", "SOUTH", "EU")
UK = ("MAIN", "SOUTH")
FAMILIES: tuple[Family, ...] = (
    Family("85123A", "TEE-ORG", "Organic tee", "Tops", "SUP-TEX", ("XS", "S", "M", "L", "XL"),
           (("BLU", "Blue"), ("BLK", "Black"), ("WHT", "White")), 6.20, 24.0, 10, stocked_at=UK_AND_EU),
    Family("85099B", "TOTE-CNV", "Canvas tote", "Bags", "SUP-HOME", (),
           (("NAT", "Natural"), ("RED", "Red"), ("BLK", "Black")), 3.10, 15.0, 10, stocked_at=UK_AND_EU,
           aisle="D", reasons=GOODS_REASONS),
    Family("22423", "HOOD-MER", "Merino hoodie", "Tops", "SUP-TEX", ("S", "M", "L", "XL"),
           (("GRY", "Grey"), ("NAV", "Navy")), 21.50, 69.0, 5, stocked_at=UK_AND_EU),
    Family("47566", "SOCK-CRW", "Crew socks", "Socks", "SUP-TEX", ("M", "L"),
           (("GRY", "Grey"), ("BLK", "Black"), ("MUS", "Mustard")), 2.10, 9.0, 12, stocked_at=UK, aisle="B"),
    Family("84879", "BEAN-RIB", "Rib beanie", "Accessories", "SUP-KNIT", (),
           (("MUS", "Mustard"), ("GRY", "Grey"), ("NAV", "Navy"), ("RST", "Rust")), 5.40, 22.0, 6,
           stocked_at=UK, aisle="C"),
    Family("22197", "CNDL-SOY", "Soy candle", "Home", "SUP-HOME", (),
           (("LAV", "Lavender"), ("CED", "Cedar"), ("FIG", "Fig")), 4.60, 18.0, 6, tracking="batch",
           returnable=False, aisle="E"),
    Family("22086", "SCARF-WOL", "Wool scarf", "Accessories", "SUP-KNIT", (),
           (("GRY", "Grey"), ("OAT", "Oatmeal"), ("FOR", "Forest")), 9.80, 39.0, 4, stocked_at=UK, aisle="C"),
    Family("23084", "APRN-LIN", "Linen apron", "Home", "SUP-HOME", (),
           (("SAG", "Sage"), ("CHR", "Charcoal")), 7.20, 28.0, 5, aisle="E", reasons=GOODS_REASONS),
    Family("79321", "TEA-HRB", "Herbal tea", "Pantry", "SUP-BOT", (),
           (("CHM", "Chamomile"), ("MNT", "Peppermint"), ("RBS", "Rooibos")), 2.90, 9.5, 12, tracking="expiry",
           shelf_life=365, returnable=False, aisle="F", min_order_qty=24),
    Family("22502", "SOAP-NAT", "Natural soap", "Bath", "SUP-BOT", (),
           (("LAV", "Lavender"), ("OAT", "Oat"), ("CIT", "Citrus")), 1.70, 7.0, 24, tracking="expiry",
           shelf_life=540, returnable=False, aisle="F", min_order_qty=48),
)

# Bundles: (sku, name, price, {component: qty}, family whose orders sometimes take the bundle, share)
BUNDLES = (
    ("BNDL-GIFT", "Tea and soap gift set", 19.0, {"TEA-HRB-CHM": 1, "SOAP-NAT-LAV": 2}, "TEA-HRB", 0.12),
    ("BNDL-WINTER", "Winter set: beanie and scarf", 55.0, {"BEAN-RIB-MUS": 1, "SCARF-WOL-GRY": 1}, "SCARF-WOL", 0.10),
    ("BNDL-SOCK3", "Crew socks 3-pack (M)", 24.0, {"SOCK-CRW-M-GRY": 1, "SOCK-CRW-M-BLK": 1, "SOCK-CRW-M-MUS": 1},
     "SOCK-CRW", 0.12),
)
DISCONTINUED = ("TEE-ORG-XS-WHT", "BEAN-RIB-RST")

# location, name, kind, sellable, priority, regions
LOCATIONS = (
    ("MAIN", "Main warehouse, Leeds", "stock", "yes", 1, "UK-NORTH"),
    ("SOUTH", "South fulfilment, Reading", "stock", "yes", 2, "UK-SOUTH"),
    ("EU", "EU 3PL, Rotterdam", "stock", "yes", 3, "EU"),
    ("RET", "Returns hold", "returns_hold", "no", None, None),
    ("DMG", "Damaged goods", "damaged", "no", None, None),
)
REGION_HOME = {"UK-NORTH": "MAIN", "UK-SOUTH": "SOUTH", "EU": "EU"}

# supplier, name, email, processing, shipping, customs, receiving, putaway, min order value
SUPPLIERS = (
    ("SUP-TEX", "Northern Textiles Ltd", "orders@northern-textiles.example", 10, 5, 0, 1, 1, 500),
    ("SUP-KNIT", "Baltic Knitwear UAB", "sales@baltic-knit.example", 14, 7, 3, 1, 1, 400),
    ("SUP-HOME", "Hearth and Wick Co", "trade@hearthwick.example", 5, 2, 0, 1, 1, 250),
    ("SUP-BOT", "Botanica Supplies BV", "export@botanica.example", 7, 10, 4, 1, 1, 300),
)

# channel, buffer units, buffer share, locations that feed it; and the share of orders it takes
CHANNELS = (
    ("WEB", 2, None, None),
    ("AMAZON", None, 0.10, "MAIN, SOUTH"),
)
CHANNEL_SHARE = {"WEB": 0.75, "AMAZON": 0.25}
REGION_SHARE = {"WEB": {"UK-NORTH": 0.45, "UK-SOUTH": 0.40, "EU": 0.15},
                "AMAZON": {"UK-NORTH": 0.55, "UK-SOUTH": 0.45}}

ADJUSTERS = ("sam", "priya")
COUNTERS = ("sam", "priya", "jo")
DAMAGE_REASONS = ("dropped in warehouse", "water damage", "packaging crushed", "stained")
LOSS_REASONS = ("not found at pick", "theft suspected", "lost in transit")
ADJUST_REASONS = ("receiving miscount", "found in wrong bin", "unit opened for photos", "mis-pick corrected")


def gtin13(body: str) -> str:
    """A GTIN-13 from its first 12 digits: append the check digit (weights 1, 3 from the left)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)
