"""End to end, as an operator would try it: three `digest serve` processes on one PostgreSQL, the
fake Slack (HTTP mode), the fake GitHub serving real git repositories and a slow fake model
(2 to 5 s a call), six channels due in the same minute, and replicas killed with SIGKILL right
after Slack kept a message they had not heard back about:

- the one that posted the first main message (then restarted),
- every replica, on the second thread reply of a post (then all restarted),
- the one that completed a report file upload (then restarted).

Every channel ends with one main post, every thread reply once and the report file once, the
same as the channel that follows the same repository; no attempt is counted as failed. A
second test cuts the database away (a TCP proxy of the test's own; the shared server is never
touched) for 20 s while a post is going out. Both take over 30 s: documented end-to-end tests
(`-m "not e2e"` leaves them out).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.store.database import Store
from bot.store.records import Target
from tests.fakes.github import FakeGitHub
from tests.fakes.openai import Answer, FakeOpenAI
from tests.fakes.slack import Call, FakeSlack, Message
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json
from tests.scheduling import DEFAULTS
from tests.serving import Replica, free_port, logged
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.e2e

BOT = "xoxb-" + "1234567890-" * 3 + "e2e"
SECRET = "e2e-signing-secret"
TEAM = "T0FAKE"
REPOS = ("octo/alpha", "octo/beta", "octo/gamma")
HANG = 300.0  # the ceiling only a real hang reaches


def slow_model(seed: int) -> Callable[[dict[str, Any]], Answer]:
    """2 to 5 s a call (the server's 2 s, plus up to 3 s more)."""
    rng = random.Random(seed)

    def answer(body: dict[str, Any]) -> Answer:
        delay = rng.uniform(0.0, 3.0)
        if "response_format" not in body:
            return Answer(content="A quiet day of steady work.", delay=delay)
        return Answer(content=answer_json(summary="A change worth a look."), delay=delay)

    return answer


def part_of(message: Message | dict[str, Any]) -> str | None:
    meta = message.metadata if isinstance(message, Message) else message.get("metadata")
    payload = (meta or {}).get("event_payload") or {}
    return str(payload["part"]) if "part" in payload else None


@dataclass
class Site:
    """The fakes, the repositories, the subscriptions and the replicas of one test."""

    slack: FakeSlack
    repos: dict[str, GitRepo]
    channels: dict[str, str]  # channel -> repo
    replicas: dict[str, Replica] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    events: list[str] = field(default_factory=list)

    def log(self, what: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:6.1f} s  {what}")

    def expected(self, channel: str) -> set[str]:
        shas = self.repos[self.channels[channel]].log_shas()
        return {"main-0", *(f"reply-{sha[:12]}-0" for sha in shas)}

    def main(self, channel: str) -> Message | None:
        mains = [m for m in self.slack.top_level(channel) if part_of(m) == "main-0"]
        return mains[0] if mains else None

    def thread(self, channel: str) -> list[Message]:
        main = self.main(channel)
        return self.slack.thread(channel, main.ts) if main is not None else []

    def complete(self, channel: str) -> bool:
        thread = self.thread(channel)
        parts = {part_of(m) for m in thread} - {None}
        return parts >= self.expected(channel) and any(m.files for m in thread)

    def all_complete(self) -> bool:
        return all(self.complete(c) for c in self.channels)


@pytest.fixture
async def site(tmp_path: Path, postgres_url: str) -> AsyncIterator[Site]:
    now = datetime.now(UTC)
    repos: dict[str, GitRepo] = {}
    for n, name in enumerate(REPOS):
        repo = GitRepo.init(tmp_path / name.replace("/", "_"))
        for i in range(3 + n):
            when = now - timedelta(hours=5) + timedelta(minutes=20 * i)
            repo.commit(f"feat: {name} change {i}", {f"src/m{i}.py": f"v = {i}\n"}, when=when)
        repos[name] = repo
    channels = {f"C{n}": REPOS[n % len(REPOS)] for n in range(6)}
    async with FakeSlack(
        token=BOT, team_id=TEAM, channels={c: c.lower() for c in channels}
    ) as slack:
        yield Site(slack, repos, channels)


async def subscribe(url: str, channels: dict[str, str]) -> datetime:
    """Every channel due a minute ago (subscribed yesterday); the fire time."""
    now = datetime.now(UTC)
    fire = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    store = await Store.open(url, clock=lambda: now - timedelta(days=1))
    try:
        for channel, repo in channels.items():
            values = {"at": fire.strftime("%H:%M"), "tz": "UTC", "min_importance": "low"}
            target = Target(platform="slack", workspace=TEAM, channel=channel)
            await store.upsert_subscription(target, repo, values, defaults=DEFAULTS, by="U1")
    finally:
        await store.close()
    return fire


def env(
    site: Site, tag: str, db: str, gh: FakeGitHub, llm: FakeOpenAI, lease: int
) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": site.slack.api_url_for(tag),
        "GITHUB_API_URL": gh.url,
        "OPENAI_BASE_URL": llm.url,
        "OPENAI_API_KEY": "sk-fake-key",
        "DIGEST_LLM_JSON_MODE": "json_schema",
        "DIGEST_DATABASE_URL": db,
        "DIGEST_PORT": str(free_port()),
        "DIGEST_LEASE_SECONDS": str(lease),
        "DIGEST_LANGUAGE": "en",
    }


