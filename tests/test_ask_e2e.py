"""`ask` end to end: the CLI, Slack and Feishu against the fake OpenAI, GitHub and chat servers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.store.database import Store
from digest.analysis.ask import QUESTION_START, Asker
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from tests.fakes.openai import FakeOpenAI
from tests.feishu.test_bot import World as FeishuWorld
from tests.feishu.test_bot import world as feishu_world  # noqa: F401  (a fixture)
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json
from tests.slack.test_app import World as SlackWorld
from tests.slack.test_app import world as slack_world  # noqa: F401  (a fixture)

SH = timezone(timedelta(hours=8))
ANSWER = "No: the default timeout stays 30 s; src/net.py only renames TIMEOUT_S."


def responder(body: dict[str, Any]) -> str:
    return answer_json() if "response_format" in body else ANSWER


async def digest(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env}, cwd=cwd,
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.e2e  # three `digest` processes: 40 s under load
async def test_cli_ask_answers_from_the_diff_and_caches_the_answer(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    sha = repo.commit(
        "refactor: rename TIMEOUT to TIMEOUT_S",
        {"src/net.py": "TIMEOUT_S = 30\n"},
        when=datetime(2026, 2, 5, 9, tzinfo=SH),
    )
    async with FakeOpenAI(api_key=None, responder=responder) as fake:
        env = {
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "sk-ask-" + "x" * 20,
            "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.db",
        }
        question = ["Does", "this", "change", "the", "default", "timeout?"]
        code, out, err = await digest("ask", str(repo.path), sha[:8], *question, env=env,
                                      cwd=tmp_path)  # fmt: skip
        assert code == 0, err
        assert ANSWER in out and "> Does this change the default timeout?" in out
        asks = [r for r in fake.chat_requests if "response_format" not in r.body]
        (request,) = asks
        user = request.body["messages"][1]["content"]
        assert QUESTION_START in user and "src/net.py" in user
        code, out, _ = await digest("ask", str(repo.path), sha[:8], "does THIS change the",
                                    "default   timeout?", env=env, cwd=tmp_path)  # fmt: skip
        assert code == 0 and ANSWER in out
        assert len([r for r in fake.chat_requests if "response_format" not in r.body]) == 1

    code, out, err = await digest("ask", str(repo.path), sha[:8], "why?", env={}, cwd=tmp_path)
    assert code == 2 and "Questions need an LLM endpoint: set OPENAI_API_KEY" in err
    code, out, err = await digest("ask", str(repo.path), sha[:8], "x" * 501, env={}, cwd=tmp_path)
    assert code == 2 and "at most 500" in err


async def _asker(url: str, store: Store) -> tuple[Asker, LLMAnalyzer]:
    llm = LLMAnalyzer(LLMConfig(model="gpt-4o-mini", api_key="k", base_url=url))
    return Asker(llm, store), llm


async def test_slack_answers_in_the_channel_with_the_question_quoted(
    slack_world: SlackWorld,  # noqa: F811
) -> None:
    world = slack_world
    status, _, _ = await world.command("ask abc1234 why?")  # no LLM configured here
    assert status == 200
    await world.settle(1)
    assert "Questions need an LLM endpoint" in json.dumps(world.slack.responses[0].blocks)
    async with FakeOpenAI(api_key=None, responder=responder) as fake:
        asker, llm = await _asker(fake.url, world.store)
        world.deps.services.asker = asker
        await world.command("subscribe octo/demo")
        await world.settle(2)
        sha = world.repo.git("rev-parse", "HEAD")
        status, ack, _ = await world.command(f"ask {sha[:9]} <!channel> does it change timeouts?")
        assert "answer your question" in ack
        await world.settle(3)
        reply = world.slack.responses[2]
        shown = json.dumps(reply.blocks, ensure_ascii=False)
        assert reply.response_type == "in_channel"
        assert "does it change timeouts?" in shown and "default timeout stays 30" in shown
        assert "<!channel>" not in shown  # the quoted question is inert
        await llm.aclose()


async def test_feishu_answers_as_a_reply_to_the_question(
    feishu_world: FeishuWorld,  # noqa: F811
) -> None:
    world = feishu_world
    async with FakeOpenAI(api_key=None, responder=responder) as fake:
        asker, llm = await _asker(fake.url, world.store)
        world.deps.services.asker = asker
        await world.say("/digest subscribe octo/demo")
        await world.settle(1)
        sha = world.repo.git("rev-parse", "HEAD")
        await world.say(f"/digest ask {sha[:9]} 这个改动会影响默认超时吗？")
        sent = await world.settle(2)
        answer = sent[-1]
        assert answer.parent_id is not None  # a reply to the user's question
        shown = json.dumps(answer.card, ensure_ascii=False)
        assert "default timeout stays 30" in shown and "影响默认超时" in shown
        await world.say("/digest ask " + sha[:9] + " " + "why " * 130)
        sent = await world.settle(3)
        assert "at most 500" in json.dumps(sent[-1].card)
        await llm.aclose()
