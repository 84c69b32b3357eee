"""Which thread reads a listing page: a page without a delimiter or
metadata, at most 1,000 keys (a bounded scan), on the calling thread (the
reactor's); every other page in the read pool."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from ozs3._executor import SyncExecutor
from ozs3.storage.model import ListQuery
from ozs3.storage.om.manager import OzoneManager
from tests.component.test_storage import result_of


class CountingExecutor(SyncExecutor):
    def __init__(self) -> None:
        self.calls = 0

    def run(self, f: Callable[..., Any], *args: Any) -> Deferred[Any]:
        self.calls += 1
        return super().run(f, *args)


@pytest.mark.parametrize(
    ("query", "in_pool"),
    [
        (ListQuery(), False),
        (ListQuery(prefix="a", start_after="a1", with_owner=False), False),
        (ListQuery(max_keys=1001), True),
        (ListQuery(delimiter="/"), True),
        (ListQuery(with_meta=True), True),
    ],
)
def test_where_a_page_is_read(tmp_path, query: ListQuery, in_pool: bool) -> None:  # type: ignore[no-untyped-def]
    reads = CountingExecutor()
    om = OzoneManager(os.path.join(tmp_path, "om.db"), "s3v", SyncExecutor(), reads)
    result_of(om.create_bucket("b", "alice"))
    before = reads.calls
    page = result_of(om.list_keys("b", query))
    assert page.keys == ()
    assert (reads.calls > before) is in_pool
