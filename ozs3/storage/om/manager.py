"""The embedded Ozone Manager: volumes, buckets, keys, open keys, uploads,
parts, block references and the deleted-blocks table.

Kept in SQLite (WAL mode, ``synchronous=FULL``): a transactional, ordered
B-tree store from the standard library that several processes can share.
Keys are ``BLOB``s of their UTF-8 bytes in a ``WITHOUT ROWID`` table keyed by
``(bucket_id, key)``, so a listing page is one index range scan.

Every public method runs its SQL in one transaction on one dedicated thread
(the ``om`` executor), which serialises them the way OM's Ratis log does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from ..._executor import Executor
from ..errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    KeyNotFound,
    StorageError,
)
from ..model import (
    BlockID,
    BlockLocation,
    BucketInfo,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListQuery,
    ObjectMeta,
    PartInfo,
    PartTarget,
)
from .listing import list_page
from .multipart import MultipartTables
from .secrets import get_secret
from .tables import (
    SCHEMA,
    decode_blocks,
    decode_meta,
    encode_blocks,
    encode_meta,
    new_block,
    release,
    retain,
    slice_blocks,
    unused,
)

T = TypeVar("T")


class OzoneManager(MultipartTables):
    def __init__(self, path: str, volume: str, executor: Executor) -> None:
        self.path = path
        self.volume = volume
        self._executor = executor
        self._local = threading.local()

    # -- plumbing ---------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(SCHEMA)
            self._local.conn = conn
        return conn

    def _run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        return self._executor.run(self._txn, f, *args)

    def _txn(self, f: Callable[..., T], *args: Any) -> T:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = f(conn, *args)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _bucket_row(self, conn: sqlite3.Connection, name: str) -> tuple[Any, ...]:
        row = conn.execute(
            "SELECT id, owner, created FROM buckets WHERE volume=? AND name=?",
            (self.volume, name),
        ).fetchone()
        if row is None:
            raise BucketNotFound(name)
        return tuple(row)

    def _key_row(
        self, conn: sqlite3.Connection, bucket: str, key: str
    ) -> tuple[int, KeyInfo]:
        bucket_id = self._bucket_row(conn, bucket)[0]
        row = conn.execute(
            "SELECT size, etag, modified, meta, blocks, checksum FROM keys "
            "WHERE bucket_id=? AND key=?",
            (bucket_id, key.encode()),
        ).fetchone()
        if row is None:
            raise KeyNotFound(key)
        size, etag, modified, meta, blocks, checksum = row
        info = KeyInfo(
            bucket, key, size, etag, modified, decode_meta(meta),
            decode_blocks(blocks), checksum,
        )  # fmt: skip
        return bucket_id, info

    @staticmethod
    def _put_key(
        conn: sqlite3.Connection,
        bucket_id: int,
        key: bytes,
        size: int,
        etag: str,
        modified: float,
        meta: str,
        blocks: Sequence[BlockLocation],
        parts: str = "[]",
        checksum: str = "",
    ) -> None:
        """Insert or replace a key; the replaced version's blocks are released."""
        old = conn.execute(
            "SELECT blocks FROM keys WHERE bucket_id=? AND key=?", (bucket_id, key)
        ).fetchone()
        if old is not None:
            release(conn, decode_blocks(old[0]))
        conn.execute(
            "INSERT OR REPLACE INTO keys VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bucket_id,
                key,
                size,
                etag,
                modified,
                meta,
                encode_blocks(blocks),
                parts,
                checksum,
            ),
        )

    # -- volumes and buckets -------------------------------------------------

    def start(self) -> Deferred[int]:
        """Create the S3 volume and reclaim every open key left by a crash.

        Returns how many open keys were reclaimed.
        """
        return self._run(self._start)

    def _start(self, conn: sqlite3.Connection) -> int:
        conn.execute(
            "INSERT OR IGNORE INTO volumes VALUES(?, ?, ?)",
            (self.volume, "admin", time.time()),
        )
        rows = conn.execute("SELECT blocks FROM open_keys").fetchall()
        for (blocks,) in rows:
            release(conn, decode_blocks(blocks))
        conn.execute("DELETE FROM open_keys")
        return len(rows)

    def create_bucket(self, name: str, owner: str) -> Deferred[BucketInfo]:
        return self._run(self._create_bucket, name, owner)

    def _create_bucket(
        self, conn: sqlite3.Connection, name: str, owner: str
    ) -> BucketInfo:
        row = conn.execute(
            "SELECT owner FROM buckets WHERE volume=? AND name=?", (self.volume, name)
        ).fetchone()
        if row is not None:
            raise BucketAlreadyExists(name, row[0])
        now = time.time()
        conn.execute(
            "INSERT INTO buckets(volume, name, owner, created) VALUES(?, ?, ?, ?)",
            (self.volume, name, owner, now),
        )
        return BucketInfo(self.volume, name, owner, now)

    def get_bucket(self, name: str) -> Deferred[BucketInfo]:
        return self._run(self._get_bucket, name)

    def _get_bucket(self, conn: sqlite3.Connection, name: str) -> BucketInfo:
        _, owner, created = self._bucket_row(conn, name)
        return BucketInfo(self.volume, name, owner, created)

    def delete_bucket(self, name: str) -> Deferred[None]:
        return self._run(self._delete_bucket, name)

    def _delete_bucket(self, conn: sqlite3.Connection, name: str) -> None:
        bucket_id = self._bucket_row(conn, name)[0]
        for table in ("keys", "uploads"):
            if conn.execute(
                f"SELECT 1 FROM {table} WHERE bucket_id=? LIMIT 1", (bucket_id,)
            ).fetchone():
                raise BucketNotEmpty(name)
        conn.execute("DELETE FROM buckets WHERE id=?", (bucket_id,))

    def list_buckets(self) -> Deferred[list[BucketInfo]]:
        return self._run(self._list_buckets)

    def _list_buckets(self, conn: sqlite3.Connection) -> list[BucketInfo]:
        return [
            BucketInfo(self.volume, name, owner, created)
            for name, owner, created in conn.execute(
                "SELECT name, owner, created FROM buckets WHERE volume=? ORDER BY name",
                (self.volume,),
            )
        ]

    # -- the write path: open key -> allocate blocks -> commit ---------------

    def open_key(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        allocate: bool,
        part: PartTarget | None = None,
    ) -> Deferred[tuple[int, BlockID | None]]:
        return self._run(self._open_key, bucket, key, meta, allocate, part)

    def _open_key(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        allocate: bool,
        part: PartTarget | None,
    ) -> tuple[int, BlockID | None]:
        bucket_id = self._bucket_row(conn, bucket)[0]
        if part is not None:
            self._upload_row(conn, bucket_id, key, part.upload_id)
        first = new_block(conn) if allocate else None
        blocks = [BlockLocation(first, 0)] if first else []
        return self._insert_open_key(conn, bucket_id, key, meta, blocks, part), first

    @staticmethod
    def _insert_open_key(
        conn: sqlite3.Connection,
        bucket_id: int,
        key: str,
        meta: ObjectMeta,
        blocks: Sequence[BlockLocation],
        part: PartTarget | None,
    ) -> int:
        cur = conn.execute(
            "INSERT INTO open_keys(bucket_id, key, meta, created, blocks, upload_id, "
            "part_number) VALUES(?, ?, ?, ?, ?, ?, ?)",
            (
                bucket_id,
                key.encode(),
                encode_meta(meta),
                time.time(),
                encode_blocks(blocks),
                part.upload_id if part else None,
                part.part_number if part else None,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def allocate_block(self, client_id: int) -> Deferred[BlockID]:
        return self._run(self._allocate_block, client_id)

    @staticmethod
    def _held_blocks(
        conn: sqlite3.Connection, client_id: int
    ) -> tuple[BlockLocation, ...] | None:
        """The blocks an open key holds, or None if it is gone."""
        row = conn.execute(
            "SELECT blocks FROM open_keys WHERE client_id=?", (client_id,)
        ).fetchone()
        return None if row is None else decode_blocks(row[0])

    def _allocate_block(self, conn: sqlite3.Connection, client_id: int) -> BlockID:
        held = self._held_blocks(conn, client_id)
        if held is None:
            raise StorageError(f"open key {client_id} is gone")
        block_id = new_block(conn)
        blocks = [*held, BlockLocation(block_id, 0)]
        # Recorded before the datanode creates the file: a crash can leave an
        # allocated block without a file, never a file nobody knows about.
        conn.execute(
            "UPDATE open_keys SET blocks=? WHERE client_id=?",
            (encode_blocks(blocks), client_id),
        )
        return block_id

    def open_copy(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
    ) -> Deferred[tuple[int, KeyInfo, list[BlockLocation]]]:
        """Open a key whose data is a run of an existing key's blocks.

        The open key holds a reference to each source block, so the source
        may be overwritten or deleted meanwhile without losing them.
        """
        return self._run(
            self._open_copy, bucket, key, meta, part, source_bucket, source_key,
            source_range,
        )  # fmt: skip

    def _open_copy(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        meta: ObjectMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
    ) -> tuple[int, KeyInfo, list[BlockLocation]]:
        _, source = self._key_row(conn, source_bucket, source_key)
        bucket_id = self._bucket_row(conn, bucket)[0]
        if part is not None:
            self._upload_row(conn, bucket_id, key, part.upload_id)
        start, length = source_range or (0, source.size)
        runs = slice_blocks(source.blocks, start, length)
        retain(conn, runs)
        client_id = self._insert_open_key(
            conn, bucket_id, key, meta or source.meta, runs, part
        )
        return client_id, source, runs

    def commit_key(
        self,
        client_id: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str = "",
    ) -> Deferred[KeyInfo | PartInfo]:
        d = self._run(
            self._commit_key, client_id, blocks, size, etag, modified, checksum
        )
        return d.addCallback(self._committed)

    @staticmethod
    def _committed(info: KeyInfo | PartInfo | StorageError) -> KeyInfo | PartInfo:
        if isinstance(info, StorageError):
            raise info
        return info

    def _commit_key(
        self,
        conn: sqlite3.Connection,
        client_id: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str,
    ) -> KeyInfo | PartInfo | StorageError:
        row = conn.execute(
            "SELECT o.bucket_id, o.key, o.meta, o.blocks, o.upload_id, o.part_number, "
            "b.name FROM open_keys o LEFT JOIN buckets b ON b.id = o.bucket_id "
            "WHERE o.client_id=?",
            (client_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"open key {client_id} is gone")
        bucket_id, key, meta, held, upload_id, part_number, bucket = row
        conn.execute("DELETE FROM open_keys WHERE client_id=?", (client_id,))
        release(conn, unused(decode_blocks(held), blocks))
        # Failures below must still commit the cleanup above: they are
        # returned, and raised once the transaction is done.
        if bucket is None:
            release(conn, blocks)
            return BucketNotFound("the bucket was deleted during the upload")
        if upload_id is not None:
            return self._commit_part(
                conn, bucket_id, key, upload_id, part_number, blocks, size, etag,
                modified, checksum,
            )  # fmt: skip
        self._put_key(
            conn, bucket_id, key, size, etag, modified, meta, blocks, checksum=checksum
        )
        return KeyInfo(
            bucket, key.decode(), size, etag, modified, decode_meta(meta),
            tuple(blocks), checksum,
        )  # fmt: skip

    def abort_open_key(self, client_id: int) -> Deferred[None]:
        return self._run(self._abort_open_key, client_id)

    def _abort_open_key(self, conn: sqlite3.Connection, client_id: int) -> None:
        held = self._held_blocks(conn, client_id)
        if held is not None:
            release(conn, held)
            conn.execute("DELETE FROM open_keys WHERE client_id=?", (client_id,))

    # -- reads and deletes ---------------------------------------------------

    def lookup_key(self, bucket: str, key: str) -> Deferred[KeyInfo]:
        return self._run(lambda conn: self._key_row(conn, bucket, key)[1])

    def delete_key(self, bucket: str, key: str) -> Deferred[None]:
        return self._run(self._delete_keys, bucket, [key]).addCallback(lambda _: None)

    def delete_keys(
        self, bucket: str, keys: Sequence[str]
    ) -> Deferred[list[DeleteResult]]:
        return self._run(self._delete_keys, bucket, keys)

    def _delete_keys(
        self, conn: sqlite3.Connection, bucket: str, keys: Sequence[str]
    ) -> list[DeleteResult]:
        bucket_id = self._bucket_row(conn, bucket)[0]
        for key in keys:
            row = conn.execute(
                "DELETE FROM keys WHERE bucket_id=? AND key=? RETURNING blocks",
                (bucket_id, key.encode()),
            ).fetchone()
            if row is not None:
                release(conn, decode_blocks(row[0]))
        # Deleting a missing key succeeds in S3.
        return [DeleteResult(key) for key in keys]

    def list_keys(self, bucket: str, query: ListQuery) -> Deferred[KeyListing]:
        return self._run(self._list_keys, bucket, query)

    def _list_keys(
        self, conn: sqlite3.Connection, bucket: str, query: ListQuery
    ) -> KeyListing:
        bucket_id = self._bucket_row(conn, bucket)[0]

        def scan(
            lower: bytes, inclusive: bool, upper: bytes | None, limit: int
        ) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
            op = ">=" if inclusive else ">"
            sql = (
                "SELECT key, size, etag, modified FROM keys "
                f"WHERE bucket_id=? AND key {op} ?"
            )
            args: list[Any] = [bucket_id, lower]
            if upper is not None:
                sql += " AND key < ?"
                args.append(upper)
            sql += " ORDER BY key LIMIT ?"
            args.append(limit)
            return ((r[0], r[1:]) for r in conn.execute(sql, args))

        page = list_page(
            scan,
            query.prefix.encode(),
            query.delimiter.encode(),
            query.start_after.encode(),
            query.max_keys,
        )
        empty = ObjectMeta()
        return KeyListing(
            keys=tuple(
                KeyInfo(bucket, k.decode(), size, etag, modified, empty)
                for k, (size, etag, modified) in page.keys
            ),
            common_prefixes=tuple(p.decode() for p in page.common_prefixes),
            truncated=page.truncated,
            next_marker=page.next_marker.decode() if page.next_marker else None,
        )

    def stats(self) -> Deferred[tuple[int, int, int]]:
        """(committed keys, their bytes, open multipart uploads): for metrics."""
        return self._run(self._stats)

    def _stats(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        keys, size = conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM keys"
        ).fetchone()
        (uploads,) = conn.execute("SELECT count(*) FROM uploads").fetchone()
        return int(keys), int(size), int(uploads)

    # -- S3 secrets (Ozone's S3SecretTable) ------------------------------------

    def get_s3_secret(self, access_key: str) -> Deferred[str | None]:
        return self._run(lambda conn: get_secret(conn, access_key))

    # -- block reclamation (Ozone's deleted table + block deleting service) --

    def deleted_blocks(self, limit: int) -> Deferred[list[BlockID]]:
        return self._run(self._deleted_blocks, limit)

    def _deleted_blocks(self, conn: sqlite3.Connection, limit: int) -> list[BlockID]:
        return [
            BlockID(c, lid)
            for c, lid in conn.execute(
                "SELECT container_id, local_id FROM deleted_blocks LIMIT ?", (limit,)
            )
        ]

    def forget_deleted_blocks(self, ids: Sequence[BlockID]) -> Deferred[None]:
        return self._run(self._forget_deleted_blocks, ids)

    def _forget_deleted_blocks(
        self, conn: sqlite3.Connection, ids: Sequence[BlockID]
    ) -> None:
        conn.executemany(
            "DELETE FROM deleted_blocks WHERE container_id=? AND local_id=?",
            [(i.container_id, i.local_id) for i in ids],
        )

    def referenced_blocks(self) -> Deferred[set[BlockID]]:
        """Every block the metadata knows of (live or queued for deletion)."""
        return self._run(self._referenced_blocks)

    def _referenced_blocks(self, conn: sqlite3.Connection) -> set[BlockID]:
        return {
            BlockID(c, lid)
            for table in ("blocks", "deleted_blocks")
            for c, lid in conn.execute(f"SELECT container_id, local_id FROM {table}")
        }
