"""A corpus of bad and hostile workbooks, built in code.

Each builder writes one file into a folder and returns its path. Two kinds:

* files that cannot be read at all (damaged zips, zip bombs, XML entity attacks, encrypted,
  .xlsb, Strict Open XML): the toolkit must refuse them in one line, exit 3, file untouched;
* files that read but hold bad values (huge cells, control characters, NaN, far dates, numbers
  beyond 2^53, formulas, look-alike SKUs): the toolkit must name each problem at its cell.

The packages are written by hand (`package`), part by part, so a test can put any bytes in any
part: what Excel or openpyxl would refuse to write is exactly what a hostile file contains.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Iterable
from xml.sax.saxutils import escape

from inv_sheets.contract.issues import column_letter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
DATE_STYLE = 1  # the xf index of a date format in STYLES

ITEMS = [["SKU", "Name", "Unit cost"], ["TEE-M", "Tee M", 4.0], ["TEE-L", "Tee L", 4.5]]
LOCATIONS = [["Location", "Kind", "Sellable"], ["MAIN", "stock", "yes"]]
MOVEMENT_HEADER = ["Movement ID", "Date", "Type", "SKU", "Qty", "From location", "To location", "Reason", "User"]
GOOD_MOVEMENTS = [
    ["M1", ("date", 46023), "receive", "TEE-M", 10, None, "MAIN"],  # 2026-01-01
    ["M2", ("date", 46024), "sale", "TEE-M", 3, "MAIN", None],
    ["M3", ("date", 46024), "receive", "TEE-L", 5, None, "MAIN"],
]
SETTINGS = [["Key", "Value"], ["as_of", ("date", 46053)]]  # 2026-01-31


# Cells and sheets ------------------------------------------------------------------------------------
def cell_xml(ref: str, value: object) -> str:
    """One <c> element. str -> inline string, number -> value, ("date", serial) -> a date-styled
    number, ("raw", xml) -> the inner XML as given, ("formula", f, cached) -> a formula cell."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        kind = value[0]
        if kind == "date":
            return f'<c r="{ref}" s="{DATE_STYLE}"><v>{value[1]}</v></c>'
        if kind == "raw":
            return f'<c r="{ref}"{value[1]}</c>'
        if kind == "formula":
            cached = "" if value[2] is None else (f"<v>{value[2]}</v>" if not isinstance(value[2], str) else f"<v>{escape(value[2])}</v>")
            t = ' t="str"' if isinstance(value[2], str) else ""
            return f'<c r="{ref}"{t}><f>{escape(value[1])}</f>{cached}</c>'
        raise ValueError(kind)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def sheet_xml(rows: Iterable[Iterable[object]], *, prolog: str = "", ns: str = MAIN_NS, extra: str = "") -> str:
    """A worksheet part from rows of values (see cell_xml); `prolog` goes before the root element."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{column_letter(c)}{r}", v) for c, v in enumerate(row, start=1))
        body.append(f'<row r="{r}">{cells}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
            f'<worksheet xmlns="{ns}" xmlns:r="{REL_NS}"><sheetData>{"".join(body)}</sheetData>{extra}</worksheet>')


STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN_NS}">'
          '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
          '</styleSheet>')


def package_parts(sheets: dict[str, str | list], *, date1904: bool = False, ns: str = MAIN_NS,
                  workbook_prolog: str = "") -> dict[str, bytes]:
    """Every part of a minimal workbook: sheets given as rows (lists) or as finished XML (str)."""
    parts: dict[str, bytes] = {}
    overrides = []
    sheet_els, rel_els = [], []
    for i, (name, content) in enumerate(sheets.items(), start=1):
        xml = content if isinstance(content, str) else sheet_xml(content, ns=ns)
        parts[f"xl/worksheets/sheet{i}.xml"] = xml.encode("utf-8")
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
        sheet_els.append(f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>')
        rel_els.append(f'<Relationship Id="rId{i}" Type="{WS_REL}" Target="worksheets/sheet{i}.xml"/>')
    n = len(sheets) + 1
    rel_els.append(f'<Relationship Id="rId{n}" Type="{STYLES_REL}" Target="styles.xml"/>')
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts["xl/workbook.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{workbook_prolog}'
                                f'<workbook xmlns="{ns}" xmlns:r="{REL_NS}">{pr}<sheets>{"".join(sheet_els)}</sheets></workbook>').encode()
    parts["xl/_rels/workbook.xml.rels"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                           f'<Relationships xmlns="{PKG_REL_NS}">{"".join(rel_els)}</Relationships>').encode()
    parts["xl/styles.xml"] = STYLES.encode()
    parts["_rels/.rels"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
                            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(overrides) + "</Types>").encode()
    return parts


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    """The parts as an ordinary deflated zip, [Content_Types].xml first (as Excel writes it)."""
    order = sorted(parts, key=lambda p: (p != "[Content_Types].xml", p))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            z.writestr(name, parts[name])
    return path


def store_sheets(movements: list[list[object]] | None = None, *, items: list[list[object]] | None = None,
                 movement_header: list[str] | None = None) -> dict[str, list]:
    """The sheets of a small valid store, with the Movements rows (and Items) replaced when given."""
    return {"Items": items or ITEMS, "Locations": LOCATIONS,
            "Movements": [movement_header or MOVEMENT_HEADER] + (GOOD_MOVEMENTS if movements is None else movements),
            "Settings": SETTINGS}


def store(path: Path, movements: list[list[object]] | None = None, **kw) -> Path:
    """A small store workbook whose Movements rows are `movements` (default: three good ones)."""
    date1904 = kw.pop("date1904", False)
    return write_zip(path, package_parts(store_sheets(movements, **kw), date1904=date1904))


# Damaged packages ------------------------------------------------------------------------------------
def truncated(folder: Path) -> Path:
    """A good workbook cut off at two thirds, as an interrupted download leaves it."""
    good = store(folder / "good.xlsx").read_bytes()
    path = folder / "truncated.xlsx"
    path.write_bytes(good[: len(good) * 2 // 3])
    return path


def corrupted(folder: Path) -> Path:
    """A good workbook with bytes flipped inside a compressed sheet (the zip directory is intact)."""
    path = store(folder / "corrupted.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet3.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 8, start + info.compress_size - 4, 7):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def not_a_zip(folder: Path) -> Path:
    """Random bytes behind an .xlsx name."""
    path = folder / "noise.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.xlsx"
    path.write_bytes(b"")
    return path


# Zip bombs ------------------------------------------------------------------------------------------
def _deflate_blocks(total: int, block: int = 1 << 20) -> tuple[bytes, int]:
    """A raw deflate stream of `total` spaces, built from one independently compressed block
    repeated (full flushes make blocks independent), so gigabytes cost milliseconds to build."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = c.compress(b" " * block) + c.flush(zlib.Z_FULL_FLUSH)
    reps = total // block
    return one * reps + c.flush(zlib.Z_FINISH), reps * block


