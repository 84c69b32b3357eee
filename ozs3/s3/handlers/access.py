"""Put/Get/DeletePublicAccessBlock (bucket_access.py says what it does
here; the ownership controls are acl.py's).  The public access
block is read by authz.py (RestrictPublicBuckets) and policy.py's handler
(BlockPublicPolicy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.model import BUCKET_PUBLIC_ACCESS
from ..bucket_access import (
    decode_block,
    encode_block,
    parse_public_access_block,
    public_access_block_xml,
)
from ..context import Call, S3Response
from .bucket import XML
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
