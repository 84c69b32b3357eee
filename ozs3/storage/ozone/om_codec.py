"""OMRequest builders and OMResponse readers: protobuf in, records out.

Pure (protobuf only; no grpc, no Twisted).  Requests are built the way Ozone's
own client builds them (OzoneManagerProtocolClientSideTranslatorPB): every one
carries ``clientId``, ``version`` = ClientVersion.CURRENT and, as Ozone's S3
gateway sends, ``s3Authentication`` with the access id (an unsecured OM checks
no signature but takes the caller's identity from it; GetS3VolumeContext fails
inside the OM without it when called over gRPC).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .om_errors import om_status_error
from .om_types import (
    EXPECTED_GEN_CREATE_IF_ABSENT,
    Datanode,
    EcConfig,
    KeyBlock,
    KeySummary,
    OMServiceInfo,
    OzoneBucket,
    OzoneKey,
    Pipeline,
    Replication,
    S3VolumeContext,
    ServiceList,
)
from .proto import hdds_pb2, om_pb2

# Ozone's ClientVersion.CURRENT in 2.2 (BUCKET_LAYOUT_SUPPORT): lower values make
# the OM strip datanode ports and refuse OBJECT_STORE/FSO buckets.
CLIENT_VERSION = 3

# cmdType -> (OMRequest body field, OMResponse body field).  ListKeysLight's
# request body is listKeysRequest: the body field is not always the Type's value.
BODY_FIELDS: dict[int, tuple[str, str]] = {
    om_pb2.ServiceList: ("serviceListRequest", "ServiceListResponse"),
    om_pb2.GetS3VolumeContext: (
        "getS3VolumeContextRequest",
        "getS3VolumeContextResponse",
    ),
    om_pb2.CreateBucket: ("createBucketRequest", "createBucketResponse"),
    om_pb2.InfoBucket: ("infoBucketRequest", "infoBucketResponse"),
    om_pb2.DeleteBucket: ("deleteBucketRequest", "deleteBucketResponse"),
    om_pb2.ListBuckets: ("listBucketsRequest", "listBucketsResponse"),
    om_pb2.CreateKey: ("createKeyRequest", "createKeyResponse"),
    om_pb2.AllocateBlock: ("allocateBlockRequest", "allocateBlockResponse"),
    om_pb2.CommitKey: ("commitKeyRequest", "commitKeyResponse"),
    om_pb2.LookupKey: ("lookupKeyRequest", "lookupKeyResponse"),
    om_pb2.GetKeyInfo: ("GetKeyInfoRequest", "GetKeyInfoResponse"),
    om_pb2.DeleteKey: ("deleteKeyRequest", "deleteKeyResponse"),
    om_pb2.DeleteKeys: ("deleteKeysRequest", "deleteKeysResponse"),
    om_pb2.ListKeys: ("listKeysRequest", "listKeysResponse"),
    om_pb2.ListKeysLight: ("listKeysRequest", "listKeysLightResponse"),
    om_pb2.PutObjectTagging: ("putObjectTaggingRequest", "putObjectTaggingResponse"),
    om_pb2.DeleteObjectTagging: (
        "deleteObjectTaggingRequest",
        "deleteObjectTaggingResponse",
    ),
    om_pb2.InitiateMultiPartUpload: (
        "initiateMultiPartUploadRequest",
        "initiateMultiPartUploadResponse",
    ),
    om_pb2.CommitMultiPartUpload: (
        "commitMultiPartUploadRequest",
        "commitMultiPartUploadResponse",
    ),
    om_pb2.CompleteMultiPartUpload: (
        "completeMultiPartUploadRequest",
        "completeMultiPartUploadResponse",
    ),
    om_pb2.AbortMultiPartUpload: (
        "abortMultiPartUploadRequest",
        "abortMultiPartUploadResponse",
    ),
    om_pb2.ListMultiPartUploadParts: (
        "listMultipartUploadPartsRequest",
        "listMultipartUploadPartsResponse",
    ),
    # Type 82, request field 83, response field 82.
    om_pb2.ListMultipartUploads: (
        "listMultipartUploadsRequest",
        "listMultipartUploadsResponse",
    ),
}


def om_request(cmd_type: int, client_id: str, access_id: str, body: Any) -> Any:
    """An OMRequest with its envelope and ``body`` in the field for ``cmd_type``."""
    request = om_pb2.OMRequest(
        cmdType=cmd_type, clientId=client_id, version=CLIENT_VERSION
    )
    if access_id:
        request.s3Authentication.accessId = access_id
    getattr(request, BODY_FIELDS[cmd_type][0]).CopyFrom(body)
    return request


def response_body(response: Any, bucket: str = "") -> Any:
    """The body of an OK response; any other status raises its storage error."""
    # A status newer than our enum is not "set" (proto2 keeps it as an unknown
    # field) and would read as the default, OK: check presence first.
    if not response.HasField("status") or response.status != om_pb2.OK:
        raise om_status_error(status_name(response), response.message, bucket)
    return getattr(response, BODY_FIELDS[response.cmdType][1])


def status_name(response: Any) -> str:
    if not response.HasField("status"):
        return "UNKNOWN"
    return str(om_pb2.Status.Name(response.status))


def key_values(pairs: Mapping[str, str]) -> list[Any]:
    return [hdds_pb2.KeyValue(key=k, value=v) for k, v in pairs.items()]


def _dict(pairs: Iterable[Any]) -> dict[str, str]:
    return {p.key: p.value for p in pairs}


def _seconds(ms: int) -> float:
    return ms / 1000.0


# --- requests -------------------------------------------------------------


def key_args(volume: str, bucket: str, key: str, **fields: Any) -> Any:
    return om_pb2.KeyArgs(volumeName=volume, bucketName=bucket, keyName=key, **fields)


def write_conditions(if_absent: bool, if_etag: str | None) -> dict[str, Any]:
    """KeyArgs' conditions for a write (CreateKey, CompleteMultiPartUpload):
    no key of that name (expectedDataGeneration 0), or the current one has
    that ETag; the OM checks them again when it commits."""
    conditions: dict[str, Any] = {}
    if if_absent:
        conditions["expectedDataGeneration"] = EXPECTED_GEN_CREATE_IF_ABSENT
    if if_etag is not None:
        conditions["expectedETag"] = if_etag
    return conditions


def replication_fields(replication: Replication | None) -> dict[str, Any]:
    """KeyArgs' type/factor for ("RATIS", 1) etc., type and
    ecReplicationConfig for an EC scheme; none: the bucket's default."""
    if replication is None:
        return {}
    if isinstance(replication, EcConfig):
        return {
            "type": hdds_pb2.EC,
            "ecReplicationConfig": hdds_pb2.ECReplicationConfig(
                data=replication.data,
                parity=replication.parity,
                codec=replication.codec,
                ecChunkSize=replication.cell_size,
            ),
        }
    rtype, factor = replication
    return {
        "type": hdds_pb2.ReplicationType.Value(rtype),
        "factor": hdds_pb2.ReplicationFactor.Value(_FACTOR_NAMES[factor]),
    }


