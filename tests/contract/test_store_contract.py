"""What the S3 layer relies on from ``ObjectStore``, on every backend."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import attrs
import pytest
import pytest_twisted
from twisted.internet.defer import gatherResults

from ozs3.storage.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    KeyNotFound,
)
from ozs3.storage.model import ListQuery, ObjectMeta
from tests.unit.test_listing import check_key_listing

from .conftest import Backend

KiB = 1024
MiB = 1024 * KiB


async def put(
    backend: Backend,
    bucket: str,
    key: str,
    data: bytes,
    meta: ObjectMeta | None = None,
    piece: int = 300 * KiB + 7,
    checksum: str = "",
) -> Any:
    meta = meta or ObjectMeta()
    writer = await backend.store.open_key(bucket, key, meta, len(data), owner="alice")
    for i in range(0, len(data), piece):
        await writer.write(data[i : i + piece], last=i + piece >= len(data))
    return await writer.commit(hashlib.md5(data).hexdigest(), checksum)


async def read(backend: Backend, info: Any, offset: int, length: int) -> bytes:
    reader = await backend.store.open_reader(info, offset, length, prefetch=64 * KiB)
    out = bytearray()
    try:
        while piece := await reader.read(100 * KiB):
            out += piece
    finally:
        reader.close()
    return bytes(out)


async def new_bucket(backend: Backend) -> str:
    name = backend.new_bucket_name()
    await backend.store.create_bucket(name, "alice")
    return name


@pytest_twisted.ensureDeferred
async def test_bucket_lifecycle(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    info = await store.get_bucket(name)
    assert (info.name, info.owner, info.volume) == (name, "alice", "s3v")
    assert name in [b.name for b in await store.list_buckets()]
    with pytest.raises(BucketAlreadyExists) as e:
        await store.create_bucket(name, "bob")
    assert e.value.owner == "alice"
    await put(backend, name, "k", b"x")
    with pytest.raises(BucketNotEmpty):
        await store.delete_bucket(name)
    await store.delete_key(name, "k")
    await store.delete_bucket(name)
    with pytest.raises(BucketNotFound):
        await store.get_bucket(name)
    assert name not in [b.name for b in await store.list_buckets()]


@pytest_twisted.ensureDeferred
async def test_missing_bucket_is_bucket_not_found_everywhere(backend: Backend) -> None:
    store = backend.store
    name = backend.new_bucket_name()  # never created
    for call in (
        lambda: store.get_bucket(name),
        lambda: store.delete_bucket(name),
        lambda: store.lookup_key(name, "k"),
        lambda: store.list_keys(name, ListQuery()),
        lambda: store.open_key(name, "k", ObjectMeta(), 1),
        lambda: store.delete_keys(name, ["k"]),
    ):
        with pytest.raises(BucketNotFound):
            await call()


@pytest_twisted.ensureDeferred
async def test_multi_block_object_reads_back_whole_and_in_ranges(
    backend: Backend,
) -> None:
    name = await new_bucket(backend)
    block = backend.block_size
    data = os.urandom(2 * block + block // 2 + 13)
    committed = await put(backend, name, "dir/obj", data)
    assert committed.size == len(data)
    info = await backend.store.lookup_key(name, "dir/obj")
    assert info.size == len(data)
    assert info.etag == hashlib.md5(data).hexdigest()
    assert await read(backend, info, 0, len(data)) == data
    for start, length in [
        (0, 1),
        (block - 1, 2),  # across the first block boundary
        (block, block),  # exactly the second block
        (2 * block - 5, block // 2 + 10),
        (len(data) - 1, 1),
        (12_345, 3 * 16 * KiB + 1),  # odd checksum windows
        (0, 0),
    ]:
        assert await read(backend, info, start, length) == data[start : start + length]


@pytest_twisted.ensureDeferred
async def test_reads_in_flight_together_each_get_their_own_bytes(
    backend: Backend,
) -> None:
    name = await new_bucket(backend)
    data = os.urandom(3 * backend.block_size + 1)
    await put(backend, name, "k", data)
    info = await backend.store.lookup_key(name, "k")
    reader = await backend.store.open_reader(info, 0, len(data))
    try:
        pieces = []
        while reader.remaining:
            # Two reads claimed before either is answered (the GET producer's way).
            pieces += await gatherResults(
                [reader.read(256 * KiB), reader.read(256 * KiB)]
            )
        assert b"".join(pieces) == data
    finally:
        reader.close()


@pytest_twisted.ensureDeferred
async def test_empty_object(backend: Backend) -> None:
    name = await new_bucket(backend)
    await put(backend, name, "empty", b"")
    info = await backend.store.lookup_key(name, "empty")
    assert (info.size, info.etag) == (0, hashlib.md5(b"").hexdigest())
    assert await read(backend, info, 0, 0) == b""


@pytest_twisted.ensureDeferred
async def test_metadata_round_trip(backend: Backend) -> None:
    name = await new_bucket(backend)
    meta = ObjectMeta(
        content_type="text/x-contract; charset=utf-8",
        headers=(("cache-control", "max-age=60"), ("content-disposition", "inline")),
        # "etag" collides with the stored ETag entry on an Ozone key.
        user=(("colour", "blue"), ("etag", "mine"), ("x", "")),
    )
    await put(backend, name, "m", b"meta", meta, checksum="crc32:AAAAAA==")
    info = await backend.store.lookup_key(name, "m")
    assert info.meta.content_type == meta.content_type
    assert sorted(info.meta.headers) == sorted(meta.headers)
    assert sorted(info.meta.user) == sorted(meta.user)
    assert info.etag == hashlib.md5(b"meta").hexdigest()
    assert info.checksum == "crc32:AAAAAA=="
    assert info.owner == "alice"


@pytest_twisted.ensureDeferred
async def test_overwrite_replaces_and_delete_removes(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "k", b"first version")
    await put(backend, name, "k", b"second")
    info = await store.lookup_key(name, "k")
    assert await read(backend, info, 0, info.size) == b"second"
    page = await store.list_keys(name, ListQuery())
    assert [(k.key, k.size) for k in page.keys] == [("k", 6)]
    await store.delete_key(name, "k")
    with pytest.raises(KeyNotFound):
        await store.lookup_key(name, "k")
    await store.delete_key(name, "k")  # deleting a missing key succeeds (S3)


@pytest_twisted.ensureDeferred
async def test_delete_keys_reports_missing_keys_as_deleted(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    for key in ("a", "b", "c"):
        await put(backend, name, key, key.encode())
    results = await store.delete_keys(name, ["a", "nope", "c"])
    assert [(r.key, r.error) for r in results] == [
        ("a", None),
        ("nope", None),
        ("c", None),
    ]
    page = await store.list_keys(name, ListQuery())
    assert [k.key for k in page.keys] == ["b"]


@pytest_twisted.ensureDeferred
async def test_aborted_write_leaves_nothing_visible(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    writer = await store.open_key(name, "gone", ObjectMeta(), 3 * backend.block_size)
    await writer.write(os.urandom(backend.block_size + 5))
    await writer.abort()
    await writer.abort()  # twice is fine
    with pytest.raises(KeyNotFound):
        await store.lookup_key(name, "gone")
    assert (await store.list_keys(name, ListQuery())).keys == ()


@pytest_twisted.ensureDeferred
async def test_an_open_key_is_invisible_until_commit(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "k", b"old")
    writer = await store.open_key(name, "k", ObjectMeta(), 4)
    await writer.write(b"new!", last=True)
    info = await store.lookup_key(name, "k")
    assert await read(backend, info, 0, info.size) == b"old"
    await writer.commit(hashlib.md5(b"new!").hexdigest())
    info = await store.lookup_key(name, "k")
    assert await read(backend, info, 0, info.size) == b"new!"


@pytest_twisted.ensureDeferred
async def test_bucket_id_pins_the_bucket_not_its_name(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    first = await store.get_bucket(name)
    await store.delete_bucket(name, first.id)
    await store.create_bucket(name, "alice")
    second = await store.get_bucket(name)
    assert second.id != first.id
    for call in (
        lambda: store.get_bucket(name, first.id),
        lambda: store.lookup_key(name, "k", first.id),
        lambda: store.list_keys(name, ListQuery(), first.id),
        # A write fails at the open or, at the latest, at the commit.
        lambda: put_pinned(store, name, first.id),
        lambda: store.delete_key(name, "k", first.id),
        lambda: store.delete_bucket(name, first.id),
    ):
        with pytest.raises(BucketNotFound):
            await call()
    assert (await store.get_bucket(name, second.id)).id == second.id
    with pytest.raises(KeyNotFound):  # nothing was written to the new bucket
        await store.lookup_key(name, "k")


async def put_pinned(store: Any, bucket: str, bucket_id: int) -> None:
    writer = await store.open_key(bucket, "k", ObjectMeta(), 1, bucket_id=bucket_id)
    await writer.write(b"x", last=True)
    await writer.commit(hashlib.md5(b"x").hexdigest())


LISTED_KEYS = [
    "a",
    "a/",
    "a/b",
    "a/b/c",
    "a/b0",
    "a0",
    "b/x",
    "b/y/z",
    "c",
    "d/é/1",
    "d/é/2",
    "d/ê",
    "日本/語",
    "z\U0010ffff",
]


@pytest_twisted.ensureDeferred
async def test_listing_matches_s3_semantics(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    for key in LISTED_KEYS:
        await put(backend, name, key, key.encode())
    cases = [
        ("", "", "", 1000),
        ("", "/", "", 1000),
        ("a", "/", "", 1000),
        ("a/", "/", "", 1000),
        ("", "/", "a/", 1000),
        ("", "/", "", 2),
        ("", "", "a/b", 3),
        ("d/", "/", "", 1000),
        ("d/", "é", "", 1000),
        ("", "", "zz", 1000),
        ("b", "", "c", 1000),  # start-after past the prefix: nothing
        ("nope", "/", "", 1000),
    ]
    for prefix, delimiter, start_after, max_keys in cases:
        query = ListQuery(prefix, delimiter, start_after, max_keys)
        page = await store.list_keys(name, query)
        check_key_listing(page, LISTED_KEYS, query)
        for k in page.keys:
            assert k.size == len(k.key.encode())
            assert k.etag == hashlib.md5(k.key.encode()).hexdigest()
        # The same page whatever else is asked (the embedded OM reads a page
        # without a delimiter or metadata its own way).
        for variant in (
            attrs.evolve(query, with_meta=True),
            attrs.evolve(query, with_owner=False),
        ):
            other = await store.list_keys(name, variant)
            check_key_listing(other, LISTED_KEYS, variant)
            assert [k[:5] for k in other.keys] == [k[:5] for k in page.keys], variant
            has_meta = [k.meta is not None for k in other.keys]
            assert has_meta == [variant.with_meta] * len(other.keys)


@pytest_twisted.ensureDeferred
async def test_listing_pages_through_everything(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    for key in LISTED_KEYS:
        await put(backend, name, key, b"")
    seen: list[str] = []
    after = ""
    while True:
        page = await store.list_keys(name, ListQuery(start_after=after, max_keys=3))
        seen += [k.key for k in page.keys]
        if not page.truncated:
            break
        assert page.next_marker
        after = page.next_marker
    assert seen == sorted(LISTED_KEYS, key=lambda k: k.encode())
