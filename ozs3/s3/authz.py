"""May they: bucket authorization by owner, bucket policy and ACLs.

Security on: a bucket's owner (the access key that created it) and the
users in ``ozone.administrators`` may do anything with it; anyone else, an
anonymous caller included, only what its bucket policy allows or, where the
bucket's ACLs are enabled (ownership controls other than
BucketOwnerEnforced), what the bucket's or the object's ACL grants.  An
explicit Deny in the policy refuses everyone, owner and administrators
included, except the calls that manage the policy itself (so an owner can
never lock themselves out, as on S3).

Security off: everyone may do everything, as before, except what the
bucket policy explicitly denies to the identity the request names (its
access key if signed, anonymous if not) — a Deny put there takes effect.

The policy is read through ``CachedBucketSetting`` (once per 5 s per bucket
and process, keyed by the bucket's id so a bucket created again under an old
name never inherits a policy).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from ..storage.errors import KeyNotFound, NotSupported
from ..storage.model import BucketInfo
from .acl import READ, acl_permission, decode
from .acl import allows as acl_allows
from .context import Call
from .errors import S3Error
from .policy import ALLOW, DENY, Policy, Request, denials, evaluate
from .policy_actions import OBJECT, action_of, bucket_arn, object_arn
from .tagging import parse_tagging_header

if TYPE_CHECKING:
    from .app import S3Gateway

# What an owner may always do, whatever the policy denies.
POLICY_OPERATIONS = frozenset(
    {"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"}
)
EXPECTED_OWNER = "x-amz-expected-bucket-owner"
EXPECTED_SOURCE_OWNER = "x-amz-source-expected-bucket-owner"


async def authorize(gw: S3Gateway, call: Call) -> None:
    principal = call.principal
    if call.op in ("ListBuckets", "CreateBucket") or call.s3.bucket is None:
        if principal is not None and principal.anonymous and not principal.admin:
            raise S3Error("AccessDenied", "Anonymous access is not allowed.")
        return
    judged = action_of(call.op)
    action = judged[0] if judged else None
    key = call.s3.key if judged and judged[1] == OBJECT else None
    await check_bucket_access(gw, call, call.s3.bucket, action, key)
    await check_expected_owner(gw, call, call.s3.bucket, EXPECTED_OWNER)
    if call.op in ("CopyObject", "UploadPartCopy"):
        from .handlers.copy import copy_source

        source_bucket, source_key = copy_source(call)[:2]
        await check_bucket_access(gw, call, source_bucket, "s3:GetObject", source_key)
        await check_expected_owner(gw, call, source_bucket, EXPECTED_SOURCE_OWNER)


async def check_bucket_access(
    gw: S3Gateway, call: Call, bucket: str, action: str | None, key: str | None
) -> None:
    """AccessDenied unless the caller may do ``action`` (None: only what
    owning the bucket allows) on ``bucket`` / ``key``; NoSuchBucket if there
    is none.  With security on the bucket allowed is pinned on the call by
    its id: the request acts on it or on nothing, even if it is deleted and
    someone else creates one of its name meanwhile."""
    principal = call.principal
    if principal is None:
        return
    if not gw.config.security_enabled:
        await _denies_only(gw, call, bucket, action, key)
        return
    info = await gw.store.get_bucket(bucket)
    owner = principal.admin or (
        not principal.anonymous and info.owner == principal.access_key
    )
    policy = await bucket_policy(gw, bucket, info.id)
    if call.op == "DeleteObjects":
        # Its keys are in its body: the handler judges each (``may``).
        if (
            policy is not None
            and not owner
            and policy.is_public
            and await _restricted(gw, bucket, info.id, ALLOW) is None
        ):
            policy = denials(policy)
        # WRITE on the bucket by its ACL: any key, but what the policy denies.
        writer = owner or await _acl_grants(gw, call, info, "s3:DeleteObject", None)
        call.policy, call.bucket_owner = policy, writer
        if not writer and policy is None:
            raise S3Error("AccessDenied")
    else:
        decision = None
        if policy is not None and action is not None:
            decision = await _judge(
                gw, call, policy, bucket, action, key, info.id, deny_only=owner
            )
        if decision == ALLOW and not owner and policy is not None and policy.is_public:
            decision = await _restricted(gw, bucket, info.id, decision)
        if decision == DENY and not (owner and call.op in POLICY_OPERATIONS):
            raise S3Error("AccessDenied")
        if not owner:
            if decision != ALLOW and not await _acl_grants(gw, call, info, action, key):
                raise S3Error("AccessDenied")
            if call.op in POLICY_OPERATIONS:
                # Only a bucket's owner manages its policy (S3: 405 to others
                # whatever a policy grants them).
                raise S3Error("MethodNotAllowed", extra={"Method": call.s3.method})
    call.bucket_ids[bucket] = info.id
    if not owner and bucket == call.s3.bucket:
        call.access_key = await _object_owner(gw, call, info)


async def _object_owner(gw: S3Gateway, call: Call, info: BucketInfo) -> str:
    """Who owns what a caller not owning the bucket writes there: its
    owner under BucketOwnerEnforced (S3's default), the writer under
    ObjectWriter (or BucketOwnerPreferred without bucket-owner-full-control);
    anonymous writers' objects are always the bucket owner's."""
    from .handlers.acl import access_control, writer_owns

    principal = call.principal
    if principal is None or principal.anonymous:
        return info.owner
    control = await access_control(gw, info.name, info.id)
    return (
        principal.access_key if writer_owns(control, call.headers.get) else info.owner
    )


async def _acl_grants(
    gw: S3Gateway, call: Call, info: BucketInfo, action: str | None, key: str | None
) -> bool:
    """Do the bucket's (or the object's) ACL grants let the caller do
    ``action``?  Only where ACLs are enabled; grants to the public groups
    count for nothing under IgnorePublicAcls.  An object's ACL is read
    only for the reads it governs; a missing object is judged by the
    bucket's READ (its reader learns it is missing: 404, as S3)."""
    from .handlers.acl import access_control

    needed = acl_permission(action)
    if needed is None:
        return False
    control = await access_control(gw, info.name, info.id)
    if not control.acls_enabled:
        return False
    block = await gw.public_access.get(info.name, info.id)
    ignore = block is not None and block.ignore_public_acls
    who = _who(call)
    permission, on_object = needed
    if on_object and key is not None:
        try:
            found = await gw.store.lookup_key(info.name, key, info.id, head=True)
        except KeyNotFound:
            return acl_allows(control.grants, info.owner, who, READ, ignore)
        return acl_allows(decode(found.meta.acl), found.owner, who, permission, ignore)
    return acl_allows(control.grants, info.owner, who, permission, ignore)


