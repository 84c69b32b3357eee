"""Values that cross the storage interface: frozen, picklable, no Twisted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, TypeVar

import attrs


@attrs.frozen(order=True)
class BlockID:
    """Ozone's ContainerBlockID: a block is named by its container and local id."""

    container_id: int
    local_id: int


@attrs.frozen
class BlockLocation:
    """A run of one block's bytes in a key, as the OM's KeyLocation records it.

    ``offset`` is where the run starts inside the block: non-zero only when a
    copy shares part of another key's block instead of copying bytes.
    """

    block_id: BlockID
    length: int
    offset: int = 0


class BlockRun(Protocol):
    """A run of one block's bytes in a key: ``BlockLocation`` here, an Ozone
    ``KeyLocation`` (``ozone.om_types.KeyBlock``) on a cluster."""

    @property
    def length(self) -> int: ...

    @property
    def offset(self) -> int: ...


R = TypeVar("R", bound=BlockRun)


def block_spans(runs: Sequence[R], start: int, length: int) -> list[tuple[R, int, int]]:
    """The runs that hold a key's bytes ``[start, start + length)``, each with
    the part of its block they cover: ``(run, first, end)``, positions in the
    block (the run's ``offset`` is where the key's bytes start in it)."""
    out = []
    pos = 0
    end = start + length
    for run in runs:
        if pos >= end:
            break
        lo, hi = max(start, pos), min(end, pos + run.length)
        if lo < hi:
            out.append((run, run.offset + lo - pos, run.offset + hi - pos))
        pos += run.length
    return out


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
    # S3 object tags (Ozone: KeyInfo.tags), sorted by key.
    tags: tuple[tuple[str, str], ...] = ()
    # Ozone's replication config name ("RATIS/ONE", "EC/rs-3-2-1024k"); ""
    # is the default (STANDARD, RATIS/THREE).  S3 storage classes map to it.
    replication: str = ""
    # S3 grants beyond the default (the owner's FULL_CONTROL): (kind, grantee,
    # permission) triples, kept only where the bucket's ACLs are enabled.
    acl: tuple[tuple[str, str, str], ...] = ()


@attrs.frozen
class CopyMeta:
    """A copy's metadata, made from its source's as CopyObject's
    directives say."""

    # REPLACE: these headers and user metadata; None: the source's.
    meta: ObjectMeta | None = None
    # REPLACE: these tags; None: the source's.
    tags: tuple[tuple[str, str], ...] | None = None
    # The copy's own (S3: the request's storage class, else STANDARD).
    replication: str = ""
    # The copy's own too (S3 never copies an ACL: the request's, else private).
    acl: tuple[tuple[str, str, str], ...] = ()

    def apply(self, source: ObjectMeta) -> ObjectMeta:
        base = source if self.meta is None else self.meta
        tags = source.tags if self.tags is None else self.tags
        return attrs.evolve(base, tags=tags, replication=self.replication, acl=self.acl)


@attrs.frozen
class PartLayout:
    """One part of a completed multipart key: what GET ?partNumber and
    GetObjectAttributes need."""

    number: int
    size: int
    checksum: str = ""  # the part's S3 additional checksum, "algorithm:base64"


@attrs.frozen
class Precondition:
    """What the current version of a key must be for a write or delete to
    take effect, checked by the OM in the same step as the change (Ozone:
    a rewrite's expected data generation).  Otherwise ``PreconditionFailed``
    (a delete of a missing key with ``etag``: ``KeyNotFound``)."""

    absent: bool = False  # If-None-Match: * (no key of that name)
    present: bool = False  # If-Match: * (a key of that name, any version)
    etag: str | None = None  # If-Match: the current version has this ETag
    # That exact version (size, modified): a lifecycle expiry deletes only
    # the version it judged, never one written since.
    size: int | None = None
    modified: float | None = None


# Bucket settings the S3 layer keeps in the store (as text it encodes).
BUCKET_TAGS = "tags"
BUCKET_LIFECYCLE = "lifecycle"
BUCKET_CORS = "cors"
BUCKET_POLICY = "policy"
BUCKET_PUBLIC_ACCESS = "public-access-block"
BUCKET_ACL = "acl"  # its ownership controls and its ACL grants


@attrs.frozen
class BucketInfo:
    volume: str
    name: str
    owner: str
    created: float
    # Never reused: a bucket deleted and created again under the same name
    # is another bucket.  Requests authorized against one bucket pass its id
    # (``bucket_id=``) so they can never act on its successor.
    id: int = 0


@attrs.frozen
class KeyInfo:
    bucket: str
    key: str
    size: int
    etag: str
    modified: float
    meta: ObjectMeta
    blocks: tuple[BlockLocation, ...] = ()
    # An S3 additional checksum, "algorithm:base64" ("...-N" for multipart).
    checksum: str = ""
    # Who wrote it (the bucket owner for keys written before owners were kept).
    owner: str = ""
    # A completed multipart upload's parts, in order; () for other keys.
    parts: tuple[PartLayout, ...] = ()


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
    # Each key's whole metadata (tags included: what lifecycle filters
    # need); otherwise only its replication (the listing's StorageClass).
    with_meta: bool = False
    # Each key's owner (ListObjects v1, versions, v2 with fetch-owner); a
    # store may leave it "" otherwise (the embedded OM does: working it out
    # was a quarter of a page's SQL).
    with_owner: bool = True


class ListedKey(NamedTuple):
    """A key as a listing returns it: what ListObjects shows, and the version
    a lifecycle rule judges (``expire_keys`` deletes it only if it is still
    that version).  A named tuple: a page holds a thousand, and one costs
    ~0.2 µs to build where a frozen attrs ``KeyInfo`` (an
    ``object.__setattr__`` per field) cost ~1.5 µs.  Every field is a plain
    value a database row can hold, so a store may make a page's keys from
    its rows without a Python call per key (``tuple.__new__``)."""

    key: str
    size: int
    etag: str
    modified: float
    # Ozone's replication config name (``ObjectMeta.replication``): the
    # listing's StorageClass.
    replication: str
    owner: str = ""  # may be "" unless the query asked ``with_owner``
    # The whole metadata if the query asked ``with_meta``, else None.
    meta: ObjectMeta | None = None

    @property
    def tags(self) -> tuple[tuple[str, str], ...]:
        """Its tags (what lifecycle filters judge): () unless the query asked
        ``with_meta``."""
        return self.meta.tags if self.meta is not None else ()


@attrs.frozen
class KeyListing:
    keys: tuple[ListedKey, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    # The last key or common prefix returned: where the next page starts.
    next_marker: str | None


@attrs.frozen
class DeleteResult:
    key: str
    error: str | None = None


@attrs.frozen
class PartTarget:
    """Where a part goes: an upload and a part number (1..10000)."""

    upload_id: str
    part_number: int


@attrs.frozen
class UploadInfo:
    bucket: str
    key: str
    upload_id: str
    initiated: float
    meta: ObjectMeta = ObjectMeta()
    owner: str = ""  # who initiated it


@attrs.frozen
class PartInfo:
    part_number: int
    size: int
    etag: str
    modified: float
    checksum: str = ""


@attrs.frozen
class PartListing:
    upload: UploadInfo
    parts: tuple[PartInfo, ...]
    truncated: bool
    next_marker: int | None


@attrs.frozen
class UploadQuery:
    prefix: str = ""
    delimiter: str = ""
    key_marker: str = ""
    upload_id_marker: str = ""
    max_uploads: int = 1000


@attrs.frozen
class UploadListing:
    uploads: tuple[UploadInfo, ...]
    common_prefixes: tuple[str, ...]
    truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None
