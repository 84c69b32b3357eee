"""The Ozone Manager client: Deferred-returning calls over one OMTransport,
each answering plain records (``om_types``) or raising a storage error
(``om_errors``: BucketNotFound, KeyNotFound, ..., OMError for the rest,
OMUnavailable when the OM cannot be asked within the deadline).

Buckets live in the S3 volume the OM names (GetS3VolumeContext, normally
``s3v``): call ``start()`` first; it also learns the OM's version (ServiceList)
so calls can use newer requests only where the OM has them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.interfaces import IReactorFromThreads

from ..errors import BucketAlreadyExists
from . import om_codec as codec
from .om_multipart import MultipartCalls
from .om_transport import OMTransport, om_transport
from .om_types import (
    ETAG_KEY,
    OM_VERSION_LIGHTWEIGHT_LIST_KEYS,
    OM_VERSION_OPTIMIZED_GET_KEY_INFO,
    DeleteKeysResult,
    KeyBlock,
    KeyPage,
    KeySummaryPage,
    OpenKeySession,
    OzoneBucket,
    OzoneKey,
    Replication,
    S3VolumeContext,
    ServiceList,
)
from .proto import hdds_pb2, om_pb2

DEFAULT_DEADLINE = 30.0


class OMClient(MultipartCalls):
    """``access_id`` is the identity sent with every request (s3Authentication;
    an unsecured OM checks no signature) and the default owner of what it creates."""

    def __init__(
        self,
        transport: OMTransport,
        *,
        access_id: str = "ozs3",
        deadline: float = DEFAULT_DEADLINE,
        client_id: str | None = None,
    ) -> None:
        self.transport = transport
        self.access_id = access_id
        self.deadline = deadline
        # Like Ozone's client (a Ratis ClientId): one id per client, for the OM's logs.
        self.client_id = client_id or f"client-{uuid.uuid4().hex.upper()}"
        self.om_version: int | None = None
        self._volume: str | None = None

    @classmethod
    def connect(
        cls, address: str, reactor: IReactorFromThreads, **kwargs: Any
    ) -> OMClient:
        """A client for the OM at ``host:port`` (its gRPC port, ozone.om.grpc.port)."""
        return cls(om_transport(address, reactor), **kwargs)

    def close(self) -> Deferred[None] | None:
        """Close the channel (a Deferred on the asyncio reactor, where it is async)."""
        return self.transport.close()

    @property
    def volume(self) -> str:
        if self._volume is None:
            raise RuntimeError("OMClient.start() has not completed")
        return self._volume

    @inlineCallbacks
    def start(self) -> Any:
        """Learn the OM's version and the S3 volume; fails (OMUnavailable) if
        the OM cannot be reached within the deadline."""
        services = yield self.service_list()
        self.om_version = services.om_version
        context = yield self.get_s3_volume_context()
        self._volume = context.volume

    def _submit(
        self, cmd_type: int, body: Any, bucket: str = "", access_id: str | None = None
    ) -> Deferred[Any]:
        request = codec.om_request(
            cmd_type,
            self.client_id,
            self.access_id if access_id is None else access_id,
            body,
        )
        d = self.transport.submit(request, self.deadline)
        d.addCallback(codec.response_body, bucket)
        return d

    # --- service ----------------------------------------------------------

    def service_list(self) -> Deferred[ServiceList]:
        d = self._submit(om_pb2.ServiceList, om_pb2.ServiceListRequest())
        return d.addCallback(codec.service_list)

    def get_s3_volume_context(self) -> Deferred[S3VolumeContext]:
        d = self._submit(om_pb2.GetS3VolumeContext, om_pb2.GetS3VolumeContextRequest())
        return d.addCallback(codec.volume_context)

    # --- buckets ----------------------------------------------------------

    @inlineCallbacks
    def create_bucket(
        self, name: str, owner: str | None = None, layout: str = "OBJECT_STORE"
    ) -> Any:
        """Create ``name`` in the S3 volume, owned by ``owner`` (default: the
        access id), with ``layout`` (Ozone's s3g default: OBJECT_STORE).
        BucketAlreadyExists carries the existing bucket's owner."""
        info = om_pb2.BucketInfo(
            volumeName=self.volume,
            bucketName=name,
            isVersionEnabled=False,
            storageType=hdds_pb2.DISK,
            bucketLayout=om_pb2.BucketLayoutProto.Value(layout),
            owner=owner or self.access_id,
            # No quota, as Ozone's client sends it (OzoneConsts.QUOTA_RESET);
            # left unset the OM stores the proto default -2 ("old default").
            quotaInBytes=-1,
            quotaInNamespace=-1,
        )
        body = om_pb2.CreateBucketRequest(bucketInfo=info)
        try:
            yield self._submit(om_pb2.CreateBucket, body, name)
        except BucketAlreadyExists as e:
            try:
                existing = yield self.info_bucket(name)
            except Exception:
                raise e from None
            e.owner = existing.owner
            raise

    def info_bucket(self, name: str) -> Deferred[OzoneBucket]:
        body = om_pb2.InfoBucketRequest(volumeName=self.volume, bucketName=name)
        d = self._submit(om_pb2.InfoBucket, body, name)
        return d.addCallback(lambda r: codec.bucket(r.bucketInfo))

    def delete_bucket(self, name: str) -> Deferred[None]:
        body = om_pb2.DeleteBucketRequest(volumeName=self.volume, bucketName=name)
        return self._submit(om_pb2.DeleteBucket, body, name).addCallback(_none)

    def list_buckets(
        self, prefix: str = "", start_after: str = "", count: int = 1000
    ) -> Deferred[list[OzoneBucket]]:
        """Up to ``count`` buckets of the S3 volume in name order, after
        ``start_after``."""
        body = om_pb2.ListBucketsRequest(volumeName=self.volume, count=count)
        if prefix:
            body.prefix = prefix
        if start_after:
            body.startKey = start_after
        d = self._submit(om_pb2.ListBuckets, body)
        return d.addCallback(lambda r: [codec.bucket(b) for b in r.bucketInfo])

    # --- writing a key ----------------------------------------------------

    def open_key(
        self,
        bucket: str,
        key: str,
        size: int = 0,
        *,
        owner: str | None = None,
        metadata: Mapping[str, str] | None = None,
        replication: Replication | None = None,
        tags: Mapping[str, str] | None = None,
        if_absent: bool = False,
        if_etag: str | None = None,
        part: tuple[str, int] | None = None,
    ) -> Deferred[OpenKeySession]:
        """CreateKey: an open session for ``key``; with ``size`` > 0 the OM
        pre-allocates blocks for it (``session.blocks``), else none (AllocateBlock).
        ``replication`` ("RATIS", 1) etc.; None: the bucket's/cluster's default.
        ``tags``: the key's S3 tags.  ``if_absent`` / ``if_etag``: the OM
        creates, and later commits, the key only if no key of that name
        exists / the existing one has that ETag (Ozone's conditional writes:
        expectedDataGeneration 0, expectedETag).  ``part``: (upload id, part
        number), a part of that multipart upload (``commit_part``)."""
        conditions = codec.write_conditions(if_absent, if_etag)
        args = codec.key_args(
            self.volume,
            bucket,
            key,
            ownerName=owner or self.access_id,
            metadata=codec.key_values(metadata or {}),
            tags=codec.key_values(tags or {}),
            sortDatanodes=False,
            **codec.replication_fields(replication),
            **conditions,
        )
        if size > 0:
            args.dataSize = size
        if part is not None:
            args.isMultipartKey = True
            args.multipartUploadID, args.multipartNumber = part
        body = om_pb2.CreateKeyRequest(keyArgs=args)
        d = self._submit(om_pb2.CreateKey, body, bucket)
        return d.addCallback(
            lambda r: OpenKeySession(r.ID, codec.key(r.keyInfo), r.openVersion, part)
        )

    def allocate_block(
        self,
        session: OpenKeySession,
        *,
        exclude_datanodes: Sequence[str] = (),
        exclude_containers: Sequence[int] = (),
        exclude_pipelines: Sequence[str] = (),
    ) -> Deferred[KeyBlock]:
        """One more block for an open key, avoiding the datanodes (uuids),
        containers and pipelines (ids) a failed write named.  The request
        repeats the key's replication, as Ozone's client does (without it the
        OM fails: "Not supported replication: NONE")."""
        exclude = hdds_pb2.ExcludeListProto(
            datanodes=list(exclude_datanodes),
            containerIds=list(exclude_containers),
            pipelineIds=[hdds_pb2.PipelineID(id=p) for p in exclude_pipelines],
        )
        k = session.key
        args = codec.key_args(
            k.volume,
            k.bucket,
            k.name,
            dataSize=0,
            sortDatanodes=False,
            **codec.replication_fields(_replication(k)),
        )
        body = om_pb2.AllocateBlockRequest(
            keyArgs=args, clientID=session.session_id, excludeList=exclude
        )
        d = self._submit(om_pb2.AllocateBlock, body, k.bucket)
        return d.addCallback(lambda r: codec.key_block(r.keyLocation))

    def commit_key(
        self,
        session: OpenKeySession,
        blocks: Sequence[KeyBlock],
        size: int,
        *,
        metadata: Mapping[str, str] | None = None,
        etag: str | None = None,
    ) -> Deferred[None]:
        """Make the key visible: ``blocks`` with the bytes written to each
        (``length``) and the BCSID the datanode returned, ``size`` in all.
        ``etag`` (lower-case hex MD5, no quotes) is stored under metadata
        ``ETag``, as Ozone's S3 gateway stores it."""
        meta = dict(metadata or {})
        if etag is not None:
            meta[ETAG_KEY] = etag
        k = session.key
        args = codec.key_args(
            k.volume,
            k.bucket,
            k.name,
            dataSize=size,
            keyLocations=[codec.key_location(b) for b in blocks],
            metadata=codec.key_values(meta),
            **codec.replication_fields(_replication(k)),
        )
        body = om_pb2.CommitKeyRequest(keyArgs=args, clientID=session.session_id)
        return self._submit(om_pb2.CommitKey, body, k.bucket).addCallback(_none)

    # --- reading, deleting, listing keys -----------------------------------

    def get_key(
        self, bucket: str, key: str, *, head: bool = False
    ) -> Deferred[OzoneKey]:
        """The key with its latest blocks, their pipelines and datanodes
        (GetKeyInfo; LookupKey on an OM older than OPTIMIZED_GET_KEY_INFO).
        ``head``: metadata only, no block locations."""
        if (self.om_version or 0) < OM_VERSION_OPTIMIZED_GET_KEY_INFO:
            return self.lookup_key(bucket, key, head=head)
        args = codec.key_args(
            self.volume, bucket, key, latestVersionLocation=True, headOp=head
        )
        body = om_pb2.GetKeyInfoRequest(keyArgs=args, assumeS3Context=False)
        d = self._submit(om_pb2.GetKeyInfo, body, bucket)
        return d.addCallback(lambda r: codec.key(r.keyInfo))

    def lookup_key(
        self, bucket: str, key: str, *, head: bool = False
    ) -> Deferred[OzoneKey]:
        args = codec.key_args(
            self.volume, bucket, key, latestVersionLocation=True, headOp=head
        )
        body = om_pb2.LookupKeyRequest(keyArgs=args)
        d = self._submit(om_pb2.LookupKey, body, bucket)
        return d.addCallback(lambda r: codec.key(r.keyInfo))

    def put_object_tagging(
        self, bucket: str, key: str, tags: Mapping[str, str]
    ) -> Deferred[None]:
        """Replace the key's tags (PutObjectTagging; DeleteObjectTagging for
        none); its data, ETag and time stay."""
        args = codec.key_args(self.volume, bucket, key, tags=codec.key_values(tags))
        if tags:
            body: Any = om_pb2.PutObjectTaggingRequest(keyArgs=args)
            d = self._submit(om_pb2.PutObjectTagging, body, bucket)
        else:
            body = om_pb2.DeleteObjectTaggingRequest(keyArgs=args)
            d = self._submit(om_pb2.DeleteObjectTagging, body, bucket)
        return d.addCallback(_none)

    def delete_key(self, bucket: str, key: str) -> Deferred[None]:
        body = om_pb2.DeleteKeyRequest(keyArgs=codec.key_args(self.volume, bucket, key))
        return self._submit(om_pb2.DeleteKey, body, bucket).addCallback(_none)

    def delete_keys(
        self, bucket: str, keys: Sequence[str]
    ) -> Deferred[DeleteKeysResult]:
        """Delete several keys in one request; keys the OM could not delete are
        in ``failed`` (a partial delete is not an error)."""
        body = om_pb2.DeleteKeysRequest(
            deleteKeys=om_pb2.DeleteKeyArgs(
                volumeName=self.volume, bucketName=bucket, keys=list(keys)
            )
        )
        request = codec.om_request(
            om_pb2.DeleteKeys, self.client_id, self.access_id, body
        )
        d = self.transport.submit(request, self.deadline)
        return d.addCallback(_delete_keys_result, list(keys), bucket)

    def list_keys(
        self, bucket: str, prefix: str = "", start_after: str = "", count: int = 1000
    ) -> Deferred[KeyPage]:
        """Up to ``count`` keys (full KeyInfo) in name order after ``start_after``."""
        body = _list_keys_body(self.volume, bucket, prefix, start_after, count)
        d = self._submit(om_pb2.ListKeys, body, bucket)
        return d.addCallback(
            lambda r: KeyPage(tuple(codec.key(k) for k in r.keyInfo), r.isTruncated)
        )

    def list_key_summaries(
        self, bucket: str, prefix: str = "", start_after: str = "", count: int = 1000
    ) -> Deferred[KeySummaryPage]:
        """As list_keys, only what a listing shows (ListKeysLight where the OM
        has it)."""
        if (self.om_version or 0) < OM_VERSION_LIGHTWEIGHT_LIST_KEYS:
            full = self.list_keys(bucket, prefix, start_after, count)
            return full.addCallback(
                lambda p: KeySummaryPage(
                    tuple(codec.summary_of(k) for k in p.keys), p.truncated
                )
            )
        body = _list_keys_body(self.volume, bucket, prefix, start_after, count)
        d = self._submit(om_pb2.ListKeysLight, body, bucket)
        return d.addCallback(
            lambda r: KeySummaryPage(
                tuple(codec.key_summary(k) for k in r.basicKeyInfo), r.isTruncated
            )
        )


def _replication(k: OzoneKey) -> Replication | None:
    if k.replication_type in ("RATIS", "STAND_ALONE"):
        return (k.replication_type, k.replication_factor)
    return k.ec


def _none(_: object) -> None:
    return None


def _list_keys_body(
    volume: str, bucket: str, prefix: str, start_after: str, count: int
) -> Any:
    body = om_pb2.ListKeysRequest(volumeName=volume, bucketName=bucket, count=count)
    if prefix:
        body.prefix = prefix
    if start_after:
        body.startKey = start_after
    return body


def _delete_keys_result(
    response: Any, keys: list[str], bucket: str
) -> DeleteKeysResult:
    if response.HasField("status") and response.status == om_pb2.PARTIAL_DELETE:
        body = response.deleteKeysResponse
    else:
        body = codec.response_body(response, bucket)
    failed = tuple((e.key, e.errorCode, e.errorMsg) for e in body.errors)
    undeleted = set(body.unDeletedKeys.keys) | {f[0] for f in failed}
    return DeleteKeysResult(
        deleted=tuple(k for k in keys if k not in undeleted), failed=failed
    )
