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
from twisted.logger import Logger

from ..._deferred import async_to_deferred
from ..errors import StorageError
from ..model import KeyInfo, ObjectMeta, PartInfo
from .dn_codec import BlockID, CommittedBlock
from .dn_errors import DatanodeError, RatisError
from .key_meta import CHECKSUM, ozone_metadata
from .om_client import OMClient
from .om_types import KeyBlock, OpenKeySession, Pipeline
from .ratis_block_writer import RatisBlockWriter
from .ratis_client import RatisClient

# Blocks of one key finishing (last chunks and PutBlock in flight) while the
# next is written: a key's writes flow across block boundaries (with small
# blocks, as the test cluster's 4 MB, 1 gave 72 MB/s, 2: 80, 3: 81).
MAX_CLOSING_BLOCKS = 2
# New blocks one failed block's bytes may go to before the key fails.
MAX_FAILOVERS = 5
# What fails a block but not the key: its container closed, a datanode's
# refusal, the Ratis group's (a leader that died is followed by RatisClient
# itself).  Not a pipeline that answered nothing for a whole deadline
# (DatanodeUnavailable): the request is 503 then, as promised, instead of
# spending more deadlines on blocks elsewhere.
BLOCK_FAILURES = (DatanodeError, RatisError)


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

    log = Logger()

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
        self._closing: list[
            tuple[KeyBlock, RatisBlockWriter, Deferred[CommittedBlock]]
        ] = []
        self._block: KeyBlock | None = None
        self._writer: RatisBlockWriter | None = None
        self._in_block = 0
        self.size = 0
        self.failovers = 0
        # The part of the key the next blocks belong to (-1: not a part):
        # a whole copy of a multipart key keeps its parts.
        self._part_number = -1
        # What failed blocks taught: never allocate there again for this key.
        self._exclude_pipelines: set[str] = set()
        self._exclude_containers: set[int] = set()
        self._exclude_datanodes: set[str] = set()

    @async_to_deferred
    async def write(self, data: bytes, last: bool = False) -> None:
        view = memoryview(data)
        while view:
            if self._writer is None:
                await self._next_block()
            assert self._writer is not None
            room = self._settings.block_size - self._in_block
            piece = view[:room]
            try:
                await self._writer.write(piece)
            except BLOCK_FAILURES as e:
                # The block failed under this write (the piece is in it,
                # unacknowledged): end it where it was acknowledged and
                # write the rest elsewhere.
                writer, block = self._writer, self._block
                assert block is not None
                self._writer = self._block = None
                while self._closing:
                    await self._closed_oldest()
                await self._fail_over(block, writer, e)
            else:
                if self._in_block + len(piece) >= self._settings.block_size:
                    await self._close_block()
                else:
                    self._in_block += len(piece)
            self.size += len(piece)
            view = view[len(piece) :]
        if last and self._writer is not None:
            await self._close_block()

    async def _next_block(self) -> None:
        # Blocks CreateKey allocated where a block of this key failed since
        # are dropped (the OM reclaims them with the open key).
        self._spare = [
            b
            for b in self._spare
            if b.container_id not in self._exclude_containers
            and (b.pipeline is None or b.pipeline.id not in self._exclude_pipelines)
        ]
        block = self._spare.pop(0) if self._spare else await self._allocate()
        self._block = attrs.evolve(block, part_number=self._part_number)
        self._writer = self._block_writer(block)
        self._in_block = 0

    @async_to_deferred
    async def start_part(self, number: int) -> None:
        """The bytes written from here on are part ``number`` of the key, in
        blocks of their own (the block being written is closed first): the
        OM keeps each block's part number, so a whole copy of a multipart
        key serves its parts as the source did."""
        if self._writer is not None:
            await self._close_block()
        self._part_number = number

    async def _allocate(self) -> KeyBlock:
        try:
            block = await self._om.allocate_block(
                self._session,
                exclude_datanodes=sorted(self._exclude_datanodes),
                exclude_containers=sorted(self._exclude_containers),
                exclude_pipelines=sorted(self._exclude_pipelines),
            )
        except StorageError:
            if not self._exclude_datanodes:
                raise
            # No pipeline without those datanodes (three datanodes, one
            # down): one that still has a majority of live members will do.
            self._exclude_datanodes.clear()
            return await self._allocate()
        if block.pipeline is None or not block.pipeline.members:
            raise ValueError("the OM allocated a block without a pipeline")
        return block

    def _block_writer(self, block: KeyBlock) -> RatisBlockWriter:
        assert block.pipeline is not None
        return RatisBlockWriter(
            self._ratis.client(block.pipeline),
            BlockID(block.container_id, block.local_id),
            block.pipeline.members[0].uuid,
            chunk_size=self._settings.chunk_size,
            checksum_type=self._settings.checksum_type,
            bytes_per_checksum=self._settings.bytes_per_checksum,
        )

    async def _fail_over(
        self, block: KeyBlock, writer: RatisBlockWriter | None, error: Exception
    ) -> None:
        """``block`` failed: keep what its datanodes acknowledged (the last
        answered PutBlock), and write the bytes past it to new blocks,
        allocated away from the failed container, pipeline and datanodes
        (the ExcludeList, as Ozone's client does).  Called in key order:
        every block before ``block`` is in ``_written`` already."""
        assert writer is not None
        rest = writer.unacknowledged()
        acked = writer.acked
        writer.abort()
        if acked is not None and acked.length:
            self._written.append(self._closed(block, acked))
        for _ in range(MAX_FAILOVERS):
            self.failovers += 1
            self._learn(block, writer)
            self.log.warn(
                "block {c}/{l} failed ({error}); {n} bytes go to a new block",
                c=block.container_id, l=block.local_id, error=error,
                n=sum(len(p) for p in rest),
            )  # fmt: skip
            block = attrs.evolve(await self._allocate(), part_number=block.part_number)
            writer = self._block_writer(block)
            given = 0
            try:
                for piece in rest:
                    given += 1
                    await writer.write(piece)
                committed = await writer.finish()
            except BLOCK_FAILURES as e:
                error = e
                # Past what this block acknowledged: what it was given
                # (the failing piece included) and what it was not.
                rest = writer.unacknowledged() + rest[given:]
                if writer.acked is not None and writer.acked.length:
                    self._written.append(self._closed(block, writer.acked))
                writer.abort()
                continue
            self._written.append(self._closed(block, committed))
            return
        raise error

    def _learn(self, block: KeyBlock, writer: RatisBlockWriter) -> None:
        self._exclude_containers.add(block.container_id)
        if block.pipeline is not None:
            self._exclude_pipelines.add(block.pipeline.id)
        self._exclude_datanodes.update(writer.client.unreachable)

    @staticmethod
    def _closed(block: KeyBlock, committed: CommittedBlock) -> KeyBlock:
        return attrs.evolve(
            block, offset=0, length=committed.length, bcsid=committed.block_id.bcsid
        )

    async def _close_block(self) -> None:
        writer, block = self._writer, self._block
        assert writer is not None and block is not None
        self._writer = self._block = None
        finishing = Deferred.fromCoroutine(writer.finish())
        self._closing.append((block, writer, finishing))
        while len(self._closing) > MAX_CLOSING_BLOCKS:
            await self._closed_oldest()

    async def _closed_oldest(self) -> None:
        block, writer, finishing = self._closing.pop(0)
        try:
            committed = await finishing
        except BLOCK_FAILURES as e:
            try:
                await self._fail_over(block, writer, e)
            except BaseException:
                self._forget_closing()  # the key has failed
                raise
            return
        except BaseException:
            self._forget_closing()  # the key has failed: nobody awaits them now
            raise
        self._written.append(self._closed(block, committed))

    def _forget_closing(self) -> None:
        """Stop waiting for the blocks still closing: their failures, if any,
        are this failed key's and not to be logged as unhandled."""
        for _, _, finishing in self._closing:
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
