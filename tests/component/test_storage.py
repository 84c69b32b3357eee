"""The embedded store (OM + datanode + client) as the S3 layer uses it.

Runs with a synchronous executor: every Deferred has fired on return.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from ozs3._executor import SyncExecutor
from ozs3.storage.client import EmbeddedObjectStore
from ozs3.storage.datanode.store import LocalBlockStore
from ozs3.storage.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    ChecksumMismatch,
    KeyNotFound,
)
from ozs3.storage.model import BlockID, ListQuery, ObjectMeta
from ozs3.storage.om.manager import OzoneManager
from tests.support.storecheck import flip_bits

KiB = 1024


def result_of(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "Deferred has not fired"
    if isinstance(box[0], Failure):
        box[0].raiseException()
    return box[0]


def make_store(path: str, block_size: int = 64 * KiB,
               checksum_type: str = "CRC32C", slot: int | None = None,
               start: bool = True, inline_size: int = 0,
               ) -> EmbeddedObjectStore:  # fmt: skip
    """A store; with ``inline_size`` 0 (these tests are about block files)
    every body gets a block file, see test_inline_blocks.py for the rest."""
    ex = SyncExecutor()
    om = OzoneManager(os.path.join(path, "om", "om.db"), "s3v", ex, slot=slot)
    dn = LocalBlockStore(os.path.join(path, "hdds"), 16 * KiB, 4 * KiB, checksum_type)
    store = EmbeddedObjectStore(om, dn, ex, block_size, inline_size=inline_size)
    if start:
        result_of(store.start(every_slot=slot is None))
    return store


def put(store: EmbeddedObjectStore, bucket: str, key: str, data: bytes,
        pieces: int = 3) -> Any:  # fmt: skip
    w = result_of(store.open_key(bucket, key, ObjectMeta(), len(data)))
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        result_of(w.write(data[i : i + step]))
    return result_of(w.commit("etag-" + str(len(data))))


def read(store: EmbeddedObjectStore, bucket: str, key: str, offset: int = 0,
         length: int | None = None) -> bytes:  # fmt: skip
    info = result_of(store.lookup_key(bucket, key))
    n = info.size - offset if length is None else length
    r = result_of(store.open_reader(info, offset, n))
    out = b""
    while chunk := result_of(r.read(10 * KiB)):
        out += chunk
    r.close()
    return out


@pytest.fixture(params=["CRC32C", "CRC32", "NONE"])
def store(tmp_path, request) -> EmbeddedObjectStore:
    s = make_store(str(tmp_path), checksum_type=request.param)
    result_of(s.create_bucket("b", "owner"))
    return s


def test_put_spanning_blocks_reads_back(store) -> None:
    """An object larger than a block is split over blocks and reads back."""
    data = os.urandom(200 * KiB + 7)
    info = put(store, "b", "k", data, pieces=7)
    assert info.size == len(data)
    assert len(info.blocks) == 4  # 64 KiB blocks
    assert read(store, "b", "k") == data


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(0, 150 * KiB),
    splits=st.integers(1, 9),
    rng=st.tuples(st.integers(0, 150 * KiB), st.integers(0, 150 * KiB)),
    inline_size=st.sampled_from([0, 16 * KiB, 32 * KiB]),
)
def test_range_reads_match_reference(
    tmp_path_factory, size, splits, rng, inline_size
) -> None:
    """Any range of any object equals the same slice of what was written,
    its bytes in block files or inline (see inline_blocks.py)."""
    s = make_store(
        str(tmp_path_factory.mktemp("r")), block_size=32 * KiB, inline_size=inline_size
    )
    result_of(s.create_bucket("b", "o"))
    data = os.urandom(size)
    put(s, "b", "k", data, pieces=splits)
    start = min(rng[0], size)
    length = min(rng[1], size - start)
    assert read(s, "b", "k", start, length) == data[start : start + length]


def test_overwrite_reclaims_old_blocks(store) -> None:
    """Replacing a key frees the old version's block files."""
    put(store, "b", "k", os.urandom(100 * KiB))
    before = set(store.datanode.block_files())
    put(store, "b", "k", os.urandom(10 * KiB))
    after = set(store.datanode.block_files())
    assert len(before) == 2 and len(after) == 1 and not (before & after)


