"""Ozone's S3SecretTable: access key -> secret.

Kept in the OM database, so the ``ozs3 s3`` admin command (a separate
process) and the gateway share it: a secret set or revoked takes effect at
the gateway's next request.
"""

from __future__ import annotations

import os
import sqlite3
import time

from ..datadir import private_db
from .tables import SCHEMA

MIN_SECRET_LENGTH = 8


class SecretExists(Exception):
    """Ozone's S3_SECRET_ALREADY_EXISTS: a secret is shown only once."""


class AccessIdNotFound(Exception):
    """Ozone's ACCESS_ID_NOT_FOUND."""


def new_secret() -> str:
    # 64 hex characters, like Ozone's (SHA-256 hex of random bytes).
    return os.urandom(32).hex()


def open_db(path: str) -> sqlite3.Connection:
    private_db(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    return conn


def get_secret(conn: sqlite3.Connection, access_key: str) -> str | None:
    row = conn.execute(
        "SELECT secret FROM s3_secrets WHERE access_key=?", (access_key,)
    ).fetchone()
    return None if row is None else str(row[0])


def create_secret(conn: sqlite3.Connection, access_key: str) -> str:
    """A new secret for ``access_key``; SecretExists if it has one."""
    secret = new_secret()
    try:
        with conn:
            conn.execute(
                "INSERT INTO s3_secrets VALUES(?, ?, ?)",
                (access_key, secret, time.time()),
            )
    except sqlite3.IntegrityError:
        raise SecretExists(access_key) from None
    return secret


def set_secret(conn: sqlite3.Connection, access_key: str, secret: str) -> None:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"secret must be at least {MIN_SECRET_LENGTH} characters")
    with conn:
        conn.execute(
            "INSERT INTO s3_secrets VALUES(?, ?, ?) ON CONFLICT(access_key) "
            "DO UPDATE SET secret=excluded.secret, created=excluded.created",
            (access_key, secret, time.time()),
        )


def revoke_secret(conn: sqlite3.Connection, access_key: str) -> None:
    with conn:
        cur = conn.execute("DELETE FROM s3_secrets WHERE access_key=?", (access_key,))
    if cur.rowcount == 0:
        raise AccessIdNotFound(access_key)
