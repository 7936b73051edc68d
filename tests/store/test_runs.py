"""Digest runs in the store: migration 007 on a database that has runs in flight, takeovers
counted apart from failures, failed attempts released until their retry time, parts recorded
once, on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import migrations
from bot.store.database import Store
from bot.store.records import RunState, Target

T0 = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)
CHAN = Target(platform="slack", workspace="T1", channel="C1")
DEFAULTS = {
    "at": "09:00",
    "tz": "UTC",
    "language": "en",
    "min_importance": "low",
    "weekdays_only": False,
    "post_empty": False,
}
LEASE = timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_007_upgrades_a_database_with_runs_in_flight(database_url: str) -> None:
    before_007 = [m for m in migrations.MIGRATIONS if m[0] < "007"]
    engine = create_async_engine(database_url)

    def apply_before(conn: sa.Connection) -> None:
        saved = migrations.MIGRATIONS[:]
        migrations.MIGRATIONS[:] = before_007
        try:
            migrations.apply(conn)
        finally:
            migrations.MIGRATIONS[:] = saved

    async with engine.begin() as conn:
        await conn.run_sync(apply_before)
        await conn.execute(
            sa.text(
                "INSERT INTO subscriptions (platform, workspace, channel, repo, at, tz, language,"
                " min_importance, paths, exclude, weekdays_only, post_empty, created_by,"
                " created_at, updated_by, updated_at) VALUES ('slack', 'T1', 'C1', 'octo/demo',"
                " '09:00', 'UTC', 'en', 'low', '[]', '[]', false, false, 'U1', :t, 'U1', :t)"
            ),
            {"t": T0},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO digest_runs (subscription_id, period, state, owner, lease_until,"
                " attempts, message_ids, created_at, updated_at) VALUES"
                " (1, '2026-02-05', 'posting', 'old-replica', :t, 2, '[]', :t, :t)"
            ),
            {"t": T0},
        )
    await engine.dispose()
    clock = Clock()
    store = await Store.open(database_url, clock=clock)  # applies 007 (and any later ones)
    try:
        (run,) = await store.runs()
        assert (run.state, run.attempts, run.failures, run.takeovers, run.retries) == (
            RunState.POSTING,
            2,
            0,
            0,
            0,
        )
        assert run.posted_at is None and await store.parts_of(run.id) == {}
        clock.now += LEASE  # the old replica's lease ran out: the new code takes it over
        claim = await store.claim_run(1, "2026-02-05", "new-replica", LEASE)
        assert claim is not None and claim.taken_over and claim.previous_owner == "old-replica"
    finally:
        await store.close()


async def test_takeovers_failures_and_parts(database_url: str) -> None:
    clock = Clock()
    store = await Store.open(database_url, clock=clock)
    try:
        sub, _ = await store.upsert_subscription(CHAN, "octo/demo", {}, defaults=DEFAULTS, by="U")
        first = await store.claim_run(sub.id, "2026-02-05", "r1", LEASE)
        assert first is not None and not first.taken_over and first.previous_owner is None
        await store.record_part(first.run.id, "main-0", "1.0001")
        await store.record_part(first.run.id, "main-0", "1.0001")  # recorded twice: one row
        assert await store.parts_of(first.run.id) == {"main-0": "1.0001"}

        # r1 dies; r2 takes over after the lease: a takeover, not a failure.
        clock.now += LEASE + timedelta(seconds=1)
        second = await store.claim_run(sub.id, "2026-02-05", "r2", LEASE)
        assert second is not None and second.taken_over and second.previous_owner == "r1"
        assert (second.run.attempts, second.run.takeovers, second.run.failures) == (2, 1, 0)
        assert not await store.extend_lease(first.run.id, "r1", LEASE)  # not r1's any more

        # r2's own work fails: counted, released until its retry time.
        retry_at = clock.now + timedelta(minutes=3)
        assert await store.fail_run(
            second.run.id, "r2", error="E: x", retries=2, give_up=False, retry_at=retry_at
        )
        assert not await store.fail_run(
            second.run.id, "r2", error="E: y", retries=0, give_up=False, retry_at=retry_at
        )  # released: no longer r2's
        released = await store.run_of(sub.id, "2026-02-05")
        assert released is not None
        assert (released.owner, released.failures, released.retries, released.error) == (
            "",
            1,
            2,
            "E: x",
        )
        assert await store.claim_run(sub.id, "2026-02-05", "r3", LEASE) is None  # not yet
        clock.now = retry_at + timedelta(seconds=1)
        third = await store.claim_run(sub.id, "2026-02-05", "r3", LEASE)
        # A run released after a failure is tried again: not a takeover.
        assert third is not None and not third.taken_over
        assert (third.run.attempts, third.run.takeovers, third.run.failures) == (3, 1, 1)

        parts = {"main-0": "1.0001", "reply-a-0": "1.0002", "file": "F1"}
        assert await store.finish_run(
            third.run.id, "r3", RunState.POSTED, message_ids=tuple(parts.values()), parts=parts
        )
        done = await store.run_of(sub.id, "2026-02-05")
        assert done is not None and done.state == RunState.POSTED
        assert done.posted_at == clock.now and done.error == "E: x"  # the last failure is kept
        assert await store.parts_of(third.run.id) == parts
        assert await store.claim_run(sub.id, "2026-02-05", "r4", LEASE) is None
        assert not await store.extend_lease(third.run.id, "r3", LEASE)  # finished

        # Unsubscribing removes the runs and their parts.
        assert await store.delete_subscription(CHAN, "octo/demo")
        assert await store.parts_of(third.run.id) == {}
    finally:
        await store.close()


async def test_giving_up_keeps_the_owner_and_finishes_the_run(database_url: str) -> None:
    clock = Clock()
    store = await Store.open(database_url, clock=clock)
    try:
        sub, _ = await store.upsert_subscription(CHAN, "octo/demo", {}, defaults=DEFAULTS, by="U")
        claim = await store.claim_run(sub.id, "2026-02-05", "r1", LEASE)
        assert claim is not None
        assert await store.fail_run(
            claim.run.id, "r1", error="E: z", retries=0, give_up=True, retry_at=clock.now
        )
        run = await store.run_of(sub.id, "2026-02-05")
        assert run is not None and (run.state, run.owner, run.failures) == (
            RunState.FAILED,
            "r1",
            1,
        )
        clock.now += timedelta(days=1)
        assert await store.claim_run(sub.id, "2026-02-05", "r2", LEASE) is None
        recent = await store.recent_runs([sub.id])
        assert [r.period for r in recent[sub.id]] == ["2026-02-05"]
    finally:
        await store.close()
