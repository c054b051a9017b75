"""Bundles flattened to the SKUs that are really stocked.

A bundle (kit) is never stocked itself: moving one moves its components. Bundles may contain
bundles; `leaf_components` multiplies through the levels so each bundle maps to the stocked SKUs
it is made of. A bundle that contains itself (the validator reports bundle-cycle) is cut where the
cycle closes, so this always terminates.
"""

from __future__ import annotations

import pandas as pd

from ..contract.book import Store


def leaf_components(store: Store) -> pd.DataFrame:
    """Each bundle's stocked components: columns bundle_sku, component_sku, qty (per one bundle).

    Nested bundles are expanded (qty multiplied); a component reached twice is summed; components
    with a zero quantity are kept (the bundle needs none of them).
    """
    rows = store["Bundles"].dropna(subset=["bundle_sku", "component_sku", "qty"])
    children: dict[str, list[tuple[str, float]]] = {}
    for b, c, q in zip(rows["bundle_sku"], rows["component_sku"], rows["qty"]):
        children.setdefault(b, []).append((c, float(q)))

    def expand(sku: str, qty: float, path: tuple[str, ...]) -> list[tuple[str, float]]:
        if sku not in children:
            return [(sku, qty)]
        if sku in path:
            return []  # a cycle: the validator reports it
        return [leaf for c, q in children[sku] for leaf in expand(c, qty * q, path + (sku,))]

    out = [(b, c, q) for b in children for c, q in expand(b, 1.0, ())]
    frame = pd.DataFrame(out, columns=["bundle_sku", "component_sku", "qty"])
    frame = frame.groupby(["bundle_sku", "component_sku"], sort=False, as_index=False)["qty"].sum()
    return frame.astype({"bundle_sku": "str", "component_sku": "str", "qty": "float64"})
