"""The store's delivery side: digest runs (the exactly-once claims), their parts, and cursors.

A run is claimed by inserting its (subscription, period) row: the unique constraint lets exactly
one replica win (`INSERT ... ON CONFLICT DO NOTHING`). A claim that was never finished is taken
over, after its lease, by a compare-and-set on the lease; that is a takeover (the owner died or
lost the database), never a failed attempt. A failed attempt releases the run (owner "") until
its retry time; after the allowed failures the run is FAILED for good.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.records import Cursor, DigestRun, RunState
from bot.store.tables import cursors, digest_parts, digest_runs

_UNFINISHED = [RunState.CLAIMED.value, RunState.POSTING.value]


@dataclass(frozen=True)
class Claim:
    """A run this replica owns until `run.lease_until`. `taken_over`: another replica held it
    and its lease ran out (`previous_owner`); a run released after a failed attempt is not."""

    run: DigestRun
    taken_over: bool
    previous_owner: str | None = None


class RunStore:
    """Mixed into bot.store.Store, which provides the engine, the clock and the dialect."""

    engine: AsyncEngine
    _now: Callable[[], datetime]
    _insert: Callable[[sa.Table], Any]  # the dialect's INSERT with ON CONFLICT

    async def claim_run(
        self, subscription_id: int, period: str, owner: str, lease: timedelta
    ) -> Claim | None:
        """Own the run of (subscription, period); None when another replica has it, it waits
        for its retry time, or it is finished."""
        now = self._now()
        statement = (
            self._insert(digest_runs)
            .values(
                subscription_id=subscription_id,
                period=period,
                state=RunState.CLAIMED.value,
                owner=owner,
                lease_until=now + lease,
                attempts=1,
                failures=0,
                takeovers=0,
                retries=0,
                message_ids="[]",
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "period"])
        )
        where = [digest_runs.c.subscription_id == subscription_id, digest_runs.c.period == period]
        async with self.engine.begin() as conn:
            inserted = (await conn.execute(statement)).rowcount == 1
            if inserted:
                row = (await conn.execute(sa.select(digest_runs).where(*where))).mappings().one()
                return Claim(_run(row), taken_over=False)
        # Someone had it: take it only if it is unfinished and its lease (or wait) ran out.
        async with self.engine.begin() as conn:
            before = await conn.scalar(sa.select(digest_runs.c.owner).where(*where))
            result = await conn.execute(
                digest_runs.update()
                .where(
                    *where,
                    digest_runs.c.state.in_(_UNFINISHED),
                    digest_runs.c.lease_until < now,
                )
                .values(
                    owner=owner,
                    lease_until=now + lease,
                    attempts=digest_runs.c.attempts + 1,
                    takeovers=digest_runs.c.takeovers
                    + sa.case((digest_runs.c.owner != "", 1), else_=0),
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(sa.select(digest_runs).where(*where))).mappings().one()
        # Whoever held it could not have changed it since: its lease had run out.
        previous = str(before) if before else None
        return Claim(_run(row), taken_over=previous is not None, previous_owner=previous)

    async def run_of(self, subscription_id: int, period: str) -> DigestRun | None:
        query = sa.select(digest_runs).where(
            digest_runs.c.subscription_id == subscription_id, digest_runs.c.period == period
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _run(row) if row is not None else None

    async def extend_lease(self, run_id: int, owner: str, lease: timedelta) -> bool:
        """Keep a long run ours; False when the lease was lost to another replica."""
        now = self._now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(
                    digest_runs.c.id == run_id,
                    digest_runs.c.owner == owner,
                    digest_runs.c.state.in_(_UNFINISHED),
                )
                .values(lease_until=now + lease, updated_at=now)
            )
        return result.rowcount == 1

    async def mark_posting(
        self, run_id: int, owner: str, *, base_sha: str | None, head_sha: str | None
    ) -> bool:
        """Record that the post is about to go out (and what it covers)."""
        return await self._set_run(
            run_id,
            owner,
            state=RunState.POSTING.value,
            base_sha=base_sha,
            head_sha=head_sha,
        )

    async def record_part(self, run_id: int, name: str, message_id: str) -> None:
        """A part of the run's post is out: a fact, whoever holds the run now."""
        async with self.engine.begin() as conn:
            await self._insert_parts(conn, run_id, {name: message_id})

    async def parts_of(self, run_id: int) -> dict[str, str]:
        """The parts of the run's post known to be out: name -> message id."""
        query = sa.select(digest_parts.c.name, digest_parts.c.message_id).where(
            digest_parts.c.run_id == run_id
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(name): str(mid) for name, mid in rows}

    async def finish_run(
        self,
        run_id: int,
        owner: str,
        state: RunState,
        *,
        message_ids: tuple[str, ...] = (),
        error: str | None = None,
        cursor: Cursor | None = None,
        parts: Mapping[str, str] | None = None,
        retries: int = 0,
    ) -> bool:
        """Mark the run finished and move the cursor, in one transaction; False if not ours."""
        now = self._now()
        values: dict[str, Any] = {
            "state": state.value,
            "message_ids": json.dumps(list(message_ids)),
            "retries": digest_runs.c.retries + retries,
            "updated_at": now,
        }
        if error is not None:
            values["error"] = error
        if state == RunState.POSTED:
            values["posted_at"] = now
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(digest_runs.c.id == run_id, digest_runs.c.owner == owner)
                .values(**values)
            )
            if result.rowcount != 1:
                return False
            if parts:
                await self._insert_parts(conn, run_id, parts)
            if cursor is not None:
                await conn.execute(
                    cursors.delete().where(cursors.c.subscription_id == cursor.subscription_id)
                )
                await conn.execute(
                    cursors.insert().values(
                        subscription_id=cursor.subscription_id,
                        branch=cursor.branch,
                        head_sha=cursor.head_sha,
                        period=cursor.period,
                        updated_at=now,
                    )
                )
        return True

    async def fail_run(
        self,
        run_id: int,
        owner: str,
        *,
        error: str,
        retries: int,
        give_up: bool,
        retry_at: datetime,
    ) -> bool:
        """An attempt's own work failed: count it; give the run up (FAILED), or release it to
        be tried again from `retry_at` by any replica. False if the run is not ours."""
        values: dict[str, Any] = {
            "failures": digest_runs.c.failures + 1,
            "retries": digest_runs.c.retries + retries,
            "error": error,
            "updated_at": self._now(),
        }
        if give_up:
            values["state"] = RunState.FAILED.value
        else:
            values.update(owner="", lease_until=retry_at)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(
                    digest_runs.c.id == run_id,
                    digest_runs.c.owner == owner,
                    digest_runs.c.state.in_(_UNFINISHED),
                )
                .values(**values)
            )
        return result.rowcount == 1

    async def runs(self, subscription_id: int | None = None) -> list[DigestRun]:
        query = sa.select(digest_runs).order_by(digest_runs.c.id)
        if subscription_id is not None:
            query = query.where(digest_runs.c.subscription_id == subscription_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_run(r) for r in rows]

    async def recent_runs(
        self, subscription_ids: Iterable[int], per_subscription: int = 30
    ) -> dict[int, list[DigestRun]]:
        """The latest runs of each subscription, newest period first (for `/digest status`)."""
        found: dict[int, list[DigestRun]] = {}
        async with self.engine.connect() as conn:
            for sub_id in subscription_ids:
                query = (
                    sa.select(digest_runs)
                    .where(digest_runs.c.subscription_id == sub_id)
                    .order_by(digest_runs.c.period.desc())
                    .limit(per_subscription)
                )
                found[sub_id] = [_run(r) for r in (await conn.execute(query)).mappings().all()]
        return found

    async def last_period(self, subscription_id: int) -> str | None:
        """The latest period with a run row, finished or not."""
        query = sa.select(sa.func.max(digest_runs.c.period)).where(
            digest_runs.c.subscription_id == subscription_id
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(query)
        return str(value) if value is not None else None

    async def get_cursor(self, subscription_id: int) -> Cursor | None:
        query = sa.select(cursors).where(cursors.c.subscription_id == subscription_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return Cursor(
            subscription_id=row["subscription_id"],
            branch=row["branch"],
            head_sha=row["head_sha"],
            period=row["period"],
            updated_at=_aware(row["updated_at"]),
        )

    async def _set_run(self, run_id: int, owner: str, **values: Any) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(digest_runs.c.id == run_id, digest_runs.c.owner == owner)
                .values(**values, updated_at=self._now())
            )
        return result.rowcount == 1

    async def _insert_parts(
        self, conn: AsyncConnection, run_id: int, parts: Mapping[str, str]
    ) -> None:
        now = self._now()
        for name, message_id in parts.items():
            await conn.execute(
                self._insert(digest_parts)
                .values(run_id=run_id, name=name[:100], message_id=message_id[:200], sent_at=now)
                .on_conflict_do_nothing(index_elements=["run_id", "name"])
            )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _run(row: sa.RowMapping) -> DigestRun:
    posted = row["posted_at"]
    return DigestRun(
        id=row["id"],
        subscription_id=row["subscription_id"],
        period=row["period"],
        state=RunState(row["state"]),
        owner=row["owner"],
        lease_until=_aware(row["lease_until"]),
        attempts=row["attempts"],
        message_ids=tuple(json.loads(row["message_ids"])),
        error=row["error"],
        base_sha=row["base_sha"],
        head_sha=row["head_sha"],
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
        failures=row["failures"],
        takeovers=row["takeovers"],
        retries=row["retries"],
        posted_at=_aware(posted) if posted is not None else None,
    )
