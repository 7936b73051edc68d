"""`digest report` with an LLM, as a user runs it: the console script against the fake endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.fakes.openai import FakeOpenAI, Fault
from tests.fakes.providers import DEEPSEEK, DEEPSEEK_REASONER
from tests.gitrepo import GitRepo
from tests.library.test_llm import answer_json

SH = timezone(timedelta(hours=8))
KEY = "sk-cli-" + "q" * 30


async def digest(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    exe = str(Path(sys.executable).parent / "digest")
    proc = await asyncio.create_subprocess_exec(
        exe, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env}, cwd=cwd,
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def build(tmp_path: Path, n: int = 12) -> GitRepo:
    repo = GitRepo.init(tmp_path / "proj")
    start = datetime(2026, 2, 5, 9, 0, tzinfo=SH)
    for i in range(n):
        repo.commit(
            f"feat: change number {i}",
            {f"src/mod{i}.py": f"value = {i}\n"},
            when=start + timedelta(minutes=7 * i),
        )
    repo.commit("chore: lock", {"package-lock.json": "{}\n"}, when=start + timedelta(hours=4))
    return repo


def responder(body: dict[str, Any]) -> str:
    if "response_format" not in body:  # the day overview: plain text
        return "今天主要是一系列小功能。没有破坏性变更。"
    return answer_json()


def env_for(fake: FakeOpenAI, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": fake.url,
        "OPENAI_API_KEY": KEY,
        "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cache.db",
        "DIGEST_LLM_JSON_MODE": "json_schema",
        **extra,
    }


async def test_second_run_makes_no_call_and_the_report_names_the_model(tmp_path: Path) -> None:
    repo = build(tmp_path)
    async with FakeOpenAI(api_key=KEY, responder=responder) as fake:
        env = env_for(fake, tmp_path)
        args = ["report", str(repo.path), "--date", "2026-02-05", "--tz", "Asia/Shanghai"]
        code, first, err = await digest(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        calls = len(fake.chat_requests)
        assert calls == 12 + 1  # one per commit (the lockfile-only one is folded), one overview
        assert "llm:gpt-4o-mini" in first
        assert "今天主要是一系列小功能" in first
        assert "digest: analyzer llm:gpt-4o-mini · 13 calls · " in err
        tokens_in = sum(r.body and _prompt_tokens(r.body) for r in fake.chat_requests)
        assert f"{tokens_in} tokens in" in err  # the figures are the endpoint's own usage

        code, second, err = await digest(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        assert len(fake.chat_requests) == calls  # nothing new
        assert "0 calls · 0 tokens in, 0 out · 12 from cache" in err
        assert second == first
        assert KEY not in first + err and fake.url not in first


async def test_failures_and_429s_are_counted_and_match_the_fake(tmp_path: Path) -> None:
    repo = build(tmp_path, n=30)
    faults = {Fault.server_error(): 0.3, Fault.rate_limit(0.05): 0.1}
    async with FakeOpenAI(api_key=KEY, responder=responder, random_faults=faults, seed=3) as fake:
        env = env_for(fake, tmp_path)
        code, out, err = await digest(
            "report", str(repo.path), "--date", "2026-02-05", "--format", "json",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        data = json.loads(out)
        entries = data["entries"]
        ok = [e for e in entries if e["status"] == "ok"]
        fallback = [e for e in entries if e["status"] == "fallback"]
        assert len(ok) + len(fallback) == 30
        assert data["stats"]["fallback"] == len(fallback)
        assert all(e["analysis"] is not None for e in entries)  # the heuristic stands in
        served = [r for r in fake.chat_requests if r.status == 200 and "response_format" in r.body]
        assert len(served) == len(ok)  # every analysis published came from one served answer
        assert sum(e["tokens_in"] for e in ok) == sum(_prompt_tokens(r.body) for r in served)

        assert fallback  # with this seed some analyses fail: the test means something

        # The next run retries exactly the failed analyses; the others come from the cache.
        fake.random_faults = {}
        before = len(fake.chat_requests)
        code, md, err = await digest(
            "report", str(repo.path), "--date", "2026-02-05", env=env, cwd=tmp_path
        )
        assert code == 0, err
        retried = [r for r in fake.chat_requests[before:] if "response_format" in r.body]
        assert len(retried) == len(fallback)
        assert f"{len(ok)} from cache" in err
        assert "由启发式分析器代写" not in md
        assert re.search(r"本日共 31 个提交 \| 🔴高 \d+ \| 🟡中 \d+ \| 🟢低 \d+ \| ⚠️分析失败 0", md)


def _prompt_tokens(body: dict[str, Any]) -> int:
    text = "".join(str(m.get("content", "")) for m in body["messages"])
    return len(text) // 4


async def test_a_wrong_key_still_writes_the_report_and_names_the_setting(tmp_path: Path) -> None:
    repo = build(tmp_path, n=3)
    async with FakeOpenAI(api_key=KEY, responder=responder) as fake:
        env = env_for(fake, tmp_path, OPENAI_API_KEY="sk-wrong-" + "z" * 20)
        code, out, err = await digest(
            "report", str(repo.path), "--date", "2026-02-05", env=env, cwd=tmp_path
        )
        assert code == 0
        assert "每日更新报告（2026-02-05）" in out
        assert "OPENAI_API_KEY" in err
        assert "sk-wrong" not in out + err
        # Only the first wave (sent before the first refusal came back) reached the endpoint.
        assert len(fake.chat_requests) <= 3
        assert all(r.status == 401 for r in fake.chat_requests)


async def test_llm_without_an_endpoint_is_a_usage_error(tmp_path: Path) -> None:
    repo = build(tmp_path, n=1)
    code, out, err = await digest(
        "report", str(repo.path), "--analyzer", "llm", env={}, cwd=tmp_path
    )
    assert code == 2
    assert "OPENAI_API_KEY" in err and out == ""


async def test_out_of_credit_stops_at_once_and_says_so(tmp_path: Path) -> None:
    repo = build(tmp_path, n=12)
    async with FakeOpenAI(api_key=KEY, models=None, profile=DEEPSEEK, responder=responder) as fake:
        fake.out_of_credit = True
        env = env_for(fake, tmp_path, DIGEST_LLM_JSON_MODE="auto", DIGEST_LLM_MODEL="deepseek-chat")
        code, out, err = await digest(
            "report", str(repo.path), "--date", "2026-02-05", env=env, cwd=tmp_path
        )
    assert code == 0, err
    assert "每日更新报告（2026-02-05）" in out and "其中 12 个由启发式分析器代写" in out
    assert len(fake.chat_requests) == 1  # not one per commit, not the SDK's retries
    assert "LLM calls stopped: out of credit at 127.0.0.1 (“Insufficient Balance”)" in err
    assert "5xx" not in err and KEY not in out + err


async def test_a_reasoner_through_the_cli_learns_once_for_every_later_run(tmp_path: Path) -> None:
    repo = build(tmp_path, n=3)

    def think_and_answer(body: dict[str, Any]) -> str:
        if "JSON object" in str(body["messages"][0]["content"]):
            return answer_json()
        if "daily digest" in str(body["messages"][0]["content"]):
            return "今天主要是一系列小功能。没有破坏性变更。"
        return "The value is now 1, set in src/mod1.py."

    async with FakeOpenAI(
        api_key=KEY, models=None, profile=DEEPSEEK_REASONER, responder=think_and_answer
    ) as fake:
        env = env_for(
            fake, tmp_path, DIGEST_LLM_JSON_MODE="auto", DIGEST_LLM_MODEL="deepseek-reasoner"
        )
        args = ["report", str(repo.path), "--date", "2026-02-05", "--format", "json"]
        code, out, err = await digest(*args, env=env, cwd=tmp_path)
        assert code == 0, err
        data = json.loads(out)
        assert {e["status"] for e in data["entries"]} == {"ok"}
        assert data["overview"] == "今天主要是一系列小功能。没有破坏性变更。"
        limits = [r.body["max_tokens"] for r in fake.chat_requests]
        assert limits == [2000, 16000, 16000, 16000, 16000]  # cut off once, then room
        served = fake.completion_tokens_served
        assert f"{served} out" in err  # the thinking is counted, the cut-off attempt too
        sha = data["entries"][0]["commit"]["sha"]
        before = len(fake.chat_requests)
        code, answer, err = await digest(
            "ask",
            str(repo.path),
            sha,
            "Does",
            "it",
            "change",
            "the",
            "value?",
            env=env,
            cwd=tmp_path,
        )
        assert code == 0, err
        assert answer.strip().endswith("The value is now 1, set in src/mod1.py.")
        # Another process: the analysis is cached and the limit was learnt from the store.
        assert [r.body["max_tokens"] for r in fake.chat_requests[before:]] == [16000]
    assert "let me look" not in out + answer


async def test_a_github_report_with_the_llm_loaded_while_github_answers(tmp_path: Path) -> None:
    """The LLM analyzer is made while GitHub is asked: a day's commits are analysed by it all
    the same, and a day without commits still names it, with no call."""
    from tests.fakes.github import FakeGitHub

    repo = build(tmp_path, n=3)
    token = "ghp_" + "L" * 36
    async with FakeGitHub(token=token) as gh, FakeOpenAI(api_key=KEY, responder=responder) as fake:
        gh.add_repo("octo/proj", repo.path)
        env = env_for(fake, tmp_path, GITHUB_API_URL=gh.url, GITHUB_TOKEN=token)
        for day, calls in (("2026-02-05", 4), ("2026-02-07", 0)):
            args = ("report", "octo/proj", "--date", day, "--tz", "Asia/Shanghai")
            code, out, err = await digest(*args, "--analyzer", "llm", env=env, cwd=tmp_path)
            assert code == 0, err
            assert f"analyzer llm:gpt-4o-mini · {calls} calls" in err
        assert len(fake.chat_requests) == 4  # three analyses and the overview
        assert "octo/proj" in out
