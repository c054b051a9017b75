"""The OPC package layer: a workbook as zip members, content types and relationships.

A `Package` reads a zip and records edits (new, changed and removed parts) without touching the
source. Saving copies every unedited member's compressed bytes as they are (same data, same CRC,
same position in the member order), so a part the writer did not mean to change cannot change,
and a 60 MB workbook is not recompressed. Edited parts keep their place in the order; new parts go
at the end.

Relationship targets may be relative (`worksheets/sheet1.xml`, as Excel writes them) or absolute
(`/xl/worksheets/sheet1.xml`, as openpyxl writes them); `Rels` resolves both to part names.
XML is parsed with a parser that neither resolves entities nor touches the network.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Collection, Iterator, TypeVar
from urllib.parse import unquote

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_OFFICE_DOCUMENT = REL + "officeDocument"
REL_WORKSHEET = REL + "worksheet"
REL_STYLES = REL + "styles"
REL_CALC_CHAIN = REL + "calcChain"
REL_TABLE = REL + "table"
REL_DRAWING = REL + "drawing"
REL_CHART = REL + "chart"
REL_EXTENDED_PROPERTIES = REL + "extended-properties"

CT = "application/vnd.openxmlformats-officedocument."
CT_WORKSHEET = CT + "spreadsheetml.worksheet+xml"
CT_TABLE = CT + "spreadsheetml.table+xml"
CT_STYLES = CT + "spreadsheetml.styles+xml"
CT_DRAWING = CT + "drawing+xml"
CT_CHART = CT + "drawingml.chart+xml"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header, 30 bytes
_DATA_DESCRIPTOR = 0x08
# Members keep their timestamp; new ones get a fixed one so the same input gives the same bytes.
_NEW_MEMBER_TIME = (1980, 1, 1, 0, 0, 0)
T = TypeVar("T")


def parse_xml(data: bytes) -> etree._Element:
    """Parse a package part safely (no entity expansion, no network, default size limits)."""
    return etree.fromstring(data, _PARSER)


def insert_in_order(root: etree._Element, element: etree._Element, order: list[str]) -> None:
    """Put `element` among root's children where the schema's sequence `order` wants it (the
    schemas are sequences: a child out of place is what strict readers reject)."""
    rank = order.index(etree.QName(element).localname)
    before = [c for c in root if isinstance(c.tag, str) and etree.QName(c).localname in order
              and order.index(etree.QName(c).localname) < rank]
    if before:
        before[-1].addnext(element)
    else:
        root.insert(0, element)


def to_xml(root: etree._Element) -> bytes:
    """Serialise an edited part with the declaration Office writes."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def rels_name(part: str) -> str:
    """The relationships part of a part: xl/workbook.xml -> xl/_rels/workbook.xml.rels."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def source_of(rels_part: str) -> str:
    """The part a relationships part belongs to: xl/_rels/workbook.xml.rels -> xl/workbook.xml ('' for _rels/.rels)."""
    folder, file = posixpath.split(rels_part)
    return "" if file == ".rels" else posixpath.join(posixpath.dirname(folder), file[: -len(".rels")])


def resolve_target(source: str, target: str) -> str:
    """A relationship target as a part name, for relative and absolute targets alike."""
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relative_target(source: str, part: str) -> str:
    """The relative target that points from `source` to `part` (as Excel writes them)."""
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str  # the resolved part name, or the URL of an external target
    external: bool


class Rels:
    """The relationships of one part, editable; ids of new ones are the first unused rIdN."""

    def __init__(self, source: str, data: bytes | None) -> None:
        self.source = source
        self.root = parse_xml(data) if data else etree.Element(f"{{{NS_PKG_REL}}}Relationships", nsmap={None: NS_PKG_REL})
        self.dirty = data is None

    def __iter__(self) -> Iterator[Rel]:
        for el in self.root:
            if not isinstance(el.tag, str):
                continue
            external = el.get("TargetMode") == "External"
            target = el.get("Target", "")
            yield Rel(el.get("Id", ""), el.get("Type", ""), target if external else resolve_target(self.source, target), external)

    def get(self, rid: str) -> Rel | None:
        return next((r for r in self if r.id == rid), None)

    def of_type(self, rel_type: str) -> list[Rel]:
        return [r for r in self if r.type == rel_type]

    def add(self, rel_type: str, part: str) -> str:
        """Add a relationship to an internal part; returns its new id."""
        rid = first_unused("rId{}", {r.id for r in self})
        el = etree.SubElement(self.root, f"{{{NS_PKG_REL}}}Relationship")
        el.set("Id", rid)
        el.set("Type", rel_type)
        el.set("Target", relative_target(self.source, part))
        self.dirty = True
        return rid

    def remove(self, rid: str) -> None:
        for el in list(self.root):
            if isinstance(el.tag, str) and el.get("Id") == rid:
                self.root.remove(el)
                self.dirty = True


class ContentTypes:
    """[Content_Types].xml: Default entries by extension, Override entries by part name."""

    def __init__(self, data: bytes) -> None:
        self.root = parse_xml(data)
        self.dirty = False
        # Where each removed Override stood: a part written again (an output sheet's table) gets
        # its entry back in place, so rewriting a sheet leaves this part as it was.
        self._removed: dict[str, int] = {}

    def _overrides(self) -> Iterator[etree._Element]:
        return self.root.iterfind(f"{{{NS_CT}}}Override")

    def of(self, part: str) -> str:
        for el in self._overrides():
            if el.get("PartName", "").lstrip("/") == part:
                return el.get("ContentType", "")
        ext = part.rsplit(".", 1)[-1].lower()
        for el in self.root.iterfind(f"{{{NS_CT}}}Default"):
            if el.get("Extension", "").lower() == ext:
                return el.get("ContentType", "")
        return ""

    def set_override(self, part: str, content_type: str) -> None:
        for el in self._overrides():
            if el.get("PartName", "").lstrip("/") == part:
                if el.get("ContentType") != content_type:
                    el.set("ContentType", content_type)
                    self.dirty = True
                return
        el = etree.Element(f"{{{NS_CT}}}Override")
        el.set("PartName", "/" + part)
        el.set("ContentType", content_type)
        self.root.insert(self._removed.pop(part, len(self.root)), el)
        self.dirty = True

    def remove_override(self, part: str) -> None:
        for el in list(self._overrides()):
            if el.get("PartName", "").lstrip("/") == part:
                self._removed[part] = self.root.index(el)
                self.root.remove(el)
                self.dirty = True


def first_unused(pattern: str, used: set[str] | set[int], start: int = 1) -> str:
    """The first name `pattern.format(n)` (n = start, start+1, ...) not in `used`."""
    n = start
    while pattern.format(n) in used:
        n += 1
    return pattern.format(n)


CONTENT_TYPES = "[Content_Types].xml"


class Package:
    """A zip package opened for editing; the source file is only read.

    A part written is deflated at once on a worker thread (ISA-L lets go of the interpreter while it
    works), so the next output sheet is rendered on one core while the last one is deflated on the
    other; `save` takes what is ready and deflates the rest.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path)
        self._infos = {i.filename: i for i in self._zip.infolist()}
        self._order = [i.filename for i in self._zip.infolist()]
        self._edited: dict[str, bytes] = {}
        self._removed: set[str] = set()
        self._rels: dict[str, Rels] = {}
        self.content_types = ContentTypes(self._zip.read(CONTENT_TYPES))
        self._pool: ThreadPoolExecutor | None = None  # started by the first part written
        self._deflating: dict[str, tuple[bytes, Future[tuple[bytes, int]]]] = {}  # part -> (its bytes, deflated)

    def close(self) -> None:
        self._zip.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._deflating.clear()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Parts ----------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every part name, in the order they will be saved."""
        order = [n for n in self._order if n not in self._removed]
        return order + [n for n in self._edited if n not in self._infos and n not in self._removed]

    def __contains__(self, name: str) -> bool:
        return (name in self._infos or name in self._edited) and name not in self._removed

    def read(self, name: str) -> bytes:
        if name in self._removed:
            raise KeyError(name)
        if name in self._edited:
            return self._edited[name]
        return self._zip.read(name)

    def crc(self, name: str) -> int:
        """The CRC-32 of a part's bytes: from the zip directory for one as stored (Excel and the
        writer put the true one there), without inflating it."""
        if name in self._removed:
            raise KeyError(name)
        if name in self._edited:
            return zlib.crc32(self._edited[name])
        return self._zip.getinfo(name).CRC

    def xml(self, name: str) -> etree._Element:
        return parse_xml(self.read(name))

    def write(self, name: str, data: bytes, content_type: str | None = None) -> None:
        """Add or replace a part; an unchanged replacement leaves the original member as it was."""
        self._removed.discard(name)
        if not self._same_as_stored(name, data):
            self._edited[name] = data
            self._deflating[name] = (data, self._on_worker(_deflate, data))
        if content_type:
            self.content_types.set_override(name, content_type)

    def _same_as_stored(self, name: str, data: bytes) -> bool:
        """Whether `data` is the member as stored (not yet edited). The size and CRC-32 in the zip
        directory rule out nearly every difference without inflating the member (an output sheet
        can be tens of megabytes); only a match is confirmed byte for byte."""
        info = self._infos.get(name)
        if info is None or name in self._edited or info.file_size != len(data) or info.CRC != zlib.crc32(data):
            return False
        return self._zip.read(name) == data

    def head(self, name: str, size: int = 1 << 16) -> bytes:
        """The first bytes of a part, without inflating all of it."""
        if name in self._edited:
            return self._edited[name][:size]
        with self._zip.open(name) as f:
            return f.read(size)

    def remove(self, name: str) -> None:
        """Remove a part with its relationships part and its content type Override."""
        for n in (name, rels_name(name)):
            if n in self:
                self._removed.add(n)
                self._edited.pop(n, None)
                self._deflating.pop(n, None)
        self._rels.pop(name, None)
        if name.endswith(".rels"):
            self._rels.pop(source_of(name), None)
        self.content_types.remove_override(name)

    def unused(self, pattern: str) -> str:
        """The first part name `pattern.format(n)` not in the package (case-insensitive, as zip readers are)."""
        taken = {n.lower() for n in self.names()}
        n = 1
        while pattern.format(n).lower() in taken:
            n += 1
        return pattern.format(n)

    # Relationships ----------------------------------------------------------------------------------
    def rels(self, part: str) -> Rels:
        """The (editable) relationships of `part`; '' is the package itself (_rels/.rels)."""
        if part not in self._rels:
            name = rels_name(part) if part else "_rels/.rels"
            self._rels[part] = Rels(part, self.read(name) if name in self else None)
        return self._rels[part]

    def all_rels(self) -> Iterator[tuple[str, Rel]]:
        """Every internal relationship in the package, as (source part, rel)."""
        sources = {source_of(n) for n in self.names() if n.endswith(".rels")}
        sources |= {source for source, rels in self._rels.items() if rels.dirty}  # new, not yet saved
        for source in sorted(sources):
            for rel in self.rels(source):
                if not rel.external:
                    yield source, rel

    def main_part(self) -> str:
        """The workbook part named by the package relationships (normally xl/workbook.xml)."""
        docs = self.rels("").of_type(REL_OFFICE_DOCUMENT)
        if not docs:
            raise KeyError("no officeDocument relationship")
        return docs[0].target

    # Saving --------------------------------------------------------------------------------------
    def edited(self) -> set[str]:
        """Names of parts that will differ from the source: changed, added or removed."""
        self._flush()
        return set(self._edited) | self._removed

    def _flush(self) -> None:
        for source, rels in self._rels.items():
            if rels.dirty:
                name = rels_name(source) if source else "_rels/.rels"
                self.write(name, to_xml(rels.root))
                rels.dirty = False
        if self.content_types.dirty:
            self.write(CONTENT_TYPES, to_xml(self.content_types.root))
            self.content_types.dirty = False

    def _on_worker(self, work: Callable[[bytes], T], data: bytes) -> Future[T]:
        """Run `work(data)` on the package's worker threads (started the first time)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=DEFLATE_THREADS, thread_name_prefix="deflate")
        return self._pool.submit(work, data)

    def save(self, out: BinaryIO, xml_parts: Collection[str] = ()) -> dict[str, int]:
        """Write the package: unedited members raw-copied, edited ones deflated, in order.

        Edited members were deflated on the worker threads as they were written (see the class
        docstring); they are written in their order, with the headers zipfile would give them.
        Those named in `xml_parts` are checked to be well-formed XML on those threads too
        (etree.XMLSyntaxError if not), before anything is written for them.

        Returns the CRC-32 of each raw-copied member's compressed bytes, so what was written can be
        checked without inflating members the save never changed (a million-row ledger sheet).
        """
        self._flush()
        copied: dict[str, int] = {}
        deflated: dict[str, Future[tuple[bytes, int]]] = {}
        checked: dict[str, Future[None]] = {}
        for name in (n for n in self.names() if n in self._edited):
            data = self._edited[name]
            early = self._deflating.get(name)
            deflated[name] = early[1] if early is not None and early[0] is data else self._on_worker(_deflate, data)
            if name in xml_parts:
                checked[name] = self._on_worker(well_formed, data)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dest:
            for name in self.names():
                info = self._infos.get(name)
                if name in deflated:
                    if name in checked:
                        checked.pop(name).result()
                    new = zipfile.ZipInfo(name, info.date_time if info else _NEW_MEMBER_TIME)
                    new.compress_type = zipfile.ZIP_DEFLATED
                    new.external_attr = info.external_attr if info else 0o600 << 16
                    _write_deflated(dest, new, self._edited[name], *deflated.pop(name).result())
                else:
                    copied[name] = _copy_raw(self._zip, info, dest)
        return copied


