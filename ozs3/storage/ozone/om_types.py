"""What the Ozone Manager client returns: plain frozen records, no protobuf.

Times are seconds since the epoch (the OM keeps milliseconds).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

# Ozone's metadata key for an object's ETag, as Ozone's S3 gateway writes it:
# the lower-case hex MD5 (or "<hex>-<parts>" for multipart), without quotes.
ETAG_KEY = "ETag"

# OzoneManagerVersion values worth gating on (Ozone's OzoneManagerVersion.java).
OM_VERSION_OPTIMIZED_GET_KEY_INFO = 3
OM_VERSION_LIGHTWEIGHT_LIST_KEYS = 4
OM_VERSION_ATOMIC_CREATE_IF_NOT_EXISTS = 12
# KeyArgs.expectedDataGeneration meaning "only if no such key exists"
# (Ozone's OzoneConsts.EXPECTED_GEN_CREATE_IF_ABSENT, 2.2.0).
EXPECTED_GEN_CREATE_IF_ABSENT = 0


@attrs.frozen
class OMServiceInfo:
    """One entry of ServiceList: an OM (with its role and version) or the SCM."""

    node_type: str  # "OM", "SCM", ...
    hostname: str
    ports: Mapping[str, int]  # "RPC", "HTTP", "HTTPS", "RATIS"
    om_node_id: str = ""
    om_role: str = ""  # "LEADER" / "FOLLOWER"
    om_version: int = 0


@attrs.frozen
class ServiceList:
    services: tuple[OMServiceInfo, ...]

    @property
    def om_version(self) -> int:
        """The lowest OM version among the OMs listed: what every one of them
        understands (0 when none is listed)."""
        versions = [s.om_version for s in self.services if s.node_type == "OM"]
        return min(versions) if versions else 0

    @property
    def leader(self) -> OMServiceInfo | None:
        for s in self.services:
            if s.node_type == "OM" and s.om_role == "LEADER":
                return s
        return None


@attrs.frozen
class S3VolumeContext:
    volume: str  # normally "s3v"
    volume_owner: str
    user_principal: str


@attrs.frozen
class OzoneBucket:
    volume: str
    name: str
    owner: str
    layout: str  # "OBJECT_STORE", "FILE_SYSTEM_OPTIMIZED", "LEGACY"
    created: float
    modified: float
    object_id: int = 0
    storage_type: str = "DISK"
    versioning: bool = False
    used_bytes: int = 0
    # The bucket's default replication ("RATIS", 3) if it has one of its own.
    replication_type: str = ""
    replication_factor: int = 0
    source_volume: str = ""  # set for a link bucket
    source_bucket: str = ""
    metadata: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Datanode:
    uuid: str
    ip_address: str
    hostname: str
    ports: Mapping[str, int]  # "STANDALONE", "RATIS", "RATIS_ADMIN", ...

    def address(self, port_name: str) -> str:
        """host:port of one of its services (by IP, as Ozone's client connects)."""
        return f"{self.ip_address}:{self.ports[port_name]}"


@attrs.frozen
class EcConfig:
    """An erasure-coded replication (Ozone's ECReplicationConfig): ``data``
    cells of ``cell_size`` bytes and ``parity`` cells per stripe."""

    data: int
    parity: int
    codec: str = "rs"
    cell_size: int = 1024 * 1024

    @property
    def name(self) -> str:
        """Ozone's name for it: "rs-3-2-1024k"."""
        return f"{self.codec}-{self.data}-{self.parity}-{self.cell_size // 1024}k"


# A key's replication as the OM's requests take it: ("RATIS", 3) and the
# like, or an EC scheme.
Replication = tuple[str, int] | EcConfig


@attrs.frozen
class Pipeline:
    id: str  # UUID string; the Raft group id of a RATIS pipeline
    type: str  # "RATIS", "STAND_ALONE", "EC"
    factor: int  # 1 or 3 (0 for EC)
    state: str  # "PIPELINE_OPEN", ...
    members: tuple[Datanode, ...]
    leader_id: str = ""  # a member's uuid, if the OM named one
    # EC: each member's replica index (1..data: data, then parity) and the
    # scheme.
    replica_indexes: tuple[int, ...] = ()
    ec: EcConfig | None = None

    @property
    def leader(self) -> Datanode | None:
        for dn in self.members:
            if dn.uuid == self.leader_id:
                return dn
        return None


@attrs.frozen
class KeyBlock:
    """One block of a key (Ozone's KeyLocation): where it is and how much of it
    the key uses.  For a freshly allocated block ``length`` is the block size
    the OM allocated; CommitKey sends the bytes actually written."""

    container_id: int
    local_id: int
    # Where the key's bytes start inside the block: 0 for everything Ozone's
    # clients write (not the block's position in the key, which is the sum of
    # the lengths before it).
    offset: int
    length: int
    bcsid: int = 0  # blockCommitSequenceId
    pipeline: Pipeline | None = None
    create_version: int = 0
    part_number: int = -1


@attrs.frozen
class OzoneKey:
    volume: str
    bucket: str
    name: str
    size: int
    created: float
    modified: float
    replication_type: str
    replication_factor: int
    metadata: Mapping[str, str]
    blocks: tuple[KeyBlock, ...] = ()
    owner: str = ""
    object_id: int = 0
    update_id: int = 0
    is_file: bool = True
    tags: Mapping[str, str] = attrs.field(factory=dict)
    ec: EcConfig | None = None  # an EC key's scheme

    @property
    def etag(self) -> str:
        """The ETag Ozone's S3 gateway stored ("" for a key written without one,
        e.g. by ``ozone sh key put``)."""
        return self.metadata.get(ETAG_KEY, "")


@attrs.frozen
class KeySummary:
    """A listing entry (ListKeysLight's BasicKeyInfo)."""

    name: str
    size: int
    created: float
    modified: float
    etag: str = ""
    owner: str = ""
    replication_type: str = ""
    replication_factor: int = 0
    is_file: bool = True
    ec: EcConfig | None = None


@attrs.frozen
class KeyPage:
    keys: tuple[OzoneKey, ...]
    truncated: bool


@attrs.frozen
class KeySummaryPage:
    keys: tuple[KeySummary, ...]
    truncated: bool


@attrs.frozen
class OpenKeySession:
    """A key being written: CreateKey's session id (CommitKey and AllocateBlock
    quote it) and the blocks the OM pre-allocated (none unless a size was given)."""

    session_id: int
    key: OzoneKey
    open_version: int
    # A part of a multipart upload: (upload id, part number), else None.
    part: tuple[str, int] | None = None

    @property
    def blocks(self) -> tuple[KeyBlock, ...]:
        return self.key.blocks


@attrs.frozen
class DeleteKeysResult:
    deleted: tuple[str, ...]
    # (key, OM error code, message) for each key the OM did not delete.
    failed: tuple[tuple[str, str, str], ...] = ()


@attrs.frozen
class OzoneUpload:
    """A multipart upload in progress (ListMultipartUploads' MultipartUploadInfo)."""

    key: str
    upload_id: str
    created: float
    replication_type: str = ""
    replication_factor: int = 0


@attrs.frozen
class UploadsPage:
    uploads: tuple[OzoneUpload, ...]
    truncated: bool
    next_key: str = ""
    next_upload_id: str = ""


@attrs.frozen
class OzonePart:
    """An uploaded part (ListMultiPartUploadParts' PartInfo)."""

    number: int
    name: str  # the OM's name for it, which Complete may quote instead of the ETag
    modified: float
    size: int
    etag: str = ""


@attrs.frozen
class PartsPage:
    parts: tuple[OzonePart, ...]
    truncated: bool
    next_marker: int = 0
    replication_type: str = ""
    replication_factor: int = 0


@attrs.frozen
class CommittedPart:
    """CommitMultiPartUpload's answer."""

    name: str
    etag: str
