"""Commits that landed through one pull request are one story with one combined analysis."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.feishu.cards import digest_cards
from bot.slack.blocks import digest_messages
from digest.analysis.heuristic import HeuristicAnalyzer
from digest.models import Importance
from digest.render.markdown import render_commit_markdown, render_markdown
from digest.service import explain_commit
from digest.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.library.test_github_context import TOKEN, llm_digests_twice
from tests.library.test_llm import answer_json
from tests.pulls import build_repo


def _answer(body: dict[str, Any]) -> str:
    user = body["messages"][-1]["content"]
    if "commit: " not in user:
        return "A day of fixes."
    story = "2 commits:" in user
    return answer_json(
        "medium" if story else "low",
        "Nested tables, parsed and tested." if story else "One change.",
        importance_reason="The story." if story else "One commit.",
        affected_areas=[],
        risks=[],
        recommendations=[],
        confidence="medium",
        why="Users asked for nested tables." if story else None,
    )


async def test_a_pull_request_of_two_commits_is_one_story_with_one_combined_analysis(
    tmp_path: Path,
) -> None:
    run = await llm_digests_twice(tmp_path, _answer)
    shas, digest = run.shas, run.first
    users = [r.body["messages"][-1]["content"] for r in run.requests]
    analysed = [u for u in users if "commit: " in u]
    # Six commits of their own, the story once (its commits' diffs in one prompt), and the
    # overview; the second digest is served from the cache, the story too.
    assert run.calls == len(run.requests) == 6 + 1 + 1
    (story_prompt,) = [u for u in analysed if "2 commits:" in u]
    assert "Nested tables in the parser (#9)" in story_prompt
    assert "src/parser.py" in story_prompt and "tests/test_parser.py" in story_prompt
    assert f"commit: {shas.branch_b}" in story_prompt  # the pull request's head
    assert [s.analysis.analysis for s in run.again.stories] == [
        s.analysis.analysis for s in digest.stories
    ]
    assert run.again.stories[0].analysis.cached

    (story,) = digest.stories
    assert story.pr_number == 9 and story.shas == (shas.branch_b, shas.branch_a)
    assert story.analysis.analysis is not None
    assert story.analysis.analysis.why == "Users asked for nested tables."
    assert story.analysis.analysis.importance is Importance.MEDIUM
    stats = digest.stats
    assert (stats.total, stats.folded, stats.stories) == (7, 1, 5)

    md = render_markdown(digest)
    assert "5 stories of 6 commits" in md
    heads = re.findall(r"^#### (.+)$", md, re.M)
    assert "Fix the worker start deadlock (#7)" not in heads  # a squash: its own commit title
    assert "fix: take the lock before the worker starts (#7)" in heads
    assert "Nested tables in the parser (#9)" in heads
    assert "parser: read nested tables" not in heads  # folded under its story
    assert "The 2 commits of this pull request" in md
    assert f"[`{shas.branch_a[:7]}`](https://github.com/octo/demo/commit/{shas.branch_a})" in md
    assert "| parser: read nested tables |" in md  # the table still lists every commit

    post = digest_messages(digest, report_url=None, min_importance=Importance.MEDIUM)
    text = json.dumps([m.blocks for m in post.main], ensure_ascii=False)
    assert "Nested tables in the parser (#9)" in text
    assert "The 2 commits of this pull request" in text and shas.branch_a[:7] in text
    cards = digest_cards(digest, report_url=None, min_importance=Importance.MEDIUM, run_key="k")
    card_text = json.dumps(cards, ensure_ascii=False)
    assert "Nested tables in the parser (#9)" in card_text
    assert "The 2 commits of this pull request" in card_text


async def test_one_commit_of_a_story_asked_for_alone_names_its_story(tmp_path: Path) -> None:
    repo, shas, data = build_repo(tmp_path)
    async with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("octo/demo", repo.path, context_file=data)
        async with GitHubSource("octo/demo", api_url=gh.url, token=TOKEN) as source:
            entry = await explain_commit(source, HeuristicAnalyzer(), shas.branch_a[:10], "en")
    assert entry.commit.sha == shas.branch_a  # the commit's own analysis
    assert entry.analysis is not None and "parser" in entry.analysis.summary.lower()
    md = render_commit_markdown(entry, "en")
    assert "[#9 Nested tables in the parser](https://github.com/octo/demo/pull/9)" in md
