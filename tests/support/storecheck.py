"""Audit a stopped (or killed) gateway's data directory: every stored block
(a block file on disk, or an inline block's row) is referenced, every
reference has its bytes, and reference counts equal the references the OM
tables hold."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter

from ozs3.storage.datanode.store import LocalBlockStore
from ozs3.storage.inline_blocks import inline_block_id
from ozs3.storage.model import BlockID


def flip_bits(path: str, offset: int, mask: int) -> None:
    """Corrupt one byte of a file in place: XOR it with ``mask``."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ mask]))


def stored_blocks(data_dir: str) -> set[BlockID]:
    """The blocks whose bytes are stored: block files, and inline blocks'
    rows in the OM database (ozs3/storage/inline_blocks.py)."""
    store = LocalBlockStore(os.path.join(data_dir, "hdds"), 4 << 20, 16384, "CRC32")
    found = set(store.block_files())
    path = os.path.join(data_dir, "om", "om.db")
    if os.path.exists(path):
        db = sqlite3.connect(path)
        try:
            rows = db.execute("SELECT local_id FROM inline_blocks").fetchall()
        except sqlite3.OperationalError:  # no such table: none yet
            rows = []
        finally:
            db.close()
        found.update(inline_block_id(lid) for (lid,) in rows)
    return found


def audit(data_dir: str) -> dict[str, object]:
    db = sqlite3.connect(os.path.join(data_dir, "om", "om.db"))
    try:
        holders: Counter[BlockID] = Counter()
        for table in ("keys", "parts", "open_keys"):
            for (blocks,) in db.execute(f"SELECT blocks FROM {table}"):
                holders.update(BlockID(b[0], b[1]) for b in json.loads(blocks))
        counted = {
            BlockID(c, lid): refs
            for c, lid, refs in db.execute(
                "SELECT container_id, local_id, refs FROM blocks"
            )
        }
        queued = {
            BlockID(c, lid)
            for c, lid in db.execute(
                "SELECT container_id, local_id FROM deleted_blocks"
            )
        }
        open_keys = db.execute("SELECT count(*) FROM open_keys").fetchone()[0]
    finally:
        db.close()
    on_disk = stored_blocks(data_dir)
    return {
        "open_keys": open_keys,
        "queued_for_deletion": len(queued),
        "refcount_mismatches": {
            b: (counted.get(b), holders.get(b))
            for b in set(counted) | set(holders)
            if counted.get(b) != holders.get(b)
        },
        "files_without_reference": on_disk - set(holders),
        # A block allocated but never written (crash before its first chunk)
        # is referenced by an open key only; after start-up none remain.
        "references_without_file": set(holders) - on_disk,
    }


def assert_clean(data_dir: str) -> None:
    """What a restarted gateway must leave behind."""
    report = audit(data_dir)
    assert report["open_keys"] == 0, report
    assert report["queued_for_deletion"] == 0, report
    assert not report["refcount_mismatches"], report
    assert not report["files_without_reference"], report
    assert not report["references_without_file"], report


def wait_quiet(data_dir: str, timeout: float = 5.0) -> None:
    """Wait until the block-deleting task has caught up (it runs at most
    every 0.1 s): every block file referenced, nothing queued."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        report = audit(data_dir)
        if not report["files_without_reference"] and not report["queued_for_deletion"]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the store did not settle: {report}")
        time.sleep(0.05)
