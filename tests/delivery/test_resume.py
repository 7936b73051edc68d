"""Delivery a team can trust, in one process: a replica dies at any part of a post and another
completes it, each part once; a takeover's lookup fails and it still posts; a lost lease stops
the sending; a run that gives up says so; a replica holds at most `max_claims` runs; a held
run is looked at again when its lease ends. SQLite and PostgreSQL, real git."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery.parts import Part
from bot.delivery.run import Outcome, RunOutcome
from bot.store.records import RunState, Subscription, Target
from digest.models import AnalyzedCommit, Commit, Language
from tests.delivery.test_scheduler_claims import GatedAnalyzer
from tests.scheduling import (
    CHAN,
    DEFAULTS,
    LEASE,
    REPO,
    Killed,
    RecordingPoster,
    at,
    kinds,
    sh,
    world,
)

MADE = sh(4, 10)


def once_each(poster: RecordingPoster) -> Counter[tuple[str, str]]:
    sent = Counter(poster.messages)
    assert max(sent.values()) == 1, [k for k, n in sent.items() if n > 1]
    return sent


@pytest.mark.parametrize(
    ("kill_at", "arrived"),
    [
        ("main-0", True),  # the main post is out; the replica never learnt it
        ("main-0", False),
        ("reply-1", True),  # a reply in the middle of the thread
        ("reply-2", False),  # the last reply
    ],
)
async def test_a_replica_killed_at_any_part_leaves_a_post_another_completes_once(
    tmp_path: Path, database_url: str, kill_at: str, arrived: bool
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        w.poster.replies = True
        sub = await w.subscribe()
        shas = sorted(w.commit(f"feat: change {n}", sh(4, 11 + n)) for n in range(3))
        names = ["main-0", *(f"reply-{sha[:12]}-0" for sha in shas)]
        w.poster.kill_at = {"main-0": "main-0"}.get(kill_at) or names[1 + int(kill_at[-1]) - 1]
        w.poster.arrived = arrived
        with pytest.raises(Killed):
            await at(w.scheduler(replica="r1"), w.clock, sh(5, 9))
        (run,) = await w.store.runs(sub.id)
        assert (run.state, run.owner) == (RunState.POSTING, "r1")

        other = w.scheduler(store=await w.other_store(), replica="r2")
        assert kinds(await at(other, w.clock, sh(5, 9) + LEASE / 2)) == [
            ("2026-02-05", "not-claimed")  # still leased by the dead replica
        ]
        outcomes = await at(other, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        key = f"digest-run-{run.id}"
        assert once_each(w.poster) == Counter({(key, name): 1 for name in names})
        assert w.poster.lookups == [key]  # the takeover asked the platform first
        (done,) = await w.store.runs(sub.id)
        assert done.state == RunState.POSTED and done.owner == "r2"
        assert (done.attempts, done.takeovers, done.failures) == (2, 1, 0)  # a crash, not a failure
        assert set(await w.store.parts_of(run.id)) == set(names)
        assert done.message_ids == outcomes[0].message_ids and len(done.message_ids) == 4
        assert done.message_ids[0] == w.poster.sent[0].parts["main-0"]
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and cursor.head_sha == w.repo.git("rev-parse", "HEAD")


async def test_a_resumed_post_shows_what_its_first_parts_showed(
    tmp_path: Path, database_url: str
) -> None:
    """Commits that land between the crash and the takeover wait for the next digest: the
    rest of the post lists the commits its main message listed."""
    async with world(tmp_path, database_url, MADE) as w:
        w.poster.replies = True
        sub = await w.subscribe()
        first = w.commit("feat: first", sh(4, 11))
        w.poster.kill_at = f"reply-{first[:12]}-0"
        with pytest.raises(Killed):
            await at(w.scheduler(replica="r1"), w.clock, sh(5, 9))
        late = w.commit("feat: landed after the crash", sh(5, 9, 10))
        other = w.scheduler(store=await w.other_store(), replica="r2")
        await at(other, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        (post,) = w.poster.sent
        assert set(post.parts) == {"main-0", f"reply-{first[:12]}-0"}
        assert post.shas == {first}
        await at(other, w.clock, sh(6, 9))
        assert w.poster.sent[-1].shas == {late}  # the next day's digest has it
        assert [r.state for r in await w.store.runs(sub.id)] == [RunState.POSTED] * 2


async def test_a_run_resumed_with_nothing_out_reads_the_branch_afresh(
    tmp_path: Path, database_url: str
) -> None:
    """Nothing of the post went out before the crash: the taker reads the branch as it is, and
    records its new head before it posts, so whoever resumes after it shows the same commits."""
    async with world(tmp_path, database_url, MADE) as w:
        w.poster.replies = True
        sub = await w.subscribe()
        first = w.commit("feat: first", sh(4, 11))
        w.poster.kill_at, w.poster.arrived = "main-0", False
        with pytest.raises(Killed):
            await at(w.scheduler(replica="r1"), w.clock, sh(5, 9))
        late = w.commit("feat: landed after the crash", sh(5, 9, 10))
        w.poster.kill_at, w.poster.arrived = f"reply-{first[:12]}-0", True
        with pytest.raises(Killed):  # the taker dies too, its main post out
            await at(w.scheduler(replica="r2"), w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        (run,) = await w.store.runs(sub.id)
        assert run.head_sha == w.repo.git("rev-parse", "HEAD")
        outcomes = await at(w.scheduler(replica="r3"), w.clock, sh(5, 9) + LEASE * 3)
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        (post,) = w.poster.sent
        assert post.shas == {first, late}
        assert set(post.parts) == {"main-0", f"reply-{first[:12]}-0", f"reply-{late[:12]}-0"}
        assert len(once_each(w.poster)) == 3


async def test_a_takeover_whose_lookup_fails_twice_still_posts(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        w.poster.replies = True
        sub = await w.subscribe()
        w.commit("feat: one", sh(4, 11))
        w.commit("feat: two", sh(4, 12))
        w.poster.kill_at = "main-0"
        with pytest.raises(Killed):
            await at(w.scheduler(replica="r1"), w.clock, sh(5, 9))
        w.poster.fail_lookups = 2
        other = w.scheduler(store=await w.other_store(), replica="r2")
        outcomes = await at(other, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        (run,) = await w.store.runs(sub.id)
        assert len(w.poster.lookups) == 3 and w.poster.fail_lookups == 0
        assert (run.failures, run.retries, run.state) == (0, 2, RunState.POSTED)
        assert len(once_each(w.poster)) == 3  # the main post once, both replies once


async def test_a_lost_lease_stops_the_sending_and_the_new_owner_finishes(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        w.poster.replies = True
        sub = await w.subscribe()
        for n in range(3):
            w.commit(f"feat: change {n}", sh(4, 11 + n))
        thief = await w.other_store()
        stolen: list[bool] = []

        async def steal(part: Part) -> None:
            if part.name.startswith("reply") and not stolen:
                # The owner stalls past its lease (a long pause) and another replica takes
                # the run over before this part goes out.
                w.clock.now += LEASE * 3
                claim = await thief.claim_run(sub.id, "2026-02-05", "r2", LEASE)
                stolen.append(claim is not None and claim.taken_over)

        w.poster.before_send = steal
        outcomes = await at(w.scheduler(replica="r1"), w.clock, sh(5, 9))
        assert stolen == [True]
        assert [(o.outcome, o.detail) for o in outcomes] == [(Outcome.NOT_CLAIMED, "lease lost")]
        # The reply being sent when the lease was lost goes out (a send is not taken back);
        # nothing after it does.
        assert [name for _, name in w.poster.messages] == ["main-0", w.poster.messages[1][1]]
        w.poster.before_send = None
        # r2 holds the run now (its claim above); its scheduler resumes it once the stalled
        # claim is its own again after a lease.
        outcomes = await at(
            w.scheduler(store=thief, replica="r3"), w.clock, w.clock.now + LEASE * 2
        )
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        assert len(once_each(w.poster)) == 4
        (run,) = await w.store.runs(sub.id)
        assert (run.failures, run.takeovers) == (0, 2)


async def test_a_run_that_gives_up_says_so_in_the_channel_in_its_language(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe(language="zh")
        w.commit("feat: change", sh(4, 15))
        w.poster.fail_calls = {1}
        sched = w.scheduler(max_attempts=1, explain=lambda exc: "聊天平台拒绝了这条消息")
        assert kinds(await at(sched, w.clock, sh(5, 9))) == [("2026-02-05", "failed")]
        ((target, key, text),) = w.poster.notices
        (run,) = await w.store.runs(sub.id)
        assert target == sub.target and key == f"digest-run-{run.id}/notice"
        assert text.startswith("⚠️ octo/demo 在 2026-02-05 的摘要未能发出：聊天平台拒绝了这条消息。")
        assert "/digest now" in text and "1 次" in text


async def test_a_replica_holds_at_most_max_claims_runs_and_the_others_take_the_rest(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        for n in range(3):
            await w.subscribe(Target(platform="slack", workspace="T1", channel=f"C{n}"))
        w.commit("feat: change", sh(4, 15))
        w.clock.now = sh(5, 9)
        gate_one, gate_two = GatedAnalyzer(), CountingGate()
        one = w.scheduler(replica="r1", analyzer=gate_one, max_claims=1)
        two = w.scheduler(store=await w.other_store(), replica="r2", analyzer=gate_two)
        first = asyncio.create_task(one.run_once(sh(5, 9)))
        await asyncio.wait_for(gate_one.entered.wait(), 60)
        runs = await w.store.runs()
        assert [r.owner for r in runs] == ["r1"]  # one claim, though three runs are due
        second = asyncio.create_task(two.run_once(sh(5, 9)))
        await gate_two.wait_entered(2)  # r2 claims the other two (its max_claims is 3)
        runs = await w.store.runs()
        assert Counter(r.owner for r in runs) == Counter({"r1": 1, "r2": 2})
        gate_one.gate.set()
        gate_two.gate.set()
        outcomes = [o for done in await asyncio.gather(first, second) for o in done]
        assert Counter(o.outcome for o in outcomes) == Counter(
            {Outcome.POSTED: 3, Outcome.NOT_CLAIMED: 3}  # each tried the runs the other held
        )
        assert sorted(p.target.channel for p in w.poster.sent) == ["C0", "C1", "C2"]


async def test_a_run_held_by_a_dead_replica_moves_when_its_lease_ends(
    tmp_path: Path, database_url: str
) -> None:
    """Real time: the takeover comes from a look at the end of the dead replica's lease, not
    from the next tick (an hour away here)."""
    now = datetime.now(UTC)
    fire = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    async with world(tmp_path, database_url, now - timedelta(days=1)) as w:
        w.clock.now = now - timedelta(days=1)
        sub, _ = await w.store.upsert_subscription(
            CHAN, REPO, {"at": fire.strftime("%H:%M"), "tz": "UTC"}, defaults=DEFAULTS, by="U1"
        )
        w.commit("feat: change", now - timedelta(hours=2))
        real = RealClock()
        w.clock = real  # type: ignore[assignment]
        w.store._now = real  # the store reads the same real clock from now on
        period = fire.date().isoformat()
        dead = await w.store.claim_run(sub.id, period, "dead", timedelta(seconds=2))
        assert dead is not None
        sched = w.scheduler(replica="r1", tick=timedelta(hours=1), lease=timedelta(seconds=30))
        sched.clock = real
        sched.runner.clock = real
        finished = Finished()
        sched.runner.observer = finished
        await sched.start()
        try:
            outcome = await asyncio.wait_for(finished.settled.get(), 60)
        finally:
            await sched.shutdown()
        assert outcome.outcome == Outcome.POSTED
        (run,) = await w.store.runs(sub.id)
        assert (run.owner, run.takeovers, run.state) == ("r1", 1, RunState.POSTED)
        assert run.posted_at is not None and run.posted_at >= dead.run.lease_until


class RealClock:
    def __call__(self) -> datetime:
        return datetime.now(UTC)


class CountingGate(GatedAnalyzer):
    """Held at the gate, counting the runs that reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.changed = asyncio.Condition()

    async def analyze(self, commit: Commit, language: Language) -> AnalyzedCommit:
        async with self.changed:
            self.count += 1
            self.changed.notify_all()
        return await super().analyze(commit, language)

    async def wait_entered(self, count: int) -> None:
        async with asyncio.timeout(60), self.changed:
            await self.changed.wait_for(lambda: self.count >= count)


class Finished:
    """An observer that hands over each settled outcome (a post, a skip, a give-up)."""

    def __init__(self) -> None:
        self.settled: asyncio.Queue[RunOutcome] = asyncio.Queue()

    def run_started(self, sub: Subscription, fire: datetime, started: datetime) -> None:
        pass

    def run_finished(self, sub: Subscription, outcome: RunOutcome) -> None:
        if outcome.settled:
            self.settled.put_nowait(outcome)

    def delivery_event(self, sub: Subscription, event: str, count: int = 1) -> None:
        pass
