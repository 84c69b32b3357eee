"""The lifecycle service: carries out every bucket's lifecycle rules.

Every ``interval`` it expires the objects enabled Expiration rules cover
and aborts the multipart uploads AbortIncompleteMultipartUpload rules
cover (their parts' blocks are freed by the block deleting service).

- Once across ``--workers``: a run holds the store's ``lifecycle`` lease,
  renewed as it goes; a worker that dies mid-run lets it lapse, and
  another takes over.
- After a restart: the lease records when the last run finished; a
  gateway that starts after the interval has passed runs at once.
- Exact: a key is deleted only if it is still the version judged expired
  (``expire_keys`` compares ETag, size and time in the OM's transaction),
  so an object written meanwhile is never lost to a rule about its
  predecessor.
- Gentle: keys are judged a listing page at a time and deleted in small
  transactions, so requests keep being served while a large bucket
  expires.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from .._deferred import async_to_deferred
from ..s3.lifecycle import (
    DAY,
    LifecycleConfiguration,
    Rule,
    abort_due,
    decode,
    expiry_of,
)
from ..storage.errors import BucketNotFound, NotSupported, UploadNotFound
from ..storage.model import (
    BUCKET_LIFECYCLE,
    BucketInfo,
    ListedKey,
    ListQuery,
    UploadQuery,
)

LEASE = "lifecycle"
# Held this long without renewal before another process may take over.
LEASE_SECONDS = 120.0
PAGE = 1000  # keys judged per listing page
BATCH = 200  # keys deleted per OM transaction


@attrs.define
class RunReport:
    expired: int = 0
    expired_bytes: int = 0
    aborted: int = 0
    buckets: int = 0


class LifecycleService(Service):
    log = Logger()

    def __init__(
        self,
        store: Any,
        clock: Any,
        interval: float,
        day_seconds: float = DAY,
        holder: str = "",
        on_expired: Callable[[str, ListedKey, str], None] | None = None,
        on_aborted: Callable[[str, str, str, str], None] | None = None,
        on_run: Callable[[RunReport, float], None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.interval = interval
        self.day_seconds = day_seconds
        self.holder = holder or f"{os.uname().nodename}:{os.getpid()}"
        self.on_expired = on_expired  # (bucket, key version, rule id)
        self.on_aborted = on_aborted  # (bucket, key, upload id, rule id)
        self.on_run = on_run  # (report, seconds)
        self.now = now  # object times are wall-clock times
        self._call: Any = None
        self._running: Deferred[Any] | None = None
        self._stopping = False
        self._renewed = 0.0  # when the lease was last claimed or renewed

    # -- schedule ----------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        # Soon after start (a restart resumes an overdue run), then polled:
        # the lease says whether a run is due and whether another process
        # is on it.
        self._schedule(min(2.0, self.interval))

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        self._stopping = True
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        running = self._running
        if running is not None:
            # Stop between batches: what was deleted stays deleted.
            return running.addBoth(lambda _: None)
        return None

    def _schedule(self, delay: float) -> None:
        if self.running:
            self._call = self.clock.callLater(delay, self._tick)

    def _tick(self) -> None:
        self._call = None
        self._running = self.run_if_due()

        def done(result: object) -> None:
            self._running = None
            if isinstance(result, Failure):
                self.log.failure("lifecycle run failed", result)
            self._schedule(self._poll())

        self._running.addBoth(done)

    def _poll(self) -> float:
        return max(0.5, min(self.interval / 2, 60.0))

    # -- a run -----------------------------------------------------------------

    @async_to_deferred
    async def run_if_due(self, force: bool = False) -> RunReport | None:
        """A run, if one is due and no other process holds the lease."""
        last = await self.store.claim_lease(
            LEASE, self.holder, LEASE_SECONDS, 0.0 if force else self.interval
        )
        if last is None:
            return None  # another gateway process is running it, or not due
        started = self._renewed = self.clock.seconds()
        try:
            report = await self._run()
        except BaseException:
            # Let another process (or the next poll) try again at once.
            await self.store.finish_lease(LEASE, self.holder, last)
            raise
        # A run cut short by a stop is not done: the next start resumes it.
        done_at = last if self._stopping else self.now()
        await self.store.finish_lease(LEASE, self.holder, done_at)
        if self.on_run is not None:
            self.on_run(report, self.clock.seconds() - started)
        return report

    async def _run(self) -> RunReport:
        report = RunReport()
        try:
            configured = await self.store.buckets_with_setting(BUCKET_LIFECYCLE)
        except NotSupported:
            return report
        for bucket, text in configured:
            if self._stopping:
                break
            report.buckets += 1
            try:
                await self._bucket(bucket, decode(text), report)
            except BucketNotFound:
                continue  # deleted meanwhile
        return report

    async def _renew(self) -> None:
        """Keep the lease while the run goes on: renewed after any page or
        batch once a quarter of its time has passed (a long listing with
        nothing due must not let it lapse to another process)."""
        if self.clock.seconds() - self._renewed < LEASE_SECONDS / 4:
            return
        held = await self.store.claim_lease(LEASE, self.holder, LEASE_SECONDS)
        if held is None:
            raise RuntimeError("the lifecycle lease was lost")
        self._renewed = self.clock.seconds()

    async def _breathe(self) -> None:
        """One reactor turn between pages.  A store may answer a page at once
        (the embedded OM reads a page without a delimiter on the reactor
        thread), and a long scan with nothing due awaits nothing else until
        the lease wants renewing: without this it would hold the reactor
        from its first page to its last."""
        await deferLater(self.clock, 0, lambda: None)

    async def _bucket(
        self, bucket: BucketInfo, config: LifecycleConfiguration, report: RunReport
    ) -> None:
        for rule in config.enabled_rules:
            if rule.has_expiration:
                await self._expire(bucket, rule, report)
            if rule.abort_days is not None:
                await self._abort(bucket, rule, report)

    async def _expire(self, bucket: BucketInfo, rule: Rule, report: RunReport) -> None:
        now = self.now()
        if rule.expiration_date is not None and rule.expiration_date > now:
            return  # nothing is due before the date
        marker = ""
        while True:
            page = await self.store.list_keys(
                bucket.name,
                ListQuery(
                    prefix=rule.prefix, start_after=marker, max_keys=PAGE,
                    with_meta=rule.filter.has_tags,
                ),
                bucket.id,
            )  # fmt: skip
            due = [
                k
                for k in page.keys
                if rule.matches(k.key, k.size, k.tags)
                and _due(expiry_of(rule, k.modified, self.day_seconds), now)
            ]
            for i in range(0, len(due), BATCH):
                if self._stopping:
                    return
                deleted = await self.store.expire_keys(
                    bucket.name, due[i : i + BATCH], bucket.id
                )
                report.expired += len(deleted)
                report.expired_bytes += sum(k.size for k in deleted)
                if self.on_expired is not None:
                    for k in deleted:
                        self.on_expired(bucket.name, k, rule.id)
                await self._renew()
            await self._renew()
            if not page.truncated or page.next_marker is None:
                return
            marker = page.next_marker
            await self._breathe()
            if self._stopping:
                return

    async def _abort(self, bucket: BucketInfo, rule: Rule, report: RunReport) -> None:
        now = self.now()
        key_marker = id_marker = ""
        while True:
            page = await self.store.list_uploads(
                bucket.name,
                UploadQuery(
                    prefix=rule.prefix, key_marker=key_marker,
                    upload_id_marker=id_marker, max_uploads=PAGE,
                ),
                bucket.id,
            )  # fmt: skip
            for up in page.uploads:
                if self._stopping:
                    return
                if not _due(abort_due(rule, up.initiated, self.day_seconds), now):
                    continue
                try:
                    await self.store.abort_upload(
                        bucket.name, up.key, up.upload_id, bucket.id
                    )
                except UploadNotFound:
                    continue  # completed or aborted meanwhile
                report.aborted += 1
                if self.on_aborted is not None:
                    self.on_aborted(bucket.name, up.key, up.upload_id, rule.id)
            await self._renew()
            if not page.truncated or page.next_key_marker is None:
                return
            key_marker = page.next_key_marker
            id_marker = page.next_upload_id_marker or ""
            await self._breathe()
            if self._stopping:
                return


def _due(when: float | None, now: float) -> bool:
    return when is not None and when <= now
