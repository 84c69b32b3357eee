"""Bucket settings and key tags in the OM, and the tables the lifecycle
service works from: which buckets have a configuration, expiring exactly
the versions it judged, and the lease that makes it run once across
gateway workers.

A bucket's settings (its tags, its lifecycle configuration) are rows of
``bucket_settings``, opaque text to the OM, dropped with the bucket.  A
key's tags live in its metadata column (Ozone keeps them in KeyInfo), so
changing them rewrites that column only: the key's ETag, time and blocks
stay as they are.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from ..errors import KeyNotFound
from ..model import BucketInfo, ListedKey, ObjectMeta
from .tables import (
    OWNER_FROM_META_SQL,
    REPLICATION_FROM_META_SQL,
    decode_blocks,
    decode_meta_owner,
    encode_meta,
    release,
)


class SettingsTables:
    """Mixed into ``OzoneManager``; uses its transaction plumbing."""

    volume: str
    _run: Callable[..., Deferred[Any]]
    _read: Callable[..., Deferred[Any]]
    _read_now: Callable[..., Deferred[Any]]
    _bucket_row: Callable[..., tuple[Any, ...]]

    # -- bucket settings -------------------------------------------------------

    def get_bucket_setting(
        self, bucket: str, name: str, bucket_id: int | None = None
    ) -> Deferred[str | None]:
        """The setting's text, or None; ``BucketNotFound`` if no bucket."""
        return self._read_now(self._get_setting, bucket, name, bucket_id)

    def _get_setting(
        self, conn: sqlite3.Connection, bucket: str, name: str, bucket_id: int | None
    ) -> str | None:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        row = conn.execute(
            "SELECT value FROM bucket_settings WHERE bucket_id=? AND name=?",
            (bucket_id, name),
        ).fetchone()
        return None if row is None else str(row[0])

    def set_bucket_setting(
        self, bucket: str, name: str, value: str | None, bucket_id: int | None = None
    ) -> Deferred[None]:
        """Replace the setting (None: remove it)."""
        return self._run(self._set_setting, bucket, name, value, bucket_id)

    def _set_setting(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        name: str,
        value: str | None,
        bucket_id: int | None,
    ) -> None:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        if value is None:
            conn.execute(
                "DELETE FROM bucket_settings WHERE bucket_id=? AND name=?",
                (bucket_id, name),
            )
        else:
            conn.execute(
                "INSERT OR REPLACE INTO bucket_settings VALUES(?, ?, ?)",
                (bucket_id, name, value),
            )

    def buckets_with_setting(self, name: str) -> Deferred[list[tuple[BucketInfo, str]]]:
        """Every bucket that has the setting, with its text."""
        return self._read(self._buckets_with, name)

    def _buckets_with(
        self, conn: sqlite3.Connection, name: str
    ) -> list[tuple[BucketInfo, str]]:
        return [
            (BucketInfo(self.volume, bname, owner, created, bid), value)
            for bid, bname, owner, created, value in conn.execute(
                "SELECT b.id, b.name, b.owner, b.created, s.value "
                "FROM bucket_settings s JOIN buckets b ON b.id = s.bucket_id "
                "WHERE s.name=? AND b.volume=? ORDER BY b.name",
                (name, self.volume),
            )
        ]

    # -- key tags and ACLs ----------------------------------------------------

    def set_key_tags(
        self,
        bucket: str,
        key: str,
        tags: Sequence[tuple[str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        """Replace the current version's tags (``()``: remove them)."""
        change = partial(attrs.evolve, tags=tuple(tags))
        return self._run(self._set_key_meta, bucket, key, change, bucket_id)

    def set_key_acl(
        self,
        bucket: str,
        key: str,
        acl: Sequence[tuple[str, str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        """Replace the current version's ACL grants (``()``: the default)."""
        change = partial(attrs.evolve, acl=tuple(acl))
        return self._run(self._set_key_meta, bucket, key, change, bucket_id)

    def _set_key_meta(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        key: str,
        change: Callable[[ObjectMeta], ObjectMeta],
        bucket_id: int | None,
    ) -> None:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        row = conn.execute(
            "SELECT meta FROM keys WHERE bucket_id=? AND key=?",
            (bucket_id, key.encode()),
        ).fetchone()
        if row is None:
            raise KeyNotFound(key)
        meta, owner = decode_meta_owner(row[0])
        conn.execute(
            f"UPDATE keys SET meta=:meta, owner={OWNER_FROM_META_SQL},"
            f" replication={REPLICATION_FROM_META_SQL}"
            " WHERE bucket_id=:bucket_id AND key=:key",
            {
                "meta": encode_meta(change(meta), owner),
                "bucket_id": bucket_id,
                "key": key.encode(),
            },
        )

    # -- lifecycle -------------------------------------------------------------

    def expire_keys(
        self, bucket: str, versions: Sequence[ListedKey], bucket_id: int | None = None
    ) -> Deferred[list[ListedKey]]:
        """Delete each key if it is still the version given (its ETag, size
        and time): one written since is not the one judged expired.
        Returns those deleted."""
        return self._run(self._expire_keys, bucket, versions, bucket_id)

    def _expire_keys(
        self,
        conn: sqlite3.Connection,
        bucket: str,
        versions: Sequence[ListedKey],
        bucket_id: int | None,
    ) -> list[ListedKey]:
        bucket_id = self._bucket_row(conn, bucket, bucket_id)[0]
        deleted = []
        for info in versions:
            row = conn.execute(
                "DELETE FROM keys WHERE bucket_id=? AND key=? AND etag=? AND size=? "
                "AND modified=? RETURNING blocks",
                (bucket_id, info.key.encode(), info.etag, info.size, info.modified),
            ).fetchone()
            if row is not None:
                release(conn, decode_blocks(row[0]))
                deleted.append(info)
        return deleted

    def claim_lease(
        self, name: str, holder: str, seconds: float, every: float = 0.0
    ) -> Deferred[float | None]:
        """Hold the lease ``name`` for ``seconds`` if nobody else holds it
        and its work was last finished at least ``every`` seconds ago:
        returns when that was (0.0: never), or None if another holder has
        it or the work is not due.  A look that finds nothing to claim is a
        read: idle polls (every worker's) write nothing."""

        def claim(row: tuple[Any, ...] | None) -> Deferred[float | None] | None:
            if not _claimable(row, holder, every, time.time()):
                return None
            return self._run(self._claim_lease, name, holder, seconds, every)

        return self._read(self._lease_row, name).addCallback(claim)

    @staticmethod
    def _lease_row(conn: sqlite3.Connection, name: str) -> tuple[Any, ...] | None:
        row = conn.execute(
            "SELECT holder, until, last_done FROM leases WHERE name=?", (name,)
        ).fetchone()
        return None if row is None else tuple(row)

    def _claim_lease(
        self,
        conn: sqlite3.Connection,
        name: str,
        holder: str,
        seconds: float,
        every: float,
    ) -> float | None:
        now = time.time()
        row = self._lease_row(conn, name)  # again: another process may have won
        if not _claimable(row, holder, every, now):
            return None
        conn.execute(
            "INSERT INTO leases(name, holder, until) VALUES(?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET holder=excluded.holder, "
            "until=excluded.until",
            (name, holder, now + seconds),
        )
        return 0.0 if row is None else float(row[2])

    def finish_lease(self, name: str, holder: str, done_at: float) -> Deferred[bool]:
        """Record that ``holder`` finished its work at ``done_at`` and let
        the lease go; False if it no longer held it."""
        return self._run(self._finish_lease, name, holder, done_at)

    def _finish_lease(
        self, conn: sqlite3.Connection, name: str, holder: str, done_at: float
    ) -> bool:
        cur = conn.execute(
            "UPDATE leases SET until=0, last_done=? WHERE name=? AND holder=?",
            (done_at, name, holder),
        )
        return cur.rowcount == 1


def _claimable(
    row: tuple[Any, ...] | None, holder: str, every: float, now: float
) -> bool:
    """May ``holder`` take the lease whose row is ``row`` (holder, until,
    last_done) now?  Not while another holds it; not before ``every``
    seconds have passed since the work was last finished."""
    if row is None:
        return True
    other_holds = row[0] != holder and row[1] > now
    return not other_holds and now - row[2] >= every
