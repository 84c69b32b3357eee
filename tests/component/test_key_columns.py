"""A key's owner and replication have columns of their own (a listing reads
them without parsing each row's metadata JSON); rows written by an ozs3 from
before those columns are read through their JSON, and keep their owners
across the upgrade."""

from __future__ import annotations

import json
import os
import sqlite3

from ozs3.storage.model import ListQuery, ObjectMeta
from tests.component.test_storage import make_store, result_of

# The keys table as ozs3 made it before the owner and replication columns.
OLD_KEYS_TABLE = """
CREATE TABLE keys(
    bucket_id INTEGER NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, modified REAL NOT NULL, meta TEXT NOT NULL,
    blocks TEXT NOT NULL, parts TEXT NOT NULL DEFAULT '[]',
    checksum TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(bucket_id, key)) WITHOUT ROWID;
"""


def write(store, bucket: str, key: str, owner: str, replication: str = "") -> None:  # type: ignore[no-untyped-def]
    meta = ObjectMeta(replication=replication)
    w = result_of(store.open_key(bucket, key, meta, 1, owner=owner))
    result_of(w.write(b"x"))
    result_of(w.commit("etag"))


def listed(store, bucket: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    page = result_of(store.list_keys(bucket, ListQuery()))
    return [(k.key, k.owner, k.replication) for k in page.keys]


def columns(path: str) -> list[tuple[bytes, str | None, str | None]]:
    db = sqlite3.connect(os.path.join(path, "om", "om.db"))
    try:
        return db.execute("SELECT key, owner, replication FROM keys").fetchall()
    finally:
        db.close()


def test_writes_fill_the_columns_and_listings_read_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = make_store(str(tmp_path))
    result_of(store.create_bucket("b", "alice"))
    write(store, "b", "by-bob", "bob", "RATIS/ONE")
    write(store, "b", "by-nobody", "")
    assert columns(str(tmp_path)) == [
        (b"by-bob", "bob", "RATIS/ONE"),
        (b"by-nobody", "", ""),
    ]
    assert listed(store, "b") == [
        ("by-bob", "bob", "RATIS/ONE"),
        ("by-nobody", "alice", ""),
    ]
    # A change of the metadata (tags, ACL) keeps them.
    result_of(store.set_key_tags("b", "by-bob", [("t", "v")]))
    result_of(store.set_key_acl("b", "by-bob", [("CanonicalUser", "carol", "READ")]))
    assert columns(str(tmp_path))[0] == (b"by-bob", "bob", "RATIS/ONE")
    # The listing reads the columns, not the JSON: a column changed behind the
    # store's back is what it lists.
    db = sqlite3.connect(os.path.join(str(tmp_path), "om", "om.db"))
    with db:
        db.execute("UPDATE keys SET owner='dave', replication='EC/rs-3-2-1024k'")
    db.close()
    assert listed(store, "b") == [
        ("by-bob", "dave", "EC/rs-3-2-1024k"),
        ("by-nobody", "dave", "EC/rs-3-2-1024k"),
    ]


def test_rows_from_before_the_columns_list_their_owners(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path)
    store = make_store(path)
    bucket_id = result_of(store.create_bucket("b", "alice")).id
    # Make the keys table what an older ozs3 left: no owner, no replication.
    db = sqlite3.connect(os.path.join(path, "om", "om.db"))
    with db:
        db.execute("DROP TABLE keys")
        db.executescript(OLD_KEYS_TABLE)
        for key, meta in (
            (b"old-bob", {"ct": "", "h": [], "u": [], "o": "bob", "r": "RATIS/ONE"}),
            (b"old-nobody", {"ct": "", "h": [], "u": []}),
        ):
            db.execute(
                "INSERT INTO keys VALUES(?, ?, 1, 'etag', 0, ?, '[]', '[]', '')",
                (bucket_id, key, json.dumps(meta)),
            )
    db.close()
    store = make_store(path)
    write(store, "b", "new-carol", "carol")
    assert columns(path) == [
        (b"new-carol", "carol", ""),
        (b"old-bob", None, None),
        (b"old-nobody", None, None),
    ]
    assert listed(store, "b") == [
        ("new-carol", "carol", ""),
        ("old-bob", "bob", "RATIS/ONE"),
        ("old-nobody", "alice", ""),
    ]
    assert result_of(store.lookup_key("b", "old-bob")).owner == "bob"


def test_a_listing_not_asking_for_owners_skips_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ListObjectsV2 without fetch-owner shows no owners: the page is the
    same, but the OM works no owner out (the SQL has no owner expression)."""
    store = make_store(str(tmp_path))
    result_of(store.create_bucket("b", "alice"))
    write(store, "b", "by-bob", "bob", "RATIS/ONE")
    write(store, "b", "by-nobody", "")
    statements: list[str] = []
    result_of(store.list_keys("b", ListQuery()))  # opens the connections pages use

    def page(**kw):  # type: ignore[no-untyped-def]
        statements.clear()
        # A plain page is read on the calling thread's connection, others in
        # the read pool's.
        local = store.om._local
        conns = [c for c in (local.conn, local.now_conn) if c is not None]
        assert len(conns) == 2
        for conn in conns:
            conn.set_trace_callback(statements.append)
        try:
            return result_of(store.list_keys("b", ListQuery(**kw)))
        finally:
            for conn in conns:
                conn.set_trace_callback(None)

    with_owners, without = page(), page(with_owner=False)
    assert "json_extract(meta, '$.o')" not in " ".join(statements), statements
    assert [k.owner for k in without.keys] == ["", ""]
    assert [k.owner for k in with_owners.keys] == ["bob", "alice"]
    assert [k._replace(owner="") for k in with_owners.keys] == list(without.keys)
    page()
    assert "json_extract(meta, '$.o')" in " ".join(statements), statements
