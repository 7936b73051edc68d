"""Pull requests, reviews and linked issues through PyGithub against the fake GitHub, which
serves them from a data file beside a real git repository; the context cache in a real store."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.store.database import Store
from digest.analysis.base import Analyzer
from digest.analysis.cache import CachedAnalyzer
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.analysis.llm import LLMAnalyzer, LLMConfig
from digest.analysis.prompt import DATA_END, DATA_START
from digest.models import Digest, Importance
from digest.service import build_digest
from digest.sources.git import GitSource
from digest.sources.github import GitHubSource
from digest.sources.github_context import ContextCache
from digest.window import day_window
from tests.fakes.github import FakeGitHub, FakeResponse, rate_limited
from tests.fakes.openai import FakeOpenAI, RecordedRequest
from tests.library.test_llm import answer_json
from tests.pulls import PR_SECRET, Shas, build_repo

TOKEN = "ghp_" + "C0ntext" * 5 + "x"
CONTEXT = r"/pulls|/issues/"


async def digest_of(
    gh: FakeGitHub,
    cache: ContextCache | None,
    highlight: tuple[str, ...] = (),
    analyzer: Analyzer | None = None,
) -> Digest:
    async with GitHubSource(
        "octo/demo",
        api_url=gh.url,
        token=TOKEN,
        context_cache=cache,
        max_rate_wait=0.0,
        highlight_labels=highlight,
    ) as source:
        return await build_digest(
            source,
            analyzer or HeuristicAnalyzer(),
            window=day_window(date(2026, 2, 5), "Asia/Shanghai"),
            language="en",
            now=lambda: datetime(2026, 2, 6, tzinfo=UTC),
        )


@dataclass
class LLMTwice:
    """The pull-request fixture (tests/pulls.py) digested twice with the LLM and a cache."""

    shas: Shas
    first: Digest
    again: Digest
    calls: int  # the requests the first digest made
    requests: list[RecordedRequest]  # every request the endpoint saw


async def llm_digests_twice(tmp_path: Path, responder: Callable[[dict[str, Any]], str]) -> LLMTwice:
    """Through the fake GitHub (with the pull requests) and an LLM answering `responder`, in a
    fresh store: the second digest should be served from the cache."""
    repo, shas, data = build_repo(tmp_path)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'digest.db'}")
    try:
        async with FakeGitHub(token=TOKEN) as gh, FakeOpenAI(responder=responder) as fake:
            gh.add_repo("octo/demo", repo.path, context_file=data)
            llm = LLMAnalyzer(
                LLMConfig(model="gpt-4o-mini", api_key=fake.api_key or "k", base_url=fake.url)
            )
            try:
                first = await digest_of(gh, store, analyzer=CachedAnalyzer(llm, store))
                calls = len(fake.chat_requests)
                again = await digest_of(gh, store, analyzer=CachedAnalyzer(llm, store))
            finally:
                await llm.aclose()
        return LLMTwice(shas, first, again, calls, fake.chat_requests)
    finally:
        await store.close()


async def test_each_commit_gets_its_pull_request_approvals_and_fixed_issue(
    tmp_path: Path, database_url: str
) -> None:
    repo, shas, data = build_repo(tmp_path)
    store = await Store.open(database_url)
    try:
        async with FakeGitHub(token=TOKEN) as gh:
            gh.add_repo("octo/demo", repo.path, context_file=data)
            digest = await digest_of(gh, store, highlight=("bug",))
            by_sha = {e.commit.sha: e for e in digest.entries}
            n = digest.stats.total
            assert n == 7 and digest.context_failures == 0

            squash = by_sha[shas.squash].commit.context
            assert squash is not None and squash.fetched and squash.pr is not None
            assert squash.pr.number == 7 and squash.pr.title == "Fix the worker start deadlock"
            assert squash.pr.approvals == 2  # bob's latest and carol's; dave asked for changes
            assert squash.pr.author == "alice" and squash.pr.base == "main"
            assert squash.pr.url == "https://github.com/octo/demo/pull/7"
            assert [(i.number, i.title, i.state) for i in squash.fixes] == [
                (5, "Deadlock when two workers start | <!here>", "closed")
            ]
            assert squash.highlights == ("security", "bug")
            # The security label lifts the fix to high (post-rules).
            analysis = by_sha[shas.squash].analysis
            assert analysis is not None and analysis.importance is Importance.HIGH

            for sha in (shas.branch_a, shas.branch_b):  # brought in by the merge of #9
                ctx = by_sha[sha].commit.context
                assert ctx is not None and ctx.pr is not None and ctx.pr.number == 9
                assert [i.number for i in ctx.fixes] == [6]  # `Closes octo/demo#6`
            rebased = by_sha[shas.rebased].commit.context
            assert rebased is not None and rebased.pr is not None and rebased.pr.number == 11
            assert rebased.highlights == ("perf",) and rebased.pr.approvals == 0
            assert by_sha[shas.direct].commit.context is None  # no pull request landed it
            docs = by_sha[shas.docs]
            assert docs.commit.context is not None and docs.commit.context.highlights == ()
            assert docs.analysis is not None and docs.analysis.importance is not Importance.HIGH

            # Requests: the commits' own, then per pull request one look-up (pulls/{n}, or
            # commits/{sha}/pulls for #11, which brings the pull request itself), its review
            # list, each linked issue once; and one look-up for the direct push.
            base = 1 + math.ceil(n / 100) + n
            assert gh.count(r"/pulls/\d+$") == 3  # 7, 9, 12
            assert gh.count(r"/commits/[0-9a-f]{40}/pulls$") == 2  # rebased, direct
            assert gh.count(r"/reviews$") == 4
            assert gh.count(r"/issues/\d+$") == 2
            p, r, i, lookups = 4, 4, 2, 1
            assert gh.count() == base + p + r + i + lookups

            # A second digest of the day asks GitHub nothing about context.
            before = gh.count(CONTEXT)
            again = await digest_of(gh, store, highlight=("bug",))
            assert gh.count(CONTEXT) == before
            assert [e.commit.context for e in again.entries] == [
                e.commit.context for e in digest.entries
            ]
    finally:
        await store.close()


async def test_a_404_or_403_on_pull_requests_leaves_a_complete_digest_and_counts(
    tmp_path: Path,
) -> None:
    repo, shas, data = build_repo(tmp_path)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path, context_file=data)
        not_found = FakeResponse(404, {"message": "Not Found", "status": "404"})
        forbidden = FakeResponse(
            403, {"message": "Resource not accessible by integration", "status": "403"}
        )
        gh.inject(r"/pulls/7$", not_found)
        gh.inject(r"/pulls/9$", forbidden)
        gh.inject(r"/commits/[0-9a-f]{40}/pulls$", rate_limited(3600), rate_limited(3600))
        digest = await digest_of(gh, None)
    assert digest.stats.total == 7 and all(e.analysis is not None for e in digest.entries)
    by_sha = {e.commit.sha: e.commit for e in digest.entries}
    squash = by_sha[shas.squash].context
    assert squash is not None and squash.pr is not None and squash.pr.title is None
    assert squash.pr.number == 7  # the number the title gave is still shown
    # #7's squash, #9's two commits, the rebased and the direct push: five without context.
    # GitHub's 429 says the limit is spent for an hour, so every context request after it
    # fails at once too: the docs commit's pull request (or its review list) is fetched only
    # when its requests went first (commits stream in as their details arrive), and the
    # commit is counted as failed otherwise.
    docs = by_sha[shas.docs].context
    assert docs is not None and docs.pr is not None and docs.pr.number is not None
    assert docs.pr.title in ("Explain the worker lock", None)
    assert digest.context_failures in (5, 6)
    if docs.pr.title is None:
        assert digest.context_failures == 6


async def test_a_clone_reads_pull_request_numbers_and_fixes_from_messages(tmp_path: Path) -> None:
    repo, _, _ = build_repo(tmp_path)
    repo.commit("fix: stop the leak\n\nFixes #31, resolves other/repo#2", {"a": "1\n"},
                when=datetime(2026, 2, 5, 15, tzinfo=UTC))  # fmt: skip
    source = GitSource(repo.path)
    try:
        digest = await build_digest(
            source,
            HeuristicAnalyzer(),
            window=day_window(date(2026, 2, 5), "Asia/Shanghai"),
            language="en",
            now=lambda: datetime(2026, 2, 6, tzinfo=UTC),
        )
    finally:
        await source.aclose()
    by_title = {e.commit.title: e.commit for e in digest.entries}
    squash = by_title["fix: take the lock before the worker starts (#7)"].context
    assert squash is not None and squash.pr is not None and squash.pr.number == 7
    assert not squash.fetched and squash.pr.title is None
    for title in ("parser: read nested tables", "parser: tests for nested tables"):
        ctx = by_title[title].context
        assert ctx is not None and ctx.pr is not None and ctx.pr.number == 9
    leak = by_title["fix: stop the leak"].context
    assert leak is not None and leak.pr is None and [i.number for i in leak.fixes] == [31]
    assert by_title["chore: bump the year"].context is None


def _answer(body: dict[str, Any]) -> str:
    """Every analysis says why it was made; the analyzer keeps it only where context was sent."""
    user = body["messages"][-1]["content"]
    if "commit: " not in user:
        return "A day of fixes."  # the day's overview
    return answer_json(
        "medium",
        "Changes one file.",
        change_types=["bugfix"],
        importance_reason="A fix outside the core path.",
        affected_areas=[],
        risks=[],
        recommendations=[],
        confidence="medium",
        why="Two workers deadlocked at start." if "deadlock" in user else "Unknown.",
    )


async def test_the_model_reads_the_pull_request_and_issue_of_its_commit_and_no_secret(
    tmp_path: Path,
) -> None:
    run = await llm_digests_twice(tmp_path, _answer)
    shas, digest = run.shas, run.first
    assert len(run.requests) == run.calls  # the second digest: cache only
    assert [e.analysis for e in run.again.entries] == [e.analysis for e in digest.entries]
    sent = {}
    for request in run.requests:
        user = request.body["messages"][-1]["content"]
        assert PR_SECRET not in json.dumps(request.body)
        sha = re.search(r"^commit: ([0-9a-f]{40})$", user, re.M)
        if sha is not None:  # (the other request is the day's overview)
            sent[sha.group(1)] = user
    assert len(sent) == 6
    squash = sent[shas.squash]
    block = squash[squash.index(f"\n{DATA_START}\n") : squash.rindex(f"\n{DATA_END}\n")]
    assert "pull request #7: Fix the worker start deadlock" in block
    assert "this fixes the deadlock seen in #5" in block  # the body, inside the data block
    assert "fixes issue #5 (closed): Deadlock when two workers start | <!here> [bug]" in block
    assert "pull request labels: security, bug" in block and "approving reviews: 2" in block
    assert "Support nested tables" in sent[shas.branch_a]
    assert "Fix the worker start deadlock" not in sent[shas.branch_a]
    assert "pull request" not in sent[shas.direct].split("message:")[1].split("files (")[0]
    by_sha = {e.commit.sha: e for e in digest.entries}
    squash_analysis = by_sha[shas.squash].analysis
    assert squash_analysis is not None
    assert squash_analysis.why == "Two workers deadlocked at start."
    direct = by_sha[shas.direct].analysis
    assert direct is not None and direct.why is None  # no context: no motive
