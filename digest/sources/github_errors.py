"""What GitHub failures mean: retried in the worker thread, waited for, or a named error.

5xx and connection errors are retried by urllib3 inside the thread (`thread_retry`). Everything
else becomes, through the pure `classify`, either a wait (rate limits, which `GitHubSource` waits
for in the event loop) or one of our errors. Nothing from the original exception (headers, body,
URL) is copied into ours beyond a status code or a short reason, so no secret and no SDK object
leaks through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Self

import requests
from github import GithubException
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from digest.errors import (
    AuthenticationFailed,
    DigestError,
    ServiceUnavailable,
    ServiceUnreachable,
    UpstreamError,
)

SERVICE = "GitHub"
# GitHub asks clients to wait at least a minute after a secondary rate limit without Retry-After.
SECONDARY_RATE_WAIT = 60.0

# Given (status, message) of a 4xx that is not about credentials or rate limits, the caller names
# the error (404 on a commit is CommitNotFound, on a branch BranchNotFound, ...) or returns None.
ClientErrorMapper = Callable[[int, str], DigestError | None]


class _ServerErrorRetry(Retry):
    """Retries 5xx and connection errors; 403/429 rate limits go back to the event loop."""

    RETRY_AFTER_STATUS_CODES = frozenset({503})  # not 429: never sleep long in a thread
    MAX_RETRY_AFTER = 5.0  # a 503 asking for longer is retried sooner (and fails soon enough)
    # Told the status of every HTTP response (urllib3 asks `is_retry` of each one), retried
    # ones included: how many requests GitHub really received.
    observe: Callable[[int], None] | None = None

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self.observe is not None:
            self.observe(status_code)
        return super().is_retry(method, status_code, has_retry_after)

    def new(self, **kw: Any) -> Self:
        made = super().new(**kw)
        made.observe = self.observe
        return made


def thread_retry(backoff: float, observe: Callable[[int], None] | None = None) -> Retry:
    """urllib3's retry policy for PyGithub: 3 retries of GETs, `backoff` * 2**n between them;
    `observe` is called (in the worker thread) with the status of every response."""
    retry = _ServerErrorRetry(
        total=3,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff,
        backoff_max=5.0,
        raise_on_status=False,  # hand the last 5xx to PyGithub, which raises GithubException
    )
    retry.observe = observe
    return retry


@dataclass(frozen=True)
class RetryAfter:
    """GitHub asked us to come back in `seconds` (a rate limit)."""

    seconds: float


def classify(
    exc: BaseException, *, now: float, on_client_error: ClientErrorMapper
) -> RetryAfter | DigestError:
    """What a failed call means: wait and retry, or this error."""
    if isinstance(exc, DigestError):
        return exc
    if isinstance(exc, GithubException):
        return _classify_status(
            exc.status, exc.headers or {}, _message(exc.data), now, on_client_error
        )
    if isinstance(exc, requests.Timeout):
        return ServiceUnavailable(SERVICE, "timed out")
    if isinstance(exc, requests.ConnectionError | Urllib3Error | ConnectionError):
        return ServiceUnreachable(SERVICE, "connection failed")
    if isinstance(exc, requests.RequestException):
        return ServiceUnavailable(SERVICE, "request failed")
    return ServiceUnavailable(SERVICE, f"unexpected {type(exc).__name__}")


def _classify_status(
    status: int,
    headers: Mapping[str, str],
    message: str,
    now: float,
    on_client_error: ClientErrorMapper,
) -> RetryAfter | DigestError:
    if status == 401:
        return AuthenticationFailed(SERVICE)
    if status in (403, 429):
        wait = rate_limit_wait(status, headers, message, now)
        if wait is not None:
            return RetryAfter(wait)
        if status == 403:
            return AuthenticationFailed(SERVICE)
    if status >= 500:
        return ServiceUnavailable(SERVICE, f"HTTP {status}")
    mapped = on_client_error(status, message)
    if mapped is not None:
        return mapped
    return UpstreamError(f"{SERVICE} answered HTTP {status}")


def rate_limit_wait(
    status: int, headers: Mapping[str, str], message: str, now: float
) -> float | None:
    """Seconds to wait before retrying, or None when the response is not a rate limit.

    Retry-After wins; then X-RateLimit-Reset when X-RateLimit-Remaining is 0 (primary limit);
    a 403 whose message names a secondary rate limit without either waits a minute.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = _retry_after(lower.get("retry-after"), now)
    if retry_after is not None:
        return retry_after
    if lower.get("x-ratelimit-remaining") == "0" and (reset := lower.get("x-ratelimit-reset")):
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return SECONDARY_RATE_WAIT
    if status == 429:
        return SECONDARY_RATE_WAIT
    text = message.lower()
    if "rate limit" in text:
        return SECONDARY_RATE_WAIT
    return None


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _message(data: object) -> str:
    if isinstance(data, dict):
        message = data.get("message")
        return message if isinstance(message, str) else ""
    return ""
