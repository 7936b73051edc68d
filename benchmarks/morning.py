"""The morning: 100 subscriptions over 40 repositories due at 09:00, 1,500 distinct commits.

One bot process (benchmarks/morning_bot.py, wired as `digest serve`) runs every due digest at
once against the fake GitHub (latency 0.1 s), the fake OpenAI endpoint (latency 0.5 s,
DIGEST_LLM_CONCURRENCY=32) and a fake chat platform; DIGEST_MAX_CLAIMS=100 (one replica holds
the whole morning). Side by side in one run:
  - fetch: the same morning with the heuristic analyzer (everything but the LLM);
  - the LLM morning: all posted within 1.15 x (ceil(1500/32) x 0.5 s + fetch);
  - LLM analyses = distinct analysable commits (the overview is one call per repository's day);
  - commit details fetched once each however many channels follow the repository;
  - peak RSS of the bot process itself (VmHWM, sampled until it exits): target < 400 MB.
Run: .venv/bin/python -m benchmarks.morning
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.llm_digest import ANSWER, Run, run_measured
from benchmarks.synthetic_repo import build
from tests.fakes.chat import FakeChat
from tests.fakes.github import FakeGitHub
from tests.fakes.openai import FakeOpenAI

SUBSCRIPTIONS, REPOSITORIES, COMMITS = 100, 40, 1_500
GITHUB_LATENCY, LLM_LATENCY, CONCURRENCY = 0.1, 0.5, 32
# Subscribed at 08:00, due at 09:00 the same day: the first digest covers the 24 hours since
# 09:00 the day before, when the commits landed.
CREATED = datetime(2026, 2, 6, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 2, 6, 9, 0, 30, tzinfo=UTC)
DAY = datetime(2026, 2, 5, 9, 1, tzinfo=UTC)  # commits from here, over 23.9 hours
TOKEN = "ghp_" + "m" * 36
DETAIL = r"/commits/[0-9a-f]{40}$"
ROOT = str(Path(__file__).resolve().parent.parent)


def responder(body: dict[str, object]) -> str:
    return ANSWER if "response_format" in body else "Overview sentence one. Sentence two."


async def morning(
    env: dict[str, str], tmp: str, chat: FakeChat, github: FakeGitHub, name: str
) -> tuple[Run, dict[str, object]]:
    env = env | {"DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/{name}.db"}
    subs = [[f"C{i}", f"org/repo{i % REPOSITORIES}"] for i in range(SUBSCRIPTIONS)]
    path = Path(tmp) / "subs.json"
    path.write_text(json.dumps(subs))
    cwd = ROOT
    subscribe = [sys.executable, "-m", "benchmarks.morning_bot", "--subscribe", str(path)]
    await asyncio.to_thread(run_measured, [*subscribe, "--now", CREATED.isoformat()], env, cwd)
    out = Path(tmp) / f"{name}.out"
    github.new_window()  # each morning in an hour of its own
    args = [sys.executable, "-m", "benchmarks.morning_bot", "--now", NOW.isoformat()]
    measured = await asyncio.to_thread(run_measured, [*args, "--chat", chat.url], env, cwd, out)
    return measured, json.loads(out.read_text().strip().splitlines()[-1])


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        per_repo = [COMMITS // REPOSITORIES + (i < COMMITS % REPOSITORIES) for i in range(40)]
        for i, count in enumerate(per_repo):
            build(Path(tmp) / f"repo{i}", total=count + 5, day=DAY, on_day=count, seed=i)
        async with (
            FakeGitHub(token=TOKEN, latency=GITHUB_LATENCY) as gh,
            FakeOpenAI(api_key=None, latency=LLM_LATENCY, responder=responder) as ai,
            FakeChat() as chat,
        ):
            for i in range(REPOSITORIES):
                gh.add_repo(f"org/repo{i}", Path(tmp) / f"repo{i}")
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("OPENAI_", "DIGEST_", "GITHUB_", "SLACK_", "FEISHU_"))
            }
            env |= {
                "GITHUB_API_URL": gh.url,
                "GITHUB_TOKEN": TOKEN,
                "DIGEST_MAX_CLAIMS": str(SUBSCRIPTIONS),
                "DIGEST_LLM_CONCURRENCY": str(CONCURRENCY),
                "DIGEST_LLM_JSON_MODE": "json_schema",
                "DIGEST_LOG_LEVEL": "warning",
            }
            await morning(env, tmp, chat, gh, "warm")  # the fake computes each diff once: warm it
            mark = len(gh.requests)
            fetch, fetch_summary = await morning(env, tmp, chat, gh, "heuristic")
            fetch_details = gh.count(DETAIL) - sum(
                1 for r in gh.requests[:mark] if re.search(DETAIL, r.path)
            )
            llm_env = env | {"OPENAI_BASE_URL": ai.url, "OPENAI_API_KEY": "sk-bench"}
            mark = len(gh.requests)
            not_modified = gh.not_modified
            posts_before = len(chat.mains())
            llm, summary = await morning(llm_env, tmp, chat, gh, "llm")
            requests = gh.requests[mark:]
            posted = len(chat.mains()) - posts_before
    analyses = [r for r in ai.chat_requests if "response_format" in r.body]
    details = sum(1 for r in requests if re.search(DETAIL, r.path))
    floor = math.ceil(COMMITS / CONCURRENCY) * LLM_LATENCY
    bound = 1.15 * (floor + fetch.wall)
    print(
        f"{SUBSCRIPTIONS} subscriptions over {REPOSITORIES} repositories, {COMMITS} distinct "
        f"commits; GitHub latency {GITHUB_LATENCY} s, LLM latency {LLM_LATENCY} s, "
        f"C {CONCURRENCY}"
    )
    print(f"fetch (the heuristic morning, whole process): {fetch.wall:.2f} s; {fetch_summary}")
    print(
        f"LLM morning, whole process: {llm.wall:.2f} s vs bound {bound:.2f} s "
        f"(1.15 x ({floor:.1f} s + fetch)): ratio {llm.wall / bound:.3f}"
    )
    print(f"  {summary}")
    print(f"posts (main messages) of the LLM morning: {posted} of {SUBSCRIPTIONS}")
    print(
        f"LLM analyses: {len(analyses)} for {COMMITS} distinct analysable commits; "
        f"overviews {len(ai.chat_requests) - len(analyses)}; most in flight {ai.max_in_flight}"
    )
    print(
        f"GitHub: {details} commit details (heuristic morning {fetch_details}), "
        f"{len(requests)} requests, {gh.not_modified - not_modified} answered 304; "
        f"peak in flight {gh.peak_in_flight}"
    )
    print(f"peak RSS of the bot process (VmHWM): {llm.peak_rss_mb:.0f} MB (target < 400 MB)")


if __name__ == "__main__":
    asyncio.run(main())