# Two threads: the machines this runs on have two cores or more, and a third would only take turns.
DEFLATE_THREADS = 2
# ISA-L's level 1: output sheets run to hundreds of MB of XML at a full ledger. Intel's ISA-L
# deflates it about three times as fast as zlib's fastest level, into slightly fewer bytes (a full
# Movements sheet: 0.5 s and 46 MB against 2.1 s and 48 MB), and lets go of the interpreter too.
DEFLATE_LEVEL = 1


def _deflate(data: bytes) -> tuple[bytes, int]:
    """A member's bytes as a raw deflate stream (ISA-L, DEFLATE_LEVEL), and their CRC-32."""
    from isal import isal_zlib  # here, not above: the Excel button writes no file and needs no ISA-L

    compressor = isal_zlib.compressobj(DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data)


def well_formed(data: bytes) -> None:
    """Raise etree.XMLSyntaxError unless `data` is well-formed XML.

    A parser whose target has no element callbacks checks it at C speed, without building a tree
    of a few million cells."""
    parser = etree.XMLParser(target=_Discard(), resolve_entities=False, no_network=True)
    for start in range(0, len(data), 1 << 20):
        parser.feed(data[start:start + (1 << 20)])
    parser.close()


class _Discard:
    """A parser target that keeps nothing."""

    def close(self) -> None:
        return None


