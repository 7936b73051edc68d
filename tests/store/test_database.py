"""The store on real SQLite and real PostgreSQL: migrations and the analyses cache."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store import migrations, tables
from bot.store.database import Store
from bot.store.errors import StoreError
from digest.analysis.cache import CachedAnalyzer, cache_key
from digest.analysis.heuristic import HeuristicAnalyzer, analyze_commit
from digest.models import (
    AnalysisStatus,
    AnalyzedCommit,
    Commit,
    Coverage,
    FileChange,
    FileStatus,
    Language,
    Unreadable,
)
from tests.commits import WHEN, commit
from tests.waiting import HANG


class CountingAnalyzer:
    """A real analyzer (the heuristic) that counts calls and can be told to fail."""

    name = "llm:test"
    fingerprint = "llm:test|prompt=1"

    def __init__(self, status: AnalysisStatus = AnalysisStatus.OK) -> None:
        self.calls = 0
        self.status = status

    async def analyze(self, c: Commit, language: Language) -> AnalyzedCommit:
        self.calls += 1
        await asyncio.sleep(0.01)
        return AnalyzedCommit(
            commit=c,
            analysis=analyze_commit(c, language),
            analyzer=self.name if self.status == AnalysisStatus.OK else "heuristic",
            language=language,
            coverage=Coverage(files_total=1, files_full=1),
            tokens_in=100,
            tokens_out=20,
            status=self.status,
            raw_output='{"raw": true}',
        )


async def test_migrations_are_applied_once_and_recorded(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        assert await store.upgrade() == []  # open() already applied them
        async with store.engine.connect() as conn:
            names = (await conn.execute(sa.text("SELECT name FROM _migrations"))).scalars().all()
        assert names == [name for name, _ in migrations.MIGRATIONS]
    finally:
        await store.close()
    again = await Store.open(database_url)  # an existing database opens in place
    await again.close()


async def test_cache_round_trip_and_one_call_per_commit(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        inner = CountingAnalyzer()
        cached = CachedAnalyzer(inner, store)
        commits = [commit(n) for n in range(1, 6)]
        # The same commit asked for concurrently (two channels) costs one call.
        first = await asyncio.gather(*(cached.analyze(c, "zh") for c in commits + commits))
        assert inner.calls == 5
        assert await store.count_analyses() == 5
        second = [await cached.analyze(c, "zh") for c in commits]
        assert inner.calls == 5
        assert cached.hits == 5
        assert [s.analysis for s in second] == [f.analysis for f in first[:5]]
        assert all(s.cached and s.raw_output == '{"raw": true}' for s in second)
        assert second[0].tokens_in == 100 and second[0].coverage == Coverage(
            files_total=1, files_full=1
        )
        await cached.analyze(commits[0], "en")  # another language is another analysis
        assert inner.calls == 6
    finally:
        await store.close()


async def test_fallbacks_are_not_cached(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        failing = CountingAnalyzer(AnalysisStatus.FALLBACK)
        cached = CachedAnalyzer(failing, store)
        await cached.analyze(commit(1), "zh")
        await cached.analyze(commit(1), "zh")
        assert failing.calls == 2
        assert await store.count_analyses() == 0
    finally:
        await store.close()


async def test_put_twice_keeps_one_row(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        entry = await HeuristicAnalyzer().analyze(commit(1), "zh")
        key = cache_key("k", "zh")
        await store.put_analysis(entry, key)
        await store.put_analysis(entry, key)
        assert await store.count_analyses() == 1
        await store.put_overview("day", key, "一句话。")
        await store.put_overview("day", key, "另一句话。")
        assert await store.get_overview("day", key) == "一句话。"
    finally:
        await store.close()


async def test_an_unusable_database_is_a_named_error_without_the_password() -> None:
    with pytest.raises(StoreError) as info:
        await Store.open("postgresql+asyncpg://bob:s3cretpw@127.0.0.1:1/none")
    assert "s3cretpw" not in str(info.value)


async def test_an_old_database_is_upgraded_in_place(database_url: str) -> None:
    """A database made by the first release keeps its cached analyses through the upgrade."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    first_only = migrations.MIGRATIONS[:1]

    def apply_first(conn: sa.Connection) -> None:
        saved = migrations.MIGRATIONS[:]
        migrations.MIGRATIONS[:] = first_only
        try:
            migrations.apply(conn)
        finally:
            migrations.MIGRATIONS[:] = saved

    entry = await HeuristicAnalyzer().analyze(commit(1), "zh")
    async with engine.begin() as conn:
        await conn.run_sync(apply_first)
        await conn.execute(
            tables.analyses.insert().values(
                repo=entry.commit.repo, sha=entry.commit.sha, cache_key="k",
                analyzer="heuristic", language="zh", status="ok",
                analysis_json=entry.analysis.model_dump_json() if entry.analysis else "{}",
                tokens_in=0, tokens_out=0, latency_ms=0, created_at=WHEN,
            )
        )  # fmt: skip
    await engine.dispose()
    store = await Store.open(database_url)  # upgrades to the latest schema
    try:
        assert await store.count_analyses() == 1
        assert await store.get_analysis(entry.commit, "k") is not None
        assert await store.all_subscriptions() == []  # the new tables exist
        assert await store.upgrade() == []
    finally:
        await store.close()


