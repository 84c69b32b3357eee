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
from ozs3.storage.ozone.dn_codec import BlockID, CommittedBlock
from ozs3.storage.ozone.dn_errors import ContainerNotWritable, DatanodeUnavailable
from ozs3.storage.ozone.om_types import (
    Datanode,
    KeyBlock,
    OpenKeySession,
    OzoneKey,
    Pipeline,
)

DN = Datanode("dn-1", "127.0.0.1", "localhost", {"RATIS": 1, "STANDALONE": 2})
PIPELINE = Pipeline("00000000-0000-0000-0000-000000000001", "RATIS", 1, "OPEN", (DN,))


class FakeClient:
    unreachable: set[str] = {"dn-1"}


class FailingBlockWriter:
    """Every block's finish fails, after the writer has moved on; nothing
    of it was acknowledged."""

    def __init__(self, client: Any, block: Any, uuid: str, **kw: Any) -> None:
        self.block = block
        self.client = FakeClient()
        self.given: list[bytes] = []
        self.acked: CommittedBlock | None = None

    async def write(self, data: Any) -> None:
        self.given.append(bytes(data))

    def unacknowledged(self) -> list[bytes]:
        return list(self.given)

    async def finish(self) -> Any:
        raise DatanodeUnavailable(f"block {self.block.local_id} lost")

    def abort(self) -> None:
        pass


class FlakyBlockWriter(FailingBlockWriter):
    """Blocks 1 and 2 fail at finish (their container closed) with their
    first 2 bytes acknowledged; the others (the replacements) succeed."""

    async def finish(self) -> Any:
        data = b"".join(self.given)
        if self.block.local_id in (1, 2):
            self.acked = CommittedBlock(BlockID(1, self.block.local_id, 7), 2)
            raise ContainerNotWritable(
                "CLOSED_CONTAINER_IO", f"block {self.block.local_id} closed"
            )
        return CommittedBlock(BlockID(1, self.block.local_id, 9), len(data))

    def unacknowledged(self) -> list[bytes]:
        data = b"".join(self.given)
        return [data[self.acked.length :]] if self.acked else [data]


class FakeRatisPool:
    def client(self, pipeline: Pipeline) -> None:
        return None


class FakeOM:
    def __init__(self) -> None:
        self.n = 0
        self.committed: list[KeyBlock] | None = None
        self.excludes: list[dict[str, Any]] = []

    def allocate_block(self, session: Any, **exclude: Any) -> Deferred[KeyBlock]:
        self.n += 1
        self.excludes.append(exclude)
        d: Deferred[KeyBlock] = Deferred()
        d.callback(KeyBlock(1, self.n, 0, 4, pipeline=PIPELINE))
        return d

    def commit_key(
        self, session: Any, blocks: Any, *a: Any, **kw: Any
    ) -> Deferred[None]:
        self.committed = list(blocks)
        d: Deferred[None] = Deferred()
        d.callback(None)
        return d


def result(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box
    return box[0]


def new_writer(om: FakeOM) -> key_writer.ClusterKeyWriter:
    key = OzoneKey("s3v", "b", "k", 0, 0.0, 0.0, "RATIS", 1, {})
    return key_writer.ClusterKeyWriter(
        om,  # type: ignore[arg-type]
        FakeRatisPool(),  # type: ignore[arg-type]
        key_writer.WriteSettings(4, 4, "CRC32", 4),
        OpenKeySession(1, key, 0),
        ObjectMeta(),
        "o",
    )


def test_failed_blocks_end_where_acknowledged_and_the_rest_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(key_writer, "RatisBlockWriter", FlakyBlockWriter)
    om = FakeOM()
    writer = new_writer(om)
    assert result(writer.write(b"aaaabbbbcc")) is None
    assert not isinstance(result(writer.commit("etag")), Failure)
    assert om.committed is not None
    # Block 1 (2 of 4 bytes acknowledged), its replacement (the other 2),
    # block 2 likewise, then block 3 (2 bytes), in the key's order.
    laid = [(b.local_id, b.length) for b in om.committed]
    assert laid == [(1, 2), (4, 2), (2, 2), (5, 2), (3, 2)], laid
    assert sum(length for _, length in laid) == 10 and writer.failovers == 2
    # Each replacement was allocated away from what failed.
    assert om.excludes[3]["exclude_containers"] == [1]
    assert om.excludes[3]["exclude_pipelines"] == [PIPELINE.id]
    assert om.excludes[3]["exclude_datanodes"] == ["dn-1"]


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
        writer = new_writer(om)
        # Three 4-byte blocks: two close in the background, then the third;
        # their pipeline answers nothing for a whole deadline: the key fails
        # (503) without trying blocks elsewhere.
        outcome = result(writer.write(b"x" * 12))
        if isinstance(outcome, Failure):
            assert outcome.check(DatanodeUnavailable)
        elif end == "commit":
            done = result(writer.commit("etag"))
            assert isinstance(done, Failure) and done.check(DatanodeUnavailable)
        else:
            assert result(writer.abort()) is None
        assert om.committed is None
        assert om.n == 3  # no block was tried elsewhere
        del writer, outcome
        gc.collect()
    finally:
        globalLogPublisher.removeObserver(observer)
    unhandled = [e for e in logged if "Unhandled error" in str(e.get("log_format"))]
    assert not unhandled, unhandled
