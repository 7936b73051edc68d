"""The store's channel side: subscriptions (who follows what, with which options).

The digest runs and cursors that subscriptions lead to are bot/store/runs.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.records import Subscription, Target
from bot.store.tables import cursors, digest_parts, digest_runs, subscriptions
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
            runs = sa.select(digest_runs.c.id).where(digest_runs.c.subscription_id.in_(ids))
            await conn.execute(digest_parts.delete().where(digest_parts.c.run_id.in_(runs)))
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
