"""One LLM call per commit however many channels follow the repository, on one or two replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.store.records import Target
from digest.analysis.cache import CachedAnalyzer
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from tests.fakes.openai import FakeOpenAI
from tests.library.test_llm import answer_json
from tests.scheduling import sh, world

CHANNELS = [Target(platform="slack", workspace="T1", channel=f"C{i}") for i in range(5)]


async def test_five_channels_two_replicas_one_call_per_commit(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        world(tmp_path, database_url, sh(4, 8)) as w,
        FakeOpenAI(api_key=None, responder=lambda body: answer_json(), latency=0.05) as fake,
    ):
        for target in CHANNELS:
            await w.subscribe(target)
        shas = {w.commit(f"feat: change {i}", sh(4, 10 + i)) for i in range(4)}
        config = LLMConfig(model="gpt-4o-mini", api_key="k", base_url=fake.url)
        llms = [LLMAnalyzer(config) for _ in range(2)]
        other = await w.other_store()
        replicas = [
            w.scheduler(replica="r1", analyzer=CachedAnalyzer(llms[0], w.store, poll=0.02)),
            w.scheduler(
                store=other, replica="r2", analyzer=CachedAnalyzer(llms[1], other, poll=0.02)
            ),
        ]
        w.clock.now = sh(5, 9)
        await asyncio.gather(*(r.run_once(sh(5, 9)) for r in replicas))
        for llm in llms:
            await llm.aclose()
        assert len(w.poster.sent) == 5
        assert all(p.shas == shas for p in w.poster.sent)
        analysed = [
            r.body["messages"][1]["content"]
            for r in fake.chat_requests
            if "response_format" in r.body
        ]
        assert len(analysed) == len(shas)  # one call per commit, not one per channel
        assert all(sum(sha in text for text in analysed) == 1 for sha in shas)


async def test_five_channels_on_one_replica_share_one_overview_call(
    tmp_path: Path, database_url: str
) -> None:
    """The five digests of one repository's day ask for its overview at once: one call."""
    async with (
        world(tmp_path, database_url, sh(4, 8)) as w,
        FakeOpenAI(api_key=None, responder=overview_or_answer, latency=0.05) as fake,
    ):
        for target in CHANNELS:
            await w.subscribe(target)
        for i in range(3):
            w.commit(f"feat: change {i}", sh(4, 10 + i))
        llm = LLMAnalyzer(LLMConfig(model="gpt-4o-mini", api_key="k", base_url=fake.url))
        scheduler = w.scheduler(replica="r1", analyzer=CachedAnalyzer(llm, w.store, poll=0.02))
        w.clock.now = sh(5, 9)
        await scheduler.run_once(sh(5, 9))
        await llm.aclose()
    assert len(w.poster.sent) == 5
    overviews = [r for r in fake.chat_requests if "response_format" not in r.body]
    assert len(overviews) == 1
    assert len(fake.chat_requests) == 3 + 1


def overview_or_answer(body: dict[str, object]) -> str:
    return answer_json() if "response_format" in body else "The day in two sentences."
