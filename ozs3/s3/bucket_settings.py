"""A bucket setting read for the requests that need it (the lifecycle rules
behind ``x-amz-expiration``, the CORS rules behind every request with an
``Origin``), from the store at most once per ``REFRESH`` seconds per
bucket, not once per request: a GET of a small object must not pay an OM
read for a header.  A change made through this process is seen at once;
one made through another gateway worker within ``REFRESH`` (S3 itself says
a new configuration takes a while to apply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..storage.errors import NotSupported

REFRESH = 5.0
# Buckets remembered before the memory is cleared and read again.
MAX_BUCKETS = 10_000

T = TypeVar("T")


class CachedBucketSetting(Generic[T]):
    def __init__(
        self, store: Any, clock: Any, name: str, decode: Callable[[str], T]
    ) -> None:
        self._store = store
        self._clock = clock  # IReactorTime
        self._name = name
        self._decode = decode
        # bucket name -> (setting or None, when it was read, the bucket's id
        # if the reader knew it).  A reader that names the id never gets the
        # setting of a predecessor of the same name (a policy must not
        # outlive its bucket); one that does not (CORS headers) may, for
        # REFRESH seconds.
        self._known: dict[str, tuple[T | None, float, int | None]] = {}

    async def get(self, bucket: str, bucket_id: int | None) -> T | None:
        now = self._clock.seconds()
        known = self._known.get(bucket)
        if (
            known is not None
            and now - known[1] < REFRESH
            and (bucket_id is None or known[2] == bucket_id)
        ):
            return known[0]
        try:
            text = await self._store.get_bucket_setting(bucket, self._name, bucket_id)
        except NotSupported:
            text = None  # a store without such settings has none to apply
        value = None if text is None else self._decode(text)
        if len(self._known) > MAX_BUCKETS:
            self._known.clear()
        self._known[bucket] = (value, now, bucket_id)
        return value

    def changed(self, bucket: str) -> None:
        """This process just replaced or removed the bucket's setting."""
        self._known.pop(bucket, None)
