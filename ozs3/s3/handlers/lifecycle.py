"""Get/Put/DeleteBucketLifecycleConfiguration.  The configuration is a
bucket setting (Ozone: the OM's lifecycle configuration table); the
lifecycle service (``ozs3.lifecycle.service``) carries it out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...storage.model import BUCKET_LIFECYCLE
from ..context import Call, S3Response
from ..lifecycle import decode, encode
from ..lifecycle_xml import lifecycle_xml, parse_lifecycle
from .bucket import XML
from .settings import read_setting, write_setting

if TYPE_CHECKING:
    from ..app import S3Gateway


async def get_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    text = await read_setting(
        gw, call, BUCKET_LIFECYCLE, "NoSuchLifecycleConfiguration"
    )
    return S3Response(200, dict(XML), lifecycle_xml(decode(text)))


async def put_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    config = parse_lifecycle(call.body)
    await write_setting(gw, call, BUCKET_LIFECYCLE, encode(config), gw.lifecycle_rules)
    return S3Response(200)


async def delete_bucket_lifecycle(gw: S3Gateway, call: Call) -> S3Response:
    await write_setting(gw, call, BUCKET_LIFECYCLE, None, gw.lifecycle_rules)
    return S3Response(204)
