"""Exactly once: concurrent replicas, abandoned claims, takeovers, failures and leases, on
SQLite and PostgreSQL, with real git and a recording chat platform."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.delivery.run import Outcome
from bot.store.records import RunState, Target
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import AnalyzedCommit, Commit, Language
from digest.service import assemble_digest
from digest.window import window_between
from tests.scheduling import LEASE, REPO, TZ, at, kinds, sh, world
from tests.waiting import HANG, until_async

MADE = sh(4, 10)


async def test_two_replicas_post_each_digest_exactly_once(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        channels = [f"C{n}" for n in range(4)]
        for channel in channels:
            await w.subscribe(Target(platform="slack", workspace="T1", channel=channel))
        one = w.scheduler(replica="r1")
        two = w.scheduler(store=await w.other_store(), replica="r2")
        for day in (5, 6, 7):
            w.commit(f"feat: day {day}", sh(day - 1, 15))
            w.clock.now = sh(day, 9)
            results = await asyncio.gather(one.run_once(w.clock.now), two.run_once(w.clock.now))
            outcomes = [o for r in results for o in r]
            assert sorted(o.outcome for o in outcomes if o.outcome != Outcome.NOT_CLAIMED) == [
                Outcome.POSTED
            ] * len(channels)
        keys = [p.run_key for p in w.poster.sent]
        assert len(keys) == len(set(keys)) == 3 * len(channels)
        for channel in channels:
            periods = [p.digest.window.end for p in w.poster.sent if p.target.channel == channel]
            assert sorted(periods) == [sh(5, 9), sh(6, 9), sh(7, 9)]
        runs = await w.store.runs()
        assert len(runs) == 3 * len(channels)
        assert {r.state for r in runs} == {RunState.POSTED}


async def test_an_abandoned_claim_is_taken_over_after_its_lease(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        change = w.commit("feat: change", sh(4, 15))
        sched = w.scheduler()
        w.clock.now = sh(5, 9)
        dead = await w.store.claim_run(sub.id, "2026-02-05", "dead-replica", LEASE)
        assert dead is not None  # a replica claimed the run, then crashed

        assert kinds(await sched.run_once(sh(5, 9))) == [("2026-02-05", "not-claimed")]
        assert kinds(await at(sched, w.clock, sh(5, 9) + LEASE - timedelta(seconds=1))) == [
            ("2026-02-05", "not-claimed")
        ]
        outcomes = await at(sched, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        assert [p.shas for p in w.poster.sent] == [{change}]
        (run,) = await w.store.runs(sub.id)
        assert (run.state, run.owner, run.attempts) == (RunState.POSTED, "r1", 2)


async def test_a_posting_run_whose_post_exists_is_not_posted_again(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        w.commit("feat: change", sh(4, 15))
        head = w.repo.git("rev-parse", "HEAD")
        w.clock.now = sh(5, 9)
        # A replica claimed, marked POSTING, posted, and died before recording the post.
        dead = await w.store.claim_run(sub.id, "2026-02-05", "dead-replica", LEASE)
        assert dead is not None
        assert await w.store.mark_posting(dead.run.id, "dead-replica", base_sha=None, head_sha=head)
        digest = await assemble_digest(
            (await w.open_source(REPO).repo()),
            "main",
            window_between(sh(4, 9), sh(5, 9), TZ),
            [],
            HeuristicAnalyzer(),
            language="en",
            now=w.clock,
        )
        ids = w.poster.seed(sub.target, f"digest-run-{dead.run.id}", digest)
        sched = w.scheduler()

        outcomes = await at(sched, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "found-existing")]
        assert outcomes[0].message_ids == ids
        assert len(w.poster.sent) == 1 and w.poster.lookups == [f"digest-run-{dead.run.id}"]
        (run,) = await w.store.runs(sub.id)
        assert (run.state, run.message_ids) == (RunState.POSTED, ids)
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and (cursor.head_sha, cursor.branch) == (head, "main")

        # The next digest continues from that head.
        later = w.commit("feat: later", sh(5, 12))
        await at(sched, w.clock, sh(6, 9))
        assert w.poster.sent[-1].shas == {later}


async def test_a_posting_run_whose_post_is_missing_is_posted_once(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        change = w.commit("feat: change", sh(4, 15))
        w.clock.now = sh(5, 9)
        dead = await w.store.claim_run(sub.id, "2026-02-05", "dead-replica", LEASE)
        assert dead is not None
        assert await w.store.mark_posting(dead.run.id, "dead-replica", base_sha=None, head_sha=None)
        sched = w.scheduler()

        outcomes = await at(sched, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        assert [p.shas for p in w.poster.sent] == [{change}]
        assert w.poster.lookups == [f"digest-run-{dead.run.id}"]


async def test_failures_are_retried_then_recorded_and_nothing_is_lost(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        change = w.commit("feat: change", sh(4, 15))
        w.poster.fail_calls = {1, 2, 3}
        sched = w.scheduler(max_attempts=3)
        when = sh(5, 9)
        waits = []
        for kind in ["retry-later", "retry-later", "failed"]:
            (outcome,) = await at(sched, w.clock, when)
            assert (outcome.period, outcome.outcome.value) == ("2026-02-05", kind)
            if outcome.retry_at is not None:  # released until then, with backoff
                waits.append(outcome.retry_at - when)
                assert kinds(await at(sched, w.clock, outcome.retry_at - timedelta(seconds=1))) == [
                    ("2026-02-05", "not-claimed")
                ]
                when = outcome.retry_at + timedelta(seconds=1)
        assert waits == [LEASE, 2 * LEASE]
        (run,) = await w.store.runs(sub.id)
        assert run.state == RunState.FAILED and (run.attempts, run.failures, run.takeovers) == (
            3,
            3,
            0,
        )
        assert run.error == "Refused: recording refused the post: the platform is unreachable"
        assert await w.store.get_cursor(sub.id) is None
        # The channel is told, once, in the subscription's language, with what to do.
        ((target, key, text),) = w.poster.notices
        assert target == sub.target and key == f"digest-run-{run.id}/notice"
        assert "octo/demo" in text and "2026-02-05" in text and "/digest now" in text
        assert await at(sched, w.clock, sh(5, 12)) == []  # a failed day is not retried

        later = w.commit("feat: later", sh(5, 12))
        assert kinds(await at(sched, w.clock, sh(6, 9))) == [("2026-02-06", "posted")]
        (post,) = w.poster.sent
        assert post.shas == {change, later}  # the failed day's commits come next time


class GatedAnalyzer:
    """The real heuristic, held at a gate: a digest that takes as long as the test wants."""

    def __init__(self) -> None:
        self.inner = HeuristicAnalyzer()
        self.name = self.inner.name
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        self.entered.set()
        await self.gate.wait()
        return await self.inner.analyze(commit, language)


async def test_the_lease_is_kept_while_a_digest_is_built_and_a_lost_one_posts_nothing(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        w.commit("feat: change", sh(4, 15))
        lease = timedelta(milliseconds=300)  # extended every 100 ms of real time
        other = await w.other_store()

        analyzer = GatedAnalyzer()
        sched = w.scheduler(analyzer=analyzer, lease=lease)
        w.clock.now = sh(5, 9)
        running = asyncio.create_task(sched.run_once(sh(5, 9)))
        await asyncio.wait_for(analyzer.entered.wait(), HANG)
        w.clock.now += timedelta(minutes=10)  # far past the first lease...

        async def extended() -> bool:  # ...but the keeper extends it (every 100 ms)
            (run,) = await w.store.runs(sub.id)
            return run.lease_until > w.clock.now

        await until_async(extended, what="the lease extended past the clock")
        assert await other.claim_run(sub.id, "2026-02-05", "r2", lease) is None
        analyzer.gate.set()
        assert kinds(await asyncio.wait_for(running, HANG)) == [("2026-02-05", "posted")]

        later = w.commit("feat: later", sh(5, 12))
        # A lease whose heartbeat (a third of it, in real time) never comes while the test runs,
        # however slow the machine: the other replica takes the run over before any renewal.
        long = timedelta(hours=1)
        analyzer = GatedAnalyzer()
        sched = w.scheduler(analyzer=analyzer, lease=long)
        w.clock.now = sh(6, 9)
        running = asyncio.create_task(sched.run_once(sh(6, 9)))
        await asyncio.wait_for(analyzer.entered.wait(), HANG)
        w.clock.now += 2 * long + timedelta(minutes=1)
        stolen = await other.claim_run(sub.id, "2026-02-06", "r2", long)
        assert stolen is not None and stolen.taken_over
        analyzer.gate.set()  # the check before the post finds the lease gone: nothing is posted
        outcomes = await asyncio.wait_for(running, HANG)
        assert [(o.outcome, o.detail) for o in outcomes] == [(Outcome.NOT_CLAIMED, "lease lost")]
        assert len(w.poster.sent) == 1 and later not in w.poster.sent[0].shas