def test_abort_leaves_nothing(store) -> None:
    """An aborted upload is not visible and its blocks are gone."""
    w = result_of(store.open_key("b", "a", ObjectMeta(), None))
    result_of(w.write(os.urandom(100 * KiB)))
    result_of(w.abort())
    with pytest.raises(KeyNotFound):
        result_of(store.lookup_key("b", "a"))
    assert store.datanode.block_files() == []


def test_uncommitted_key_is_invisible(store) -> None:
    """Written but uncommitted data is not listed or readable."""
    w = result_of(store.open_key("b", "u", ObjectMeta(), None))
    result_of(w.write(b"x" * 1000))
    with pytest.raises(KeyNotFound):
        result_of(store.lookup_key("b", "u"))
    assert result_of(store.list_keys("b", ListQuery())).keys == ()
    result_of(w.abort())


def test_flipped_bit_fails_the_read(store) -> None:
    """A corrupted byte is caught by its chunk checksum; reads of other
    windows still succeed."""
    if store.datanode.checksum_type == "NONE":
        pytest.skip("nothing to catch it with")
    data = os.urandom(40 * KiB)
    info = put(store, "b", "c", data, pieces=1)
    path = store.datanode.block_path(info.blocks[0].block_id)
    flip_bits(path, 20 * KiB + 5, 0x01)
    with pytest.raises(ChecksumMismatch):
        read(store, "b", "c")
    assert read(store, "b", "c", 0, 16 * KiB) == data[: 16 * KiB]


def test_blocks_keep_the_checksum_type_they_were_written_with(tmp_path) -> None:
    """Changing ozone.client.checksum.type leaves older blocks readable and
    still verified by their own type."""
    old = make_store(str(tmp_path), checksum_type="CRC32")
    result_of(old.create_bucket("b", "o"))
    data = os.urandom(50 * KiB)
    info = put(old, "b", "k", data)
    old.om.close()
    new = make_store(str(tmp_path), checksum_type="CRC32C")
    assert read(new, "b", "k") == data
    path = new.datanode.block_path(info.blocks[0].block_id)
    flip_bits(path, 3, 0x80)
    with pytest.raises(ChecksumMismatch):
        read(new, "b", "k")


def test_reads_stop_at_chunk_ends(store) -> None:
    """A reader hands out whole chunks (one pread, no copying) once aligned:
    the first read of a range ends at its chunk's end."""
    data = os.urandom(60 * KiB)
    info = put(store, "b", "r", data, pieces=1)  # chunks of 16 KiB
    r = result_of(store.open_reader(info, 5 * KiB, 50 * KiB))
    sizes = []
    while chunk := result_of(r.read(64 * KiB)):
        sizes.append(len(chunk))
    r.close()
    assert sizes == [11 * KiB, 16 * KiB, 16 * KiB, 7 * KiB]


def test_truncated_block_fails_the_read(store) -> None:
    """A block without its footer is refused rather than read."""
    info = put(store, "b", "t", os.urandom(10 * KiB), pieces=1)
    path = store.datanode.block_path(info.blocks[0].block_id)
    os.truncate(path, 5 * KiB)
    with pytest.raises(ChecksumMismatch):
        read(store, "b", "t")


def _footer_length(path: str) -> int:
    with open(path, "rb") as f:
        f.seek(-16, os.SEEK_END)
        return int.from_bytes(f.read(8), "big")


