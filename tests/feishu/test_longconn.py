"""Feishu over the long connection, as an operator runs it: `digest serve` (the console script, in
a subprocess) with FEISHU_LONG_CONNECTION=true against the fake Feishu's websocket (lark's own
protobuf frames) and Open API, and the fake GitHub serving a real git repository. Events go over
the websocket, their response frames come back over it (a card action's toast among them), the
answers arrive at im/v1 as replies; the subscription lands in the SQLite file."""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.feishu import FakeFeishu, Message
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo
from tests.slack.test_socket_mode import Digest, free_port
from tests.waiting import HANG

SH = timezone(timedelta(hours=8))
CHAT = "oc_longconn_chat"
SECRET = "long-connection-secret"
CARD_DEADLINE = 3.0  # Feishu's: a card action unanswered by then shows the user an error
UNSET = (  # set empty (ignored): nothing from the outer environment changes what serve does
    "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY",
    "OPENAI_BASE_URL", "FEISHU_ENCRYPT_KEY", "FEISHU_VERIFICATION_TOKEN",
)  # fmt: skip


@dataclass
class World:
    feishu: FakeFeishu
    gh: FakeGitHub
    repo: GitRepo
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "FEISHU_APP_ID": self.feishu.app_id,
            "FEISHU_APP_SECRET": SECRET,
            "FEISHU_API_URL": self.feishu.url,
            "FEISHU_LONG_CONNECTION": "true",
            "GITHUB_API_URL": self.gh.url,
            "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp}/digest.db",
            "DIGEST_PORT": str(free_port()),
            **dict.fromkeys(UNSET, ""),
            **extra,
        }

    async def reply_to(self, message_id: str, count: int = 1) -> list[Message]:
        """The bot's cards in reply to a message, once there are `count` of them."""

        def replies() -> list[Message]:
            sent = self.feishu.sent(CHAT)
            return [m for m in sent if m.parent_id == message_id and m.msg_type == "interactive"]

        await self.feishu.wait_for(
            lambda: len(replies()) >= count, what=f"{count} cards in reply to {message_id}"
        )
        return replies()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    repo = GitRepo.init(tmp_path / "demo")
    repo.commit("feat: add the export API (#12)", {"src/api/export.py": "x = 1\n" * 80},
                when=datetime(2026, 2, 5, 9, tzinfo=SH))  # fmt: skip
    repo.commit("fix: <at id=all></at> guard the runner", {"src/core/run.py": "y = 1\n"},
                when=datetime(2026, 2, 5, 10, tzinfo=SH))  # fmt: skip
    app_id = f"cli_{uuid.uuid4().hex[:16]}"
    fake = FakeFeishu(
        app_id=app_id,
        app_secret=SECRET,
        chats={CHAT: "digest"},
        ws_ping_interval=1,
        ws_reconnect_nonce=0,
        ws_reconnect_interval=1,
    )
    async with fake as feishu, FakeGitHub() as gh:
        gh.add_repo("octo/demo", repo.path)
        yield World(feishu, gh, repo, tmp_path)


def text_of(message: Message) -> str:
    return json.dumps(message.content, ensure_ascii=False)


