"""A run's claim, kept alive by a heartbeat while the run works (DESIGN §7).

The claim is a short lease in the store (`DIGEST_LEASE_SECONDS`), renewed every third of it, so a
dead replica's runs move to another within about a lease. The renewal is a compare-and-set on the
owner: it fails only when another replica took the run over. While renewals fail for another
reason (the database is away), the run may go on sending only as long as the lease it last
renewed still has a third of its length to run; then it waits for a renewal, and gives the run up
when the lease ran out long ago without one. So two replicas never send parts of one run at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from bot.ops.logs import short_error

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The run's claim is not ours any more (taken over), or could not be renewed in time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Renews(Protocol):
    async def extend_lease(self, run_id: int, owner: str, lease: timedelta) -> bool: ...


class Lease:
    """`async with Lease(...) as lease:` renews the claim in the background; `await
    lease.ensure()` before each step that must not run without it."""

    def __init__(
        self,
        store: Renews,
        run_id: int,
        owner: str,
        length: timedelta,
        clock: Callable[[], datetime],
        *,
        held_until: datetime,
        what: str = "",
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.owner = owner
        self.length = length
        self.clock = clock
        self.held_until = held_until
        self.what = what or f"run {run_id}"
        self.lost: str | None = None  # why, once lost
        self._changed = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None

    @property
    def margin(self) -> timedelta:
        """How much of the lease must be left to start a step (a post, a lookup)."""
        return self.length / 3

    async def __aenter__(self) -> Self:
        self._keeper = asyncio.get_running_loop().create_task(self._keep())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._keeper

    async def ensure(self) -> None:
        """Return while the lease is held with room to spare; else wait for the heartbeat's
        next renewal; raise LeaseLost when the run was taken over, or when the lease ran out a
        lease ago and still could not be renewed."""
        while True:
            if self.lost is not None:
                raise LeaseLost(self.lost)
            left = self.held_until - self.clock()
            if left >= self.margin:
                return
            if left <= -self.length:
                self.lost = "the lease could not be renewed"
                raise LeaseLost(self.lost)
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=1.0)

    async def _keep(self) -> None:
        period = self.length.total_seconds() / 3
        failing_since: datetime | None = None
        while True:
            # While renewals fail, try every second: the database may be back any moment.
            await asyncio.sleep(period if failing_since is None else min(period, 1.0))
            started = self.clock()
            try:
                kept = await self.store.extend_lease(self.run_id, self.owner, self.length)
            except Exception as exc:
                if failing_since is None:
                    failing_since = started
                    log.warning(
                        "%s: cannot renew the lease (%s); held until %s",
                        self.what,
                        short_error(exc),
                        self.held_until.isoformat(timespec="seconds"),
                    )
                continue
            if not kept:
                self.lost = "taken over by another replica"
                log.warning("%s: %s", self.what, self.lost)
                self._changed.set()
                return
            self.held_until = started + self.length
            if failing_since is not None:
                log.info(
                    "%s: lease renewed again after %.0f s",
                    self.what,
                    (started - failing_since).total_seconds(),
                )
                failing_since = None
            self._changed.set()