@pytest.mark.parametrize("size", [1, 100, 5000, 200 * KiB, 2048 * KiB])
def test_blocks_read_back_whatever_their_metadata_length(tmp_path, size) -> None:
    """A reader finds the footer and the chunk metadata in one read off the
    block's end when they fit in it (small objects: the whole file), and
    reads the metadata again when it is longer (many chunks); both read back
    byte for byte, and a corrupt metadata text is refused either way."""
    from ozs3.storage.datanode.block_format import END_READ

    store = make_store(str(tmp_path), block_size=4096 * KiB)
    result_of(store.create_bucket("b", "owner"))
    data = os.urandom(size)
    info = put(store, "b", "k", data, pieces=1)
    path = store.datanode.block_path(info.blocks[0].block_id)
    flen = _footer_length(path)
    # The parameters cover both ways (16 KiB chunks: ~60 bytes of metadata each).
    assert (flen + 16 > END_READ) == (size == 2048 * KiB), flen
    assert read(store, "b", "k") == data
    with open(path, "r+b") as f:  # the metadata's first byte, "{", made "["
        f.seek(os.path.getsize(path) - 16 - flen)
        assert f.read(1) == b"{"
        f.seek(-1, os.SEEK_CUR)
        f.write(b"[")
    with pytest.raises(ChecksumMismatch):
        read(store, "b", "k")
    with open(path, "r+b") as f:  # and a byte that is no UTF-8 at all
        f.seek(os.path.getsize(path) - 16 - flen)
        f.write(b"\xff")
    with pytest.raises(ChecksumMismatch):
        read(store, "b", "k")


def test_restart_reclaims_open_keys(tmp_path) -> None:
    """Open keys left by a crash are reclaimed at start-up."""
    s = make_store(str(tmp_path))
    result_of(s.create_bucket("b", "o"))
    w = result_of(s.open_key("b", "crashed", ObjectMeta(), None))
    result_of(w.write(os.urandom(100 * KiB)))
    assert len(s.datanode.block_files()) == 2
    s.om.close()
    s2 = make_store(str(tmp_path))  # "restart": same files, fresh objects
    assert s2.datanode.block_files() == []
    assert result_of(s2.om.referenced_blocks()) == set()


def test_a_worker_restart_sweeps_only_its_own_slot(tmp_path) -> None:
    """Worker 1 dies mid-upload while worker 0 is mid-upload too: worker 1's
    successor deletes its predecessor's block files, not worker 0's, and
    worker 0's upload still commits."""
    base = make_store(str(tmp_path))
    result_of(base.create_bucket("b", "o"))
    w0 = make_store(str(tmp_path), slot=0)
    w1 = make_store(str(tmp_path), slot=1)
    up0 = result_of(w0.open_key("b", "zero", ObjectMeta(), None))
    result_of(up0.write(os.urandom(100 * KiB)))
    up1 = result_of(w1.open_key("b", "one", ObjectMeta(), None))
    result_of(up1.write(os.urandom(100 * KiB)))
    assert len(base.datanode.block_files()) == 4
    w1.om.close()  # worker 1 is gone; its successor starts in slot 1
    make_store(str(tmp_path), slot=1)
    assert len(base.datanode.block_files()) == 2
    info = result_of(up0.commit("e0"))
    assert info.size == 100 * KiB
    assert {b.block_id for b in info.blocks} == set(base.datanode.block_files())
    assert result_of(base.om.referenced_blocks()) == set(base.datanode.block_files())


def test_bucket_rules(store) -> None:
    """Buckets: duplicate names, not-empty deletes, missing buckets."""
    with pytest.raises(BucketAlreadyExists) as e:
        result_of(store.create_bucket("b", "other"))
    assert e.value.owner == "owner"
    put(store, "b", "k", b"x")
    with pytest.raises(BucketNotEmpty):
        result_of(store.delete_bucket("b"))
    with pytest.raises(BucketNotFound):
        result_of(store.open_key("nob", "k", ObjectMeta(), 1))
    result_of(store.delete_key("b", "k"))
    result_of(store.delete_bucket("b"))
    assert result_of(store.list_buckets()) == []


