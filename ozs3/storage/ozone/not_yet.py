"""What the cluster backend cannot do yet (issue 15): refused with
``NotSupported`` (S3's 501, naming it) before anything is stored, never
accepted and dropped."""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred, fail

from ..errors import NotSupported
from ..model import (
    BucketInfo,
    KeyInfo,
    ObjectMeta,
    PartListing,
    Precondition,
    UploadInfo,
    UploadListing,
    UploadQuery,
)


class NotYetOnCluster:
    """Mixed into ``ClusterObjectStore``: the interface's calls it refuses."""

    # -- multipart: the next issue ----------------------------------------------

    def create_upload(
        self, bucket: str, key: str, meta: ObjectMeta, owner: str,
        bucket_id: int | None = None,
    ) -> Deferred[UploadInfo]:  # fmt: skip
        return fail(NotSupported("multipart uploads"))

    def abort_upload(
        self, bucket: str, key: str, upload_id: str, bucket_id: int | None = None
    ) -> Deferred[None]:
        return fail(NotSupported("multipart uploads"))

    def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]],
        bucket_id: int | None = None, precondition: Precondition | None = None,
    ) -> Deferred[KeyInfo]:  # fmt: skip
        return fail(NotSupported("multipart uploads"))

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int,
        bucket_id: int | None = None,
    ) -> Deferred[PartListing]:  # fmt: skip
        return fail(NotSupported("multipart uploads"))

    def list_uploads(
        self, bucket: str, query: UploadQuery, bucket_id: int | None = None
    ) -> Deferred[UploadListing]:
        return fail(NotSupported("multipart uploads"))

    # -- bucket settings, lifecycle: the next issue ------------------------

    def get_bucket_setting(
        self, bucket: str, name: str, bucket_id: int | None = None
    ) -> Deferred[str | None]:
        return fail(NotSupported(f"bucket {name}"))

    def set_bucket_setting(
        self, bucket: str, name: str, value: str | None, bucket_id: int | None = None
    ) -> Deferred[None]:
        return fail(NotSupported(f"bucket {name}"))

    def buckets_with_setting(self, name: str) -> Deferred[list[tuple[BucketInfo, str]]]:
        return fail(NotSupported(f"bucket {name}"))

    def expire_keys(
        self, bucket: str, versions: Sequence[KeyInfo], bucket_id: int | None = None
    ) -> Deferred[list[KeyInfo]]:
        return fail(NotSupported("lifecycle"))

    def claim_lease(
        self, name: str, holder: str, seconds: float, every: float = 0.0
    ) -> Deferred[float | None]:
        return fail(NotSupported("leases"))

    def finish_lease(self, name: str, holder: str, done_at: float) -> Deferred[bool]:
        return fail(NotSupported("leases"))


# The replication a cluster key gets when none is asked for: the bucket's
# (the cluster's) default, which S3 calls STANDARD.
DEFAULT_REPLICATIONS = ("", "RATIS/THREE")


def refuse_unsupported(
    meta: ObjectMeta | None, precondition: Precondition | None
) -> None:
    """What a cluster write cannot carry yet: refused, not dropped.  Ozone's
    OM checks If-None-Match: * and If-Match: "etag" itself; If-Match: *
    (any version), a lifecycle's exact version and conditional deletes
    it cannot."""
    if precondition is not None and (
        meta is None
        or precondition.present
        or precondition.size is not None
        or precondition.modified is not None
    ):
        raise NotSupported("this conditional write or delete")
    if meta is not None and meta.replication not in DEFAULT_REPLICATIONS:
        raise NotSupported(f"storage classes other than STANDARD ({meta.replication})")
