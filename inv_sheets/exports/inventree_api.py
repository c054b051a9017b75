"""The direct push into InvenTree through its REST API, with InvenTree's own client (`inventree`).

    result = push(snapshot, connect(url, token), currency="EUR")

`push` creates what the workbook holds (inventree.plan: categories, locations, companies, parts,
supplier parts, BOM items, stock items) in that order, and every reference is the id the server
returned for the record it points at, never a predicted one. It is idempotent: each record is
first looked up on the server by its natural key (a category's name, a location's path, a part's
IPN or a template's name, a company's name, a supplier part's part and supplier, a BOM line's two
parts, a stock item's part, location, batch and expiry), and only what is missing is created. So a
second push creates nothing, and a push that failed part-way finishes when run again.

The currency of costs is checked before any record is created: it must be one the server accepts
(its CURRENCY_CODES setting, else its default currency), and it is written on every company and
stock item, so nothing lands in the server's default by accident. Afterwards every stock item of
the workbook is read back; one in another currency (say, imported earlier from files in USD) is
listed in `other_currency`.

`compare` reads the server's stock back and sets it against the workbook's, SKU x location x batch:
the end of every push, and the check after importing files.

The client is an optional dependency (`pip install inv-sheets[inventree]`): only this module
needs it, and only when a server is used.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Callable

from ..contract.issues import InvSheetsError
from .common import fmt_date, fmt_number
from .inventree import (
    KINDS,
    Keys,
    Record,
    part_key,
    plan,
    stock_key,
    template_key,
    unneutralise,
)
from .snapshot import EPS, Snapshot


class ServerError(InvSheetsError):
    """The InvenTree server could not be reached, or refused a request."""


TIMEOUT = 120  # seconds per request


def connect(url: str, token: str | None):
    """An InvenTree client for url with an API token (raises ServerError when it cannot connect)."""
    try:
        from inventree.api import InvenTreeAPI
        # The client logs its failures; with nothing to handle them Python would print them on
        # stderr beside our own one line. A caller's logging still gets them.
        logging.getLogger("inventree").addHandler(logging.NullHandler())
    except ImportError as exc:
        raise ServerError("the InvenTree client is not installed: pip install 'inv-sheets[inventree]'") from exc
    if not token:
        raise ServerError("an InvenTree API token is needed (--token, or INVENTREE_API_TOKEN)")
    try:
        # a busy server may take long to save a batch; a request that timed out may still have
        # created its record, which the next push then finds
        api = InvenTreeAPI(url, token=token, connect=False, timeout=TIMEOUT)
        if not api.testServer():
            raise ServerError(f"cannot connect to InvenTree at {url}: no answer (check the URL and that it runs)")
        api.connect()
    except ServerError:
        raise
    except Exception as exc:  # the client raises requests' errors and its own
        raise ServerError(f"cannot connect to InvenTree at {url}: {_reason(exc)}") from exc
    return api


def _reason(exc: Exception) -> str:
    """The server's own words when it gave some (the client wraps them in a dict), else the error's."""
    detail = exc.args[0] if exc.args else None
    if isinstance(detail, dict) and "body" in detail:
        return f"HTTP {detail.get('status_code')}: {str(detail['body'])[:300]}"
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _get(api, endpoint: str, **params) -> list[dict]:
    try:
        data = api.get(endpoint, params=params)
    except Exception as exc:
        raise ServerError(f"InvenTree refused GET {endpoint}: {_reason(exc)}") from exc
    return data["results"] if isinstance(data, dict) and "results" in data else list(data or [])


def _post(api, endpoint: str, data: dict) -> dict:
    try:
        answer = api.post(endpoint, data)
    except Exception as exc:
        raise ServerError(f"InvenTree refused to create {data.get('name') or data.get('IPN') or endpoint}: "
                          f"{_reason(exc)}") from exc
    return answer[0] if isinstance(answer, list) else answer


ENDPOINTS = {"category": "part/category/", "location": "stock/location/", "company": "company/",
             "part": "part/", "supplier_part": "company/part/", "bom_item": "bom/", "stock_item": "stock/"}


def _path(text: str) -> str:
    return "/".join(unneutralise(p) for p in text.split("/"))


def server_keys(api) -> dict:
    """The id of every record on the server, by the natural key inventree.plan gives it."""
    keys: dict = {}
    for c in _get(api, ENDPOINTS["category"]):
        keys[("category", _path(c["pathstring"]))] = c["pk"]
    for loc in _get(api, ENDPOINTS["location"]):
        keys[("location", _path(loc["pathstring"]))] = loc["pk"]
    for c in _get(api, ENDPOINTS["company"]):
        keys[("company", unneutralise(c["name"]))] = c["pk"]
    ipn = {}
    for p in _get(api, ENDPOINTS["part"]):
        if p.get("IPN"):
            keys[("part", part_key(unneutralise(p["IPN"])))] = p["pk"]
            ipn[p["pk"]] = unneutralise(p["IPN"])
        elif p.get("is_template"):
            keys[("part", template_key(unneutralise(p["name"])))] = p["pk"]
    company = {pk: name for (kind, name), pk in keys.items() if kind == "company"}
    for s in _get(api, ENDPOINTS["supplier_part"]):
        if s["part"] in ipn and s["supplier"] in company:
            keys[("supplier_part", (ipn[s["part"]], company[s["supplier"]]))] = s["pk"]
    for b in _get(api, ENDPOINTS["bom_item"]):
        if b["part"] in ipn and b["sub_part"] in ipn:
            keys[("bom_item", (ipn[b["part"]], ipn[b["sub_part"]]))] = b["pk"]
    path = {pk: key for (kind, key), pk in keys.items() if kind == "location"}
    for item in _get(api, ENDPOINTS["stock_item"]):
        if item["part"] in ipn and item.get("location") in path:
            keys[("stock_item", stock_key(ipn[item["part"]], path[item["location"]], item.get("batch") or None,
                                          item.get("expiry_date")))] = item["pk"]
    return keys


def server_currencies(api) -> tuple[str, list[str]]:
    """The server's default currency and the currencies it accepts."""
    def setting(name: str) -> str:
        try:
            return str(api.get(f"settings/global/{name}/").get("value") or "")
        except Exception as exc:
            raise ServerError(f"cannot read InvenTree's {name} setting: {_reason(exc)}") from exc

    default = setting("INVENTREE_DEFAULT_CURRENCY") or "USD"
    codes = [c.strip().upper() for c in setting("CURRENCY_CODES").split(",") if c.strip()]
    return default, codes or [default]


