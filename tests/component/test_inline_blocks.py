"""Inline blocks (ozs3/storage/inline_blocks.py): small bodies kept in the
OM's database, shared, released and verified like any other block."""

from __future__ import annotations

import os
import sqlite3

import pytest

from ozs3.storage.errors import BlockNotFound, ChecksumMismatch, KeyNotFound
from ozs3.storage.inline_blocks import is_inline
from ozs3.storage.model import ObjectMeta, PartTarget
from tests.component.test_storage import make_store, put, read, result_of
from tests.support.storecheck import assert_clean, stored_blocks

KiB = 1024
INLINE = 16 * KiB


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = make_store(str(tmp_path), block_size=64 * KiB, inline_size=INLINE)
    result_of(s.create_bucket("b", "owner"))
    return s


def _rows(store) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    db = sqlite3.connect(store.om.path)
    try:
        return dict(db.execute("SELECT local_id, data FROM inline_blocks"))
    finally:
        db.close()


@pytest.mark.parametrize("pieces", [1, 4])
def test_a_small_body_is_inline_and_reads_back(store, pieces) -> None:
    """Up to the inline size, in one write or several: no block file, one
    row holding the bytes, and every range reads back."""
    data = os.urandom(INLINE)
    info = put(store, "b", "k", data, pieces=pieces)
    (block,) = info.blocks
    assert is_inline(block.block_id) and block.length == INLINE
    assert store.datanode.block_files() == []
    assert _rows(store) == {block.block_id.local_id: data}
    assert read(store, "b", "k") == data
    assert read(store, "b", "k", 100, 5000) == data[100:5100]
    assert read(store, "b", "k", INLINE - 1, 1) == data[-1:]


def test_a_body_one_byte_over_goes_to_a_block_file(store) -> None:
    """Held bytes are written out, first, once the body outgrows the
    inline size: all of them, in order."""
    data = os.urandom(INLINE + 1)
    info = put(store, "b", "k", data, pieces=5)
    assert not any(is_inline(b.block_id) for b in info.blocks)
    assert len(store.datanode.block_files()) == 1
    assert _rows(store) == {}
    assert read(store, "b", "k") == data


@pytest.mark.parametrize("inline_size", [0, INLINE])
def test_an_empty_body_stores_nothing(tmp_path, inline_size) -> None:
    """Empty writes included: no block, no row, no file."""
    store = make_store(str(tmp_path), inline_size=inline_size)
    result_of(store.create_bucket("b", "owner"))
    w = result_of(store.open_key("b", "k", ObjectMeta(), 0))
    result_of(w.write(b""))
    info = result_of(w.commit("etag"))
    assert info.blocks == () and _rows(store) == {}
    assert store.datanode.block_files() == []
    assert read(store, "b", "k") == b""


def test_overwrite_and_delete_free_the_row(store) -> None:
    put(store, "b", "k", b"one")
    (first,) = _rows(store)
    put(store, "b", "k", b"two")
    assert list(_rows(store).values()) == [b"two"] and first not in _rows(store)
    result_of(store.delete_key("b", "k"))
    assert _rows(store) == {}
    assert_clean(os.path.dirname(os.path.dirname(store.om.path)))


def test_a_copy_shares_the_inline_block(store) -> None:
    """CopyObject references the source's inline block (one row); the row
    goes only with the last key holding it."""
    data = os.urandom(3000)
    put(store, "b", "src", data)
    w = result_of(store.open_copy("b", "dst", None, None, "b", "src", None))
    result_of(w.verify())
    copied = result_of(w.commit("etag"))
    assert len(_rows(store)) == 1 and is_inline(copied.blocks[0].block_id)
    result_of(store.delete_key("b", "src"))
    assert read(store, "b", "dst") == data
    result_of(store.delete_key("b", "dst"))
    assert _rows(store) == {}