def _raw_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip written by hand: (name, data as stored, method, crc, declared size) per member.

    The declared size may lie: this is how a bomb hides its real size from a size check.
    """
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        fname = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(fname), 0)
        out += fname + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(fname), 0, 0, 0, 0, 0, offset) + fname
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


def _bomb(path: Path, inflated: int, declared: int | None, bombed: tuple[str, ...] = ("xl/worksheets/sheet3.xml",),
          more_sheets: dict[str, list] | None = None) -> Path:
    parts = package_parts({**store_sheets(), **(more_sheets or {})})
    members = []
    for name in sorted(parts, key=lambda p: (p != "[Content_Types].xml", p)):
        data = parts[name]
        if name in bombed:  # the XML head, then gigabytes of spaces
            head = data[: data.index(b"<sheetData>")]
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
            stream, size = _deflate_blocks(inflated)
            members.append((name, first + stream, 8, 0, declared if declared is not None else size + len(head)))
            continue
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        members.append((name, c.compress(data) + c.flush(), 8, zlib.crc32(data), len(data)))
    return _raw_zip(path, members)


def zip_bomb(folder: Path, gigabytes: int = 3) -> Path:
    """A sheet that honestly declares it inflates to gigabytes (about 3 MB on disk)."""
    return _bomb(folder / "bomb.xlsx", gigabytes << 30, None)


def spread_zip_bomb(folder: Path) -> Path:
    """Three sheets, each honestly just under the per-part limit: 5.7 GB together."""
    sheets = tuple(f"xl/worksheets/sheet{i}.xml" for i in (1, 2, 3))
    return _bomb(folder / "spread-bomb.xlsx", 1900 << 20, None, sheets)


def lying_zip_bomb(folder: Path, gigabytes: int = 3) -> Path:
    """A sheet that declares 4 KB in its headers but inflates to gigabytes."""
    return _bomb(folder / "lying-bomb.xlsx", gigabytes << 30, 4096)


def unread_lying_bomb(folder: Path) -> Path:
    """A lying bomb in a sheet no reader opens (one the toolkit does not read): the store reads."""
    return _bomb(folder / "unread-bomb.xlsx", 3 << 30, 4096, ("xl/worksheets/sheet5.xml",), {"Notes": [["note"]]})


def fingerprint_lying_bomb(folder: Path) -> Path:
    """A lying bomb in the toolkit's hidden fingerprint sheet: it counts as no fingerprints."""
    return _bomb(folder / "ledger-bomb.xlsx", 3 << 30, 4096, ("xl/worksheets/sheet5.xml",), {"_inv_ledger": [["block"]]})


