"""Issue 14's storage features on every backend: conditional commits, key
tags, bucket settings, lifecycle expiry of exact versions and the lease.

A backend that cannot do one yet must say so (``NotSupported``, S3's 501)
at the first call, before anything changes: never accept and ignore.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import pytest_twisted

from ozs3.storage.errors import (
    KeyNotFound,
    NotSupported,
    PreconditionFailed,
)
from ozs3.storage.model import (
    BUCKET_LIFECYCLE,
    BUCKET_TAGS,
    ListQuery,
    ObjectMeta,
    PartTarget,
    Precondition,
)

from .conftest import Backend
from .test_store_contract import new_bucket, put, read

ABSENT = Precondition(absent=True)


async def unsupported_on_cluster(
    backend: Backend, first: Callable[[], Awaitable[Any]]
) -> bool:
    """On the cluster: the first call refuses with NotSupported (True: the
    test is done).  Elsewhere: nothing (False)."""
    if backend.name != "cluster":
        return False
    with pytest.raises(NotSupported):
        await first()
    return True


async def put_if(
    backend: Backend, bucket: str, key: str, data: bytes, pre: Precondition
) -> Any:
    writer = await backend.store.open_key(
        bucket, key, ObjectMeta(), len(data), precondition=pre
    )
    await writer.write(data, last=True)
    return await writer.commit(f"etag-{data.decode()}")


@pytest_twisted.ensureDeferred
async def test_conditional_commit(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put_if(backend, name, "k", b"a", ABSENT)
    # Refused at open: the key exists.
    with pytest.raises(PreconditionFailed):
        await put_if(backend, name, "k", b"b", ABSENT)
    # Both open while the key is absent; the first commit wins, the second
    # is refused by its commit, and its blocks are released.
    one = await store.open_key(name, "n", ObjectMeta(), 1, precondition=ABSENT)
    two = await store.open_key(name, "n", ObjectMeta(), 1, precondition=ABSENT)
    await one.write(b"1", last=True)
    await two.write(b"2", last=True)
    await one.commit("etag-1")
    with pytest.raises(PreconditionFailed):
        await two.commit("etag-2")
    info = await store.lookup_key(name, "n")
    assert await read(backend, info, 0, 1) == b"1"
    # If-Match: only over that ETag.
    with pytest.raises(PreconditionFailed):
        await put_if(backend, name, "n", b"x", Precondition(etag="etag-other"))
    await put_if(backend, name, "n", b"y", Precondition(etag="etag-1"))
    assert (await store.lookup_key(name, "n")).etag == "etag-y"
    # Conditional delete: a missing key is KeyNotFound, a mismatch refused.
    if await unsupported_on_cluster(
        backend,
        lambda: store.delete_key(name, "n", precondition=Precondition(etag="etag-y")),
    ):
        assert (await store.lookup_key(name, "n")).etag == "etag-y"
        return
    with pytest.raises(KeyNotFound):
        await store.delete_key(name, "none", precondition=Precondition(etag="e"))
    with pytest.raises(PreconditionFailed):
        await store.delete_key(name, "n", precondition=Precondition(etag="etag-1"))
    await store.delete_key(name, "n", precondition=Precondition(etag="etag-y"))
    with pytest.raises(KeyNotFound):
        await store.lookup_key(name, "n")


@pytest_twisted.ensureDeferred
async def test_key_tags_change_without_a_new_version(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "k", b"tagged")
    before = await store.lookup_key(name, "k")
    await store.set_key_tags(name, "k", (("a", "1"), ("b", "")))
    after = await store.lookup_key(name, "k")
    assert after.meta.tags == (("a", "1"), ("b", ""))
    assert attrs.evolve(after, meta=before.meta) == before  # same version
    await store.set_key_tags(name, "k", ())
    assert (await store.lookup_key(name, "k")).meta.tags == ()
    with pytest.raises(KeyNotFound):
        await store.set_key_tags(name, "missing", (("a", "1"),))
    # Tags and the replication asked for are kept, and listed.
    replication = "RATIS/ONE"
    meta = ObjectMeta(tags=(("t", "v"),), replication=replication)
    await put(backend, name, "w", b"w", meta)
    info = await store.lookup_key(name, "w")
    assert (info.meta.tags, info.meta.replication) == ((("t", "v"),), replication)
    listed = await store.list_keys(name, ListQuery(prefix="w", with_meta=True))
    assert listed.keys[0].tags == (("t", "v"),)
    assert listed.keys[0].replication == replication
    assert listed.keys[0].meta == info.meta
    plain = await store.list_keys(name, ListQuery(prefix="w"))
    assert plain.keys[0].replication == replication
    # Without with_meta a key's metadata is not read; its tags read as none.
    assert (plain.keys[0].meta, plain.keys[0].tags) == (None, ())


@pytest_twisted.ensureDeferred
async def test_key_acl_changes_without_a_new_version(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "k", b"granted")
    acl = (("id", "bob", "READ"), ("uri", "http://g/AllUsers", "READ"))
    if await unsupported_on_cluster(backend, lambda: store.set_key_acl(name, "k", acl)):
        # Nor can a write carry grants there (refused, never dropped).
        with pytest.raises(NotSupported):
            await store.open_key(name, "g", ObjectMeta(acl=acl), 1)
        return
    before = await store.lookup_key(name, "k")
    await store.set_key_acl(name, "k", acl)
    after = await store.lookup_key(name, "k")
    assert after.meta.acl == acl
    assert attrs.evolve(after, meta=before.meta) == before  # same version
    await store.set_key_acl(name, "k", ())
    assert (await store.lookup_key(name, "k")).meta.acl == ()
    with pytest.raises(KeyNotFound):
        await store.set_key_acl(name, "missing", acl)
    # A write carries its grants.
    writer = await store.open_key(name, "g", ObjectMeta(acl=acl), 1)
    await writer.write(b"g", last=True)
    await writer.commit("etag-g")
    assert (await store.lookup_key(name, "g")).meta.acl == acl


@pytest_twisted.ensureDeferred
async def test_bucket_settings(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    if await unsupported_on_cluster(
        backend, lambda: store.set_bucket_setting(name, BUCKET_TAGS, "[]")
    ):
        return
    assert await store.get_bucket_setting(name, BUCKET_TAGS) is None
    await store.set_bucket_setting(name, BUCKET_TAGS, '[["a","1"]]')
    await store.set_bucket_setting(name, BUCKET_LIFECYCLE, "{}")
    assert await store.get_bucket_setting(name, BUCKET_TAGS) == '[["a","1"]]'
    found = await store.buckets_with_setting(BUCKET_LIFECYCLE)
    assert [(b.name, text) for b, text in found if b.name == name] == [(name, "{}")]
    await store.set_bucket_setting(name, BUCKET_TAGS, None)
    assert await store.get_bucket_setting(name, BUCKET_TAGS) is None
    # A bucket's settings go with it: one created again under its name
    # starts without them.
    await store.delete_bucket(name)
    await store.create_bucket(name, "alice")
    assert await store.get_bucket_setting(name, BUCKET_LIFECYCLE) is None


@pytest_twisted.ensureDeferred
async def test_expire_keys_deletes_only_the_versions_judged(backend: Backend) -> None:
    store = backend.store
    name = await new_bucket(backend)
    await put(backend, name, "old", b"old")
    await put(backend, name, "rewritten", b"v1")
    # The versions a lifecycle rule judges: those its listing returned.
    judged = list((await store.list_keys(name, ListQuery())).keys)
    assert [k.key for k in judged] == ["old", "rewritten"]
    if await unsupported_on_cluster(backend, lambda: store.expire_keys(name, judged)):
        assert len((await store.list_keys(name, ListQuery())).keys) == 2
        return
    await put(backend, name, "rewritten", b"v2")  # a new version meanwhile
    deleted = await store.expire_keys(name, judged)
    assert [k.key for k in deleted] == ["old"]
    keys = [k.key for k in (await store.list_keys(name, ListQuery())).keys]
    assert keys == ["rewritten"]


@pytest_twisted.ensureDeferred
async def test_lease_has_one_holder(backend: Backend) -> None:
    store = backend.store
    if await unsupported_on_cluster(backend, lambda: store.claim_lease("ct", "a", 60)):
        return
    assert await store.claim_lease("ct", "a", 60) == 0.0
    assert await store.claim_lease("ct", "b", 60) is None  # a holds it
    assert await store.claim_lease("ct", "a", 60) == 0.0  # renewed
    assert await store.finish_lease("ct", "a", 123.5)
    assert await store.claim_lease("ct", "b", 60) == 123.5
    assert not await store.finish_lease("ct", "a", 1.0)  # a no longer holds it
    # An expired lease may be taken over.
    assert await store.claim_lease("ct", "b", -1) == 123.5
    assert await store.claim_lease("ct", "c", 60) == 123.5
    # Work finished a moment ago is not due again within ``every``.
    done = time.time()
    assert await store.finish_lease("ct", "c", done)
    assert await store.claim_lease("ct", "d", 60, every=3600) is None
    assert await store.claim_lease("ct", "d", 60, every=0) == done


@pytest_twisted.ensureDeferred
async def test_a_whole_copy_keeps_the_part_layout(backend: Backend) -> None:
    """A copy of a completed upload keeps its "-N" ETag, so it keeps the
    parts that ETag counts (GET ?partNumber, GetObjectAttributes)."""
    store = backend.store
    name = await new_bucket(backend)
    up = await store.create_upload(name, "mp", ObjectMeta(), "alice")
    etags = []
    for number, data in ((1, b"a" * (5 * 1024 * 1024)), (2, b"tail")):
        writer = await store.open_key(
            name, "mp", ObjectMeta(), len(data), part=PartTarget(up.upload_id, number)
        )
        await writer.write(data, last=True)
        etags.append((number, (await writer.commit(f"{number:032x}")).etag))
    await store.complete_upload(name, "mp", up.upload_id, etags)
    source = await store.lookup_key(name, "mp")
    assert [(p.number, p.size) for p in source.parts] == [(1, 5 * 1024 * 1024), (2, 4)]
    copy = await store.open_copy(name, "c", None, None, name, "mp", None)
    await copy.commit(source.etag, source.checksum)
    assert (await store.lookup_key(name, "c")).parts == source.parts
    ranged = await store.open_copy(name, "r", None, None, name, "mp", (0, 10))
    await ranged.commit("0" * 32)
    assert (await store.lookup_key(name, "r")).parts == ()