async def _denies_only(
    gw: S3Gateway, call: Call, bucket: str, action: str | None, key: str | None
) -> None:
    """Security off: everyone may do everything but what the bucket policy
    explicitly denies.  No bucket read per request (the policy is cached by
    name: a bucket made again under a name may meet its predecessor's
    denies for a few seconds, never its grants)."""
    policy = await bucket_policy(gw, bucket, None)
    if policy is None:
        return
    if call.op == "DeleteObjects":
        call.policy, call.bucket_owner = policy, True
        return
    if action is None or call.op in POLICY_OPERATIONS:
        return
    decision = await _judge(gw, call, policy, bucket, action, key, None, deny_only=True)
    if decision == DENY:
        raise S3Error("AccessDenied")


async def _restricted(
    gw: S3Gateway, bucket: str, bucket_id: int, decision: str
) -> str | None:
    """RestrictPublicBuckets: a public policy grants nobody but the owner."""
    try:
        block = await gw.public_access.get(bucket, bucket_id)
    except NotSupported:
        return decision
    if block is not None and block.restrict_public_buckets:
        return None
    return decision


async def bucket_policy(
    gw: S3Gateway, bucket: str, bucket_id: int | None
) -> Policy | None:
    try:
        return await gw.bucket_policies.get(bucket, bucket_id)
    except NotSupported:
        return None


async def _judge(
    gw: S3Gateway,
    call: Call,
    policy: Policy,
    bucket: str,
    action: str,
    key: str | None,
    bucket_id: int | None,
    deny_only: bool,
) -> str | None:
    context = RequestContext(call)
    if key is not None and policy.needs_object_tags:
        context.add(await _existing_tags(gw, bucket, key, bucket_id))
    resource = bucket_arn(bucket) if key is None else object_arn(bucket, key)
    request = Request(_who(call), action, resource, context)
    return evaluate(policy, request, deny_only)