# XML attacks -----------------------------------------------------------------------------------------
BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                  + "]>\n")


def external_entity(target: Path) -> str:
    """A DOCTYPE declaring &xxe; as the contents of a local file."""
    return f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{target.as_uri()}">]>\n'


def with_prolog(folder: Path, name: str, part: str, prolog: str, entity: str) -> Path:
    """A store whose `part` carries `prolog` (a DOCTYPE) and uses `entity` where a value is read.

    For a worksheet part the entity is the SKU of the first Items row; elsewhere it sits in an
    attribute or element the reader looks at, so an expanding parser would expand it.
    """
    sheets = store_sheets()
    sheets["Items"] = [ITEMS[0], ["__ENTITY__", "Tee M", 4.0], ITEMS[2]]
    parts = package_parts(sheets)
    for key in parts:
        parts[key] = parts[key].replace(b"__ENTITY__", (entity if key == part else "TEE-M").encode())
    data = parts[part].decode()
    decl_end = data.index("?>") + 2 if data.startswith("<?xml") else 0
    data = data[:decl_end] + "\n" + prolog + data[decl_end:].lstrip("\n")
    if part == "xl/workbook.xml":
        data = data.replace('name="Items"', f'name="Items{entity}"')
    elif part == "[Content_Types].xml":
        data = data.replace('Extension="xml"', f'Extension="xml{entity}"')
    elif part.endswith(".rels"):
        data = data.replace('Target="styles.xml"', f'Target="styles.xml{entity}"')
    elif part == "xl/styles.xml":
        data = data.replace('formatCode="yyyy-mm-dd"', f'formatCode="yyyy-mm-dd{entity}"')
    parts[part] = data.encode()
    return write_zip(folder / name, parts)


XML_PARTS = ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
             "_rels/.rels", "xl/styles.xml")


# Formats the toolkit does not read ------------------------------------------------------------------
def encrypted(folder: Path) -> Path:
    """A password-protected workbook: a real one when msoffcrypto-tool is installed, else an OLE
    container with an EncryptionInfo stream name, which is what Excel's encrypted files are."""
    good = store(folder / "plain.xlsx")
    path = folder / "encrypted.xlsx"
    try:
        from msoffcrypto.format.ooxml import OOXMLFile

        with open(good, "rb") as src, open(path, "wb") as out:
            OOXMLFile(src).encrypt("secret", out)
    except Exception:
        header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
        path.write_bytes(header + "EncryptionInfo".encode("utf-16-le") + bytes(4096))
    return path


def xlsb(folder: Path, suffix: str = ".xlsb") -> Path:
    """A binary workbook's package shape (xl/workbook.bin), under `suffix`."""
    path = folder / f"binary{suffix}"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                   'Target="xl/workbook.bin"/></Relationships>')
        z.writestr("xl/workbook.bin", bytes(64))
    return path


def strict(folder: Path) -> Path:
    """A workbook saved as Strict Open XML (ISO 29500 strict namespaces)."""
    return write_zip(folder / "strict.xlsx", package_parts(store_sheets(), ns=STRICT_NS))


