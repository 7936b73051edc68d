"""/metrics and /readyz over a real socket, after real work: digests built from a real git
repository with the heuristic and with the real OpenAI SDK against the fake endpoint, commits read
from the fake GitHub through PyGithub, scheduled runs posted, skipped and failed. Every figure is
checked against what the fakes saw or what the runs returned."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.chat.grammar import parse_command
from bot.chat.turns import Turns
from bot.delivery.scheduler import DigestScheduler
from bot.ops.metrics import Metrics, command_kind
from bot.store.database import Store
from bot.web.app import make_web_app, readiness
from digest.analysis.cache import CachedAnalyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.errors import CommandError
from digest.models import AnalysisStatus
from digest.service import build_digest
from digest.sources.git import GitSource
from digest.sources.github import GitHubSource
from digest.window import parse_window
from tests.fakes.github import FakeGitHub, server_error
from tests.fakes.openai import FakeOpenAI, Fault
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json
from tests.scheduling import at, kinds, sh, world
from tests.waiting import until

KEY = "sk-metrics-" + "m" * 24
TOKEN = "ghp_" + "M3tr1cs0" * 4
MODEL = "gpt-4o-mini"
NOW = datetime(2026, 2, 6, 1, tzinfo=UTC)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """The app on a random loopback port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def scrape(base: str) -> Samples:
    """GET /metrics, parsed with prometheus_client's own parser of the text format."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def day_repo(tmp_path: Path) -> GitRepo:
    """2026-02-05 in Shanghai: three commits worth analysing and one lockfile-only (folded)."""
    repo = GitRepo.init(tmp_path / "proj")
    for i in range(3):
        repo.commit(
            f"feat: change number {i}",
            {f"src/mod{i}.py": f"value = {i}\n" * 5},
            when=sh(5, 10 + i),
        )
    repo.commit("chore: lock", {"package-lock.json": "{}\n"}, when=sh(5, 14))
    return repo


async def build(source: Any, analyzer: Any) -> Any:
    window = parse_window(
        tz_name="Asia/Shanghai", now=NOW, day="2026-02-05", since=None, until=None
    )
    return await build_digest(
        source, analyzer, window=window, language="en", now=lambda: NOW, concurrency=1
    )


def responder(body: dict[str, Any]) -> str:
    if "response_format" not in body:  # the day overview: plain text
        return "A day of small features."
    # "low", where the heuristic standing in grades these tiny features medium: the two days'
    # levels differ, so the second day's overview is not a cache hit.
    return answer_json(importance="low")


async def test_analyses_and_llm_figures_match_what_the_endpoint_served(tmp_path: Path) -> None:
    repo = day_repo(tmp_path)
    metrics = Metrics()
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/cache.db")
    try:
        async with FakeOpenAI(api_key=KEY, responder=responder) as fake:
            fake.script(Fault.server_error())  # the first commit's call fails: the heuristic
            llm = LLMAnalyzer(
                LLMConfig(MODEL, KEY, base_url=fake.url, json_mode="json_schema", max_retries=0)
            )
            metrics.watch_llm(llm)
            analyzer = metrics.analyzer(CachedAnalyzer(llm, store))
            first = await build(GitSource(repo.path), analyzer)
            second = await build(GitSource(repo.path), analyzer)  # 2 cached, 1 tried again
            await llm.aclose()
            heuristic = await build(GitSource(repo.path), metrics.analyzer(HeuristicAnalyzer()))
            async with served(make_web_app(metrics=metrics)) as base:
                samples = await scrape(base)
    finally:
        await store.close()

    statuses = [e.status for e in first.entries]
    assert statuses.count(AnalysisStatus.FALLBACK) == 1 and len(statuses) == 3
    assert [e.status for e in second.entries].count(AnalysisStatus.OK) == 3
    assert sum(e.cached for e in second.entries) == 2
    assert len(heuristic.entries) == 3 and len(heuristic.folded) == 1

    assert value(samples, "digest_analyses_total", analyzer="heuristic", status="fallback") == 1
    assert value(samples, "digest_analyses_total", analyzer=f"llm:{MODEL}", status="ok") == 2 + 1
    assert value(samples, "digest_analyses_total", analyzer="heuristic", status="ok") == 3
    assert value(samples, "digest_analysis_cache_hits_total", analyzer=f"llm:{MODEL}") == 2

    # 3 analyses, and an overview per build (the second day's levels differ: not cached).
    served_ok = fake.completions_served
    assert served_ok == 3 + 2
    ok = {"model": MODEL, "outcome": "ok"}
    failed = {"model": MODEL, "outcome": "server_error"}
    assert value(samples, "digest_llm_request_seconds_count", **ok) == served_ok
    assert value(samples, "digest_llm_request_seconds_count", **failed) == 1
    assert len(fake.chat_requests) == served_ok + 1
    assert value(samples, "digest_llm_request_seconds_sum", **ok) > 0
    assert value(samples, "digest_llm_request_seconds_bucket", **ok, le="+Inf") == served_ok
    tokens_in = value(samples, "digest_llm_tokens_total", model=MODEL, direction="in")
    tokens_out = value(samples, "digest_llm_tokens_total", model=MODEL, direction="out")
    assert tokens_in == fake.prompt_tokens_served > 0
    assert tokens_out == fake.completion_tokens_served > 0
    assert tokens_in == llm.tokens_in and tokens_out == llm.tokens_out


async def test_github_requests_and_rate_limit_match_what_the_fake_served(tmp_path: Path) -> None:
    repo = day_repo(tmp_path)
    metrics = Metrics()
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path)
        gh.inject(r"/commits/[0-9a-f]{40}$", server_error(502))  # one detail: retried in-thread
        source = metrics.source(
            GitHubSource("octo/demo", token=TOKEN, api_url=gh.url, retry_backoff=0.01)
        )
        async with GitHubSource("octo/demo", api_url=gh.url) as unwatched:
            await unwatched.repo()  # not counted: a source the metrics were not given
        seen_before = len(gh.requests)
        try:
            digest = await build(source, HeuristicAnalyzer())
        finally:
            await source.aclose()
        async with served(make_web_app(metrics=metrics)) as base:
            samples = await scrape(base)
        made = gh.requests[seen_before:]

    assert len(digest.entries) == 3
    # Repository, list page, 4 details, 1 retry after a 502; then one pull-request look-up
    # per analysed commit (no title names one; GitHub knows none).
    lookups = [r for r in made if r.path.endswith("/pulls")]
    assert len(lookups) == len(digest.entries)
    assert len(made) == 1 + 1 + 4 + 1 + len(lookups)
    assert value(samples, "digest_github_requests_total", code="5xx") == 1
    assert value(samples, "digest_github_requests_total", code="2xx") == len(made) - 1
    # Every request of the run was authenticated and counted by the fake's rate limit (the
    # unwatched one was not, so the remaining count is the fake's own).
    assert value(samples, "digest_github_rate_limit") == 5000
    assert value(samples, "digest_github_rate_limit_remaining") == 5000 - len(made)
    assert value(samples, "digest_github_rate_limit_reset_timestamp_seconds") > NOW.timestamp()


async def test_scheduled_runs_lag_and_outcomes(tmp_path: Path, database_url: str) -> None:
    metrics = Metrics(platforms=("slack", "feishu"))
    async with world(tmp_path, database_url, sh(4, 10)) as w:
        await w.subscribe()
        w.commit("feat: first", sh(4, 15))
        sched = w.scheduler(max_attempts=1)
        sched.runner.observer = metrics
        # Thursday's 09:00 digest starts two minutes late; Friday has nothing (skipped, on time);
        # Saturday's starts five minutes late and its post fails (one attempt allowed: failed).
        assert kinds(await at(sched, w.clock, sh(5, 9, 2))) == [("2026-02-05", "posted")]
        assert kinds(await at(sched, w.clock, sh(6, 9))) == [("2026-02-06", "skipped")]
        w.commit("feat: second", sh(6, 15))
        w.poster.fail_calls = {2}
        assert kinds(await at(sched, w.clock, sh(7, 9, 5))) == [("2026-02-07", "failed")]
        assert kinds(await at(sched, w.clock, sh(7, 9, 6))) == []  # settled: nothing runs
        async with served(make_web_app(metrics=metrics)) as base:
            samples = await scrape(base)

    assert value(samples, "digest_posted_total", platform="slack") == 1 == len(w.poster.sent)
    assert value(samples, "digest_failed_total", platform="slack") == 1
    assert value(samples, "digest_posted_total", platform="feishu") == 0
    assert ("digest_posted_total", frozenset({("platform", "feishu")})) in samples  # at zero
    for outcome, count in [("posted", 1), ("skipped", 1), ("failed", 1), ("retry-later", 0)]:
        assert value(samples, "digest_runs_total", outcome=outcome) == count, outcome
    assert value(samples, "digest_scheduler_lag_seconds_count") == 3
    assert value(samples, "digest_scheduler_lag_seconds_sum") == 120 + 0 + 300
    assert value(samples, "digest_scheduler_lag_seconds_bucket", le="1.0") == 1
    assert value(samples, "digest_scheduler_lag_seconds_bucket", le="120.0") == 2
    assert value(samples, "digest_scheduler_lag_seconds_bucket", le="300.0") == 3
    # What delivery met on the way: one post of one part; the failed one said so.
    assert value(samples, "digest_delivery_events_total", event="part-sent") == 1
    assert value(samples, "digest_delivery_events_total", event="notice") == 1
    assert value(samples, "digest_delivery_events_total", event="takeover") == 0


async def test_commands_are_counted_by_platform_and_kind() -> None:
    metrics = Metrics(platforms=("slack",))
    said = {
        "slack": ["help", "subscribe octo/demo", "list", "abc1234", "now", "frobnicate", "list"],
        "feishu": ["unsubscribe octo/demo", "subscribe octo/demo at:99:00"],
    }
    for platform, texts in said.items():
        for text in texts:
            try:
                command = parse_command(text)
            except CommandError:
                command = None
            metrics.command(platform, command)
    async with served(make_web_app(metrics=metrics)) as base:
        samples = await scrape(base)
    expected = {
        ("slack", "help"): 1, ("slack", "subscribe"): 1, ("slack", "list"): 2,
        ("slack", "lookup"): 1, ("slack", "now"): 1, ("slack", "invalid"): 1,
        ("slack", "unsubscribe"): 0, ("feishu", "unsubscribe"): 1, ("feishu", "invalid"): 1,
    }  # fmt: skip
    for (platform, kind), count in expected.items():
        got = value(samples, "digest_commands_total", platform=platform, kind=kind)
        assert got == count, (platform, kind)
    assert command_kind(None) == "invalid"


async def test_commands_working_and_waiting_for_a_turn_are_gauges() -> None:
    """What an operator reads when commands queue: one at work, two waiting their turn."""
    metrics = Metrics(platforms=("slack",))
    turns = Turns(1)
    metrics.watch_turns(turns)
    release = asyncio.Event()

    async def command() -> None:
        async with turns.turn():
            await release.wait()

    tasks = [asyncio.create_task(command()) for _ in range(3)]
    try:
        await until(lambda: turns.waiting == 2, what="two commands waiting")
        async with served(make_web_app(metrics=metrics)) as base:
            samples = await scrape(base)
        assert value(samples, "digest_commands_working") == 1
        assert value(samples, "digest_commands_waiting") == 2
    finally:
        release.set()
        await asyncio.gather(*tasks)
    async with served(make_web_app(metrics=metrics)) as base:
        samples = await scrape(base)
    assert value(samples, "digest_commands_working") == 0
    assert value(samples, "digest_commands_waiting") == 0


async def test_readyz_follows_the_database_and_the_scheduler(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    store = await Store.open(f"sqlite+aiosqlite:///{folder}/digest.db")
    scheduler = DigestScheduler(
        store,
        lambda repo: GitSource(tmp_path),
        HeuristicAnalyzer(),
        {},
        clock=lambda: datetime.now(UTC),
        replica="ready-test",
        tick=timedelta(hours=1),
    )
    await scheduler.start()
    # DigestScheduler has no public `running` yet: its APScheduler's own flag.
    ready = readiness(store, lambda: scheduler.running)
    try:
        async with served(make_web_app(ready=ready, metrics=Metrics())) as base:
            status, body = await get_json(f"{base}/readyz")
            assert (status, body) == (200, {"status": "ready", "reason": "ready"})
            async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as r:
                assert r.status == 200

            await scheduler.shutdown()
            status, body = await get_json(f"{base}/readyz")
            assert status == 503
            assert body == {"status": "not ready", "reason": "the scheduler is not running"}
            await scheduler.start()
            assert (await get_json(f"{base}/readyz"))[0] == 200

            # The store closed and its file gone with its folder: SQLite cannot open it again.
            await store.close()
            shutil.rmtree(folder)
            status, body = await get_json(f"{base}/readyz")
            assert status == 503 and body["status"] == "not ready"
            assert body["reason"] == "the database cannot be reached (OperationalError)"
            assert str(folder) not in json.dumps(body)
    finally:
        await scheduler.shutdown()
        await store.close()


async def test_routes_are_there_only_when_given() -> None:
    async with served(make_web_app()) as base, aiohttp.ClientSession() as http:
        for path in ("/metrics", "/readyz"):
            async with http.get(f"{base}{path}") as response:
                assert response.status == 404
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200


def test_registries_are_separate() -> None:
    one, two = Metrics(), Metrics()
    one.command("slack", None)
    assert b'digest_commands_total{kind="invalid",platform="slack"} 1.0' in one.exposition()
    assert b"digest_commands_total{" not in two.exposition()
