"""Every provider profile of the fake (tests/fakes/providers.py), one 40-commit day each, through
the LLM analyzer at concurrency 8 with 0.5 s latency: what the provider's quirks cost.

Prints, per provider: requests per commit against the bound 1 + (documented detours) / 40, the
analysis wall time against the lower bound (first call alone, then ceil(39 / 8) waves, plus one
wave per answered detour of the first call), and the requests an empty account costs (bound: 1).
Run: .venv/bin/python -m benchmarks.llm_providers
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

from digest.analysis.endpoint import parse_endpoint
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.models import AnalysisStatus, Commit, FileChange, FileStatus
from digest.service import analyse_all
from tests.fakes.openai import FakeOpenAI
from tests.fakes.providers import PROFILES, Profile
from tests.library.test_llm import answer_json

N, LATENCY, CONCURRENCY, KEY = 40, 0.5, 8, "sk-bench-" + "b" * 20
# The settings the README's matrix gives, where a row needs more than the URL and the model.
OPTIONS: dict[str, dict[str, Any]] = {
    "Qwen3 thinking models (DashScope)": {"extra_body": {"enable_thinking": False}},
    "Azure OpenAI reasoning deployment (classic URL)": {"api_version": "2025-04-01-preview"},
}


def commits() -> list[Commit]:
    when = datetime(2026, 2, 5, 8, tzinfo=UTC)
    patch = "@@ -0,0 +1,2 @@\n+def export():\n+    return 1\n"
    files = (
        FileChange(path="src/api/export.py", status=FileStatus.ADDED, additions=2, patch=patch),
    )
    return [
        Commit(
            repo="octo/demo",
            sha=f"{n:040x}",
            author_name="A",
            authored_at=when,
            committed_at=when,
            message=f"feat: change {n}",
            files=files,
        )
        for n in range(1, N + 1)
    ]


def detours(profile: Profile, url: str) -> tuple[int, int]:
    """The extra requests the first call documents, and how many of them are answered (a cut-off
    thought, a blank answer) rather than refused at once (max_tokens, where the endpoint is not
    known to want max_completion_tokens)."""
    starts = parse_endpoint(url).default_token_param()
    refused = 1 if profile.max_tokens_refused is not None and starts == "max_tokens" else 0
    thinks = profile.thinks(OPTIONS.get(profile.name, {}).get("extra_body", {}))
    answered = (1 if thinks and profile.thinking_tokens > 1_800 else 0) + profile.blank_json_answers
    return refused + answered, answered


async def one(profile: Profile) -> tuple[int, float, float, int, int]:
    model = profile.deployment or "m"
    async with FakeOpenAI(
        api_key=KEY,
        models=None,
        profile=profile,
        latency=LATENCY,
        responder=lambda _: answer_json(),
    ) as fake:
        config = LLMConfig(model, KEY, base_url=fake.url, **OPTIONS.get(profile.name, {}))
        llm = LLMAnalyzer(config)
        started = time.perf_counter()
        results = await analyse_all(llm, commits(), "en", concurrency=CONCURRENCY)
        wall = time.perf_counter() - started
        await llm.aclose()
        assert all(r.status == AnalysisStatus.OK for r in results), profile.name
        requests = len(fake.chat_requests)
        fake.out_of_credit = True
        empty = LLMAnalyzer(config)
        await analyse_all(empty, commits(), "en", concurrency=CONCURRENCY)
        await empty.aclose()
        credit = len(fake.chat_requests) - requests
    extra, answered = detours(profile, fake.url)
    waves = 1 + answered + math.ceil((N - 1) / CONCURRENCY)
    return requests, wall, waves * LATENCY, credit, extra


async def main() -> None:
    print(
        f"{'provider':48} {'req/commit':>10} {'bound':>6} {'wall s':>7} {'bound s':>7} "
        f"{'ratio':>6} {'no credit':>9}"
    )
    for name, profile in PROFILES.items():
        requests, wall, bound, credit, extra = await one(profile)
        print(
            f"{name:48} {requests / N:10.3f} {1 + extra / N:6.3f} {wall:7.2f} "
            f"{bound:7.2f} {wall / bound:6.2f} {credit:6d} (1)"
        )


if __name__ == "__main__":
    asyncio.run(main())