# Bad values ------------------------------------------------------------------------------------------
def wide(folder: Path) -> Path:
    """An Items row that reaches column XFD (16,384 columns): a value in the last column Excel has."""
    items = [ITEMS[0] + [None] * (16384 - 3 - 1) + ["Far"], ITEMS[1] + [None] * (16384 - 3 - 1) + ["x"], ITEMS[2]]
    return write_zip(folder / "wide.xlsx", package_parts(store_sheets(items=items)))


def huge_cells(folder: Path) -> Path:
    """Cells at Excel's 32,767-character limit, and one beyond it, in a SKU, a name and a note."""
    long_sku = "S" * 32767
    items = ITEMS + [[long_sku, "N" * 32767, 1.0], ["TEE-XL", "X" * 40000, 1.0]]
    movements = GOOD_MOVEMENTS + [["M4", ("date", 46025), "receive", long_sku, 1, None, "MAIN"],
                                  ["M5", ("date", 46025), "receive", "NOPE-" + "Q" * 32000, 1, None, "MAIN"]]
    return store(folder / "huge-cells.xlsx", movements, items=items)


def control_characters(folder: Path) -> Path:
    """Control characters in codes and text, escaped as Excel escapes them (_x0001_) and raw tabs."""
    items = ITEMS + [["TEE_x0001_S", "Bell_x0007_", 1.0], ["TEE\tXS", "Tab\tname", 1.0]]
    movements = GOOD_MOVEMENTS + [["M4", ("date", 46025), "receive", "TEE_x0001_S", 1, None, "MAIN"],
                                  ["M5_x001B_", ("date", 46025), "receive", "TEE-M", 1, None, "MAIN", "_x0000_x", "a_x000B_b"]]
    parts = package_parts(store_sheets(movements, items=items))
    return write_zip(folder / "control.xlsx", parts)


def nan_and_infinity(folder: Path) -> Path:
    """NaN and infinities as stored numbers (which Excel never writes) and as typed text."""
    movements = GOOD_MOVEMENTS + [
        ["M4", ("date", 46025), "receive", "TEE-M", ("raw", "><v>NaN</v>"), None, "MAIN"],
        ["M5", ("date", 46025), "receive", "TEE-M", ("raw", "><v>INF</v>"), None, "MAIN"],
        ["M6", ("date", 46025), "receive", "TEE-M", ("raw", "><v>-1e400</v>"), None, "MAIN"],
        ["M7", ("date", 46025), "receive", "TEE-M", "nan", None, "MAIN"],
        ["M8", ("date", 46025), "receive", "TEE-M", "Infinity", None, "MAIN"],
        ["M9", ("raw", "><v>NaN</v>"), "receive", "TEE-M", 1, None, "MAIN"],
    ]
    return store(folder / "nan.xlsx", movements)


def date1904(folder: Path) -> Path:
    """The 1904 date system (old Mac Excel): serial 44561 is 2026-01-01, not 2022-01-01."""
    movements = [["M1", ("date", 44561), "receive", "TEE-M", 10, None, "MAIN"],
                 ["M2", ("date", 44562), "sale", "TEE-M", 3, "MAIN", None]]
    sheets = store_sheets(movements)
    sheets["Settings"] = [["Key", "Value"], ["as_of", ("date", 44591)]]  # 2026-01-31
    return write_zip(folder / "date1904.xlsx", package_parts(sheets, date1904=True))


def old_dates(folder: Path) -> Path:
    """Dates before 1900: negative and zero serials, and text dates Excel cannot hold."""
    movements = GOOD_MOVEMENTS + [
        ["M4", ("date", -5), "receive", "TEE-M", 1, None, "MAIN"],
        ["M5", ("date", 0), "receive", "TEE-M", 1, None, "MAIN"],
        ["M6", "1899-12-31", "receive", "TEE-M", 1, None, "MAIN"],
        ["M7", "0001-01-01", "receive", "TEE-M", 1, None, "MAIN"],
        ["M8", ("date", 2958466), "receive", "TEE-M", 1, None, "MAIN"],  # after 9999-12-31
        ["M9", "1677-09-21", "receive", "TEE-M", 1, None, "MAIN"],  # before pandas' ns range
    ]
    return store(folder / "old-dates.xlsx", movements)


