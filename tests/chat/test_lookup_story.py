"""`/digest <sha>` of a commit that landed with others through one pull request: the commit's
own analysis, naming its story (the pull request), in the Slack reply."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.chat.execute import handle
from bot.chat.replies import Context, ReplyKind, Services
from bot.ops.settings import Settings
from bot.slack.blocks import reply_messages
from bot.store.database import Store
from bot.store.records import Target
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.pulls import build_repo

TOKEN = "ghp_" + "L00kup" * 6
CHANNEL = Target(platform="slack", workspace="T1", channel="C1")


async def test_a_commit_of_a_story_names_its_pull_request(tmp_path: Path) -> None:
    repo, shas, data = build_repo(tmp_path)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with FakeGitHub(token=TOKEN) as gh:
            gh.add_repo("octo/demo", repo.path, context_file=data)
            ctx = Context(
                services=Services(
                    settings=Settings(_env_file=None, digest_language="en"),
                    store=store,
                    open_source=lambda name: GitHubSource(
                        name, token=TOKEN, api_url=gh.url, context_cache=store
                    ),
                    analyzer=HeuristicAnalyzer(),
                    clock=lambda: datetime(2026, 2, 6, tzinfo=UTC),
                ),
                target=CHANNEL,
                user="U1",
            )
            assert (await handle("subscribe octo/demo", ctx)).kind == ReplyKind.INFO
            reply = await handle(shas.branch_a[:9], ctx)
    finally:
        await store.close()
    assert reply.kind == ReplyKind.ANALYSIS and reply.analysis is not None
    assert reply.analysis.commit.sha == shas.branch_a  # its own analysis, not the story's
    text = json.dumps([m.blocks for m in reply_messages(reply)], ensure_ascii=False)
    assert "<https://github.com/octo/demo/pull/9|#9 Nested tables in the parser>" in text
    assert "fixes #6" in text
