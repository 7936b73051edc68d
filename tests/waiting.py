"""Waiting in tests: on the event itself, never for a fixed time, with one ceiling that only a
real hang reaches (a loaded CI machine can be ten times slower than a laptop, never a hundred)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

HANG = 120.0  # seconds: the only bound on a wait; a slow machine never reaches it, a hang does


async def until(
    predicate: Callable[[], object], *, what: str, within: float = HANG, every: float = 0.01
) -> None:
    """Return as soon as `predicate()` holds (checked every `every` seconds, for state another
    thread or process changes); TimeoutError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {within:g} s for {what}")
        await asyncio.sleep(every)


async def until_async(
    predicate: Callable[[], Awaitable[object]],
    *,
    what: str,
    within: float = HANG,
    every: float = 0.01,
) -> None:
    """`until` for a check that itself awaits (a database read)."""
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {within:g} s for {what}")
        await asyncio.sleep(every)