async def scalars(url: str, sql: str) -> list[Any]:
    store = await Store.open(url, upgrade=False)
    try:
        async with store.engine.connect() as conn:
            return list((await conn.execute(sa.text(sql))).all())
    finally:
        await store.close()


def assert_each_part_once(site: Site) -> None:
    for channel, repo in site.channels.items():
        mains = [m for m in site.slack.top_level(channel) if part_of(m) == "main-0"]
        assert len(mains) == 1, (channel, site.events)
        thread = site.thread(channel)
        parts = Counter(part_of(m) for m in thread if part_of(m))
        assert parts == Counter({name: 1 for name in site.expected(channel)}), (channel, parts)
        files = [f for m in thread for f in m.files]
        assert len(files) == 1, (channel, files)
        uploaded = [f for f in site.slack.files if f.completed and f.channel == channel]
        assert len(uploaded) == 1, channel
        del repo


def assert_same_as_its_twin(site: Site) -> None:
    """Channels following one repository got the same thread and the same report."""
    by_repo: dict[str, list[str]] = {}
    for channel, repo in site.channels.items():
        by_repo.setdefault(repo, []).append(channel)

    def thread_of(channel: str) -> tuple[list[str], bytes]:
        thread = site.thread(channel)[1:]
        texts = sorted(json.dumps(m.blocks, sort_keys=True) for m in thread if part_of(m))
        (report,) = [f for f in site.slack.files if f.completed and f.channel == channel]
        return texts, report.content or b""

    for channels in by_repo.values():
        first, *others = [thread_of(c) for c in channels]
        assert all(other == first for other in others), channels


