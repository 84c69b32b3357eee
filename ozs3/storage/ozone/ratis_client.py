"""Writing blocks to a RATIS pipeline through Ratis' client protocol.

``RatisClient``: one per pipeline (Raft group id = pipeline id).  Container
commands travel as ``ContainerCommandRequestMessage`` contents in ordered write
requests on one ``/ratis.grpc.RaftClientProtocolService/ordered`` stream to the
leader's RATIS port; replies come back in order, each with the command's
``ContainerCommandResponseProto`` and the Raft log index.  Every request has a
deadline.

``RatisBlockWriter``: a block's data as WriteChunks of ``chunk_size`` (with
ChecksumData per ``bytes_per_checksum``), then one PutBlock (the cumulative chunk
list, eof) whose reply gives the committed length and BCSID for CommitKey.

    client = RatisClient(reactor, pipeline_id, {dn_uuid: "127.0.0.1:9858"})
    writer = RatisBlockWriter(client, BlockID(container_id, local_id), dn_uuid)
    await writer.write(data)                # as often as needed
    committed = await writer.finish()       # block_id (with its bcsid), length

THREE pipelines, not done yet: a NotLeader reply records the suggested leader
(the next stream goes there) and fails the request; Java's client instead
resends every unanswered request, with its call id, on a new stream to the new
leader (Ratis' retry cache de-duplicates).  Likewise a broken stream fails what
was pending rather than resending it.  A reply already means the write is
committed by a majority and applied on the leader; ``watch`` for ALL_COMMITTED
(what Java does before freeing buffers) is not sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred

from . import checksum, dn_codec
from .dn_codec import BlockID, Chunk, CommittedBlock
from .dn_errors import (
    DatanodeDeadlineExceeded,
    DatanodeError,
    DatanodeUnavailable,
    NotLeader,
)
from .dn_transport import ordered_stream, ratis_channel
from .grpc_twisted import close_channel
from .proto import datanode_pb2 as dn

DEFAULT_DEADLINE = 60.0
DEFAULT_CHUNK_SIZE = (
    4 * 1024 * 1024
)  # ozone.client.stream.buffer.size / ozone.scm.chunk.size


@dataclass(frozen=True)
class RatisReply:
    response: dn.ContainerCommandResponseProto
    log_index: int


class _Stream:
    """One ordered stream and the requests waiting for their replies on it."""

    def __init__(self, owner: RatisClient, peer_id: str, address: str) -> None:
        self.owner = owner
        self.peer_id = peer_id
        self.address = address
        self.next_seq = 1
        self.pending: dict[int, tuple[Deferred[RatisReply], Any]] = {}
        self.ended = False
        self.transport = ordered_stream(
            owner.reactor, owner.channel(address), address, self.on_reply, self.on_end
        )

    def on_reply(self, reply: Any) -> None:
        entry = self.pending.pop(reply.rpcReply.callId, None)
        if entry is None:
            return  # its deadline passed already
        d, timer = entry
        timer.cancel()
        error = dn_codec.raft_reply_error(reply, self.address)
        if error is None:
            try:
                response = dn.ContainerCommandResponseProto.FromString(
                    reply.message.content
                )
                dn_codec.check(response, self.address)
            except Exception as e:
                error = e
            else:
                d.callback(RatisReply(response, reply.logIndex))
                return
        if isinstance(error, NotLeader):
            self.owner.note_leader(error.suggested_leader)
            self.fail(error)
        d.errback(error)

    def on_end(self, error: Exception | None) -> None:
        self.fail(error or DatanodeUnavailable(f"ratis stream to {self.address} ended"))

    def fail(self, error: Exception) -> None:
        """End this stream: every request still waiting fails with ``error``."""
        if not self.ended:
            self.ended = True
            self.transport.cancel()
            self.owner.stream_ended(self)
        pending, self.pending = self.pending, {}
        for d, timer in pending.values():
            if timer.active():
                timer.cancel()
            d.errback(error)


class RatisClient:
    """Ordered writes to one Raft group.  ``peers``: datanode UUID -> host:port
    of its RATIS (client) port; ``leader``: the pipeline's leader UUID if the
    OM said (else the first peer)."""

    def __init__(
        self,
        reactor: Any,
        pipeline_id: str,
        peers: Mapping[str, str],
        *,
        leader: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
        client_id: bytes | None = None,
        replication: str = "MAJORITY",
    ) -> None:
        if not peers:
            raise ValueError("a pipeline needs at least one peer")
        self.reactor = reactor
        self.pipeline_id = pipeline_id
        self.peers = dict(peers)
        self.leader = leader if leader in self.peers else next(iter(self.peers))
        self.deadline = deadline
        self.replication = replication
        # Ratis' ClientId: 16 random bytes; with the call id it keys the
        # server's retry cache.
        self.client_id = client_id or uuid.uuid4().bytes
        self._call_id = 0
        self._stream: _Stream | None = None
        self._channels: dict[str, Any] = {}

    def channel(self, address: str) -> Any:
        if address not in self._channels:
            self._channels[address] = ratis_channel(self.reactor, address)
        return self._channels[address]

    def note_leader(self, peer_id: str | None) -> None:
        if peer_id in self.peers:
            self.leader = peer_id

    def stream_ended(self, stream: _Stream) -> None:
        if self._stream is stream:
            self._stream = None

    def submit(
        self, request: dn.ContainerCommandRequestProto, data: bytes | memoryview = b""
    ) -> Deferred[RatisReply]:
        """Send a container command as an ordered Raft write; its reply (a
        failure: the mapped storage error) within the deadline."""
        stream = self._stream
        if stream is None:
            stream = self._stream = _Stream(self, self.leader, self.peers[self.leader])
        self._call_id += 1
        call_id = self._call_id
        seq = stream.next_seq
        stream.next_seq += 1
        raft_request = dn_codec.raft_write_request(
            client_id=self.client_id,
            peer_id=stream.peer_id,
            group_id=self.pipeline_id,
            call_id=call_id,
            seq_num=seq,
            is_first=seq == 1,
            content=dn_codec.container_message(request, data),
            replication=self.replication,
        )
        d: Deferred[RatisReply] = Deferred()
        timer = self.reactor.callLater(self.deadline, self._expire, stream, call_id)
        stream.pending[call_id] = (d, timer)
        stream.transport.send(raft_request)
        return d

    def _expire(self, stream: _Stream, call_id: int) -> None:
        # The stream's order is unknown from here on: end it, and with it every
        # other request still waiting on it.
        stream.fail(
            DatanodeDeadlineExceeded(
                f"ratis {stream.address}: no reply to call {call_id} "
                f"in {self.deadline} s"
            )
        )

    def close(self) -> None:
        if self._stream is not None:
            self._stream.fail(DatanodeUnavailable("ratis client closed"))
        for channel in self._channels.values():
            close_channel(channel)
        self._channels.clear()


class RatisBlockWriter:
    """One block's data through ``client``: WriteChunk every ``chunk_size``
    bytes (at most ``max_in_flight`` unanswered, so memory stays within about
    ``(max_in_flight + 1) * chunk_size``), PutBlock at ``finish``."""

    def __init__(
        self,
        client: RatisClient,
        block: BlockID,
        datanode_uuid: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        checksum_type: str = checksum.DEFAULT_TYPE,
        bytes_per_checksum: int = checksum.DEFAULT_BYTES_PER_CHECKSUM,
        max_in_flight: int = 4,
    ) -> None:
        self.client = client
        self.block = block
        self.datanode_uuid = datanode_uuid
        self.chunk_size = chunk_size
        self.checksum_type = checksum_type
        self.bytes_per_checksum = bytes_per_checksum
        self.max_in_flight = max_in_flight
        self.chunks: list[Chunk] = []
        self.length = 0  # bytes handed to WriteChunk so far
        # What has come since the last chunk was cut (never a chunk's worth).
        self._pending: list[bytes | bytearray | memoryview] = []
        self._pending_size = 0
        self._in_flight: list[Deferred[RatisReply]] = []
        self._finished = False

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("block already finished")
        view = memoryview(data).cast("B")
        while self._pending_size + len(view) >= self.chunk_size:
            take = self.chunk_size - self._pending_size
            piece = b"".join([*self._pending, view[:take]])  # the one copy
            self._pending.clear()
            self._pending_size = 0
            view = view[take:]
            await self._write_chunk(piece)
        if view:
            # Kept as given: the caller does not reuse what it hands over.
            self._pending.append(view)
            self._pending_size += len(view)

    async def _write_chunk(self, data: bytes) -> None:
        while len(self._in_flight) >= self.max_in_flight:
            await self._in_flight.pop(0)
        chunk = Chunk(
            dn_codec.chunk_name(self.block.local_id, len(self.chunks) + 1),
            self.length,
            len(data),
            checksum.compute(data, self.checksum_type, self.bytes_per_checksum),
        )
        request = dn_codec.write_chunk_request(
            self.block, chunk, b"", self.datanode_uuid
        )
        self._in_flight.append(self.client.submit(request, data))
        self.chunks.append(chunk)
        self.length += len(data)

    async def finish(self) -> CommittedBlock:
        """Write what is buffered, then PutBlock (eof) at once, behind the
        WriteChunks on the ordered stream (as Java's client pipelines it; the
        datanode applies them in order): the committed block (its BCSID in
        ``block_id.bcsid``) and length, once every reply has come.  Any
        WriteChunk that failed fails the block, whatever PutBlock says."""
        if self._finished:
            raise ValueError("block already finished")
        self._finished = True
        if self._pending:
            piece = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            await self._write_chunk(piece)
        request = dn_codec.put_block_request(
            self.block, self.chunks, True, self.datanode_uuid
        )
        put_block = self.client.submit(request)
        try:
            while self._in_flight:
                await self._in_flight.pop(0)
        except BaseException:
            put_block.addErrback(lambda _: None)  # the block is failed already
            self.abort()
            raise
        reply = await put_block
        committed = dn_codec.committed_block(reply.response)
        if committed.length != self.length:
            raise DatanodeError(
                "COMMITTED_LENGTH_MISMATCH",
                f"PutBlock committed {committed.length} bytes of {self.length} written",
            )
        return committed

    def abort(self) -> None:
        """Give the block up: what is buffered is dropped, the answers to the
        WriteChunks in flight are awaited by nobody (their errors are not
        logged as unhandled).  The OM reclaims the block if it is never
        committed."""
        self._finished = True
        self._pending.clear()
        self._pending_size = 0
        for d in self._in_flight:
            d.addErrback(lambda _: None)
        self._in_flight.clear()
