"""The embedded store's block deleting service (Ozone's, for one datanode):
blocks whose last reference went wait in the OM's deleted-blocks table; a
pass deletes their files and then forgets them.  Writes kick it; it runs at
most once per ``RECLAIM_DELAY`` however many ask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from .._deferred import async_to_deferred
from .._executor import Executor
from .datanode.store import LocalBlockStore
from .model import BlockID
from .om.manager import OzoneManager

RECLAIM_BATCH = 512
RECLAIM_DELAY = 0.1


class BlockReclaimer:
    """Mixed into ``EmbeddedObjectStore``."""

    log: Logger
    om: OzoneManager
    io: Executor
    datanode: LocalBlockStore

    def _init_reclaimer(self, clock: Any) -> None:
        # Without a clock (tests, inline use) reclamation starts at once.
        self._clock = clock
        self._reclaiming: Deferred[None] | None = None
        self._reclaim_timer: Any = None  # an IDelayedCall
        self._reclaim_again = False
        self._closing = False

    def kick_reclaim(self) -> None:
        """Delete queued blocks soon: at most one pass per RECLAIM_DELAY,
        however many writes ask (each pass asks the OM what to delete)."""
        if self._closing:
            return
        if self._reclaiming is not None or self._reclaim_timer is not None:
            self._reclaim_again = True
            return
        if self._clock is None:
            self._reclaim_now()
        else:
            self._reclaim_timer = self._clock.callLater(
                RECLAIM_DELAY, self._reclaim_now
            )

    def _reclaim_now(self) -> None:
        self._reclaim_timer = None
        self._reclaim_again = False
        self._reclaiming = self.reclaim()

        def done(result: object) -> None:
            self._reclaiming = None
            if self._reclaim_again:
                self._reclaim_again = False
                self.kick_reclaim()

        def failed(f: object) -> None:
            self.log.failure("block reclamation failed", f)  # type: ignore[arg-type]

        self._reclaiming.addErrback(failed).addBoth(done)

    @async_to_deferred
    async def reclaim(self) -> None:
        while True:
            ids = await self.om.deleted_blocks(RECLAIM_BATCH)
            if not ids:
                return
            await self.io.run(self._delete_blocks, ids)
            await self.om.forget_deleted_blocks(ids)
            if len(ids) < RECLAIM_BATCH:
                return

    def _delete_blocks(self, ids: Sequence[BlockID]) -> None:
        for i in ids:
            self.datanode.delete_block(i)

    @async_to_deferred
    async def drain(self) -> None:
        """For an orderly stop: no more passes are scheduled; the one in
        progress ends and a last one deletes whatever is still queued."""
        self._closing = True
        if self._reclaim_timer is not None and self._reclaim_timer.active():
            self._reclaim_timer.cancel()
        self._reclaim_timer = None
        while self._reclaiming is not None:
            await self._reclaiming
        await self.reclaim()
