"""Reading blocks from a datanode: GetBlock, then ReadChunk with every checksum
window verified, a byte range streamed in bounded pieces.

    client = DatanodeClient(reactor, "127.0.0.1:9859", datanode_uuid)
    info = await client.get_block(BlockID(container_id, local_id, bcsid))
    async for piece in client.read_range(info, start, end):
        ...                                 # pieces of at most ``piece_size`` bytes

Reads go over the STANDALONE port for RATIS keys too (as Java's readers do).
Every call has a deadline; a datanode's refusal arrives as the storage error
``dn_errors`` maps its Result to, a checksum that does not match as
``checksum.ChunkChecksumMismatch`` (a ``ChecksumMismatch``).  Writes of
replicated keys: ``ratis_client``; EC cells are written here
(``write_chunk``, ``put_block``: ``ec_writer``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import checksum, dn_codec
from .dn_codec import BlockID, BlockInfo, Chunk
from .dn_transport import xceiver_transport

DEFAULT_DEADLINE = 30.0
# The most bytes one ReadChunk asks for (rounded to checksum windows): what a
# read holds in memory at a time, besides the consumer's own buffers.
DEFAULT_PIECE_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ChunkRead:
    """One ReadChunk of a range read: fetch ``[fetch_start, fetch_end)`` of the
    chunk (window-aligned, so it can be verified), hand on ``[keep_start,
    keep_end)`` (both relative to the chunk)."""

    chunk: Chunk
    fetch_start: int
    fetch_end: int
    keep_start: int
    keep_end: int


def plan_range(
    chunks: Sequence[Chunk], start: int, end: int, piece_size: int
) -> list[ChunkRead]:
    """The ReadChunks that deliver bytes ``[start, end)`` of a block made of
    ``chunks``, each fetching at most ``piece_size`` bytes rounded out to its
    chunk's checksum windows."""
    length = sum(c.length for c in chunks)
    if not 0 <= start <= end <= length:
        raise ValueError(f"range [{start}, {end}) outside a block of {length} bytes")
    reads = []
    for chunk in sorted(chunks, key=lambda c: c.offset):
        lo, hi = max(start, chunk.offset), min(end, chunk.end)
        if lo >= hi:
            continue
        window = chunk.checksums.bytes_per_checksum
        step = max(window, piece_size // window * window)
        pos = lo - chunk.offset
        stop = hi - chunk.offset
        while pos < stop:
            # Pieces end on window multiples, so each later fetch starts on one.
            piece_end = min(stop, (pos // window * window) + step)
            first, last = checksum.aligned_range(pos, piece_end, chunk.length, window)
            reads.append(ChunkRead(chunk, first, last, pos, piece_end))
            pos = piece_end
    return reads


class DatanodeClient:
    """Reads from one datanode (``address`` = host:port of its STANDALONE
    service, ``datanode_uuid`` its id, sent in every command)."""

    def __init__(
        self,
        reactor: Any,
        address: str,
        datanode_uuid: str,
        *,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.address = address
        self.datanode_uuid = datanode_uuid
        self.deadline = deadline
        self._transport = xceiver_transport(reactor, address)

    def close(self) -> None:
        self._transport.close()

    async def _send(self, request: Any) -> Any:
        response = await self._transport.call(request, self.deadline)
        dn_codec.check(response, self.address)
        return response

    async def get_block(self, block: BlockID) -> BlockInfo:
        """The block's committed chunk list.  ``block.bcsid`` is the BCSID the OM
        recorded; a replica that has not reached it answers ReplicaBehind."""
        response = await self._send(
            dn_codec.get_block_request(block, self.datanode_uuid)
        )
        return dn_codec.block_info(response)

    async def read_chunk(
        self, block: BlockID, chunk: Chunk, start: int, end: int
    ) -> bytes:
        """Bytes ``[start, end)`` of ``chunk``, read with the checksum windows
        around them and verified (a mismatch raises ChunkChecksumMismatch)."""
        window = chunk.checksums.bytes_per_checksum
        first, last = checksum.aligned_range(start, end, chunk.length, window)
        response = await self._send(
            dn_codec.read_chunk_request(block, chunk, first, last, self.datanode_uuid)
        )
        buffers = dn_codec.read_chunk_buffers(response)
        data = b"".join(buffers)
        if len(data) != last - first:
            raise checksum.ChunkChecksumMismatch(
                first // window,
                b"",
                b"",
                f"{chunk.name}: {len(data)} bytes read of {last - first} asked",
            )
        checksum.verify(data, chunk.checksums, first // window, what=chunk.name)
        return data[start - first : end - first]

    async def write_chunk(self, block: BlockID, chunk: Chunk, data: bytes) -> None:
        """WriteChunk straight to this datanode: only for EC blocks, whose
        every replica is written by the client (a RATIS block written here
        would reach one replica alone: ``ratis_client``)."""
        await self._send(
            dn_codec.write_chunk_request(block, chunk, data, self.datanode_uuid)
        )

    async def put_block(
        self,
        block: BlockID,
        chunks: Sequence[Chunk],
        eof: bool,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> dn_codec.CommittedBlock:
        """PutBlock straight to this datanode (EC blocks, as ``write_chunk``)."""
        response = await self._send(
            dn_codec.put_block_request(block, chunks, eof, self.datanode_uuid, metadata)
        )
        return dn_codec.committed_block(response)

    async def read_range(
        self,
        info: BlockInfo,
        start: int = 0,
        end: int | None = None,
        piece_size: int = DEFAULT_PIECE_SIZE,
    ) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)`` of the block (``end`` defaults to its length),
        in order, in pieces of at most ``piece_size`` (one ReadChunk each,
        fetched when the consumer asks for the next piece)."""
        stop = info.length if end is None else end
        for read in plan_range(info.chunks, start, stop, piece_size):
            yield await self.read_chunk(
                info.block_id, read.chunk, read.keep_start, read.keep_end
            )
