"""The OM's write path for keys and parts: open key -> blocks -> commit.

A new key's blocks become the OM's in one transaction (``commit_new``); a
copy first pins its source's blocks in an open key (``open_copy``) and its
commit shares them (``commit_key``).  Either way the last step replaces, and
releases, any older version (``_make_visible``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred

from ..errors import BucketNotFound, StorageError
from ..model import (
    BlockLocation,
    CopyMeta,
    KeyInfo,
    ObjectMeta,
    PartInfo,
    PartTarget,
    Precondition,
)
from .preconditions import precondition_error
from .tables import (
    add_blocks,
    decode_blocks,
    decode_meta_owner,
    decode_parts,
    encode_blocks,
    encode_meta,
    encode_parts,
    release,
    retain,
    slice_blocks,
    unused,
)


class KeyWrites:
    """Mixed into ``OzoneManager``; uses its transaction plumbing and rows."""

    volume: str
    slot: int | None
    _group_buckets: dict[str, int]
    _run: Callable[..., Deferred[Any]]
    _run_volatile: Callable[..., Deferred[Any]]
    _read: Callable[..., Deferred[Any]]
    _read_now: Callable[..., Deferred[Any]]
    _bucket_row: Callable[..., tuple[Any, ...]]
    _key_row: Callable[..., tuple[int, KeyInfo]]
    _put_key: Callable[..., None]
    _upload_row: Callable[..., tuple[str, float, str]]
    _commit_part: Callable[..., PartInfo]

    def check_target(
        self,
        bucket: str,
        key: str,
        part: PartTarget | None,
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> Deferred[None]:
        """Whether a write to (bucket, key[, part]) may start: the bucket
        (that one, with ``bucket_id``) and the upload exist, and the key
        meets ``precondition``.  Checked again by the commit."""
        return self._read_now(
            self._check_target, bucket, key, part, bucket_id, precondition
        )

    def _check_target(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        part: PartTarget | None,
        bucket_id: int | None,
        precondition: Precondition | None,
    ) -> None:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        if part is not None:
            self._upload_row(conn, bucket_id, key, part.upload_id)
        error = precondition_error(conn, bucket_id, key.encode(), precondition)
        if error is not None:
            raise error

    def commit_new(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        part: PartTarget | None,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str = "",
        bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
        inline: tuple[int, bytes, int] | None = None,
    ) -> Deferred[KeyInfo | PartInfo]:
        """Make freshly written blocks a key (or a part), durably.

        Once this transaction commits the blocks are the OM's: referenced,
        or, if the bucket (with ``bucket_id``: that bucket, not another
        since created under its name) or the upload went away meanwhile,
        queued for deletion (and that error raised).  If it fails, they are
        nobody's.  ``owner``: who wrote the key.  ``precondition``: the
        key's current version is checked in the same transaction.
        ``inline``: the bytes of the one inline block among ``blocks``, as
        ``(local id, bytes, crc)``, stored by this same transaction."""
        d = self._run(
            self._commit_new, bucket, key, meta, part, blocks, size, etag, modified,
            checksum, bucket_id, owner, precondition, inline,
        )  # fmt: skip
        return d.addCallback(self._committed)

    def _commit_new(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        part: PartTarget | None,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str,
        pinned: int | None,
        owner: str,
        precondition: Precondition | None,
        inline: tuple[int, bytes, int] | None,
    ) -> KeyInfo | PartInfo | StorageError:
        add_blocks(conn, blocks, inline)
        bucket_id = self._group_buckets.get(bucket)
        if bucket_id is None:
            row = conn.execute(
                "SELECT id FROM buckets WHERE volume=? AND name=?",
                (self.volume, bucket),
            ).fetchone()
            if row is not None:
                bucket_id = self._group_buckets[bucket] = row[0]
        if bucket_id is None or (pinned is not None and bucket_id != pinned):
            # Deleted, perhaps created again (by anyone): not this write's.
            release(conn, blocks)
            return BucketNotFound("the bucket was deleted during the upload")
        return self._make_visible(
            conn, bucket, bucket_id, key.encode(), encode_meta(meta, owner),
            part.upload_id if part else None, part.part_number if part else None,
            blocks, size, etag, modified, checksum, meta, owner, precondition,
        )  # fmt: skip

    def _make_visible(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        bucket_id: int,
        raw_key: bytes,
        meta_text: str,
        upload_id: str | None,
        part_number: int | None,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str,
        meta: ObjectMeta | None = None,
        owner: str | None = None,
        precondition: Precondition | None = None,
        parts: str = "[]",
    ) -> KeyInfo | PartInfo | StorageError:
        """The last step of every commit: the part of its upload, or the key,
        replacing (and releasing) any older version, if the older version
        meets ``precondition`` (else the blocks are released)."""
        if upload_id is not None:
            assert part_number is not None
            return self._commit_part(
                conn, bucket_id, raw_key, upload_id, part_number, blocks, size,
                etag, modified, checksum,
            )  # fmt: skip
        refused = precondition_error(conn, bucket_id, raw_key, precondition)
        if refused is not None:
            release(conn, blocks)
            return refused
        self._put_key(
            conn, bucket_id, raw_key, size, etag, modified, meta_text, blocks,
            parts, checksum,
        )  # fmt: skip
        if meta is None or owner is None:
            meta, owner = decode_meta_owner(meta_text)
        return KeyInfo(
            bucket, raw_key.decode(), size, etag, modified, meta, tuple(blocks),
            checksum, owner, decode_parts(parts),
        )  # fmt: skip

    def _insert_open_key(
        self,
        conn: sqlite3.Connection,
        bucket_id: int,
        key: str,
        meta: ObjectMeta,
        blocks: Sequence[BlockLocation],
        part: PartTarget | None,
        owner: str = "",
        parts: str = "[]",
    ) -> int:
        cur = conn.execute(
            "INSERT INTO open_keys(bucket_id, key, meta, created, blocks, upload_id, "
            "part_number, worker, parts) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bucket_id,
                key.encode(),
                encode_meta(meta, owner),
                time.time(),
                encode_blocks(blocks),
                part.upload_id if part else None,
                part.part_number if part else None,
                self.slot or 0,
                parts,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    @staticmethod
    def _held_blocks(
        conn: sqlite3.Connection, client_id: int
    ) -> tuple[BlockLocation, ...] | None:
        """The blocks an open key holds, or None if it is gone."""
        row = conn.execute(
            "SELECT blocks FROM open_keys WHERE client_id=?", (client_id,)
        ).fetchone()
        return None if row is None else decode_blocks(row[0])

    def open_copy(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta | CopyMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
        bucket_id: int | None = None,
        source_bucket_id: int | None = None,
        owner: str = "",
    ) -> Deferred[tuple[int, KeyInfo, list[BlockLocation]]]:
        """Open a key whose data is a run of an existing key's blocks.

        The open key holds a reference to each source block, so the source
        may be overwritten or deleted meanwhile without losing them; it
        names its bucket by id, so the commit finds that bucket or none.
        """
        return self._run(
            self._open_copy, bucket, key, meta, part, source_bucket, source_key,
            source_range, bucket_id, source_bucket_id, owner,
        )  # fmt: skip

    def _open_copy(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        meta: ObjectMeta | CopyMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
        bucket_id: int | None,
        source_bucket_id: int | None,
        owner: str,
    ) -> tuple[int, KeyInfo, list[BlockLocation]]:
        _, source = self._key_row(conn, source_bucket, source_key, source_bucket_id)
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        if part is not None:
            self._upload_row(conn, bucket_id, key, part.upload_id)
        start, length = source_range or (0, source.size)
        runs = slice_blocks(source.blocks, start, length)
        retain(conn, runs)
        if isinstance(meta, CopyMeta):
            meta = meta.apply(source.meta)
        # A whole copy of a completed upload keeps its parts (as it keeps
        # its "-N" ETag): GET ?partNumber and GetObjectAttributes see them.
        whole = part is None and source_range is None
        client_id = self._insert_open_key(
            conn, bucket_id, key, meta or source.meta, runs, part, owner,
            encode_parts(source.parts) if whole else "[]",
        )  # fmt: skip
        return client_id, source, runs

    def commit_key(
        self,
        client_id: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str = "",
        precondition: Precondition | None = None,
    ) -> Deferred[KeyInfo | PartInfo]:
        d = self._run(
            self._commit_key, client_id, blocks, size, etag, modified, checksum,
            precondition,
        )  # fmt: skip
        return d.addCallback(self._committed)

    @staticmethod
    def _committed(info: KeyInfo | PartInfo | StorageError) -> KeyInfo | PartInfo:
        if isinstance(info, StorageError):
            info.after_commit = True  # its cleanup (releasing blocks) committed
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
        precondition: Precondition | None,
    ) -> KeyInfo | PartInfo | StorageError:
        row = conn.execute(
            "SELECT o.bucket_id, o.key, o.meta, o.blocks, o.upload_id, o.part_number, "
            "b.name, o.parts FROM open_keys o "
            "LEFT JOIN buckets b ON b.id = o.bucket_id WHERE o.client_id=?",
            (client_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"open key {client_id} is gone")
        bucket_id, key, meta, held, upload_id, part_number, bucket, parts = row
        conn.execute("DELETE FROM open_keys WHERE client_id=?", (client_id,))
        release(conn, unused(decode_blocks(held), blocks))
        # Failures below must still commit the cleanup above: they are
        # returned, and raised once the transaction is done.
        if bucket is None:
            release(conn, blocks)
            return BucketNotFound("the bucket was deleted during the upload")
        return self._make_visible(
            conn, bucket, bucket_id, key, meta, upload_id, part_number, blocks,
            size, etag, modified, checksum, precondition=precondition, parts=parts,
        )  # fmt: skip

    def abort_open_key(self, client_id: int) -> Deferred[None]:
        return self._run_volatile(self._abort_open_key, client_id)

    def _abort_open_key(self, conn: sqlite3.Connection, client_id: int) -> None:
        held = self._held_blocks(conn, client_id)
        if held is not None:
            release(conn, held)
            conn.execute("DELETE FROM open_keys WHERE client_id=?", (client_id,))
