"""Slack end to end: signed requests through the real HTTP endpoint, the fake Slack Web API,
the fake GitHub, a real store and real git repositories. Every call the bot makes is inspected."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.chat.replies import Services
from bot.delivery.parts import Part, PartKind
from bot.delivery.poster import ReportFile
from bot.delivery.scheduler import DigestScheduler
from bot.ops.settings import Settings
from bot.slack.app import SlackDeps, build_app, make_client
from bot.slack.poster import SlackPoster
from bot.store.database import Store
from bot.store.records import Target
from bot.web.app import make_web_app
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack, Fault, sign
from tests.gitrepo import GitRepo
from tests.waiting import until

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-" + "1234567890-" * 3 + "abc"
CHANNEL = "C0GENERAL"
SH = timezone(timedelta(hours=8))
NOW = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
ATTACK = "fix: <!channel> <!here> <!everyone> <@U123> <!subteam^S1> <https://evil|click> @channel"


@dataclass
class World:
    slack: FakeSlack
    gh: FakeGitHub
    store: Store
    repo: GitRepo
    url: str
    deps: SlackDeps

    async def command(
        self, text: str, *, secret: str = SECRET, timestamp: int | None = None, body: bytes = b""
    ) -> tuple[int, str, float]:
        body = body or self.slack.slash_command(text, channel_id=CHANNEL, user_id="U-alice")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers |= sign(body, secret, timestamp)
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/slack/events", data=body, headers=headers) as response,
        ):
            return response.status, await response.text(), time.monotonic() - started

    async def settle(self, count: int, what: str = "responses") -> None:
        """Wait until the fake Slack holds `count` of `what` (answers, by default)."""
        await self.slack.wait_for(
            lambda: len(getattr(self.slack, what)) >= count, what=f"{count} {what}"
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    repo = GitRepo.init(tmp_path / "demo")
    big: dict[str, str | bytes | None] = {"src/api/export.py": "def f():\n    return 1\n" * 40}
    repo.commit("feat: add the export API (#12)", big, when=datetime(2026, 2, 5, 9, tzinfo=SH))
    repo.commit(ATTACK, {"src/core/run.py": "x = 1\n"}, when=datetime(2026, 2, 5, 10, tzinfo=SH))
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/slack.db", clock=lambda: NOW)
    async with FakeSlack(token=BOT_TOKEN) as slack, FakeGitHub() as gh:
        gh.add_repo("octo/demo", repo.path)
        settings = Settings(
            _env_file=None,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            github_api_url=gh.url,
        )
        client = make_client(settings)
        poster = SlackPoster(client)
        deps = SlackDeps(
            services=Services(
                settings=settings,
                store=store,
                open_source=lambda name: GitHubSource(name, api_url=gh.url, retry_backoff=0.01),
                analyzer=HeuristicAnalyzer(),
                clock=lambda: NOW,
            ),
            poster=poster,
        )
        app = make_web_app(
            slack=build_app(deps, client),
            slack_signing_secret=SECRET,
            first_time=store.first_delivery,
        )
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield World(slack, gh, store, repo, f"http://{host}:{port}", deps)
        await runner.cleanup()
    await store.close()


def dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


async def test_subscribe_list_lookup_and_now(world: World) -> None:
    status, ack, _ = await world.command("subscribe octo/demo tz:Asia/Shanghai")
    assert status == 200 and "Subscribing this channel to octo/demo" in ack
    await world.settle(1)
    confirm = world.slack.responses[0]
    assert confirm.response_type == "in_channel" and "octo/demo" in dump(confirm.blocks)

    await world.command("list")
    await world.settle(2)
    assert world.slack.responses[1].response_type == "ephemeral"

    sha = world.repo.git("rev-parse", "HEAD")
    status, ack, _ = await world.command(sha[:9])
    assert "Looking up" in ack
    await world.settle(3)
    answer = world.slack.responses[2]
    assert answer.response_type == "in_channel"
    text = dump(answer.blocks) + (answer.text or "")
    assert sha[:7] in text
    for active in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam", "<https://evil"):
        assert active not in text

    await world.command("now 2026-02-05")
    await world.slack.wait_for(
        lambda: any(f.completed for f in world.slack.files), what="the report file"
    )
    (main,) = [m for m in world.slack.top_level(CHANNEL) if m.metadata]
    assert main.metadata is not None and main.metadata["event_type"] == "commit_digest"
    assert main.params.get("unfurl_links") is False and "link_names" not in main.params
    (report,) = world.slack.files
    assert report.thread_ts == main.ts and b"octo/demo" in (report.content or b"")
    everything = dump([m.blocks for m in world.slack.posts[CHANNEL]]) + dump(
        [m.text for m in world.slack.posts[CHANNEL]]
    )
    for active in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam", "<https://evil"):
        assert active not in everything


async def test_a_burst_is_acked_at_once_and_worked_on_in_turns(world: World) -> None:
    """Commands past DIGEST_COMMAND_CONCURRENCY (4 here) are acknowledged like any other, then
    wait their turn in order: while GitHub holds every commit look-up, four are at GitHub, the
    other two have not asked it anything, and all six are answered once it lets go."""
    await world.command("subscribe octo/demo tz:Asia/Shanghai")
    await world.settle(1)
    turns = world.deps.services.turns
    assert turns.size == 4
    held = asyncio.Event()
    world.gh.hold(r"/commits/", held)
    shas = world.repo.git("rev-list", "HEAD").split()
    asked = [shas[n % len(shas)][: 7 + n] for n in range(6)]
    try:  # GitHub lets go even when an assertion fails, so the fixture can close
        acks = await asyncio.gather(*(world.command(text) for text in asked))
        assert [status for status, _, _ in acks] == [200] * 6
        assert all("Looking up" in ack for _, ack, _ in acks)

        def held_at_github() -> int:
            return sum(1 for r in world.gh.requests if "/commits/" in r.path and not r.finished_at)

        await until(lambda: held_at_github() == 4, what="four look-ups held at GitHub")
        assert (turns.working, turns.waiting) == (4, 2)
        assert len([r for r in world.gh.requests if "/commits/" in r.path]) == 4
    finally:
        held.set()
    await world.settle(7)
    await until(lambda: turns.working == 0, what="every turn given back")
    assert turns.waiting == 0
    answers = [dump(r.blocks) + (r.text or "") for r in world.slack.responses[1:]]
    for text in asked:  # each asked sha answered, once
        assert sum(text[:7] in answer for answer in answers) >= 1
    assert len(answers) == 6


async def test_bad_input_answers_the_user_alone(world: World) -> None:
    status, _, _ = await world.command("subscribe octo/demo at:25:00")
    assert status == 200
    await world.settle(1)
    reply = world.slack.responses[0]
    assert reply.response_type == "ephemeral"
    assert "25:00" in dump(reply.blocks) and "usage" in dump(reply.blocks).lower()
    assert await world.store.all_subscriptions() == []


async def test_forged_old_replayed_and_unsigned_requests_are_refused(world: World) -> None:
    body = world.slack.slash_command("subscribe octo/demo", channel_id=CHANNEL)
    status, _, _ = await world.command("", secret="wrong-secret", body=body)
    assert status == 401
    old = int(time.time()) - 6 * 60
    status, _, _ = await world.command("", timestamp=old, body=body)
    assert status == 401
    status, _, _ = await world.command("", body=body)
    assert status == 200
    # A second genuine request: signed for another second, so its signature is new.
    other_second = int(time.time()) - 2
    genuine = {"Content-Type": "application/x-www-form-urlencoded"} | sign(
        body, SECRET, other_second
    )
    async with aiohttp.ClientSession() as session:
        for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, genuine, genuine):
            # Unsigned; then a fresh signature replayed twice (its first use was not this one).
            await session.post(f"{world.url}/slack/events", data=body, headers=headers)
        async with session.post(f"{world.url}/slack/events", data=body, headers=genuine) as again:
            assert again.status == 401  # the replay
    await world.settle(2)
    # A command sent after them is answered: had a replay run, its answer would be there too
    # (no fixed wait for something that should not happen).
    await world.command("list")
    await world.settle(3)
    # The forged and old requests did nothing; the genuine one ran once, its replays not at all.
    assert len(world.slack.responses) == 3 and "octo/demo" in dump(world.slack.responses[2].blocks)
    assert len(await world.store.all_subscriptions()) == 1


async def test_the_scheduled_post_survives_429_and_is_found_after_a_takeover(
    world: World,
) -> None:
    await world.command("subscribe octo/demo tz:Asia/Shanghai at:09:00 min:medium")
    await world.settle(1)
    (sub,) = await world.store.all_subscriptions()
    world.slack.fail(
        "chat.postMessage", Fault.rate_limit(0), Fault.server_error(503), Fault.rate_limit(0)
    )
    clock_now = [datetime(2026, 2, 6, 1, 0, 30, tzinfo=UTC)]  # 09:00:30 in Shanghai
    scheduler = DigestScheduler(
        world.store,
        world.deps.services.open_source,
        world.deps.services.analyzer,
        {"slack": world.deps.poster},
        clock=lambda: clock_now[0],
        replica="r1",
    )
    # The subscription was made "at" NOW (12:00 UTC on the 5th): its first fire is the 6th.
    outcomes = await scheduler.run_once(clock_now[0])
    assert [o.outcome.value for o in outcomes] == ["posted"]
    mains = world.slack.top_level(CHANNEL)
    assert len([m for m in mains if m.metadata]) == 1  # posted once despite 429, 503, 429
    assert len(world.slack.calls_to("chat.postMessage")) >= 4
    main = next(m for m in mains if m.metadata)
    replies = world.slack.thread(CHANNEL, main.ts)[1:]
    assert replies  # the detailed items, one reply each
    key = main.metadata["event_payload"]["run_key"] if main.metadata else ""
    # Every part is recorded, and Slack shows each one again to a takeover's lookup.
    (run,) = await world.store.runs(sub.id)
    recorded = await world.store.parts_of(run.id)
    assert recorded["main-0"] == main.ts and "file" in recorded
    assert len(recorded) == 1 + len(replies)  # the main post; the replies and the file share
    (report,) = [f for f in world.slack.files if f.completed]
    parts = [
        Part(name, PartKind.MAIN if name.startswith("main") else PartKind.REPLY)
        for name in recorded
        if name != "file"
    ]
    parts.append(Part("file", PartKind.FILE, ReportFile(report.filename, "")))
    target = Target(platform="slack", workspace=world.slack.team_id, channel=CHANNEL)
    found = await world.deps.poster.find(target, key, parts, {}, run.created_at)
    assert found == recorded
    assert sub.id == outcomes[0].subscription_id
