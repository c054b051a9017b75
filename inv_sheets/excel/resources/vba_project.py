"""Build `vbaProject.bin`, the macros of a workbook with a Refresh button.

The project is xlwings' own standalone VBA project (from the `quickstart_standalone.xlsm` that the
xlwings package ships, BSD-3-Clause: see XLWINGS_LICENSE.txt beside this file) with two changes:
its sample module `Module1`, whose macro imports a Python module named after the workbook file
(so a copy called `store (2).xlsm` stops working), is replaced by a module `InvSheets` whose macro
`RefreshInventory` runs `inv_sheets.excel.refresh()` through xlwings' `RunPython`; and the message
a Mac user gets when Excel cannot find xlwings' AppleScript names the xlwings release to install.
`modules` reads any VBA project back, module by module (add-button checks a workbook's own with it).

A VBA project is an OLE compound file (MS-CFB) whose module sources are compressed (MS-OVBA 2.4.1).
The two modules are written source-only (their offset in the `dir` stream is 0): the project's
`_VBA_PROJECT` stream already carries version 0xFFFF, which tells the VBA editor to compile every
module from its source when the workbook opens, exactly as for the `xlwings` module xlwings itself
writes that way. Every other stream is copied byte for byte.

The result is checked in as `vbaProject.bin`; rebuild it after an xlwings upgrade with

    python -m inv_sheets.excel.resources.vba_project

and a test checks that the checked-in file is what this module builds.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODULE_NAME = "InvSheets"
MACRO_NAME = "RefreshInventory"
PYTHON_COMMAND = "import inv_sheets.excel; inv_sheets.excel.refresh()"
REPLACED_MODULE = "Module1"

MODULE_SOURCE = "\r\n".join([
    f'Attribute VB_Name = "{MODULE_NAME}"',
    "' inv-sheets: the Refresh button on the Start sheet runs this macro.",
    "' It needs Python with inv-sheets installed (pip install inv-sheets); the xlwings.conf sheet",
    "' says which Python to use. Help: https://pypi.org/project/inv-sheets/",
    f"Sub {MACRO_NAME}()",
    f'    RunPython "{PYTHON_COMMAND}"',
    "End Sub",
    "",
])

# xlwings' runtime module asks a Mac user to "run 'xlwings runpython install'" when Excel cannot find
# the AppleScript of exactly its own version. Running that with another xlwings installs another
# version's script, so the message says which version to install first (pyproject.toml pins it).
RUNTIME_MODULE = "xlwings"
MAC_SETUP_ORIGINAL = ('MsgBox "To enable RunPython, please run \'xlwings runpython install\' in a terminal once '
                      'and try again.", vbCritical')
MAC_SETUP_MESSAGE = (
    'MsgBox "The Refresh button needs the helper script of xlwings " & XLWINGS_VERSION & ". In Terminal, run:" '
    '& vbLf & vbLf & "python3 -m pip install xlwings==" & XLWINGS_VERSION & vbLf & "xlwings runpython install" '
    '& vbLf & vbLf & "then press Refresh again (see docs/excel-button.md).", vbCritical')

HERE = Path(__file__).parent
OUTPUT = HERE / "vbaProject.bin"
CODEPAGE = "cp1252"  # the project's PROJECTCODEPAGE (1252)


def xlwings_project() -> bytes:
    """The vbaProject.bin of the installed xlwings package's standalone quickstart workbook."""
    import xlwings

    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm") as zf:
        return zf.read("xl/vbaProject.bin")


def build(source: bytes | None = None) -> bytes:
    """The inv-sheets VBA project, built from xlwings' standalone project."""
    import olefile

    ole = olefile.OleFileIO(source if source is not None else xlwings_project())
    streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir(streams=True)}
    ole.close()

    old, new = REPLACED_MODULE, MODULE_NAME
    directory = _rename_in_dir(decompress(streams["VBA/dir"]), old, new)
    del streams[f"VBA/{old}"]
    streams[f"VBA/{new}"] = compress(MODULE_SOURCE.encode(CODEPAGE))
    runtime = next(e for e in _dir_entries(directory) if e.name == RUNTIME_MODULE)
    source = decompress(streams[f"VBA/{runtime.stream}"][runtime.offset:]).decode(CODEPAGE)
    if MAC_SETUP_ORIGINAL not in source:
        raise ValueError(f"xlwings' {RUNTIME_MODULE} module no longer has the macOS set-up message")
    streams[f"VBA/{runtime.stream}"] = compress(source.replace(MAC_SETUP_ORIGINAL, MAC_SETUP_MESSAGE).encode(CODEPAGE))
    streams["VBA/dir"] = compress(_source_only(directory, RUNTIME_MODULE))
    project = streams["PROJECT"].decode(CODEPAGE)
    project = project.replace(f"Module={old}\r\n", f"Module={new}\r\n").replace(f"\r\n{old}=", f"\r\n{new}=")
    streams["PROJECT"] = project.encode(CODEPAGE)
    streams["PROJECTwm"] = streams["PROJECTwm"].replace(_wm_name(old), _wm_name(new))
    return write_compound_file(streams)


