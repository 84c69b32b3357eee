"""The embedded Ozone Manager: the volume, buckets, and key lookups,
listings and deletes.  Writing keys and parts (open key -> blocks -> commit)
is in ``key_writes``, uploads and parts in ``multipart``, block reservations
and reclamation in ``blocks``, the SQLite group-commit engine in ``commit``.

Keys are ``BLOB``s of their UTF-8 bytes in a ``WITHOUT ROWID`` table keyed by
``(bucket_id, key)``, so a listing page is one index range scan.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any

from twisted.internet.defer import Deferred

from ..._executor import Executor
from ..errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    KeyNotFound,
)
from ..model import (
    BlockLocation,
    BucketInfo,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListedKey,
    ListQuery,
    Precondition,
)
from .blocks import BlockTables
from .commit import GroupCommit
from .key_writes import KeyWrites
from .listing import list_page, scan_bounds
from .multipart import MultipartTables
from .preconditions import precondition_error
from .secrets import get_secret
from .settings import SettingsTables
from .tables import (
    KEY_OWNER_SQL,
    KEY_REPLICATION_SQL,
    OWNER_FROM_META_SQL,
    REPLICATION_FROM_META_SQL,
    decode_blocks,
    decode_meta,
    decode_meta_owner,
    decode_parts,
    encode_blocks,
    new_bucket_id,
    release,
)


def _page_sql(
    columns: str,
    owner_args: list[Any],
    bucket_id: int,
    lower: bytes,
    inclusive: bool,
    upper: bytes | None,
) -> tuple[str, list[Any]]:
    """A listing scan's SQL after its key column, up to its LIMIT's
    parameter, and the parameters before that one."""
    op = ">=" if inclusive else ">"
    sql = f"{columns} FROM keys WHERE bucket_id=? AND key {op} ?"
    args = [*owner_args, bucket_id, lower]
    if upper is not None:
        sql += " AND key < ?"
        args.append(upper)
    return sql + " ORDER BY key LIMIT ?", args


def _plain(query: ListQuery) -> bool:
    """A page that is one range scan whose rows are its keys as they are
    (``_list_plain_page``): no delimiter, no metadata, at least one key."""
    return not query.delimiter and not query.with_meta and query.max_keys > 0


# The largest plain page read on the reactor thread (S3's own page size).
REACTOR_PAGE_KEYS = 1000


class OzoneManager(
    GroupCommit, KeyWrites, MultipartTables, SettingsTables, BlockTables
):
    def __init__(
        self,
        path: str,
        volume: str,
        executor: Executor,
        reads: Executor | None = None,
        slot: int | None = None,
    ) -> None:
        super().__init__(path, executor, reads)
        self.volume = volume
        # Which gateway worker this is (None: the only process).  Open keys
        # carry it, so a worker restarted in its slot reclaims exactly the
        # uploads its predecessor left, not the live ones of other workers.
        self.slot = slot

    def _bucket_row(
        self, conn: sqlite3.Connection, name: str, bucket_id: int | None = None
    ) -> tuple[Any, ...]:
        """(id, owner, created) of the bucket ``name``; with ``bucket_id``,
        only if it is still that bucket (not one created since under the
        same name)."""
        row = conn.execute(
            "SELECT id, owner, created FROM buckets WHERE volume=? AND name=?",
            (self.volume, name),
        ).fetchone()
        if row is None or (bucket_id is not None and row[0] != bucket_id):
            raise BucketNotFound(name)
        return tuple(row)

    def _key_row(
        self, conn: sqlite3.Connection, bucket: str, key: str,
        bucket_id: int | None = None,
    ) -> tuple[int, KeyInfo]:  # fmt: skip
        """The key's bucket id and KeyInfo, in one statement (the bucket's
        row joined with the key's): a point read needs no transaction."""
        row = conn.execute(
            "SELECT b.id, b.owner, k.size, k.etag, k.modified, k.meta, k.blocks,"
            " k.checksum, k.parts FROM buckets b"
            " LEFT JOIN keys k ON k.bucket_id = b.id AND k.key = ?"
            " WHERE b.volume = ? AND b.name = ?",
            (key.encode(), self.volume, bucket),
        ).fetchone()
        if row is None or (bucket_id is not None and row[0] != bucket_id):
            raise BucketNotFound(bucket)
        bucket_id, bucket_owner, *row = row
        if row[0] is None:  # no key row (size is NOT NULL)
            raise KeyNotFound(key)
        size, etag, modified, meta_text, blocks, checksum, parts = row
        meta, owner = decode_meta_owner(meta_text)
        info = KeyInfo(
            bucket, key, size, etag, modified, meta, decode_blocks(blocks),
            checksum, owner or bucket_owner, decode_parts(parts),
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
            "INSERT OR REPLACE INTO keys(bucket_id, key, size, etag, modified, meta,"
            " blocks, parts, checksum, owner, replication) VALUES(:bucket_id, :key,"
            " :size, :etag, :modified, :meta, :blocks, :parts, :checksum,"
            f" {OWNER_FROM_META_SQL}, {REPLICATION_FROM_META_SQL})",
            {
                "bucket_id": bucket_id,
                "key": key,
                "size": size,
                "etag": etag,
                "modified": modified,
                "meta": meta,
                "blocks": encode_blocks(blocks),
                "parts": parts,
                "checksum": checksum,
            },
        )

    # -- volumes and buckets -------------------------------------------------

    def _slot_filter(self, every_slot: bool) -> tuple[str, tuple[int, ...]]:
        """A WHERE clause (and its arguments) for this slot's rows, or all."""
        return ("", ()) if every_slot else (" WHERE worker=?", (self.slot or 0,))

    def start(self, every_slot: bool = True) -> Deferred[int]:
        """Create the S3 volume and reclaim the open keys left by a crash:
        all of them (nothing else is running), or this worker slot's.

        Returns how many open keys were reclaimed.  With nothing to do it
        writes nothing: a gateway on a full disk still starts.
        """

        def needed(work: bool) -> Deferred[int] | int:
            return self._run(self._start, every_slot) if work else 0

        return self._read(self._start_needed, every_slot).addCallback(needed)

    def _start_needed(self, conn: sqlite3.Connection, every_slot: bool) -> bool:
        where, args = self._slot_filter(every_slot)
        volume = conn.execute(
            "SELECT 1 FROM volumes WHERE name=?", (self.volume,)
        ).fetchone()
        open_key = conn.execute(
            "SELECT 1 FROM open_keys" + where + " LIMIT 1", args
        ).fetchone()
        return volume is None or open_key is not None

    def _start(self, conn: sqlite3.Connection, every_slot: bool) -> int:
        conn.execute(
            "INSERT OR IGNORE INTO volumes VALUES(?, ?, ?)",
            (self.volume, "admin", time.time()),
        )
        where, args = self._slot_filter(every_slot)
        rows = conn.execute("SELECT blocks FROM open_keys" + where, args).fetchall()
        for (blocks,) in rows:
            release(conn, decode_blocks(blocks))
        conn.execute("DELETE FROM open_keys" + where, args)
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
        bucket_id = new_bucket_id(conn)
        conn.execute(
            "INSERT INTO buckets(id, volume, name, owner, created) "
            "VALUES(?, ?, ?, ?, ?)",
            (bucket_id, self.volume, name, owner, now),
        )
        return BucketInfo(self.volume, name, owner, now, bucket_id)

    def get_bucket(
        self, name: str, bucket_id: int | None = None
    ) -> Deferred[BucketInfo]:
        return self._read_now(self._get_bucket, name, bucket_id, one_statement=True)

    def _get_bucket(
        self, conn: sqlite3.Connection, name: str, bucket_id: int | None
    ) -> BucketInfo:
        bucket_id, owner, created = self._bucket_row(conn, name, bucket_id)
        return BucketInfo(self.volume, name, owner, created, bucket_id)

    def delete_bucket(self, name: str, bucket_id: int | None = None) -> Deferred[None]:
        return self._run(self._delete_bucket, name, bucket_id)

    def _delete_bucket(
        self, conn: sqlite3.Connection, name: str, bucket_id: int | None
    ) -> None:
        self._group_buckets.pop(name, None)
        bucket_id = self._bucket_row(conn, name, bucket_id)[0]
        for table in ("keys", "uploads"):
            if conn.execute(
                f"SELECT 1 FROM {table} WHERE bucket_id=? LIMIT 1", (bucket_id,)
            ).fetchone():
                raise BucketNotEmpty(name)
        conn.execute("DELETE FROM buckets WHERE id=?", (bucket_id,))
        conn.execute("DELETE FROM bucket_settings WHERE bucket_id=?", (bucket_id,))

    def list_buckets(self) -> Deferred[list[BucketInfo]]:
        return self._read(self._list_buckets)

    def _list_buckets(self, conn: sqlite3.Connection) -> list[BucketInfo]:
        return [
            BucketInfo(self.volume, name, owner, created, bucket_id)
            for bucket_id, name, owner, created in conn.execute(
                "SELECT id, name, owner, created FROM buckets WHERE volume=? "
                "ORDER BY name",
                (self.volume,),
            )
        ]

    # -- reads and deletes ---------------------------------------------------

    def lookup_key(
        self, bucket: str, key: str, bucket_id: int | None = None
    ) -> Deferred[KeyInfo]:
        return self._read_now(
            lambda conn: self._key_row(conn, bucket, key, bucket_id)[1],
            one_statement=True,
        )

    def delete_key(
        self,
        bucket: str,
        key: str,
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> Deferred[None]:
        """Delete a key (a missing one too), if it meets ``precondition``."""
        d = self._run(self._delete_keys, bucket, [key], bucket_id, precondition)
        return d.addCallback(lambda _: None)

    def delete_keys(
        self, bucket: str, keys: Sequence[str], bucket_id: int | None = None
    ) -> Deferred[list[DeleteResult]]:
        return self._run(self._delete_keys, bucket, keys, bucket_id)

    def _delete_keys(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        keys: Sequence[str],
        bucket_id: int | None,
        precondition: Precondition | None = None,
    ) -> list[DeleteResult]:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        if precondition is not None:
            (key,) = keys
            error = precondition_error(
                conn, bucket_id, key.encode(), precondition, deleting=True
            )
            if error is not None:
                raise error
        for key in keys:
            row = conn.execute(
                "DELETE FROM keys WHERE bucket_id=? AND key=? RETURNING blocks",
                (bucket_id, key.encode()),
            ).fetchone()
            if row is not None:
                release(conn, decode_blocks(row[0]))
        # Deleting a missing key succeeds in S3.
        return [DeleteResult(key) for key in keys]

    def list_keys(
        self, bucket: str, query: ListQuery, bucket_id: int | None = None
    ) -> Deferred[KeyListing]:
        if _plain(query) and query.max_keys <= REACTOR_PAGE_KEYS:
            # A bounded scan (at most 1,001 rows, ~1.5 ms): on the reactor
            # thread, which holds the GIL for most of it in the pool too,
            # without the two hand-offs.  Larger pages (a raised
            # ozone.s3g.list.max.keys.limit) stay in the pool.
            return self._read_now(self._list_keys, bucket, query, bucket_id)
        return self._read(self._list_keys, bucket, query, bucket_id)

    def _list_keys(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        query: ListQuery,
        bucket_id: int | None,
    ) -> KeyListing:
        bucket_id, bucket_owner, _ = self._bucket_row(conn, bucket, bucket_id)
        # A row as ListedKey's fields (the key as its UTF-8 bytes first).
        columns = (
            f"size, etag, modified, {KEY_REPLICATION_SQL},"
            f" {KEY_OWNER_SQL if query.with_owner else repr('')},"
            f" {'meta' if query.with_meta else 'NULL'}"
        )
        owner_args: list[Any] = [bucket_owner] if query.with_owner else []
        if _plain(query):
            return self._list_plain_page(conn, bucket_id, query, columns, owner_args)

        def scan(
            lower: bytes, inclusive: bool, upper: bytes | None, limit: int
        ) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
            sql, args = _page_sql(
                columns, owner_args, bucket_id, lower, inclusive, upper
            )
            rows = conn.execute(f"SELECT key, {sql}", [*args, limit])
            # Lazy: a delimiter page abandons a scan at its first common prefix.
            return ((r[0], r) for r in rows)

        page = list_page(
            scan,
            query.prefix.encode(),
            query.delimiter.encode(),
            query.start_after.encode(),
            query.max_keys,
        )
        keys = tuple(
            ListedKey(
                k.decode(),
                size,
                etag,
                modified,
                replication,
                owner,
                decode_meta(meta) if meta is not None else None,
            )
            for k, (_, size, etag, modified, replication, owner, meta) in page.keys
        )
        return KeyListing(
            keys=keys,
            common_prefixes=tuple(p.decode() for p in page.common_prefixes),
            truncated=page.truncated,
            next_marker=page.next_marker.decode() if page.next_marker else None,
        )

    @staticmethod
    def _list_plain_page(
        conn: sqlite3.Connection,
        bucket_id: int,
        query: ListQuery,
        columns: str,
        owner_args: list[Any],
    ) -> KeyListing:
        """A page without a delimiter or metadata (most pages): one scan whose
        rows are the listed keys as they are, the key decoded by SQLite
        (keys are stored as the bytes of ``str.encode()``: valid UTF-8)."""
        lower, inclusive, upper = scan_bounds(
            query.prefix.encode(), query.start_after.encode()
        )
        sql, args = _page_sql(columns, owner_args, bucket_id, lower, inclusive, upper)
        max_keys = query.max_keys
        rows = conn.execute(f"SELECT CAST(key AS TEXT), {sql}", [*args, max_keys + 1])
        keys = list(map(tuple.__new__, repeat(ListedKey), rows))
        truncated = len(keys) > max_keys
        if truncated:
            del keys[max_keys:]
        return KeyListing(
            keys=tuple(keys),
            common_prefixes=(),
            truncated=truncated,
            next_marker=keys[-1].key if truncated else None,
        )

    def stats(self) -> Deferred[tuple[int, int, int]]:
        """(committed keys, their bytes, open multipart uploads): for metrics."""
        return self._read(self._stats)

    def _stats(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        keys, size = conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM keys"
        ).fetchone()
        (uploads,) = conn.execute("SELECT count(*) FROM uploads").fetchone()
        return int(keys), int(size), int(uploads)

    # -- S3 secrets (Ozone's S3SecretTable) ------------------------------------

    def get_s3_secret(self, access_key: str) -> Deferred[str | None]:
        return self._read_now(
            lambda conn: get_secret(conn, access_key), one_statement=True
        )
