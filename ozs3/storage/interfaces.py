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
    ChunkInfo,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListQuery,
    ObjectMeta,
)


class KeyWriter(Protocol):
    """An open key (Ozone: CreateKey ... CommitKey).  Invisible until commit.

    ``write`` calls must not overlap; each waits for the previous one.
    """

    def write(self, data: bytes) -> Deferred[None]: ...

    def commit(self, etag: str) -> Deferred[KeyInfo]:
        """Make the key visible, atomically replacing any older version, once
        its data is durable."""

    def abort(self) -> Deferred[None]:
        """Drop the open key and reclaim its blocks.  Safe to call twice."""


class ObjectReader(Protocol):
    """Reads a byte range of one committed key version, verifying checksums."""

    remaining: int

    def read(self, max_bytes: int) -> Deferred[bytes]:
        """The next bytes of the range (``b""`` once it is done)."""

    def close(self) -> None: ...


class ObjectStore(Protocol):
    """What the S3 layer sees."""

    volume: str

    def create_bucket(self, name: str, owner: str) -> Deferred[BucketInfo]: ...

    def get_bucket(self, name: str) -> Deferred[BucketInfo]: ...

    def delete_bucket(self, name: str) -> Deferred[None]: ...

    def list_buckets(self) -> Deferred[list[BucketInfo]]: ...

    def list_keys(self, bucket: str, query: ListQuery) -> Deferred[KeyListing]: ...

    def open_key(
        self, bucket: str, key: str, meta: ObjectMeta, size_hint: int | None
    ) -> Deferred[KeyWriter]: ...

    def lookup_key(self, bucket: str, key: str) -> Deferred[KeyInfo]: ...

    def open_reader(
        self, info: KeyInfo, offset: int, length: int
    ) -> Deferred[ObjectReader]: ...

    def delete_key(self, bucket: str, key: str) -> Deferred[None]: ...

    def delete_keys(
        self, bucket: str, keys: Sequence[str]
    ) -> Deferred[list[DeleteResult]]: ...


class MetadataStore(Protocol):
    """The Ozone Manager: volumes, buckets, keys, open keys, deleted blocks."""

    def open_key(
        self, bucket: str, key: str, meta: ObjectMeta, allocate: bool
    ) -> Deferred[tuple[int, BlockID | None]]:
        """Record an open key; returns its client id and, if asked, a first block."""

    def allocate_block(self, client_id: int) -> Deferred[BlockID]: ...

    def commit_key(
        self,
        client_id: int,
        blocks: Sequence[BlockLocation],
        size: int,
        etag: str,
        modified: float,
    ) -> Deferred[KeyInfo]: ...

    def abort_open_key(self, client_id: int) -> Deferred[None]: ...


class BlockStore(Protocol):
    """A datanode: blocks in containers, written as checksummed chunks.

    These calls block (disk I/O); callers run them in an executor.
    """

    def create_block(self, block_id: BlockID) -> BlockWriter: ...

    def open_block(self, block_id: BlockID) -> BlockReader: ...

    def delete_block(self, block_id: BlockID) -> None: ...


class BlockWriter(Protocol):
    length: int

    def write_chunk(self, data: bytes | memoryview) -> ChunkInfo: ...

    def put_block(self) -> BlockLocation:
        """Record the chunk list and make the block durable (fsync)."""

    def discard(self) -> None: ...


class BlockReader(Protocol):
    length: int

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset``, checksum-verified, or ``ChecksumMismatch``."""

    def close(self) -> None: ...