_FACTOR_NAMES = {1: "ONE", 3: "THREE"}


def key_location(block: KeyBlock) -> Any:
    """A KeyLocation for CommitKey: the block, its offset in the key and the
    bytes written (the pipeline is not sent; the OM does not keep it)."""
    location = om_pb2.KeyLocation(
        blockID=hdds_pb2.BlockID(
            containerBlockID=hdds_pb2.ContainerBlockID(
                containerID=block.container_id, localID=block.local_id
            ),
            blockCommitSequenceId=block.bcsid,
        ),
        offset=block.offset,
        length=block.length,
        createVersion=block.create_version,
    )
    if block.part_number != -1:
        location.partNumber = block.part_number
    return location


# --- responses ------------------------------------------------------------


def service_list(body: Any) -> ServiceList:
    services = []
    for info in body.serviceInfo:
        ports = {
            om_pb2.ServicePort.Type.Name(p.type): p.value for p in info.servicePorts
        }
        services.append(
            OMServiceInfo(
                node_type=hdds_pb2.NodeType.Name(info.nodeType),
                hostname=info.hostname,
                ports=ports,
                om_node_id=info.omRole.nodeId if info.HasField("omRole") else "",
                om_role=info.omRole.serverRole if info.HasField("omRole") else "",
                om_version=info.OMVersion,
            )
        )
    return ServiceList(tuple(services))


def volume_context(body: Any) -> S3VolumeContext:
    return S3VolumeContext(
        volume=body.volumeInfo.volume,
        volume_owner=body.volumeInfo.ownerName,
        user_principal=body.userPrincipal,
    )