def test_commit_into_deleted_bucket_is_refused(store) -> None:
    """An upload whose bucket vanished commits nothing and frees its blocks."""
    result_of(store.create_bucket("gone", "o"))
    w = result_of(store.open_key("gone", "k", ObjectMeta(), None))
    result_of(w.write(os.urandom(10 * KiB)))
    result_of(store.delete_bucket("gone"))
    with pytest.raises(BucketNotFound):
        result_of(w.commit("e"))
    result_of(store.reclaim())
    assert store.datanode.block_files() == []


def test_metadata_round_trips(store) -> None:
    """Content type, stored headers and user metadata come back on lookup."""
    meta = ObjectMeta("text/x", (("cache-control", "no"),), (("a", "ü"),))
    w = result_of(store.open_key("b", "m", meta, 0))
    result_of(w.commit("e"))
    assert result_of(store.lookup_key("b", "m")).meta == meta


def test_listing_through_om(store) -> None:
    """The OM lists keys with prefix and delimiter in byte order."""
    for k in ["a/1", "a/2", "b", "c/d/e", "é"]:
        put(store, "b", k, b"1")
    page = result_of(store.list_keys("b", ListQuery(delimiter="/")))
    assert [k.key for k in page.keys] == ["b", "é"]
    assert page.common_prefixes == ("a/", "c/")
    page = result_of(store.list_keys("b", ListQuery(prefix="a/", max_keys=1)))
    assert [k.key for k in page.keys] == ["a/1"] and page.truncated
    assert page.next_marker == "a/1"


class _FailingBlocks:
    """A datanode whose Nth chunk write or block sync fails like a disk."""

    def __init__(self, real: LocalBlockStore, fail_write_at: int = 0,
                 fail_sync: bool = False, error: int = 5) -> None:  # fmt: skip
        self._real = real
        self._writes = 0
        self._fail_write_at = fail_write_at
        self._fail_sync = fail_sync
        self._errno = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_block(self, block_id):  # type: ignore[no-untyped-def]
        writer = self._real.create_block(block_id)
        outer = self

        class Writer:
            def __getattr__(self, name: str) -> Any:
                return getattr(writer, name)

            def write_chunk(self, data):  # type: ignore[no-untyped-def]
                outer._writes += 1
                if outer._writes == outer._fail_write_at:
                    from ozs3.storage.datanode.block_format import io_error

                    raise io_error(
                        OSError(outer._errno, os.strerror(outer._errno)), "w"
                    )
                return writer.write_chunk(data)

            def put_block(self):  # type: ignore[no-untyped-def]
                if outer._fail_sync:
                    from ozs3.storage.datanode.block_format import io_error

                    raise io_error(
                        OSError(outer._errno, os.strerror(outer._errno)), "s"
                    )
                return writer.put_block()

        return Writer()


@pytest.mark.parametrize(
    ("fail_write_at", "fail_sync", "error", "expected"),
    [(3, False, 5, "StorageIOError"), (2, False, 28, "NoSpace"),
     (0, True, 5, "StorageIOError"), (0, True, 28, "NoSpace")],
)  # fmt: skip
def test_injected_disk_faults_commit_nothing_and_free_blocks(
    tmp_path, fail_write_at, fail_sync, error, expected
) -> None:
    """EIO/ENOSPC while writing chunks or syncing a block: the write or commit
    fails with a storage error, the old version stays, no block is left."""
    s = make_store(str(tmp_path), block_size=64 * KiB)
    result_of(s.create_bucket("b", "o"))
    put(s, "b", "k", b"old version")
    s.datanode = _FailingBlocks(s.datanode, fail_write_at, fail_sync, error)  # type: ignore[assignment]
    before = set(s.datanode.block_files())
    w = result_of(s.open_key("b", "k", ObjectMeta(), None))
    with pytest.raises(Exception) as e:
        for _ in range(6):
            result_of(w.write(os.urandom(20 * KiB)))
        result_of(w.commit("e"))
    assert type(e.value).__name__ == expected
    result_of(w.abort())
    result_of(s.reclaim())
    assert read(s, "b", "k") == b"old version"
    assert set(s.datanode.block_files()) == before


