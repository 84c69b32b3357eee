"""Multipart uploads on a cluster: the OM's own (``om_multipart``), so an
upload started through ozs3 can be finished through Ozone's S3 gateway and
the other way round.

Parts are written like keys (``ClusterKeyWriter``, committed as parts);
Complete stitches their blocks in the OM, moving no data.  The completed
key's ETag is the one the OM computes and stores (Ozone's rule: the MD5 of
the parts' hex ETags joined, ``-N``): the OM keeps no other, and has no
request to change a key's metadata afterwards, so every reader of the
cluster (Ozone's gateway included) sees that one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..._deferred import async_to_deferred
from ..errors import UploadNotFound
from ..model import (
    KeyInfo,
    ObjectMeta,
    PartInfo,
    PartListing,
    Precondition,
    UploadInfo,
    UploadListing,
    UploadQuery,
)
from ..upload_pages import list_uploads_in
from .key_meta import ozone_metadata
from .not_yet import refuse_unsupported
from .om_client import OMClient
from .om_types import OzoneUpload
from .replication import replication_args, replication_name

# Uploads fetched from the OM per request while listing them.
UPLOADS_PAGE = 1000


class ClusterMultipart:
    """Mixed into ``ClusterObjectStore``."""

    om: OMClient

    async def _pinned(self, name: str, bucket_id: int | None) -> None:
        raise NotImplementedError

    async def _lookup(self, bucket: str, key: str) -> KeyInfo:
        raise NotImplementedError

    @async_to_deferred
    async def create_upload(
        self, bucket: str, key: str, meta: ObjectMeta, owner: str,
        bucket_id: int | None = None,
    ) -> UploadInfo:  # fmt: skip
        refuse_unsupported(meta, None)
        await self._pinned(bucket, bucket_id)
        upload_id = await self.om.initiate_upload(
            bucket, key, owner=owner or None, metadata=ozone_metadata(meta),
            tags=dict(meta.tags), replication=replication_args(meta.replication),
        )  # fmt: skip
        return UploadInfo(bucket, key, upload_id, time.time(), meta, owner)

    @async_to_deferred
    async def abort_upload(
        self, bucket: str, key: str, upload_id: str, bucket_id: int | None = None
    ) -> None:
        await self._pinned(bucket, bucket_id)
        await self.om.abort_upload(bucket, key, upload_id)

    @async_to_deferred
    async def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]],
        bucket_id: int | None = None, precondition: Precondition | None = None,
        owner: str = "",
    ) -> KeyInfo:  # fmt: skip
        refuse_unsupported(ObjectMeta(), precondition)
        await self._pinned(bucket, bucket_id)
        await self.om.complete_upload(
            bucket, key, upload_id, parts, owner=owner or None,
            if_absent=precondition is not None and precondition.absent,
            if_etag=None if precondition is None else precondition.etag,
        )  # fmt: skip
        # The OM answers only the ETag; the key as it now stands (its size,
        # time, metadata and parts) is one lookup away.
        return await self._lookup(bucket, key)

    async def _upload(self, bucket: str, key: str, upload_id: str) -> OzoneUpload:
        page = await self.om.list_uploads(bucket, prefix=key, max_uploads=UPLOADS_PAGE)
        while True:
            for u in page.uploads:
                if u.key == key and u.upload_id == upload_id:
                    return u
            if not page.truncated:
                raise UploadNotFound(upload_id)
            page = await self.om.list_uploads(
                bucket, key, page.next_key, page.next_upload_id, UPLOADS_PAGE
            )

    @async_to_deferred
    async def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int,
        bucket_id: int | None = None,
    ) -> PartListing:  # fmt: skip
        await self._pinned(bucket, bucket_id)
        upload = await self._upload(bucket, key, upload_id)
        page = await self.om.list_parts(bucket, key, upload_id, marker, max_parts)
        parts = tuple(
            PartInfo(p.number, p.size, p.etag or p.name, p.modified) for p in page.parts
        )
        meta = ObjectMeta(
            replication=replication_name(
                upload.replication_type, upload.replication_factor
            )
        )
        return PartListing(
            UploadInfo(bucket, key, upload_id, upload.created, meta),
            parts,
            page.truncated,
            page.next_marker if page.truncated else None,
        )

    @async_to_deferred
    async def list_uploads(
        self, bucket: str, query: UploadQuery, bucket_id: int | None = None
    ) -> UploadListing:
        await self._pinned(bucket, bucket_id)
        # The OM lists uploads in its own order (its table's, not S3's key
        # then id) and knows no delimiter: take every upload under the
        # prefix, then page them as S3 does.
        found: list[UploadInfo] = []
        key_marker = id_marker = ""
        while True:
            page = await self.om.list_uploads(
                bucket, query.prefix, key_marker, id_marker, UPLOADS_PAGE
            )
            found.extend(_upload_info(bucket, u) for u in page.uploads)
            if not page.truncated or not page.uploads:
                break
            key_marker, id_marker = page.next_key, page.next_upload_id
        return list_uploads_in(found, query)


def _upload_info(bucket: str, u: OzoneUpload) -> UploadInfo:
    meta = ObjectMeta(replication=replication_name(u.replication_type,
                                                   u.replication_factor))  # fmt: skip
    return UploadInfo(bucket, u.key, u.upload_id, u.created, meta)
