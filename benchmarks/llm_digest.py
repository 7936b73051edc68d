"""One digest from GitHub end to end: 200 commits, GitHub latency 0.1 s, LLM latency 0.5 s, C = 8.

Side by side in one run, against the fake GitHub and the fake OpenAI endpoint (both with
latency, both in this process), each a whole `digest report owner/name` process:
  - fetch alone: the same digest with the heuristic analyzer;
  - the LLM digest: its wall against the bound 1.1 x max(fetch alone, ceil(N/C) x L) + 1 s;
  - overlap: when the first LLM request arrived against the first and last commit-detail answer;
  - calls: LLM requests of a first run (N analyses + the overview) and of a second (cached);
  - peak RSS of the `digest` process itself (VmHWM from /proc, sampled until it exits).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.synthetic_repo import DAY, build
from tests.fakes.github import FakeGitHub
from tests.fakes.openai import FakeOpenAI

N, GITHUB_LATENCY, LLM_LATENCY, CONCURRENCY = 200, 0.1, 0.5, 8
REPO, TOKEN = "bench/day", "ghp_" + "b" * 36
DETAIL = r"/commits/[0-9a-f]{40}$"
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


@dataclass(frozen=True)
class Run:
    wall: float
    peak_rss_mb: float  # the digest process's own VmHWM
    started: float  # time.monotonic() when it was started


def peak_rss(pid: int) -> float | None:
    """VmHWM of `pid` in MB: its own peak resident set, no child's."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_measured(cmd: list[str], env: dict[str, str], cwd: str, out: Path | None = None) -> Run:
    """Run `cmd` to its end (its stdout to `out`, when given): its wall and own peak RSS."""
    started = time.monotonic()
    with open(out or os.devnull, "w") as stdout:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout if out else None)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, peak_rss(proc.pid) or 0.0)
            time.sleep(0.02)
    if proc.returncode != 0:
        raise SystemExit(f"{Path(cmd[0]).name} exited with {proc.returncode}")
    return Run(time.monotonic() - started, peak, started)


async def digest(analyzer: str, env: dict[str, str], cwd: str) -> Run:
    """`digest report` in a thread, so the fakes keep serving on this loop."""
    exe = str(Path(sys.executable).parent / "digest")
    cmd = [exe, "report", REPO, "--date", DAY.date().isoformat(), "--tz", "UTC"]
    cmd += ["--analyzer", analyzer, "-o", str(Path(cwd) / f"{analyzer}.md")]
    return await asyncio.to_thread(run_measured, cmd, env, cwd)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build(repo, total=N + 50, day=DAY, on_day=N)
        async with (
            FakeGitHub(token=TOKEN, latency=GITHUB_LATENCY) as gh,
            FakeOpenAI(api_key=None, latency=LLM_LATENCY, responder=responder) as ai,
        ):
            gh.add_repo(REPO, repo)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("OPENAI_", "DIGEST_", "GITHUB_"))
            }
            env |= {
                "GITHUB_API_URL": gh.url,
                "GITHUB_TOKEN": TOKEN,
                "OPENAI_BASE_URL": ai.url,
                "OPENAI_API_KEY": "sk-bench",
                "DIGEST_LLM_CONCURRENCY": str(CONCURRENCY),
                "DIGEST_LLM_JSON_MODE": "json_schema",
                "DIGEST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/cache.db",
            }
            await digest("heuristic", env, tmp)  # warms the fake's git (its diffs are cached)
            fetch = await digest("heuristic", env, tmp)
            mark = len(gh.requests)
            llm = await digest("llm", env, tmp)
            details = [r for r in gh.requests[mark:] if r.method == "GET" and "/commits/" in r.path]
            first_run = list(ai.chat_requests)
            again = await digest("llm", env, tmp)
            second_calls = len(ai.chat_requests) - len(first_run)
    analyses = [r for r in first_run if "response_format" in r.body]
    first_detail = min(r.finished_at or math.inf for r in details) - llm.started
    last_detail = max(r.finished_at or 0.0 for r in details) - llm.started
    first_llm = min(r.received_at for r in analyses) - llm.started
    floor = math.ceil(len(analyses) / CONCURRENCY) * LLM_LATENCY
    bound = 1.1 * max(fetch.wall, floor) + 1.0
    print(
        f"commits: {N}; GitHub latency {GITHUB_LATENCY} s; LLM latency {LLM_LATENCY} s; "
        f"C {CONCURRENCY}"
    )
    print(f"fetch alone (heuristic digest, whole process): {fetch.wall:.2f} s")
    print(f"LLM analysis floor ceil({len(analyses)}/{CONCURRENCY}) x {LLM_LATENCY}: {floor:.2f} s")
    print(
        f"LLM digest, whole process: {llm.wall:.2f} s vs bound {bound:.2f} s "
        f"(1.1 x max + 1 s): ratio {llm.wall / bound:.3f}"
    )
    print(
        f"overlap: first commit detail answered at {first_detail:.2f} s, first LLM request "
        f"at {first_llm:.2f} s, last detail answered at {last_detail:.2f} s"
    )
    print(
        f"LLM calls: first run {len(first_run)} ({len(analyses)} analyses + overview), "
        f"second run {second_calls}; most in flight {ai.max_in_flight}"
    )
    print(
        f"GitHub commit requests of the LLM run: {len(details)}; peak in flight {gh.peak_in_flight}"
    )
    busy = sum((r.finished_at or 0.0) - r.received_at for r in analyses)
    span = max(r.finished_at or 0.0 for r in analyses) - min(r.received_at for r in analyses)
    print(
        f"analysis requests: first to last answer {span:.2f} s, "
        f"{busy / span:.1f} in flight on average"
    )
    print(
        f"peak RSS of the digest process (its own VmHWM): LLM {llm.peak_rss_mb:.0f} MB, "
        f"heuristic {fetch.peak_rss_mb:.0f} MB, cached re-run {again.peak_rss_mb:.0f} MB"
    )


if __name__ == "__main__":
    asyncio.run(main())
