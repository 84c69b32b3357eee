"""One block's data through a ``RatisClient``: WriteChunks of ``chunk_size``
(with Ozone's ChecksumData per ``bytes_per_checksum``), a PutBlock (not eof)
every ``flush_size``, then one PutBlock (the cumulative chunk list, eof)
whose reply gives the committed length and BCSID for CommitKey.

    client = RatisClient(reactor, pipeline_id, {dn_uuid: "127.0.0.1:9858"})
    writer = RatisBlockWriter(client, BlockID(container_id, local_id), dn_uuid)
    await writer.write(data)                # as often as needed
    committed = await writer.finish()       # block_id (with its bcsid), length
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from . import checksum, dn_codec
from .dn_codec import BlockID, Chunk, CommittedBlock
from .dn_errors import DatanodeError
from .ratis_client import DEFAULT_CHUNK_SIZE, RatisClient, RatisReply


class RatisBlockWriter:
    """One block's data through ``client``: WriteChunk every ``chunk_size``
    bytes (at most ``max_in_flight`` unanswered, so memory stays within about
    ``(max_in_flight + 1) * chunk_size``), PutBlock at ``finish``.

    Every ``flush_size`` bytes a PutBlock (not eof) makes what is written so
    far part of the block for good (``acked``), as Java's client flushes; the
    bytes after it are kept (``unacknowledged``) until a later PutBlock is
    answered, so that a block that fails (its container closed, its pipeline
    gone) can end at ``acked`` and the rest be written again elsewhere."""

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
        flush_size: int = 4 * DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.client = client
        self.block = block
        self.datanode_uuid = datanode_uuid
        self.chunk_size = chunk_size
        self.checksum_type = checksum_type
        self.bytes_per_checksum = bytes_per_checksum
        self.max_in_flight = max_in_flight
        self.flush_size = max(flush_size, chunk_size)
        self.chunks: list[Chunk] = []
        self.length = 0  # bytes handed to WriteChunk so far
        # What has come since the last chunk was cut (never a chunk's worth).
        self._pending: list[bytes | bytearray | memoryview] = []
        self._pending_size = 0
        self._in_flight: list[Deferred[Any]] = []
        self._finished = False
        # The block as the last answered PutBlock made it (None: none yet),
        # and the chunks written since, with their bytes.
        self.acked: CommittedBlock | None = None
        self._retained: list[tuple[int, bytes | memoryview]] = []
        self._flushed_at = 0

    @property
    def acked_length(self) -> int:
        return 0 if self.acked is None else self.acked.length

    def unacknowledged(self) -> list[bytes | bytearray | memoryview]:
        """Every byte handed to ``write`` past ``acked``, in order."""
        start = self.acked_length
        out: list[bytes | bytearray | memoryview] = [
            data[max(0, start - offset) :]
            for offset, data in self._retained
            if offset + len(data) > start
        ]
        return out + list(self._pending)

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("block already finished")
        view = memoryview(data).cast("B")
        if view:
            # Kept as given (the caller does not reuse what it hands over),
            # before anything can fail: ``unacknowledged`` has it all.
            self._pending.append(view)
            self._pending_size += len(view)
        while self._pending_size >= self.chunk_size:
            await self._write_chunk(self._cut(self.chunk_size))

    def _cut(self, size: int) -> bytes:
        """The first ``size`` pending bytes, joined (the one copy)."""
        parts: list[bytes | bytearray | memoryview] = []
        need = size
        while need:
            head = memoryview(self._pending[0]).cast("B")
            if len(head) <= need:
                parts.append(head)
                self._pending.pop(0)
                need -= len(head)
            else:
                parts.append(head[:need])
                self._pending[0] = head[need:]
                need = 0
        self._pending_size -= size
        return b"".join(parts)

    async def _write_chunk(self, data: bytes) -> None:
        # Taken out of pending and retained at once: nothing lost on failure.
        offset = self.length
        self._retained.append((offset, data))
        while len(self._in_flight) >= self.max_in_flight:
            await self._in_flight.pop(0)
        chunk = Chunk(
            dn_codec.chunk_name(self.block.local_id, len(self.chunks) + 1),
            offset,
            len(data),
            checksum.compute(data, self.checksum_type, self.bytes_per_checksum),
        )
        request = dn_codec.write_chunk_request(
            self.block, chunk, b"", self.datanode_uuid
        )
        # The Ratis message carries the bytes after its header: the copy
        # kept for a fail-over is that message's tail, not another copy.
        content = dn_codec.container_message(request, data)
        # (Still the last retained, unless the block was aborted meanwhile:
        # writes do not overlap, and no PutBlock answered since covers it.)
        if data and self._retained and self._retained[-1][0] == offset:
            self._retained[-1] = (offset, memoryview(content)[-len(data) :])
        self._in_flight.append(self.client.submit_message(content))
        self.chunks.append(chunk)
        self.length += len(data)
        if self.length - self._flushed_at >= self.flush_size:
            self._in_flight.append(self._put_block(eof=False))

    def _put_block(self, eof: bool) -> Deferred[CommittedBlock]:
        self._flushed_at = self.length
        request = dn_codec.put_block_request(
            self.block, self.chunks, eof, self.datanode_uuid
        )
        return self.client.submit(request).addCallback(self._put_block_answered)

    def _put_block_answered(self, reply: RatisReply) -> CommittedBlock:
        committed = dn_codec.committed_block(reply.response)
        if committed.length > self.acked_length:
            self.acked = committed
            start = committed.length
            self._retained = [
                (offset, data)
                for offset, data in self._retained
                if offset + len(data) > start
            ]
        return committed

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
        put_block = self._put_block(eof=True)
        try:
            while self._in_flight:
                await self._in_flight.pop(0)
        except BaseException:
            put_block.addErrback(lambda _: None)  # the block is failed already
            self._forget_in_flight()
            raise
        committed = await put_block
        if committed.length != self.length:
            raise DatanodeError(
                "COMMITTED_LENGTH_MISMATCH",
                f"PutBlock committed {committed.length} bytes of {self.length} written",
            )
        self._retained = []
        return committed

    def _forget_in_flight(self) -> None:
        for d in self._in_flight:
            d.addErrback(lambda _: None)
        self._in_flight.clear()

    def abort(self) -> None:
        """Give the block up: what is buffered is dropped, the answers to the
        WriteChunks in flight are awaited by nobody (their errors are not
        logged as unhandled).  The OM reclaims the block if it is never
        committed."""
        self._finished = True
        self._pending.clear()
        self._pending_size = 0
        self._retained = []
        self._forget_in_flight()