def test_a_ranged_copy_of_an_inline_source(store) -> None:
    data = os.urandom(5000)
    put(store, "b", "src", data)
    w = result_of(store.open_copy("b", "dst", None, None, "b", "src", (1000, 2000)))
    result_of(w.commit("etag"))
    assert read(store, "b", "dst") == data[1000:3000]


def test_an_upload_mixes_file_and_inline_parts(store) -> None:
    """A small last part is inline; the completed key reads across both
    kinds of block, and aborting nothing is left behind."""
    upload = result_of(store.create_upload("b", "mp", ObjectMeta(), "owner"))
    bodies = {1: os.urandom(5 * 1024 * KiB), 2: os.urandom(1000)}
    for n, body in bodies.items():
        target = PartTarget(upload.upload_id, n)
        w = result_of(store.open_key("b", "mp", ObjectMeta(), len(body), target))
        result_of(w.write(body))
        result_of(w.commit(f"{n:032x}"))
    info = result_of(
        store.complete_upload(
            "b", "mp", upload.upload_id, [(1, f"{1:032x}"), (2, f"{2:032x}")]
        )
    )
    assert [is_inline(b.block_id) for b in info.blocks] == [False] * 80 + [True]
    whole = bodies[1] + bodies[2]
    assert read(store, "b", "mp") == whole
    edge = len(bodies[1]) - 10
    assert read(store, "b", "mp", edge, 20) == whole[edge : edge + 20]
    result_of(store.delete_key("b", "mp"))
    assert _rows(store) == {} and store.datanode.block_files() == []


def test_abort_leaves_nothing(store) -> None:
    w = result_of(store.open_key("b", "a", ObjectMeta(), 100))
    result_of(w.write(b"x" * 100))
    result_of(w.abort())
    with pytest.raises(KeyNotFound):
        result_of(store.lookup_key("b", "a"))
    assert _rows(store) == {}


def test_a_commit_into_a_deleted_bucket_stores_nothing(store) -> None:
    w = result_of(store.open_key("b", "k", ObjectMeta(), 10))
    result_of(w.write(b"0123456789"))
    result_of(store.delete_bucket("b"))
    with pytest.raises(Exception, match="deleted during the upload"):
        result_of(w.commit("etag"))
    assert _rows(store) == {}


def test_a_flipped_bit_fails_the_read(store) -> None:
    """The row's CRC32C catches a changed byte: no wrong byte is served."""
    info = put(store, "b", "k", b"precious bytes")
    db = sqlite3.connect(store.om.path)
    db.execute(
        "UPDATE inline_blocks SET data=? WHERE local_id=?",
        (b"precious bytez", info.blocks[0].block_id.local_id),
    )
    db.commit()
    db.close()
    with pytest.raises(ChecksumMismatch):
        read(store, "b", "k")


def test_a_version_replaced_since_its_lookup_is_not_found(store) -> None:
    """A reader of an old version whose row was freed since its lookup gets
    BlockNotFound (the S3 layer looks the key up again), never new bytes."""
    put(store, "b", "k", b"old")
    old = result_of(store.lookup_key("b", "k"))
    put(store, "b", "k", b"new")
    with pytest.raises(BlockNotFound):
        result_of(store.open_reader(old, 0, 3))


def test_storecheck_counts_inline_blocks(store, tmp_path) -> None:
    info = put(store, "b", "k", b"abc")
    assert stored_blocks(str(tmp_path)) == {info.blocks[0].block_id}
    assert_clean(str(tmp_path))


def test_writes_go_on_past_a_reservation_with_a_synchronous_om(tmp_path) -> None:
    """More writes than one reservation of block IDs holds (128), with the
    OM answering synchronously (in-process tools and tests): each gets a
    fresh ID (a fired refill kept by the allocator made it spin forever)."""
    store = make_store(str(tmp_path), inline_size=0)
    result_of(store.create_bucket("b", "owner"))
    ids = {
        put(store, "b", f"k{i}", b"x", pieces=1).blocks[0].block_id for i in range(300)
    }
    assert len(ids) == 300
