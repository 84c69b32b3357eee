"""Writing a key to the cluster: Ozone's client write path, streamed.

CreateKey (``open_key``: an open session, blocks pre-allocated for the size
the client declared) -> ``write``: bytes go straight into RATIS WriteChunks of
the current block (at most a few chunks unanswered, so memory stays bounded
whatever the object's size); a full block is closed with PutBlock and the next
one comes from the session or from AllocateBlock -> ``commit``: PutBlock of
the last block, then CommitKey with every block's committed length and BCSID.
A part of a multipart upload is written the same way and committed with
CommitMultiPartUpload instead.  Nothing is visible before CommitKey; an
aborted or failed write leaves an open key and unreferenced blocks, which
the OM's open-key cleanup reclaims.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from ..._deferred import async_to_deferred
from ..model import KeyInfo, ObjectMeta, PartInfo
from .dn_codec import BlockID, CommittedBlock
from .key_meta import CHECKSUM, ozone_metadata
from .om_client import OMClient
from .om_types import KeyBlock, OpenKeySession, Pipeline
from .ratis_client import RatisBlockWriter, RatisClient

# Blocks of one key finishing (last chunks and PutBlock in flight) while the
# next is written: a key's writes flow across block boundaries (with small
# blocks, as the test cluster's 4 MB, 1 gave 72 MB/s, 2: 80, 3: 81).
MAX_CLOSING_BLOCKS = 2


@attrs.frozen
class WriteSettings:
    """How blocks are cut and checksummed (the gateway's ozone-site.xml)."""

    block_size: int
    chunk_size: int
    checksum_type: str
    bytes_per_checksum: int


class RatisPool:
    """One ``RatisClient`` per pipeline, shared by every writer."""

    def __init__(self, reactor: Any, deadline: float) -> None:
        self.reactor = reactor
        self.deadline = deadline
        self._clients: dict[str, RatisClient] = {}

    def client(self, pipeline: Pipeline) -> RatisClient:
        peers = {m.uuid: m.address("RATIS") for m in pipeline.members}
        client = self._clients.get(pipeline.id)
        if client is None or client.peers != peers:
            if client is not None:
                client.close()
            client = RatisClient(
                self.reactor,
                pipeline.id,
                peers,
                leader=pipeline.leader_id or None,
                deadline=self.deadline,
            )
            self._clients[pipeline.id] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


class ClusterKeyWriter:
    """An open key on the cluster (the storage interface's ``KeyWriter``)."""

    def __init__(
        self,
        om: OMClient,
        ratis: RatisPool,
        settings: WriteSettings,
        session: OpenKeySession,
        meta: ObjectMeta,
        owner: str,
    ) -> None:
        self._om = om
        self._ratis = ratis
        self._settings = settings
        self._session = session
        self._meta = meta
        self._owner = owner
        self._spare = list(session.blocks)  # pre-allocated by CreateKey
        self._written: list[KeyBlock] = []  # closed blocks, as CommitKey wants
        # Blocks whose last chunks and PutBlock are still on their way: the
        # next block's writes start at once instead of waiting for them.
        self._closing: list[tuple[KeyBlock, Deferred[CommittedBlock]]] = []
        self._block: KeyBlock | None = None
        self._writer: RatisBlockWriter | None = None
        self._in_block = 0
        self.size = 0

    @async_to_deferred
    async def write(self, data: bytes, last: bool = False) -> None:
        view = memoryview(data)
        while view:
            if self._writer is None:
                await self._next_block()
            assert self._writer is not None
            room = self._settings.block_size - self._in_block
            piece = view[:room]
            await self._writer.write(piece)
            self._in_block += len(piece)
            self.size += len(piece)
            view = view[len(piece) :]
            if self._in_block >= self._settings.block_size:
                await self._close_block()
        if last and self._writer is not None:
            await self._close_block()

    async def _next_block(self) -> None:
        block = (
            self._spare.pop(0)
            if self._spare
            else await self._om.allocate_block(self._session)
        )
        if block.pipeline is None or not block.pipeline.members:
            raise ValueError("the OM allocated a block without a pipeline")
        self._block = block
        self._writer = RatisBlockWriter(
            self._ratis.client(block.pipeline),
            BlockID(block.container_id, block.local_id),
            block.pipeline.members[0].uuid,
            chunk_size=self._settings.chunk_size,
            checksum_type=self._settings.checksum_type,
            bytes_per_checksum=self._settings.bytes_per_checksum,
        )
        self._in_block = 0

    async def _close_block(self) -> None:
        writer, block = self._writer, self._block
        assert writer is not None and block is not None
        self._writer = self._block = None
        self._closing.append((block, Deferred.fromCoroutine(writer.finish())))
        while len(self._closing) > MAX_CLOSING_BLOCKS:
            await self._closed_oldest()

    async def _closed_oldest(self) -> None:
        block, finishing = self._closing.pop(0)
        try:
            committed = await finishing
        except BaseException:
            self._forget_closing()  # the key has failed: nobody awaits them now
            raise
        self._written.append(
            attrs.evolve(
                block,
                offset=0,
                length=committed.length,
                bcsid=committed.block_id.bcsid,
            )
        )

    def _forget_closing(self) -> None:
        """Stop waiting for the blocks still closing: their failures, if any,
        are this failed key's and not to be logged as unhandled."""
        for _, finishing in self._closing:
            finishing.addErrback(lambda _: None)
        self._closing.clear()

    @async_to_deferred
    async def commit(self, etag: str, checksum: str = "") -> KeyInfo | PartInfo:
        if self._writer is not None:
            await self._close_block()
        while self._closing:
            await self._closed_oldest()
        extra: Mapping[str, str] = {CHECKSUM: checksum} if checksum else {}
        k = self._session.key
        if self._session.part is not None:
            # The OM's part commit; the part's ETag rides in its metadata.
            await self._om.commit_part(
                self._session, self._written, self.size, etag, extra
            )
            return PartInfo(self._session.part[1], self.size, etag, k.modified,
                            checksum)  # fmt: skip
        metadata = {**ozone_metadata(self._meta, etag), **extra}
        await self._om.commit_key(
            self._session, self._written, self.size, metadata=metadata
        )
        return KeyInfo(
            k.bucket,
            k.name,
            self.size,
            etag,
            # The OM sets the time at commit; the session's is close enough
            # for the PUT's answer (a HEAD reads the OM's).
            k.modified,
            self._meta,
            checksum=checksum,
            owner=self._owner,
        )

    def abort(self) -> Deferred[None]:
        # Ozone's clients send nothing either: the open key expires
        # (ozone.om.open.key.expire.threshold) and its blocks are reclaimed.
        if self._writer is not None:
            self._writer.abort()
            self._writer = self._block = None
        self._forget_closing()
        d: Deferred[None] = Deferred()
        d.callback(None)
        return d
