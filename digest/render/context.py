"""What every renderer shows of a commit's pull request and fixed issues, and in which words.

One pure view (`context_view`) of a commit's context; the Markdown report, the HTML page, the
Slack post and the Feishu card each format it with their own escaping. Kept apart from i18n.py
so that the words of the context stay with the one idea that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.models import Commit, Language


@dataclass(frozen=True)
class ContextWords:
    pr: str  # the field label
    why: str  # the analysis's motive field
    labels: str  # before the labels worth seeing
    approvals: str  # {n}
    fixes: str  # {n}: before an issue's number
    failures: str  # {n}: commits whose context could not be fetched
    story_commits: str  # {n}: the heading of a story's commits
    stories: str  # {s} {c}: the stats line's stories and the commits they tell


WORDS: dict[Language, ContextWords] = {
    "zh": ContextWords(
        pr="🔀 拉取请求",
        why="💭 动机",
        labels="🏷",
        approvals="✅ {n} 个批准",
        fixes="修复 #{n}",
        failures="{n} 个提交未能获取拉取请求信息",
        story_commits="本拉取请求的 {n} 个提交",
        stories="{s} 个故事（{c} 个提交）",
    ),
    "en": ContextWords(
        pr="🔀 Pull request",
        why="💭 Why",
        labels="🏷",
        approvals="✅ {n} approvals",
        fixes="fixes #{n}",
        failures="{n} commits without their pull request (fetch failed)",
        story_commits="The {n} commits of this pull request",
        stories="{s} stories of {c} commits",
    ),
}


@dataclass(frozen=True)
class IssueView:
    number: int
    title: str | None
    url: str | None


@dataclass(frozen=True)
class ContextView:
    """Untrusted strings (titles, labels) are raw here: each renderer escapes them."""

    pr_number: int | None
    pr_title: str | None
    pr_url: str | None
    labels: tuple[str, ...]  # the labels worth seeing
    approvals: int | None
    fixes: tuple[IssueView, ...]

    @property
    def empty(self) -> bool:
        return self.pr_number is None and not self.fixes


def context_view(commit: Commit) -> ContextView | None:
    """The parts of the context a reader sees; None when there is nothing to show."""
    context = commit.context
    if context is None:
        return None
    pr = context.pr
    view = ContextView(
        pr_number=pr.number if pr is not None else None,
        pr_title=pr.title if pr is not None and pr.title else None,
        pr_url=(pr.url if pr is not None and pr.url else None) or commit.pr_url,
        labels=context.highlights,
        approvals=pr.approvals if pr is not None and pr.approvals else None,
        fixes=tuple(IssueView(i.number, i.title or None, i.url) for i in context.fixes),
    )
    return None if view.empty else view


def issue_url(commit: Commit, issue: IssueView) -> str | None:
    """The issue's page: as GitHub gave it, or beside the commit's pull request page."""
    if issue.url:
        return issue.url
    page = commit.url or ""
    return page.rsplit("/commit/", 1)[0] + f"/issues/{issue.number}" if "/commit/" in page else None
