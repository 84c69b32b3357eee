"""Object and bucket tags: Get/Put/DeleteObjectTagging and
Get/Put/DeleteBucketTagging.  An object's tags are part of its current
version (Ozone: KeyInfo tags); a bucket's are a bucket setting."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ...storage.model import BUCKET_TAGS
from ..context import Call, S3Response
from ..tagging import (
    BUCKET_TAG_LIMIT,
    OBJECT_TAG_LIMIT,
    check_tags,
    parse_tagging_xml,
    tagging_xml,
)
from .bucket import XML
from .obj import check_version, where
from .settings import read_setting, write_setting

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_object_tagging(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    info = await gw.store.lookup_key(bucket, key, call.bucket_id(bucket), head=True)
    return S3Response(200, dict(XML), tagging_xml(info.meta.tags))


async def put_object_tagging(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    tags = check_tags(parse_tagging_xml(call.body), OBJECT_TAG_LIMIT)
    await gw.store.set_key_tags(bucket, key, tags, call.bucket_id(bucket))
    return S3Response(200)


async def delete_object_tagging(gw: S3Gateway, call: Call) -> S3Response:
    bucket, key = where(call)
    check_version(call)
    await gw.store.set_key_tags(bucket, key, (), call.bucket_id(bucket))
    return S3Response(204)


async def get_bucket_tagging(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(gw, call, BUCKET_TAGS, "NoSuchTagSet")
    tags = [(k, v) for k, v in json.loads(text)]
    return S3Response(200, dict(XML), tagging_xml(tags))


async def put_bucket_tagging(gw: S3Gateway, call: Call) -> S3Response:
    tags = check_tags(parse_tagging_xml(call.body), BUCKET_TAG_LIMIT)
    # An empty TagSet leaves the bucket without tags (GetBucketTagging then
    # answers NoSuchTagSet), as S3 does.
    await write_setting(gw, call, BUCKET_TAGS, json.dumps(tags) if tags else None)
    return S3Response(204)


async def delete_bucket_tagging(gw: S3Gateway, call: Call) -> S3Response:
    await write_setting(gw, call, BUCKET_TAGS, None)
    return S3Response(204)
