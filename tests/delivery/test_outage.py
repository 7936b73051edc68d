"""The database goes away during a run (a TCP proxy between the bot and the real PostgreSQL is
cut; the server, which other runs share, is never touched), in real time, in one process:

- shorter than the lease: the run waits for its lease to be renewed and goes on, each part once;
- longer than the lease: the run stops without counting a failure, and the next look after the
  database is back takes it over and completes the post, each part once.

Both say in the log when the database went away and when it answered again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.retry import Backoff
from bot.delivery.run import Outcome
from bot.delivery.scheduler import DigestScheduler
from bot.store.database import Store
from bot.store.records import RunState, Subscription
from digest.sources.git import GitSource
from tests.delivery.test_scheduler_claims import GatedAnalyzer
from tests.gitrepo import GitRepo
from tests.scheduling import CHAN, DEFAULTS, REPO, RecordingPoster
from tests.tcpproxy import TcpProxy

PG_PORT = 5432


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Outage:
    proxy: TcpProxy
    store: Store  # through the proxy
    sub: Subscription
    poster: RecordingPoster
    gate: GatedAnalyzer
    scheduler: DigestScheduler


@pytest.fixture
async def outage(tmp_path: Path, postgres_url: str) -> AsyncIterator[Outage]:
    repo = GitRepo.init(tmp_path / "demo")
    for n in range(3):
        repo.commit(
            f"feat: change {n}", {f"src/m{n}.py": f"v = {n}\n"}, when=now() - timedelta(hours=2)
        )
    fire = now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    # Made a day ago (its first fire is today's), straight through to the server.
    maker = await Store.open(postgres_url, clock=lambda: now() - timedelta(days=1))
    values = {"at": fire.strftime("%H:%M"), "tz": "UTC"}
    sub, _ = await maker.upsert_subscription(CHAN, REPO, values, defaults=DEFAULTS, by="U1")
    await maker.close()
    async with TcpProxy(PG_PORT) as proxy:
        store = await Store.open(proxy.url(postgres_url), clock=now)
        poster = RecordingPoster(replies=True)
        gate = GatedAnalyzer()
        scheduler = DigestScheduler(
            store,
            lambda name: GitSource(repo.path),
            gate,
            {"slack": poster},
            clock=now,
            replica="r1",
            lease=timedelta(seconds=3),
            backoff=Backoff(first=0.2, most=1.0, tries=40),
        )
        try:
            yield Outage(proxy, store, sub, poster, gate, scheduler)
        finally:
            proxy.restore()
            await store.close()


def once_each(poster: RecordingPoster) -> Counter[str]:
    sent = Counter(name for _, name in poster.messages)
    assert max(sent.values()) == 1, sent
    return sent


async def test_an_outage_shorter_than_the_lease_is_ridden_out(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    running = asyncio.create_task(outage.scheduler.run_once(now()))
    await asyncio.wait_for(outage.gate.entered.wait(), 60)
    outage.proxy.cut()  # the database goes away while the digest is analysed
    outage.gate.gate.set()
    await asyncio.sleep(2.0)  # the outage itself (a fault injected, not a wait for an event)
    outage.proxy.restore()
    (outcome,) = await asyncio.wait_for(running, 60)
    assert outcome.outcome == Outcome.POSTED
    assert once_each(outage.poster) == Counter({name: 1 for name in once_each(outage.poster)})
    assert len(once_each(outage.poster)) == 4  # the main post and three replies
    (run,) = await outage.store.runs(outage.sub.id)
    assert (run.state, run.failures, run.takeovers) == (RunState.POSTED, 0, 0)
    assert run.retries >= 1  # the steps that met the outage were retried
    logged = caplog.text
    assert "the database cannot be reached" in logged
    assert "the database answers again" in logged


async def test_an_outage_longer_than_the_lease_moves_the_run_once_the_database_is_back(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    running = asyncio.create_task(outage.scheduler.run_once(now()))
    await asyncio.wait_for(outage.gate.entered.wait(), 60)
    outage.proxy.cut()
    outage.gate.gate.set()
    (outcome,) = await asyncio.wait_for(running, 60)  # gives the run up: no lease, no post
    assert (outcome.outcome, outcome.detail) == (Outcome.NOT_CLAIMED, "lease lost")
    assert outage.poster.messages == []
    assert outage.proxy.refused > 0
    outage.proxy.restore()
    outcomes = await outage.scheduler.run_once(now())
    assert [o.outcome for o in outcomes] == [Outcome.POSTED]
    assert len(once_each(outage.poster)) == 4
    (run,) = await outage.store.runs(outage.sub.id)
    assert (run.state, run.failures, run.takeovers) == (RunState.POSTED, 0, 1)
    assert "lease could not be renewed" in caplog.text
    assert "not counted as an attempt" in caplog.text
    assert "the database answers again" in caplog.text
