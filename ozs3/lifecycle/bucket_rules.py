"""Each bucket's lifecycle configuration, for the ``x-amz-expiration``
header of PUT, GET and HEAD, and ``x-amz-abort-date`` / ``-rule-id`` of
CreateMultipartUpload and ListParts.

Read through ``CachedBucketSetting``: at most once per ``REFRESH`` seconds
per bucket.
"""

from __future__ import annotations

from typing import Any

from ..s3.bucket_settings import CachedBucketSetting
from ..s3.headers import http_date
from ..s3.lifecycle import (
    DAY,
    LifecycleConfiguration,
    abort_for,
    decode,
    expiration_for,
    expiration_header,
)
from ..storage.model import BUCKET_LIFECYCLE, KeyInfo


class BucketLifecycles:
    def __init__(self, store: Any, clock: Any, day_seconds: float = DAY) -> None:
        self.day_seconds = day_seconds
        self._cache = CachedBucketSetting(store, clock, BUCKET_LIFECYCLE, decode)

    async def configuration(
        self, bucket: str, bucket_id: int | None
    ) -> LifecycleConfiguration | None:
        return await self._cache.get(bucket, bucket_id)

    def changed(self, bucket: str) -> None:
        """This process just replaced or removed the bucket's configuration."""
        self._cache.changed(bucket)

    async def expiration(
        self, bucket: str, bucket_id: int | None, info: KeyInfo
    ) -> str | None:
        """The ``x-amz-expiration`` value for ``info``, or None."""
        config = await self.configuration(bucket, bucket_id)
        if config is None:
            return None
        found = expiration_for(
            config, info.key, info.size, info.meta.tags, info.modified,
            self.day_seconds,
        )  # fmt: skip
        return None if found is None else expiration_header(*found)

    async def abort_headers(
        self, bucket: str, bucket_id: int | None, key: str, initiated: float
    ) -> dict[str, str]:
        """``x-amz-abort-date`` and ``x-amz-abort-rule-id`` for an upload a
        rule will abort, else nothing."""
        config = await self.configuration(bucket, bucket_id)
        found = None if config is None else abort_for(
            config, key, initiated, self.day_seconds
        )  # fmt: skip
        if found is None:
            return {}
        return {
            "x-amz-abort-date": http_date(found[0]),
            "x-amz-abort-rule-id": found[1],
        }