def test_commit_transaction_failure_releases_blocks(tmp_path, monkeypatch) -> None:
    """If the OM's commit transaction itself fails (e.g. its disk is full),
    the key stays invisible and its blocks are released at once."""
    import sqlite3

    s = make_store(str(tmp_path))
    result_of(s.create_bucket("b", "o"))
    w = result_of(s.open_key("b", "k", ObjectMeta(), None))
    result_of(w.write(os.urandom(100 * KiB)))

    def full(*args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(s.om, "_commit_new", full)
    with pytest.raises(sqlite3.OperationalError):
        result_of(w.commit("e"))
    result_of(s.reclaim())
    with pytest.raises(KeyNotFound):
        result_of(s.lookup_key("b", "k"))
    assert s.datanode.block_files() == []


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["CRC32C", "CRC32"]),
    sizes=st.lists(st.integers(1, 40 * KiB), min_size=1, max_size=8),
)
def test_chunks_are_cut_at_chunk_size_whatever_the_writes(tmp_path_factory, kind,
                                                          sizes) -> None:  # fmt: skip
    """Writes of any sizes make chunks of exactly chunk.size (16 KiB here)
    but the last, with window sums continued across writes: the footer's
    sums equal those of the bytes, window by window."""
    import zlib

    from awscrt import checksums

    dn = LocalBlockStore(str(tmp_path_factory.mktemp("dn")), 16 * KiB, 4 * KiB, kind)
    data = os.urandom(sum(sizes))
    w = dn.create_block(BlockID(1, 1))
    pos = 0
    for n in sizes:
        w.write_chunk(data[pos : pos + n])
        pos += n
    w.put_block()
    r = dn.open_block(BlockID(1, 1))
    assert [c.length for c in r.chunks[:-1]] == [16 * KiB] * (len(r.chunks) - 1)
    assert sum(c.length for c in r.chunks) == len(data)
    f = zlib.crc32 if kind == "CRC32" else checksums.crc32c
    for c in r.chunks:
        want = b"".join(
            f(data[i : min(i + 4 * KiB, c.offset + c.length)]).to_bytes(4, "big")
            for i in range(c.offset, c.offset + c.length, 4 * KiB)
        )
        assert c.checksums == want
    assert r.read(0, len(data)) == data
    r.close()


@pytest.mark.parametrize("multipart", [False, True])
def test_failed_log_sync_after_commit_keeps_the_committed_key(
    tmp_path, monkeypatch, multipart
) -> None:
    """The WAL fdatasync after COMMIT raises (EIO): the key (or part) is
    committed and visible, so the writer must not delete its blocks.  The
    commit reports the doubt (NotDurable, a 500), the key reads back whole,
    and after a restart too."""
    import errno

    from ozs3.storage.errors import NotDurable
    from ozs3.storage.model import PartTarget

    s = make_store(str(tmp_path))
    result_of(s.create_bucket("b", "o"))
    data = os.urandom(150 * KiB)  # three blocks of 64 KiB
    part = None
    if multipart:
        upload = result_of(s.create_upload("b", "k", ObjectMeta(), "o"))
        part = PartTarget(upload.upload_id, 1)
    w = result_of(s.open_key("b", "k", ObjectMeta(), len(data), part))
    result_of(w.write(data))
    real_sync = s.om._sync_wal
    failed: list[int] = []

    def failing_sync() -> None:
        if not failed:
            failed.append(1)
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_sync()

    monkeypatch.setattr(s.om, "_sync_wal", failing_sync)
    with pytest.raises(NotDurable):
        result_of(w.commit("0" * 32))
    assert failed
    result_of(s.reclaim())
    if multipart:
        info = result_of(s.complete_upload("b", "k", upload.upload_id, [(1, "0" * 32)]))
        assert info.size == len(data)
    assert read(s, "b", "k") == data
    assert len(s.datanode.block_files()) == 3
    s.om.close()
    again = make_store(str(tmp_path))  # an unclean restart: the full sweep
    assert read(again, "b", "k") == data


