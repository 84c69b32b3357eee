"""Each bucket's lifecycle configuration, for the ``x-amz-expiration``
header of PUT, GET and HEAD, and ``x-amz-abort-date`` / ``-rule-id`` of
CreateMultipartUpload and ListParts.

Read from the store at most once per ``REFRESH`` seconds per bucket, not
once per request: a GET of a small object must not pay an OM read for a
header.  A change made through this process is seen at once; one made
through another gateway worker within ``REFRESH`` (S3 itself says a new
configuration takes a while to apply).
"""

from __future__ import annotations

from typing import Any

from ..s3.headers import http_date
from ..s3.lifecycle import (
    DAY,
    LifecycleConfiguration,
    abort_for,
    decode,
    expiration_for,
    expiration_header,
)
from ..storage.errors import NotSupported
from ..storage.model import BUCKET_LIFECYCLE, KeyInfo

REFRESH = 5.0


class BucketLifecycles:
    def __init__(self, store: Any, clock: Any, day_seconds: float = DAY) -> None:
        self._store = store
        self._clock = clock  # IReactorTime
        self.day_seconds = day_seconds
        # bucket name -> (configuration or None, when it was read).  By
        # name: a bucket deleted and created again under it may show its
        # predecessor's rules for REFRESH seconds, in a header only.
        self._known: dict[str, tuple[LifecycleConfiguration | None, float]] = {}

    async def configuration(
        self, bucket: str, bucket_id: int | None
    ) -> LifecycleConfiguration | None:
        now = self._clock.seconds()
        known = self._known.get(bucket)
        if known is not None and now - known[1] < REFRESH:
            return known[0]
        try:
            text = await self._store.get_bucket_setting(
                bucket, BUCKET_LIFECYCLE, bucket_id
            )
        except NotSupported:
            text = None  # a store without lifecycles has none to show
        config = None if text is None else decode(text)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[bucket] = (config, now)
        return config

    def changed(self, bucket: str) -> None:
        """This process just replaced or removed the bucket's configuration."""
        self._known.pop(bucket, None)

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
