"""The *why* of a GitHub repository's commits: the pull request that landed each one, its
approving reviews, and the issues it fixes, through PyGithub on the source's own calls.

Requests for N commits with P distinct pull requests, R review lists and I linked issues: at
most P (`pulls/{n}`, or `commits/{sha}/pulls` for a commit whose title names no number and
that no `Merge pull request #N` of the range brought in) + R + I on top of the commits' own
1 + ceil(N/100) + N. Everything fetched is kept in the context cache: a merged pull request
for good (it does not change), an issue or an open pull request for a day, so a second digest
of the day asks nothing. A failure (404, 403, a rate limit) leaves that commit without its
context and is counted; it never fails the digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, Protocol

from digest.errors import DigestError
from digest.models import Commit
from digest.models_context import CommitContext, LinkedIssue, PullRequest
from digest.sources.github_calls import GitHubCalls
from digest.sources.github_wire import Raw, parse_time
from digest.sources.links import (
    fixed_issues,
    highlights,
    pr_number_in,
    pr_of_branch_commits,
)

DAY = timedelta(days=1)
_NO_PR = -1  # a commit GitHub knows no pull request for (cached for a day)


class ContextCache(Protocol):
    """Where fetched context is kept (bot/store/contexts.py keeps the rows)."""

    async def get_context(self, repo: str, key: str) -> str | None:
        """The JSON kept under (repo, key), unless it expired."""
        ...

    async def put_context(self, repo: str, key: str, data: str, keep: timedelta | None) -> None:
        """Keep `data` for `keep` (None: for good)."""
        ...


class _Failed(Exception):
    """One context request failed (already counted)."""


class GitHubContext:
    """Fetches, caches and attaches context; `requests` and `failures` say what it did."""

    def __init__(
        self,
        calls: GitHubCalls,
        *,
        cache: ContextCache | None = None,
        highlight: Iterable[str] = (),
        concurrency: int = 8,
        listed: Callable[[], list[Commit]] | None = None,
    ) -> None:
        """`listed`: the commits the source listed for the range so far (with their parents,
        no files), so that a commit attached alone, as it streams in, still learns which
        `Merge pull request #N` of the range brought it in."""
        self._calls = calls
        self._range = listed
        self._range_prs: tuple[int, dict[str, int]] = (0, {})
        self._tasks: dict[tuple[str, int], asyncio.Future[Any]] = {}  # in flight or done
        self._cache = cache
        self._highlight = tuple(highlight)
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._memo: dict[tuple[str, str], Raw] = {}  # what this run fetched or read
        self._reviews_failed: set[int] = set()
        self._listed: dict[int, Raw] = {}  # pull requests that commits/{sha}/pulls brought
        self.requests = 0  # context requests sent (cache misses)
        self.failures = 0  # commits left without their context

    async def attach(
        self, commits: list[Commit], others: Iterable[Commit] = ()
    ) -> tuple[list[Commit], int]:
        """`commits` with their context, and how many of them could not get it. `others` (the
        range's folded commits) only tell which commits a merge brought in."""
        if not commits:
            return commits, 0
        repo = commits[0].repo
        branch_prs = {**self._listed_prs(), **pr_of_branch_commits([*commits, *others])}
        numbers: dict[str, int | None] = {}
        failed: set[str] = set()

        async def number_of(commit: Commit) -> None:
            known = pr_number_in(commit.title) or branch_prs.get(commit.sha)
            if known is None:
                try:
                    known = await self._calls.shared.once(
                        (self._calls.api_url, repo, "sha", commit.sha),
                        lambda: self._pr_for_sha(repo, commit.sha),
                    )
                except _Failed:
                    failed.add(commit.sha)
            numbers[commit.sha] = known

        await asyncio.gather(*(number_of(c) for c in commits))
        prs = await self._each(repo, {n for n in numbers.values() if n is not None}, self._pull)
        wanted: dict[str, list[int]] = {}
        for commit in commits:
            number = numbers[commit.sha]
            pr = prs.get(number) if number is not None else None
            texts = [pr.body if pr else None, commit.message]
            wanted[commit.sha] = fixed_issues(texts, repo)
        issues = await self._each(repo, {n for ns in wanted.values() for n in ns}, self._issue)
        out: list[Commit] = []
        for commit in commits:
            number = numbers[commit.sha]
            pr = prs.get(number) if number is not None else None
            missing = (
                number is not None and (pr is None or number in self._reviews_failed)
            ) or any(n not in issues for n in wanted[commit.sha])
            if missing:
                failed.add(commit.sha)
            if number is None and not wanted[commit.sha]:
                out.append(commit)
                continue
            context = CommitContext(
                pr=pr or (PullRequest(number=number) if number is not None else None),
                fixes=tuple(issues.get(n) or LinkedIssue(number=n) for n in wanted[commit.sha]),
                fetched=True,
                highlights=highlights(pr.labels if pr else (), self._highlight),
            )
            out.append(commit.model_copy(update={"context": context}))
        self.failures += len(failed)
        return out, len(failed)

    # ---- one kind of thing each ------------------------------------------------------------

    async def _each(
        self,
        repo: str,
        numbers: set[int],
        fetch: Callable[[str, int], Awaitable[Any]],
    ) -> dict[int, Any]:
        found: dict[int, Any] = {}

        async def one(n: int) -> None:
            # Commits attached one at a time share one request per pull request or issue.
            key = (fetch.__name__, n)
            task = self._tasks.get(key)
            if task is None:
                # One request too for other sources of the process asking it at once.
                shared = (self._calls.api_url, repo, *key)
                task = self._tasks[key] = asyncio.ensure_future(
                    self._calls.shared.once(shared, lambda: fetch(repo, n))
                )
            with contextlib.suppress(_Failed):
                found[n] = await asyncio.shield(task)

        await asyncio.gather(*(one(n) for n in sorted(numbers)))
        return found

    def _listed_prs(self) -> dict[str, int]:
        """sha -> PR number for the listed commits a merge of the range brought in, worked out
        again only when more commits were listed."""
        listed = self._range() if self._range is not None else []
        if len(listed) != self._range_prs[0]:
            self._range_prs = (len(listed), pr_of_branch_commits(listed))
        return self._range_prs[1]

    async def _pr_for_sha(self, repo: str, sha: str) -> int | None:
        """`GET commits/{sha}/pulls`: the merged pull request that landed it. The answer holds
        the pull request itself, so `pulls/{n}` is not asked for it."""
        kept = await self._get(repo, f"sha:{sha}")
        if kept is not None:
            number = int(kept["pr"])
            return None if number == _NO_PR else number

        def job() -> list[Raw]:
            pulls = self._calls.repository().get_commit(sha).get_pulls()
            return [dict(p._rawData) for p in pulls]  # list items: no completion request

        raws = await self._fetch(job)
        merged = [r for r in raws if r.get("merged_at")]
        chosen = (merged or raws or [None])[0]
        if chosen is None:
            await self._put(repo, f"sha:{sha}", {"pr": _NO_PR}, DAY)
            return None
        number = int(chosen["number"])
        self._listed.setdefault(number, chosen)
        await self._put(repo, f"sha:{sha}", {"pr": number}, None if merged else DAY)
        return number

    async def _pull(self, repo: str, number: int) -> PullRequest:
        """The pull request (`GET pulls/{n}` unless a commit's lookup brought it) and its
        approvals (`GET pulls/{n}/reviews`)."""
        kept = await self._get(repo, f"pr:{number}")
        if kept is None:
            raw = self._listed.get(number)
            if raw is None:
                raw = await self._fetch(
                    lambda: dict(self._calls.repository().get_pull(number).raw_data)
                )
            kept = await self._store_pull(repo, number, raw, await self._approvals(number))
        return PullRequest.model_validate(kept)

    async def _approvals(self, number: int) -> int | None:
        """Reviewers whose latest decisive review approves; None when the list failed."""

        def job() -> int:
            latest: dict[str, str] = {}
            for review in self._calls.repository().get_pull(number).get_reviews():
                raw = review._rawData  # list items: no completion request
                user = (raw.get("user") or {}).get("login") or ""
                state = str(raw.get("state") or "")
                if state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    latest[user] = state
            return sum(1 for state in latest.values() if state == "APPROVED")

        try:
            return int(await self._fetch(job))
        except _Failed:
            self._reviews_failed.add(number)
            return None

    async def _store_pull(self, repo: str, number: int, raw: Raw, approvals: int | None) -> Raw:
        pull = PullRequest(
            number=number,
            title=str(raw.get("title") or ""),
            body=raw.get("body") or None,
            labels=tuple(str(label.get("name")) for label in raw.get("labels") or ()),
            author=(raw.get("user") or {}).get("login"),
            merged_at=parse_time(raw["merged_at"]) if raw.get("merged_at") else None,
            base=(raw.get("base") or {}).get("ref"),
            approvals=approvals,
            url=raw.get("html_url"),
            head_sha=(raw.get("head") or {}).get("sha"),
        )
        data: Raw = pull.model_dump(mode="json")
        # A merged pull request does not change; an open one (or unknown approvals) may.
        keep = None if pull.merged_at is not None and approvals is not None else DAY
        await self._put(repo, f"pr:{number}", data, keep)
        return data

    async def _issue(self, repo: str, number: int) -> LinkedIssue:
        kept = await self._get(repo, f"issue:{number}")
        if kept is None:
            raw = await self._fetch(
                lambda: dict(self._calls.repository().get_issue(number).raw_data)
            )
            kept = LinkedIssue(
                number=number,
                title=str(raw.get("title") or ""),
                labels=tuple(str(label.get("name")) for label in raw.get("labels") or ()),
                state=raw.get("state"),
                url=raw.get("html_url"),
            ).model_dump(mode="json")
            await self._put(repo, f"issue:{number}", kept, DAY)  # a title may change
        return LinkedIssue.model_validate(kept)

    # ---- plumbing --------------------------------------------------------------------------

    async def _fetch(self, job: Callable[[], Any]) -> Any:
        async with self._semaphore:
            self.requests += 1
            try:
                # Urgent: a streamed commit's analysis waits for it, not for the details queued.
                return await self._calls.call(job, lambda status, message: None, urgent=True)
            except DigestError:
                raise _Failed() from None

    async def _get(self, repo: str, key: str) -> Raw | None:
        if (repo, key) in self._memo:
            return self._memo[repo, key]
        if self._cache is None:
            return None
        text = await self._cache.get_context(repo, key)
        return json.loads(text) if text else None

    async def _put(self, repo: str, key: str, data: Raw, keep: timedelta | None) -> None:
        self._memo[repo, key] = data
        if self._cache is not None:
            await self._cache.put_context(repo, key, json.dumps(data), keep)
