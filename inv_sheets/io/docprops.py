"""docProps/app.xml: the list of sheet titles Excel shows in the file's properties.

Excel ignores a stale list, so this is cosmetic, and the group label ("Worksheets") is written in
the language of the Excel that saved the file: the list is only rewritten when the label is one we
recognise and the counts add up. Anything else is left exactly as it was.
"""

from __future__ import annotations

from lxml import etree

from .package import Package, to_xml

APP = "docProps/app.xml"
_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
_EP = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
WORKSHEETS_LABELS = {"worksheets", "arbeitsblätter", "feuilles de calcul", "hojas de cálculo", "fogli di lavoro",
                     "werkbladen", "planilhas", "arkusze", "листы", "ワークシート", "工作表"}


def update_titles(pkg: Package, worksheet_names: list[str]) -> None:
    """Rewrite the worksheet titles in app.xml when its structure is the familiar one."""
    if APP not in pkg:
        return
    root = pkg.xml(APP)
    pairs = root.find(f"{_EP}HeadingPairs/{_VT}vector")
    titles = root.find(f"{_EP}TitlesOfParts/{_VT}vector")
    if pairs is None or titles is None:
        return
    variants = [v[0] for v in pairs.iterfind(f"{_VT}variant") if len(v)]
    offset = 0
    for label, count in zip(variants[0::2], variants[1::2]):
        if label.tag != f"{_VT}lpstr" or count.tag != f"{_VT}i4" or not (count.text or "").strip().isdigit():
            return
        n = int(count.text or "0")
        if (label.text or "").strip().casefold() in WORKSHEETS_LABELS:
            entries = list(titles)
            if offset + n > len(entries):
                return
            new = []
            for name in worksheet_names:
                el = etree.Element(f"{_VT}lpstr")
                el.text = name
                new.append(el)
            old_names = [e.text for e in entries[offset:offset + n]]
            if old_names == worksheet_names:
                return
            titles[offset:offset + n] = new
            titles.set("size", str(len(titles)))
            count.text = str(len(worksheet_names))
            pkg.write(APP, to_xml(root))
            return
        offset += n
