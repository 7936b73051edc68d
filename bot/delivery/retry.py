"""Passing failures and the backoff between tries (DESIGN §7: nothing lost in silence).

A passing failure (a connection refused or reset, a timeout, a 5xx or rate limit the client's own
retries did not ride out, the database going away) says nothing about the digest: it is retried
with backoff inside the run, while the run's lease is held, and never counts as an attempt.
Anything else (a refused post, a missing repository, a bug) is the run's own failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import sqlalchemy.exc

from bot.ops.logs import short_error
from digest.errors import ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

_PASSING: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionRefusedError, ConnectionResetError, ...
    TimeoutError,
    aiohttp.ClientError,
    ServiceUnavailable,  # a platform or GitHub that kept failing through its client's retries
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no connection from the pool in time
)


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same thing again later may well work.

    An error may say so itself with a boolean `transient` attribute (FeishuFailed does, by its
    code); otherwise its type decides, and a database error that invalidated its connection
    is passing whatever its type.
    """
    flag = getattr(exc, "transient", None)
    if isinstance(flag, bool):
        return flag
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and isinstance(exc.orig, OSError):
        return True
    return isinstance(exc, _PASSING)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: `first` seconds, times `factor` each retry, at most `most`;
    `tries` bounds one step's tries, the first included."""

    first: float = 1.0
    factor: float = 2.0
    most: float = 30.0
    tries: int = 8

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        return min(self.most, self.first * self.factor ** max(0, retry - 1))


class Retrier:
    """Runs a run's steps, retrying passing failures with backoff; counts and logs each retry.

    `before` runs before every try (the lease check: a step never starts without the lease).
    """

    def __init__(
        self,
        backoff: Backoff,
        what: str,
        *,
        before: Callable[[], Awaitable[None]] | None = None,
        on_retry: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.backoff = backoff
        self.what = what
        self.before = before
        self.on_retry = on_retry
        self.sleep = sleep
        self.retries = 0
        self.last_error: str | None = None

    async def run(self, step: str, op: Callable[[], Awaitable[T]], *, guarded: bool = True) -> T:
        """`op()`, tried up to `backoff.tries` times while its failures are passing."""
        tries = 0
        while True:
            tries += 1
            if guarded and self.before is not None:
                await self.before()
            try:
                return await op()
            except Exception as exc:
                if not is_transient(exc) or tries >= self.backoff.tries:
                    raise
                await self.wait(step, exc, tries)

    async def wait(self, step: str, exc: BaseException, tries: int) -> None:
        """Count and log a passing failure of `step`, then wait out its backoff."""
        self.retries += 1
        self.last_error = short_error(exc)
        delay = self.backoff.delay(tries)
        log.info(
            "%s: %s failed (%s); retry %d in %.1f s",
            self.what,
            step,
            self.last_error,
            tries,
            delay,
        )
        if self.on_retry is not None:
            self.on_retry(step)
        await self.sleep(delay)
