"""The context cache (digest.sources.github_context.ContextCache): pull requests, issues and
which pull request landed a commit, as GitHub told us, so a second digest asks nothing again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import contexts


class ContextRecords:
    """Mixed into bot.store.Store, which provides the engine, the clock and the dialect."""

    engine: AsyncEngine
    _now: Callable[[], datetime]
    _insert: Callable[[sa.Table], Any]  # the dialect's INSERT with ON CONFLICT

    async def get_context(self, repo: str, key: str) -> str | None:
        query = sa.select(contexts.c.data, contexts.c.expires_at).where(
            contexts.c.repo == repo, contexts.c.key == key
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        data, expires = row
        if expires is not None and _utc(expires) <= self._now():
            return None
        return str(data)

    async def put_context(self, repo: str, key: str, data: str, keep: timedelta | None) -> None:
        now = self._now()
        values = {"data": data, "fetched_at": now, "expires_at": now + keep if keep else None}
        statement = self._insert(contexts).values(repo=repo, key=key, **values)
        statement = statement.on_conflict_do_update(index_elements=["repo", "key"], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def count_contexts(self) -> int:
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(contexts))).scalar_one()
            )


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
