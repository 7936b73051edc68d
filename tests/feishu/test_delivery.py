"""Feishu delivery across replicas: a message Feishu delivers again under a new event id is
answered once (de-duplicated on its message_id as its docs say, in the store every replica
shares); a post taken over after a crash re-sends what the store does not know with the same
uuid, and Feishu hands back the first message instead of posting twice.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.chat.replies import Services
from bot.delivery.parts import Part
from bot.delivery.scheduler import DigestScheduler
from bot.feishu.bot import FeishuBot, FeishuDeps
from bot.feishu.client import FeishuClient
from bot.feishu.poster import FeishuPoster
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import RunState, Target
from bot.web.app import make_web_app
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.git import GitSource
from tests.fakes.feishu import FakeFeishu
from tests.scheduling import LEASE, QUICK, Killed, at, kinds, sh, world

CHAT = "oc_digest_delivery"


@dataclass
class Replica:
    bot: FeishuBot
    url: str


@pytest.fixture
async def feishu() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu(app_id=f"cli_{uuid.uuid4().hex[:16]}", chats={CHAT: "digest"}) as fake:
        yield fake


def client_for(feishu: FakeFeishu) -> FeishuClient:
    return FeishuClient(
        feishu.app_id, feishu.app_secret, domain=feishu.url, sleep=lambda _s: asyncio.sleep(0)
    )


async def replicas(
    stack: AsyncExitStack, feishu: FakeFeishu, url: str, tmp_path: Path, count: int
) -> list[Replica]:
    made = []
    for _ in range(count):
        store = await Store.open(url)
        stack.push_async_callback(store.close)
        client = client_for(feishu)
        services = Services(
            settings=Settings(_env_file=None),
            store=store,
            open_source=lambda name: GitSource(tmp_path),
            analyzer=HeuristicAnalyzer(),
            clock=lambda: sh(5, 12),
        )
        bot = FeishuBot(FeishuDeps(services, client, FeishuPoster(client)))
        app = make_web_app(
            feishu=bot,
            feishu_encrypt_key=feishu.encrypt_key,
            feishu_verification_token=feishu.verification_token,
        )
        runner = web.AppRunner(app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        made.append(Replica(bot, f"http://{host}:{port}/feishu/events"))
    return made


async def deliver(feishu: FakeFeishu, replica: Replica, event: Mapping[str, Any]) -> int:
    body, headers = feishu.callback(event)
    async with (
        aiohttp.ClientSession() as session,
        session.post(replica.url, data=body, headers=headers) as response,
    ):
        return response.status


async def handled(*bots: Replica) -> None:
    """Every event the replicas accepted has been answered."""
    await asyncio.gather(*(t for r in bots for t in list(r.bot.deps.tasks)))


async def test_a_message_redelivered_under_a_new_event_id_is_answered_once(
    feishu: FakeFeishu, postgres_url: str, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        one, two = await replicas(stack, feishu, postgres_url, tmp_path, 2)
        event = feishu.message_event("/digest help", chat_id=CHAT)
        again = copy.deepcopy(event)
        again["header"]["event_id"] = uuid.uuid4().hex  # Feishu's re-delivery: a new event id
        statuses = await asyncio.gather(
            deliver(feishu, one, event), deliver(feishu, two, again), deliver(feishu, two, event)
        )
        assert list(statuses) == [200, 200, 200]  # Feishu is told "received" each time
        await handled(one, two)
        message_id = event["event"]["message"]["message_id"]
        answers = [m for m in feishu.sent(CHAT) if m.parent_id == message_id]
        assert len(answers) == 1

        # A new message (its own id) is answered, through either replica.
        other = feishu.message_event("/digest help", chat_id=CHAT)
        assert await deliver(feishu, two, other) == 200
        await handled(one, two)
        mid = other["event"]["message"]["message_id"]
        assert len([m for m in feishu.sent(CHAT) if m.parent_id == mid]) == 1


class DyingPoster(FeishuPoster):
    """Dies right after Feishu kept `part` and before the replica could record it."""

    def __init__(self, client: FeishuClient, part: str) -> None:
        super().__init__(client)
        self.die_after = part

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        message_id = await super().send(target, run_key, part, out)
        if part.name == self.die_after:
            raise Killed(f"{part.name} sent as {message_id}")
        return message_id


@pytest.mark.parametrize("dies_after", ["card-0", "file"])
async def test_a_post_taken_over_after_a_crash_is_not_posted_twice(
    feishu: FakeFeishu, tmp_path: Path, database_url: str, dies_after: str
) -> None:
    target = Target(platform="feishu", workspace="tenant", channel=CHAT)
    async with world(tmp_path, database_url, sh(4, 10)) as w:
        sub = await w.subscribe(target)
        for n in range(2):
            w.commit(f"feat: change {n}", sh(4, 11 + n))

        def scheduler(poster: FeishuPoster, replica: str) -> DigestScheduler:
            return DigestScheduler(
                w.store,
                w.open_source,
                HeuristicAnalyzer(),
                {"feishu": poster},
                clock=w.clock,
                replica=replica,
                lease=LEASE,
                backoff=QUICK,
            )

        with pytest.raises(Killed):
            await at(
                scheduler(DyingPoster(client_for(feishu), dies_after), "r1"), w.clock, sh(5, 9)
            )
        before = list(feishu.sent(CHAT))
        taken = scheduler(FeishuPoster(client_for(feishu)), "r2")
        outcomes = await at(taken, w.clock, sh(5, 9) + LEASE + timedelta(seconds=1))
        assert kinds(outcomes) == [("2026-02-05", "posted")]
        sent = feishu.sent(CHAT)
        cards = [m for m in sent if m.msg_type == "interactive" and not m.parent_id]
        files = [m for m in sent if m.msg_type == "file"]
        assert len(files) == 1 and len({m.uuid for m in sent}) == len(sent)
        assert [m.message_id for m in before] == [m.message_id for m in sent[: len(before)]]
        # The part the dead replica had sent was sent again and de-duplicated by Feishu.
        repeated = [c for c in feishu.calls if c.deduplicated]
        assert len(repeated) == 1
        (run,) = await w.store.runs(sub.id)
        assert (run.state, run.takeovers, run.failures) == (RunState.POSTED, 1, 0)
        assert run.message_ids[0] == cards[0].message_id
        assert set(await w.store.parts_of(run.id)) == {
            *(f"card-{n}" for n in range(len(cards))),
            "file",
        }