async def test_replicas_killed_at_each_part_of_a_post_leave_every_digest_complete_once(
    site: Site, postgres_url: str
) -> None:
    fire = await subscribe(postgres_url, site.channels)
    async with (
        FakeGitHub(rate_limit=5000) as gh,
        FakeOpenAI(latency=2.0, responder=slow_model(7)) as llm,
    ):
        for name, repo in site.repos.items():
            gh.add_repo(name, repo.path)
        changed = asyncio.Condition()
        for n in range(3):
            tag = f"r{n}"
            site.replicas[tag] = Replica(
                tag, env(site, tag, postgres_url, gh, llm, 10), Path.cwd(), changed
            )
        restarts: list[asyncio.Task[Replica]] = []
        stage = [0]

        async def kill(tags: list[str], what: str) -> None:
            for tag in tags:
                await site.replicas[tag].kill()
            site.log(f"killed {', '.join(tags)} right after {what}")
            restarts.extend(asyncio.create_task(site.replicas[t].start()) for t in tags)

        async def chaos(call: Call, served: dict[str, Any]) -> None:
            via = call.via or "?"
            if call.method == "chat.postMessage":
                part = part_of(call.params) or ""
                message = served.get("message") or {}
                thread_ts = message.get("thread_ts")
                channel = str(served.get("channel"))
                if stage[0] == 0 and part == "main-0":
                    stage[0] = 1
                    await kill([via], f"{via} posted the main message in {channel}")
                elif stage[0] == 1 and part.startswith("reply") and thread_ts:
                    replies = [m for m in site.slack.thread(channel, thread_ts) if part_of(m)]
                    if len(replies) == 3:  # the main message and two replies: the 2nd reply
                        stage[0] = 2
                        await kill(sorted(site.replicas), f"{via} posted a 2nd reply in {channel}")
            elif call.method == "files.completeUploadExternal" and stage[0] == 2:
                stage[0] = 3
                await kill(
                    [via], f"{via} completed a report upload in {call.params.get('channel_id')}"
                )

        site.slack.after_call = chaos
        try:
            await asyncio.gather(*(r.start() for r in site.replicas.values()))
            site.log("three replicas started")
            await site.slack.wait_for(site.all_complete, within=HANG, what="every digest complete")
            site.log("every part of every digest is out")
            await asyncio.gather(*restarts)
            # A run whose last part went out just before a kill is recorded by its taker.
            replicas = list(site.replicas.values())
            await logged(replicas, lambda text: text.count(": posted; ") >= len(site.channels))
            site.log("every run is recorded")
        finally:
            site.slack.after_call = None
            await asyncio.gather(*(r.stop() for r in site.replicas.values()))
        assert stage[0] == 3, site.events  # all three kills happened
        assert_each_part_once(site)
        assert_same_as_its_twin(site)
        rows = await scalars(
            postgres_url, "SELECT state, failures, takeovers FROM digest_runs ORDER BY id"
        )
        assert [r[0] for r in rows] == ["posted"] * 6
        assert sum(r[1] for r in rows) == 0  # a crash is never a failed attempt
        takeovers = sum(r[2] for r in rows)
        assert takeovers >= 2
        late = time.monotonic() - site.started
        print(  # the figures for the note
            f"\n{len(site.channels)} digests complete, each part once, {takeovers} takeovers, "
            f"{sum(r.kills for r in site.replicas.values())} SIGKILLs; done {late:.0f} s after "
            f"start, lease 10 s; due at {fire:%H:%M} UTC\n" + "\n".join(site.events)
        )


async def test_a_database_outage_of_20_s_during_a_post_leaves_it_complete_once(
    site: Site, postgres_url: str
) -> None:
    channels = {"C0": REPOS[0], "C1": REPOS[1]}
    site.channels = channels
    await subscribe(postgres_url, channels)
    async with (
        TcpProxy(5432) as proxy,
        FakeGitHub(rate_limit=5000) as gh,
        FakeOpenAI(latency=2.0, responder=slow_model(11)) as llm,
    ):
        for name, repo in site.repos.items():
            gh.add_repo(name, repo.path)
        db = proxy.url(postgres_url)
        changed = asyncio.Condition()
        for n in range(2):
            tag = f"r{n}"
            site.replicas[tag] = Replica(tag, env(site, tag, db, gh, llm, 15), Path.cwd(), changed)
        back: list[float] = []

        async def outage() -> None:
            proxy.cut()
            site.log("the database is cut off")
            await asyncio.sleep(20)  # the outage itself: a fault injected, not a wait
            proxy.restore()
            back.append(time.monotonic())
            site.log("the database is back")

        outages: list[asyncio.Task[None]] = []

        async def cut_on_first_post(call: Call, served: dict[str, Any]) -> None:
            if not outages and part_of(call.params) == "main-0":
                outages.append(asyncio.create_task(outage()))

        site.slack.after_call = cut_on_first_post
        try:
            await asyncio.gather(*(r.start() for r in site.replicas.values()))
            await site.slack.wait_for(site.all_complete, within=HANG, what="every digest complete")
            site.log("every part of every digest is out")
            await asyncio.gather(*outages)
            # Recorded once the database is back: each run logs its end.
            await logged(list(site.replicas.values()), lambda text: text.count(": posted; ") >= 2)
            recorded = time.monotonic()
            rows = await scalars(postgres_url, "SELECT state FROM digest_runs")
            assert [r[0] for r in rows] == ["posted"] * 2
        finally:
            site.slack.after_call = None
            await asyncio.gather(*(r.stop() for r in site.replicas.values()))
        assert outages and back, site.events
        assert_each_part_once(site)
        logs = "".join(r.stderr for r in site.replicas.values())
        assert "the database cannot be reached" in logs
        assert "the database answers again" in logs
        print(
            f"\nboth digests recorded {recorded - back[0]:.1f} s after the database came back "
            f"(lease 15 s)\n" + "\n".join(site.events)
        )
