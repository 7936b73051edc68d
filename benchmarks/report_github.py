"""The 500-commit day of benchmarks/report_local.py, read through the fake GitHub.

Prints the HTTP requests made against the bound 1 + ceil(N/100) + N (repository, list pages,
one detail per commit) + P + L: each pull request its title names (`pulls/{n}`; this fake
has no data file, so each is a 404, counted and not fatal) and one `commits/{sha}/pulls`
look-up per analysed commit whose title names none; the wall time and the peak in flight.
Run: .venv/bin/python -m benchmarks.report_github
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic_repo import DAY, build
from tests.fakes.github import FakeGitHub

TOTAL, ON_DAY = 5_000, 500


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build(repo, total=TOTAL, day=DAY, on_day=ON_DAY)
        async with FakeGitHub() as gh:
            gh.add_repo("bench/big", repo)
            exe = str(Path(sys.executable).parent / "digest")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_"))}
            env["GITHUB_API_URL"] = gh.url
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                exe, "report", "bench/big", "--date", DAY.date().isoformat(), "--tz", "UTC",
                "--analyzer", "heuristic", "--format", "json", "-o", str(Path(tmp) / "r.json"),
                env=env, cwd=tmp,
            )  # fmt: skip
            code = await proc.wait()
            wall = time.perf_counter() - t0
            if code != 0:
                raise SystemExit(f"digest exited with {code}")
            n = ON_DAY
            lookups = gh.count(r"/commits/[0-9a-f]{40}/pulls$")
            pulls = gh.count(r"/pulls/\d+$")
            bound = 1 + math.ceil(n / 100) + n + pulls + lookups
            print(f"commits in the day: {n}")
            print(f"HTTP requests: {gh.count()} (bound {bound})")
            print(f"  repository: {gh.count(r'^/repos/bench/big$')}")
            print(f"  list pages: {gh.count(r'/commits$')}")
            print(f"  commit details: {gh.count(r'/commits/[0-9a-f]{40}$')}")
            print(f"  pull requests (P): {pulls}; look-ups by sha: {lookups}")
            print(f"peak requests in flight: {gh.peak_in_flight}")
            print(f"wall: {wall:.2f} s (fake server on loopback)")


if __name__ == "__main__":
    asyncio.run(run())
