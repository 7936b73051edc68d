"""Scheduled digests end to end: real git, the real heuristic, the real store on SQLite and
PostgreSQL, a recording chat platform; the clock is the only thing injected."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.delivery.run import Outcome
from bot.store.records import RunState, Target
from digest.analysis.cache import CachedAnalyzer
from digest.models import FoldReason
from digest.sources.base import CommitSource
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.scheduling import CHAN, DEFAULTS, REPO, TZ, CountingAnalyzer, at, kinds, sh, world
from tests.waiting import until

# Subscriptions in these tests are made on Wednesday 2026-02-04 at 10:00 (Shanghai), after
# that day's 09:00: their first digest is Thursday's.
MADE = sh(4, 10)


async def test_first_digest_is_a_date_window_then_exactly_what_landed(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        before = w.commit("feat: before the window", sh(4, 8))
        first = w.commit("feat: first", sh(4, 15))
        w.repo.checkout("side", create=True)
        old = w.commit("fix: written long ago", sh(4, 16) - timedelta(days=30))
        w.repo.checkout("main")
        sched = w.scheduler()

        assert await at(sched, w.clock, sh(4, 23)) == []  # 09:00 came before subscribing
        assert await at(sched, w.clock, sh(5, 8, 59)) == []  # not yet
        outcomes = await at(sched, w.clock, sh(5, 9))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        (post,) = w.poster.sent
        assert post.shas == {first}  # by committer date: `before` is outside the window
        assert before not in post.shas
        assert post.digest.window.start == sh(4, 9) and post.digest.window.end == sh(5, 9)
        assert post.digest.window.tz == TZ and post.digest.branch == "main"
        assert len(post.notes) == 1 and "committer date" in post.notes[0]
        assert post.target == CHAN and post.run_key.startswith("digest-run-")
        (run,) = await w.store.runs(sub.id)
        assert run.state == RunState.POSTED and run.message_ids == post.ids
        assert outcomes[0].message_ids == post.ids and outcomes[0].commits == 1
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and cursor.head_sha == w.repo.git("rev-parse", "main")

        # Thursday: the side branch, dated a month ago, is merged; one more commit lands.
        merge = w.repo.merge("side", message="Merge branch 'side'", when=sh(5, 14))
        later = w.commit("feat: later", sh(5, 16))
        assert await at(sched, w.clock, sh(5, 12)) == []  # already posted today
        assert kinds(await at(sched, w.clock, sh(6, 9))) == [("2026-02-06", "posted")]
        second = w.poster.sent[1]
        assert second.shas == {old, merge, later}  # the landed range, old dates and all
        assert second.notes == ()
        assert [f.reason for f in second.digest.folded] == [FoldReason.MERGE]
        assert second.digest.window.start == sh(5, 9) and second.digest.window.end == sh(6, 9)

        # Friday: nothing landed. Nothing is posted; the old commit appeared exactly once.
        assert kinds(await at(sched, w.clock, sh(7, 9))) == [("2026-02-07", "skipped")]
        assert len(w.poster.sent) == 2
        assert sum(old in p.shas for p in w.poster.sent) == 1


async def test_force_push_and_branch_change_fall_back_to_the_date_window(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        kept = w.commit("feat: kept", sh(4, 15))
        sched = w.scheduler()
        await at(sched, w.clock, sh(5, 9))
        w.commit("feat: rewritten away", sh(5, 12))
        await at(sched, w.clock, sh(6, 9))
        assert w.poster.sent[1].notes == ()

        w.repo.git("reset", "-q", "--hard", kept)  # force-push: the last head is gone
        rewritten = w.commit("feat: after the rewrite", sh(6, 12))
        assert kinds(await at(sched, w.clock, sh(7, 9))) == [("2026-02-07", "posted")]
        third = w.poster.sent[2]
        assert third.shas == {rewritten}  # the window since the previous post
        assert len(third.notes) == 1 and "force-pushed" in third.notes[0]

        landed = w.commit("feat: back to normal", sh(7, 12))
        await at(sched, w.clock, sh(8, 9))
        assert w.poster.sent[3].shas == {landed} and w.poster.sent[3].notes == ()

        w.repo.checkout("dev", create=True)
        on_dev = w.commit("feat: on dev", sh(8, 12))
        w.repo.checkout("main")
        await w.store.upsert_subscription(CHAN, REPO, {"branch": "dev"}, defaults={}, by="U2")
        await at(sched, w.clock, sh(9, 9))
        fifth = w.poster.sent[4]
        assert fifth.shas == {on_dev} and fifth.digest.branch == "dev"
        assert "from main to dev" in fifth.notes[0]
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and cursor.branch == "dev" and cursor.head_sha == on_dev


async def test_an_empty_day_posts_nothing_but_moves_the_cursor(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe(paths=("src/**",))
        w.commit("feat: code", sh(4, 15))
        sched = w.scheduler()
        await at(sched, w.clock, sh(5, 9))
        docs = w.commit("docs: only docs", sh(5, 12), path="docs/guide.md")

        assert kinds(await at(sched, w.clock, sh(6, 9))) == [("2026-02-06", "skipped")]
        assert len(w.poster.sent) == 1
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and (cursor.head_sha, cursor.period) == (docs, "2026-02-06")
        runs = await w.store.runs(sub.id)
        assert [r.state for r in runs] == [RunState.POSTED, RunState.SKIPPED]

        code = w.commit("fix: code again", sh(6, 12))
        await at(sched, w.clock, sh(7, 9))
        assert w.poster.sent[1].shas == {code}  # the docs commit does not come back


async def test_post_empty_posts_an_empty_digest(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe(post_empty=True)
        sched = w.scheduler()
        outcomes = await at(sched, w.clock, sh(5, 9))
        assert kinds(outcomes) == [("2026-02-05", "posted")] and outcomes[0].commits == 0
        (post,) = w.poster.sent
        assert post.digest.entries == () and post.digest.stats.total == 0
        (run,) = await w.store.runs(sub.id)
        assert run.state == RunState.POSTED


async def test_weekdays_only_folds_the_weekend_into_monday(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        await w.subscribe(weekdays_only=True)
        sched = w.scheduler()
        await at(sched, w.clock, sh(5, 9))  # Thursday
        friday = w.commit("feat: friday", sh(5, 18))
        await at(sched, w.clock, sh(6, 9))  # Friday
        saturday = w.commit("feat: saturday", sh(7, 12))
        sunday = w.commit("feat: sunday", sh(8, 12))
        assert await at(sched, w.clock, sh(7, 9, 30)) == []
        assert await at(sched, w.clock, sh(8, 9, 30)) == []

        assert kinds(await at(sched, w.clock, sh(9, 9))) == [("2026-02-09", "posted")]
        # Thursday had nothing to show; Friday's and Monday's digests went out.
        assert [p.shas for p in w.poster.sent] == [{friday}, {saturday, sunday}]
        monday = w.poster.sent[1].digest.window
        assert (monday.start, monday.end) == (sh(6, 9), sh(9, 9))


async def test_catch_up_posts_the_newest_days_oldest_first_each_commit_once(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe()
        sched = w.scheduler(max_catch_up=3)
        w.commit("feat: zero", sh(4, 15))
        await at(sched, w.clock, sh(5, 9))
        # Down from Thursday 09:00 to Monday noon: four fires missed (6th to 9th).
        a = w.commit("feat: a", sh(5, 12))
        b = w.commit("feat: b", sh(6, 12))
        c = w.commit("feat: c", sh(7, 12))
        d = w.commit("feat: d", sh(8, 12))
        e = w.commit("feat: e", sh(9, 10))  # after Monday's fire, before the bot is back

        outcomes = await at(sched, w.clock, sh(9, 12))
        assert kinds(outcomes) == [
            ("2026-02-07", "posted"),
            ("2026-02-08", "posted"),
            ("2026-02-09", "posted"),
        ]
        posts = w.poster.sent[1:]
        assert [p.shas for p in posts] == [{a, b}, {c}, {d, e}]
        windows = [(p.digest.window.start, p.digest.window.end) for p in posts]
        assert windows == [(sh(5, 9), sh(7, 9)), (sh(7, 9), sh(8, 9)), (sh(8, 9), sh(9, 9))]
        assert all(any("Catch-up" in n for n in p.notes) for p in posts)
        assert [r.period for r in await w.store.runs(sub.id)] == [
            "2026-02-05",
            "2026-02-07",
            "2026-02-08",
            "2026-02-09",
        ]
        cursor = await w.store.get_cursor(sub.id)
        assert cursor is not None and cursor.head_sha == e and cursor.period == "2026-02-09"
        assert await at(sched, w.clock, sh(9, 13)) == []
        f = w.commit("feat: f", sh(9, 14))
        await at(sched, w.clock, sh(10, 9))
        assert w.poster.sent[-1].shas == {f}


async def test_a_catch_up_broken_off_resumes_without_repeating_or_losing(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sched = w.scheduler(max_catch_up=3)
        await w.subscribe()
        await at(sched, w.clock, sh(5, 9))
        a = w.commit("feat: a", sh(6, 12))
        c = w.commit("feat: c", sh(7, 12))
        d = w.commit("feat: d", sh(8, 12))
        w.poster.fail_calls = {w.poster.calls + 2}  # the second catch-up post fails

        outcomes = await at(sched, w.clock, sh(8, 10))
        assert kinds(outcomes) == [
            ("2026-02-06", "skipped"),  # `a` landed after Friday's fire
            ("2026-02-07", "posted"),
            ("2026-02-08", "retry-later"),
        ]
        assert outcomes[2].detail is not None and "unreachable" in outcomes[2].detail
        # Before the retry, a month-old commit is merged: it belongs to no posted part.
        w.repo.checkout("side", create=True)
        w.repo.git("reset", "-q", "--hard", "HEAD~3")
        old = w.commit("fix: from last month", sh(8, 11) - timedelta(days=30))
        w.repo.checkout("main")
        merge = w.repo.merge("side", message="Merge side", when=sh(8, 11))

        # Still leased by the failed attempt; retried once the lease ran out.
        assert kinds(await at(sched, w.clock, sh(8, 10, 3))) == [("2026-02-08", "not-claimed")]
        outcomes = await at(sched, w.clock, sh(8, 11, 30))
        assert kinds(outcomes) == [("2026-02-08", "posted")]
        assert [p.shas for p in w.poster.sent] == [{a}, {c, d, old, merge}]
        every = [sha for p in w.poster.sent for sha in p.shas]
        assert len(every) == len(set(every))


async def test_analyses_are_shared_between_channels(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        counting = CountingAnalyzer()
        for n in range(3):
            await w.subscribe(Target(platform="slack", workspace="T1", channel=f"C{n}"))
        shas = [w.commit(f"feat: change {n}", sh(4, 12 + n)) for n in range(4)]
        sched = w.scheduler(analyzer=CachedAnalyzer(counting, w.store))

        outcomes = await at(sched, w.clock, sh(5, 9))
        assert [o.outcome for o in outcomes] == [Outcome.POSTED] * 3
        assert {p.target.channel for p in w.poster.sent} == {"C0", "C1", "C2"}
        assert all(p.shas == set(shas) for p in w.poster.sent)
        assert counting.calls == dict.fromkeys(shas, 1)


async def test_the_cron_job_runs_what_is_due(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        sub = await w.subscribe(weekdays_only=True)
        change = w.commit("feat: change", sh(4, 15))
        sched = w.scheduler()
        await sched.reconcile()  # not started: the job is pending, and no tick runs
        (job,) = sched.get_jobs()
        assert job.id == f"sub-{sub.id}"
        assert "day_of_week='mon-fri'" in str(job.trigger) and "hour='9'" in str(job.trigger)
        w.clock.now = sh(5, 9)
        await job.func(*job.args)  # what APScheduler calls at 09:00
        assert [p.shas for p in w.poster.sent] == [{change}]
        await job.func(*job.args)  # a second firing (APScheduler repeats ambiguous times)
        assert len(w.poster.sent) == 1


async def test_reconcile_follows_the_database(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url, MADE) as w:
        first = await w.subscribe()
        sched = w.scheduler()
        await sched.start()
        try:
            jobs = {j.id: j for j in sched.get_jobs()}
            assert set(jobs) == {f"sub-{first.id}", "tick"}
            job = jobs[f"sub-{first.id}"]
            local = job.next_run_time.astimezone(ZoneInfo(TZ))
            assert (local.hour, local.minute) == (9, 0)
            assert job.misfire_grace_time == 3600 and job.coalesce and job.max_instances == 1

            # Through another replica's store: a new subscription, a changed one.
            other = await w.other_store()
            target = Target(platform="slack", workspace="W", channel="G")
            added, _ = await other.upsert_subscription(
                target, REPO, {"weekdays_only": True}, defaults=DEFAULTS, by="U"
            )
            # A platform this process has no poster for (`digest chat` on the same database).
            terminal = Target(platform="terminal", workspace="local", channel="alice")
            await other.upsert_subscription(terminal, REPO, {}, defaults=DEFAULTS, by="alice")
            await other.upsert_subscription(
                CHAN, REPO, {"at": "18:30", "tz": "Europe/London"}, defaults={}, by="U"
            )
            await sched.reconcile()
            jobs = {j.id: j for j in sched.get_jobs()}
            assert set(jobs) == {f"sub-{first.id}", f"sub-{added.id}", "tick"}
            moved = jobs[f"sub-{first.id}"].next_run_time.astimezone(ZoneInfo("Europe/London"))
            assert (moved.hour, moved.minute) == (18, 30)
            weekday = jobs[f"sub-{added.id}"].next_run_time.astimezone(ZoneInfo(TZ))
            assert weekday.weekday() < 5 and (weekday.hour, weekday.minute) == (9, 0)

            await other.delete_subscription(CHAN, REPO)
            await sched.reconcile()
            assert {j.id for j in sched.get_jobs()} == {f"sub-{added.id}", "tick"}

            # A local change: notify_changed reconciles without waiting for the tick.
            again = await w.subscribe()
            sched.notify_changed()
            await until(
                lambda: f"sub-{again.id}" in {j.id for j in sched.get_jobs()},
                what="the new subscription's job",
            )
        finally:
            await sched.shutdown()
        assert w.poster.sent == []  # nothing was due at the injected time


async def test_through_github_first_window_then_landed_range_then_force_push(
    tmp_path: Path, database_url: str
) -> None:
    token = "ghp_" + "S3cr3t" * 6
    async with (
        world(tmp_path, database_url, MADE) as w,
        FakeGitHub(token=token) as fake,
    ):
        fake.add_repo(REPO, w.repo.path)
        sources: list[GitHubSource] = []

        def open_github(name: str) -> CommitSource:
            sources.append(GitHubSource(name, token=token, api_url=fake.url, retry_backoff=0.01))
            return sources[-1]

        await w.subscribe()
        first = w.commit("feat: first", sh(4, 15))
        sched = w.scheduler(open_source=open_github)
        await at(sched, w.clock, sh(5, 9))
        w.repo.checkout("side", create=True)
        old = w.commit("fix: old", sh(5, 10) - timedelta(days=20))
        w.repo.checkout("main")
        merge = w.repo.merge("side", message="Merge side", when=sh(5, 11))
        await at(sched, w.clock, sh(6, 9))
        w.repo.git("reset", "-q", "--hard", first)
        again = w.commit("feat: again", sh(6, 12))
        await at(sched, w.clock, sh(7, 9))

        assert [p.shas for p in w.poster.sent] == [{first}, {old, merge}, {again}]
        assert [len(p.notes) for p in w.poster.sent] == [1, 0, 1]
        assert "force-pushed" in w.poster.sent[2].notes[0]
        listing = [r for r in fake.requests if r.path == f"/repos/{REPO}/commits"]
        assert {r.query["sha"] for r in listing} == {first, again}  # pinned to the head read
