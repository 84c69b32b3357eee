"""The storage interface over a real Apache Ozone cluster.

Buckets are the OM's buckets in its S3 volume (``s3v``), keys are its keys,
written and read the way Ozone's Java client does (``key_writer``,
``key_reader``), so ``ozone sh``, ofs and Ozone's own S3 gateway see the same
objects.  Every call goes to the OM (gRPC) or the datanodes (gRPC, Ratis)
with a deadline; an unreachable cluster is ``Unavailable`` (503).

Bucket identity: a bucket's id is its OM object id (never reused).  A call
that pins ``bucket_id`` asks the OM for the bucket first; the window between
that check and the call is the OM's, not closed here.

Multipart uploads are the OM's (``multipart_store``).  Not on a cluster yet
(NotSupported, S3 501; ``not_yet.py``): conditional deletes, bucket
settings (tags, lifecycle), EC keys.  See the README's "Fronting an Ozone
cluster".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from ..._deferred import async_to_deferred
from ..errors import BucketNotFound, KeyNotFound, NotSupported, PreconditionFailed
from ..interfaces import CopyWriter, KeyWriter, ObjectReader
from ..model import (
    BucketInfo,
    CopyMeta,
    DeleteResult,
    KeyInfo,
    KeyListing,
    ListedKey,
    ListQuery,
    ObjectMeta,
    PartLayout,
    PartTarget,
    Precondition,
)
from ..om.listing import ScanRequest, list_page_async
from .copy_writer import ClusterCopyWriter
from .ec_reader import ECObjectReader
from .ec_writer import ECKeyWriter
from .key_meta import CHECKSUM, etag_of, object_meta
from .key_reader import ClusterObjectReader, DatanodePool
from .key_writer import ClusterKeyWriter, RatisPool, WriteSettings
from .multipart_store import ClusterMultipart
from .not_yet import NotYetOnCluster, refuse_unsupported
from .om_client import OMClient
from .om_types import KeyBlock, KeySummary, OzoneBucket, OzoneKey
from .replication import replication_args, replication_name

LIST_BUCKETS_PAGE = 1000
# Past every key that starts with a common prefix P: the OM lists keys
# strictly after its start key, and P + U+10FFFF sorts after every key
# P + x of valid UTF-8 but P + U+10FFFF + ..., which the scan drops.
_MAX_CHAR = "\U0010ffff"


@attrs.frozen
class ClusterKeyInfo(KeyInfo):
    """A key version with the OM's block locations (pipelines, BCSIDs)."""

    locations: tuple[KeyBlock, ...] = ()
    replication_type: str = "RATIS"


def bucket_info(b: OzoneBucket) -> BucketInfo:
    return BucketInfo(b.volume, b.name, b.owner, b.created, b.object_id)


def part_layout(blocks: Sequence[KeyBlock]) -> tuple[PartLayout, ...]:
    """A completed multipart key's parts, from its blocks (the OM numbers
    each block with its part); () for other keys."""
    sizes: dict[int, int] = {}
    for b in blocks:
        if b.part_number <= 0:
            return ()
        sizes[b.part_number] = sizes.get(b.part_number, 0) + b.length
    return tuple(PartLayout(n, size) for n, size in sizes.items())


def key_info(k: OzoneKey) -> ClusterKeyInfo:
    meta = attrs.evolve(
        object_meta(k.metadata),
        tags=tuple(sorted(k.tags.items())),
        replication=replication_name(k.replication_type, k.replication_factor, k.ec),
    )
    return ClusterKeyInfo(
        k.bucket,
        k.name,
        k.size,
        etag_of(k.metadata),
        k.modified,
        meta,
        checksum=k.metadata.get(CHECKSUM, ""),
        owner=k.owner,
        parts=part_layout(k.blocks),
        locations=k.blocks,
        replication_type=k.replication_type,
    )


def listed_key(k: KeySummary) -> ListedKey:
    replication = replication_name(k.replication_type, k.replication_factor, k.ec)
    return ListedKey(k.name, k.size, k.etag, k.modified, replication, k.owner)


def listed_key_with_meta(k: OzoneKey) -> ListedKey:
    i = key_info(k)
    return ListedKey(
        i.key, i.size, i.etag, i.modified, i.meta.replication, i.owner, i.meta
    )


def seek_of(request: ScanRequest, prefix: str) -> tuple[str, str | None]:
    """How to ask the OM (which lists keys strictly after ``startKey``, within
    ``prefix``) for ``request``: the start key, and the prefix whose keys the
    answer may hold and the scan must drop (None: nothing to drop)."""
    if request.past is not None:
        past = request.past.decode()
        return past + _MAX_CHAR, past
    if request.inclusive:
        # Only ever the listing's prefix itself: listing within it starts there.
        assert request.lower == prefix.encode(), request
        return "", None
    return request.lower.decode(), None


