"""What every GitHub source of one process shares: the requests in flight, the rate-limit
budget, commit details and ETags.

A morning of 100 subscriptions opens 100 sources; GitHub asks integrators not to make many
requests at once (its secondary limits) and counts all of them against one hourly budget. So the
sources of a process take their turn from one `GitHubShared`: at most `concurrency` requests in
flight, paced by `next_start` once the budget runs low and held until the window resets when it
is spent; a commit shared by several channels is fetched once; and list, branch and repository
answers are kept with their ETags, so asking again costs a 304, which GitHub does not count.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from digest.errors import RateLimited
from digest.models import Commit

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
# Below this share of the hourly limit left, requests are spread over what remains of the window.
SLOW_BELOW = 0.1
# Past GitHub's reset, a moment more: our clock and GitHub's differ.
RESET_MARGIN = 1.0
# Commit details kept for other channels of the same morning, and for how long.
DETAILS_KEPT, DETAILS_TTL = 2_000, 900.0
ETAGS_KEPT = 1_000


@dataclass(frozen=True)
class RateLimit:
    """GitHub's rate-limit headers as a client last saw them."""

    remaining: int
    limit: int
    reset: int  # epoch seconds when the window resets (0: not told)


@dataclass(frozen=True)
class Cached:
    """A conditional GET's answer, kept with its ETag: a 304 means it still holds."""

    etag: str
    data: Any
    link: str  # the Link header (pagination), "" when none


def next_start(seen: RateLimit | None, now: float, last_start: float, in_flight: int) -> float:
    """When the next request may start (epoch seconds), given the budget last seen.

    At full speed while more than SLOW_BELOW of the limit is left; below that the requests left
    (less those in flight, which will spend theirs) are spread evenly until the reset; none
    left: just after the reset. A window already reset (or never told) holds nothing back.
    """
    if seen is None or seen.limit <= 0 or seen.reset <= now:
        return now
    left = seen.remaining - in_flight
    if left <= 0:
        return seen.reset + RESET_MARGIN
    if seen.remaining > seen.limit * SLOW_BELOW:
        return now
    return max(now, last_start + (seen.reset - now) / left)


class GitHubShared:
    """One per process (or per source, when nothing else shares it)."""

    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        max_wait: float = 3600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._slots = _Slots(concurrency)
        self.threads = concurrency + self._slots.reserve  # the most requests ever in flight
        self._lock = threading.Lock()  # rate limits are observed from worker threads
        self._seen: RateLimit | None = None
        self._last_start = 0.0
        self.in_flight = 0
        self.waited = 0.0  # seconds spent pacing, for benchmarks and logs
        self._details: OrderedDict[Hashable, tuple[float, asyncio.Future[Commit]]] = OrderedDict()
        self._etags: OrderedDict[Hashable, Cached] = OrderedDict()
        self.detail_hits = 0
        self._once: dict[Hashable, asyncio.Future[Any]] = {}

    # ---- the budget ----------------------------------------------------------------------------

    def observe(self, seen: RateLimit) -> None:
        """The latest figures win: a later window, or fewer left in the same one."""
        with self._lock:
            last = self._seen
            if last is None or (seen.reset, -seen.remaining) >= (last.reset, -last.remaining):
                self._seen = seen

    @property
    def seen(self) -> RateLimit | None:
        with self._lock:
            return self._seen

    @asynccontextmanager
    async def slot(self, urgent: bool = False) -> AsyncIterator[None]:
        """One request's turn: within the concurrency, paced by the budget. An `urgent` one
        (a pull request a streamed analysis waits for) goes before the commit details queued."""
        spare = await self._slots.acquire(urgent)
        try:
            now = self._clock()
            start = next_start(self.seen, now, self._last_start, self.in_flight)
            wait = start - now
            if wait > 0:
                if wait > self.max_wait:
                    raise RateLimited("GitHub", round(wait, 1))
                if wait >= 10:
                    log.warning("GitHub's rate limit is nearly spent: waiting %.0f s", wait)
                self.waited += wait
                await self._sleep(wait)
            self._last_start = max(start, self._clock())
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1
        finally:
            self._slots.release(spare)

    # ---- commit details ------------------------------------------------------------------------

    async def detail(self, key: Hashable, fetch: Callable[[], Awaitable[Commit]]) -> Commit:
        """The commit under `key` (repository and full sha: it never changes), fetched once
        however many sources ask, in flight or recently; a failed fetch is not kept."""
        now = time.monotonic()
        held = self._details.get(key)
        if held is not None and now - held[0] < DETAILS_TTL:
            self._details.move_to_end(key)
            self.detail_hits += 1
            return await asyncio.shield(held[1])
        # A task of its own: one caller cancelled does not cancel the others' fetch.
        task: asyncio.Future[Commit] = asyncio.ensure_future(fetch())
        self._details[key] = (now, task)
        while len(self._details) > DETAILS_KEPT:
            self._details.popitem(last=False)

        def forget_failure(done: asyncio.Future[Commit]) -> None:
            failed = done.cancelled() or done.exception() is not None
            if failed and self._details.get(key, (0.0, None))[1] is done:
                del self._details[key]

        task.add_done_callback(forget_failure)
        return await asyncio.shield(task)

    async def once(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """`fetch()` once for the askers of `key` while it is under way (the sources of one
        process asking GitHub the same thing at once: what comes after reads the store)."""
        task = self._once.get(key)
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._once[key] = task
            task.add_done_callback(lambda _: self._once.pop(key, None))
        return cast(T, await asyncio.shield(task))

    # ---- ETags (from worker threads) -----------------------------------------------------------

    def cached(self, key: Hashable) -> Cached | None:
        with self._lock:
            return self._etags.get(key)

    def keep(self, key: Hashable, answer: Cached) -> None:
        with self._lock:
            self._etags[key] = answer
            self._etags.move_to_end(key)
            while len(self._etags) > ETAGS_KEPT:
                self._etags.popitem(last=False)


class _Slots:
    """A semaphore whose urgent waiters are woken before the others, with a small reserve of
    slots only urgent requests may take: a pull request a streamed analysis waits for is not
    stuck behind a day's commit details holding every slot."""

    def __init__(self, size: int) -> None:
        self._free = size
        self.reserve = self._spare = max(1, size // 4)
        self._waiters: list[tuple[int, int, asyncio.Future[bool]]] = []  # a heap
        self._arrivals = itertools.count()

    async def acquire(self, urgent: bool) -> bool:
        """Wait for a slot; True when it is one of the reserve (give it back as such)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return False
        if urgent and self._spare > 0:
            self._spare -= 1
            return True
        turn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if urgent else 1, next(self._arrivals), turn))
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release(turn.result())  # handed over as the waiter was cancelled
            raise

    def release(self, spare: bool) -> None:
        while self._waiters:
            kind, _, turn = self._waiters[0]
            if turn.done():  # a cancelled waiter is skipped
                heapq.heappop(self._waiters)
                continue
            if spare and kind != 0:
                break  # the reserve waits for an urgent request
            heapq.heappop(self._waiters)
            turn.set_result(spare)
            return
        if spare:
            self._spare += 1
        else:
            self._free += 1
