"""The OM's tables: schema, row codecs and block reference counting.

Blocks are shared: a copy (CopyObject, UploadPartCopy) and a completed
multipart upload reference existing blocks instead of copying bytes, so every
block has a reference count.  Every holder counts: a committed key, a part,
an open key (an upload in flight, or a copy pinning its source).  When the
count reaches zero the block moves to ``deleted_blocks`` and the block
deleting service removes its file.  All of this happens inside the caller's
transaction, so a crash can neither leak a block nor free one twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

from ..errors import SourceChanged
from ..inline_blocks import is_inline
from ..model import BlockID, BlockLocation, ObjectMeta, PartLayout, block_spans

SCHEMA = """
CREATE TABLE IF NOT EXISTS volumes(
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS buckets(
    id INTEGER PRIMARY KEY, volume TEXT NOT NULL, name TEXT NOT NULL,
    owner TEXT NOT NULL, created REAL NOT NULL, UNIQUE(volume, name));
CREATE TABLE IF NOT EXISTS keys(
    bucket_id INTEGER NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, modified REAL NOT NULL, meta TEXT NOT NULL,
    blocks TEXT NOT NULL, parts TEXT NOT NULL DEFAULT '[]',
    checksum TEXT NOT NULL DEFAULT '',
    owner TEXT, replication TEXT,
    PRIMARY KEY(bucket_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS open_keys(
    client_id INTEGER PRIMARY KEY, bucket_id INTEGER NOT NULL, key BLOB NOT NULL,
    meta TEXT NOT NULL, created REAL NOT NULL, blocks TEXT NOT NULL,
    upload_id TEXT, part_number INTEGER, worker INTEGER NOT NULL DEFAULT 0,
    parts TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS uploads(
    bucket_id INTEGER NOT NULL, key BLOB NOT NULL, upload_id TEXT NOT NULL,
    meta TEXT NOT NULL, initiated REAL NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY(bucket_id, key, upload_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS uploads_by_id ON uploads(upload_id);
CREATE TABLE IF NOT EXISTS parts(
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, modified REAL NOT NULL, blocks TEXT NOT NULL,
    checksum TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks(
    container_id INTEGER NOT NULL, local_id INTEGER NOT NULL, refs INTEGER NOT NULL,
    PRIMARY KEY(container_id, local_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inline_blocks(
    local_id INTEGER PRIMARY KEY, data BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_blocks(
    container_id INTEGER NOT NULL, local_id INTEGER NOT NULL,
    PRIMARY KEY(container_id, local_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations(
    worker INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,
    PRIMARY KEY(worker, lo)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bucket_settings(
    bucket_id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY(bucket_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases(
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL,
    last_done REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS s3_secrets(
    access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, created REAL NOT NULL);
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a database made by an older ozs3 up to this schema."""
    for table, name, definition in (
        ("open_keys", "worker", "INTEGER NOT NULL DEFAULT 0"),
        # A whole copy of a multipart key keeps its part layout.
        ("open_keys", "parts", "TEXT NOT NULL DEFAULT '[]'"),
        # A key's owner and replication as columns of their own, so that a
        # listing reads them without parsing each row's metadata JSON twice.
        # Rows written before have NULL here and are read through the JSON
        # (KEY_OWNER_SQL, KEY_REPLICATION_SQL): no table rewrite on upgrade.
        ("keys", "owner", "TEXT"),
        ("keys", "replication", "TEXT"),
    ):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if name in columns:
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
        except sqlite3.OperationalError as e:  # another process just did it
            if "duplicate column" not in str(e):
                raise


# SCM-lite placement: consecutive blocks share a container directory.
BLOCKS_PER_CONTAINER = 1024


def encode_meta(meta: ObjectMeta, owner: str = "") -> str:
    """A key's (or upload's) metadata column.  The key's owner rides along
    as ``"o"``, its tags as ``"t"``, its replication as ``"r"`` and its ACL
    grants as ``"a"`` (each
    only when set): older databases and older readers need no new column
    (an older ozs3 ignores them; a key without an owner belongs to its
    bucket's owner)."""
    d: dict[str, object] = {"ct": meta.content_type, "h": meta.headers, "u": meta.user}
    if owner:
        d["o"] = owner
    if meta.tags:
        d["t"] = meta.tags
    if meta.replication:
        d["r"] = meta.replication
    if meta.acl:
        d["a"] = meta.acl
    return json.dumps(d, separators=(",", ":"))


# SQL for a key's owner: its owner column ('' for none), else (a row
# written before that column) its metadata's, else its bucket's owner (the
# one parameter).  coalesce() evaluates lazily: the JSON is parsed only for
# the older rows.
KEY_OWNER_SQL = (
    "coalesce(nullif(coalesce(owner, json_extract(meta, '$.o'), ''), ''), ?)"
)


def decode_meta(text: str) -> ObjectMeta:
    return decode_meta_owner(text)[0]


def decode_meta_owner(text: str) -> tuple[ObjectMeta, str]:
    """A metadata column's metadata and the owner it records (or "")."""
    d = json.loads(text)
    meta = ObjectMeta(
        content_type=d["ct"],
        headers=tuple((k, v) for k, v in d["h"]),
        user=tuple((k, v) for k, v in d["u"]),
        tags=tuple((k, v) for k, v in d.get("t", ())),
        replication=str(d.get("r", "")),
        acl=tuple((k, g, p) for k, g, p in d.get("a", ())),
    )
    return meta, str(d.get("o", ""))


# SQL for an upload's replication, from its metadata column.
REPLICATION_SQL = "coalesce(json_extract(meta, '$.r'), '')"
# ... and for a key's: its column, else (older rows) as an upload's.
KEY_REPLICATION_SQL = f"coalesce(replication, {REPLICATION_SQL})"
# What a key row's owner and replication columns hold, taken from the
# metadata text being written (the parameter, named ``:meta``): the JSON
# stays the record (older ozs3 versions read it), the columns are its index.
OWNER_FROM_META_SQL = "coalesce(json_extract(:meta, '$.o'), '')"
REPLICATION_FROM_META_SQL = "coalesce(json_extract(:meta, '$.r'), '')"


def encode_parts(parts: Sequence[PartLayout]) -> str:
    """A completed upload's part layout (the keys table's ``parts``)."""
    return json.dumps(
        [[p.number, p.size, p.checksum] for p in parts], separators=(",", ":")
    )


def decode_parts(text: str) -> tuple[PartLayout, ...]:
    # Rows written before part checksums were kept have [number, size].
    return tuple(PartLayout(*p) for p in json.loads(text))


def encode_blocks(blocks: Sequence[BlockLocation]) -> str:
    return json.dumps(
        [
            [b.block_id.container_id, b.block_id.local_id, b.length, b.offset]
            for b in blocks
        ],
        separators=(",", ":"),
    )


def decode_blocks(text: str) -> tuple[BlockLocation, ...]:
    return tuple(
        BlockLocation(BlockID(c, lid), n, off) for c, lid, n, off in json.loads(text)
    )


def slice_blocks(
    blocks: Sequence[BlockLocation], start: int, length: int
) -> list[BlockLocation]:
    """The runs of ``blocks`` that hold bytes ``[start, start + length)``."""
    return [
        BlockLocation(b.block_id, end - first, first)
        for b, first, end in block_spans(blocks, start, length)
    ]


def block_id_of(local_id: int) -> BlockID:
    return BlockID(1 + local_id // BLOCKS_PER_CONTAINER, local_id)


def new_bucket_id(conn: sqlite3.Connection) -> int:
    """An id no bucket ever had: a deleted bucket's id is never handed out
    again (an ``INTEGER PRIMARY KEY`` alone would reuse the highest)."""
    (value,) = conn.execute(
        "INSERT INTO counters(name, value) "
        "VALUES('bucket_id', (SELECT coalesce(max(id), 0) + 1 FROM buckets)) "
        "ON CONFLICT(name) DO UPDATE SET value = "
        "max(value, (SELECT coalesce(max(id), 0) FROM buckets)) + 1 RETURNING value"
    ).fetchone()
    return int(value)


def reserve_ids(conn: sqlite3.Connection, n: int) -> tuple[int, int]:
    """``n`` fresh local IDs, ``(lo, hi)`` inclusive, from the block counter."""
    (hi,) = conn.execute(
        "INSERT INTO counters(name, value) VALUES('local_id', ?) "
        "ON CONFLICT(name) DO UPDATE SET value = value + ? RETURNING value",
        (n, n),
    ).fetchone()
    return hi - n + 1, hi


def add_blocks(
    conn: sqlite3.Connection,
    blocks: Iterable[BlockLocation],
    inline: tuple[int, bytes, int] | None = None,
) -> None:
    """First references to freshly written blocks (made by their commit);
    ``inline``: the bytes of the one inline block among them, as
    ``(local id, bytes, crc)`` (see inline_blocks.py)."""
    conn.executemany(
        "INSERT INTO blocks VALUES(?, ?, 1)",
        [(b.block_id.container_id, b.block_id.local_id) for b in blocks],
    )
    if inline is not None:
        conn.execute("INSERT INTO inline_blocks VALUES(?, ?, ?)", inline)


def _ids(blocks: Iterable[BlockLocation | BlockID]) -> list[BlockID]:
    return [b.block_id if isinstance(b, BlockLocation) else b for b in blocks]


def retain(conn: sqlite3.Connection, blocks: Iterable[BlockLocation]) -> None:
    """One more reference to each run's block (a copy sharing it)."""
    for i in _ids(blocks):
        cur = conn.execute(
            "UPDATE blocks SET refs = refs + 1 WHERE container_id=? AND local_id=?",
            (i.container_id, i.local_id),
        )
        if cur.rowcount != 1:
            raise SourceChanged(f"block {i} is gone")


def release(
    conn: sqlite3.Connection, blocks: Iterable[BlockLocation | BlockID]
) -> None:
    """Drop one reference per entry; blocks nobody holds are queued for
    deletion (their files), or deleted (inline blocks: their rows)."""
    for i in _ids(blocks):
        row = conn.execute(
            "UPDATE blocks SET refs = refs - 1 WHERE container_id=? AND local_id=? "
            "RETURNING refs",
            (i.container_id, i.local_id),
        ).fetchone()
        if row is None or row[0] <= 0:
            conn.execute(
                "DELETE FROM blocks WHERE container_id=? AND local_id=?",
                (i.container_id, i.local_id),
            )
            if is_inline(i):
                # A reader took its bytes when it opened it: none is cut short.
                conn.execute(
                    "DELETE FROM inline_blocks WHERE local_id=?", (i.local_id,)
                )
                continue
            conn.execute(
                "INSERT OR IGNORE INTO deleted_blocks VALUES(?, ?)",
                (i.container_id, i.local_id),
            )


def unused(
    held: Sequence[BlockLocation], used: Sequence[BlockLocation]
) -> list[BlockID]:
    """References an open key holds that its commit does not use (multiset)."""
    left = Counter(_ids(held))
    left.subtract(_ids(used))
    assert all(n >= 0 for n in left.values()), "commit uses a block it never held"
    return list(left.elements())
