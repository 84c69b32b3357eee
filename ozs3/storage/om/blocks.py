"""Block IDs in the OM: reservations for writers, and reclamation.

Writers reserve ranges of block IDs and name block files from them without
asking the OM again; a restart finds the files of writes that never committed
from the reservations left behind.  Released blocks wait in the deleted-blocks
table (Ozone's deleted table) until the block deleting service removes their
files and forgets them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred

from ..model import BlockID
from .tables import reserve_ids


class BlockTables:
    """Mixed into ``OzoneManager``; uses its transaction plumbing."""

    slot: int | None
    _run: Callable[..., Deferred[Any]]
    _run_volatile: Callable[..., Deferred[Any]]
    _read: Callable[..., Deferred[Any]]
    _read_now: Callable[..., Deferred[Any]]
    _slot_filter: Callable[[bool], tuple[str, tuple[int, ...]]]

    # -- reservations -----------------------------------------------------

    def reserve_blocks(self, n: int) -> Deferred[tuple[int, int]]:
        """Reserve ``n`` block IDs for this process: ``(lo, hi)``, inclusive.

        Writers name block files from the reservation without asking the OM
        again; a block becomes referenced only by the commit that makes its
        key (or part) visible.  The reservation row lets a restart find the
        files of writes that never committed (``reserved_ranges``)."""
        return self._run_volatile(self._reserve_blocks, n)

    def _reserve_blocks(self, conn: sqlite3.Connection, n: int) -> tuple[int, int]:
        lo, hi = reserve_ids(conn, n)
        conn.execute(
            "INSERT INTO reservations VALUES(?, ?, ?)", (self.slot or 0, lo, hi)
        )
        return lo, hi

    def drop_reservation(self, lo: int) -> Deferred[None]:
        """Every ID of the reservation starting at ``lo`` was used and its
        write committed or cleaned up."""
        return self._run_volatile(self._drop_reservations, [lo])

    def reserved_ranges(
        self, every_slot: bool
    ) -> Deferred[list[tuple[int, int, set[int]]]]:
        """Reservations left by an earlier run (all, or this slot's): each
        ``(lo, hi, referenced local IDs within)``."""
        return self._read(self._reserved_ranges, every_slot)

    def _reserved_ranges(
        self, conn: sqlite3.Connection, every_slot: bool
    ) -> list[tuple[int, int, set[int]]]:
        where, args = self._slot_filter(every_slot)
        out = []
        for lo, hi in conn.execute("SELECT lo, hi FROM reservations" + where, args):
            used = {
                lid
                for table in ("blocks", "deleted_blocks")
                for (lid,) in conn.execute(
                    f"SELECT local_id FROM {table} WHERE local_id BETWEEN ? AND ?",
                    (lo, hi),
                )
            }
            out.append((lo, hi, used))
        return out

    def forget_reservations(
        self, los: Sequence[int], every_slot: bool
    ) -> Deferred[None]:
        return self._run_volatile(self._drop_reservations, los, every_slot)

    def _drop_reservations(
        self, conn: sqlite3.Connection, los: Sequence[int], every_slot: bool = False
    ) -> None:
        if every_slot:
            conn.executemany(
                "DELETE FROM reservations WHERE lo=?", [(lo,) for lo in los]
            )
        else:
            conn.executemany(
                "DELETE FROM reservations WHERE worker=? AND lo=?",
                [(self.slot or 0, lo) for lo in los],
            )

    # -- inline blocks (inline_blocks.py) ---------------------------------

    def inline_blocks(
        self, local_ids: Sequence[int]
    ) -> Deferred[dict[int, tuple[bytes, int]]]:
        """Inline blocks' ``(bytes, crc)`` by local id; one that is gone
        (its key replaced and the block released since) is missing.  A
        primary-key read, on the calling thread."""
        return self._read_now(self._inline_blocks, local_ids, one_statement=True)

    def free_pages(self) -> Deferred[int]:
        """Bytes of the database's free pages: space deleted rows (inline
        blocks') left, which later rows reuse before the file grows."""
        return self._read_now(self._free_pages, one_statement=True)

    @staticmethod
    def _free_pages(conn: sqlite3.Connection) -> int:
        (pages,) = conn.execute("PRAGMA freelist_count").fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        return int(pages) * int(size)

    @staticmethod
    def _inline_blocks(
        conn: sqlite3.Connection, local_ids: Sequence[int]
    ) -> dict[int, tuple[bytes, int]]:
        if len(local_ids) == 1:  # a small object's: the usual case
            rows = conn.execute(
                "SELECT local_id, data, crc FROM inline_blocks WHERE local_id=?",
                (local_ids[0],),
            )
        else:
            rows = conn.execute(
                "SELECT local_id, data, crc FROM inline_blocks WHERE local_id IN "
                f"({','.join('?' * len(local_ids))})",
                tuple(local_ids),
            )
        return {lid: (data, crc) for lid, data, crc in rows}

    # -- block reclamation (Ozone's deleted table + block deleting service) --

    def deleted_blocks(self, limit: int) -> Deferred[list[BlockID]]:
        return self._read(self._deleted_blocks, limit)

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
        return self._read(self._referenced_blocks)

    def _referenced_blocks(self, conn: sqlite3.Connection) -> set[BlockID]:
        return {
            BlockID(c, lid)
            for table in ("blocks", "deleted_blocks")
            for c, lid in conn.execute(f"SELECT container_id, local_id FROM {table}")
        }
