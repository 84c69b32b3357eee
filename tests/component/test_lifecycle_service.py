"""The lifecycle service over the embedded store, on a clock the test
turns: the store answers a listing page at once (a page without a
delimiter is read on the reactor thread), so the service itself must give
the reactor a turn between pages, and a stop must end a scan between them."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from twisted.internet.task import Clock

from ozs3.lifecycle.service import PAGE, LifecycleService
from ozs3.s3.lifecycle import Filter, LifecycleConfiguration, Rule, encode
from ozs3.storage.client import EmbeddedObjectStore
from ozs3.storage.model import BUCKET_LIFECYCLE
from tests.component.test_storage import make_store, result_of

PAGES = 3


def _store_with_keys(path: str, count: int) -> EmbeddedObjectStore:
    store = make_store(path)
    bucket_id = result_of(store.create_bucket("b", "alice")).id
    db = sqlite3.connect(os.path.join(path, "om", "om.db"))
    with db:
        db.executemany(
            "INSERT INTO keys(bucket_id, key, size, etag, modified, meta, blocks,"
            " owner, replication) VALUES(?, ?, 0, 'e', ?, '{}', '[]', '', '')",
            ((bucket_id, f"k{i:06d}".encode(), time.time()) for i in range(count)),
        )
    db.close()
    # A rule that covers every key and finds none due: the whole bucket is
    # listed, nothing else is awaited.
    rule = Rule("r", True, Filter(form="empty"), expiration_days=3650)
    config = encode(LifecycleConfiguration((rule,)))
    result_of(store.set_bucket_setting("b", BUCKET_LIFECYCLE, config))
    return store


def _counting_pages(store: EmbeddedObjectStore) -> list[int]:
    pages: list[int] = []
    list_keys = store.list_keys

    def counted(*args: Any, **kwargs: Any) -> Any:
        pages.append(1)
        return list_keys(*args, **kwargs)

    store.list_keys = counted  # type: ignore[method-assign]
    return pages


def _turn(clock: Clock) -> None:
    """One reactor turn: the calls pending now, not those they schedule
    (``Clock.advance`` would run those too)."""
    due = [c for c in clock.getDelayedCalls() if c.getTime() <= clock.seconds()]
    for call in due:
        clock.calls.remove(call)
        call.func(*call.args, **call.kw)


def test_a_scan_gives_the_reactor_a_turn_between_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = _store_with_keys(str(tmp_path), PAGES * PAGE)
    pages = _counting_pages(store)
    clock = Clock()
    service = LifecycleService(store, clock, interval=3600)
    run = service.run_if_due(force=True)
    # Each page is judged, then the service waits for the reactor's turn.
    for listed in range(1, PAGES):
        assert (len(pages), run.called) == (listed, False)
        _turn(clock)
    report = result_of(run)
    assert (len(pages), report.buckets, report.expired) == (PAGES, 1, 0)


def test_a_stop_ends_a_scan_between_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = _store_with_keys(str(tmp_path), PAGES * PAGE)
    pages = _counting_pages(store)
    clock = Clock()
    service = LifecycleService(store, clock, interval=3600)
    service.startService()
    run = service.run_if_due(force=True)
    assert len(pages) == 1
    stopped = service.stopService()
    clock.advance(0)
    assert run.called
    assert len(pages) == 1  # the rest of the bucket is not listed
    assert stopped is None or stopped.called
