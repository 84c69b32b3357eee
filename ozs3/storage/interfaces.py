"""The storage interface: everything the S3 layer may ask of a store.

Every call returns a ``Deferred``.  The embedded store (``ozs3.storage.client``:
an OM on SQLite plus local datanodes) implements it today; a client of a real
Ozone cluster (OM over gRPC, datanodes over gRPC/Ratis) implements the same
Protocols, so the S3 layer never changes.  Values are ``ozs3.storage.model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from twisted.internet.defer import Deferred

from .model import (
    BlockID,
    BlockLocation,
    BucketInfo,
    CopyMeta,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListedKey,
    ListQuery,
    ObjectMeta,
    PartInfo,
    PartListing,
    PartTarget,
    Precondition,
    UploadInfo,
    UploadListing,
    UploadQuery,
)


class KeyWriter(Protocol):
    """An open key (Ozone: CreateKey ... CommitKey).  Invisible until commit.

    ``write`` calls must not overlap; each waits for the previous one.
    """

    def write(self, data: bytes, last: bool = False) -> Deferred[None]:
        """Append ``data``; ``last``: no more will come (the writer may make
        the data durable now, saving the commit a step)."""

    def commit(self, etag: str, checksum: str = "") -> Deferred[KeyInfo | PartInfo]:
        """Make the key (or the part) visible, atomically replacing any older
        version, once its data is durable.  Parts give ``PartInfo``.
        ``checksum`` is an S3 additional checksum, ``algorithm:base64``."""

    def abort(self) -> Deferred[None]:
        """Drop the open key and reclaim its blocks.  Safe to call twice."""


class CopyWriter(Protocol):
    """An open key whose data is (part of) an existing key, shared, not
    copied: ``source`` is the version pinned when the copy was opened."""

    size: int

    @property
    def source(self) -> KeyInfo: ...

    def read(self) -> Deferred[ObjectReader]:
        """Read the copied bytes (to hash them)."""

    def verify(self) -> Deferred[None]:
        """Read the copied bytes once to check their checksums:
        ``ChecksumMismatch`` (or ``BlockNotFound``) if the source is damaged,
        which sharing its blocks would otherwise copy silently."""

    def commit(self, etag: str, checksum: str = "") -> Deferred[KeyInfo | PartInfo]: ...

    def abort(self) -> Deferred[None]: ...


class ObjectReader(Protocol):
    """Reads a byte range of one committed key version, verifying checksums."""

    remaining: int

    def read(self, max_bytes: int) -> Deferred[bytes]:
        """The next bytes of the range, at most ``max_bytes`` and possibly
        fewer (a chunk at a time), ``b""`` once it is done."""

    def close(self) -> None: ...


class ObjectStore(Protocol):
    """What the S3 layer sees.

    Wherever a bucket is named, ``bucket_id`` (``BucketInfo.id``, never
    reused) binds the call to that bucket: if it was deleted, and perhaps
    created again under its name, since, the call fails with
    ``BucketNotFound``, even a write that started before.  A request
    authorized against a bucket passes its id.  None: whichever bucket has
    the name when the call gets to it."""

    volume: str

    def create_bucket(self, name: str, owner: str) -> Deferred[BucketInfo]: ...

    def get_bucket(
        self, name: str, bucket_id: int | None = None
    ) -> Deferred[BucketInfo]: ...

    def delete_bucket(
        self, name: str, bucket_id: int | None = None
    ) -> Deferred[None]: ...

    def list_buckets(self) -> Deferred[list[BucketInfo]]: ...

    def get_s3_secret(self, access_key: str) -> Deferred[str | None]:
        """The secret of an access key (Ozone's S3SecretTable), or None."""

    def list_keys(
        self, bucket: str, query: ListQuery, bucket_id: int | None = None
    ) -> Deferred[KeyListing]:
        """A page of keys, each with its size, ETag, time and owner."""

    def open_key(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        size_hint: int | None,
        part: PartTarget | None = None,
        bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
    ) -> Deferred[KeyWriter]:
        """Open a key, or with ``part`` a part of a multipart upload.
        ``owner``: who writes the key (parts belong to their upload's).
        ``precondition``: what the key's current version must be, checked
        now and, atomically with the change, by the commit
        (``PreconditionFailed``)."""

    def open_copy(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta | CopyMeta | None,
        part: PartTarget | None,
        source_bucket: str,
        source_key: str,
        source_range: tuple[int, int] | None,
        bucket_id: int | None = None,
        source_bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
    ) -> Deferred[CopyWriter]:
        """Open a key (or part) holding bytes ``(start, length)`` of another
        key; ``meta`` None keeps the source's metadata.  ``precondition``:
        on the destination, as for ``open_key``."""

    def lookup_key(
        self, bucket: str, key: str, bucket_id: int | None = None, head: bool = False
    ) -> Deferred[KeyInfo]:
        """The key's current version.  ``head``: its bytes will not be read
        (HEAD, tags, attributes), so a store may skip locating its blocks;
        the version's parts are still known."""

    def open_reader(
        self, info: KeyInfo, offset: int, length: int, prefetch: int = 0
    ) -> Deferred[ObjectReader]:
        """A reader of the range; its first ``prefetch`` bytes already read.

        Every block the range touches is open once this fires, so the version
        stays readable to the end, whatever replaces it.  ``BlockNotFound``:
        the version was replaced or deleted, and its blocks reclaimed, since
        ``info`` was looked up (or a block file is missing)."""

    def delete_key(
        self,
        bucket: str,
        key: str,
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> Deferred[None]:
        """Delete the key; a missing key is no error, unless ``precondition``
        names an ETag (``KeyNotFound``)."""

    def delete_keys(
        self, bucket: str, keys: Sequence[str], bucket_id: int | None = None
    ) -> Deferred[list[DeleteResult]]: ...

    def create_upload(
        self, bucket: str, key: str, meta: ObjectMeta, owner: str,
        bucket_id: int | None = None,
    ) -> Deferred[UploadInfo]: ...  # fmt: skip

    def abort_upload(
        self, bucket: str, key: str, upload_id: str, bucket_id: int | None = None
    ) -> Deferred[None]: ...

    def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]],
        bucket_id: int | None = None, precondition: Precondition | None = None,
        owner: str = "",
    ) -> Deferred[KeyInfo]:  # fmt: skip
        """Stitch the listed parts (number, unquoted ETag) into the key, if
        its current version meets ``precondition`` (else the upload stays).
        The key belongs to whoever initiated the upload; a store that does
        not know (a cluster's OM keeps no initiator) gives it to ``owner``,
        who completes it."""

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int,
        bucket_id: int | None = None,
    ) -> Deferred[PartListing]: ...  # fmt: skip

    def list_uploads(
        self, bucket: str, query: UploadQuery, bucket_id: int | None = None
    ) -> Deferred[UploadListing]: ...

    # Tags, bucket settings and lifecycle (Ozone: KeyInfo tags, bucket
    # tags, the lifecycle configuration table and its service).

    def set_key_tags(
        self,
        bucket: str,
        key: str,
        tags: Sequence[tuple[str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        """Replace the current version's tags; its ETag and time stay."""

    def set_key_acl(
        self,
        bucket: str,
        key: str,
        acl: Sequence[tuple[str, str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        """Replace the current version's S3 ACL grants (``()``: the owner's
        FULL_CONTROL alone); its ETag and time stay.  ``NotSupported``
        where a store keeps no S3 ACLs."""

    def get_bucket_setting(
        self, bucket: str, name: str, bucket_id: int | None = None
    ) -> Deferred[str | None]:
        """A bucket setting's text (``model.BUCKET_TAGS``, ...) or None."""

    def set_bucket_setting(
        self, bucket: str, name: str, value: str | None, bucket_id: int | None = None
    ) -> Deferred[None]:
        """Replace a bucket setting (None: remove it)."""

    def buckets_with_setting(
        self, name: str
    ) -> Deferred[list[tuple[BucketInfo, str]]]: ...

    def expire_keys(
        self, bucket: str, versions: Sequence[ListedKey], bucket_id: int | None = None
    ) -> Deferred[list[ListedKey]]:
        """Delete each key that is still the version given; returns those
        deleted."""

    def claim_lease(
        self, name: str, holder: str, seconds: float, every: float = 0.0
    ) -> Deferred[float | None]:
        """A lease shared by every gateway process on this store: held for
        ``seconds`` unless another holder has it, or its work was finished
        less than ``every`` seconds ago (None).  Returns when its work was
        last finished (0.0: never)."""

    def finish_lease(self, name: str, holder: str, done_at: float) -> Deferred[bool]:
        """Record the work done and release the lease."""


class MetadataStore(Protocol):
    """The Ozone Manager: volumes, buckets, keys, block reservations, open
    keys (copies pinning their source), deleted blocks."""

    def check_target(
        self,
        bucket: str,
        key: str,
        part: PartTarget | None,
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        """The bucket (and upload) a write is about to go to exist."""

    def reserve_blocks(self, n: int) -> Deferred[tuple[int, int]]:
        """``n`` block IDs for this process's writes, ``(lo, hi)``."""

    def commit_new(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        part: PartTarget | None,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str = "",
        bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
        inline: tuple[int, bytes, int] | None = None,
    ) -> Deferred[KeyInfo | PartInfo]:
        """Reference freshly written blocks and make them a key (or part);
        ``inline``: one inline block's ``(local id, bytes, crc)``."""

    def inline_blocks(
        self, local_ids: Sequence[int]
    ) -> Deferred[dict[int, tuple[bytes, int]]]:
        """Inline blocks' ``(bytes, crc)`` by local id (missing: gone)."""

    def free_pages(self) -> Deferred[int]:
        """Bytes of free pages in the metadata database."""

    def commit_key(
        self,
        client_id: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
        checksum: str = "",
        precondition: Precondition | None = None,
    ) -> Deferred[KeyInfo | PartInfo]: ...

    def abort_open_key(self, client_id: int) -> Deferred[None]: ...


class BlockStore(Protocol):
    """A datanode: blocks in containers, written as checksummed chunks.

    These calls block (disk I/O); callers run them in an executor.
    """

    def create_block(self, block_id: BlockID) -> BlockWriter: ...

    def open_block(self, block_id: BlockID) -> BlockReader: ...

    def delete_block(self, block_id: BlockID) -> bool: ...


class BlockWriter(Protocol):
    length: int

    def write_chunk(self, data: bytes | memoryview) -> None:
        """Append ``data`` (cut into chunks of chunk.size)."""

    def put_block(self) -> BlockLocation:
        """Record the chunk list and make the block durable (fsync)."""

    def discard(self) -> None: ...


class BlockReader(Protocol):
    length: int

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset``, checksum-verified, or ``ChecksumMismatch``."""

    def read_some(self, offset: int, max_len: int) -> bytes:
        """Like ``read``, but stops at the end of the chunk holding ``offset``."""

    def chunk_bounds(self, offset: int) -> tuple[int, int]:
        """Start and end of the chunk holding ``offset``."""

    def read_exact(self, offset: int, length: int) -> bytes:
        """``length`` bytes within one chunk (see ``chunk_bounds``)."""

    def close(self) -> None: ...
