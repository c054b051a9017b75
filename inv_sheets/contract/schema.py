"""The workbook contract, declared once.

Every input sheet, column, movement type, setting and output sheet of the store's workbook is
declared here. The reader matches headers with it, the validator checks values against it, the
template builder draws the blank workbook from it and the docs are generated from it: adding a
column is one line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Column types. "code" is an identifier typed by people (SKU, location): text, trimmed, compared
# without regard to case, spaces or look-alike characters.
TEXT, CODE, NUMBER, INTEGER, DATE, BOOL, CHOICE = "text", "code", "number", "integer", "date", "bool", "choice"


@dataclass(frozen=True)
class Column:
    """One column of an input sheet."""

    name: str
    type: str = TEXT
    required: bool = False
    unique: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "Items.sku": every value must exist there
    aliases: tuple[str, ...] = ()
    header: str = ""  # the friendly header the template shows
    help: str = ""
    example: object = None

    @property
    def title(self) -> str:
        return self.header or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Sheet:
    """One input sheet: its columns, the aliases people give it, and whether a store needs it."""

    name: str
    columns: tuple[Column, ...]
    help: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    key: tuple[str, ...] = ()  # columns that together identify a row (duplicates are findings)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def C(name: str, type: str = TEXT, **kw) -> Column:  # noqa: N802 - reads as a table below
    return Column(name, type, **kw)


YES_NO = ("yes", "no")

SHEETS: tuple[Sheet, ...] = (
    Sheet("Items", (
        C("sku", CODE, required=True, unique=True, aliases=("item sku", "product code", "item code", "code", "stock code", "item"), header="SKU",
          help="Your code for one sellable thing; each size or colour is its own SKU", example="TEE-M-BLU"),
        C("name", TEXT, required=True, aliases=("description", "title", "product name", "item name"), help="What it is", example="Organic tee"),
        C("product", TEXT, aliases=("parent", "style", "model"), help="Groups the variants of one product", example="Organic tee"),
        C("variant", TEXT, aliases=("option", "options", "size colour", "size color"), help="e.g. M / Blue", example="M / Blue"),
        C("unit", TEXT, aliases=("uom", "unit of measure"), help="each, box, kg ...", example="each"),
        C("unit_cost", NUMBER, min=0, aliases=("cost", "cost price", "purchase price"), header="Unit cost", help="What one unit costs you", example=4.2),
        C("price", NUMBER, min=0, aliases=("sale price", "retail price", "selling price"), help="What you sell one for", example=19.0),
        C("barcode", CODE, unique=True, aliases=("ean", "upc", "gtin", "ean13"), help="Keep it as text so leading zeros stay", example="4006381333931"),
        C("supplier", CODE, references="Suppliers.supplier", aliases=("vendor", "preferred supplier"), example="SUP-A"),
        C("supplier_sku", TEXT, aliases=("vendor sku", "supplier code", "mpn"), header="Supplier SKU"),
        C("case_pack", INTEGER, min=1, aliases=("pack size", "order multiple", "carton qty", "case qty"), help="Order in multiples of this", example=12),
        C("min_order_qty", NUMBER, min=0, aliases=("moq", "minimum order", "min order"), header="Min order qty"),
        C("safety_stock", NUMBER, min=0, aliases=("safety", "buffer stock"), help="Leave blank to compute it"),
        C("reorder_point", NUMBER, min=0, aliases=("rop", "reorder level", "min stock", "minimum"), help="Leave blank to compute it"),
        C("max_stock", NUMBER, min=0, aliases=("max", "maximum", "order up to"), help="Order up to this when reordering"),
        C("tracking", CHOICE, choices=("none", "batch", "expiry"), aliases=("lot tracking", "batch tracking"), help="batch or expiry: receipts need a batch", example="none"),
        C("shelf_life_days", INTEGER, min=0, aliases=("shelf life",), header="Shelf life (days)"),
        C("status", CHOICE, choices=("active", "discontinued"), aliases=("state",), example="active"),
        C("category", TEXT, aliases=("type", "group", "collection")),
    ), "One row per SKU: the catalogue.", aliases=("products", "skus", "catalogue", "catalog", "item list", "inventory"), required=True, key=("sku",)),
    Sheet("Locations", (
        C("location", CODE, required=True, unique=True, aliases=("location code", "warehouse", "site", "store"), example="MAIN"),
        C("name", TEXT, aliases=("description",), example="Main warehouse"),
        C("kind", CHOICE, choices=("stock", "returns_hold", "damaged", "transit"), aliases=("type", "location type"), example="stock",
          help="stock, returns_hold, damaged or transit"),
        C("sellable", BOOL, choices=YES_NO, aliases=("can sell", "available for sale"), example="yes"),
        C("priority", INTEGER, min=0, aliases=("ship priority", "rank"), help="Lower ships first", example=1),
        C("regions", TEXT, aliases=("serves", "ship regions", "regions served"), help="Ship-to regions it serves fastest, comma separated"),
    ), "Every place stock can be.", aliases=("warehouses", "sites", "places"), key=("location",)),
    Sheet("Item Locations", (
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "product code", "item code")),
        C("location", CODE, required=True, references="Locations.location", aliases=("warehouse", "site")),
        C("bin", CODE, aliases=("bin location", "shelf", "slot", "position")),
        C("reorder_point", NUMBER, min=0, aliases=("rop", "reorder level", "min stock")),
        C("safety_stock", NUMBER, min=0, aliases=("safety",)),
        C("max_stock", NUMBER, min=0, aliases=("max", "maximum")),
    ), "Where each SKU lives (its bin) and per-location reorder rules.", aliases=("item locations", "bins", "stock locations", "sku locations"), key=("sku", "location")),
    Sheet("Suppliers", (
        C("supplier", CODE, required=True, unique=True, aliases=("vendor", "supplier code"), example="SUP-A"),
        C("name", TEXT, aliases=("supplier name", "company")),
        C("email", TEXT, aliases=("e-mail", "mail")),
        C("processing_days", NUMBER, min=0, aliases=("processing",), header="Processing days"),
        C("shipping_days", NUMBER, min=0, aliases=("shipping", "transit days"), header="Shipping days"),
        C("customs_days", NUMBER, min=0, aliases=("customs",), header="Customs days"),
        C("receiving_days", NUMBER, min=0, aliases=("receiving",), header="Receiving days"),
        C("putaway_days", NUMBER, min=0, aliases=("putaway", "put away days"), header="Put-away days"),
        C("lead_time_days", NUMBER, min=0, aliases=("lead time", "lead days"), header="Lead time (days)", help="Total, if not given in parts"),
        C("min_order_value", NUMBER, min=0, aliases=("minimum order value", "mov"), header="Min order value"),
    ), "Who you buy from and how long they take.", aliases=("vendors",), key=("supplier",)),
    Sheet("Movements", (
        C("movement_id", CODE, required=True, unique=True, aliases=("id", "movement", "txn id", "transaction id", "entry"), header="Movement ID"),
        C("date", DATE, required=True, aliases=("when", "movement date", "txn date")),
        C("type", CHOICE, required=True, aliases=("movement type", "kind", "transaction type"), help="receive, sale, return, restock, damage, loss, transfer, adjust, vendor-return"),
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "product code", "item code", "item")),
        C("qty", NUMBER, required=True, aliases=("quantity", "units", "amount"), header="Qty"),
        C("from_location", CODE, references="Locations.location", aliases=("from", "source", "from warehouse")),
        C("to_location", CODE, references="Locations.location", aliases=("to", "destination", "to warehouse")),
        C("batch", CODE, aliases=("lot", "batch number", "lot number")),
        C("expiry", DATE, aliases=("expires", "expiry date", "best before", "use by")),
        C("unit_cost", NUMBER, min=0, aliases=("cost",), header="Unit cost"),
        C("reference", CODE, aliases=("ref", "po", "order", "document")),
        C("channel", CODE, references="Channels.channel", aliases=("sales channel",)),
        C("reason", TEXT, aliases=("why", "cause")),
        C("user", TEXT, aliases=("who", "by", "staff", "person")),
        C("note", TEXT, aliases=("notes", "comment", "memo")),
    ), "The ledger: one row per stock movement. Append only.", aliases=("ledger", "transactions", "stock movements", "moves", "journal"), required=True, key=("movement_id",)),
    Sheet("Counts", (
        C("date", DATE, required=True, aliases=("count date", "counted on")),
        C("location", CODE, required=True, references="Locations.location", aliases=("warehouse",)),
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "product code", "item code")),
        C("batch", CODE, aliases=("lot",)),
        C("counted_qty", NUMBER, required=True, min=0, aliases=("counted", "count", "qty counted", "quantity counted"), header="Counted qty"),
        C("counter", TEXT, aliases=("counted by", "who", "user")),
        C("bin", CODE, aliases=("shelf", "slot")),
    ), "Physical counts: the counted quantity replaces the book quantity at its date.", aliases=("stock counts", "stocktake", "cycle counts", "count"), key=("date", "location", "sku", "batch")),
    Sheet("Orders", (
        C("order", CODE, required=True, aliases=("order id", "order number", "order no", "order #")),
        C("date", DATE, aliases=("order date",)),
        C("channel", CODE, references="Channels.channel", aliases=("sales channel", "source")),
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "product code", "item code")),
        C("qty", NUMBER, required=True, min=0, aliases=("quantity", "units"), header="Qty"),
        C("region", CODE, aliases=("ship to region", "ship region", "destination", "country")),
        C("status", CHOICE, choices=("open", "shipped", "cancelled"), aliases=("order status",), example="open"),
    ), "Customer order lines; open lines reserve stock.", aliases=("sales orders", "open orders", "customer orders"), key=("order", "sku")),
    Sheet("Purchases", (
        C("po", CODE, required=True, header="PO", aliases=("po number", "purchase order", "po #", "po no")),
        C("supplier", CODE, required=True, references="Suppliers.supplier", aliases=("vendor",)),
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "product code", "item code")),
        C("qty", NUMBER, required=True, min=0, aliases=("quantity", "ordered qty", "units"), header="Qty"),
        C("ordered", DATE, aliases=("order date", "ordered on", "date")),
        C("expected", DATE, aliases=("expected date", "due", "eta")),
        C("unit_cost", NUMBER, min=0, aliases=("cost",), header="Unit cost"),
        C("status", CHOICE, choices=("open", "closed", "cancelled"), aliases=("po status",), example="open"),
    ), "Purchase order lines; open lines are stock on order.", aliases=("purchase orders", "pos"), key=("po", "sku")),
    Sheet("Bundles", (
        C("bundle_sku", CODE, required=True, references="Items.sku", header="Bundle SKU", aliases=("bundle", "kit", "kit sku", "parent sku")),
        C("component_sku", CODE, required=True, references="Items.sku", header="Component SKU", aliases=("component", "part", "child sku")),
        C("qty", NUMBER, required=True, min=0, aliases=("quantity", "qty per bundle", "units"), header="Qty"),
    ), "Bundles and kits: selling one consumes its components.", aliases=("kits", "bom", "bill of materials"), key=("bundle_sku", "component_sku")),
    Sheet("Channels", (
        C("channel", CODE, required=True, unique=True, aliases=("sales channel", "marketplace")),
        C("buffer_units", NUMBER, min=0, aliases=("buffer", "reserve units"), header="Buffer units"),
        C("buffer_pct", NUMBER, min=0, max=1, aliases=("buffer %", "buffer percent", "reserve pct"), header="Buffer %"),
        C("locations", TEXT, aliases=("feeds from", "warehouses"), help="Locations that feed it, comma separated; blank = every sellable one"),
    ), "Where you sell, and how much to hold back on each.", aliases=("sales channels", "marketplaces"), key=("channel",)),
    Sheet("Channel SKUs", (
        C("channel", CODE, required=True, references="Channels.channel", aliases=("sales channel", "marketplace")),
        C("channel_sku", CODE, aliases=("listing sku", "shop sku", "seller sku", "channel code"), header="Channel SKU",
          help="The SKU the shop's export shows, when it differs from yours"),
        C("listing", TEXT, aliases=("listing name", "title", "product title", "item name"),
          help="The listing's exact name in the export (\"Title - Variant\"), for lines without a SKU"),
        C("sku", CODE, required=True, references="Items.sku", header="SKU", aliases=("item sku", "your sku")),
    ), "How a shop's order lines name your SKUs: read by `inv-sheets import`.", aliases=("sku map", "listing map", "channel sku map")),
    Sheet("Import Maps", (
        C("map", CODE, required=True, aliases=("import map", "format", "name")),
        C("field", CHOICE, required=True, choices=("order", "line", "date", "sku", "listing", "qty", "status", "channel"),
          aliases=("import field",)),
        C("header", TEXT, required=True, aliases=("column", "csv column", "file column"), help="The column's header in the file"),
    ), "Column maps for `inv-sheets import --from csv`, kept so the next import needs no flags.", aliases=("column maps",), key=("map", "field")),
    Sheet("Promotions", (
        C("name", TEXT, aliases=("promotion", "promo", "campaign")),
        C("start", DATE, required=True, aliases=("from", "start date", "begins")),
        C("end", DATE, required=True, aliases=("to", "end date", "until", "ends")),
        C("sku", CODE, references="Items.sku", header="SKU", aliases=("item sku",), help="Blank = every SKU"),
        C("channel", CODE, references="Channels.channel", help="Blank = every channel"),
    ), "Promo periods: their sales are kept out of normal demand.", aliases=("promos", "campaigns", "sales events")),
    Sheet("Settings", (
        C("key", CODE, required=True, unique=True, aliases=("setting", "name", "parameter")),
        C("value", TEXT, aliases=("setting value",)),
        C("note", TEXT, header="What it means", aliases=("meaning", "description", "help")),
    ), "Key and value pairs; every one is optional.", aliases=("config", "configuration", "options"), key=("key",)),
)

SHEET = {s.name: s for s in SHEETS}
TEMPLATE_SHEETS = ("Start", "Lists")  # the template's own guide and dropdown lists: not data


@dataclass(frozen=True)
class MovementType:
    """How one movement type moves stock: where from, where to, and what it must carry.

    `source`/`target` name the kind of place: "outside:<name>" is a place beyond the store's walls
    (the ledger's counterweight), otherwise a location kind ("stock", "returns_hold", "damaged",
    "any"). A default names the Settings key that supplies the location when the row leaves it blank.
    """

    name: str
    aliases: tuple[str, ...]
    source: str
    target: str
    source_default: str | None = None
    target_default: str | None = None
    reason_required: bool = False
    user_required: bool = False
    signed: bool = False  # adjust: the sign of qty says which way
    help: str = ""


MOVEMENT_TYPES: tuple[MovementType, ...] = (
    MovementType("receive", ("receipt", "purchase", "in", "received", "receiving"), "outside:supplier", "stock",
                 target_default="default_location", help="Goods in from a supplier; reference may name the PO"),
    MovementType("sale", ("sold", "ship", "shipped", "out", "sell", "shipment"), "sellable", "outside:customer",
                 source_default="default_location", help="Goods out to a customer; reference may name the order"),
    MovementType("return", ("returned", "customer return", "rma"), "outside:customer", "returns_hold",
                 target_default="returns_location", help="Back from a customer into the returns hold"),
    MovementType("restock", ("restocked", "return to stock"), "returns_hold", "stock",
                 source_default="returns_location", target_default="default_location", help="From the returns hold back to stock after inspection"),
    MovementType("damage", ("damaged", "write-off", "writeoff", "write off", "scrap", "scrapped"), "any", "damaged",
                 source_default="default_location", target_default="damaged_location", reason_required=True, help="Out of sellable stock into the damaged location (or scrap)"),
    MovementType("loss", ("lost", "theft", "shrinkage", "missing"), "any", "outside:adjustment",
                 source_default="default_location", reason_required=True, help="Gone: lost, stolen, shrinkage"),
    MovementType("transfer", ("move", "moved", "transferred", "relocate"), "any", "any",
                 help="From one location to another"),
    MovementType("adjust", ("adjustment", "correction", "adj"), "outside:adjustment", "any",
                 target_default="default_location", reason_required=True, user_required=True, signed=True,
                 help="A signed correction with reason and who"),
    MovementType("vendor-return", ("vendor return", "return to vendor", "rtv", "supplier return"), "any", "outside:supplier",
                 source_default="default_location", help="Back to the supplier; reference = the PO"),
)

MOVEMENT_TYPE = {t.name: t for t in MOVEMENT_TYPES}
OUTSIDE_PLACES = ("supplier", "customer", "adjustment", "scrap")


@dataclass(frozen=True)
class Setting:
    key: str
    type: str
    default: object
    help: str
    most: int | None = None  # the largest value a day count may take: beyond it dates overflow


MAX_SETTING_DAYS = 3660  # ten years of days: more is a typing slip, and far more overflows date arithmetic


SETTINGS: tuple[Setting, ...] = (
    Setting("as_of", DATE, None, "The day the figures are for; blank = today"),
    Setting("store_name", TEXT, None, "The store's name, printed at the top of every output sheet's pages"),
    Setting("demand_days", INTEGER, 90, "Days of sales history behind average demand", MAX_SETTING_DAYS),
    Setting("min_history_days", INTEGER, 30, "Less history than this is flagged as thin", MAX_SETTING_DAYS),
    Setting("service_level", NUMBER, 0.95, "Chance of not running out during a lead time (0.5 to 0.999)"),
    Setting("near_expiry_days", INTEGER, 30, "Batches expiring within this many days are flagged", MAX_SETTING_DAYS),
    Setting("abc_a", NUMBER, 0.80, "Cumulative value share of class A"),
    Setting("abc_b", NUMBER, 0.95, "Cumulative value share of classes A and B"),
    # A monthly, B quarterly, C twice a year: a few counts a day that one person keeps up with
    # (docs/counts-and-kpis.md says where these come from and when to count more often).
    Setting("count_every_days_a", INTEGER, 30, "Count class A SKUs every this many days", MAX_SETTING_DAYS),
    Setting("count_every_days_b", INTEGER, 90, "Count class B SKUs every this many days", MAX_SETTING_DAYS),
    Setting("count_every_days_c", INTEGER, 180, "Count class C SKUs every this many days", MAX_SETTING_DAYS),
    Setting("count_tolerance_a", NUMBER, 0.01, "Allowed count variance for class A (share of book)"),
    Setting("count_tolerance_b", NUMBER, 0.03, "Allowed count variance for class B"),
    Setting("count_tolerance_c", NUMBER, 0.05, "Allowed count variance for class C"),
    Setting("review_every_days_a", INTEGER, 7, "Review reorder of class A every this many days", MAX_SETTING_DAYS),
    Setting("review_every_days_b", INTEGER, 14, "Review reorder of class B every this many days", MAX_SETTING_DAYS),
    Setting("review_every_days_c", INTEGER, 30, "Review reorder of class C every this many days", MAX_SETTING_DAYS),
    Setting("max_order_days", INTEGER, 180, "A suggested order lasting longer than this many days of demand is flagged",
            MAX_SETTING_DAYS),
    Setting("default_location", CODE, None, "Where receipts go and sales come from when a row leaves it blank"),
    Setting("returns_location", CODE, None, "The returns hold (default: the one location of kind returns_hold)"),
    Setting("damaged_location", CODE, None, "Where damaged goods go (default: the one location of kind damaged)"),
    Setting("date_order", CHOICE, None, "How to read dates like 03/04/2026: DMY or MDY; blank = report them"),
    Setting("adjusters", TEXT, None, "Who may adjust stock, comma separated; blank = anyone"),
)

SETTING = {s.key: s for s in SETTINGS}
DATE_ORDERS = ("DMY", "MDY", "YMD")


# Output sheets ------------------------------------------------------------------------------------
# Kinds drive number formats and widths in the writer: "int" whole numbers, "number" a quantity
# (whole, or with 2 decimals when any value of the column is not), "decimal" a measured figure with
# 2 decimals (demand, its spread, lead times), "money" 2 decimals, "pct" a rate shown as %.
OUT_TEXT, OUT_INT, OUT_NUM, OUT_DEC, OUT_MONEY, OUT_PCT, OUT_DATE, OUT_BOOL, OUT_LINK = (
    "text", "int", "number", "decimal", "money", "pct", "date", "bool", "link")


@dataclass(frozen=True)
class OutColumn:
    name: str
    kind: str = OUT_TEXT
    header: str = ""
    help: str = ""
    wrap: bool = False  # long text (a reason, a message) wraps in a capped width instead of running on

    @property
    def title(self) -> str:
        return self.header or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Output:
    """An output sheet the toolkit owns and replaces on every refresh.

    Columns are declared in reading order: what the sheet decides first, the figures behind it
    after. `page_break_on` names the columns whose every new value starts a new printed page (a pick
    list per location, a purchase order per supplier, a count plan per day and location).
    """

    name: str
    columns: tuple[OutColumn, ...]
    help: str
    table: str = field(default="")  # Excel table name; stable so user formulas can name it
    page_break_on: tuple[str, ...] = ()

    @property
    def table_name(self) -> str:
        return self.table or "tbl" + re.sub(r"\W", "", self.name)

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def O(name: str, kind: str = OUT_TEXT, header: str = "", help: str = "", wrap: bool = False) -> OutColumn:  # noqa: E741,N802
    return OutColumn(name, kind, header, help, wrap)


OUTPUTS: tuple[Output, ...] = (
    Output("Summary", (
        O("what"), O("value", OUT_INT, help="a count, or the as-of date"),
        O("see", OUT_LINK, help="the sheet that lists them"),
    ), "The state of the store after the last refresh, on one screen: read it first."),
    Output("Stock", (
        O("sku", header="SKU"), O("name"), O("location"), O("bin"), O("on_hand", OUT_NUM, "On hand"),
        O("reserved", OUT_NUM), O("short", OUT_NUM, help="open order units no location can ship"),
        O("available", OUT_NUM), O("on_order", OUT_NUM, "On order"),
        O("unit_cost", OUT_MONEY, "Unit cost"), O("value", OUT_MONEY), O("days_of_cover", OUT_DEC, "Days of cover"),
        O("status", help="ok, low, out or negative"),
    ), "Stock on hand, reserved and available for every SKU at every location."),
    Output("Reorder", (
        O("sku", header="SKU"), O("name"), O("flag", help="reorder or ok"), O("suggested_qty", OUT_NUM, "Suggested qty"),
        O("supplier"), O("why", wrap=True), O("location"),
        O("available", OUT_NUM), O("on_order", OUT_NUM, "On order"),
        O("short", OUT_NUM, help="open order units no location can ship"), O("position", OUT_NUM),
        O("reorder_point", OUT_NUM, "Reorder point"), O("safety_stock", OUT_NUM, "Safety stock"),
        O("order_up_to", OUT_NUM, "Order up to"), O("max_stock", OUT_NUM, "Max stock"),
        O("daily_demand", OUT_DEC, "Daily demand"), O("demand_sd", OUT_DEC, "Demand SD"),
        O("lead_time_days", OUT_DEC, "Lead time (days)"), O("lead_time_sd", OUT_DEC, "Lead time SD"),
        O("review_days", OUT_INT, "Review every (days)"), O("case_pack", OUT_INT, "Case pack"),
        O("min_order_qty", OUT_NUM, "Min order qty"), O("abc", header="ABC"), O("next_review", OUT_DATE, "Next review"),
    ), "What to reorder now, how much, and why."),
    Output("Purchase Plan", (
        O("supplier"), O("sku", header="SKU"), O("name"), O("qty", OUT_NUM, "Qty"), O("unit_cost", OUT_MONEY, "Unit cost"),
        O("line_value", OUT_MONEY, "Line value"), O("order_value", OUT_MONEY, "Order value"),
        O("min_order_value", OUT_MONEY, "Min order value"), O("meets_min_order", OUT_BOOL, "Meets min order"),
    ), "Suggested orders grouped into one draft PO per supplier.", page_break_on=("supplier",)),
    Output("Variance", (
        O("date", OUT_DATE), O("location"), O("sku", header="SKU"), O("book_qty", OUT_NUM, "Book qty"),
        O("counted_qty", OUT_NUM, "Counted qty"), O("variance_qty", OUT_NUM, "Variance qty"),
        O("variance_value", OUT_MONEY, "Variance value"), O("variance_pct", OUT_PCT, "Variance %"),
        O("within_tolerance", OUT_BOOL, "Within tolerance"), O("repeat_offender", OUT_BOOL, "Repeat offender"),
        O("batch"), O("abc", header="ABC"), O("tolerance", OUT_PCT),
        O("last_receipt", OUT_DATE, "Last receipt"), O("last_return", OUT_DATE, "Last return"),
        O("last_adjustment", OUT_DATE, "Last adjustment"),
    ), "Every count against the book at that moment, with the dates that hint at a cause."),
    Output("Count Plan", (
        O("due", OUT_DATE), O("location"), O("bin"), O("sku", header="SKU"), O("name"), O("abc", header="ABC"),
        O("last_counted", OUT_DATE, "Last counted"), O("every_days", OUT_INT, "Every (days)"),
        O("counted", header="Counted", help="empty: tick it or write the count on the printed plan"),
    ), "Which SKU-locations to count, and when.", page_break_on=("due", "location")),
    Output("Expiry", (
        O("sku", header="SKU"), O("batch"), O("location"), O("expiry", OUT_DATE), O("qty", OUT_NUM, "Qty"),
        O("days_left", OUT_INT, "Days left"), O("flag", help="expired or near"),
    ), "Every batch on hand with its expiry."),
    Output("Bundle Stock", (
        O("bundle_sku", header="Bundle SKU"), O("available", OUT_INT), O("limiting_component", header="Limiting component"),
    ), "How many of each bundle the components allow."),
    Output("Channel Stock", (
        O("channel"), O("sku", header="SKU"), O("available", OUT_NUM), O("buffer", OUT_NUM), O("sellable", OUT_NUM),
    ), "What to publish on each sales channel, after its buffer."),
    Output("Allocation", (
        O("order"), O("sku", header="SKU"), O("qty", OUT_NUM, "Qty"), O("location"), O("bin"), O("batch"),
        O("status", help="allocated, split or short"),
    ), "Where each open order line ships from."),
    Output("Pick List", (
        O("location"), O("bin"), O("sku", header="SKU"), O("name"), O("variant"), O("batch"), O("qty", OUT_NUM, "Qty"),
        O("picked", header="Picked", help="empty: tick it on the printed list"), O("order"),
    ), "What to pick at each location, in bin order.", page_break_on=("location",)),
    Output("Returns", (
        O("view", help="the block a row is in: reasons, reasons by SKU, return rate or in the hold (filter on it)"),
        O("reason"), O("units", OUT_NUM), O("share", OUT_PCT), O("sku", header="SKU"), O("location"),
        O("qty", OUT_NUM, "Qty"), O("days_waiting", OUT_INT, "Days waiting"),
        O("sold", OUT_NUM, help="units of the SKU sold in the window"),
        O("return_rate", OUT_PCT, "Return rate", "returned / sold in the window"),
    ), "Why goods come back, and what waits in the returns hold."),
    Output("KPIs", (
        O("week", OUT_DATE), O("inventory_accuracy", OUT_PCT, "Inventory accuracy"),
        O("stockout_rate", OUT_PCT, "Stockout rate"), O("turnover", OUT_DEC), O("days_on_hand", OUT_DEC, "Days on hand"),
        O("sell_through", OUT_PCT, "Sell-through"),
        O("counted", OUT_INT, "SKU-locations counted"), O("counted_within", OUT_INT, "Within tolerance"),
        O("sku_days", OUT_INT, "Active SKU-days"), O("stockout_days", OUT_INT, "Stockout SKU-days"),
        O("units_sold", OUT_NUM, "Units sold"), O("units_on_hand", OUT_NUM, "Units on hand"),
        O("cogs", OUT_MONEY, "COGS"), O("inventory_start", OUT_MONEY, "Inventory at start"),
        O("inventory_end", OUT_MONEY, "Inventory at end"), O("average_inventory", OUT_MONEY, "Average inventory"),
    ), "The weekly numbers to review, with the counts behind each."),
    Output("Setup Checklist", (
        O("step"), O("status", help="done or to do"), O("missing"),
    ), "The guide's 30-day setup, as a live status."),
    Output("Issues", (
        O("cell", OUT_LINK), O("sheet"), O("row", OUT_INT), O("column"), O("severity"), O("code"), O("message", wrap=True),
    ), "Every problem found, at its cell."),
    Output("Definitions", (
        O("sheet"), O("term"), O("definition", wrap=True),
    ), "What each sheet's terms and figures mean; each sheet's header line links to its block."),
)

OUTPUT = {o.name: o for o in OUTPUTS}


# Forgiving names ----------------------------------------------------------------------------------
_LOOKALIKE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "",
})


def fold(text: object) -> str:
    """Fold a name for forgiving matching: case, spaces, underscores, punctuation and look-alikes ignored."""
    s = unicodedata.normalize("NFKC", str(text)).translate(_LOOKALIKE).casefold()
    return re.sub(r"[\W_]+", "", s.replace("%", "pct"))  # "Buffer %" is buffer_pct, not buffer


def _index(pairs) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, names in pairs:
        for n in names:
            out.setdefault(fold(n), canonical)
    return out


SHEET_BY_FOLDED = _index((s.name, (s.name, *s.aliases)) for s in SHEETS)
COLUMN_BY_FOLDED = {
    s.name: _index((c.name, (c.name, c.title, *c.aliases)) for c in s.columns) for s in SHEETS}
MOVEMENT_TYPE_BY_FOLDED = _index((t.name, (t.name, *t.aliases)) for t in MOVEMENT_TYPES)
OUTPUT_BY_FOLDED = _index((o.name, (o.name,)) for o in OUTPUTS)


def match_sheet(name: str) -> str | None:
    """The canonical input sheet a workbook sheet name stands for, if any."""
    return SHEET_BY_FOLDED.get(fold(name))


def match_column(sheet: str, header: object) -> str | None:
    """The canonical column a header stands for on a sheet, if any."""
    return COLUMN_BY_FOLDED[sheet].get(fold(header))
