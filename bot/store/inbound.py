"""Inbound de-duplication: whether a request signature, an event id or a message id is seen for
the first time by any replica. It runs before every inbound request is acknowledged, so it is
written in batches (a group commit): the keys that arrive while one insert is under way go
together in the next, one statement and one commit for all of them. One insert at a time per
process also suits SQLite's one writer; the batch is what keeps a burst of requests from
queueing behind each other's commits (50 in flight took 1.1 s at p99 one by one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import inbound_events

KEEP = timedelta(days=1)  # keys older than this are forgotten, a minute's worth at a time
KEY_LENGTH = 200
BATCH = 500  # keys in one statement at most (SQLite's bound parameters: 2 a key)


class InboundKeys:
    def __init__(
        self,
        engine: AsyncEngine,
        now: Callable[[], datetime],
        insert: Callable[[sa.Table], Any],
    ) -> None:
        self._engine = engine
        self._now = now
        self._insert = insert
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._next_purge: datetime | None = None

    async def first(self, key: str) -> bool:
        """True the first time `key` is seen by any replica (its first 200 characters)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key[:KEY_LENGTH], future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        """Insert what is waiting, batch after batch, until nothing is."""
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                inserted = await self._insert_new({key for key, _ in batch})
            except Exception as exc:  # each caller gets it (the database away: refuse)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for key, future in batch:
                # The same key twice in one batch: the first caller has it, the next is a replay.
                fresh = key in inserted
                inserted.discard(key)
                if not future.done():
                    future.set_result(fresh)

    async def _insert_new(self, keys: set[str]) -> set[str]:
        """Insert `keys`; those that were not there yet."""
        now = self._now()
        statement = (
            self._insert(inbound_events)
            .values([{"key": key, "seen_at": now} for key in sorted(keys)])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(inbound_events.c.key)
        )
        purge = self._next_purge is None or now >= self._next_purge
        async with self._engine.begin() as conn:
            inserted = {str(key) for key in (await conn.execute(statement)).scalars()}
            if purge:
                await conn.execute(
                    inbound_events.delete().where(inbound_events.c.seen_at < now - KEEP)
                )
        if purge:
            self._next_purge = now + timedelta(minutes=1)
        return inserted
