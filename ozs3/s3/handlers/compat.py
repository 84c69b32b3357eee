"""Answers for S3 features these buckets do not have, given the way S3
gives them for a bucket without that feature — what s3cmd, rclone, fsspec,
s3fs-fuse and the SDKs ask before they get on with their work.

Versioning is never enabled; there is no default encryption.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ...storage.model import ListQuery
from ..context import Call, S3Response
from ..errors import S3Error
from ..xml import list_versions_xml, versioning_xml
from .bucket import XML, encoding_is_url, int_arg

if TYPE_CHECKING:
    from ..app import S3Gateway


async def _owner(gw: S3Gateway, call: Call) -> str:
    bucket = call.s3.bucket
    assert bucket is not None
    info = await gw.store.get_bucket(bucket, call.bucket_id(bucket))
    if call.s3.key is not None:
        await gw.store.lookup_key(bucket, call.s3.key, info.id)
    return info.owner


async def get_bucket_versioning(gw: S3Gateway, call: Call) -> S3Response:
    await _owner(gw, call)
    return S3Response(200, dict(XML), versioning_xml())


def _missing(code: str) -> Callable[[S3Gateway, Call], Awaitable[S3Response]]:
    async def handler(gw: S3Gateway, call: Call) -> S3Response:
        await _owner(gw, call)
        assert call.s3.bucket is not None
        raise S3Error(code, extra={"BucketName": call.s3.bucket})

    return handler


get_bucket_encryption = _missing("ServerSideEncryptionConfigurationNotFoundError")


async def list_object_versions(gw: S3Gateway, call: Call) -> S3Response:
    """Every key's one version, "null", as S3 lists a never-versioned bucket."""
    s3 = call.s3
    assert s3.bucket is not None
    url = encoding_is_url(call)
    prefix = s3.arg("prefix") or ""
    delimiter = s3.arg("delimiter") or ""
    max_keys = min(int_arg(call, "max-keys", 1000), gw.config.max_keys_limit)
    marker = s3.arg("key-marker") or ""
    version_marker = s3.arg("version-id-marker") or ""
    if version_marker and version_marker != "null":
        raise S3Error(
            "InvalidArgument",
            "Invalid version id specified",
            extra={"ArgumentName": "version-id-marker"},
        )
    listing = await gw.store.list_keys(
        s3.bucket, ListQuery(prefix, delimiter, marker, max_keys),
        call.bucket_id(s3.bucket),
    )  # fmt: skip
    body = list_versions_xml(
        s3.bucket, listing, prefix, delimiter, marker, max_keys, url
    )
    return S3Response(200, dict(XML), body)
