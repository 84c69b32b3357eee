"""Datanode container commands and Ratis client requests, built and read as
plain Python values (pure: no I/O, no Twisted).

- ``ContainerCommandRequestProto`` builders for GetBlock / ReadChunk (sent over
  the STANDALONE port's ``XceiverClientProtocolService/send``) and WriteChunk /
  PutBlock (sent through Ratis).
- ``container_message``: Ozone's ``ContainerCommandRequestMessage`` encoding of a
  command as a Ratis message: ``[4-byte big-endian header length][the command
  without its chunk data][the chunk data]``; ``version`` set to ClientVersion
  CURRENT when absent, ``pipelineID`` left out (the datanode fills it from the
  Raft group id).
- ``raft_write_request``: the ``RaftClientRequestProto`` around it.
- Replies: ``check`` raises the mapped error for a result other than SUCCESS;
  ``raft_reply_error`` the error a Raft reply carries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from .checksum import ChecksumData
from .dn_errors import LeaderNotReady, NotLeader, RatisError, result_error
from .proto import datanode_pb2 as dn
from .proto import ratis_pb2 as raft

# ClientVersion.CURRENT (Ozone 2.2): what Java puts in ``version`` when unset.
CLIENT_VERSION = 3
# Block metadata Ozone's BlockOutputStream writes with every PutBlock.
BLOCK_METADATA = (("TYPE", "KEY"),)


@dataclass(frozen=True)
class BlockID:
    """A block on a datanode (Ozone's ``DatanodeBlockID``)."""

    container_id: int
    local_id: int
    bcsid: int = 0  # blockCommitSequenceId: the Raft index of its last PutBlock
    replica_index: int | None = None  # EC only


@dataclass(frozen=True)
class Chunk:
    """One chunk of a block, as GetBlock lists it: ``offset`` is its position in
    the block, ``checksums`` its ChecksumData."""

    name: str
    offset: int
    length: int
    checksums: ChecksumData
    # EC: the checksums of the stripe's cells, on replica 1's and the parity
    # replicas' chunks (as Ozone's EC writer keeps them; for file checksums).
    stripe_checksum: bytes = b""

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True)
class BlockInfo:
    """A block's committed state (GetBlock's BlockData)."""

    block_id: BlockID
    chunks: tuple[Chunk, ...]
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def length(self) -> int:
        return sum(c.length for c in self.chunks)


@dataclass(frozen=True)
class CommittedBlock:
    """PutBlock's answer: the block's committed length and its BCSID (what the
    OM's CommitKey wants in the KeyLocation)."""

    block_id: BlockID
    length: int


# --- conversions -------------------------------------------------------------


def block_id_proto(block: BlockID) -> dn.DatanodeBlockID:
    msg = dn.DatanodeBlockID(
        containerID=block.container_id,
        localID=block.local_id,
        blockCommitSequenceId=block.bcsid,
    )
    if block.replica_index is not None:
        msg.replicaIndex = block.replica_index
    return msg


def block_id_from_proto(msg: dn.DatanodeBlockID) -> BlockID:
    return BlockID(
        msg.containerID,
        msg.localID,
        msg.blockCommitSequenceId,
        msg.replicaIndex if msg.HasField("replicaIndex") else None,
    )


def checksum_data_proto(data: ChecksumData) -> dn.ChecksumData:
    return dn.ChecksumData(
        type=dn.ChecksumType.Value(data.type),
        bytesPerChecksum=data.bytes_per_checksum,
        checksums=list(data.checksums),
    )


def checksum_data_from_proto(msg: dn.ChecksumData) -> ChecksumData:
    return ChecksumData(
        dn.ChecksumType.Name(msg.type), msg.bytesPerChecksum, tuple(msg.checksums)
    )


def chunk_proto(chunk: Chunk) -> dn.ChunkInfo:
    msg = dn.ChunkInfo(
        chunkName=chunk.name,
        offset=chunk.offset,
        len=chunk.length,
        checksumData=checksum_data_proto(chunk.checksums),
    )
    if chunk.stripe_checksum:
        msg.stripeChecksum = chunk.stripe_checksum
    return msg


