"""Reading and writing one bucket setting (tags, lifecycle, CORS, policy):
the steps every Get/Put/Delete of a bucket configuration shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..context import Call
from ..errors import S3Error
from .bucket import bucket_of

if TYPE_CHECKING:
    from ..app import S3Gateway


class SettingCache(Protocol):
    """What keeps a setting for the requests that need it
    (``CachedBucketSetting``, ``BucketLifecycles``)."""

    def changed(self, bucket: str) -> None: ...


async def read_setting(gw: S3Gateway, call: Call, name: str, missing: str) -> str:
    """The request's bucket's setting ``name``, or the S3 error ``missing``
    (NoSuchTagSet, ...) naming the bucket."""
    bucket = bucket_of(call)
    text = await gw.store.get_bucket_setting(bucket, name, call.bucket_id(bucket))
    if text is None:
        raise S3Error(missing, extra={"BucketName": bucket})
    return text


async def write_setting(
    gw: S3Gateway,
    call: Call,
    name: str,
    text: str | None,
    cache: SettingCache | None = None,
) -> None:
    """Replace (None: remove) the request's bucket's setting ``name``; the
    ``cache`` this process reads it through hears of it at once."""
    bucket = bucket_of(call)
    await gw.store.set_bucket_setting(bucket, name, text, call.bucket_id(bucket))
    if cache is not None:
        cache.changed(bucket)