def huge_numbers(folder: Path) -> Path:
    """Numbers beyond 2^53 (where floats stop counting units) and near the float limit."""
    movements = GOOD_MOVEMENTS + [
        ["M4", ("date", 46025), "receive", "TEE-M", 2 ** 53 + 1, None, "MAIN"],
        ["M5", ("date", 46025), "receive", "TEE-M", 1e308, None, "MAIN"],
        ["M6", ("date", 46025), "receive", "TEE-M", "123456789012345678901234567890", None, "MAIN"],
        [12345678901234567890, ("date", 46025), "receive", "TEE-M", 1, None, "MAIN"],
    ]
    items = ITEMS + [[98765432109876543210, "Numeric SKU", 1e300]]
    return store(folder / "huge-numbers.xlsx", movements, items=items)


def formulas_and_links(folder: Path) -> Path:
    """Formulas where values belong (with and without a cached result, an error result, a
    HYPERLINK) and a cell with a hyperlink relationship."""
    movements = GOOD_MOVEMENTS + [
        ["M4", ("date", 46025), "receive", "TEE-M", ("formula", "2+3", 5), None, "MAIN"],
        ["M5", ("date", 46025), "receive", "TEE-M", ("formula", "SUM(Z1:Z9)", None), None, "MAIN"],
        ["M6", ("date", 46025), "receive", "TEE-M", ("raw", ' t="e"><f>1/0</f><v>#DIV/0!</v>'), None, "MAIN"],
        ["M7", ("date", 46025), "receive", ("formula", 'HYPERLINK("http://example.com","TEE-M")', "TEE-M"), 1, None, "MAIN"],
        ["M8", ("date", 46025), "receive", "TEE-M", ("raw", ' t="e"><v>#REF!</v>'), None, "MAIN"],
        ["M9", ("formula", "TODAY()", None), "receive", "TEE-M", 1, None, "MAIN"],
    ]
    parts = package_parts(store_sheets(movements))
    sheet = parts["xl/worksheets/sheet3.xml"].decode()
    sheet = sheet.replace("</sheetData>", '</sheetData><hyperlinks><hyperlink ref="D2" r:id="rId9"/></hyperlinks>')
    parts["xl/worksheets/sheet3.xml"] = sheet.encode()
    parts["xl/worksheets/_rels/sheet3.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId9" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
        'Target="file:///etc/passwd" TargetMode="External"/></Relationships>').encode()
    return write_zip(folder / "formulas.xlsx", parts)


def lookalike_skus(folder: Path) -> Path:
    """SKUs that look like TEE-M but are not: a Unicode hyphen, Cyrillic letters, full-width
    letters, a zero-width space, a non-breaking space."""
    items = ITEMS + [["TEE\u2010M", "hyphen", 1.0], ["\u0422\u0415\u0415-M", "cyrillic", 1.0]]
    movements = GOOD_MOVEMENTS + [
        ["M4", ("date", 46025), "receive", "\uff34\uff25\uff25-M", 1, None, "MAIN"],
        ["M5", ("date", 46025), "receive", "TEE-\u200bM", 1, None, "MAIN"],
        ["M6", ("date", 46025), "receive", "TEE\u00a0-M", 1, None, "MAIN"],
        ["M7", ("date", 46025), "receive", "\u0422\u0415\u0415-L", 1, None, "MAIN"],
    ]
    return store(folder / "lookalike.xlsx", movements, items=items)


REFUSED = {  # builder -> words one of which the one-line refusal must contain
    truncated: ("damaged", "not an excel workbook"), corrupted: ("damaged", "cannot be read"),
    not_a_zip: ("damaged", "not an excel workbook"), empty_file: ("not an excel workbook",),
    zip_bomb: ("limit",), spread_zip_bomb: ("limit",), encrypted: ("password",), xlsb: (".xlsb", "binary"), strict: ("strict",),
}
READABLE = (wide, huge_cells, control_characters, nan_and_infinity, date1904, old_dates, huge_numbers,
            formulas_and_links, lookalike_skus)
