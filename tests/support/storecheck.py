"""Audit a stopped (or killed) gateway's data directory: every block file on
disk is referenced, every reference has its file, and reference counts equal
the references the OM tables hold."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter

from ozs3.storage.datanode.store import LocalBlockStore
from ozs3.storage.model import BlockID


def flip_bits(path: str, offset: int, mask: int) -> None:
    """Corrupt one byte of a file in place: XOR it with ``mask``."""
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ mask]))


def block_files(data_dir: str) -> set[BlockID]:
    store = LocalBlockStore(os.path.join(data_dir, "hdds"), 4 << 20, 16384, "CRC32")
    return set(store.block_files())


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
    on_disk = block_files(data_dir)
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