async def test_replicas_sharing_a_cache_make_one_call_per_commit(database_url: str) -> None:
    """Two channels following one repository, served by two replicas: one analysis each."""
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        inner = CountingAnalyzer()
        replicas = [CachedAnalyzer(inner, s, poll=0.02) for s in stores]
        commits = [commit(n) for n in range(1, 7)]
        results = await asyncio.gather(*(r.analyze(c, "zh") for c in commits for r in replicas))
        assert inner.calls == 6
        assert {r.commit.sha for r in results} == {c.sha for c in commits}
        assert sum(r.hits for r in replicas) == 6
    finally:
        for s in stores:
            await s.close()


async def test_an_analysis_made_from_part_of_the_diff_is_not_served_for_the_whole(
    database_url: str,
) -> None:
    """A damaged or partial clone's analysis is cached apart: once the clone is whole again,
    the commit is analysed again, from its whole diff."""
    store = await Store.open(database_url)
    try:
        inner = CountingAnalyzer()
        cached = CachedAnalyzer(inner, store, poll=0.02)
        whole = commit(1).model_copy(
            update={"files": (FileChange(path="a.py", status=FileStatus.MODIFIED),)}
        )
        lost = FileChange(path="a.py", status=FileStatus.MODIFIED, unreadable=Unreadable.MISSING)
        partial = whole.model_copy(update={"files": (lost,)})
        for c in (partial, partial, whole, whole):
            await cached.analyze(c, "zh")
        assert inner.calls == 2 and cached.hits == 2
    finally:
        await store.close()


