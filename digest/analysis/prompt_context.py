"""A commit's pull request and linked issues as lines of the prompt's data block: data from
third parties like the diff, redacted, the body budgeted (its first 2,000 characters), issue
titles whole. Pure."""

from __future__ import annotations

from digest.analysis.budget import neutralise, one_line, redact_window
from digest.models import Commit

PR_BODY_CHARS = 2_000
_READ = PR_BODY_CHARS + 256  # a secret cut at the budget's edge is still recognised


def context_lines(commit: Commit) -> tuple[str, int]:
    """The context section (empty without fetched context) and how many secrets it redacted."""
    context = commit.context
    if context is None or not context.fetched:
        return "", 0
    lines: list[str] = []
    redactions = 0
    pr = context.pr
    if pr is not None and pr.title is not None:
        lines.append(f"pull request #{pr.number}: {one_line(pr.title)}")
        if pr.labels:
            lines.append("pull request labels: " + ", ".join(one_line(x) for x in pr.labels))
        if pr.author:
            lines.append(f"pull request author: @{one_line(pr.author)}")
        if pr.approvals is not None:
            lines.append(f"approving reviews: {pr.approvals}")
        body = (pr.body or "").replace("\r\n", "\n").strip()
        if body:
            redacted, redactions = redact_window(body[:_READ], cut=len(body) > _READ, min_lines=1)
            clipped = len(redacted) > PR_BODY_CHARS or len(body) > _READ
            kept = neutralise(redacted[:PR_BODY_CHARS]).rstrip()
            lines.append("pull request description:")
            lines += ["    " + line for line in kept.split("\n")]
            if clipped:
                lines.append("[description clipped]")
    for issue in context.fixes:
        if issue.title is None:
            continue
        state = f" ({one_line(issue.state)})" if issue.state else ""
        labels = f" [{', '.join(one_line(x) for x in issue.labels)}]" if issue.labels else ""
        lines.append(f"fixes issue #{issue.number}{state}: {one_line(issue.title)}{labels}")
    return ("\n".join(lines) + "\n" if lines else ""), redactions


def context_key(commit: Commit) -> str:
    """What of the context the prompt carried, for the analyses cache key: an analysis made
    without the pull request (its fetch failed) is made again once it can be had."""
    context = commit.context
    if context is None:
        return ""
    # A story's combined analysis is kept apart from its head commit's own (the same sha).
    story = f"|story={context.story_of}" if context.story_of else ""
    if not context.fetched:
        return story
    pr = context.pr
    parts = [f"pr{pr.number}"] if pr is not None and pr.title is not None else []
    parts += [f"i{i.number}" for i in context.fixes if i.title is not None]
    return story + (f"|ctx={'.'.join(parts)}" if parts else "")
