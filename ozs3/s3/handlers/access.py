"""Put/Get/DeletePublicAccessBlock and Put/Get/DeleteBucketOwnershipControls
(bucket_access.py says what each setting does here).  The public access
block is read by authz.py (RestrictPublicBuckets) and policy.py's handler
(BlockPublicPolicy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.model import BUCKET_PUBLIC_ACCESS
from ..bucket_access import (
    ENFORCED,
    check_ownership,
    decode_block,
    encode_block,
    ownership_xml,
    parse_ownership,
    parse_public_access_block,
    public_access_block_xml,
)
from ..context import Call, S3Response
from ..errors import S3Error
from .bucket import XML, bucket_of
from .settings import read_setting, write_setting

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_public_access_block(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(
        gw, call, BUCKET_PUBLIC_ACCESS, "NoSuchPublicAccessBlockConfiguration"
    )
    block = decode_block(text)
    return S3Response(200, dict(XML), public_access_block_xml(block))


async def put_public_access_block(gw: S3Gateway, call: Call) -> S3Response:
    block = parse_public_access_block(call.body)
    await write_setting(
        gw, call, BUCKET_PUBLIC_ACCESS, encode_block(block), gw.public_access
    )
    return S3Response(200)


async def delete_public_access_block(gw: S3Gateway, call: Call) -> S3Response:
    await write_setting(gw, call, BUCKET_PUBLIC_ACCESS, None, gw.public_access)
    return S3Response(204)


async def get_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    # Every bucket here, on either store, is BucketOwnerEnforced (S3's
    # default for new ones): nothing is stored, the bucket must exist.
    await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    return S3Response(200, dict(XML), ownership_xml(ENFORCED))


async def put_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    value = parse_ownership(call.body)
    check_ownership(value, "ObjectOwnership")
    bucket = bucket_of(call)
    await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    return S3Response(200)


async def delete_ownership_controls(gw: S3Gateway, call: Call) -> S3Response:
    # Without controls a bucket's ACLs are enabled (ObjectWriter): not had
    # here, so refused rather than answered 204 and not acted on.
    bucket_of(call)
    raise S3Error(
        "NotImplemented",
        "DeleteBucketOwnershipControls: ACLs are not kept here, only "
        "BucketOwnerEnforced (the bucket owner owns every object)",
    )