async def test_a_claim_left_by_a_dead_replica_expires(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        key = cache_key(CountingAnalyzer.fingerprint, "zh")
        c = commit(1)
        assert await store.claim_analysis(c.repo, c.sha, key, "dead", timedelta(seconds=0.3))
        inner = CountingAnalyzer()
        cached = CachedAnalyzer(inner, store, poll=0.05)
        result = await asyncio.wait_for(cached.analyze(c, "zh"), timeout=HANG)
        assert result.status == AnalysisStatus.OK and inner.calls == 1
        # Released after use (with the analysis kept, in one transaction): no claim is left.
        async with store.engine.connect() as conn:
            left = await conn.scalar(sa.select(sa.func.count()).select_from(tables.analysis_claims))
        assert left == 0
        # And a claim asked for once the analysis is stored is not given: it would be a call.
        assert not await store.claim_analysis(c.repo, c.sha, key, "next", timedelta(seconds=5))
    finally:
        await store.close()


async def test_a_claim_given_as_the_analysis_is_stored_is_given_back(database_url: str) -> None:
    """Another replica stored the analysis between our look-up and our claim: the claim is
    refused and nothing is left held, and the analysis is served from the cache, no call."""
    store = await Store.open(database_url)
    try:
        key = cache_key(CountingAnalyzer.fingerprint, "zh")
        c = commit(1)
        made = await CountingAnalyzer().analyze(c, "zh")
        assert await store.claim_analysis(c.repo, c.sha, key, "other", timedelta(seconds=5))
        await store.put_analysis(made, key, owner="other")  # and its claim given back
        assert not await store.claim_analysis(c.repo, c.sha, key, "us", timedelta(seconds=5))
        async with store.engine.connect() as conn:
            left = await conn.scalar(sa.select(sa.func.count()).select_from(tables.analysis_claims))
        assert left == 0
        inner = CountingAnalyzer()
        cached = CachedAnalyzer(inner, store, poll=0.02)
        served = await cached.analyze(c, "zh")
        assert served.cached and inner.calls == 0 and cached.hits == 1
    finally:
        await store.close()


async def test_a_stored_analysis_keeps_another_owners_claim(database_url: str) -> None:
    """Putting with an owner gives back that owner's claim alone."""
    store = await Store.open(database_url)
    try:
        key = cache_key(CountingAnalyzer.fingerprint, "zh")
        c = commit(1)
        assert await store.claim_analysis(c.repo, c.sha, key, "holder", timedelta(seconds=5))
        await store.put_analysis(await CountingAnalyzer().analyze(c, "zh"), key, owner="late")
        async with store.engine.connect() as conn:
            owners = (await conn.execute(sa.select(tables.analysis_claims.c.owner))).scalars()
            assert list(owners) == ["holder"]
    finally:
        await store.close()


async def test_an_inbound_event_is_handled_once_across_replicas(database_url: str) -> None:
    stores = [await Store.open(database_url) for _ in range(3)]
    try:
        firsts = await asyncio.gather(*(s.first_delivery("feishu:ev-1") for s in stores * 3))
        assert sum(firsts) == 1
        assert await stores[0].first_delivery("feishu:ev-2")
    finally:
        for s in stores:
            await s.close()


async def test_a_burst_of_inbound_keys_is_written_in_batches_each_first_once(
    database_url: str,
) -> None:
    """300 keys at once from two replicas, each key asked three times and some seen before:
    exactly one caller in all gets True for each new key, none for the old; the keys reach the
    table in far fewer statements than keys (one per batch), and a long key counts by its first
    200 characters, as it is stored."""
    stores = [await Store.open(database_url) for _ in range(2)]
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    try:
        old = [f"slack:old-{n}" for n in range(20)]
        for key in old:
            assert await stores[0].first_delivery(key)
        sa.event.listen(stores[0].engine.sync_engine, "before_cursor_execute", count)
        keys = [f"slack:sig-{n}" for n in range(300)] + old
        asks = [stores[n % 2].first_delivery(key) for key in keys for n in range(3)]
        firsts = await asyncio.gather(*asks)
        by_key: dict[str, int] = {}
        for key, first in zip([k for k in keys for _ in range(3)], firsts, strict=True):
            by_key[key] = by_key.get(key, 0) + first
        assert all(by_key[key] == 1 for key in keys[:300])
        assert all(by_key[key] == 0 for key in old)
        assert 0 < statements < 100  # 480 keys asked of this replica
        long = "feishu:" + "x" * 300
        assert await stores[1].first_delivery(long)
        assert not await stores[0].first_delivery(long[:200] + "different tail")
    finally:
        for s in stores:
            await s.close()


async def test_an_inbound_check_that_cannot_reach_the_database_fails_every_caller(
    tmp_path: Path,
) -> None:
    """The table gone (a database in trouble): every caller waiting in the batch gets the error,
    none a guess, and the next batch works again once the database does."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/inbound.db")
    try:
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE inbound_events RENAME TO away"))
        outcomes = await asyncio.gather(
            *(store.first_delivery(f"k{n}") for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(o, sa.exc.OperationalError) for o in outcomes)
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE away RENAME TO inbound_events"))
        assert (
            await asyncio.gather(*(store.first_delivery(f"k{n}") for n in range(5))) == [True] * 5
        )
    finally:
        await store.close()


async def test_a_sqlite_store_runs_in_wal_without_a_sync_per_commit(tmp_path: Path) -> None:
    """WAL with synchronous=NORMAL: a commit survives the process being killed at any line (the
    replica tests kill it); only a power cut may take back the last commits, and no commit
    waits for the disk, which every ack's replay check would otherwise feel."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/modes.db")
    try:
        async with store.engine.connect() as conn:
            modes = [
                (await conn.execute(sa.text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
        assert modes == ["wal", 1, 5000, 1]  # synchronous 1 is NORMAL (2, the default, FULL)
    finally:
        await store.close()


async def test_a_statement_cancelled_by_its_caller_is_not_an_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run given up or a stop cancels a statement in flight: SQLAlchemy drops that connection
    as if it were lost, but the database answered; no "cannot be reached", still ready."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/cancel.db")
    started = asyncio.Event()
    count = sa.text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000)"
        " SELECT count(*) FROM c"
    )

    async def slow() -> None:
        async with store.engine.connect() as conn:
            started.set()
            await conn.execute(count)

    try:
        task = asyncio.create_task(slow())
        await started.wait()
        await asyncio.sleep(0)  # the statement handed to the driver's thread
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert store.health.up and store.health.outages == 0
        assert "cannot be reached" not in caplog.text
        assert await store.first_delivery("after-the-cancel")
    finally:
        await store.close()


async def test_a_look_up_made_ahead_is_checked_again_by_the_claim(database_url: str) -> None:
    """`prepare` looks the cache up before the commit's turn. A hit is served with no call; a
    miss whose analysis another replica stored meanwhile is served from the cache too."""
    stores = [await Store.open(database_url) for _ in range(2)]
    try:
        inner = CountingAnalyzer()
        ours, theirs = (CachedAnalyzer(inner, s, poll=0.02) for s in stores)
        await theirs.analyze(commit(1), "zh")
        await ours.prepare(commit(1), "zh")  # a hit
        await ours.prepare(commit(2), "zh")  # a miss, then made by the other replica
        await theirs.analyze(commit(2), "zh")
        assert inner.calls == 2
        one = await ours.analyze(commit(1), "zh")
        two = await ours.analyze(commit(2), "zh")
        assert one.cached and two.cached
        assert inner.calls == 2 and ours.hits == 2
        await ours.prepare(commit(3), "zh")  # a miss still: analysed, once
        three = await ours.analyze(commit(3), "zh")
        assert not three.cached and inner.calls == 3
    finally:
        for s in stores:
            await s.close()
