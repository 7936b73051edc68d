"""The GitHub budget a process's sources share: pacing, ETags, one fetch per commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.models import Window
from digest.sources.github import GitHubShared, GitHubSource
from digest.sources.github_shared import RESET_MARGIN, RateLimit, next_start
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

DAY = datetime(2026, 2, 5, tzinfo=UTC)
WINDOW = Window(start=DAY, end=DAY + timedelta(days=1), tz="UTC", day="2026-02-05")
TOKEN = "ghp_" + "s" * 36
DETAIL = r"/commits/[0-9a-f]{40}$"


def day_repo(tmp_path: Path, count: int) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    for i in range(count):
        repo.commit(f"fix: {i}", {f"m{i}.py": f"x = {i}\n"}, when=DAY + timedelta(minutes=i))
    return repo


# ---- the decision ---------------------------------------------------------------------------


def test_full_speed_while_more_than_a_tenth_is_left() -> None:
    seen = RateLimit(remaining=600, limit=5000, reset=1_000)
    assert next_start(seen, 100.0, 99.9, in_flight=8) == 100.0


def test_below_a_tenth_the_rest_is_spread_until_the_reset() -> None:
    seen = RateLimit(remaining=110, limit=5000, reset=1_000)
    # 100 left once the 10 in flight are answered, 900 s to go: one every 9 s.
    assert next_start(seen, 100.0, 95.0, in_flight=10) == 104.0
    assert next_start(seen, 100.0, 80.0, in_flight=10) == 100.0


def test_none_left_waits_for_the_reset() -> None:
    seen = RateLimit(remaining=3, limit=5000, reset=1_000)
    assert next_start(seen, 100.0, 0.0, in_flight=3) == 1_000 + RESET_MARGIN


def test_a_window_reset_or_never_told_holds_nothing_back() -> None:
    assert next_start(RateLimit(0, 5000, 50), 100.0, 99.0, in_flight=0) == 100.0
    assert next_start(None, 100.0, 99.0, in_flight=0) == 100.0


# ---- against the fake -----------------------------------------------------------------------


async def test_a_small_budget_slows_down_then_waits_for_the_reset_and_never_fails(
    tmp_path: Path,
) -> None:
    repo = day_repo(tmp_path, 25)  # 1 repository + 1 list + 25 details: more than the window
    now = [1_800_000_000.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async with FakeGitHub(
        token=TOKEN, rate_limit=20, reset_every=100, clock=lambda: now[0], enforce_rate_limit=True
    ) as gh:
        gh.add_repo("octo/demo", repo.path)
        gh.spend(19)  # other clients left one request of this window
        source = GitHubSource(
            "octo/demo",
            token=TOKEN,
            api_url=gh.url,
            max_in_flight=1,
            max_rate_wait=3600,
            clock=lambda: now[0],
            sleep=sleep,
        )
        async with source:
            commits = await source.commits_in_window("main", WINDOW)
    assert len(commits) == 25
    assert {r.status for r in gh.requests} == {200}  # never refused
    # The last request of the first window spent it: wait for its reset (and a margin).
    assert slept[0] == 100 + RESET_MARGIN
    # The next window (20 for 26 requests) runs at full speed, then spreads its last two
    # over what is left of it: 50 s each, which reaches its reset.
    assert slept[1:] == [50.0, 50.0]
    assert len(gh.requests) == 27


async def test_asking_again_costs_304s_that_the_rate_limit_does_not_count(tmp_path: Path) -> None:
    repo = day_repo(tmp_path, 3)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path)
        shared = GitHubShared()
        async with GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, shared=shared) as a:
            head = await a.head("main")
            first = await a.commits_in_window("main", WINDOW)
        used = gh.used()
        before = len(gh.requests)
        async with GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, shared=shared) as b:
            assert await b.head("main") == head
            second = await b.commits_in_window("main", WINDOW)
    again = gh.requests[before:]
    assert [r.path for r in again] == [
        "/repos/octo/demo",
        "/repos/octo/demo/branches/main",
        "/repos/octo/demo/commits",
    ]  # the details were fetched once, by the first source
    assert all("If-None-Match" in r.headers and r.status == 304 for r in again)
    assert gh.not_modified == 3 and gh.used() == used
    assert second == first


async def test_a_changed_list_is_served_afresh(tmp_path: Path) -> None:
    repo = day_repo(tmp_path, 2)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path)
        shared = GitHubShared()
        async with GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, shared=shared) as a:
            assert len(await a.commits_in_window("main", WINDOW)) == 2
        repo.commit("fix: late", {"late.py": "y = 1\n"}, when=DAY + timedelta(hours=5))
        async with GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, shared=shared) as b:
            assert len(await b.commits_in_window("main", WINDOW)) == 3
    assert gh.not_modified == 1  # the repository, unchanged; the list changed


async def test_channels_following_one_repository_fetch_each_commit_once(tmp_path: Path) -> None:
    repo = day_repo(tmp_path, 6)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path)
        shared = GitHubShared()
        sources = [
            GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, shared=shared) for _ in range(3)
        ]
        results = await asyncio.gather(*(s.commits_in_window("main", WINDOW) for s in sources))
        for source in sources:
            await source.aclose()
        assert gh.count(DETAIL) == 6
        assert results[0] == results[1] == results[2]
        # Without a shared budget each source fetches its own.
        alone = GitHubSource("octo/demo", token=TOKEN, api_url=gh.url)
        async with alone:
            await alone.commits_in_window("main", WINDOW)
        assert gh.count(DETAIL) == 12


async def test_urgent_requests_pass_the_details_queued_and_have_a_reserve() -> None:
    """Two slots (a reserve of one): while two detail requests hold them and a third waits, a
    pull-request look-up (urgent) goes at once on the reserve, a second urgent one waits and
    is let in before the queued detail when a slot frees."""
    shared = GitHubShared(2)
    order: list[str] = []
    release = {name: asyncio.Event() for name in ("d1", "d2", "d3", "u1", "u2")}
    started = {name: asyncio.Event() for name in release}

    async def request(name: str, urgent: bool) -> None:
        async with shared.slot(urgent):
            order.append(name)
            started[name].set()
            await release[name].wait()

    tasks = [asyncio.create_task(request("d1", False)), asyncio.create_task(request("d2", False))]
    await started["d1"].wait()
    await started["d2"].wait()
    tasks.append(asyncio.create_task(request("d3", False)))
    tasks.append(asyncio.create_task(request("u1", True)))
    await started["u1"].wait()  # the reserve: no detail had to finish
    tasks.append(asyncio.create_task(request("u2", True)))
    await asyncio.sleep(0)  # let d3 and u2 queue (no timing: both are waiting on a slot)
    assert order == ["d1", "d2", "u1"] and shared.in_flight == 3
    release["d1"].set()
    await started["u2"].wait()  # the urgent one before d3, queued earlier
    assert order == ["d1", "d2", "u1", "u2"]
    release["u1"].set()  # the reserve comes back to the reserve, not to d3
    release["d2"].set()
    await started["d3"].wait()
    for event in release.values():
        event.set()
    await asyncio.gather(*tasks)
    assert order == ["d1", "d2", "u1", "u2", "d3"] and shared.in_flight == 0
