"""GitHub (github.com or GitHub Enterprise) as a commit source, through PyGithub.

Requests for N commits in a window: 1 (the repository, once per source) + max(1, ceil(N /
per_page)) list pages + N details. List items are read from their raw data, which never triggers
PyGithub's lazy completion. How calls are made (threads, clients, credentials, rate limits) is
github_calls.py's; checking names and converting GitHub's JSON is github_wire.py's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from github import GithubException

from digest.errors import (
    AmbiguousSha,
    BranchNotFound,
    CommitNotFound,
    DigestError,
    InvalidRepo,
)
from digest.models import Commit, RepoRef, Window
from digest.sources.base import CommitSink, ProgressCallback
from digest.sources.github_calls import Emit, GitHubCalls, RateLimit
from digest.sources.github_context import ContextCache, GitHubContext
from digest.sources.github_details import FILES_PER_PAGE, commit_detail
from digest.sources.github_errors import ClientErrorMapper
from digest.sources.github_shared import GitHubShared
from digest.sources.github_wire import (
    DEFAULT_API_URL,
    MAX_PATCH_CHARS,
    Raw,
    check_ref,
    is_branch_name,
    is_full_name,
    parse_repo_arg,
    parse_time,
    to_commit,
    utc,
)

__all__ = [
    "DEFAULT_API_URL",
    "FILES_PER_PAGE",
    "MAX_PATCH_CHARS",
    "GitHubShared",
    "GitHubSource",
    "RateLimit",
    "parse_repo_arg",
]


T = TypeVar("T")


class GitHubSource:
    """One repository on GitHub, read through PyGithub in worker threads."""

    def __init__(
        self,
        full_name: str,
        *,
        token: str | None = None,
        app_auth: tuple[int, str] | None = None,
        api_url: str = DEFAULT_API_URL,
        max_in_flight: int = 8,
        max_rate_wait: float = 60.0,
        per_page: int = 100,
        timeout: int = 30,
        retry_backoff: float = 0.25,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_response: Callable[[int], None] | None = None,
        on_rate_limit: Callable[[RateLimit], None] | None = None,
        context_cache: ContextCache | None = None,
        highlight_labels: Iterable[str] = (),
        shared: GitHubShared | None = None,
    ) -> None:
        """`on_response(status)` hears of every HTTP response, `on_rate_limit` of the rate-limit
        headers a call's responses carried: both from worker threads.

        `shared`: the process's GitHub budget (requests in flight, rate limit, commit details,
        ETags), shared by its sources; without it this source has one of its own, of
        `max_in_flight` requests.

        `app_auth=(app_id, private_key_pem)` authenticates as that GitHub App's installation on
        the repository; it wins over `token` when both are given."""
        if not is_full_name(full_name):
            raise InvalidRepo(full_name, "expected owner/name")
        if not 1 <= per_page <= 100 or max_in_flight < 1:
            raise ValueError("per_page must be 1-100 and max_in_flight at least 1")
        self._name = full_name
        self.on_response = on_response
        self.on_rate_limit = on_rate_limit
        self._per_page = per_page
        self.shared = shared or GitHubShared(
            max_in_flight, max_wait=max_rate_wait, clock=clock, sleep=sleep
        )
        self._api_url = api_url.rstrip("/")
        self._calls = GitHubCalls(
            full_name,
            token=token,
            app_auth=app_auth,
            api_url=api_url,
            shared=self.shared,
            max_rate_wait=max_rate_wait,
            per_page=per_page,
            timeout=timeout,
            retry_backoff=retry_backoff,
            clock=clock,
            sleep=sleep,
            on_response=self._responded,
            on_rate_limit=self._rate_limited,
        )
        self._repo_raw: Raw | None = None
        self._repo_lock = asyncio.Lock()
        self._context_cache = context_cache
        self._listed_raw: dict[str, Raw] = {}  # every commit listed, for the context's merges
        self._listed: list[Commit] = []
        self._highlight = tuple(highlight_labels)

    async def __aenter__(self) -> GitHubSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- CommitSource ----------------------------------------------------------------------

    async def repo(self) -> RepoRef:
        data = await self._repo_data()
        return RepoRef(
            full_name=str(data["full_name"]),
            web_url=data.get("html_url"),
            private=bool(data.get("private", False)),
        )

    async def default_branch(self) -> str:
        return str((await self._repo_data())["default_branch"])

    async def head(self, branch: str) -> str | None:
        name = await self._checked_branch(branch)
        try:
            data, _ = await self._call(
                lambda: self._calls.get(f"/repos/{self._name}/branches/{quote(branch)}"),
                lambda status, _: BranchNotFound(name, branch) if status == 404 else None,
            )
        except BranchNotFound:
            if await self._call(self._is_empty):
                return None
            raise
        return str(data["commit"]["sha"])

    async def commits_in_window(
        self,
        branch: str,
        window: Window,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        start, end = utc(window.start), utc(window.end)
        name = await self._checked_branch(branch)

        def in_window(raw: Raw) -> bool:  # GitHub's since/until are inclusive; ours half-open
            return start <= parse_time(raw["commit"]["committer"]["date"]) < end

        params: dict[str, str | int] = {
            "sha": branch,
            "since": start.strftime(_TIME),
            "until": end.strftime(_TIME),
            "per_page": self._per_page,
        }

        def lister(emit: Emit, stop: threading.Event) -> None:
            self._calls.pages(f"/repos/{self._name}/commits", params, emit, stop, in_window)

        commits = await self._details(
            lister,
            lambda status, _: BranchNotFound(name, branch) if status in (404, 422) else None,
            progress,
            on_commit,
        )
        return _newest_first(commits)

    async def commit(self, ref: str) -> Commit:
        check_ref(ref)
        name = (await self.repo()).full_name

        def not_found(status: int, message: str) -> DigestError | None:
            if status == 422 and "ambiguous" in message.lower():
                return AmbiguousSha(name, ref)
            return CommitNotFound(name, ref) if status in (404, 422) else None

        return await self._detail(ref, not_found)

    async def compare(
        self,
        base: str,
        head: str,
        progress: ProgressCallback | None = None,
        on_commit: CommitSink | None = None,
    ) -> list[Commit]:
        check_ref(base)
        check_ref(head)
        name = (await self.repo()).full_name

        def lister(emit: Emit, stop: threading.Event) -> None:
            comparison = self._calls.repository().compare(
                base, head, comparison_commits_per_page=self._per_page
            )
            self._calls.drain(comparison.commits, emit, stop, lambda _: True)

        commits = await self._details(
            lister,
            lambda status, _: (
                CommitNotFound(name, f"{base}...{head}") if status in (404, 422) else None
            ),
            progress,
            on_commit,
        )
        return _newest_first(list(reversed(commits)))  # GitHub lists them oldest first

    async def is_ancestor(self, base: str, head: str) -> bool:
        """One compare request: its `status` is "ahead" or "identical" when `base` is an
        ancestor of `head`; GitHub answers 404 when `base` is gone or shares no history."""
        check_ref(base)
        check_ref(head)
        name = (await self.repo()).full_name

        def status() -> str:
            comparison = self._calls.repository().compare(base, head, comparison_commits_per_page=1)
            return str(comparison.raw_data["status"])

        try:
            answer = await self._call(
                status,
                lambda code, _: (
                    CommitNotFound(name, f"{base}...{head}") if code in (404, 422) else None
                ),
            )
        except CommitNotFound:
            return False
        return answer in ("ahead", "identical")

    async def shallow_boundary(self) -> datetime | None:
        """GitHub holds the whole history."""
        return None

    async def aclose(self) -> None:
        await self._calls.aclose()

    def context(self, cache: ContextCache | None = None) -> GitHubContext:
        """Pull requests and linked issues of this repository's commits, on the same calls,
        kept in `cache` (default: the one the source was made with)."""
        return GitHubContext(
            self._calls,
            cache=cache or self._context_cache,
            highlight=self._highlight,
            listed=self._listed_commits,
        )

    def _listed_commits(self) -> list[Commit]:
        """Every commit listed so far (no files), converted again only when more were."""
        if len(self._listed_raw) != len(self._listed):
            self._listed = [
                to_commit(self._name, {**raw, "files": []}, files_incomplete=True)
                for raw in self._listed_raw.values()
            ]
        return self._listed

    # ---- calls -----------------------------------------------------------------------------

    async def _call(
        self, job: Callable[[], T], on_client_error: ClientErrorMapper | None = None
    ) -> T:
        return await self._calls.call(job, on_client_error)

    async def _details(
        self,
        lister: Callable[[Emit, threading.Event], None],
        on_client_error: ClientErrorMapper,
        progress: ProgressCallback | None,
        on_commit: CommitSink | None,
    ) -> list[Commit]:
        """List commits in one thread and fetch each kept one's detail as soon as it is listed;
        each detail goes to `on_commit` as it arrives (analysis starts on it meanwhile)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Raw | None] = asyncio.Queue()
        stop = threading.Event()

        def emit(raw: Raw) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, raw)

        listing = asyncio.ensure_future(self._call(lambda: lister(emit, stop), on_client_error))
        listing.add_done_callback(lambda _: queue.put_nowait(None))  # after every emitted item
        seen: set[str] = set()
        tasks: list[asyncio.Future[Commit]] = []
        done = 0

        def finished(task: asyncio.Future[Commit]) -> None:
            nonlocal done
            if progress is not None and not task.cancelled() and task.exception() is None:
                done += 1
                progress(done, len(tasks))

        async def fetch(sha: str, raw: Raw) -> Commit:
            commit = await self._detail(sha, listed=raw)
            if on_commit is not None:
                # The whole range is listed first (a page per 100 commits): a commit's pull
                # request may be named by a merge listed after it.
                await asyncio.wait([listing])
                await on_commit(commit)
            return commit

        try:
            while (raw := await queue.get()) is not None:
                sha = str(raw["sha"])
                if sha in seen:
                    continue  # a listing retried after a rate limit sends its items again
                seen.add(sha)
                self._listed_raw[sha] = raw
                detail = asyncio.ensure_future(fetch(sha, raw))
                detail.add_done_callback(finished)
                tasks.append(detail)
            await listing
            return list(await asyncio.gather(*tasks))
        finally:
            stop.set()
            listing.cancel()
            for task in tasks:
                task.cancel()

    async def _detail(
        self,
        ref: str,
        on_client_error: ClientErrorMapper | None = None,
        *,
        listed: Raw | None = None,
    ) -> Commit:
        name = (await self.repo()).full_name
        return await commit_detail(
            self._calls, self.shared, name, ref, on_client_error, listed=listed
        )

    async def _repo_data(self) -> Raw:
        async with self._repo_lock:
            if self._repo_raw is None:
                data, _ = await self._call(lambda: self._calls.get(f"/repos/{self._name}"))
                self._repo_raw = dict(data)
            return self._repo_raw

    async def _checked_branch(self, branch: str) -> str:
        name = (await self.repo()).full_name
        if not is_branch_name(branch):
            raise BranchNotFound(name, branch)
        return name

    # ---- observers (called from worker threads) --------------------------------------------

    def _responded(self, status: int) -> None:
        if self.on_response is not None:
            self.on_response(status)

    def _rate_limited(self, limit: RateLimit) -> None:
        if self.on_rate_limit is not None:
            self.on_rate_limit(limit)

    def _is_empty(self) -> bool:
        try:
            next(iter(self._calls.repository().get_commits()), None)
        except GithubException as exc:
            if exc.status == 409:
                return True
            raise
        return False


# ---- helpers ----------------------------------------------------------------------------------

_TIME = "%Y-%m-%dT%H:%M:%SZ"  # GitHub's since/until, in UTC


def _newest_first(commits: list[Commit]) -> list[Commit]:
    return sorted(commits, key=lambda c: c.committed_at, reverse=True)  # stable for equal dates
