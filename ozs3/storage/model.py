"""Values that cross the storage interface: frozen, picklable, no Twisted."""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class BlockID:
    """Ozone's ContainerBlockID: a block is named by its container and local id."""

    container_id: int
    local_id: int


@attrs.frozen
class BlockLocation:
    """One block of a key, as the OM's KeyLocation records it."""

    block_id: BlockID
    length: int


@attrs.frozen
class ChecksumData:
    """Like Ozone's ChecksumData: one checksum per ``bytes_per_checksum`` window."""

    type: str
    bytes_per_checksum: int
    checksums: tuple[bytes, ...]


@attrs.frozen
class ChunkInfo:
    """A contiguous run of a block's bytes with its checksums."""

    offset: int
    length: int
    checksum: ChecksumData


@attrs.frozen
class ObjectMeta:
    """What S3 keeps beside an object's bytes."""

    content_type: str | None = None
    # Standard representation headers kept verbatim (cache-control, expires, ...).
    headers: tuple[tuple[str, str], ...] = ()
    # x-amz-meta-* without the prefix, names lower-cased.
    user: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class BucketInfo:
    volume: str
    name: str
    owner: str
    created: float


@attrs.frozen
class KeyInfo:
    bucket: str
    key: str
    size: int
    etag: str
    modified: float
    meta: ObjectMeta
    blocks: tuple[BlockLocation, ...] = ()


@attrs.frozen
class ListQuery:
    """A page request over a bucket's keys, in S3's terms.

    ``start_after`` is exclusive (ListObjects v1 marker, v2 start-after or the
    position a continuation token stands for).
    """

    prefix: str = ""
    delimiter: str = ""
    start_after: str = ""
    max_keys: int = 1000


@attrs.frozen
class KeyListing:
    keys: tuple[KeyInfo, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    # The last key or common prefix returned: where the next page starts.
    next_marker: str | None


@attrs.frozen
class DeleteResult:
    key: str
    error: str | None = None
