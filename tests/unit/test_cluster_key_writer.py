"""ClusterKeyWriter with fake Ratis block writers: what a failing block does
to the key (no cluster needed)."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure

from ozs3.storage.model import ObjectMeta
from ozs3.storage.ozone import key_writer
from ozs3.storage.ozone.dn_errors import DatanodeUnavailable
from ozs3.storage.ozone.om_types import (
    Datanode,
    KeyBlock,
    OpenKeySession,
    OzoneKey,
    Pipeline,
)

DN = Datanode("dn-1", "127.0.0.1", "localhost", {"RATIS": 1, "STANDALONE": 2})
PIPELINE = Pipeline("00000000-0000-0000-0000-000000000001", "RATIS", 1, "OPEN", (DN,))


class FailingBlockWriter:
    """Every block's finish fails, after the writer has moved on."""

    def __init__(self, client: Any, block: Any, uuid: str, **kw: Any) -> None:
        self.block = block

    async def write(self, data: Any) -> None:
        pass

    async def finish(self) -> Any:
        raise DatanodeUnavailable(f"block {self.block.local_id} lost")

    def abort(self) -> None:
        pass


class FakeRatisPool:
    def client(self, pipeline: Pipeline) -> None:
        return None


class FakeOM:
    def __init__(self) -> None:
        self.n = 0
        self.committed = False

    def allocate_block(self, session: Any) -> Deferred[KeyBlock]:
        self.n += 1
        d: Deferred[KeyBlock] = Deferred()
        d.callback(KeyBlock(1, self.n, 0, 4, pipeline=PIPELINE))
        return d

    def commit_key(self, *a: Any, **kw: Any) -> Deferred[None]:
        self.committed = True
        d: Deferred[None] = Deferred()
        d.callback(None)
        return d


def result(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box
    return box[0]


@pytest.mark.parametrize("end", ["commit", "abort"])
def test_failed_closing_blocks_fail_the_key_and_log_nothing(
    monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    monkeypatch.setattr(key_writer, "RatisBlockWriter", FailingBlockWriter)
    logged: list[dict[str, Any]] = []
    observer = logged.append
    globalLogPublisher.addObserver(observer)
    try:
        om = FakeOM()
        key = OzoneKey("s3v", "b", "k", 0, 0.0, 0.0, "RATIS", 1, {})
        writer = key_writer.ClusterKeyWriter(
            om,  # type: ignore[arg-type]
            FakeRatisPool(),  # type: ignore[arg-type]
            key_writer.WriteSettings(4, 4, "CRC32", 4),
            OpenKeySession(1, key, 0),
            ObjectMeta(),
            "o",
        )
        # Three 4-byte blocks: two close in the background, then the third.
        outcome = result(writer.write(b"x" * 12))
        if isinstance(outcome, Failure):
            assert outcome.check(DatanodeUnavailable)
        elif end == "commit":
            done = result(writer.commit("etag"))
            assert isinstance(done, Failure) and done.check(DatanodeUnavailable)
        else:
            assert result(writer.abort()) is None
        assert not om.committed
        del writer, outcome
        gc.collect()
    finally:
        globalLogPublisher.removeObserver(observer)
    unhandled = [e for e in logged if "Unhandled error" in str(e.get("log_format"))]
    assert not unhandled, unhandled
