"""Multipart uploads in the OM: uploads, parts, completion by block stitching.

Complete copies no data: the final key's block list is the listed parts'
block lists end to end (as Ozone's OM does), and the whole change (new key,
replaced version released, unlisted parts released, upload dropped) is one
transaction: a crash leaves the old object or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from ...digests import composite
from ..errors import InvalidPart, InvalidPartOrder, PartTooSmall, UploadNotFound
from ..model import (
    BlockLocation,
    KeyInfo,
    ObjectMeta,
    PartInfo,
    PartLayout,
    PartListing,
    Precondition,
    UploadInfo,
    UploadListing,
    UploadQuery,
)
from ..upload_pages import SEP, key_of, sort_key, start_of, upload_listing
from .listing import list_page
from .preconditions import precondition_error
from .tables import (
    REPLICATION_SQL,
    decode_blocks,
    decode_meta,
    encode_blocks,
    encode_meta,
    encode_parts,
    release,
)

T = TypeVar("T")

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000


def multipart_etag(part_etags: Sequence[str]) -> str:
    """AWS's rule: MD5 of the concatenated binary MD5s, then ``-N``."""
    digest = hashlib.md5(b"".join(bytes.fromhex(e) for e in part_etags))
    return f"{digest.hexdigest()}-{len(part_etags)}"


def new_upload_id() -> str:
    # Time first, so one key's uploads sort in the order they were started.
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


