"""A 200-commit day analysed through the fake OpenAI endpoint: 0.5 s latency, concurrency 8.

Prints the analysis wall time against the lower bound ceil(200/8) x 0.5 s, the LLM calls of a
first and a second run, the prompt size of a commit with a 100 MB diff against the budget, and
the peak RSS of the `digest` process.
Run: .venv/bin/python -m benchmarks.llm_digest
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.synthetic_repo import DAY, build
from digest.analysis.prompt import estimate_tokens
from tests.fakes.openai import FakeOpenAI

N, LATENCY, CONCURRENCY, BUDGET = 200, 0.5, 8, 24_000
ANSWER = json.dumps(
    {
        "change_types": ["feature"],
        "importance": "medium",
        "importance_reason": "r",
        "breaking_change": False,
        "security_relevant": False,
        "summary": "s",
        "affected_areas": [],
        "insights": {
            "architecture": None,
            "performance": None,
            "security": None,
            "maintainability": None,
        },
        "risks": [],
        "recommendations": [],
        "confidence": "medium",
    }
)


def responder(body: dict[str, Any]) -> str:
    return ANSWER if "response_format" in body else "Overview sentence one. Sentence two."


def add_huge_commit(repo: Path) -> None:
    """One more commit on the day whose diff is a 100 MB file."""
    big = repo / "src" / "huge_table.py"
    big.parent.mkdir(parents=True, exist_ok=True)
    line = "VALUE_%08d = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz'\n"
    with big.open("w") as handle:
        for i in range(1_250_000):  # ~100 MB
            handle.write(line % i)
    stamp = f"{int(DAY.timestamp()) + 86_300} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=B", "-c", "user.email=b@x", "commit", "-qm", "feat: huge table"],
        cwd=repo,
        check=True,
        env=env,
    )


def _run_and_measure(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("digest failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


async def run_digest(repo: Path, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Run `digest report` in a thread, so the fake keeps serving on this loop."""
    exe = str(Path(sys.executable).parent / "digest")
    cmd = [exe, "report", str(repo), "--date", DAY.date().isoformat(), "--tz", "UTC"]
    cmd += ["-o", str(Path(cwd) / "r.md")]
    return await asyncio.to_thread(_run_and_measure, cmd, env, cwd)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build(repo, total=N, day=DAY, on_day=N - 1)
        add_huge_commit(repo)
        async with FakeOpenAI(api_key=None, latency=LATENCY, responder=responder) as fake:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DIGEST_"))}
            env |= {
                "OPENAI_BASE_URL": fake.url,
                "OPENAI_API_KEY": "sk-bench",
                "DIGEST_LLM_CONCURRENCY": str(CONCURRENCY),
                "DIGEST_LLM_JSON_MODE": "json_schema",
                "DIGEST_LLM_MAX_PROMPT_TOKENS": str(BUDGET),
                "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/cache.db",
            }
            wall, rss = await run_digest(repo, env, tmp)
            analyses = [r for r in fake.chat_requests if "response_format" in r.body]
            first = len(fake.chat_requests)
            span = max(r.finished_at or 0 for r in analyses) - min(r.received_at for r in analyses)
            bound = math.ceil(len(analyses) / CONCURRENCY) * LATENCY
            huge = next(r for r in analyses if "huge_table.py" in r.body["messages"][1]["content"])
            huge_tokens = estimate_tokens(huge.body["messages"][1]["content"])
            await run_digest(repo, env, tmp)
            second = len(fake.chat_requests) - first
        print(f"commits analysed: {len(analyses)}; most in flight: {fake.max_in_flight}")
        print(
            f"analysis wall: {span:.2f} s vs lower bound {bound:.2f} s: ratio {span / bound:.3f} "
            "(target <= 1.15)"
        )
        print(f"whole command, first run: {wall:.2f} s (process start, git, render included)")
        print(
            f"LLM calls: first run {first} ({len(analyses)} analyses + overview), second {second}"
        )
        print(f"prompt for the 100 MB-diff commit: ~{huge_tokens} tokens (budget {BUDGET})")
        print(f"peak RSS of digest: {rss:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    asyncio.run(main())
