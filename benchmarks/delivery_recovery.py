"""How fast delivery recovers, against its bounds, in real time on a real database.

1. Takeover: a replica claims a run, posts its main message and dies. Another replica (its tick
   an hour away) completes the post when the dead one's lease ends. Figure: from the claim to the
   post being complete; bound: the lease. Ratio = figure / lease (≈ 1 is the design).
2. Database outage (PostgreSQL only, behind a TCP proxy of our own): the database goes away for
   `OUTAGE` s while a post is analysed. Figure: from its return to the post recorded; bound: a
   third of the lease (the longest wait between tries).

Uses DIGEST_TEST_PG_URL (default: the CI database) when PostgreSQL answers, else SQLite (then
only the first). Run: .venv/bin/python -m benchmarks.delivery_recovery
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery.parts import Part
from bot.delivery.retry import Backoff
from bot.delivery.scheduler import DigestScheduler
from bot.store.database import Store
from bot.store.records import RunState
from digest.analysis.base import Analyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.git import GitSource
from tests.delivery.test_resume import Finished
from tests.delivery.test_scheduler_claims import GatedAnalyzer
from tests.gitrepo import GitRepo
from tests.scheduling import CHAN, DEFAULTS, REPO, Killed, RecordingPoster
from tests.tcpproxy import TcpProxy

PG_URL = os.environ.get("DIGEST_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
LEASES = (3.0, 6.0)
OUTAGE = 5.0


def now() -> datetime:
    return datetime.now(UTC)


async def fresh(url: str) -> None:
    store = await Store.open(url)
    async with store.engine.begin() as conn:
        for table in ("digest_parts", "digest_runs", "cursors", "subscriptions"):
            await conn.exec_driver_sql(f"DELETE FROM {table}")
    await store.close()


async def due_subscription(url: str, tmp: Path) -> GitRepo:
    repo = GitRepo.init(tmp / f"repo-{time.monotonic_ns()}")
    for n in range(3):
        repo.commit(
            f"feat: change {n}", {f"src/m{n}.py": f"v = {n}\n"}, when=now() - timedelta(hours=2)
        )
    fire = now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    maker = await Store.open(url, clock=lambda: now() - timedelta(days=1))
    values = {"at": fire.strftime("%H:%M"), "tz": "UTC"}
    await maker.upsert_subscription(CHAN, REPO, values, defaults=DEFAULTS, by="U1")
    await maker.close()
    return repo


def scheduler(
    store: Store,
    repo: GitRepo,
    poster: RecordingPoster,
    replica: str,
    lease: float,
    analyzer: Analyzer | None = None,
) -> DigestScheduler:
    return DigestScheduler(
        store,
        lambda name: GitSource(repo.path),
        analyzer or HeuristicAnalyzer(),
        {"slack": poster},
        clock=now,
        replica=replica,
        lease=timedelta(seconds=lease),
        tick=timedelta(hours=1),
        backoff=Backoff(),
    )


async def takeover(url: str, tmp: Path, lease: float) -> float:
    await fresh(url)
    repo = await due_subscription(url, tmp)
    poster = RecordingPoster(replies=True)
    store = await Store.open(url, clock=now)
    try:
        first_reply: list[str] = []

        async def die_at_first_reply(part: Part) -> None:
            if part.name.startswith("reply") and not first_reply:
                first_reply.append(part.name)
                raise Killed(part.name)

        poster.before_send = die_at_first_reply
        claimed = time.monotonic()
        with suppress(Killed):  # the replica dies with its main message out
            await scheduler(store, repo, poster, "dead", lease).run_once(now())
        poster.before_send = None
        taker = scheduler(store, repo, poster, "r2", lease)
        finished = Finished()
        taker.runner.observer = finished
        await taker.start()
        try:
            await asyncio.wait_for(finished.settled.get(), 60 + 3 * lease)
        finally:
            await taker.shutdown()
        took = time.monotonic() - claimed
        (run,) = await store.runs()
        assert run.state == RunState.POSTED and run.takeovers == 1
        assert len(poster.messages) == len(set(poster.messages))
        return took
    finally:
        await store.close()


async def outage(url: str, tmp: Path, lease: float) -> float:
    await fresh(url)
    repo = await due_subscription(url, tmp)
    poster = RecordingPoster(replies=True)
    async with TcpProxy(5432) as proxy:
        store = await Store.open(proxy.url(url), clock=now)
        try:
            gate = GatedAnalyzer()
            sched = scheduler(store, repo, poster, "r1", lease, analyzer=gate)
            running = asyncio.create_task(sched.run_once(now()))
            await asyncio.wait_for(gate.entered.wait(), 60)
            proxy.cut()
            gate.gate.set()
            await asyncio.sleep(OUTAGE)  # the outage itself
            proxy.restore()
            back = time.monotonic()
            outcomes = await running
            if outcomes[-1].outcome.value != "posted":  # gave the run up: the next look
                finished = Finished()
                sched.runner.observer = finished
                await sched.start()
                try:
                    await asyncio.wait_for(finished.settled.get(), 60 + 3 * lease)
                finally:
                    await sched.shutdown()
            took = time.monotonic() - back
            assert len(poster.messages) == len(set(poster.messages))
            return took
        finally:
            await store.close()


async def pg_answers(url: str) -> bool:
    try:
        store = await Store.open(url)
    except Exception:
        return False
    await store.close()
    return True


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = PG_URL if await pg_answers(PG_URL) else f"sqlite+aiosqlite:///{tmp}/bench.db"
        kind = "PostgreSQL" if url == PG_URL else "SQLite"
        print(f"database: {kind}")
        for lease in LEASES:
            took = await takeover(url, Path(tmp), lease)
            print(
                f"takeover after a crash at a reply: complete {took:.2f} s after the claim; "
                f"bound: the lease, {lease:.0f} s (then up to 1 s of jitter and the rest of "
                f"the post); ratio {took / lease:.2f}"
            )
        if kind == "PostgreSQL":
            for lease in (6.0, 15.0):
                took = await outage(url, Path(tmp), lease)
                bound = lease / 3
                print(
                    f"database away {OUTAGE:.0f} s during a post (lease {lease:.0f} s): recorded "
                    f"{took:.2f} s after its return; bound: a third of the lease, {bound:.0f} s; "
                    f"ratio {took / bound:.2f}"
                )


if __name__ == "__main__":
    asyncio.run(main())
