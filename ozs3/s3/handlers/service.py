"""Service-level operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import Call, S3Response
from ..xml import list_buckets_xml

if TYPE_CHECKING:
    from ..app import S3Gateway

XML = {"content-type": "application/xml"}


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
    return S3Response(200, dict(XML), list_buckets_xml(buckets, owner))
