"""Turns: the chat commands of a process worked on at once, after their ack.

An ack is owed within Slack's 3 s (Feishu's likewise) whatever else the process is doing, and
it shares one event loop and one database with the work the commands ask for. Unbounded, a
burst of commands becomes as many digests built at once, and the next ack queues behind them
(at 50 in flight, p99 1.1 s, and 0.9 s with 16 at work). A command's work therefore waits for a
turn, in the order the commands came; its ack does not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    def __init__(self, size: int) -> None:
        self.size = size
        self.working = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Held while one command is worked on; waits, in order, while `size` are."""
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.working += 1
        try:
            yield
        finally:
            self.working -= 1
            self._slots.release()