@dataclass
class PushResult:
    """What a push did (or, dry_run, would do): per kind, created and already there; then the check."""

    url: str
    currency: str
    dry_run: bool
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    other_currency: list[int] = field(default_factory=list)  # ids of the workbook's stock items not in currency
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        """Everything matches: the stock, and the currency of every stock item."""
        return bool(self.comparison and self.comparison.ok) and not self.other_currency

    def to_dict(self) -> dict:
        return {"url": self.url, "currency": self.currency, "dry_run": self.dry_run, "created": dict(self.created),
                "existing": dict(self.existing), "other_currency": list(self.other_currency), "ok": self.ok,
                "comparison": self.comparison.to_dict() if self.comparison else None}


@dataclass
class Comparison:
    """The server's stock against the workbook's, per SKU x location x batch (bins inside their location)."""

    rows: int
    matched: int
    mismatches: list[dict]  # sku, location, batch, workbook, server
    units_workbook: float
    units_server: float

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def push(snap: Snapshot, api, *, currency: str | None = None, dry_run: bool = False,
         progress: Callable[[str, int, int], None] | None = None) -> PushResult:
    """Create on the server whatever of the workbook is not there yet (see the module).

    Raises ServerError when the server refuses a record or the currency: what was created before
    stays, and running push again finishes the job.
    """
    default, accepted = server_currencies(api)
    currency = (currency or default).upper()
    if currency not in accepted:
        raise ServerError(f"InvenTree does not accept currency {currency}: it accepts {', '.join(accepted)} "
                          "(Admin center > Pricing > currency codes); nothing was created")
    records = plan(snap, currency)
    keys = server_keys(api)
    result = PushResult(api.base_url if hasattr(api, "base_url") else "", currency, dry_run)
    for kind in KINDS:
        of_kind = [r for r in records if r.kind == kind]
        result.existing[kind] = sum(1 for r in of_kind if r.ident in keys)
        todo = [r for r in of_kind if r.ident not in keys]
        result.created[kind] = len(todo)
        if dry_run:
            for r in todo:
                keys[r.ident] = -1  # stands for "created in this run", so what refers to it counts too
            continue
        for n, r in enumerate(todo, start=1):
            keys[r.ident] = _create(api, r, keys)
            if progress:
                progress(kind, n, len(todo))
    if not dry_run:
        ours = {pk for (kind, _), pk in keys.items() if kind == "stock_item"}
        result.other_currency = [s["pk"] for s in _get(api, ENDPOINTS["stock_item"]) if s["pk"] in ours
                                 and s.get("purchase_price") is not None and s.get("purchase_price_currency") != currency]
    result.comparison = compare(snap, api)
    return result


