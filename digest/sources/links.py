"""Pull request numbers and `Fixes #N` read from text, with no network: the part of a commit's
context that a local clone has too, and what tells the GitHub fetch which numbers to ask for."""

from __future__ import annotations

import re
from collections.abc import Iterable

from digest.models import Commit
from digest.models_context import NOTABLE_LABELS, CommitContext, LinkedIssue, PullRequest

MAX_FIXES = 3  # linked issues per pull request (or per commit without one)

_SQUASH_RE = re.compile(r"\(#(\d+)\)\s*$")
_MERGE_RE = re.compile(r"^Merge pull request #(\d+)\b")
# GitHub's closing keywords, then `#N` or `owner/repo#N`.
_FIXES_RE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?\s+"
    r"(?:([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+))?#(\d+)\b",
    re.IGNORECASE,
)


def pr_number_in(title: str) -> int | None:
    """The number in a squash title `... (#204)` or a merge title `Merge pull request #103`."""
    title = title.strip()
    match = _SQUASH_RE.search(title) or _MERGE_RE.match(title)
    return int(match.group(1)) if match else None


def merge_pr_number(commit: Commit) -> int | None:
    """The pull request a merge commit merged (`Merge pull request #N from ...`)."""
    if not commit.is_merge:
        return None
    match = _MERGE_RE.match(commit.title)
    return int(match.group(1)) if match else None


def fixed_issues(texts: Iterable[str | None], repo: str, limit: int = MAX_FIXES) -> list[int]:
    """Issue numbers that `texts` say they fix, in order, at most `limit`; `other/repo#N`
    counts only when it names this repository."""
    found: list[int] = []
    for text in texts:
        for match in _FIXES_RE.finditer(text or ""):
            named, number = match.group(1), int(match.group(2))
            if named is not None and named.lower() != repo.lower():
                continue
            if number not in found:
                found.append(number)
            if len(found) >= limit:
                return found
    return found


def pr_of_branch_commits(commits: list[Commit]) -> dict[str, int]:
    """sha -> PR number for the commits a `Merge pull request #N` merge brought in: reachable
    from its second parent and not from its first, among the commits given."""
    by_sha = {c.sha: c for c in commits}
    found: dict[str, int] = {}
    for merge in commits:
        number = merge_pr_number(merge)
        if number is None:
            continue
        mainline = _reachable(merge.parents[0], by_sha)
        for sha in _reachable(merge.parents[1], by_sha) - mainline:
            found.setdefault(sha, number)
    return found


def _reachable(start: str, by_sha: dict[str, Commit]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        sha = todo.pop()
        if sha in seen or sha not in by_sha:
            continue
        seen.add(sha)
        todo.extend(by_sha[sha].parents)
    return seen


def highlights(labels: Iterable[str], patterns: Iterable[str] = ()) -> tuple[str, ...]:
    """The labels worth showing: breaking, security, perf (also as `type: security` and the
    like) and any matching DIGEST_HIGHLIGHT_LABELS (case-insensitive, `*` as a wildcard)."""
    compiled = [_glob(p) for p in patterns if p.strip()]
    shown: list[str] = []
    for label in labels:
        plain = re.sub(r"^[^\w]*(?:\w+\s*[:/]\s*)?", "", label.strip().lower())
        notable = any(plain == n or plain.startswith(n + " ") for n in NOTABLE_LABELS)
        if notable or plain.startswith("breaking") or any(p.fullmatch(label) for p in compiled):
            shown.append(label)
    return tuple(dict.fromkeys(shown))


def _glob(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.strip().split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE)


def message_context(commit: Commit, pr: int | None = None) -> CommitContext | None:
    """What the message alone says: its pull request's number and the issues it fixes."""
    number = pr if pr is not None else pr_number_in(commit.title)
    fixes = fixed_issues([commit.message], commit.repo)
    if number is None and not fixes:
        return None
    return CommitContext(
        pr=PullRequest(number=number) if number is not None else None,
        fixes=tuple(LinkedIssue(number=n) for n in fixes),
    )


class MessageContext:
    """The context provider of a local clone (and of any source without one): no network."""

    async def attach(
        self, commits: list[Commit], others: Iterable[Commit] = ()
    ) -> tuple[list[Commit], int]:
        branch_prs = pr_of_branch_commits([*commits, *others])
        out: list[Commit] = []
        for commit in commits:
            found = message_context(commit, branch_prs.get(commit.sha))
            out.append(commit if found is None else commit.model_copy(update={"context": found}))
        return out, 0