def chunk_from_proto(msg: dn.ChunkInfo) -> Chunk:
    return Chunk(
        msg.chunkName, msg.offset, msg.len, checksum_data_from_proto(msg.checksumData)
    )


def chunk_name(local_id: int, index: int) -> str:
    """Ozone's chunk names: ``<localID>_chunk_<n>``, n from 1 (BlockOutputStream)."""
    return f"{local_id}_chunk_{index}"


# --- requests ----------------------------------------------------------------


def _command(
    cmd: str, block: BlockID, datanode_uuid: str
) -> dn.ContainerCommandRequestProto:
    return dn.ContainerCommandRequestProto(
        cmdType=dn.Type.Value(cmd),
        containerID=block.container_id,
        datanodeUuid=datanode_uuid,
        version=CLIENT_VERSION,
    )


def get_block_request(
    block: BlockID, datanode_uuid: str
) -> dn.ContainerCommandRequestProto:
    request = _command("GetBlock", block, datanode_uuid)
    request.getBlock.blockID.CopyFrom(block_id_proto(block))
    return request


def read_chunk_request(
    block: BlockID, chunk: Chunk, start: int, end: int, datanode_uuid: str
) -> dn.ContainerCommandRequestProto:
    """ReadChunk of bytes ``[start, end)`` of ``chunk`` (relative to the chunk):
    the chunk's info narrowed to that range, replies split per checksum window
    (V1), as Java's ChunkInputStream asks."""
    request = _command("ReadChunk", block, datanode_uuid)
    body = request.readChunk
    body.blockID.CopyFrom(block_id_proto(block))
    body.chunkData.CopyFrom(chunk_proto(chunk))
    body.chunkData.offset = chunk.offset + start
    body.chunkData.len = end - start
    body.readChunkVersion = dn.V1
    return request


def write_chunk_request(
    block: BlockID,
    chunk: Chunk,
    data: bytes | memoryview,
    datanode_uuid: str,
) -> dn.ContainerCommandRequestProto:
    request = _command("WriteChunk", block, datanode_uuid)
    body = request.writeChunk
    body.blockID.CopyFrom(block_id_proto(block))
    body.chunkData.CopyFrom(chunk_proto(chunk))
    body.data = bytes(data)
    return request


def put_block_request(
    block: BlockID,
    chunks: Sequence[Chunk],
    eof: bool,
    datanode_uuid: str,
    metadata: Sequence[tuple[str, str]] = (),
) -> dn.ContainerCommandRequestProto:
    """PutBlock with the block's whole chunk list so far (Ozone's cumulative
    list); ``metadata`` after Ozone's own (an EC block's group length)."""
    request = _command("PutBlock", block, datanode_uuid)
    data = request.putBlock.blockData
    data.blockID.CopyFrom(block_id_proto(block))
    for key, value in (*BLOCK_METADATA, *metadata):
        data.metadata.add(key=key, value=value)
    data.chunks.extend(chunk_proto(c) for c in chunks)
    data.size = sum(c.length for c in chunks)
    request.putBlock.eof = eof
    return request


def container_message(
    request: dn.ContainerCommandRequestProto, data: bytes | memoryview = b""
) -> bytes:
    """The Ratis message content for a container command
    (``ContainerCommandRequestMessage.toMessage``): the chunk data travels after
    the header instead of inside it.  ``data``: a WriteChunk's bytes, given
    apart so that they are copied once, here (``request`` is then sent as it
    is, its version set if missing); else they are moved out of ``request``."""
    if not data and request.cmdType == dn.WriteChunk and request.writeChunk.data:
        header = dn.ContainerCommandRequestProto()
        header.CopyFrom(request)
        data = header.writeChunk.data
        header.writeChunk.ClearField("data")
        request = header
    if not request.HasField("version"):
        request.version = CLIENT_VERSION
    encoded = request.SerializeToString()
    return b"".join((len(encoded).to_bytes(4, "big"), encoded, data))


