"""Who is asking, and may they: authentication and bucket authorization.

Security off (``ozone.security.enabled=false``): signatures are parsed only
to learn the access key, and everyone may do everything.  Security on: every
request must carry a valid SigV4 (header or presigned query) or SigV2
(header or query) signature made with the secret ``ozs3 s3 getsecret``
issued; a bucket belongs to whoever created it, and only they and the users
in ``ozone.administrators`` reach it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import attrs

from .auth import signature_info
from .context import Call
from .errors import S3Error
from .signed_request import HttpRequest
from .sigv2 import parse_sigv2, verify_sigv2
from .sigv4 import SigningContext, verify_sigv4
from .sigv4_parse import parse_sigv4

if TYPE_CHECKING:
    from .app import S3Gateway


@attrs.frozen
class Principal:
    access_key: str
    admin: bool
    # For signed aws-chunked bodies: the context their chunk signatures
    # chain from.
    signing: SigningContext | None = None


def http_request(call: Call) -> HttpRequest:
    return HttpRequest(
        call.s3.method, call.raw_path, call.raw_query, call.headers.pairs
    )


def _is_admin(gw: S3Gateway, access_key: str) -> bool:
    admins = gw.config.administrators
    return "*" in admins or access_key in admins


async def _secret(gw: S3Gateway, access_key: str) -> str:
    secret = await gw.store.get_s3_secret(access_key)
    if secret is None:
        raise S3Error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            extra={"AWSAccessKeyId": access_key},
        )
    return secret


async def authenticate(gw: S3Gateway, call: Call) -> Principal:
    if not gw.config.security_enabled:
        sig = signature_info(call.headers.get("authorization"), call.s3.query)
        return Principal(sig.access_key, admin=True)
    req = http_request(call)
    now = time.time()
    v4 = parse_sigv4(req)
    if v4 is not None:
        key = v4.credential.access_key
        context = verify_sigv4(req, v4, await _secret(gw, key), now)
        return Principal(key, _is_admin(gw, key), context)
    v2 = parse_sigv2(req)
    if v2 is not None:
        key = v2.access_key
        prefix = f"/{call.s3.bucket}" if call.s3.style == "virtual" else ""
        verify_sigv2(req, v2, await _secret(gw, key), now, resource_prefix=prefix)
        return Principal(key, _is_admin(gw, key))
    raise S3Error("AccessDenied", "Anonymous access is not allowed.")


async def check_bucket_access(gw: S3Gateway, call: Call, bucket: str) -> None:
    """Security on: AccessDenied unless the caller owns ``bucket`` (or is an
    admin), NoSuchBucket if there is none.  The bucket allowed is pinned on
    the call by its id: the request acts on it or on nothing, even if it is
    deleted and someone else creates one of its name meanwhile."""
    principal = call.principal
    if principal is None or not gw.config.security_enabled:
        return
    info = await gw.store.get_bucket(bucket)
    if not principal.admin and info.owner != principal.access_key:
        raise S3Error("AccessDenied")
    call.bucket_ids[bucket] = info.id


async def authorize(gw: S3Gateway, call: Call) -> None:
    if call.op in ("ListBuckets", "CreateBucket") or call.s3.bucket is None:
        return
    await check_bucket_access(gw, call, call.s3.bucket)
    await check_expected_owner(gw, call, call.s3.bucket, EXPECTED_OWNER)
    if call.op in ("CopyObject", "UploadPartCopy"):
        from .handlers.copy import copy_source

        source_bucket = copy_source(call)[0]
        await check_bucket_access(gw, call, source_bucket)
        await check_expected_owner(gw, call, source_bucket, EXPECTED_SOURCE_OWNER)


EXPECTED_OWNER = "x-amz-expected-bucket-owner"
EXPECTED_SOURCE_OWNER = "x-amz-source-expected-bucket-owner"


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
