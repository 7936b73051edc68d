"""Feishu end to end: encrypted, signed callbacks through the real HTTP endpoint, the fake Feishu
Open API (lark-oapi's real client), the fake GitHub, a real store and real git repositories."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.chat.replies import Services
from bot.delivery.poster import Post
from bot.delivery.scheduler import DigestScheduler
from bot.feishu.bot import FeishuBot, FeishuDeps
from bot.feishu.client import FeishuClient
from bot.feishu.poster import FeishuPoster
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Target
from bot.web.app import make_web_app
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.service import build_digest
from digest.sources.git import GitSource
from digest.sources.github import GitHubSource
from digest.window import day_window
from tests.fakes.feishu import USER_OPEN_ID, FakeFeishu, Fault
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo
from tests.waiting import until

SH = timezone(timedelta(hours=8))
NOW = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
CHAT = "oc_digest_chat"
GH_TOKEN = "ghp_" + "F3i5h" * 7 + "u"
ATTACK = (
    'fix: <at id=all></at> <at user_id="ou_x">x</at> @所有人 <font color=red>r</font> '
    '<link url="https://evil">l</link> [click](https://evil) <a href="https://evil">a</a>'
)
ACTIVE = ("<at ", "<link", "](https://evil", "<a href", "<font")


@dataclass
class World:
    feishu: FakeFeishu
    gh: FakeGitHub
    store: Store
    repo: GitRepo
    url: str
    deps: FeishuDeps

    async def send(self, payload: dict[str, Any], **options: Any) -> int:
        body, headers = self.feishu.callback(payload, **options)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/feishu/events", data=body, headers=headers) as response,
        ):
            return response.status

    async def say(self, text: str, **options: Any) -> int:
        return await self.send(self.feishu.message_event(text, chat_id=CHAT), **options)

    async def settle(self, count: int) -> list[Any]:
        """The bot's messages in the chat once there are `count` of them."""
        await self.feishu.wait_for(
            lambda: len(self.feishu.sent(CHAT)) >= count, what=f"{count} bot messages"
        )
        return list(self.feishu.sent(CHAT))

    async def card_reply(self, parent: str) -> Any:
        """The bot's first card in reply to `parent` (a report file may reply to it as well)."""

        def replies() -> list[Any]:
            sent = self.feishu.sent(CHAT)
            return [m for m in sent if m.parent_id == parent and m.msg_type == "interactive"]

        await self.feishu.wait_for(lambda: bool(replies()), what=f"a card in reply to {parent}")
        return replies()[0]

    async def top_cards(self) -> list[Any]:
        """The bot's top-level cards (digests), once there is one."""

        def cards() -> list[Any]:
            sent = self.feishu.sent(CHAT)
            return [m for m in sent if m.msg_type == "interactive" and not m.parent_id]

        await self.feishu.wait_for(lambda: bool(cards()), what="a digest card")
        return cards()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    repo = GitRepo.init(tmp_path / "demo")
    repo.commit("feat: add the export API (#12)", {"src/api/export.py": "x = 1\n" * 80},
                when=datetime(2026, 2, 5, 9, tzinfo=SH))  # fmt: skip
    repo.commit(ATTACK, {"src/core/run.py": "y = 1\n"}, when=datetime(2026, 2, 5, 10, tzinfo=SH))
    app_id = f"cli_{uuid.uuid4().hex[:16]}"  # lark-oapi caches tokens per app id, process-wide
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/feishu.db", clock=lambda: NOW)
    async with (
        FakeFeishu(app_id=app_id, chats={CHAT: "digest"}) as feishu,
        FakeGitHub(token=GH_TOKEN) as gh,
    ):
        gh.add_repo("octo/demo", repo.path)
        settings = Settings(_env_file=None, github_api_url=gh.url)
        client = FeishuClient(
            app_id, feishu.app_secret, domain=feishu.url, sleep=lambda _s: asyncio.sleep(0)
        )
        poster = FeishuPoster(client)
        deps = FeishuDeps(
            services=Services(
                settings=settings,
                store=store,
                open_source=lambda name: GitHubSource(
                    name, token=GH_TOKEN, api_url=gh.url, retry_backoff=0.01
                ),
                analyzer=HeuristicAnalyzer(),
                clock=lambda: NOW,
            ),
            client=client,
            poster=poster,
        )
        app = make_web_app(
            feishu=FeishuBot(deps),
            feishu_encrypt_key=feishu.encrypt_key,
            feishu_verification_token=feishu.verification_token,
        )
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield World(feishu, gh, store, repo, f"http://{host}:{port}", deps)
        await asyncio.gather(*deps.tasks, return_exceptions=True)
        await runner.cleanup()
    await store.close()


def dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