class MultipartTables:
    """Mixed into ``OzoneManager``; uses its transaction plumbing."""

    volume: str
    _run: Callable[..., Deferred[Any]]
    _read: Callable[..., Deferred[Any]]
    _bucket_row: Callable[..., tuple[Any, ...]]
    _put_key: Callable[..., None]

    def _upload_row(
        self, conn: sqlite3.Connection, bucket_id: int, key: str, upload_id: str
    ) -> tuple[str, float, str]:
        row = conn.execute(
            "SELECT meta, initiated, owner FROM uploads "
            "WHERE bucket_id=? AND key=? AND upload_id=?",
            (bucket_id, key.encode(), upload_id),
        ).fetchone()
        if row is None:
            raise UploadNotFound(upload_id)
        return row[0], row[1], row[2]

    # ``bucket_id`` (every method): that bucket, not another created since
    # under its name; None: whichever bucket has the name.

    def create_upload(
        self, bucket: str, key: str, meta: ObjectMeta, owner: str,
        bucket_id: int | None = None,
    ) -> Deferred[UploadInfo]:  # fmt: skip
        return self._run(self._create_upload, bucket, key, meta, owner, bucket_id)

    def _create_upload(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        owner: str,
        bucket_id: int | None,
    ) -> UploadInfo:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        upload_id = new_upload_id()
        now = time.time()
        conn.execute(
            "INSERT INTO uploads VALUES(?, ?, ?, ?, ?, ?)",
            (bucket_id, key.encode(), upload_id, encode_meta(meta), now, owner),
        )
        return UploadInfo(bucket, key, upload_id, now, meta, owner)

    def _commit_part(
        self,
        conn: sqlite3.Connection,
        bucket_id: int,
        key: bytes,
        upload_id: str,
        part_number: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str,
    ) -> PartInfo | UploadNotFound:
        if not conn.execute(
            "SELECT 1 FROM uploads WHERE bucket_id=? AND key=? AND upload_id=?",
            (bucket_id, key, upload_id),
        ).fetchone():
            # Aborted or completed while the part was uploading.
            release(conn, blocks)
            return UploadNotFound(upload_id)
        old = conn.execute(
            "SELECT blocks FROM parts WHERE upload_id=? AND part_number=?",
            (upload_id, part_number),
        ).fetchone()
        if old is not None:
            release(conn, decode_blocks(old[0]))
        conn.execute(
            "INSERT OR REPLACE INTO parts VALUES(?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id,
                part_number,
                size,
                etag,
                modified,
                encode_blocks(blocks),
                checksum,
            ),
        )
        return PartInfo(part_number, size, etag, modified, checksum)

    def abort_upload(
        self, bucket: str, key: str, upload_id: str, bucket_id: int | None = None
    ) -> Deferred[None]:
        return self._run(self._abort_upload, bucket, key, upload_id, bucket_id)

    def _abort_upload(
        self, conn: sqlite3.Connection, bucket: str, key: str, upload_id: str,
        bucket_id: int | None,
    ) -> None:  # fmt: skip
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        self._upload_row(conn, bucket_id, key, upload_id)
        self._drop_upload(conn, upload_id, keep=())

    @staticmethod
    def _drop_upload(
        conn: sqlite3.Connection, upload_id: str, keep: Sequence[int]
    ) -> None:
        """Delete an upload; release the blocks of every part not in ``keep``."""
        kept = set(keep)
        for number, blocks in conn.execute(
            "SELECT part_number, blocks FROM parts WHERE upload_id=?", (upload_id,)
        ).fetchall():
            if number not in kept:
                release(conn, decode_blocks(blocks))
        conn.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
        conn.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))

    def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> Deferred[KeyInfo]:
        """``parts``: (part number, ETag without quotes), as the client listed.
        The key belongs to whoever initiated the upload.  ``precondition``
        is checked in the same transaction (a refusal keeps the upload)."""
        return self._run(
            self._complete_upload, bucket, key, upload_id, parts, bucket_id,
            precondition,
        )  # fmt: skip

    def _complete_upload(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        bucket_id: int | None,
        precondition: Precondition | None,
    ) -> KeyInfo:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        upload_meta, _, owner = self._upload_row(conn, bucket_id, key, upload_id)
        meta = encode_meta(decode_meta(upload_meta), owner)
        numbers = [n for n, _ in parts]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise InvalidPartOrder(upload_id)
        stored = {
            n: (size, etag, decode_blocks(blocks), checksum)
            for n, size, etag, blocks, checksum in conn.execute(
                "SELECT part_number, size, etag, blocks, checksum FROM parts "
                "WHERE upload_id=?",
                (upload_id,),
            )
        }
        blocks: list[BlockLocation] = []
        etags = []
        size = 0
        for i, (number, etag) in enumerate(parts):
            found = stored.get(number)
            if found is None or found[1] != etag:
                raise InvalidPart(str(number))
            if found[0] < MIN_PART_SIZE and i < len(parts) - 1:
                raise PartTooSmall(str(number))
            size += found[0]
            blocks.extend(found[2])
            etags.append(found[1])
        error = precondition_error(conn, bucket_id, key.encode(), precondition)
        if error is not None:
            raise error
        final_etag = multipart_etag(etags)
        checksum = composite([stored[n][3] for n in numbers])
        now = time.time()
        layout = tuple(PartLayout(n, stored[n][0], stored[n][3]) for n in numbers)
        self._drop_upload(conn, upload_id, keep=numbers)
        self._put_key(
            conn, bucket_id, key.encode(), size, final_etag, now, meta, blocks,
            encode_parts(layout), checksum,
        )  # fmt: skip
        return KeyInfo(
            bucket, key, size, final_etag, now, decode_meta(meta), tuple(blocks),
            checksum, owner, layout,
        )  # fmt: skip

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int,
        bucket_id: int | None = None,
    ) -> Deferred[PartListing]:  # fmt: skip
        return self._read(
            self._list_parts, bucket, key, upload_id, marker, max_parts, bucket_id
        )

    def _list_parts(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        upload_id: str,
        marker: int,
        max_parts: int,
        bucket_id: int | None,
    ) -> PartListing:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        meta, initiated, owner = self._upload_row(conn, bucket_id, key, upload_id)
        rows = conn.execute(
            "SELECT part_number, size, etag, modified, checksum FROM parts "
            "WHERE upload_id=? AND part_number > ? ORDER BY part_number LIMIT ?",
            (upload_id, marker, max_parts + 1),
        ).fetchall()
        parts = tuple(PartInfo(*r) for r in rows[:max_parts])
        truncated = len(rows) > max_parts
        return PartListing(
            UploadInfo(bucket, key, upload_id, initiated, decode_meta(meta), owner),
            parts,
            truncated,
            parts[-1].part_number if truncated and parts else None,
        )

    def list_uploads(
        self, bucket: str, query: UploadQuery, bucket_id: int | None = None
    ) -> Deferred[UploadListing]:
        return self._read(self._list_uploads, bucket, query, bucket_id)

    def _list_uploads(
        self, conn: sqlite3.Connection, bucket: str, query: UploadQuery,
        bucket_id: int | None,
    ) -> UploadListing:  # fmt: skip
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]

        def scan(
            lower: bytes, inclusive: bool, upper: bytes | None, limit: int
        ) -> Iterator[tuple[bytes, UploadInfo]]:
            # Composite order (key, upload_id) is the order of key || NUL || id.
            key, _, uid = lower.partition(SEP)
            op = ">=" if inclusive else ">"
            sql = (
                f"SELECT key, upload_id, initiated, owner, {REPLICATION_SQL} "
                "FROM uploads "
                f"WHERE bucket_id=? AND (key > ? OR (key = ? AND upload_id {op} ?))"
            )
            args: list[Any] = [bucket_id, key, key, uid.decode()]
            if upper is not None:
                sql += " AND key < ?"
                args.append(upper)
            sql += " ORDER BY key, upload_id LIMIT ?"
            args.append(limit)
            return (
                (
                    sort_key(k, u),
                    UploadInfo(bucket, k.decode(), u, t, ObjectMeta(replication=r), o),
                )
                for k, u, t, o, r in conn.execute(sql, args)
            )

        page = list_page(
            scan,
            query.prefix.encode(),
            query.delimiter.encode(),
            start_of(query),
            query.max_uploads,
            key_of=key_of,
        )
        return upload_listing(page)