def bucket(info: Any) -> OzoneBucket:
    replication = info.defaultReplicationConfig
    has_replication = info.HasField("defaultReplicationConfig")
    return OzoneBucket(
        volume=info.volumeName,
        name=info.bucketName,
        owner=info.owner,
        layout=om_pb2.BucketLayoutProto.Name(info.bucketLayout)
        if info.HasField("bucketLayout")
        else "LEGACY",
        created=_seconds(info.creationTime),
        modified=_seconds(info.modificationTime),
        object_id=info.objectID,
        storage_type=hdds_pb2.StorageTypeProto.Name(info.storageType),
        versioning=info.isVersionEnabled,
        used_bytes=info.usedBytes,
        replication_type=hdds_pb2.ReplicationType.Name(replication.type)
        if has_replication
        else "",
        replication_factor=int(replication.factor) if has_replication else 0,
        source_volume=info.sourceVolume,
        source_bucket=info.sourceBucket,
        metadata=_dict(info.metadata),
    )


def datanode(dn: Any) -> Datanode:
    return Datanode(
        uuid=dn.uuid,
        ip_address=dn.ipAddress,
        hostname=dn.hostName,
        ports={p.name: p.value for p in dn.ports},
    )


def ec_config(msg: Any) -> EcConfig:
    return EcConfig(msg.data, msg.parity, msg.codec, msg.ecChunkSize)


def _ec_of(msg: Any) -> EcConfig | None:
    if msg.HasField("ecReplicationConfig"):
        return ec_config(msg.ecReplicationConfig)
    return None


def pipeline(p: Any) -> Pipeline:
    return Pipeline(
        id=p.id.id,
        type=hdds_pb2.ReplicationType.Name(p.type),
        factor=int(p.factor),
        state=hdds_pb2.PipelineState.Name(p.state),
        members=tuple(datanode(dn) for dn in p.members),
        leader_id=p.leaderID,
        replica_indexes=tuple(p.memberReplicaIndexes),
        ec=_ec_of(p),
    )


def key_block(location: Any) -> KeyBlock:
    block_id = location.blockID
    return KeyBlock(
        container_id=block_id.containerBlockID.containerID,
        local_id=block_id.containerBlockID.localID,
        offset=location.offset,
        length=location.length,
        bcsid=block_id.blockCommitSequenceId,
        pipeline=pipeline(location.pipeline) if location.HasField("pipeline") else None,
        create_version=location.createVersion,
        part_number=location.partNumber,
    )


def key(info: Any) -> OzoneKey:
    # The latest version's block list (Ozone keeps one per version; S3 keys
    # have one unless an old version was asked for).
    versions = list(info.keyLocationList)
    blocks = (
        tuple(key_block(loc) for loc in versions[-1].keyLocations) if versions else ()
    )
    return OzoneKey(
        volume=info.volumeName,
        bucket=info.bucketName,
        name=info.keyName,
        size=info.dataSize,
        created=_seconds(info.creationTime),
        modified=_seconds(info.modificationTime),
        replication_type=hdds_pb2.ReplicationType.Name(info.type),
        replication_factor=int(info.factor),
        metadata=_dict(info.metadata),
        blocks=blocks,
        owner=info.ownerName,
        object_id=info.objectID,
        update_id=info.updateID,
        is_file=info.isFile if info.HasField("isFile") else True,
        tags=_dict(info.tags),
        ec=_ec_of(info),
    )


def key_summary(info: Any) -> KeySummary:
    return KeySummary(
        name=info.keyName,
        size=info.dataSize,
        created=_seconds(info.creationTime),
        modified=_seconds(info.modificationTime),
        etag=info.eTag,
        owner=info.ownerName,
        replication_type=hdds_pb2.ReplicationType.Name(info.type)
        if info.HasField("type")
        else "",
        replication_factor=int(info.factor),
        is_file=info.isFile if info.HasField("isFile") else True,
        ec=_ec_of(info),
    )


def summary_of(k: OzoneKey) -> KeySummary:
    """A listing entry from a full KeyInfo (for OMs without ListKeysLight)."""
    return KeySummary(
        name=k.name,
        size=k.size,
        created=k.created,
        modified=k.modified,
        etag=k.etag,
        owner=k.owner,
        replication_type=k.replication_type,
        replication_factor=k.replication_factor,
        is_file=k.is_file,
        ec=k.ec,
    )