def container_message_parts(
    content: bytes,
) -> tuple[dn.ContainerCommandRequestProto, bytes]:
    """The inverse (``ContainerCommandRequestMessage.toProto`` without the group
    id): the header and the data after it.  For tests and fakes."""
    n = int.from_bytes(content[:4], "big")
    header = dn.ContainerCommandRequestProto.FromString(content[4 : 4 + n])
    return header, content[4 + n :]


def group_id_bytes(pipeline_id: str) -> bytes:
    """A Raft group id: the pipeline's UUID as 16 raw bytes (RatisHelper)."""
    return uuid.UUID(pipeline_id).bytes


def raft_write_request(
    *,
    client_id: bytes,
    peer_id: str,
    group_id: str,
    call_id: int,
    seq_num: int,
    is_first: bool,
    content: bytes,
    replication: str = "MAJORITY",
) -> raft.RaftClientRequestProto:
    """An ordered write request of Ratis' client protocol (``RaftClientRequest``
    as Ratis' ``ClientProtoUtils`` encodes it): ``client_id`` the 16-byte client
    id, ``peer_id`` the target peer (a datanode's UUID string, as UTF-8),
    ``group_id`` the pipeline id, ``seq_num``/``is_first`` its place in the
    stream's sliding window."""
    request = raft.RaftClientRequestProto()
    rpc = request.rpcRequest
    rpc.requestorId = client_id
    rpc.replyId = peer_id.encode()
    rpc.raftGroupId.id = group_id_bytes(group_id)
    rpc.callId = call_id
    rpc.toLeader = True
    rpc.slidingWindowEntry.seqNum = seq_num
    rpc.slidingWindowEntry.isFirst = is_first
    request.message.content = content
    request.write.replication = raft.ReplicationLevel.Value(replication)
    return request


# --- replies -----------------------------------------------------------------


def result_name(response: dn.ContainerCommandResponseProto) -> str:
    if not response.HasField("result"):  # a value newer than our enum
        return "UNKNOWN"
    return dn.Result.Name(response.result)


def check(response: dn.ContainerCommandResponseProto, address: str = "") -> None:
    """Raise the mapped storage error unless the command succeeded."""
    name = result_name(response)
    if name != "SUCCESS":
        raise result_error(name, response.message, address)


def block_info(response: dn.ContainerCommandResponseProto) -> BlockInfo:
    data = response.getBlock.blockData
    return BlockInfo(
        block_id_from_proto(data.blockID),
        tuple(chunk_from_proto(c) for c in data.chunks),
        tuple((kv.key, kv.value) for kv in data.metadata),
    )


def read_chunk_buffers(response: dn.ContainerCommandResponseProto) -> list[bytes]:
    """The data of a ReadChunk reply: V1's buffers, or V0's single buffer."""
    body = response.readChunk
    if body.HasField("dataBuffers"):
        return list(body.dataBuffers.buffers)
    return [body.data]


def committed_block(response: dn.ContainerCommandResponseProto) -> CommittedBlock:
    committed = response.putBlock.committedBlockLength
    return CommittedBlock(block_id_from_proto(committed.blockID), committed.blockLength)


def raft_reply_error(
    reply: raft.RaftClientReplyProto, address: str = ""
) -> Exception | None:
    """The error a RaftClientReplyProto carries, or None for a success."""
    kind = reply.WhichOneof("ExceptionDetails")
    if kind is None:
        if not reply.rpcReply.success:
            return RatisError("Failure", "reply without success or exception", address)
        return None
    detail = getattr(reply, kind)
    if kind == "notLeaderException":
        leader = (
            detail.suggestedLeader.id.decode()
            if detail.HasField("suggestedLeader")
            else None
        )
        return NotLeader(f"suggested leader {leader}", address, leader or None)
    if kind in ("stateMachineException", "alreadyClosedException"):
        return RatisError(detail.exceptionClassName, detail.errorMsg, address)
    if kind == "leaderNotReadyException":
        return LeaderNotReady(address)
    if kind == "notReplicatedException":
        return RatisError(
            "NotReplicatedException", f"log index {detail.logIndex}", address
        )
    return RatisError(detail.className, detail.errorMessage, address)