def details_buttons(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("tag") == "button":
            found += [b["value"] for b in node.get("behaviors", []) if "value" in b]
        for value in node.values():
            found += details_buttons(value)
    elif isinstance(node, list):
        for value in node:
            found += details_buttons(value)
    return found


@pytest.mark.e2e  # `digest serve` and lark-oapi: 39 s under load
async def test_serve_answers_over_the_long_connection(world: World) -> None:
    feishu = world.feishu
    digest = await Digest.start(world.env(), world.tmp)
    try:
        ready = await digest.line_starting("digest serve:")
        assert "Feishu over the long connection" in ready
        assert "/feishu/events" not in ready  # no unchecked HTTP callback beside it
        first = await feishu.wait_ws_connected()
        (endpoint,) = feishu.calls_to("ws.endpoint")
        assert endpoint.auth_ok and endpoint.body["AppID"] == feishu.app_id
        ping = await feishu.wait_ws_ping()  # the client pings at once
        assert ping.connection == first

        # subscribe, as a message event in one frame; the answer is a reply to that message
        subscribe = feishu.message_event(
            "/digest subscribe octo/demo tz:Asia/Shanghai", chat_id=CHAT
        )
        pushed = await feishu.push_event(subscribe)
        response = await feishu.wait_ws_response(pushed)
        assert response.code == 200 and response.kind == "event"
        user_message = subscribe["event"]["message"]["message_id"]
        (confirm,) = await world.reply_to(user_message)
        assert "octo/demo" in text_of(confirm)

        # list, its JSON split over three frames (lark puts them back together)
        listing = feishu.message_event("/digest list", chat_id=CHAT)
        response = await feishu.wait_ws_response(await feishu.push_event(listing, parts=3))
        assert response.code == 200
        (listed,) = await world.reply_to(listing["event"]["message"]["message_id"])
        assert "octo/demo" in text_of(listed)

        # Feishu delivers the subscribe event again (same event id): answered, not handled twice
        again = await feishu.wait_ws_response(await feishu.push_event(subscribe))
        assert again.code == 200

        # Feishu drops the connection; lark reconnects (a new URL) and events flow again
        await feishu.disconnect_ws()
        second = await feishu.wait_ws_connected(2)
        assert second != first and len(feishu.calls_to("ws.endpoint")) == 2
        now = feishu.message_event("/digest now octo/demo 2026-02-05", chat_id=CHAT)
        assert (await feishu.wait_ws_response(await feishu.push_event(now))).code == 200
        card = await top_level_card(world)
        buttons = details_buttons(card.card)
        assert len(buttons) == 2 and {b["action"] for b in buttons} == {"details"}
        assert {b["sha"] for b in buttons} == set(world.repo.git("log", "--format=%H").split())

        # the details buttons, one in an "event" frame (Feishu's documented way), one in a
        # "card" frame (which lark-oapi itself drops): each answered with a toast within the
        # deadline, then the analysis as a reply to the card
        latencies: dict[str, float] = {}
        for n, (button, kind) in enumerate(zip(buttons, ("event", "card"), strict=True), start=1):
            action = feishu.card_action_event(button, message_id=card.message_id)
            pushed = await feishu.push_card_action(action, kind=kind)
            answer = await feishu.wait_ws_response(pushed)
            assert answer.code == 200 and answer.kind == kind
            latencies[kind] = answer.latency
            assert isinstance(answer.data, dict) and answer.data["toast"]["content"], answer.data
            details = await world.reply_to(card.message_id, count=n)
            assert button["sha"][:7] in text_of(details[-1])
        # a card action delivered twice: answered (no toast), no second reply
        replies = len(feishu.sent(CHAT))
        repeat = await feishu.wait_ws_response(await feishu.push_card_action(action))
        assert repeat.code == 200 and not (repeat.data or {}).get("toast")

        # A command sent after it is answered: a re-delivery handled wrongly would have replied
        # by then too (it was acked first), so the count shows it without waiting a fixed time.
        listing = feishu.message_event("/digest list", chat_id=CHAT)
        await feishu.push_event(listing)
        await world.reply_to(listing["event"]["message"]["message_id"])
        assert len(feishu.sent(CHAT)) == replies + 1
        over = {kind: round(t, 3) for kind, t in latencies.items() if t >= CARD_DEADLINE}
        if over:  # reported, not failed: wall time on a loaded machine is no product fact
            warnings.warn(
                f"card actions answered past Feishu's {CARD_DEADLINE} s: {over}", stacklevel=1
            )
        assert len([m for m in feishu.sent(CHAT) if m.parent_id == user_message]) == 1
        rows = (
            sqlite3.connect(world.tmp / "digest.db")
            .execute("SELECT platform, channel, repo FROM subscriptions")
            .fetchall()
        )
        assert rows == [("feishu", CHAT, "octo/demo")]
        assert feishu.ws_errors == []
        everything = json.dumps([m.content for m in feishu.sent(CHAT)], ensure_ascii=False)
        assert "<at id=all>" not in everything

        digest.proc.send_signal(signal.SIGTERM)
        code = await digest.finish(within=HANG)
    finally:
        await digest.kill()
    assert code == 0, digest.stderr
    await feishu.wait_ws_disconnected()
    assert feishu.ws_closed[-1] == (second, 1000)  # closed by the bot, cleanly
    said = digest.stdout + digest.stderr
    assert "Traceback" not in said and SECRET not in said, said


async def top_level_card(world: World) -> Message:
    def cards() -> list[Message]:
        sent = world.feishu.sent(CHAT)
        return [m for m in sent if m.msg_type == "interactive" and not m.parent_id]

    await world.feishu.wait_for(lambda: bool(cards()), what="the digest card")
    return cards()[0]


@pytest.mark.e2e  # `digest serve` start-up: 34 s under load
async def test_a_refused_app_secret_is_one_line_and_a_non_zero_exit(world: World) -> None:
    digest = await Digest.start(world.env(FEISHU_APP_SECRET="not-the-secret"), world.tmp)
    try:
        code = await digest.finish(within=HANG)
    finally:
        await digest.kill()
    assert code not in (0, None)
    errors = [line for line in digest.stderr.splitlines() if line.startswith("digest: error:")]
    assert len(errors) == 1 and "Feishu" in errors[0] and "10014" in errors[0], digest.stderr
    said = digest.stdout + digest.stderr
    assert "Traceback" not in said and "not-the-secret" not in said
    assert [c.code for c in world.feishu.calls_to("ws.endpoint")] == [10014]
    assert not world.feishu.calls_to("ws.connect")


@pytest.mark.e2e  # `digest serve` as a process: 29 s under load
async def test_the_http_callback_stays_beside_it_when_it_can_be_checked(world: World) -> None:
    feishu, port = world.feishu, free_port()
    assert feishu.encrypt_key is not None
    env = world.env(
        FEISHU_ENCRYPT_KEY=feishu.encrypt_key,
        FEISHU_VERIFICATION_TOKEN=feishu.verification_token,
        DIGEST_PORT=str(port),
    )
    digest = await Digest.start(env, world.tmp)
    try:
        ready = await digest.line_starting("digest serve:")
        assert "Feishu over the long connection" in ready and "/feishu/events" in ready
        await feishu.wait_ws_connected()
        body, headers = feishu.callback(feishu.url_verification("ch-1"))
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/feishu/events", data=body, headers=headers) as r,
        ):
            assert r.status == 200 and await r.json() == {"challenge": "ch-1"}
        digest.proc.send_signal(signal.SIGTERM)
        code = await digest.finish(within=HANG)
    finally:
        await digest.kill()
    assert code == 0, digest.stderr
