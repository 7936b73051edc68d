"""Reliability: replicas as separate processes on one real PostgreSQL, and replicas killed.

Every post is counted at the fake chat platform; every (subscription, period) must be posted
exactly once, whatever ran concurrently and wherever a process died. Documented end-to-end tests
(`e2e`): each starts replica processes one after another (ten to twenty Python start-ups), over
30 s on a loaded machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fakes.chat import FakeChat
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

CREATED = datetime(2026, 2, 5, 8, 0, tzinfo=UTC)
FIRE = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
REPOS = ("octo/alpha", "octo/beta", "octo/gamma")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def build_repos(tmp_path: Path) -> dict[str, GitRepo]:
    repos = {}
    for n, name in enumerate(REPOS):
        repo = GitRepo.init(tmp_path / name.replace("/", "_"))
        for i in range(3 + n):
            repo.commit(
                f"feat: {name} change {i}",
                {f"src/m{i}.py": f"v = {i}\n"},
                when=datetime(2026, 2, 4, 10 + i, 0, tzinfo=UTC),
            )
        repos[name] = repo
    return repos


async def replica(
    name: str, now: datetime, db: str, gh: FakeGitHub, chat: FakeChat, *extra: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.replica", "--db", db, "--github", gh.url, "--chat", chat.url,
        "--replica", name, "--now", now.isoformat(), "--lease-seconds", "60", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=ROOT, env={**os.environ},
    )  # fmt: skip


async def finish(proc: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def subscribe_through_three_replicas(
    db: str, gh: FakeGitHub, chat: FakeChat, channels: int
) -> None:
    items = [f"C{i}={REPOS[i % len(REPOS)]}" for i in range(channels)]
    groups = [items[k::3] for k in range(3)]
    procs = []
    for k, group in enumerate(groups):
        args = [a for item in group for a in ("--subscribe", item)]
        procs.append(await replica(f"r{k}", CREATED, db, gh, chat, *args))
    for proc in procs:
        await finish(proc)


def assert_complete_and_once(chat: FakeChat, repos: dict[str, GitRepo], channels: int) -> None:
    """Every channel's post has every part (main, a reply per commit, the file), each once."""
    parts = Counter((p.channel, p.part) for p in chat.posts)
    assert max(parts.values()) == 1, [k for k, n in parts.items() if n > 1]
    for main in chat.mains():
        expected = {"main-0", "file"} | {f"reply-{sha[:12]}" for sha in main.shas}
        assert {part for channel, part in parts if channel == main.channel} == expected
        assert set(main.shas) <= set(repos[main.repo].log_shas())
    assert len(chat.mains()) == channels


async def scalar(db: str, sql: str) -> int:
    engine = create_async_engine(db)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(sa.text(sql)) or 0)
    finally:
        await engine.dispose()


async def test_three_replicas_post_each_digest_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    repos = build_repos(tmp_path)
    async with FakeGitHub(rate_limit=5000) as gh, FakeChat() as chat:  # no rate limit here
        for name, repo in repos.items():
            gh.add_repo(name, repo.path)
        await subscribe_through_three_replicas(postgres_url, gh, chat, channels=10)
        assert await scalar(postgres_url, "SELECT count(*) FROM subscriptions") == 10
        now = FIRE + timedelta(seconds=30)  # all ten due in the same minute
        procs = [await replica(f"r{k}", now, postgres_url, gh, chat) for k in range(3)]
        outputs = [await finish(p) for p in procs]
        per_channel = Counter(p.channel for p in chat.mains())
        assert per_channel == Counter({f"C{i}": 1 for i in range(10)}), outputs
        assert len({p.run_key for p in chat.mains()}) == 10
        assert len({p.pid for p in chat.posts}) >= 1
        assert_complete_and_once(chat, repos, channels=10)
        for post in chat.mains():
            repo = repos[post.repo]
            assert set(post.shas) == set(repo.log_shas())  # the first digest: the date window
        posted = await scalar(
            postgres_url, "SELECT count(*) FROM digest_runs WHERE state = 'posted'"
        )
        assert posted == 10
        # A second round the same minute posts nothing more.
        procs = [await replica(f"r{k}", now, postgres_url, gh, chat) for k in range(3)]
        before = len(chat.posts)
        for p in procs:
            await finish(p)
        assert len(chat.posts) == before


async def test_replicas_killed_at_random_points_still_post_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    repos = build_repos(tmp_path)
    rng = random.Random(20261127)
    async with FakeGitHub(rate_limit=5000) as gh, FakeChat(answer_delay=0.4) as chat:
        for name, repo in repos.items():
            gh.add_repo(name, repo.path)
        await subscribe_through_three_replicas(postgres_url, gh, chat, channels=6)
        # How long a replica takes to start, so that most kills land in the run itself
        # (claims, builds, posts that the chat keeps before answering), not in the imports.
        probe_start = time.monotonic()
        probe = await replica("probe", FIRE - timedelta(minutes=30), postgres_url, gh, chat)
        await finish(probe)  # nothing due yet: start-up and one tick
        startup = time.monotonic() - probe_start
        kills = 0
        for i in range(20):
            now = FIRE + timedelta(seconds=30) + i * timedelta(seconds=61)  # past every lease
            proc = await replica(f"k{i}", now, postgres_url, gh, chat)
            await asyncio.sleep(rng.uniform(0.7 * startup, startup + 2.0))
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            await proc.wait()
        final_now = FIRE + timedelta(seconds=30) + 21 * timedelta(seconds=61)
        final = await finish(await replica("final", final_now, postgres_url, gh, chat))
        per_channel = Counter(p.channel for p in chat.mains())
        assert per_channel == Counter({f"C{i}": 1 for i in range(6)}), (kills, final, chat.posts)
        assert_complete_and_once(chat, repos, channels=6)
        assert await scalar(postgres_url, "SELECT count(*) FROM subscriptions") == 6
        assert (
            await scalar(postgres_url, "SELECT count(*) FROM digest_runs WHERE state='posted'") == 6
        )
        assert await scalar(postgres_url, "SELECT count(*) FROM cursors") == 6
        taken_over = await scalar(
            postgres_url, "SELECT count(*) FROM digest_runs WHERE takeovers > 0"
        )
        # A crash is never a failed attempt.
        assert await scalar(postgres_url, "SELECT max(failures) FROM digest_runs") == 0
        print(
            f"\nkilled {kills} of 20 replicas mid-run; {taken_over} of 6 runs were taken over "
            f"after a lease; {len(chat.posts)} posts in the end"
        )
