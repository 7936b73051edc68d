"""The store's channel side: subscriptions, the exactly-once digest runs, and cursors.

A run is claimed by inserting its (subscription, period) row: the unique constraint lets exactly
one replica win (`INSERT ... ON CONFLICT DO NOTHING`). A claim that was never finished is taken
over, after its lease, by a compare-and-set on the lease.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.records import Cursor, DigestRun, RunState, Subscription, Target
from bot.store.tables import cursors, digest_runs, subscriptions
from digest.models import Importance

# The columns a subscribe command may set; anything else is refused.
SETTABLE = frozenset(
    {
        "branch",
        "at",
        "tz",
        "language",
        "min_importance",
        "paths",
        "exclude",
        "weekdays_only",
        "post_empty",
    }
)


@dataclass(frozen=True)
class Claim:
    """A run this replica owns until `lease_until`; `taken_over` when another replica had it."""

    run: DigestRun
    taken_over: bool


class ChannelStore:
    """Mixed into bot.store.Store, which provides the engine, the clock and the dialect."""

    engine: AsyncEngine
    _now: Callable[[], datetime]
    _insert: Callable[[sa.Table], Any]  # the dialect's INSERT with ON CONFLICT

    # -- subscriptions --

    async def upsert_subscription(
        self,
        target: Target,
        repo: str,
        values: Mapping[str, Any],
        *,
        defaults: Mapping[str, Any],
        by: str,
    ) -> tuple[Subscription, bool]:
        """Create the subscription, or update only the given `values`; True when created."""
        unknown = set(values) - SETTABLE
        if unknown:
            raise ValueError(f"not settable: {sorted(unknown)}")
        now = self._now()
        key = [*_target_where(target), subscriptions.c.repo == repo]
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(subscriptions).where(*key))).mappings().first()
            if row is not None:
                if values:
                    update = {k: _to_column(k, v) for k, v in values.items()}
                    await conn.execute(
                        subscriptions.update()
                        .where(subscriptions.c.id == row["id"])
                        .values(**update, updated_by=by, updated_at=now)
                    )
                created = False
            else:
                merged = {**defaults, **values}
                statement = self._insert(subscriptions).values(
                    platform=target.platform,
                    workspace=target.workspace,
                    channel=target.channel,
                    repo=repo,
                    **{k: _to_column(k, merged.get(k)) for k in SETTABLE},
                    created_by=by,
                    created_at=now,
                    updated_by=by,
                    updated_at=now,
                )
                # Two replicas subscribing at once: the second one updates instead.
                await conn.execute(
                    statement.on_conflict_do_nothing(
                        index_elements=["platform", "workspace", "channel", "repo"]
                    )
                )
                created = True
            fresh = (await conn.execute(sa.select(subscriptions).where(*key))).mappings().one()
        return _subscription(fresh), created

    async def delete_subscription(self, target: Target, repo: str) -> bool:
        async with self.engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        sa.select(subscriptions.c.id).where(
                            *_target_where(target), subscriptions.c.repo == repo
                        )
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return False
            # Children first: SQLite enforces the cascade only with its pragma on.
            await conn.execute(cursors.delete().where(cursors.c.subscription_id.in_(ids)))
            await conn.execute(digest_runs.delete().where(digest_runs.c.subscription_id.in_(ids)))
            await conn.execute(subscriptions.delete().where(subscriptions.c.id.in_(ids)))
        return True

    async def subscriptions_for(self, target: Target) -> list[Subscription]:
        query = (
            sa.select(subscriptions).where(*_target_where(target)).order_by(subscriptions.c.repo)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_subscription(r) for r in rows]

    async def all_subscriptions(self) -> list[Subscription]:
        async with self.engine.connect() as conn:
            rows = (
                (await conn.execute(sa.select(subscriptions).order_by(subscriptions.c.id)))
                .mappings()
                .all()
            )
        return [_subscription(r) for r in rows]

    async def get_subscription(self, subscription_id: int) -> Subscription | None:
        query = sa.select(subscriptions).where(subscriptions.c.id == subscription_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _subscription(row) if row is not None else None

    # -- digest runs --

    async def claim_run(
        self, subscription_id: int, period: str, owner: str, lease: timedelta
    ) -> Claim | None:
        """Own the run of (subscription, period); None when another replica has it or it is done."""
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
        # Someone had it: take it over only if it is unfinished and its lease ran out.
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(
                    *where,
                    digest_runs.c.state.in_([RunState.CLAIMED.value, RunState.POSTING.value]),
                    digest_runs.c.lease_until < now,
                )
                .values(
                    owner=owner,
                    lease_until=now + lease,
                    attempts=digest_runs.c.attempts + 1,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(sa.select(digest_runs).where(*where))).mappings().one()
        return Claim(_run(row), taken_over=True)

    async def extend_lease(self, run_id: int, owner: str, lease: timedelta) -> bool:
        """Keep a long run ours; False when the lease was lost to another replica."""
        now = self._now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(digest_runs.c.id == run_id, digest_runs.c.owner == owner)
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

    async def finish_run(
        self,
        run_id: int,
        owner: str,
        state: RunState,
        *,
        message_ids: tuple[str, ...] = (),
        error: str | None = None,
        cursor: Cursor | None = None,
    ) -> bool:
        """Mark the run finished and move the cursor, in one transaction; False if not ours."""
        now = self._now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                digest_runs.update()
                .where(digest_runs.c.id == run_id, digest_runs.c.owner == owner)
                .values(
                    state=state.value,
                    message_ids=json.dumps(list(message_ids)),
                    error=error,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return False
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

    async def runs(self, subscription_id: int | None = None) -> list[DigestRun]:
        query = sa.select(digest_runs).order_by(digest_runs.c.id)
        if subscription_id is not None:
            query = query.where(digest_runs.c.subscription_id == subscription_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_run(r) for r in rows]

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


def _target_where(target: Target) -> list[sa.ColumnElement[bool]]:
    return [
        subscriptions.c.platform == target.platform,
        subscriptions.c.workspace == target.workspace,
        subscriptions.c.channel == target.channel,
    ]


def _to_column(name: str, value: Any) -> Any:
    if name in ("paths", "exclude"):
        return json.dumps(list(value or ()))
    if name == "min_importance" and isinstance(value, Importance):
        return value.value
    return value


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _subscription(row: sa.RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        target=Target(platform=row["platform"], workspace=row["workspace"], channel=row["channel"]),
        repo=row["repo"],
        branch=row["branch"],
        at=row["at"],
        tz=row["tz"],
        language=row["language"],
        min_importance=Importance(row["min_importance"]),
        paths=tuple(json.loads(row["paths"])),
        exclude=tuple(json.loads(row["exclude"])),
        weekdays_only=bool(row["weekdays_only"]),
        post_empty=bool(row["post_empty"]),
        created_by=row["created_by"],
        created_at=_aware(row["created_at"]),
        updated_by=row["updated_by"],
        updated_at=_aware(row["updated_at"]),
    )


def _run(row: sa.RowMapping) -> DigestRun:
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
    )