def test_sqlite_full_is_no_space_and_frees_the_blocks(tmp_path) -> None:
    """SQLite's own SQLITE_FULL (here: the database may not grow) is the
    storage's NoSpace (S3: 503 ServiceUnavailable), not an internal error;
    the failed commit took no effect, so its blocks are deleted."""
    from ozs3.storage.errors import NoSpace

    s = make_store(str(tmp_path))
    result_of(s.create_bucket("b", "o"))
    conn = s.om._conn()
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")
    before = set(s.datanode.block_files())
    with pytest.raises(NoSpace):
        for i in range(200):  # until the keys table needs another page
            w = result_of(s.open_key("b", f"{i:0200d}", ObjectMeta(), None))
            result_of(w.write(b"x" * 100))
            result_of(w.commit("0" * 32))
    result_of(s.reclaim())
    listed = result_of(s.list_keys("b", ListQuery(max_keys=1000)))
    assert len(set(s.datanode.block_files()) - before) == len(listed.keys)


def test_start_with_nothing_to_do_writes_nothing(tmp_path) -> None:
    """A restart that finds nothing to reclaim commits no transaction (a
    gateway on a full disk must still start); one after a crash does."""
    s = make_store(str(tmp_path))
    result_of(s.create_bucket("b", "o"))
    put(s, "b", "k", b"data")
    s.om.close()
    make_store(str(tmp_path)).om.close()  # forgets the used reservation
    again = make_store(str(tmp_path))
    assert again.om.groups == 0
    # A copy cut short by a crash leaves an open key: that start reclaims it.
    result_of(again.open_copy("b", "copy", None, None, "b", "k", None))
    again.om.close()
    after_crash = make_store(str(tmp_path))
    assert after_crash.om.groups == 1
    assert read(after_crash, "b", "k") == b"data"


def test_point_reads_never_write_and_never_wait(tmp_path) -> None:
    """Lookups (bucket, key, secret, setting) run on the caller's thread —
    the reactor's — on a connection of their own that cannot write; they
    see every commit made before them, and a database that answers busy
    sends them to the read pool instead of blocking the caller."""
    import sqlite3

    store = make_store(str(tmp_path))
    result_of(store.create_bucket("b", "owner"))
    put(store, "b", "k", b"v1")
    om = store.om

    def probe(conn: sqlite3.Connection) -> int:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM keys")
        return int(conn.execute("SELECT count(*) FROM keys").fetchone()[0])

    assert result_of(om._read_now(probe)) == 1
    put(store, "b", "k2", b"v2")
    assert result_of(store.lookup_key("b", "k2")).size == 2
    # Busy: the pool (here a synchronous executor) does the read.
    pooled: list[str] = []

    def busy(conn: sqlite3.Connection) -> str:
        if not pooled:
            pooled.append("now")
            raise sqlite3.OperationalError("database is locked")
        pooled.append("pool")
        return "read"

    assert result_of(om._read_now(busy)) == "read"
    assert pooled == ["now", "pool"]