def _write_deflated(dest: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, deflated: bytes, crc: int) -> None:
    """Write a member deflated beforehand, with the header and directory entry ZipFile.writestr
    gives it (no data descriptor; zip64 fields when the member might pass 4 GB)."""
    info.file_size, info.compress_size, info.CRC = len(data), len(deflated), crc
    info.flag_bits = 0x00
    _append_member(dest, info, deflated, info.file_size * 1.05 > zipfile.ZIP64_LIMIT)  # zipfile's own zip64 rule


def _append_member(dest: zipfile.ZipFile, info: zipfile.ZipInfo, stored: bytes, zip64: bool) -> None:
    """Write a member whose stored (compressed) bytes are known, and register it the way
    ZipFile.write does: zipfile has no public way to write bytes compressed elsewhere."""
    dest_fp = dest.fp
    assert dest_fp is not None
    info.header_offset = dest_fp.tell()
    dest_fp.write(info.FileHeader(zip64))
    dest_fp.write(stored)
    dest.filelist.append(info)
    dest.NameToInfo[info.filename] = info
    dest.start_dir = dest_fp.tell()
    dest._didModify = True  # noqa: SLF001 - so close() writes the central directory


def _copy_raw(source: zipfile.ZipFile, info: zipfile.ZipInfo, dest: zipfile.ZipFile) -> int:
    """Copy one member's compressed bytes unchanged (no inflate/deflate round trip); return their CRC-32.

    The local header is written from a copy of the ZipInfo. CRC and sizes go in the header itself,
    so a source member streamed with a data descriptor is stored without one.
    """
    if info.flag_bits & 0x01:  # encrypted member: not raw-copyable, and not something Excel writes
        raise zipfile.BadZipFile(f"encrypted zip member {info.filename}")
    data = compressed_bytes(source, info)

    copy = zipfile.ZipInfo(info.filename, info.date_time)
    for attr in ("compress_type", "comment", "create_system", "create_version", "extract_version",
                 "flag_bits", "volume", "internal_attr", "external_attr", "CRC", "compress_size", "file_size"):
        setattr(copy, attr, getattr(info, attr))
    copy.flag_bits &= ~_DATA_DESCRIPTOR
    copy.extra = _without_zip64(info.extra)
    _append_member(dest, copy, data, info.file_size > zipfile.ZIP64_LIMIT or info.compress_size > zipfile.ZIP64_LIMIT)
    return zlib.crc32(data)


def seek_to_data(fh: BinaryIO, info: zipfile.ZipInfo) -> None:
    """Move `fh` (the package file) to where the member's stored bytes start, past its local header.

    Raises zipfile.BadZipFile when no local header is there.
    """
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    fields = _LOCAL_HEADER.unpack(header)
    fh.seek(fields[-2] + fields[-1], 1)  # skip the file name and extra field


def compressed_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored (still deflated), found through its local header."""
    fp = zf.fp
    assert fp is not None
    seek_to_data(fp, info)
    data = fp.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is cut short")
    return data


def _without_zip64(extra: bytes) -> bytes:
    """Drop a zip64 extra record (FileHeader writes a fresh one when it is needed)."""
    out, i = b"", 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[i:i + 4])
        if tag != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return out


_ILLEGAL_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def valid_sheet_name(name: str) -> bool:
    """Whether Excel accepts `name` as a sheet name."""
    return 0 < len(name) <= 31 and not _ILLEGAL_SHEET_CHARS.search(name) and not name.startswith("'") and not name.endswith("'")
