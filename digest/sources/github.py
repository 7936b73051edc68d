"""GitHub (github.com or GitHub Enterprise) as a commit source, through PyGithub.

PyGithub is synchronous, and a `Github` client shared between threads can return one request's
answer to another (its connection object keeps the URL between `request()` and `getresponse()`,
PyGithub PR #2052). So calls run in one bounded thread pool, one client per thread, a semaphore
bounding the calls in flight. Rate limits are waited for in the event loop, up to `max_rate_wait`.

Requests for N commits in a window: 1 (the repository, once per source) + max(1, ceil(N /
per_page)) list pages + N details. List items are read from their raw data, which never triggers
PyGithub's lazy completion. Checking names and converting GitHub's JSON is github_wire.py's.

Credentials: none, a token, or a GitHub App (`app_auth=(app_id, private_key_pem)`). With an App,
the first call looks up the repository's installation with the App's JWT (`GET /repos/{owner}/
{repo}/installation`: 404 means the App is not installed there, RepoNotFound); every worker
thread's client then authenticates with PyGithub's `AppInstallationAuth`, which fetches an
installation access token (`POST /app/installations/{id}/access_tokens`) and refreshes it before
it expires. A JWT GitHub refuses (401: wrong key or app id) is AuthenticationFailed. The private
key is only ever handed to PyGithub's `Auth.AppAuth`, never formatted into an error or a log.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from github import Auth, Github, GithubException, GithubIntegration
from github.Repository import Repository

from digest.errors import (
    AmbiguousSha,
    BranchNotFound,
    CommitNotFound,
    DigestError,
    InvalidRepo,
    RateLimited,
    RepoNotFound,
)
from digest.models import Commit, RepoRef, Window
from digest.sources.base import ProgressCallback
from digest.sources.github_errors import (
    SERVICE,
    ClientErrorMapper,
    RetryAfter,
    classify,
    thread_retry,
)
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

__all__ = ["DEFAULT_API_URL", "MAX_PATCH_CHARS", "GitHubSource", "RateLimit", "parse_repo_arg"]

USER_AGENT = "commit-digest (PyGithub)"
FILES_PER_PAGE = 300  # GitHub's maximum for the files of one commit
RATE_LIMIT_RETRIES = 4

Emit = Callable[[Raw], None]
T = TypeVar("T")


@dataclass(frozen=True)
class RateLimit:
    """GitHub's rate-limit headers as a client last saw them."""

    remaining: int
    limit: int
    reset: int  # epoch seconds when the window resets (0: not told)


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
    ) -> None:
        """`on_response(status)` hears of every HTTP response, `on_rate_limit` of the rate-limit
        headers a call's responses carried: both from worker threads.

        `app_auth=(app_id, private_key_pem)` authenticates as that GitHub App's installation on
        the repository; it wins over `token` when both are given."""
        if not is_full_name(full_name):
            raise InvalidRepo(full_name, "expected owner/name")
        if not 1 <= per_page <= 100 or max_in_flight < 1:
            raise ValueError("per_page must be 1-100 and max_in_flight at least 1")
        self._name = full_name
        self.on_response = on_response
        self.on_rate_limit = on_rate_limit
        self._max_rate_wait = max_rate_wait
        self._per_page = per_page
        self._clock = clock
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(max_in_flight)
        self._executor = ThreadPoolExecutor(max_in_flight, thread_name_prefix="github")
        self._local = threading.local()
        self._clients: list[Github] = []
        self._clients_lock = threading.Lock()
        self._app = _app_auth(app_auth) if app_auth is not None else None
        self._installation_id: int | None = None  # found on the first call (an App only)
        self._installation_lock = asyncio.Lock()
        token_auth = Auth.Token(token) if token and self._app is None else None
        options: dict[str, Any] = {
            "base_url": api_url.rstrip("/"),
            "per_page": per_page,
            "timeout": timeout,
            "user_agent": USER_AGENT,
            "pool_size": 2,
            "seconds_between_requests": None,  # concurrency is bounded by the semaphore instead
            "seconds_between_writes": None,
        }

        def client_auth() -> Auth.Auth | None:
            if self._app is None:
                return token_auth
            assert self._installation_id is not None, "installation looked up before any call"
            # One AppInstallationAuth per client: PyGithub binds it to that client's requester.
            return self._app.get_installation_auth(self._installation_id)

        def new_client() -> Github:
            return Github(
                auth=client_auth(),
                retry=thread_retry(retry_backoff, observe=self._responded),
                lazy=True,  # no request until we read raw_data
                **options,
            )

        def new_integration() -> GithubIntegration:
            return GithubIntegration(
                auth=self._app,
                retry=thread_retry(retry_backoff, observe=self._responded),
                **options,
            )

        self._new_client = new_client
        self._new_integration = new_integration
        self._resume_at = 0.0  # epoch seconds before which no call starts (a rate limit)
        self._repo_raw: Raw | None = None
        self._repo_lock = asyncio.Lock()

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
            data = await self._call(
                lambda: dict(self._gh_repo().get_branch(branch).raw_data),
                lambda status, _: BranchNotFound(name, branch) if status == 404 else None,
            )
        except BranchNotFound:
            if await self._call(self._is_empty):
                return None
            raise
        return str(data["commit"]["sha"])

    async def commits_in_window(
        self, branch: str, window: Window, progress: ProgressCallback | None = None
    ) -> list[Commit]:
        start, end = utc(window.start), utc(window.end)
        name = await self._checked_branch(branch)

        def in_window(raw: Raw) -> bool:  # GitHub's since/until are inclusive; ours half-open
            return start <= parse_time(raw["commit"]["committer"]["date"]) < end

        def lister(emit: Emit, stop: threading.Event) -> None:
            # PyGithub formats since/until as "%Y-%m-%dT%H:%M:%SZ" without converting: pass UTC.
            items = self._gh_repo().get_commits(sha=branch, since=start, until=end)
            self._drain(items, emit, stop, in_window)

        commits = await self._details(
            lister,
            lambda status, _: BranchNotFound(name, branch) if status in (404, 422) else None,
            progress,
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
        self, base: str, head: str, progress: ProgressCallback | None = None
    ) -> list[Commit]:
        check_ref(base)
        check_ref(head)
        name = (await self.repo()).full_name

        def lister(emit: Emit, stop: threading.Event) -> None:
            comparison = self._gh_repo().compare(
                base, head, comparison_commits_per_page=self._per_page
            )
            self._drain(comparison.commits, emit, stop, lambda _: True)

        commits = await self._details(
            lister,
            lambda status, _: (
                CommitNotFound(name, f"{base}...{head}") if status in (404, 422) else None
            ),
            progress,
        )
        return _newest_first(list(reversed(commits)))  # GitHub lists them oldest first

    async def is_ancestor(self, base: str, head: str) -> bool:
        """One compare request: its `status` is "ahead" or "identical" when `base` is an
        ancestor of `head`; GitHub answers 404 when `base` is gone or shares no history."""
        check_ref(base)
        check_ref(head)
        name = (await self.repo()).full_name

        def status() -> str:
            comparison = self._gh_repo().compare(base, head, comparison_commits_per_page=1)
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

    async def aclose(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    # ---- calls -----------------------------------------------------------------------------

    async def _call(
        self, job: Callable[[], T], on_client_error: ClientErrorMapper | None = None
    ) -> T:
        """Run `job` in a worker thread; wait out rate limits; raise only our named errors."""
        if self._app is not None and self._installation_id is None:
            await self._find_installation()
        return await self._run(job, on_client_error)

    async def _find_installation(self) -> None:
        """The App's installation on the repository (once per source), with the App's JWT."""
        async with self._installation_lock:
            if self._installation_id is not None:
                return
            owner, name = self._name.split("/")

            def lookup() -> int:
                integration = self._new_integration()
                try:
                    return int(integration.get_repo_installation(owner, name).id)
                finally:
                    integration.close()

            self._installation_id = await self._run(lookup, None)

    async def _run(self, job: Callable[[], T], on_client_error: ClientErrorMapper | None) -> T:
        mapper = on_client_error or self._repo_not_found
        loop = asyncio.get_running_loop()
        waited, cleared = 0.0, 0.0
        for _ in range(RATE_LIMIT_RETRIES + 1):
            resume_at = self._resume_at
            pending = resume_at - self._clock()
            if pending > 0 and resume_at > cleared:
                if waited + pending > self._max_rate_wait:
                    raise RateLimited(SERVICE, round(pending, 1))
                await self._sleep(pending)
                waited, cleared = waited + pending, resume_at
            async with self._semaphore:
                try:
                    return await loop.run_in_executor(self._executor, self._observed, job)
                except Exception as exc:  # classified below, never re-raised as it is
                    outcome = classify(exc, now=self._clock(), on_client_error=mapper)
            if not isinstance(outcome, RetryAfter):
                raise outcome from None
            if waited + outcome.seconds > self._max_rate_wait:
                raise RateLimited(SERVICE, round(outcome.seconds, 1))
            self._resume_at = max(self._resume_at, self._clock() + outcome.seconds)
        raise RateLimited(SERVICE, None)

    async def _details(
        self,
        lister: Callable[[Emit, threading.Event], None],
        on_client_error: ClientErrorMapper,
        progress: ProgressCallback | None,
    ) -> list[Commit]:
        """List commits in one thread and fetch each kept one's detail as soon as it is listed."""
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

        try:
            while (raw := await queue.get()) is not None:
                sha = str(raw["sha"])
                if sha in seen:
                    continue  # a listing retried after a rate limit sends its items again
                seen.add(sha)
                detail = asyncio.ensure_future(self._detail(sha))
                detail.add_done_callback(finished)
                tasks.append(detail)
            await listing
            return list(await asyncio.gather(*tasks))
        finally:
            stop.set()
            listing.cancel()
            for task in tasks:
                task.cancel()

    async def _detail(self, ref: str, on_client_error: ClientErrorMapper | None = None) -> Commit:
        name = (await self.repo()).full_name

        def fetch() -> Commit:  # converted in the thread: a malformed answer is classified too
            commit = self._gh_repo().get_commit(ref, commit_files_per_page=FILES_PER_PAGE)
            raw = commit.raw_data  # the one request: completes the lazy object
            more_files = 'rel="next"' in str(commit.raw_headers.get("link", ""))
            return to_commit(name, raw, files_incomplete=more_files)

        mapper = on_client_error or (
            lambda status, _: CommitNotFound(name, ref) if status in (404, 422) else None
        )
        return await self._call(fetch, mapper)

    async def _repo_data(self) -> Raw:
        async with self._repo_lock:
            if self._repo_raw is None:
                self._repo_raw = await self._call(lambda: dict(self._gh_repo().raw_data))
            return self._repo_raw

    async def _checked_branch(self, branch: str) -> str:
        name = (await self.repo()).full_name
        if not is_branch_name(branch):
            raise BranchNotFound(name, branch)
        return name

    def _repo_not_found(self, status: int, message: str) -> DigestError | None:
        return RepoNotFound(self._name) if status == 404 else None

    # ---- in worker threads -----------------------------------------------------------------

    def _observed(self, job: Callable[[], T]) -> T:
        """Run `job`, then report the rate limit that this thread's client last saw."""
        try:
            return job()
        finally:
            client: Github | None = getattr(self._local, "client", None)
            if self.on_rate_limit is not None and client is not None:
                remaining, limit = client.requester.rate_limiting
                if limit >= 0:  # (-1, -1) until a response carried the headers
                    reset = client.requester.rate_limiting_resettime
                    self.on_rate_limit(RateLimit(remaining, limit, reset))

    def _responded(self, status: int) -> None:
        if self.on_response is not None:
            self.on_response(status)

    def _gh_repo(self) -> Repository:
        """This thread's client's (lazy, request-free) Repository."""
        client: Github | None = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client.get_repo(self._name)

    @staticmethod
    def _drain(
        items: Iterable[Any], emit: Emit, stop: threading.Event, keep: Callable[[Raw], bool]
    ) -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                raw = item._rawData  # a list item's raw data: no lazy completion request
                if keep(raw):
                    emit(raw)
        except GithubException as exc:
            if exc.status != 409:  # 409 "Git Repository is empty."
                raise

    def _is_empty(self) -> bool:
        try:
            next(iter(self._gh_repo().get_commits()), None)
        except GithubException as exc:
            if exc.status == 409:
                return True
            raise
        return False


# ---- helpers ----------------------------------------------------------------------------------


def _app_auth(app: tuple[int, str]) -> Auth.AppAuth:
    """PyGithub's App credentials; the key is checked here so that a malformed one fails now,
    with a message that does not quote it."""
    app_id, private_key = app
    try:
        load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("app_auth: the private key is not an unencrypted PEM key") from None
    return Auth.AppAuth(app_id, private_key)


def _newest_first(commits: list[Commit]) -> list[Commit]:
    return sorted(commits, key=lambda c: c.committed_at, reverse=True)  # stable for equal dates
