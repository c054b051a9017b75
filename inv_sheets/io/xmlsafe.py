"""XML parsing that a hostile workbook cannot turn against us.

Entities are never expanded and nothing is fetched, so a billion-laughs part or an external entity
pointing at a local file parses as inert text (or fails), never as a memory blow-up or a leak.
"""

from __future__ import annotations

from lxml import etree

XMLError = etree.XMLSyntaxError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=False)


def parse(data: bytes) -> etree._Element:
    """Parse one package part safely. Raises XMLError when it is not well-formed."""
    return etree.fromstring(data, parser=_PARSER)
