"""Multipart uploads and copies through ``ObjectStore``, on every backend:
uploads, parts (written like keys, several blocks each), their listings and
paging, completion into a key that knows its parts, abort, and copies of a
range into a part or of a whole key.  A refused call changes nothing.

The completed key's ETag is each backend's own: AWS's rule on the embedded
store, the OM's on a cluster (``ozone/multipart_store.py``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted

from ozs3.storage.errors import (
    InvalidPart,
    InvalidPartOrder,
    KeyNotFound,
    PartTooSmall,
    StorageError,
    UploadNotFound,
)
from ozs3.storage.model import (
    CopyMeta,
    KeyInfo,
    ListQuery,
    ObjectMeta,
    PartInfo,
    PartTarget,
    UploadListing,
    UploadQuery,
)

from .conftest import Backend
from .test_store_contract import new_bucket, put, read

KiB = 1024
MiB = 1024 * KiB
MIN_PART = 5 * MiB  # every part but the last (S3's, and the OM's)
# The default replication as each backend names it (S3's STANDARD): the
# embedded store records none, a cluster reports the key's own.
DEFAULT_REPLICATION = {"embedded": "", "cluster": "RATIS/THREE"}


@pytest_twisted.async_yield_fixture(autouse=True)
async def uploads_aborted(backend: Backend) -> AsyncIterator[None]:
    """Uploads a failed test left open are aborted, so that the backend
    fixture can delete its buckets."""
    yield
    for name in backend.buckets:
        try:
            listing = await backend.store.list_uploads(name, UploadQuery())
            for u in listing.uploads:
                await backend.store.abort_upload(name, u.key, u.upload_id)
        except StorageError:
            pass


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def completed_etag(backend: Backend, *parts: bytes) -> str:
    hexes = [md5_hex(p) for p in parts]
    if backend.name == "embedded":  # AWS: the MD5 of the binary MD5s
        joined = b"".join(bytes.fromhex(h) for h in hexes)
    else:  # the OM: the MD5 of the hex ETags joined
        joined = "".join(hexes).encode()
    return f"{hashlib.md5(joined).hexdigest()}-{len(parts)}"


async def write_part(
    backend: Backend,
    bucket: str,
    key: str,
    upload_id: str,
    number: int,
    data: bytes,
    piece: int = 300 * KiB + 7,
) -> PartInfo:
    writer = await backend.store.open_key(
        bucket, key, ObjectMeta(), len(data), part=PartTarget(upload_id, number)
    )
    for i in range(0, len(data), piece):
        await writer.write(data[i : i + piece], last=i + piece >= len(data))
    if not data:
        await writer.write(b"", last=True)
    info = await writer.commit(md5_hex(data))
    assert isinstance(info, PartInfo)
    return info


async def parts_of(
    backend: Backend, bucket: str, key: str, upload_id: str
) -> list[tuple[int, int, str]]:
    listing = await backend.store.list_parts(bucket, key, upload_id, 0, 1000)
    assert not listing.truncated and listing.next_marker is None
    return [(p.part_number, p.size, p.etag) for p in listing.parts]


async def keys_of(backend: Backend, bucket: str) -> list[str]:
    page = await backend.store.list_keys(bucket, ListQuery())
    return [k.key for k in page.keys]


async def uploads_of(backend: Backend, bucket: str) -> list[tuple[str, str]]:
    page = await backend.store.list_uploads(bucket, UploadQuery())
    assert not page.truncated
    return [(u.key, u.upload_id) for u in page.uploads]


@pytest_twisted.ensureDeferred
async def test_parts_listed_paged_and_completed(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    meta = ObjectMeta(
        content_type="text/x-mp",
        headers=(("cache-control", "max-age=5"),),
        user=(("colour", "green"),),
        tags=(("t", "1"),),
    )
    up = await store.create_upload(name, "dir/mp", meta, "alice")
    assert (up.bucket, up.key) == (name, "dir/mp")
    assert up.upload_id
    p1 = os.urandom(MIN_PART + 7)  # six blocks
    p2 = os.urandom(MIN_PART + 2 * backend.block_size + 3)  # eight blocks
    p3 = os.urandom(100)
    for number, data in enumerate((p1, b"replaced below", p3), 1):
        info = await write_part(backend, name, "dir/mp", up.upload_id, number, data)
        assert (info.part_number, info.size, info.etag) == (
            number, len(data), md5_hex(data),
        )  # fmt: skip
    # Writing a part number again replaces that part.
    await write_part(backend, name, "dir/mp", up.upload_id, 2, p2)
    expected = [
        (1, len(p1), md5_hex(p1)),
        (2, len(p2), md5_hex(p2)),
        (3, len(p3), md5_hex(p3)),
    ]
    assert await parts_of(backend, name, "dir/mp", up.upload_id) == expected

    # Paging: ``marker`` is the last part number seen (exclusive).
    first = await store.list_parts(name, "dir/mp", up.upload_id, 0, 2)
    assert [p.part_number for p in first.parts] == [1, 2]
    assert (first.truncated, first.next_marker) == (True, 2)
    assert first.upload.upload_id == up.upload_id
    assert first.upload.key == "dir/mp"
    second = await store.list_parts(name, "dir/mp", up.upload_id, 2, 2)
    assert [(p.part_number, p.size, p.etag) for p in second.parts] == expected[2:]
    assert (second.truncated, second.next_marker) == (False, None)
    one = await store.list_parts(name, "dir/mp", up.upload_id, 1, 1)
    assert [p.part_number for p in one.parts] == [2]
    assert (one.truncated, one.next_marker) == (True, 2)
    past = await store.list_parts(name, "dir/mp", up.upload_id, 3, 10)
    assert (past.parts, past.truncated, past.next_marker) == ((), False, None)
    # Nothing is visible as a key until the upload is completed.
    assert await keys_of(backend, name) == []

    parts = [(n, etag) for n, _, etag in expected]
    done = await store.complete_upload(name, "dir/mp", up.upload_id, parts)
    data = p1 + p2 + p3
    etag = completed_etag(backend, p1, p2, p3)
    assert (done.key, done.size, done.etag) == ("dir/mp", len(data), etag)
    layout = [(p.number, p.size) for p in done.parts]
    assert layout == [(1, len(p1)), (2, len(p2)), (3, len(p3))]
    info = await store.lookup_key(name, "dir/mp")
    assert (info.size, info.etag) == (len(data), etag)
    assert [(p.number, p.size) for p in info.parts] == layout
    assert info.meta.content_type == "text/x-mp"
    assert info.meta.headers == (("cache-control", "max-age=5"),)
    assert info.meta.user == (("colour", "green"),)
    assert info.meta.tags == (("t", "1"),)
    assert info.meta.replication == DEFAULT_REPLICATION[backend.name]
    assert await read(backend, info, 0, len(data)) == data
    for start, length in [
        (len(p1) - 5, 10),  # across parts 1 and 2
        (len(p1) + len(p2) - 1, 2),  # across parts 2 and 3
        (backend.block_size - 1, 2),  # a block boundary inside part 1
    ]:
        got = await read(backend, info, start, length)
        assert got == data[start : start + length], (start, length)
    listed = (await store.list_keys(name, ListQuery())).keys
    assert [(k.key, k.size, k.etag) for k in listed] == [("dir/mp", len(data), etag)]
    # The upload is gone.
    assert await uploads_of(backend, name) == []
    with pytest.raises(UploadNotFound):
        await store.list_parts(name, "dir/mp", up.upload_id, 0, 1000)
    with pytest.raises(UploadNotFound):
        await store.complete_upload(name, "dir/mp", up.upload_id, parts)


@pytest_twisted.ensureDeferred
async def test_the_initiator_owns_the_upload_and_the_key(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    # A cluster's OM keeps no initiator: its listings name none, and the
    # key goes to whoever completes it (here alice too).
    listed_as = "" if backend.name == "cluster" else "alice"
    store = backend.store
    name = await new_bucket(backend)
    up = await store.create_upload(name, "k", ObjectMeta(), "alice")
    assert up.owner == "alice"
    [listed] = (await store.list_uploads(name, UploadQuery())).uploads
    assert listed.owner == listed_as
    part = await write_part(backend, name, "k", up.upload_id, 1, b"part")
    listing = await store.list_parts(name, "k", up.upload_id, 0, 10)
    assert listing.upload.owner == listed_as
    done = await store.complete_upload(
        name, "k", up.upload_id, [(1, part.etag)], owner="alice"
    )
    assert done.owner == "alice"
    assert (await store.lookup_key(name, "k")).owner == "alice"


@pytest_twisted.ensureDeferred
async def test_refused_completions_change_nothing(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "k", b"the old version")
    up = await store.create_upload(name, "k", ObjectMeta(), "alice")
    big, small, last = os.urandom(MIN_PART), os.urandom(MiB), b"last"
    for number, data in enumerate((big, small, last), 1):
        await write_part(backend, name, "k", up.upload_id, number, data)
    before = await parts_of(backend, name, "k", up.upload_id)
    e1, e2, e3 = (etag for _, _, etag in before)
    for parts, error in [
        ([(1, e1), (3, md5_hex(b"other"))], InvalidPart),  # wrong ETag
        ([(1, e1), (4, e3)], InvalidPart),  # no such part
        ([(3, e3), (1, e1)], InvalidPartOrder),
        ([(1, e1), (2, e2), (3, e3)], PartTooSmall),  # part 2 < 5 MiB
    ]:
        with pytest.raises(error):
            await store.complete_upload(name, "k", up.upload_id, parts)
        assert await parts_of(backend, name, "k", up.upload_id) == before, parts
        assert await uploads_of(backend, name) == [("k", up.upload_id)]
        info = await store.lookup_key(name, "k")
        assert await read(backend, info, 0, info.size) == b"the old version"

    # Unknown uploads: nothing to list, complete, abort or write a part to.
    for call in (
        lambda: store.list_parts(name, "k", "no-such-upload", 0, 10),
        lambda: store.complete_upload(name, "k", "no-such-upload", [(1, e1)]),
        lambda: store.abort_upload(name, "k", "no-such-upload"),
        lambda: write_part(backend, name, "k", "no-such-upload", 1, b"x"),
        # An upload id of another key.
        lambda: store.list_parts(name, "other", up.upload_id, 0, 10),
    ):
        with pytest.raises(UploadNotFound):
            await call()
    assert await parts_of(backend, name, "k", up.upload_id) == before

    # A part still being written when its upload is aborted is refused at
    # its commit; the abort leaves the key as it was.
    late = await store.open_key(
        name, "k", ObjectMeta(), 4, part=PartTarget(up.upload_id, 5)
    )
    await late.write(b"late", last=True)
    await store.abort_upload(name, "k", up.upload_id)
    with pytest.raises(UploadNotFound):
        await late.commit(md5_hex(b"late"))
    assert await uploads_of(backend, name) == []
    with pytest.raises(UploadNotFound):
        await store.list_parts(name, "k", up.upload_id, 0, 10)
    with pytest.raises(UploadNotFound):
        await store.complete_upload(name, "k", up.upload_id, [(1, e1), (3, e3)])
    with pytest.raises(UploadNotFound):
        await store.abort_upload(name, "k", up.upload_id)
    assert await keys_of(backend, name) == ["k"]
    info = await store.lookup_key(name, "k")
    assert await read(backend, info, 0, info.size) == b"the old version"


def _entries(listing: UploadListing) -> list[tuple[str, str]]:
    return [(u.key, u.upload_id) for u in listing.uploads]


@pytest_twisted.ensureDeferred
async def test_list_uploads_prefix_delimiter_markers_and_paging(
    backend: Backend,
) -> None:
    store = backend.store
    name = await new_bucket(backend)
    keys = ["a/1", "a/1", "a/1", "a/2", "b", "b", "c/d/e", "c/f", "top"]
    made = []
    for key in keys:
        up = await store.create_upload(name, key, ObjectMeta(), "alice")
        made.append((key, up.upload_id))
    assert len({u for _, u in made}) == len(made)
    ordered = sorted(made, key=lambda u: (u[0].encode(), u[1]))

    async def page(**query: Any) -> UploadListing:
        return await store.list_uploads(name, UploadQuery(**query))

    whole = await page()
    assert _entries(whole) == ordered
    assert (whole.truncated, whole.common_prefixes) == (False, ())
    for u in whole.uploads:
        assert u.bucket == name
        assert u.meta.replication == DEFAULT_REPLICATION[backend.name]
        assert u.initiated > 0

    under_a = await page(prefix="a/")
    assert _entries(under_a) == [u for u in ordered if u[0].startswith("a/")]
    top = await page(delimiter="/")
    assert _entries(top) == [u for u in ordered if "/" not in u[0]]
    assert top.common_prefixes == ("a/", "c/")
    in_c = await page(prefix="c/", delimiter="/")
    assert (_entries(in_c), in_c.common_prefixes) == ([("c/f", made[7][1])], ("c/d/",))
    assert _entries(await page(prefix="nope")) == []

    # key_marker alone: past every upload of that key; with upload_id_marker:
    # past that upload of the key.
    a1 = [u for u in ordered if u[0] == "a/1"]
    assert _entries(await page(key_marker="a/1")) == ordered[3:]
    after_first = await page(key_marker="a/1", upload_id_marker=a1[0][1])
    assert _entries(after_first) == ordered[1:]
    two = await page(key_marker="a/1", upload_id_marker=a1[0][1], max_uploads=2)
    assert _entries(two) == a1[1:]
    assert two.truncated
    assert (two.next_key_marker, two.next_upload_id_marker) == a1[2]

    # One at a time to the end, each page from the last one's markers.
    seen: list[tuple[str, str]] = []
    marks: dict[str, str] = {}
    while True:
        p = await page(max_uploads=1, **marks)
        assert len(p.uploads) == 1
        seen += _entries(p)
        if not p.truncated:
            assert p.next_key_marker is None
            break
        assert (p.next_key_marker, p.next_upload_id_marker) == seen[-1]
        marks = {"key_marker": seen[-1][0], "upload_id_marker": seen[-1][1]}
    assert seen == ordered

    # With a delimiter a common prefix is one entry of a page; its marker
    # is the prefix (no upload id): the next page starts past all of it.
    entries: list[str] = []
    marks = {}
    while True:
        p = await page(delimiter="/", max_uploads=2, **marks)
        got = [k for k, _ in _entries(p)] + list(p.common_prefixes)
        assert 1 <= len(got) <= 2
        entries += got
        if not p.truncated:
            break
        assert p.next_key_marker is not None
        marks = {"key_marker": p.next_key_marker}
        if p.next_upload_id_marker:
            marks["upload_id_marker"] = p.next_upload_id_marker
    assert sorted(entries) == ["a/", "b", "b", "c/", "top"]

    for key, upload_id in made:
        await store.abort_upload(name, key, upload_id)
    assert _entries(await page()) == []


async def copied_part(
    backend: Backend,
    bucket: str,
    key: str,
    target: PartTarget,
    source: str,
    source_range: tuple[int, int],
) -> tuple[PartInfo, bytes]:
    """UploadPartCopy's way: open the copy, read the range through it (the
    part's MD5 ETag), commit."""
    copy = await backend.store.open_copy(
        bucket, key, None, target, bucket, source, source_range
    )
    assert copy.size == source_range[1]
    assert copy.source.key == source
    out = bytearray()
    reader = await copy.read()
    try:
        while piece := await reader.read(256 * KiB):
            out += piece
    finally:
        reader.close()
    info = await copy.commit(md5_hex(bytes(out)))
    assert isinstance(info, PartInfo)
    return info, bytes(out)


