"""A scheduled digest of a GitHub repository carries each commit's pull request and fixed
issues into the Slack post, fetched through the run's own source and kept in the store."""

from __future__ import annotations

import json
from pathlib import Path

from bot.slack.blocks import digest_messages
from bot.store.database import Store
from digest.models import Importance
from digest.sources.base import CommitSource
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.pulls import build_repo
from tests.scheduling import REPO, Clock, RecordingPoster, World, at, kinds, sh

TOKEN = "ghp_" + "Sch3dul3d" * 4


async def test_the_scheduled_slack_post_shows_pull_requests_labels_and_fixes(
    tmp_path: Path,
) -> None:
    repo, shas, data = build_repo(tmp_path)
    clock = Clock(sh(5, 20))
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(url, clock=clock)
    try:
        async with FakeGitHub(token=TOKEN) as gh:
            gh.add_repo(REPO, repo.path, context_file=data)

            def open_source(name: str) -> CommitSource:
                return GitHubSource(name, api_url=gh.url, token=TOKEN, context_cache=store)

            w = World(repo, url, clock, RecordingPoster(), store)
            await w.subscribe()
            sched = w.scheduler(open_source=open_source)
            assert kinds(await at(sched, clock, sh(6, 9))) == [("2026-02-06", "posted")]
        (post,) = w.poster.sent
        assert post.digest.context_failures == 0
        entry = next(e for e in post.digest.entries if e.commit.sha == shas.squash)
        assert entry.analysis is not None and entry.analysis.importance is Importance.HIGH
        slack = digest_messages(post.digest, report_url=None, min_importance=Importance.HIGH)
        text = json.dumps([m.blocks for m in slack.main], ensure_ascii=False)
        assert "<https://github.com/octo/demo/pull/7|#7 Fix the worker start deadlock>" in text
        assert "`security`" in text and "✅ 2 approvals" in text
        assert "<https://github.com/octo/demo/issues/5|fixes #5> Deadlock" in text
        assert await store.count_contexts() > 0  # kept for the next run
    finally:
        await store.close()