async def test_url_verification_answers_the_challenge(world: World) -> None:
    body, headers = world.feishu.callback(world.feishu.url_verification("ch-123"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{world.url}/feishu/events", data=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert (await response.json()) == {"challenge": "ch-123"}


async def test_subscribe_list_lookup_now_and_the_details_button(world: World) -> None:
    assert await world.say("/digest subscribe octo/demo tz:Asia/Shanghai") == 200
    (confirm,) = await world.settle(1)
    assert confirm.parent_id is not None  # answers are replies to the user's message
    assert "octo/demo" in dump(confirm.card)
    await world.say("/digest list")
    await world.settle(2)
    sha = world.repo.git("rev-parse", "HEAD")
    await world.say(f"/digest {sha[:9]}")
    sent = await world.settle(3)
    assert sha[:7] in dump(sent[2].card)
    await world.say("/digest now 2026-02-05")
    await world.feishu.wait_for(
        lambda: world.feishu.files and any(m.msg_type == "file" for m in world.feishu.sent(CHAT)),
        what="the report file",
    )
    cards = [m for m in world.feishu.sent(CHAT) if m.msg_type == "interactive" and not m.parent_id]
    assert cards, "the digest card"
    digest_card = cards[0]
    (report,) = world.feishu.files
    assert b"octo/demo" in report.content
    everything = dump([m.content for m in world.feishu.sent(CHAT)])
    for active in ACTIVE:
        assert active not in everything, active
    assert "@所有人" not in everything
    # The details button of the first item: its analysis as a reply to the card.
    buttons = [
        b["behaviors"][0]["value"]
        for b in _walk(digest_card.card)
        if b.get("tag") == "button" and b.get("behaviors")
    ]
    assert buttons and buttons[0]["action"] == "details"
    action = world.feishu.card_action_event(buttons[0], message_id=digest_card.message_id)
    assert await world.send(action) == 200
    details = await world.card_reply(digest_card.message_id)
    assert buttons[0]["sha"][:7] in dump(details.card)


async def test_a_burst_of_messages_is_answered_at_once_and_worked_on_in_turns(
    world: World,
) -> None:
    """Feishu gets its answer to each event at once; the work waits its turn (4 at a time, the
    same turns as Slack's): while GitHub holds the commit look-ups, four are at GitHub and two
    wait, and every message is answered once it lets go."""
    await world.say("/digest subscribe octo/demo tz:Asia/Shanghai")
    await world.settle(1)
    turns = world.deps.services.turns
    held = asyncio.Event()
    world.gh.hold(r"/commits/", held)
    shas = world.repo.git("rev-list", "HEAD").split()
    asked = [shas[n % len(shas)][: 7 + n] for n in range(6)]
    try:  # GitHub lets go even when an assertion fails, so the fixture can close
        statuses = await asyncio.gather(*(world.say(f"/digest {text}") for text in asked))
        assert statuses == [200] * 6

        def held_at_github() -> int:
            return sum(1 for r in world.gh.requests if "/commits/" in r.path and not r.finished_at)

        await until(lambda: held_at_github() == 4, what="four look-ups held at GitHub")
        assert (turns.working, turns.waiting) == (4, 2)
    finally:
        held.set()
    sent = await world.settle(7)
    await until(lambda: turns.working == 0, what="every turn given back")
    for text in asked:
        assert any(text[:7] in dump(m.card) for m in sent[1:])


async def test_the_details_button_of_a_local_clone_finds_it_in_the_chat(world: World) -> None:
    """With DIGEST_ALLOW_LOCAL_PATHS (as serve wires it): a clone has no owner/name, so its
    card's button looks the sha up in the chat's subscriptions."""
    services = world.deps.services
    github = services.open_source
    services.local_paths = True
    services.open_source = lambda name: GitSource(name) if name.startswith("/") else github(name)
    path = str(world.repo.path.resolve())
    await world.say(f"/digest subscribe {path} tz:Asia/Shanghai")
    (confirm,) = await world.settle(1)
    assert f"demo ({path})" in dump(confirm.card)
    await world.say("/digest now 2026-02-05")
    await world.feishu.wait_for(
        lambda: any(m.msg_type == "file" for m in world.feishu.sent(CHAT)), what="the report file"
    )
    card = next(
        m for m in world.feishu.sent(CHAT) if m.msg_type == "interactive" and not m.parent_id
    )
    buttons = [
        b["behaviors"][0]["value"]
        for b in _walk(card.card)
        if b.get("tag") == "button" and b.get("behaviors")
    ]
    assert buttons and buttons[0]["repo"] == ""
    assert (
        await world.send(world.feishu.card_action_event(buttons[0], message_id=card.message_id))
        == 200
    )
    details = await world.card_reply(card.message_id)
    assert buttons[0]["sha"][:7] in dump(details.card)
    assert "was not found" not in dump(details.card)


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


async def test_forged_old_replayed_and_undecryptable_callbacks_do_nothing(world: World) -> None:
    event = world.feishu.message_event("/digest subscribe octo/demo", chat_id=CHAT)
    body, headers = world.feishu.callback(event)
    async with aiohttp.ClientSession() as session:
        forged = {**headers, "X-Lark-Signature": "0" * 64}
        async with session.post(f"{world.url}/feishu/events", data=body, headers=forged) as r:
            assert r.status == 401
        old_body, old_headers = world.feishu.callback(event, timestamp=int(time.time()) - 600)
        async with session.post(
            f"{world.url}/feishu/events", data=old_body, headers=old_headers
        ) as r:
            assert r.status == 401
        plain_body, plain_headers = world.feishu.callback(event, encrypt_key="")
        async with session.post(
            f"{world.url}/feishu/events", data=plain_body, headers=plain_headers
        ) as r:
            assert r.status == 401
        wrong_key_body, wrong_key_headers = world.feishu.callback(event, encrypt_key="other-key")
        async with session.post(
            f"{world.url}/feishu/events", data=wrong_key_body, headers=wrong_key_headers
        ) as r:
            assert r.status == 401
    wrong_token = world.feishu.message_event("/digest list", chat_id=CHAT, token="not-it")
    assert await world.send(wrong_token) == 401
    assert await world.send(event) == 200
    assert await world.send(event) == 200  # Feishu re-delivers: the same event id, once handled
    await world.settle(1)
    # A command sent after the re-delivery is answered: had the re-delivery been handled, its
    # answer would be there too (no fixed wait for something that should not happen).
    await world.say("/digest list")
    sent = await world.settle(2)
    assert len(sent) == 2 and "octo/demo" in dump(sent[1].card)
    assert len(await world.store.all_subscriptions()) == 1


async def test_the_scheduled_card_survives_rate_limits_and_is_posted_once(world: World) -> None:
    await world.say("/digest subscribe octo/demo tz:Asia/Shanghai min:medium")
    await world.settle(1)
    world.feishu.fail("im.message.create", Fault.rate_limit(0), Fault.server_error(502))
    when = [datetime(2026, 2, 6, 1, 0, 30, tzinfo=UTC)]
    scheduler = DigestScheduler(
        world.store,
        world.deps.services.open_source,
        world.deps.services.analyzer,
        {"feishu": world.deps.poster},
        clock=lambda: when[0],
        replica="r1",
    )
    outcomes = await scheduler.run_once(when[0])
    assert [o.outcome.value for o in outcomes] == ["posted"]
    posts = [m for m in world.feishu.sent(CHAT) if m.msg_type == "interactive" and not m.parent_id]
    assert len(posts) >= 1
    # Posting the same run again (a takeover within the hour) makes no new message.
    (sub,) = await world.store.all_subscriptions()
    (run,) = await world.store.runs(sub.id)
    digest_ids = run.message_ids
    target = Target(platform="feishu", workspace="", channel=CHAT)
    source = world.deps.services.open_source("octo/demo")
    digest = await build_digest(
        source,
        world.deps.services.analyzer,
        window=day_window(datetime(2026, 2, 5).date(), "Asia/Shanghai"),
        language="zh",
        now=lambda: NOW,
    )
    await source.aclose()
    count = len(world.feishu.sent(CHAT))
    again = await world.deps.poster.post_digest(target, Post(digest, f"digest-run-{run.id}"))
    assert again == digest_ids  # Feishu handed back the first messages (uuid de-duplication)
    assert len(world.feishu.sent(CHAT)) == count


async def test_the_details_button_works_for_a_private_repository_the_chat_follows(
    world: World, tmp_path: Path
) -> None:
    secret = GitRepo.init(tmp_path / "secret")
    secret.commit("feat: secret plan", {"src/s.py": "s = 1\n" * 60},
                  when=datetime(2026, 2, 5, 9, tzinfo=SH))  # fmt: skip
    world.gh.add_repo("octo/secret", secret.path, private=True)
    world.deps.services.settings = Settings(
        _env_file=None, github_api_url=world.gh.url, digest_admins=USER_OPEN_ID
    )
    await world.say("/digest subscribe octo/secret tz:Asia/Shanghai min:low")
    await world.settle(1)
    await world.say("/digest now octo/secret 2026-02-05")
    cards = await world.top_cards()
    button = next(
        b["behaviors"][0]["value"]
        for b in _walk(cards[0].card)
        if b.get("tag") == "button" and b.get("behaviors")
    )
    await world.send(world.feishu.card_action_event(button, message_id=cards[0].message_id))
    details = await world.card_reply(cards[0].message_id)
    assert "secret plan" in dump(details.card)  # found: the chat follows it (same tenant)
