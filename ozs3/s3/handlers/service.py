"""Service-level operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import Call, S3Response
from ..errors import S3Error
from ..xml import list_buckets_xml
from .bucket import decode_token, encode_token, int_arg

if TYPE_CHECKING:
    from ..app import S3Gateway

XML = {"content-type": "application/xml"}
MAX_BUCKETS = 10_000
# Every bucket is in the gateway's one region (GetBucketLocation: us-east-1).
REGION = "us-east-1"


async def list_buckets(gw: S3Gateway, call: Call) -> S3Response:
    buckets = await gw.store.list_buckets()
    principal = call.principal
    if principal is not None and not principal.admin:
        # Isolation: users see only their own buckets.
        buckets = [b for b in buckets if b.owner == principal.access_key]
    # S3 lists the buckets of one owner, the caller.  Here the list may be
    # someone else's (an admin's view, security off): name their owner;
    # the caller only for an empty list or buckets of several owners.
    owners = {b.owner for b in buckets}
    owner = owners.pop() if len(owners) == 1 else call.access_key
    # Paging as AWS pages it: max-buckets (1..10000), an opaque continuation
    # token naming the last bucket sent, prefix, bucket-region.
    limit = int_arg(call, "max-buckets", MAX_BUCKETS)
    if not 1 <= limit <= MAX_BUCKETS:
        raise S3Error(
            "InvalidArgument",
            f"Argument max-buckets must be an integer between 1 and {MAX_BUCKETS}",
            extra={"ArgumentName": "max-buckets", "ArgumentValue": str(limit)},
        )
    asked_prefix = call.s3.arg("prefix")
    prefix = asked_prefix or ""
    token = call.s3.arg("continuation-token")
    after = decode_token(token) if token else ""
    region = call.s3.arg("bucket-region")
    selected = sorted(
        (b for b in buckets if b.name.startswith(prefix) and b.name > after),
        key=lambda b: b.name,
    )
    if region is not None and region != REGION:
        selected = []
    page = selected[:limit]
    next_token = encode_token(page[-1].name) if len(selected) > limit else None
    body = list_buckets_xml(page, owner, next_token, asked_prefix)
    return S3Response(200, dict(XML), body)
