"""One LLM budget per process: requests in flight and tokens per minute, across all digests.

A hundred subscriptions due at 09:00 each analyse their commits at once; what bounds the
connections to the provider is this one limiter, held by the process's one analyzer, not a
limit per digest. The tokens-per-minute limit is kept before the provider's 429s: each request
is charged, before it goes, the offline estimate of its prompt plus its output limit (what
providers count against the limit when the request arrives), and once answered, what its usage
says it cost. `tpm_wait` is the decision, a pure function of what was charged.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

WINDOW = 60.0  # seconds: a minute


@dataclass
class Charge:
    """Tokens charged to the minute that began at `at` (monotonic seconds)."""

    at: float
    tokens: int


def tpm_wait(charges: Iterable[Charge], now: float, cost: int, limit: int) -> float:
    """Seconds to wait before a request of `cost` tokens, so that the tokens charged within any
    minute stay within `limit`; 0 to go now. A request larger than the limit goes alone in its
    minute (waiting cannot make it fit)."""
    recent = [c for c in charges if c.at > now - WINDOW]
    total = sum(c.tokens for c in recent)
    cost = min(cost, limit)
    excess = total + cost - limit
    if excess <= 0:
        return 0.0
    freed = 0
    for charge in sorted(recent, key=lambda c: c.at):
        freed += charge.tokens
        if freed >= excess:
            return charge.at + WINDOW - now
    return WINDOW  # not reached: every recent charge expired frees all of `total`


class LLMLimiter:
    """At most `concurrency` analyses at the provider at once; at most `tokens_per_minute`
    (None: no limit) charged within any minute."""

    def __init__(
        self,
        concurrency: int = 8,
        tokens_per_minute: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if concurrency < 1 or (tokens_per_minute is not None and tokens_per_minute < 1):
            raise ValueError("concurrency and tokens_per_minute must be positive")
        self.concurrency = concurrency
        self.tokens_per_minute = tokens_per_minute
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._pacing = asyncio.Lock()  # requests waiting for tokens go in turn
        self._charges: deque[Charge] = deque()
        self.in_flight = 0
        self.waited = 0.0  # seconds spent waiting for tokens

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One analysis (or answer) at the provider: its requests go one after another."""
        async with self._slots:
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1

    async def charge(self, estimate: int) -> Charge:
        """Wait until `estimate` tokens fit in the minute, then charge them."""
        if self.tokens_per_minute is None:
            return Charge(self._clock(), estimate)
        async with self._pacing:
            while True:
                now = self._clock()
                while self._charges and self._charges[0].at <= now - WINDOW:
                    self._charges.popleft()
                wait = tpm_wait(self._charges, now, estimate, self.tokens_per_minute)
                if wait <= 0:
                    charge = Charge(now, estimate)
                    self._charges.append(charge)
                    return charge
                self.waited += wait
                await self._sleep(wait)

    @staticmethod
    def settle(charge: Charge, tokens: int) -> None:
        """What the request really cost, once its usage is known (a failed one: 0 or less)."""
        charge.tokens = tokens
