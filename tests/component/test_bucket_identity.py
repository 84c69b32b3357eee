"""Bucket identity in the store: ids are never reused, and every call
pinned to a bucket (``bucket_id=``) fails with BucketNotFound once that
bucket is gone, even when another of its name exists, changing nothing."""

from __future__ import annotations

import pytest

from ozs3.storage.errors import BucketNotFound, KeyNotFound
from ozs3.storage.model import ListQuery, ObjectMeta, PartTarget, UploadQuery
from tests.component.test_storage import make_store, put, result_of


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    return make_store(str(tmp_path))


def test_bucket_ids_are_never_reused(store) -> None:
    """The highest id deleted is not handed out again (SQLite's rowid
    would): a bucket created again under a name is another bucket."""
    first = result_of(store.create_bucket("b", "bob"))
    result_of(store.delete_bucket("b"))
    second = result_of(store.create_bucket("b", "alice"))
    assert second.id > first.id
    assert result_of(store.get_bucket("b")).id == second.id
    assert [b.id for b in result_of(store.list_buckets())] == [second.id]


def test_calls_pinned_to_a_replaced_bucket_fail_and_change_nothing(store) -> None:
    old = result_of(store.create_bucket("b", "bob")).id
    result_of(store.create_bucket("src", "bob"))
    put(store, "src", "s", b"source bytes")
    result_of(store.delete_bucket("b", old))
    new = result_of(store.create_bucket("b", "alice")).id
    put(store, "b", "a", b"alice's")
    upload = result_of(store.create_upload("b", "u", ObjectMeta(), "alice"))
    blocks_before = set(store.datanode.block_files())

    def gone(d) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(BucketNotFound):
            result_of(d)

    uid = upload.upload_id
    gone(store.get_bucket("b", old))
    gone(store.list_keys("b", ListQuery(), old))
    gone(store.lookup_key("b", "a", old))
    gone(store.delete_key("b", "a", old))
    gone(store.delete_keys("b", ["a"], old))
    gone(store.create_upload("b", "x", ObjectMeta(), "bob", old))
    gone(store.list_uploads("b", UploadQuery(), old))
    gone(store.list_parts("b", "u", uid, 0, 10, old))
    gone(store.abort_upload("b", "u", uid, old))
    gone(store.complete_upload("b", "u", uid, [], old))
    gone(store.open_copy("b", "c", None, None, "src", "s", None, old, None, "bob"))
    gone(store.open_copy("src", "c", None, None, "b", "a", None, None, old, "bob"))
    gone(store.open_key("b", "p", ObjectMeta(), 5, PartTarget(uid, 1), bucket_id=old))
    gone(store.delete_bucket("b", old))
    # A new key's write pinned to the old bucket is refused at its commit.
    w = result_of(store.open_key("b", "k", ObjectMeta(), 3, bucket_id=old))
    result_of(w.write(b"bob"))
    gone(w.commit("etag"))
    # Nothing of alice's changed; nothing of bob's landed; no block leaked.
    assert result_of(store.get_bucket("b")).owner == "alice"
    assert [k.key for k in result_of(store.list_keys("b", ListQuery())).keys] == ["a"]
    with pytest.raises(KeyNotFound):
        result_of(store.lookup_key("src", "c"))
    listed = result_of(store.list_uploads("b", UploadQuery(), new))
    assert [u.upload_id for u in listed.uploads] == [uid]
    assert set(store.datanode.block_files()) == blocks_before
    # Pinned to the bucket that is there, the same calls work.
    # (written without an owner: it is the bucket owner's)
    assert result_of(store.lookup_key("b", "a", new)).owner == "alice"
    listed_keys = result_of(store.list_keys("b", ListQuery(), new)).keys
    assert [(k.key, k.owner) for k in listed_keys] == [("a", "alice")]
    w = result_of(store.open_key("b", "k", ObjectMeta(), 3, bucket_id=new))
    result_of(w.write(b"new"))
    assert result_of(w.commit("etag")).key == "k"
