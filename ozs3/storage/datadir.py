"""The data directory: private to its user, and one gateway's at a time.

Private: the directory is 0700 and the OM database (which holds every S3
secret) and its -wal/-shm files are 0600, whoever's umask created them.

One gateway's: a gateway (or the supervisor of ``--workers``) holds an
exclusive ``flock`` on ``in_use.lock`` (HDFS's name for it) as long as it
runs, with its pid in the file.  Start-up reclaims what an earlier run left
unfinished, which would destroy the in-flight writes of a gateway still
running on the same directory; a second one therefore refuses to start.
The supervisor's workers inherit the locked file: a flock belongs to the
open file description, so it is held until the last of them exits (orphaned
workers still finishing requests keep a new supervisor out).  The ``ozs3``
admin command works on a live directory and takes no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket

LOCK_FILE = "in_use.lock"
DIR_MODE = 0o700
DB_MODE = 0o600
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


class DataDirInUse(Exception):
    """Another process holds the data directory's lock."""


def private_dir(path: str) -> None:
    """Create ``path`` (and parents) if need be; no access for others.

    A directory made here is 0700; an existing one loses its group-write
    and every "other" permission (0755 becomes 0750): an operator may have
    opened it to a group on purpose, never to everyone.  (One this user
    does not own, and so cannot chmod, is the operator's to set.)"""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o027:
        with contextlib.suppress(PermissionError):
            os.chmod(path, mode & ~0o027)


def private_db(path: str) -> None:
    """Before SQLite opens ``path``: the database file exists with mode
    0600, so the -wal and -shm files SQLite creates next to it get the same
    mode (it copies the database's), and older ones are narrowed to it."""
    private_dir(os.path.dirname(path) or ".")
    # Never open an existing database outside SQLite: closing any fd of a
    # file drops every POSIX lock this process holds on it, SQLite's
    # included, and another process may then take this one's live WAL for
    # abandoned (checkpoint it and delete it under us).  O_EXCL: only a
    # file that nobody can have open yet is created here.
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         DB_MODE))  # fmt: skip
    except FileExistsError:
        pass
    for suffix in _DB_SUFFIXES:
        try:
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, DB_MODE)
        except FileNotFoundError:
            pass


class DataDirLock:
    """The exclusive lock on a data directory, held until this process
    (and every process it passed ``fd`` to) exits."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def acquire(cls, data_dir: str) -> DataDirLock:
        """Lock ``data_dir`` (created, private) or raise ``DataDirInUse``."""
        private_dir(data_dir)
        path = os.path.join(data_dir, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, DB_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 256, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DataDirInUse(
                f"data directory {os.path.abspath(data_dir)} is in use by another "
                f"gateway (pid {holder.split('@')[0] or 'unknown'}; {path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        lock = cls(path, fd)
        lock.record_pid()
        return lock

    def record_pid(self) -> None:
        """Write this process's pid into the lock file (again after twistd
        daemonized: the pid changed)."""
        text = f"{os.getpid()}@{socket.gethostname()}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text, 0)
