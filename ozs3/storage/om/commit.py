"""The OM's commit engine: SQLite connections, group commit, read snapshots.

Kept in SQLite (WAL mode; durable commits fsync the WAL): a transactional, ordered
B-tree store from the standard library that several processes can share.

Writes are serialised on one dedicated thread (the ``om`` executor), the way
OM's Ratis log serialises them, with *group commit*: the writes that arrive
while a commit is being made wait, then go together as one SQLite
transaction and one fsync (if one of them fails, the group is redone with a
SAVEPOINT each, so a failing write undoes only itself).  Every write is
durable before its Deferred fires.
Reads run on their own threads in read transactions (WAL snapshots), so they
never queue behind a commit's fsync.

The tables (``OzoneManager`` and its mixins) hand it functions of a
connection: ``_run``/``_run_volatile`` for writes, ``_read`` for reads.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from ..._executor import Executor
from ..datadir import private_db
from ..errors import NoSpace, NotDurable
from .tables import SCHEMA, migrate

T = TypeVar("T")


def sqlite_error(e: sqlite3.Error) -> Exception:
    """SQLite's error as a storage error where one fits: a full disk is
    NoSpace (503, the client may retry), not an internal error."""
    if getattr(e, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL:
        return NoSpace(f"the OM database: {e}")
    return e


# Writes per transaction at most: bounds how long one commit holds the
# database lock (other gateway processes share it).
MAX_GROUP = 256

_Op = tuple[Callable[..., Any], tuple[Any, ...]]


class GroupCommit:
    """Connections (one a thread), the writer lock, group commit and read
    transactions over the OM database at ``path``."""

    def __init__(
        self, path: str, executor: Executor, reads: Executor | None = None
    ) -> None:
        self.path = path
        self._executor = executor
        self._reads = reads or executor
        self._local = threading.local()
        self._pending: list[
            tuple[Callable[..., Any], tuple[Any, ...], Deferred[Any], bool]
        ] = []
        self._committing = False
        # For the writes: see _commit_locked.
        self._group_buckets: dict[str, int] = {}
        self.groups = 0  # transactions committed (for metrics and tests)
        self.grouped = 0  # writes they carried

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            private_db(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: commits do not fsync; durable groups fsync the WAL
            # after releasing the writer lock (_commit_group).
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            migrate(conn)
            self._local.conn = conn
        return conn

    def _writer_lock(self) -> int:
        """The lock every process's writer holds for a whole transaction.

        SQLite's own lock makes a waiting writer poll with sleeps of up to
        100 ms; a kernel lock hands over the moment the holder commits.
        """
        fd: int | None = getattr(self._local, "lock_fd", None)
        if fd is None:
            fd = os.open(self.path + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._local.lock_fd = fd
        return fd

    def _run(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        """A write: ``f(conn, *args)`` in the next group commit, durable
        (fsync'd) before the Deferred fires."""
        return self._write(f, args, True)

    def _run_volatile(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        """A write that need not survive a power failure by itself: opening
        a key, allocating a block, aborting.  Its group commits without an
        fsync; the next durable commit (the key's, say) makes it durable
        too, since WAL frames reach the disk in order.  Lost, it leaves only
        block files nobody references, which start-up after an unclean
        stop deletes (``EmbeddedObjectStore.start``)."""
        return self._write(f, args, False)

    def _write(self, f: Callable[..., T], args: tuple[Any, ...], durable: bool
               ) -> Deferred[T]:  # fmt: skip
        d: Deferred[T] = Deferred()
        self._pending.append((f, args, d, durable))
        if not self._committing:
            self._next_group()
        return d

    def _next_group(self) -> None:
        group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
        self._committing = True
        ops = [(f, args) for f, args, _, _ in group]
        durable = any(op[3] for op in group)
        self._executor.run(self._commit_group, ops, durable).addBoth(
            self._group_done, group
        )

    def _group_done(self, outcome: Any, group: list[Any]) -> None:
        # Writes issued by these callbacks gather for the next group.
        if isinstance(outcome, Failure):
            # The commit itself failed: none of the writes took effect.
            for _, _, d, _ in group:
                d.errback(outcome)
        else:
            for (_, _, d, _), (ok, value) in zip(group, outcome, strict=True):
                if ok:
                    d.callback(value)
                else:
                    d.errback(value)
        self._committing = False
        if self._pending:
            self._next_group()

    def _commit_group(self, ops: list[_Op], durable: bool) -> list[tuple[bool, Any]]:
        results: list[tuple[bool, Any]] = []
        try:
            conn = self._conn()
            lock = self._writer_lock()
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._commit_locked(conn, ops, results)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        except sqlite3.Error as e:
            mapped = sqlite_error(e)
            if mapped is e:
                raise
            raise mapped from e
        if durable:
            # synchronous=NORMAL: COMMIT appended the group's WAL frames
            # without an fsync, so the lock is not held across one.  This
            # fsync makes them durable before anyone is told (frames reach
            # the disk in order; another process's later frames may come
            # along).  A checkpoint first syncs the WAL itself.
            try:
                self._sync_wal()
            except OSError as e:
                # COMMIT is done: every write of the group took effect and
                # is visible; only its durability is in doubt.  Say so, so
                # that no caller undoes (say, deletes the blocks of) a
                # write that stands.
                unsynced = Failure(
                    NotDurable(f"syncing the OM log failed: {e.strerror}")
                )
                return [(False, unsynced) if ok else (ok, v) for ok, v in results]
        return results

    def _sync_wal(self) -> None:
        fd: int | None = getattr(self._local, "wal_fd", None)
        if fd is None:
            fd = os.open(self.path + "-wal", os.O_RDONLY)
            self._local.wal_fd = fd
        os.fdatasync(fd)

    def _commit_locked(
        self,
        conn: sqlite3.Connection,
        ops: list[_Op],
        results: list[tuple[bool, Any]],
    ) -> list[tuple[bool, Any]]:
        # Bucket IDs the group's commits looked up (one lookup per bucket a
        # transaction): only the writer thread touches it.
        self._group_buckets.clear()
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Optimistic first: writes rarely fail, and a SAVEPOINT per write
            # is two more statements each while the lock is held.  If one
            # fails, the group is redone with a savepoint per write.
            try:
                results.extend((True, f(conn, *args)) for f, args in ops)
            except Exception:
                # (SQLite may have rolled back already: SQLITE_FULL, IOERR.)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                self._group_buckets.clear()
                results.clear()
                self._each_in_savepoint(conn, ops, results)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.groups += 1
        self.grouped += len(ops)
        return results

    @staticmethod
    def _each_in_savepoint(
        conn: sqlite3.Connection, ops: list[_Op], results: list[tuple[bool, Any]]
    ) -> None:
        for f, args in ops:
            conn.execute("SAVEPOINT op")
            try:
                value = f(conn, *args)
            except Exception as e:
                if not conn.in_transaction:
                    # SQLite rolled the whole transaction back (SQLITE_FULL,
                    # an I/O error): no write of the group took effect.
                    raise
                conn.execute("ROLLBACK TO op")
                if isinstance(e, sqlite3.Error):
                    results.append((False, Failure(sqlite_error(e))))
                else:
                    results.append((False, Failure()))
            else:
                results.append((True, value))
            conn.execute("RELEASE op")

    def sync(self) -> Deferred[None]:
        """A durable commit of nothing: every write before it is on disk."""
        return self._run(lambda conn: None)

    def _read(self, f: Callable[..., T], *args: Any) -> Deferred[T]:
        """A read: ``f(conn, *args)`` in one read transaction (a snapshot)."""
        return self._reads.run(self._read_txn, f, *args)

    def _read_txn(self, f: Callable[..., T], *args: Any) -> T:
        return self._in_read_txn(self._conn(), f, *args)

    @staticmethod
    def _in_read_txn(conn: sqlite3.Connection, f: Callable[..., T], *args: Any) -> T:
        conn.execute("BEGIN")
        try:
            return f(conn, *args)
        finally:
            conn.execute("COMMIT")

    def _read_now(
        self, f: Callable[..., T], *args: Any, one_statement: bool = False
    ) -> Deferred[T]:
        """A point read (a row or two by primary key) on the calling thread,
        the reactor's: tens of microseconds, where a hop to the read pool
        and back costs far more (two thread hand-offs, GIL contention).  A
        WAL reader does not wait for writers; should SQLite still answer
        busy (another process recovering the WAL), the read goes to the
        pool rather than blocking the reactor.

        ``one_statement``: ``f`` runs a single SELECT, which is a snapshot
        by itself, so no BEGIN and COMMIT around it (those two cost more
        than a primary-key SELECT)."""
        conn: sqlite3.Connection | None = getattr(self._local, "now_conn", None)
        if conn is None:
            # Its own connection: never waits (timeout 0), never writes.
            private_db(self.path)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
            conn.execute("PRAGMA query_only=1")
            self._local.now_conn = conn
        try:
            if one_statement:
                return succeed(f(conn, *args))
            return succeed(self._in_read_txn(conn, f, *args))
        except sqlite3.OperationalError as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "locked" in str(e) or "busy" in str(e):
                return self._read(f, *args)
            return fail()
        except Exception:
            return fail()

    def close(self) -> None:
        for attr in ("conn", "now_conn"):
            conn = getattr(self._local, attr, None)
            if conn is not None:
                conn.close()
                setattr(self._local, attr, None)
        for name in ("lock_fd", "wal_fd"):
            fd = getattr(self._local, name, None)
            if fd is not None:
                os.close(fd)
                setattr(self._local, name, None)