def may(call: Call, bucket: str, key: str, action: str) -> bool:
    """For an operation that names its keys in its body (DeleteObjects): may
    the caller do ``action`` on this one?  Tag conditions see no tags here."""
    policy = call.policy
    if policy is None:
        return True  # the owner, or nobody else got this far
    request = Request(_who(call), action, object_arn(bucket, key), RequestContext(call))
    decision = evaluate(policy, request)
    if decision == DENY:
        return False
    # With security off everyone counts as the owner (authn: admin).
    return decision == ALLOW or call.bucket_owner


def _who(call: Call) -> str | None:
    principal = call.principal
    if principal is None or principal.anonymous:
        return None
    return principal.access_key


async def _existing_tags(
    gw: S3Gateway, bucket: str, key: str, bucket_id: int | None
) -> dict[str, str | Sequence[str]]:
    try:
        info = await gw.store.lookup_key(bucket, key, bucket_id, head=True)
    except KeyNotFound:
        return {}
    return {f"s3:existingobjecttag/{k}": v for k, v in info.meta.tags}


class RequestContext(Mapping[str, "str | Sequence[str]"]):
    """The condition keys of a request, worked out when a statement first
    asks (most statements are decided by principal, action or resource)."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._keys: dict[str, str | Sequence[str]] | None = None
        self._extra: dict[str, str | Sequence[str]] = {}

    def add(self, keys: Mapping[str, str | Sequence[str]]) -> None:
        self._extra.update(keys)

    def _all(self) -> dict[str, str | Sequence[str]]:
        if self._keys is None:
            self._keys = {**request_context(self._call), **self._extra}
        return self._keys

    def __getitem__(self, key: str) -> str | Sequence[str]:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def request_context(call: Call) -> dict[str, str | Sequence[str]]:
    """The condition keys this request has (lower-cased names)."""
    now = time.time()
    headers = call.headers
    principal = call.principal
    context: dict[str, str | Sequence[str]] = {
        "aws:sourceip": call.remote,
        "aws:securetransport": "true" if call.secure else "false",
        "aws:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "aws:epochtime": str(int(now)),
        "aws:principaltype": "Anonymous"
        if principal is None or principal.anonymous
        else "User",
    }
    who = _who(call)
    if who is not None:
        context["aws:userid"] = context["aws:username"] = who
    for header, name in (
        ("referer", "aws:referer"),
        ("user-agent", "aws:useragent"),
        ("x-amz-acl", "s3:x-amz-acl"),
        ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
        ("x-amz-storage-class", "s3:x-amz-storage-class"),
        ("x-amz-copy-source", "s3:x-amz-copy-source"),
        ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
    ):
        value = headers.get(header)
        if value is not None:
            context[name] = value
    if call.op in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        for arg in ("prefix", "delimiter", "max-keys"):
            value = call.s3.arg(arg)
            if value is not None:
                context[f"s3:{arg}"] = value
    tagging = headers.get("x-amz-tagging")
    if tagging is not None:
        try:
            tags = parse_tagging_header(tagging)
        except S3Error:
            tags = ()  # the operation refuses them itself, after this
        for k, v in tags:
            context[f"s3:requestobjecttag/{k}"] = v
        context["s3:requestobjecttagkeys"] = [k for k, _ in tags]
    if principal is not None and not principal.anonymous:
        presigned = call.s3.has("X-Amz-Signature") or call.s3.has("Signature")
        context["s3:authtype"] = "REST-QUERY-STRING" if presigned else "REST-HEADER"
        context["s3:signatureversion"] = (
            "AWS4-HMAC-SHA256"
            if principal.signing is not None or _is_v4(call)
            else "AWS"
        )
    return context


def _is_v4(call: Call) -> bool:
    auth = call.headers.get("authorization") or ""
    return auth.startswith("AWS4-") or call.s3.has("X-Amz-Algorithm")


async def check_expected_owner(
    gw: S3Gateway, call: Call, bucket: str, header: str
) -> None:
    """``header`` names who the client expects to own ``bucket``: 403
    AccessDenied (AWS's code; Ozone's gateway answers "Access Denied") unless
    it does, before anything is read or changed.  The owner is the access key
    that created the bucket, as ListBuckets' Owner ID shows it."""
    expected = call.headers.get(header)
    if expected is None:
        return
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    if info.owner != expected.strip():
        raise S3Error(
            "AccessDenied", "The bucket owner is not the expected bucket owner."
        )