def _create(api, r: Record, keys: Keys) -> int:
    data = {k: _api_value(v) for k, v in r.fields.items() if v is not None and v != ""}
    if r.kind == "part" and "IPN" not in data:
        data["IPN"] = ""
    data.update({name: keys[ref] for name, ref in r.refs.items()})
    answer = _post(api, ENDPOINTS[r.kind], data)
    return int(answer["pk"])


def _api_value(value: object) -> object:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return fmt_number(value)
    return fmt_date(value) if hasattr(value, "year") else value


def compare(snap: Snapshot, api) -> Comparison:
    """The server's stock against the workbook's opening stock, per SKU x location x batch.

    A bin is its location's child on the server (path 'MAIN/A1'): it is compared as is, so stock
    in the wrong bin is a mismatch too. Stock of parts that are not SKUs of the workbook is ignored.
    """
    want: dict[tuple, float] = defaultdict(float)
    for r in snap.stock.itertuples():
        path = f"{r.location}/{r.bin}" if isinstance(r.bin, str) else r.location
        want[(r.sku, path, r.batch if isinstance(r.batch, str) else "")] += float(r.qty)
    ipn = {p["pk"]: unneutralise(p["IPN"]) for p in _get(api, ENDPOINTS["part"]) if p.get("IPN")}
    path = {loc["pk"]: _path(loc["pathstring"]) for loc in _get(api, ENDPOINTS["location"])}
    have: dict[tuple, float] = defaultdict(float)
    for s in _get(api, ENDPOINTS["stock_item"], in_stock="true"):
        sku = ipn.get(s["part"])
        if sku is not None and sku in snap.items.index:
            have[(sku, path.get(s.get("location"), "(no location)"), s.get("batch") or "")] += float(s["quantity"])
    mismatches = [{"sku": k[0], "location": k[1], "batch": k[2], "workbook": round(want.get(k, 0.0), 6),
                   "server": round(have.get(k, 0.0), 6)}
                  for k in sorted(set(want) | set(have)) if abs(want.get(k, 0.0) - have.get(k, 0.0)) > EPS]
    return Comparison(len(set(want) | set(have)), len(set(want) | set(have)) - len(mismatches), mismatches,
                      round(sum(want.values()), 6), round(sum(have.values()), 6))


def push_workbook(path, url: str, token: str | None, *, currency: str | None = None, dry_run: bool = False,
                  force: bool = False, as_of=None, progress: Callable[[str, int, int], None] | None = None):
    """Read, validate and post a workbook file, then `push` it (what `inv-sheets push` runs).

    Returns (result, errors): a workbook with error findings is refused (result None, nothing sent)
    unless force, as for the file export.
    """
    from ..contract.issues import ERROR
    from . import read_workbook
    from .snapshot import take

    store, ledger, issues = read_workbook(path, as_of)
    errors = [i for i in issues if i.severity == ERROR]
    if errors and not force:
        return None, errors
    api = connect(url, token)
    result = push(take(store, ledger), api, currency=currency, dry_run=dry_run, progress=progress)
    result.url = url
    return result, errors
