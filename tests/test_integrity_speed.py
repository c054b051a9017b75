"""The fast paths of the ledger fingerprints give what the plain definitions give.

Fingerprints already written to workbooks must keep matching, so the hashes are pinned to values
the earlier (pandas string methods, one hash per row) implementation wrote, and pack() is checked
against a plain Python statement of the layout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from storefactory import make_store, mv

from inv_sheets import integrity
from inv_sheets.contract.schema import CODE, TEXT
from inv_sheets.integrity import (
    BLOCK_CHARS,
    ENTRY_CHARS,
    fingerprints,
    ledger_check,
    pack,
    seen_from_frame,
    unpack,
)

IDX = pd.Index([2, 3, 4, 5, 6], dtype="int64")


def mixed_movements() -> pd.DataFrame:
    """A few rows mixing the dtypes a Movements column can get: arrow text, objects, numbers as text,
    an all-blank column, -0.0, missing dates."""
    return pd.DataFrame({
        "movement_id": pd.Series(["M1", "M2", "M3", None, "M5"], index=IDX, dtype="str"),
        "date": pd.Series(pd.to_datetime(["2026-01-02", "2026-01-03", None, "2026-01-04", "2026-01-02"]), index=IDX),
        "type": pd.Series(["receive", "sale", "receive", "sale", "receive"], index=IDX, dtype="str"),
        "sku": pd.Series(["TEE-M", "TEE-M", None, "TEE-L", "TEE-M"], index=IDX, dtype="str"),
        "qty": pd.Series([10.0, -0.0, 0.0, np.nan, 3.5], index=IDX),
        "batch": pd.Series([None] * 5, index=IDX, dtype=object),
        "reference": pd.Series(["12", 12, 12.0, "ünï", None], index=IDX, dtype=object),
        "note": pd.Series(["a", "a", None, "b", "a"], index=IDX, dtype=object),
    }, index=IDX)


def test_fingerprints_match_the_ones_written_before() -> None:
    got = fingerprints(mixed_movements())
    assert got["movement_id"].tolist() == ["M1", "M2", "M3", "", "M5"]
    assert got["row"].tolist() == [2, 3, 4, 5, 6]
    assert got["fingerprint"].tolist() == [
        "590042d432167378", "539477d194b8693a", "e01e6f7c213c5d05", "6783fc4fac7ebefc", "42be92558f4b6817"]
    assert got["columns"].tolist() == [
        "6b22cb14a300000000007d000000cb", "d4bcce149800000000007d000000cb", "b700cb00980000000000c500000000",
        "00c9ce1e0000000000004d00000063", "9522cb14e0000000000000000000cb"]


@pytest.mark.parametrize("dtype", ["str", "string", object, pd.StringDtype("python")])
@pytest.mark.parametrize("distinct", [7, 30_000])  # hashed once per distinct value, or value by value
def test_a_text_column_hashes_as_its_strings_do(dtype: object, distinct: int) -> None:
    values = [None if i % 11 == 0 else f"V{i % distinct}-é" for i in range(30_000)]
    column = pd.Series(values, dtype=dtype)
    hashed, blank = integrity._column_hash(column, CODE)
    as_text = np.array(["" if v is None else v for v in values], dtype=object)
    assert np.array_equal(hashed, pd.util.hash_array(as_text, categorize=False))
    assert np.array_equal(blank, [v is None for v in values])


def test_numbers_in_a_text_column_hash_as_their_str() -> None:
    column = pd.Series([12, 12.0, "12", True, None, 3.5] * 1000, dtype=object)
    hashed, _ = integrity._column_hash(column, TEXT)
    as_text = np.array(["" if v is None else str(v) for v in column], dtype=object)
    assert np.array_equal(hashed, pd.util.hash_array(as_text, categorize=False))


def reference_pack(seen: pd.DataFrame) -> list[str]:
    """The layout pack() writes, stated plainly: entries in order, unsafe ones left out, a new cell
    wherever an entry's start in the whole text crosses a multiple of BLOCK_CHARS."""
    def text(v: object) -> str:
        return "" if pd.isna(v) else str(v)

    lines = [f"{text(i)}\t{int(r)}\t{text(f)}\t{text(c)}" for i, r, f, c in
             zip(seen["movement_id"], seen["row"], seen["fingerprint"], seen["columns"])]
    lines = [s for s in lines if s.count("\t") == 3 and "\n" not in s and "\r" not in s and len(s) <= ENTRY_CHARS]
    cells: dict[int, list[str]] = {}
    start = 0
    for s in lines:
        cells.setdefault(start // BLOCK_CHARS, []).append(s)
        start += len(s) + 1
    return ["\n".join(cell) for cell in cells.values()]


def awkward_seen(n: int = 3_000) -> pd.DataFrame:
    ids = np.array([f"M{i}" for i in range(n)], dtype=object)
    ids[[10, 20, 30]] = ["A\tB", "A\nB", "A\rB"]
    ids[40], ids[41], ids[42], ids[50], ids[60] = "X" * 990, "Y" * 2_000, "ünï", "", None
    fp = fingerprints(pd.DataFrame({"movement_id": pd.Series(ids, dtype="str")}, index=pd.RangeIndex(2, n + 2)))
    return fp.assign(movement_id=ids)


@pytest.mark.parametrize("n", [0, 1, 3_000])
def test_pack_is_the_plain_layout(n: int) -> None:
    seen = awkward_seen()[:n]
    assert pack(seen)["block"].tolist() == reference_pack(seen)


@pytest.mark.parametrize("seed", range(6))
def test_packing_on_from_what_was_packed_before_gives_the_same_cells(seed: int) -> None:
    """A ledger that grew is packed from the cells of its earlier entries on (the daily refresh):
    the cells must be those of packing every entry again, wherever the earlier ones ended (inside
    a cell or at its end), with unsafe new entries left out as ever."""
    rng = np.random.default_rng(seed)
    seen = awkward_seen(int(rng.integers(2_000, 6_000)))
    seen = seen.iloc[rng.permutation(len(seen))].reset_index(drop=True)  # unsafe entries anywhere
    blocks, kept, packed = integrity._packed(seen)
    for _ in range(4):
        extra = awkward_seen()[:int(rng.integers(0, 400))].assign(row=lambda f: f["row"] + 10_000)
        every = pd.concat([kept, extra], ignore_index=True)
        blocks, kept, packed = integrity._packed(every, packed)
        assert blocks == reference_pack(every) == pack(every)["block"].tolist()
        assert kept.equals(every[every.index.isin(integrity._packed(every)[1].index)])
        assert (packed.entries, packed.chars) == (len(kept), sum(len(b) + 1 for b in blocks))


@pytest.mark.parametrize("seed", range(3))
def test_packed_cells_kept_in_the_cache_lead_the_cells_of_a_grown_ledger(seed: int) -> None:
    """How packing is kept in the cache (Packed.as_rows) gives back the same Packed, and its rows
    are the first rows of the grown ledger's: what the cache's chunks rely on."""
    rng = np.random.default_rng(seed)
    _, kept, packed = integrity._packed(awkward_seen(int(rng.integers(2_000, 6_000))))
    for _ in range(4):
        assert integrity.Packed.from_rows(*packed.as_rows()) == packed
        extra = awkward_seen()[:int(rng.integers(0, 400))].assign(row=lambda f: f["row"] + 10_000)
        _, kept, grown = integrity._packed(pd.concat([kept, extra], ignore_index=True), packed)
        before, after = packed.as_rows()[0]["block"].tolist(), grown.as_rows()[0]["block"].tolist()
        assert after[:len(before)] == before
        packed = grown
    assert integrity.Packed.from_rows(pd.DataFrame({"other": []}), {}) is None


def test_pack_unpack_round_trip() -> None:
    seen = awkward_seen()
    back = seen_from_frame(pack(seen))
    kept = [i for i, s in enumerate(seen["movement_id"])
            if isinstance(s, str) and s and not any(c in s for c in "\t\n\r") and len(s) < 900]
    assert back["movement_id"].tolist() == [seen["movement_id"].iloc[i].upper() for i in kept]
    assert back["row"].tolist() == seen["row"].iloc[kept].tolist()
    assert back["fingerprint"].tolist() == seen["fingerprint"].iloc[kept].tolist()
    assert [str(t) for t in back.dtypes] == ["str", "int64", "str", "str"]  # arrow-backed text, as pandas keeps it


def test_unpack_reads_rows_it_did_not_write() -> None:
    """Rows as a person might have retyped them still read as to_numeric reads them."""
    cells = pd.Series(["A\t 7\taaaaaaaaaaaaaaaa\t00\nB\t0x10\taaaaaaaaaaaaaaaa\t00\nC\t8.0\taaaaaaaaaaaaaaaa\t00"])
    assert unpack(cells)["row"].tolist() == [" 7", "0x10", "8.0"]
    seen = seen_from_frame(pd.DataFrame({"block": cells}))
    assert seen["movement_id"].tolist() == ["A", "C"] and seen["row"].tolist() == [7, 8]


def test_repeated_ids_keep_their_first_row_on_both_sides() -> None:
    """Current rows repeating an ID count once (the first); so do remembered entries; an edit is
    found by ID wherever the row moved, and an ID gone from the sheet is a deletion."""
    store = make_store(movements=[
        mv("2026-01-02", "receive", "A", 10, to="MAIN", id="M1"),
        mv("2026-01-03", "receive", "A", 5, to="MAIN", id="M2"),
        mv("2026-01-04", "receive", "A", 7, to="MAIN", id="M1"),  # a repeated ID: not fingerprinted
        mv("2026-01-05", "receive", "A", 1, to="MAIN", id="M4"),
    ])
    now = fingerprints(store.tables["Movements"]).set_index("movement_id")
    seen = pd.DataFrame({
        "movement_id": ["M2", "M1", "M1", "M3"],
        "row": [2, 3, 9, 4],  # M1 and M2 were the other way round
        "fingerprint": [now["fingerprint"].iloc[1], "0123456789abcdef", now["fingerprint"].iloc[0], "00000000000000ff"],
        "columns": [now["columns"].iloc[1], "00" * 15, now["columns"].iloc[0], "00" * 15],
    }).astype(object)
    found, sheet = ledger_check(store, seen)
    assert [(i.code, i.row, i.value) for i in found] == [
        ("ledger-row-edited", 2, "M1"), ("ledger-row-deleted", 4, "M3")]
    back = seen_from_frame(sheet.rows)
    assert back["movement_id"].tolist() == ["M1", "M2", "M3", "M4"]
    assert back["row"].tolist() == [2, 3, 4, 5]
    assert back["fingerprint"].tolist()[:3] == ["0123456789abcdef", now["fingerprint"].iloc[1], "00000000000000ff"]
