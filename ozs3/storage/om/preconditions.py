"""Conditional writes and deletes in the OM: the check runs in the same
transaction as the change it guards, so two writers racing with
``If-None-Match: *`` cannot both succeed (in one process or across gateway
workers, which share the OM's database and its writer lock)."""

from __future__ import annotations

import sqlite3

from ..errors import KeyNotFound, PreconditionFailed, StorageError
from ..model import Precondition


def precondition_error(
    conn: sqlite3.Connection,
    bucket_id: int,
    raw_key: bytes,
    precondition: Precondition | None,
    deleting: bool = False,
) -> StorageError | None:
    """Why the key's current version fails ``precondition``, or None.
    ``deleting``: S3 answers a conditional delete of a missing key with
    NoSuchKey, a conditional write with PreconditionFailed."""
    if precondition is None:
        return None
    row = conn.execute(
        "SELECT etag, size, modified FROM keys WHERE bucket_id=? AND key=?",
        (bucket_id, raw_key),
    ).fetchone()
    if precondition.absent and row is not None:
        return PreconditionFailed("If-None-Match")
    if precondition.etag is not None or precondition.present:
        if row is None:
            if deleting:
                return KeyNotFound(raw_key.decode())
            return PreconditionFailed("If-Match")
        if precondition.etag is not None and row[0] != precondition.etag:
            return PreconditionFailed("If-Match")
    version = (precondition.size, precondition.modified)
    if version != (None, None) and (row is None or (row[1], row[2]) != version):
        return PreconditionFailed("version")
    return None
