"""Subscriptions, exactly-once run claims and cursors, on real SQLite and real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store.database import Store
from bot.store.records import Cursor, RunState, Target
from digest.models import Importance

T0 = datetime(2026, 2, 5, 1, 0, tzinfo=UTC)
CHAN = Target(platform="slack", workspace="T1", channel="C1")
OTHER = Target(platform="slack", workspace="T1", channel="C2")
DEFAULTS = {
    "at": "09:00",
    "tz": "Asia/Shanghai",
    "language": "zh",
    "min_importance": "low",
    "weekdays_only": False,
    "post_empty": False,
}
LEASE = timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_subscribe_again_updates_only_what_is_given(database_url: str) -> None:
    clock = Clock()
    store = await Store.open(database_url, clock=clock)
    try:
        sub, created = await store.upsert_subscription(
            CHAN, "octo/demo", {"at": "10:30", "paths": ("src/**",)}, defaults=DEFAULTS, by="U1"
        )
        assert created and sub.at == "10:30" and sub.tz == "Asia/Shanghai"
        assert sub.paths == ("src/**",) and sub.min_importance == Importance.LOW
        clock.now += timedelta(hours=1)
        again, created = await store.upsert_subscription(
            CHAN, "octo/demo", {"min_importance": Importance.HIGH}, defaults=DEFAULTS, by="U2"
        )
        assert not created and again.id == sub.id
        assert (again.at, again.min_importance, again.paths) == (
            "10:30",
            Importance.HIGH,
            ("src/**",),
        )
        assert (again.created_by, again.updated_by) == ("U1", "U2")
        assert again.updated_at == T0 + timedelta(hours=1)
        await store.upsert_subscription(OTHER, "octo/demo", {}, defaults=DEFAULTS, by="U3")
        assert [s.repo for s in await store.subscriptions_for(CHAN)] == ["octo/demo"]
        assert len(await store.all_subscriptions()) == 2
    finally:
        await store.close()


async def test_unsubscribe_removes_runs_and_cursor(database_url: str) -> None:
    store = await Store.open(database_url, clock=Clock())
    try:
        sub, _ = await store.upsert_subscription(CHAN, "octo/demo", {}, defaults=DEFAULTS, by="U")
        claim = await store.claim_run(sub.id, "2026-02-05", "r1", LEASE)
        assert claim is not None
        cursor = Cursor(
            subscription_id=sub.id, branch="main", head_sha="a" * 40, period="2026-02-05",
            updated_at=T0,
        )  # fmt: skip
        await store.finish_run(claim.run.id, "r1", RunState.POSTED, cursor=cursor)
        assert await store.delete_subscription(CHAN, "octo/demo")
        assert not await store.delete_subscription(CHAN, "octo/demo")
        assert await store.runs() == []
        assert await store.get_cursor(sub.id) is None
    finally:
        await store.close()


async def test_exactly_one_of_many_concurrent_claims_wins(database_url: str) -> None:
    stores = [await Store.open(database_url, clock=Clock()) for _ in range(4)]
    try:
        sub, _ = await stores[0].upsert_subscription(CHAN, "o/r", {}, defaults=DEFAULTS, by="U")
        claims = await asyncio.gather(
            *(
                stores[i % 4].claim_run(sub.id, "2026-02-05", f"replica-{i}", LEASE)
                for i in range(12)
            )
        )
        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        assert len(await stores[0].runs(sub.id)) == 1
    finally:
        for store in stores:
            await store.close()


async def test_an_unfinished_claim_is_taken_over_after_its_lease(database_url: str) -> None:
    clock = Clock()
    store = await Store.open(database_url, clock=clock)
    try:
        sub, _ = await store.upsert_subscription(CHAN, "o/r", {}, defaults=DEFAULTS, by="U")
        first = await store.claim_run(sub.id, "2026-02-05", "r1", LEASE)
        assert first is not None and not first.taken_over
        clock.now += LEASE - timedelta(seconds=1)
        assert await store.claim_run(sub.id, "2026-02-05", "r2", LEASE) is None  # still leased
        clock.now += timedelta(seconds=2)
        second = await store.claim_run(sub.id, "2026-02-05", "r2", LEASE)
        assert second is not None and second.taken_over and second.run.attempts == 2
        # The old owner lost it: it can neither post-mark nor finish.
        assert not await store.mark_posting(first.run.id, "r1", base_sha=None, head_sha=None)
        assert not await store.finish_run(first.run.id, "r1", RunState.POSTED)
        assert await store.mark_posting(second.run.id, "r2", base_sha=None, head_sha="b" * 40)
        assert await store.finish_run(
            second.run.id, "r2", RunState.POSTED, message_ids=("m1", "m2")
        )
        clock.now += timedelta(days=1)
        assert await store.claim_run(sub.id, "2026-02-05", "r3", LEASE) is None  # done is done
        (run,) = await store.runs(sub.id)
        assert run.state == RunState.POSTED and run.message_ids == ("m1", "m2")
        assert run.owner == "r2" and run.head_sha == "b" * 40
    finally:
        await store.close()


async def test_extend_lease_and_cursor(database_url: str) -> None:
    clock = Clock()
    store = await Store.open(database_url, clock=clock)
    try:
        sub, _ = await store.upsert_subscription(CHAN, "o/r", {}, defaults=DEFAULTS, by="U")
        claim = await store.claim_run(sub.id, "2026-02-06", "r1", LEASE)
        assert claim is not None
        clock.now += LEASE - timedelta(seconds=10)
        assert await store.extend_lease(claim.run.id, "r1", LEASE)
        clock.now += timedelta(seconds=30)
        assert await store.claim_run(sub.id, "2026-02-06", "r2", LEASE) is None
        assert await store.last_period(sub.id) == "2026-02-06"
        cursor = Cursor(
            subscription_id=sub.id, branch="main", head_sha="c" * 40, period="2026-02-06",
            updated_at=clock.now,
        )  # fmt: skip
        assert await store.finish_run(claim.run.id, "r1", RunState.SKIPPED, cursor=cursor)
        got = await store.get_cursor(sub.id)
        assert got is not None and got.head_sha == "c" * 40 and got.period == "2026-02-06"
    finally:
        await store.close()


async def test_a_local_clone_is_kept_by_its_whole_path(database_url: str) -> None:
    """Migration 008: room for a clone's absolute path, not only owner/name's 200 characters."""
    store = await Store.open(database_url, clock=Clock())
    try:
        path = "/srv/c/" + "/".join(["a-rather-long-directory-name"] * 35)
        assert 1_000 < len(path) <= 1_024
        terminal = Target(platform="terminal", workspace="local", channel="alice")
        sub, created = await store.upsert_subscription(
            terminal, path, {}, defaults=DEFAULTS, by="alice"
        )
        assert created and sub.repo == path
        assert [s.repo for s in await store.subscriptions_for(terminal)] == [path]
        assert await store.delete_subscription(terminal, path)
    finally:
        await store.close()