def module_source(project: bytes, module: str = MODULE_NAME) -> str:
    """The VBA source text of one module of a project (for checks and tests)."""
    return next(m.source for m in modules(project) if m.name == module)


def module_names(project: bytes) -> list[str]:
    """The names of the project's modules, in the order of its dir stream."""
    return [m.name for m in modules(project)]


@dataclass(frozen=True)
class Module:
    """One module of a VBA project: its name, whether it belongs to a document (the workbook, a
    sheet) or is a class, rather than a standard module, and its source text."""

    name: str
    document: bool
    source: str

    @property
    def code(self) -> tuple[str, ...]:
        """The lines that do something: no attributes, no blank lines, no `Option Explicit` (which
        the VBA editor adds to every new module when "Require Variable Declaration" is on) and no
        `Option ClassModule` (which LibreOffice adds to a class module when it saves the project)."""
        lines = (line.strip() for line in self.source.splitlines())
        return tuple(line for line in lines if line and not line.startswith("Attribute ")
                     and line.casefold() not in _NOT_CODE)


_NOT_CODE = ("option explicit", "option classmodule")


def modules(project: bytes) -> list[Module]:
    """Every module of a VBA project (as Excel, xlwings or this module wrote it), in dir order.

    Raises ValueError when `project` is not a VBA project that can be read."""
    import olefile

    try:
        ole = olefile.OleFileIO(project)
    except OSError as exc:
        raise ValueError(f"not a VBA project: {exc}") from exc
    try:
        out = []
        for entry in _dir_entries(decompress(ole.openstream("VBA/dir").read())):
            stream = ole.openstream(f"VBA/{entry.stream}").read()
            out.append(Module(entry.name, entry.document, decompress(stream[entry.offset:]).decode(CODEPAGE)))
        return out
    except (OSError, KeyError, struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable VBA project: {exc}") from exc
    finally:
        ole.close()


# The dir stream (MS-OVBA 2.3.4.2): a sequence of (id: u16, size: u32, data) records --------------
_PROJECTVERSION, _MODULENAME, _MODULENAMEUNICODE, _MODULESTREAMNAME = 0x09, 0x19, 0x47, 0x1A
_MODULESTREAMNAMEUNICODE, _MODULEOFFSET = 0x32, 0x31
_MODULETYPE_DOCUMENT = 0x22  # a document, class or designer module (0x21: a standard module)


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i < len(data):
        rid, size = struct.unpack_from("<HI", data, i)
        if rid == _PROJECTVERSION:  # its "size" field is a reserved u32 followed by 6 bytes
            out.append((rid, data[i + 2:i + 12]))
            i += 12
            continue
        out.append((rid, data[i + 6:i + 6 + size]))
        i += 6 + size
    return out


def _join(records: list[tuple[int, bytes]]) -> bytes:
    parts = []
    for rid, data in records:
        if rid == _PROJECTVERSION:
            parts.append(struct.pack("<H", rid) + data)
        else:
            parts.append(struct.pack("<HI", rid, len(data)) + data)
    return b"".join(parts)


def _rename_in_dir(data: bytes, old: str, new: str) -> bytes:
    """The dir stream with module `old` renamed `new` and its source at offset 0."""
    records = _records(data)
    out, current = [], None
    for rid, value in records:
        if rid == _MODULENAME:
            current = value.decode(CODEPAGE)
        if current == old:
            if rid in (_MODULENAME, _MODULESTREAMNAME):
                value = new.encode(CODEPAGE)
            elif rid in (_MODULENAMEUNICODE, _MODULESTREAMNAMEUNICODE):
                value = new.encode("utf-16-le")
            elif rid == _MODULEOFFSET:
                value = struct.pack("<I", 0)
        out.append((rid, value))
    if not any(rid == _MODULENAME and v == new.encode(CODEPAGE) for rid, v in out):
        raise ValueError(f"the VBA project has no module {old}")
    return _join(out)


@dataclass
class _DirEntry:
    name: str
    stream: str = ""
    offset: int = 0
    document: bool = False


def _source_only(data: bytes, module: str) -> bytes:
    """The dir stream with the module's source at offset 0 (no compiled code before it)."""
    out, current = [], None
    for rid, value in _records(data):
        if rid == _MODULENAME:
            current = value.decode(CODEPAGE)
        if current == module and rid == _MODULEOFFSET:
            value = struct.pack("<I", 0)
        out.append((rid, value))
    return _join(out)


def _dir_entries(data: bytes) -> list[_DirEntry]:
    """The module records of a dir stream (MS-OVBA 2.3.4.2.3.2), one entry per module."""
    entries: list[_DirEntry] = []
    for rid, value in _records(data):
        if rid == _MODULENAME:
            entries.append(_DirEntry(value.decode(CODEPAGE)))
        elif not entries:
            continue
        elif rid == _MODULESTREAMNAME:
            entries[-1].stream = value.decode(CODEPAGE)
        elif rid == _MODULEOFFSET:
            entries[-1].offset = struct.unpack("<I", value)[0]
        elif rid == _MODULETYPE_DOCUMENT:
            entries[-1].document = True
    for entry in entries:
        entry.stream = entry.stream or entry.name
    return entries


def _wm_name(name: str) -> bytes:
    """A PROJECTwm entry: the name in the code page, NUL, in UTF-16, NUL NUL."""
    return name.encode(CODEPAGE) + b"\x00" + name.encode("utf-16-le") + b"\x00\x00"


# MS-OVBA compression (2.4.1) ----------------------------------------------------------------------
_CHUNK = 4096


def decompress(data: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer."""
    if not data or data[0] != 0x01:
        raise ValueError("not a compressed VBA container")
    out = bytearray()
    i = 1
    while i < len(data):
        header = struct.unpack_from("<H", data, i)[0]
        size, compressed = (header & 0x0FFF) + 3, bool(header & 0x8000)
        chunk, i = data[i + 2:i + size], i + size
        start = len(out)
        if not compressed:
            out += chunk
            continue
        j = 0
        while j < len(chunk):
            flags, j = chunk[j], j + 1
            for bit in range(8):
                if j >= len(chunk):
                    break
                if not flags & (1 << bit):
                    out.append(chunk[j])
                    j += 1
                    continue
                token = struct.unpack_from("<H", chunk, j)[0]
                j += 2
                length_mask, offset_shift = _token_split(len(out) - start)
                length = (token & length_mask) + 3
                offset = (token >> offset_shift) + 1
                for _ in range(length):  # byte by byte: a copy may overlap what it writes
                    out.append(out[-offset])
    return bytes(out)


def compress(data: bytes) -> bytes:
    """Compress bytes into an MS-OVBA CompressedContainer (greedy longest match)."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        chunk = _compress_chunk(data, start, min(start + _CHUNK, len(data)))
        if len(chunk) > _CHUNK and start + _CHUNK <= len(data):
            # Incompressible full chunk: stored raw (flag 0).
            out += struct.pack("<H", (_CHUNK + 2 - 3) | 0x3000) + data[start:start + _CHUNK]
        else:
            out += struct.pack("<H", (len(chunk) + 2 - 3) | 0x3000 | 0x8000) + chunk
    return bytes(out)


def _token_split(position: int) -> tuple[int, int]:
    """The (length mask, offset shift) of a copy token at `position` bytes into its chunk."""
    bits = max((position - 1).bit_length(), 4)
    return 0xFFFF >> bits, 16 - bits


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """One chunk, each copy token the longest (then nearest) earlier match. Earlier positions are
    indexed by their first three bytes, the shortest copy there is, so only real candidates are tried."""
    out = bytearray()
    seen: dict[bytes, list[int]] = {}  # three bytes -> the chunk positions that start with them
    indexed = start
    pos = start
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            for i in range(indexed, pos):
                seen.setdefault(data[i:i + 3], []).append(i)
            indexed = pos
            length_mask, offset_shift = _token_split(pos - start)
            best_len, best_off = 0, 0
            max_len = min(length_mask + 3, end - pos)
            for cand in reversed(seen.get(data[pos:pos + 3], []) if max_len >= 3 else []):
                n = 3
                while n < max_len and data[cand + n] == data[pos + n]:
                    n += 1
                if n > best_len:
                    best_len, best_off = n, pos - cand
                    if n == max_len:
                        break
            if best_len >= 3:
                out += struct.pack("<H", ((best_off - 1) << offset_shift) | (best_len - 3))
                flags |= 1 << bit
                pos += best_len
            else:
                out.append(data[pos])
                pos += 1
        out[flag_at] = flags
    return bytes(out)


# MS-CFB version 3 writer ----------------------------------------------------------------------------
_SECTOR, _MINI_SECTOR, _MINI_CUTOFF = 512, 64, 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Entry] = []
        self.id = 0
        self.left = self.right = self.child = _NOSTREAM
        self.red = False
        self.start, self.size = 0, 0


def write_compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file holding `streams` ("STORAGE/NAME" paths -> bytes), deterministic."""
    root = _Entry("Root Entry", _ROOT)
    for path, data in sorted(streams.items()):
        parent = root
        *folders, name = path.split("/")
        for folder in folders:
            found = next((c for c in parent.children if c.name == folder), None)
            if found is None:
                found = _Entry(folder, _STORAGE)
                parent.children.append(found)
            parent = found
        parent.children.append(_Entry(name, _STREAM, data))
    entries = _number(root)

    # Small streams live in the mini stream (64-byte sectors), big ones in 512-byte sectors.
    mini = bytearray()
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for e in entries:
        if e.kind != _STREAM:
            continue
        e.size = len(e.data)
        if e.size >= _MINI_CUTOFF:
            big.append(e)
            continue
        count = -(-e.size // _MINI_SECTOR)
        e.start = len(mini_fat) if count else _END
        mini_fat += [len(mini_fat) + k + 1 for k in range(count - 1)] + ([_END] if count else [])
        mini += e.data + b"\x00" * (count * _MINI_SECTOR - e.size)

    fat: list[int] = []
    body = bytearray()

    def allocate(data: bytes) -> int:
        count = -(-len(data) // _SECTOR)
        if not count:
            return _END
        first = len(fat)
        fat.extend(first + k + 1 for k in range(count - 1))
        fat.append(_END)
        body.extend(data + b"\x00" * (count * _SECTOR - len(data)))
        return first

    for e in big:
        e.start = allocate(e.data)
    root.start, root.size = allocate(bytes(mini)), len(mini)
    mini_fat_bytes = _u32s(mini_fat + [_FREE] * (-len(mini_fat) % (_SECTOR // 4)))
    first_mini_fat = allocate(mini_fat_bytes) if mini_fat else _END
    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _dir_entry(None) * (-len(entries) % (_SECTOR // 128))
    first_dir = allocate(directory)

    n_fat = 1
    while (len(fat) + n_fat) > n_fat * (_SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("VBA project too large for a header-only FAT")
    fat_sectors = list(range(len(fat), len(fat) + n_fat))
    fat += [_FATSECT] * n_fat
    fat += [_FREE] * (n_fat * (_SECTOR // 4) - len(fat))

    header = b"".join([
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 16,
        struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6), b"\x00" * 6,
        struct.pack("<IIIIIIIII", 0, n_fat, first_dir, 0, _MINI_CUTOFF, first_mini_fat,
                    len(mini_fat_bytes) // _SECTOR if mini_fat else 0, _END, 0),
        _u32s(fat_sectors + [_FREE] * (109 - n_fat)),
    ])
    return header + bytes(body) + _u32s(fat)


def _number(root: _Entry) -> list[_Entry]:
    """Give every entry an id (breadth first) and link each storage's children as a red-black tree."""
    entries, queue = [root], [root]
    while queue:
        storage = queue.pop(0)
        # CFB orders siblings by name length, then by upper-cased name.
        ordered = sorted(storage.children, key=lambda e: (len(e.name), e.name.upper()))
        for e in ordered:
            e.id = len(entries)
            entries.append(e)
        depth = _balanced_depth(len(ordered))
        storage.child = _tree(ordered, 0, depth)
        queue.extend(e for e in ordered if e.kind == _STORAGE)
    return entries


def _balanced_depth(n: int) -> int:
    """The deepest level of a middle-split tree of n nodes (the root is level 0)."""
    return max(n.bit_length() - 1, 0)


def _tree(items: list[_Entry], level: int, deepest: int) -> int:
    """Link a sorted list as a balanced binary search tree; returns the id of its root."""
    if not items:
        return _NOSTREAM
    mid = len(items) // 2
    node = items[mid]
    node.left = _tree(items[:mid], level + 1, deepest)
    node.right = _tree(items[mid + 1:], level + 1, deepest)
    # A middle-split tree's leaves sit on its deepest level or the one above: red on the deepest
    # level keeps every black height equal, whether or not that level is full.
    node.red = level > 0 and level == deepest
    return node.id


def _dir_entry(e: _Entry | None) -> bytes:
    if e is None:
        return b"\x00" * 64 + struct.pack("<HBB3I", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM) + b"\x00" * 48
    name = e.name.encode("utf-16-le") + b"\x00\x00"
    return b"".join([
        name.ljust(64, b"\x00"),
        struct.pack("<HBB3I", len(name), e.kind, 0 if e.red else 1, e.left, e.right,
                    e.child if e.kind != _STREAM else _NOSTREAM),
        b"\x00" * 16,  # CLSID
        b"\x00" * 4,  # state bits
        b"\x00" * 16,  # creation and modification times: none, so builds are reproducible
        struct.pack("<IQ", e.start if e.kind != _STORAGE else 0, e.size if e.kind != _STORAGE else 0),
    ])


def _u32s(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


if __name__ == "__main__":  # pragma: no cover - maintainer's rebuild
    OUTPUT.write_bytes(build())
    print(f"wrote {OUTPUT}")
