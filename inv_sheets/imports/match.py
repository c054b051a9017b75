"""Which of the store's SKUs an order line is: named, never guessed.

In this order: the Channel SKUs sheet's Channel SKU for this channel (an explicit mapping beats a
coincidence), the Items sheet's own SKU (compared as codes are: case, spaces and look-alike dashes
ignored, so ` TEE-M ` is TEE-M), the Channel SKUs sheet's exact listing name, and the Items name
exactly as the shop writes a variant listing ("Name - Variant", or the name of an item that has no
variant). A line none of these names is refused with the nearest SKUs or names as a suggestion.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from ..contract.book import Store
from ..contract.parse import canonical_code
from ..contract.schema import fold
from .core import Line


def listing_key(text: str) -> str:
    """A listing name compared exactly, but for case and runs of spaces."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


class SkuMatcher:
    """The store's SKUs as one channel's lines may name them."""

    def __init__(self, store: Store, channel: str | None) -> None:
        items = store["Items"].dropna(subset=["sku"])
        self.skus = sorted(set(items["sku"]))
        self.by_code = {fold(s): s for s in self.skus}
        mapped = store["Channel SKUs"].dropna(subset=["sku"])
        if channel is not None:
            mapped = mapped[mapped["channel"] == canonical_code(channel)]
        self.by_channel_sku = {fold(c): s for c, s in zip(mapped["channel_sku"], mapped["sku"]) if isinstance(c, str) and c}
        self.by_listing = {listing_key(n): s for n, s in zip(mapped["listing"], mapped["sku"]) if isinstance(n, str) and n}
        names: dict[str, set[str]] = {}
        for sku, name, variant in zip(items["sku"], items["name"], items.get("variant", pd.Series(None, index=items.index))):
            if not isinstance(name, str):
                continue
            shown = f"{name} - {variant}" if isinstance(variant, str) and variant.strip() else name
            names.setdefault(listing_key(shown), set()).add(sku)
        # A name two SKUs share names neither: that would be a guess.
        self.by_name = {n: next(iter(s)) for n, s in names.items() if len(s) == 1}
        self.names = sorted({str(n) for n in items["name"].dropna()})

    def match(self, line: Line) -> str | None:
        """The SKU the line names, or None."""
        if line.sku:
            found = self.by_channel_sku.get(fold(line.sku)) or self.by_code.get(fold(line.sku))
            if found:
                return found
        if line.listing:
            return self.by_listing.get(listing_key(line.listing)) or self.by_name.get(listing_key(line.listing))
        return None

    def why_not(self, sku: str, listing: str = "") -> str:
        """What the finding for an unmatched line says: what it named, the nearest, and the fix."""
        if sku:
            near = difflib.get_close_matches(canonical_code(sku), self.skus, n=1, cutoff=0.6)
            named = f"SKU '{sku}'" + (f" (listing '{listing}')" if listing else "")
        else:
            near = difflib.get_close_matches(listing, self.names, n=1, cutoff=0.6) if listing else []
            named = f"listing '{listing}' (no SKU)" if listing else "a line with neither SKU nor listing name"
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return (f"{named} is not on Items or Channel SKUs{hint}; add it to Channel SKUs and import again. "
                "The line is not imported.")
