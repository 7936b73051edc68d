"""Requests and wall time of a day's context (pull requests, reviews, fixed issues) on GitHub.

A real git repository of 120 squash-merged commits, each `(#n)` with its pull request, two
reviews and one fixed issue, and 3 merge-commit pull requests of 4 commits; the fake GitHub on
loopback serves them from a data file. Prints the requests of the first digest against the bound
1 + ceil(N/100) + N + P + R + I, the context requests of a second digest (the store's cache:
the target is 0), and both wall times. Run: .venv/bin/python -m benchmarks.context_requests
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from bot.store.database import Store
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import Digest
from digest.service import build_digest
from digest.sources.github import GitHubSource
from digest.window import day_window
from tests.fakes.github import FakeGitHub
from tests.gitrepo import GitRepo

SH = timezone(timedelta(hours=8))
TOKEN = "ghp_" + "B3nchContext" * 3
SQUASHED, MERGED, PER_MERGE = 120, 3, 4


def build(root: Path) -> tuple[GitRepo, Path]:
    repo = GitRepo.init(root / "src")
    repo.commit("chore: start", {"a.txt": "0\n"}, when=datetime(2026, 2, 4, 8, tzinfo=SH))
    start = datetime(2026, 2, 5, 0, 30, tzinfo=SH)
    pulls, issues = [], []
    for n in range(1, SQUASHED + 1):
        when = start + timedelta(minutes=5 * n)
        sha = repo.commit(f"fix: change {n} (#{n})", {f"src/m{n}.py": f"x = {n}\n"}, when=when)
        pulls.append({"number": n, "title": f"Change {n}", "body": f"Fixes #{1000 + n}",
                      "labels": ["bug"], "user": "alice", "merged_at": "2026-02-05T08:00:00Z",
                      "head_sha": sha, "commits": [sha],
                      "reviews": [{"user": "bob", "state": "APPROVED"},
                                  {"user": "carol", "state": "COMMENTED"}]})  # fmt: skip
        issues.append({"number": 1000 + n, "title": f"Issue {n}", "state": "closed"})
    for m in range(MERGED):
        number = 500 + m
        repo.checkout(f"topic{m}", create=True)
        shas = [
            repo.commit(f"part {i} of {number}", {f"t{m}/p{i}.py": f"y = {i}\n"},
                        when=datetime(2026, 2, 5, 20, 10 * m + i, tzinfo=SH))
            for i in range(PER_MERGE)
        ]  # fmt: skip
        repo.checkout("main")
        repo.merge(f"topic{m}", message=f"Merge pull request #{number} from o/topic{m}",
                   when=datetime(2026, 2, 5, 21, 10 * m, tzinfo=SH))  # fmt: skip
        pulls.append({"number": number, "title": f"Topic {m}", "body": "", "labels": [],
                      "merged_at": "2026-02-05T13:00:00Z", "head_sha": shas[-1],
                      "commits": shas, "reviews": []})  # fmt: skip
    data = root / "src.github.json"
    data.write_text(json.dumps({"pulls": pulls, "issues": issues}))
    return repo, data


async def one(gh: FakeGitHub, store: Store) -> tuple[Digest, float]:
    started = time.perf_counter()
    async with GitHubSource("octo/demo", api_url=gh.url, token=TOKEN, context_cache=store) as src:
        digest = await build_digest(
            src,
            HeuristicAnalyzer(),
            window=day_window(date(2026, 2, 5), "Asia/Shanghai"),
            language="en",
            now=lambda: datetime(2026, 2, 6, tzinfo=UTC),
        )
    return digest, time.perf_counter() - started


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo, data = build(Path(tmp))
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        try:
            async with FakeGitHub(token=TOKEN) as gh:
                gh.add_repo("octo/demo", repo.path, context_file=data)
                first, t1 = await one(gh, store)
                requests = gh.count()
                context = gh.count(r"/pulls|/issues/")
                _, t2 = await one(gh, store)
                again = gh.count(r"/pulls|/issues/") - context
        finally:
            await store.close()
    n = first.stats.total
    p = SQUASHED + MERGED
    bound = 1 + math.ceil(n / 100) + n + p + p + SQUASHED
    print(f"commits N={n}, pull requests P={p}, review lists R={p}, issues I={SQUASHED}")
    print(f"first digest: {requests} requests ({context} for context), bound {bound}, "
          f"ratio {requests / bound:.2f}; {t1:.2f} s")  # fmt: skip
    print(f"second digest: {again} context requests (target 0); {t2:.2f} s")
    print(f"stories of several commits: {len(first.stories)}; failures: {first.context_failures}")


if __name__ == "__main__":
    asyncio.run(main())
