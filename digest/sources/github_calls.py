"""Calls to GitHub through PyGithub: worker threads, one client each, rate limits waited out.

PyGithub is synchronous, and a `Github` client shared between threads can return one request's
answer to another (its connection object keeps the URL between `request()` and `getresponse()`,
PyGithub PR #2052). So calls run in one bounded thread pool, one client per thread, a semaphore
bounding the calls in flight. Rate limits are waited for in the event loop, up to `max_rate_wait`,
never in a thread.

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
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from github import Auth, Github, GithubException, GithubIntegration
from github.Repository import Repository

from digest.errors import DigestError, RateLimited, RepoNotFound
from digest.sources.github_errors import (
    SERVICE,
    ClientErrorMapper,
    RetryAfter,
    classify,
    thread_retry,
)
from digest.sources.github_shared import Cached, GitHubShared, RateLimit
from digest.sources.github_wire import Raw

USER_AGENT = "commit-digest (PyGithub)"
RATE_LIMIT_RETRIES = 4

Emit = Callable[[Raw], None]
T = TypeVar("T")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

__all__ = ["Emit", "GitHubCalls", "RateLimit"]


class GitHubCalls:
    """One repository's calls: `call(job)` runs `job(repository)` in a worker thread."""

    def __init__(
        self,
        full_name: str,
        *,
        token: str | None,
        app_auth: tuple[int, str] | None,
        api_url: str,
        shared: GitHubShared,
        max_rate_wait: float,
        per_page: int,
        timeout: int,
        retry_backoff: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        on_response: Callable[[int], None],
        on_rate_limit: Callable[[RateLimit], None],
    ) -> None:
        self._name = full_name
        self.api_url = api_url.rstrip("/")
        self._shared = self.shared = shared
        self._on_response = on_response
        self._on_rate_limit = on_rate_limit
        self._max_rate_wait = max_rate_wait
        self._clock = clock
        self._sleep = sleep
        self._executor = ThreadPoolExecutor(shared.threads, thread_name_prefix="github")
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
            "seconds_between_requests": None,  # paced by the shared budget instead
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
                retry=thread_retry(retry_backoff, observe=on_response),
                lazy=True,  # no request until we read raw_data
                **options,
            )

        def new_integration() -> GithubIntegration:
            return GithubIntegration(
                auth=self._app,
                retry=thread_retry(retry_backoff, observe=on_response),
                **options,
            )

        self._new_client = new_client
        self._new_integration = new_integration
        self._resume_at = 0.0  # epoch seconds before which no call starts (a rate limit)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    async def call(
        self,
        job: Callable[[], T],
        on_client_error: ClientErrorMapper | None = None,
        *,
        urgent: bool = False,
    ) -> T:
        """Run `job` in a worker thread; wait out rate limits; raise only our named errors.
        `urgent`: before the requests queued that are not (GitHubShared.slot)."""
        if self._app is not None and self._installation_id is None:
            await self._find_installation()
        return await self._run(job, on_client_error, urgent)

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

    async def _run(
        self, job: Callable[[], T], on_client_error: ClientErrorMapper | None, urgent: bool = False
    ) -> T:
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
            async with self._shared.slot(urgent):
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

    def _repo_not_found(self, status: int, message: str) -> DigestError | None:
        return RepoNotFound(self._name) if status == 404 else None

    # ---- in worker threads -----------------------------------------------------------------

    def _observed(self, job: Callable[[], T]) -> T:
        """Run `job`, then report the rate limit that this thread's client last saw."""
        try:
            return job()
        finally:
            client: Github | None = getattr(self._local, "client", None)
            if client is not None:
                remaining, limit = client.requester.rate_limiting
                if limit >= 0:  # (-1, -1) until a response carried the headers
                    reset = client.requester.rate_limiting_resettime
                    seen = RateLimit(remaining, limit, reset)
                    self._shared.observe(seen)
                    self._on_rate_limit(seen)

    def _client(self) -> Github:
        client: Github | None = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def repository(self) -> Repository:
        """This thread's client's (lazy, request-free) Repository."""
        return self._client().get_repo(self._name)

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> tuple[Any, str]:
        """GET `path` (under the API root, or a next page's URL): its JSON and Link header.
        The ETag of the last answer goes with it; a 304 (which GitHub does not count against
        the rate limit) returns that answer again."""
        query = dict(params or {})
        key = (self.api_url, path, tuple(sorted(query.items())))
        cached = self._shared.cached(key)
        headers = {"If-None-Match": cached.etag} if cached is not None else {}
        requester = self._client().requester
        status, answer_headers, body = requester.requestJson("GET", path, query, headers)
        if status == 304 and cached is not None:
            return cached.data, cached.link
        data = json.loads(body) if body else None
        if status >= 300:
            raise requester.createException(status, answer_headers, data or {})
        link = str(answer_headers.get("link", ""))
        if etag := answer_headers.get("etag"):
            self._shared.keep(key, Cached(str(etag), data, link))
        return data, link

    def pages(
        self,
        path: str,
        params: Mapping[str, str | int],
        emit: Emit,
        stop: threading.Event,
        keep: Callable[[Raw], bool],
    ) -> None:
        """Every item of a paginated list, each page a conditional GET."""
        url: str | None = path
        query: Mapping[str, str | int] | None = params
        try:
            while url is not None and not stop.is_set():
                items, link = self.get(url, query)
                for raw in items:
                    if stop.is_set():
                        return
                    if keep(raw):
                        emit(raw)
                found = _NEXT.search(link)
                url, query = (found.group(1), None) if found else (None, None)
        except GithubException as exc:
            if exc.status != 409:  # 409 "Git Repository is empty."
                raise

    @staticmethod
    def drain(
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