async def whole_copy(
    backend: Backend, bucket: str, key: str, source: str, meta: Any = None
) -> KeyInfo:
    """CopyObject's way: open, verify the source's bytes, commit with the
    source's ETag."""
    copy = await backend.store.open_copy(bucket, key, meta, None, bucket, source, None)
    await copy.verify()
    info = await copy.commit(copy.source.etag, copy.source.checksum)
    assert isinstance(info, KeyInfo)
    return info


@pytest_twisted.ensureDeferred
async def test_copy_ranges_into_parts(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    block = backend.block_size
    data = os.urandom(7 * block + 1234)
    await put(backend, name, "src", data)
    up = await store.create_upload(name, "joined", ObjectMeta(), "alice")
    # Part 1 starts inside the source's first block and ends inside its
    # seventh; part 2 is the source's last bytes.
    r1 = (block - 100, MIN_PART + 1)
    r2 = (len(data) - 10, 10)
    info1, got1 = await copied_part(
        backend, name, "joined", PartTarget(up.upload_id, 1), "src", r1
    )
    assert got1 == data[r1[0] : r1[0] + r1[1]]
    assert (info1.part_number, info1.size, info1.etag) == (1, r1[1], md5_hex(got1))
    info2, got2 = await copied_part(
        backend, name, "joined", PartTarget(up.upload_id, 2), "src", r2
    )
    assert got2 == data[-10:]
    before = await parts_of(backend, name, "joined", up.upload_id)
    assert before == [(1, r1[1], md5_hex(got1)), (2, 10, md5_hex(got2))]

    # Refused copies: a missing source, an unknown upload, a range past the
    # source's end (the S3 layer sees ``source.size`` and aborts).
    with pytest.raises(KeyNotFound):
        await store.open_copy(
            name, "joined", None, PartTarget(up.upload_id, 3), name, "none", (0, 1)
        )
    with pytest.raises(UploadNotFound):
        await copied_part(
            backend, name, "joined", PartTarget("no-such-upload", 3), "src", (0, 1)
        )
    past = await store.open_copy(
        name, "joined", None, PartTarget(up.upload_id, 3), name, "src",
        (len(data) - 5, 10),
    )  # fmt: skip
    assert past.source.size == len(data)
    await past.abort()
    assert await parts_of(backend, name, "joined", up.upload_id) == before

    done = await store.complete_upload(
        name, "joined", up.upload_id, [(1, info1.etag), (2, info2.etag)]
    )
    assert done.etag == completed_etag(backend, got1, got2)
    assert [(p.number, p.size) for p in done.parts] == [(1, r1[1]), (2, 10)]
    info = await store.lookup_key(name, "joined")
    assert await read(backend, info, 0, info.size) == got1 + got2
    # The source is untouched.
    src = await store.lookup_key(name, "src")
    assert await read(backend, src, 0, src.size) == data


@pytest_twisted.ensureDeferred
async def test_whole_copies(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    data = os.urandom(3 * backend.block_size + 77)
    meta = ObjectMeta(
        content_type="text/x-src", user=(("colour", "blue"),), tags=(("k", "v"),)
    )
    await put(backend, name, "src", data, meta)
    src = await store.lookup_key(name, "src")

    same = await whole_copy(backend, name, "same", "src")
    assert (same.size, same.etag) == (len(data), md5_hex(data))
    info = await store.lookup_key(name, "same")
    assert (info.size, info.etag) == (len(data), md5_hex(data))
    assert info.meta == src.meta
    assert await read(backend, info, 0, info.size) == data

    # CopyObject's REPLACE: these headers and user metadata, the source's
    # tags (tagging directive COPY).
    new = ObjectMeta(content_type="text/x-new", user=(("shape", "round"),))
    await whole_copy(backend, name, "replaced", "src", CopyMeta(new, None))
    info = await store.lookup_key(name, "replaced")
    assert (info.meta.content_type, info.meta.user) == ("text/x-new", new.user)
    assert info.meta.tags == (("k", "v"),)
    assert await read(backend, info, 0, info.size) == data

    await put(backend, name, "empty", b"")
    empty = await whole_copy(backend, name, "empty-copy", "empty")
    assert (empty.size, empty.etag) == (0, md5_hex(b""))
    info = await store.lookup_key(name, "empty-copy")
    assert info.size == 0 and await read(backend, info, 0, 0) == b""

    # Refused: a missing source; nothing is stored.
    with pytest.raises(KeyNotFound):
        await store.open_copy(name, "dst", None, None, name, "none", None)
    # An aborted copy leaves nothing either.
    copy = await store.open_copy(name, "aborted", None, None, name, "src", None)
    await copy.abort()
    assert await keys_of(backend, name) == [
        "empty", "empty-copy", "replaced", "same", "src",
    ]  # fmt: skip
    assert await read(backend, src, 0, src.size) == data
