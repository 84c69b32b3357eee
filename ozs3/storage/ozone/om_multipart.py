"""The OM's multipart calls (Ozone's S3 multipart upload requests), mixed
into ``OMClient``.

A part is an open key of its own (CreateKey with ``isMultipartKey``, written
like any key) committed with CommitMultiPartUpload; CompleteMultiPartUpload
stitches the listed parts' block lists into the key (no data moves) and the
OM stores its own ETag for it.  ``ListMultipartUploads`` is request field 83
of OMRequest though its Type is 82 (Ozone's numbering).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred

from . import om_codec as codec
from .om_types import (
    ETAG_KEY,
    CommittedPart,
    KeyBlock,
    OpenKeySession,
    OzonePart,
    OzoneUpload,
    PartsPage,
    Replication,
    UploadsPage,
)
from .proto import hdds_pb2, om_pb2


def _seconds(ms: int) -> float:
    return ms / 1000.0


def _replication_name(rtype: int) -> str:
    return hdds_pb2.ReplicationType.Name(rtype)


class MultipartCalls:
    """Needs ``volume``, ``access_id`` and ``_submit`` (``OMClient``)."""

    access_id: str

    @property
    def volume(self) -> str:
        raise NotImplementedError

    def _submit(
        self, cmd_type: int, body: Any, bucket: str = "", access_id: str | None = None
    ) -> Deferred[Any]:
        raise NotImplementedError

    def initiate_upload(
        self,
        bucket: str,
        key: str,
        *,
        owner: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        replication: Replication | None = None,
    ) -> Deferred[str]:
        """A new upload for ``key``; its id.  ``metadata`` and ``tags`` land
        on the completed key."""
        args = codec.key_args(
            self.volume,
            bucket,
            key,
            ownerName=owner or self.access_id,
            metadata=codec.key_values(metadata or {}),
            tags=codec.key_values(tags or {}),
            **codec.replication_fields(replication),
        )
        body = om_pb2.MultipartInfoInitiateRequest(keyArgs=args)
        d = self._submit(om_pb2.InitiateMultiPartUpload, body, bucket)
        return d.addCallback(lambda r: r.multipartUploadID)

    def commit_part(
        self,
        session: OpenKeySession,
        blocks: Sequence[KeyBlock],
        size: int,
        etag: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Deferred[CommittedPart]:
        """Make the part written in ``session`` (``open_key(part=...)``) the
        upload's part of that number, replacing an earlier one.  ``etag``
        (hex MD5) is stored under the part's metadata ``ETag``, which
        Complete and ListParts quote."""
        assert session.part is not None, "not a part's session"
        upload_id, number = session.part
        k = session.key
        args = codec.key_args(
            k.volume,
            k.bucket,
            k.name,
            dataSize=size,
            keyLocations=[codec.key_location(b) for b in blocks],
            metadata=codec.key_values({**(metadata or {}), ETAG_KEY: etag}),
            isMultipartKey=True,
            multipartUploadID=upload_id,
            multipartNumber=number,
        )
        body = om_pb2.MultipartCommitUploadPartRequest(
            keyArgs=args, clientID=session.session_id
        )
        d = self._submit(om_pb2.CommitMultiPartUpload, body, k.bucket)
        return d.addCallback(lambda r: CommittedPart(r.partName, r.eTag))

    def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        owner: str | None = None,
        if_absent: bool = False,
        if_etag: str | None = None,
    ) -> Deferred[str]:
        """Stitch ``parts`` ((number, ETag), ascending) into the key; the
        ETag the OM stored for it.  ``if_absent`` / ``if_etag`` as for
        ``open_key``."""
        conditions = codec.write_conditions(if_absent, if_etag)
        args = codec.key_args(
            self.volume,
            bucket,
            key,
            multipartUploadID=upload_id,
            ownerName=owner or self.access_id,
            **conditions,
        )
        body = om_pb2.MultipartUploadCompleteRequest(
            keyArgs=args,
            partsList=[
                om_pb2.Part(partNumber=n, partName=etag, eTag=etag) for n, etag in parts
            ],
        )
        d = self._submit(om_pb2.CompleteMultiPartUpload, body, bucket)
        return d.addCallback(lambda r: r.hash)

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> Deferred[None]:
        args = codec.key_args(self.volume, bucket, key, multipartUploadID=upload_id)
        body = om_pb2.MultipartUploadAbortRequest(keyArgs=args)
        d = self._submit(om_pb2.AbortMultiPartUpload, body, bucket)
        return d.addCallback(lambda _: None)

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int
    ) -> Deferred[PartsPage]:
        body = om_pb2.MultipartUploadListPartsRequest(
            volume=self.volume,
            bucket=bucket,
            key=key,
            uploadID=upload_id,
            partNumbermarker=marker,
            maxParts=max_parts,
        )
        d = self._submit(om_pb2.ListMultiPartUploadParts, body, bucket)
        return d.addCallback(_parts_page)

    def list_uploads(
        self,
        bucket: str,
        prefix: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> Deferred[UploadsPage]:
        body = om_pb2.ListMultipartUploadsRequest(
            volume=self.volume,
            bucket=bucket,
            prefix=prefix,
            keyMarker=key_marker,
            uploadIdMarker=upload_id_marker,
            maxUploads=max_uploads,
            withPagination=True,
        )
        d = self._submit(om_pb2.ListMultipartUploads, body, bucket)
        return d.addCallback(_uploads_page)


def _parts_page(r: Any) -> PartsPage:
    return PartsPage(
        tuple(
            OzonePart(p.partNumber, p.partName, _seconds(p.modificationTime), p.size,
                      p.eTag)
            for p in r.partsList
        ),
        r.isTruncated,
        r.nextPartNumberMarker,
        _replication_name(r.type) if r.HasField("type") else "",
        int(r.factor) if r.HasField("factor") else 0,
    )  # fmt: skip


def _uploads_page(r: Any) -> UploadsPage:
    return UploadsPage(
        tuple(
            OzoneUpload(u.keyName, u.uploadId, _seconds(u.creationTime),
                        _replication_name(u.type), int(u.factor))
            for u in r.uploadsList
        ),
        r.isTruncated,
        r.nextKeyMarker,
        r.nextUploadIdMarker,
    )  # fmt: skip
