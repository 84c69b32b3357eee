"""Get/Put/DeleteBucketLifecycleConfiguration.  The configuration is a
bucket setting (Ozone: the OM's lifecycle configuration table); the
lifecycle service (``ozs3.lifecycle.service``) carries it out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.model import BUCKET_LIFECYCLE
from ..context import Call, S3Response
from ..errors import S3Error
from ..lifecycle import decode, encode
from ..lifecycle_xml import lifecycle_xml, parse_lifecycle
from .bucket import XML, bucket_of

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    text = await gw.store.get_bucket_setting(
        bucket, BUCKET_LIFECYCLE, call.bucket_id(bucket)
    )
    if text is None:
        raise S3Error("NoSuchLifecycleConfiguration", extra={"BucketName": bucket})
    return S3Response(200, dict(XML), lifecycle_xml(decode(text)))


async def put_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    config = parse_lifecycle(call.body)
    await gw.store.set_bucket_setting(
        bucket, BUCKET_LIFECYCLE, encode(config), call.bucket_id(bucket)
    )
    gw.lifecycle_rules.changed(bucket)
    return S3Response(200)


async def delete_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    bucket = bucket_of(call)
    await gw.store.set_bucket_setting(
        bucket, BUCKET_LIFECYCLE, None, call.bucket_id(bucket)
    )
    gw.lifecycle_rules.changed(bucket)
    return S3Response(204)