class ClusterObjectStore(ClusterMultipart, NotYetOnCluster):
    """``ObjectStore`` over an Ozone cluster's OM and datanodes."""

    log = Logger()

    def __init__(
        self,
        om: OMClient,
        reactor: Any,
        settings: WriteSettings,
        *,
        deadline: float,
        bucket_layout: str = "OBJECT_STORE",
    ) -> None:
        self.om = om
        self.settings = settings
        self.bucket_layout = bucket_layout
        self.datanodes = DatanodePool(reactor, deadline)
        self.ratis = RatisPool(reactor, deadline)

    @property
    def volume(self) -> str:
        return self.om.volume

    @async_to_deferred
    async def start(self, every_slot: bool = True) -> None:
        """Learn the OM's version and S3 volume (OMUnavailable if it cannot
        be asked)."""
        await self.om.start()
        self.log.info(
            "fronting the Ozone cluster at {om} (OM version {v}, volume {vol})",
            om=self.om.transport.address,
            v=self.om.om_version,
            vol=self.om.volume,
        )

    def drain(self) -> Deferred[None]:
        return succeed(None)

    def mark_clean(self) -> Deferred[None]:
        return succeed(None)

    @async_to_deferred
    async def close(self) -> None:
        self.datanodes.close()
        self.ratis.close()
        closing = self.om.close()
        if closing is not None:
            await closing

    # -- buckets -------------------------------------------------------------

    @async_to_deferred
    async def create_bucket(self, name: str, owner: str) -> BucketInfo:
        await self.om.create_bucket(name, owner or None, self.bucket_layout)
        return bucket_info(await self.om.info_bucket(name))

    @async_to_deferred
    async def get_bucket(self, name: str, bucket_id: int | None = None) -> BucketInfo:
        info = bucket_info(await self.om.info_bucket(name))
        if bucket_id is not None and info.id != bucket_id:
            raise BucketNotFound(name)
        return info

    async def _pinned(self, name: str, bucket_id: int | None) -> None:
        if bucket_id is not None:
            await self.get_bucket(name, bucket_id)

    @async_to_deferred
    async def delete_bucket(self, name: str, bucket_id: int | None = None) -> None:
        await self._pinned(name, bucket_id)
        await self.om.delete_bucket(name)

    @async_to_deferred
    async def list_buckets(self) -> list[BucketInfo]:
        out: list[BucketInfo] = []
        after = ""
        while True:
            page = await self.om.list_buckets(
                start_after=after, count=LIST_BUCKETS_PAGE
            )
            out.extend(bucket_info(b) for b in page)
            if len(page) < LIST_BUCKETS_PAGE:
                return out
            after = page[-1].name

    def get_s3_secret(self, access_key: str) -> Deferred[str | None]:
        # Security on with a cluster is refused at start (config), so no
        # request asks; an unsecured cluster keeps no S3 secrets.
        return succeed(None)

    # -- listing -------------------------------------------------------------

    @async_to_deferred
    async def list_keys(
        self, bucket: str, query: ListQuery, bucket_id: int | None = None
    ) -> KeyListing:
        await self._pinned(bucket, bucket_id)

        # Whole keys (tags and all) when asked for, else the light summaries.
        lister: Any = (
            self.om.list_keys if query.with_meta else self.om.list_key_summaries
        )

        async def scan(request: ScanRequest) -> Iterable[tuple[bytes, Any]]:
            start, drop = seek_of(request, query.prefix)
            rows: list[tuple[bytes, Any]] = []
            if start and not start.startswith(query.prefix):
                return rows  # past every key with the prefix (start > prefix)
            while len(rows) < request.limit:
                page = await lister(
                    bucket, query.prefix, start, request.limit - len(rows)
                )
                for k in page.keys:
                    if drop is None or not k.name.startswith(drop):
                        rows.append((k.name.encode(), k))
                if not page.truncated or not page.keys:
                    break
                start = page.keys[-1].name
            return rows

        page = await list_page_async(
            scan,
            query.prefix.encode(),
            query.delimiter.encode(),
            query.start_after.encode(),
            query.max_keys,
        )
        listed = listed_key_with_meta if query.with_meta else listed_key
        return KeyListing(
            keys=tuple(listed(k) for _, k in page.keys),
            common_prefixes=tuple(p.decode() for p in page.common_prefixes),
            truncated=page.truncated,
            next_marker=page.next_marker.decode() if page.next_marker else None,
        )

    # -- keys ----------------------------------------------------------------

    @async_to_deferred
    async def open_key(
        self,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        size_hint: int | None,
        part: PartTarget | None = None,
        bucket_id: int | None = None,
        owner: str = "",
        precondition: Precondition | None = None,
    ) -> KeyWriter:
        refuse_unsupported(meta, precondition)
        await self._pinned(bucket, bucket_id)
        # Tags and the condition ride on CreateKey: the OM keeps them with
        # the open key and checks the condition again when it commits.
        if_etag = None if precondition is None else precondition.etag
        try:
            session = await self.om.open_key(
                bucket, key, size_hint or 0, owner=owner or None,
                tags=dict(meta.tags),
                if_absent=precondition is not None and precondition.absent,
                if_etag=if_etag,
                replication=replication_args(meta.replication),
                part=None if part is None else (part.upload_id, part.part_number),
            )  # fmt: skip
        except KeyNotFound:
            if if_etag is None:
                raise
            # S3: If-Match on a write to a missing key is 412, not 404.
            raise PreconditionFailed("If-Match") from None
        if session.key.ec is not None:
            return ECKeyWriter(self.om, self.ratis, self.settings, session, meta,
                               owner, self.datanodes)  # fmt: skip
        return ClusterKeyWriter(
            self.om, self.ratis, self.settings, session, meta, owner
        )

    @async_to_deferred
    async def open_copy(
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
    ) -> CopyWriter:
        await self._pinned(source_bucket, source_bucket_id)
        source = await self._lookup(source_bucket, source_key)
        start, length = source_range or (0, source.size)
        if start + length > source.size:
            # The S3 layer answers InvalidRange; nothing is opened.
            length = max(0, source.size - start)
        if meta is None:
            # A part (the upload's metadata applies), or a whole copy that
            # keeps the source's metadata.
            target = ObjectMeta() if part else attrs.evolve(source.meta, replication="")
        elif isinstance(meta, CopyMeta):
            target = meta.apply(source.meta)
            if not meta.replication:
                # No class asked: the destination's default, not the source's.
                target = attrs.evolve(target, replication="")
        else:
            target = meta
        writer = await self.open_key(
            bucket, key, target, length, part, bucket_id, owner, precondition
        )
        assert isinstance(writer, ClusterKeyWriter)
        return ClusterCopyWriter(
            source, start, length, self.open_reader, writer, keep_parts=part is None
        )

    @async_to_deferred
    async def lookup_key(
        self, bucket: str, key: str, bucket_id: int | None = None, head: bool = False
    ) -> KeyInfo:
        await self._pinned(bucket, bucket_id)
        return await self._lookup(bucket, key, head)

    async def _lookup(
        self, bucket: str, key: str, head: bool = False
    ) -> ClusterKeyInfo:
        # head: the OM skips resolving the blocks' pipelines (SCM's container
        # locations); the blocks, with their part numbers, still come.
        k = await self.om.get_key(bucket, key, head=head)
        if not k.is_file:
            raise KeyNotFound(key)  # a directory of an FSO bucket
        return key_info(k)

    @async_to_deferred
    async def open_reader(
        self, info: KeyInfo, offset: int, length: int, prefetch: int = 0
    ) -> ObjectReader:
        if not isinstance(info, ClusterKeyInfo):
            raise TypeError("open_reader needs a KeyInfo from this store")
        if info.replication_type == "EC":
            # Its bytes are striped over its pipelines' members.
            reader: ClusterObjectReader = ECObjectReader(
                self.datanodes, info.locations, offset, length
            )
        elif info.replication_type in ("RATIS", "STAND_ALONE"):
            reader = ClusterObjectReader(self.datanodes, info.locations, offset, length)
        else:
            raise NotSupported(f"reading {info.replication_type} keys")
        try:
            await reader.prefetch(prefetch)
        except BaseException:
            reader.close()
            raise
        return reader

    @async_to_deferred
    async def delete_key(
        self,
        bucket: str,
        key: str,
        bucket_id: int | None = None,
        precondition: Precondition | None = None,
    ) -> None:
        refuse_unsupported(None, precondition)
        await self._pinned(bucket, bucket_id)
        try:
            await self.om.delete_key(bucket, key)
        except KeyNotFound:
            pass  # S3: deleting a key that is not there succeeds

    @async_to_deferred
    async def set_key_tags(
        self,
        bucket: str,
        key: str,
        tags: Sequence[tuple[str, str]],
        bucket_id: int | None = None,
    ) -> None:
        await self._pinned(bucket, bucket_id)
        await self.om.put_object_tagging(bucket, key, dict(tags))

    @async_to_deferred
    async def delete_keys(
        self, bucket: str, keys: Sequence[str], bucket_id: int | None = None
    ) -> list[DeleteResult]:
        await self._pinned(bucket, bucket_id)
        if not keys:
            return []
        result = await self.om.delete_keys(bucket, keys)
        # S3: deleting a key that is not there succeeds.
        errors = {
            key: f"{code}: {message}" if message else code
            for key, code, message in result.failed
            if code != "KEY_NOT_FOUND"
        }
        return [DeleteResult(k, errors.get(k)) for k in keys]
