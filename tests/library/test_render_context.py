"""The pull request, its labels and approvals, and the issue it fixes, in every place a commit
is shown: the Markdown report, the HTML page, the Slack post and reply, the Feishu card."""

from __future__ import annotations

import json

import pytest

from bot.feishu.cards import digest_cards
from bot.slack.blocks import analysis_blocks, digest_messages
from digest.models import AnalyzedCommit, Digest, Importance, Language
from digest.models_context import CommitContext, LinkedIssue, PullRequest
from digest.render.html import render_html
from digest.render.markdown import render_markdown
from tests.digests import make_digest, make_entry

PR_URL = "https://github.com/octo/demo/pull/7"
ISSUE_URL = "https://github.com/octo/demo/issues/5"


def with_context(entry: AnalyzedCommit, context: CommitContext) -> AnalyzedCommit:
    return entry.model_copy(update={"commit": entry.commit.model_copy(update={"context": context})})


def day(language: Language = "en", failures: int = 0) -> Digest:
    fetched = CommitContext(
        pr=PullRequest(
            number=7,
            title="Fix the *worker* deadlock <!channel>",
            labels=("security", "bug", "area/worker"),
            approvals=2,
            url=PR_URL,
        ),
        fixes=(
            LinkedIssue(number=5, title="Deadlock | when <@U123> starts", url=ISSUE_URL),
            LinkedIssue(number=6),  # its fetch failed: the number alone
        ),
        fetched=True,
        highlights=("security", "area/worker"),
    )
    high = with_context(
        make_entry(1, Importance.HIGH, message="fix: lock first (#7)", why="Workers deadlocked."),
        fetched,
    )
    parsed = CommitContext(pr=PullRequest(number=8))  # a clone's: the number from the title
    other = with_context(make_entry(2, Importance.HIGH, message="feat: y (#8)", minutes=5), parsed)
    digest = make_digest([high, other], language=language)
    return digest.model_copy(update={"context_failures": failures})


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_report_shows_pull_request_labels_approvals_and_fixes(language: Language) -> None:
    md = render_markdown(day(language, failures=3))
    fixes = "fixes #5" if language == "en" else "修复 #5"
    assert f"[#7 Fix the \\*worker\\* deadlock &lt;!channel&gt;]({PR_URL})" in md
    assert "`security` `area/worker`" in md and "`bug`" not in md
    assert ("✅ 2 approvals" if language == "en" else "✅ 2 个批准") in md
    assert f"[{fixes}]({ISSUE_URL}) Deadlock \\| when &lt;@U123&gt; starts" in md
    assert "https://github.com/ai-dynamo/dynamo/issues/6" in md  # built beside the commit's page
    assert ("Workers deadlocked." in md) and ("💭" in md)
    assert "[#8](https://github.com/ai-dynamo/dynamo/pull/8)" in md
    assert ("3 commits without their pull request" if language == "en" else "3 个提交") in md
    html = render_html(day(language))
    assert f'href="{PR_URL}"' in html and f'href="{ISSUE_URL}"' in html
    assert "<!channel>" not in html and "&lt;!channel&gt;" in html


def test_the_slack_post_and_reply_show_them_escaped() -> None:
    digest = day()
    post = digest_messages(digest, report_url=None, min_importance=Importance.HIGH)
    text = json.dumps([m.blocks for m in post.main], ensure_ascii=False)
    assert f"<{PR_URL}|#7 Fix the ∗worker∗ deadlock &lt;!channel&gt;>" in text
    assert f"<{ISSUE_URL}|fixes #5> Deadlock | when &lt;@U123&gt; starts" in text
    assert "`security` `area/worker`" in text and "✅ 2 approvals" in text
    assert "<!channel>" not in text and "<@U123>" not in text
    reply = json.dumps(
        [m.blocks for m in analysis_blocks(digest.entries[1], language="en")],
        ensure_ascii=False,
    )
    assert "fixes #5" in reply and "Workers deadlocked." in reply


def test_the_feishu_card_shows_them_escaped() -> None:
    cards = digest_cards(day(), report_url=None, min_importance=Importance.HIGH, run_key="k")
    text = json.dumps(cards, ensure_ascii=False)
    assert PR_URL in text and ISSUE_URL in text and "fixes #5" in text
    assert "✅ 2 approvals" in text and "Workers deadlocked." in text
    assert "<!channel>" not in text