def test_one_statement_reads_hold_no_snapshot_after_them(tmp_path) -> None:
    """Bucket, key and secret lookups run one SELECT without BEGIN/COMMIT:
    nothing of them stays open, so a checkpoint can empty the WAL right
    after, and the next lookup sees the next commit."""
    import sqlite3

    store = make_store(str(tmp_path))
    result_of(store.create_bucket("b", "owner"))
    put(store, "b", "k", b"v1")
    om = store.om
    assert result_of(store.lookup_key("b", "k")).size == 2
    assert result_of(store.get_bucket("b")).owner == "owner"
    assert result_of(om.get_s3_secret("nobody")) is None
    with pytest.raises(KeyNotFound):
        result_of(store.lookup_key("b", "missing"))
    with pytest.raises(BucketNotFound):
        result_of(store.lookup_key("missing", "k"))
    assert not om._local.now_conn.in_transaction
    db = sqlite3.connect(os.path.join(str(tmp_path), "om", "om.db"))
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    assert busy == 0
    put(store, "b", "k", b"v2--")
    assert result_of(store.lookup_key("b", "k")).size == 4


class CountingExecutor(SyncExecutor):
    """Runs calls inline, counting the trips a thread pool would have made."""

    def __init__(self) -> None:
        self.trips = 0

    def run(self, f: Any, *args: Any) -> Deferred[Any]:
        self.trips += 1
        return super().run(f, *args)


def test_small_reads_try_the_page_cache_before_the_pool(store, monkeypatch) -> None:
    """A small read whose bytes are cached makes no trip to the I/O pool; one
    that would wait for the disk (RWF_NOWAIT refuses), or a large one, goes
    to the pool; all read the same verified bytes, and a flipped bit is
    caught on either path."""
    import ozs3.storage.client as client_module

    data = os.urandom(12 * KiB)  # one chunk (16 KiB here, 4 MiB by default)
    info = put(store, "b", "s", data, pieces=1)
    pool = store.io = CountingExecutor()

    def whole(prefetch: int) -> bytes:
        r = result_of(store.open_reader(info, 0, len(data), prefetch=prefetch))
        out = b""
        try:
            while chunk := result_of(r.read(prefetch)):
                out += chunk
        finally:
            r.close()
        return out

    assert whole(64 * KiB) == data
    assert pool.trips == 0
    monkeypatch.setattr(client_module, "INLINE_READ", 8 * KiB)
    assert whole(64 * KiB) == data  # larger than INLINE_READ: the pool
    assert pool.trips == 1
    monkeypatch.undo()

    refused = []

    def not_cached(fd: int, buffers: Any, offset: int, flags: int = 0) -> int:
        refused.append(flags)
        raise BlockingIOError

    monkeypatch.setattr(os, "preadv", not_cached)
    assert whole(64 * KiB) == data
    assert pool.trips == 2 and refused == [os.RWF_NOWAIT]
    monkeypatch.undo()

    if store.datanode.checksum_type != "NONE":
        path = store.datanode.block_path(info.blocks[0].block_id)
        flip_bits(path, 100, 0x01)
        with pytest.raises(ChecksumMismatch):
            whole(64 * KiB)
        monkeypatch.setattr(os, "preadv", not_cached)
        with pytest.raises(ChecksumMismatch):
            whole(64 * KiB)


def test_a_file_system_without_nowait_reads_goes_to_the_pool(
    store, monkeypatch
) -> None:
    """Where RWF_NOWAIT is not supported (tmpfs on some kernels answers
    EOPNOTSUPP), small reads go to the pool, and stop trying inline."""
    import errno

    data = os.urandom(3 * KiB)
    info = put(store, "b", "t", data, pieces=1)
    pool = store.io = CountingExecutor()
    calls = []

    def unsupported(fd: int, buffers: Any, offset: int, flags: int = 0) -> int:
        calls.append(flags)
        raise OSError(errno.EOPNOTSUPP, "not on this file system")

    monkeypatch.setattr(os, "preadv", unsupported)
    for trips in (1, 2):
        r = result_of(store.open_reader(info, 0, len(data), prefetch=64 * KiB))
        assert result_of(r.read(64 * KiB)) == data
        r.close()
        assert pool.trips == trips
    assert calls == [os.RWF_NOWAIT]  # asked once
    assert not store.nowait_reads
