"""What the cluster backend cannot do yet: bucket settings (tags,
lifecycle, ACLs), object ACLs and the leases of the lifecycle service,
conditions the OM cannot check, EC keys.  Refused with ``NotSupported``
(S3's 501, naming it) before anything is stored, never accepted and
dropped."""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred, fail

from ..errors import NotSupported
from ..model import (
    BucketInfo,
    ListedKey,
    ObjectMeta,
    Precondition,
)
from .replication import replication_args


class NotYetOnCluster:
    """Mixed into ``ClusterObjectStore``: the interface's calls it refuses."""

    # -- bucket settings, lifecycle ------------------------------------------

    def get_bucket_setting(
        self, bucket: str, name: str, bucket_id: int | None = None
    ) -> Deferred[str | None]:
        return fail(NotSupported(f"bucket {name}"))

    def set_bucket_setting(
        self, bucket: str, name: str, value: str | None, bucket_id: int | None = None
    ) -> Deferred[None]:
        return fail(NotSupported(f"bucket {name}"))

    def set_key_acl(
        self,
        bucket: str,
        key: str,
        acl: Sequence[tuple[str, str, str]],
        bucket_id: int | None = None,
    ) -> Deferred[None]:
        # The OM's ACLs are Ozone's (user/group rights shared with ofs), not
        # S3 grants: buckets here stay BucketOwnerEnforced.
        return fail(NotSupported("S3 object ACLs"))

    def buckets_with_setting(self, name: str) -> Deferred[list[tuple[BucketInfo, str]]]:
        return fail(NotSupported(f"bucket {name}"))

    def expire_keys(
        self, bucket: str, versions: Sequence[ListedKey], bucket_id: int | None = None
    ) -> Deferred[list[ListedKey]]:
        return fail(NotSupported("lifecycle"))

    def claim_lease(
        self, name: str, holder: str, seconds: float, every: float = 0.0
    ) -> Deferred[float | None]:
        return fail(NotSupported("leases"))

    def finish_lease(self, name: str, holder: str, done_at: float) -> Deferred[bool]:
        return fail(NotSupported("leases"))


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
    if meta is not None:
        replication_args(meta.replication)
        if meta.acl:
            raise NotSupported("S3 object ACLs")  # NotSupported for unknown schemes
