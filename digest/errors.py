"""Named errors. Each carries the facts; `bot/` turns them into words in one place."""

from __future__ import annotations

from typing import ClassVar


class DigestError(Exception):
    """Base of every error the library raises on purpose."""


class UsageError(DigestError):
    """The caller asked for something malformed (a bad date, zone, sha or repository name)."""


class InvalidDate(UsageError):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class InvalidWindow(UsageError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownTimeZone(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class InvalidRepo(UsageError):
    """Neither a local git repository nor an `owner/name` or GitHub URL."""

    def __init__(self, value: str, reason: str = "") -> None:
        super().__init__(value)
        self.value = value
        self.reason = reason


class InvalidSha(UsageError):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class UpstreamError(DigestError):
    """Something outside us (git, GitHub, an LLM) failed or refused."""


class NotAGitRepository(UpstreamError):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class RepoNotFound(UpstreamError):
    """Unknown, or private and invisible to our credentials (GitHub answers 404 to both)."""

    def __init__(self, repo: str) -> None:
        super().__init__(repo)
        self.repo = repo


class BranchNotFound(UpstreamError):
    def __init__(self, repo: str, branch: str) -> None:
        super().__init__(repo, branch)
        self.repo = repo
        self.branch = branch


class CommitNotFound(UpstreamError):
    def __init__(self, repo: str, ref: str) -> None:
        super().__init__(repo, ref)
        self.repo = repo
        self.ref = ref


class AmbiguousSha(UpstreamError):
    def __init__(self, repo: str, prefix: str, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(repo, prefix)
        self.repo = repo
        self.prefix = prefix
        self.candidates = candidates


class AuthenticationFailed(UpstreamError):
    """GitHub refused the token (401), or it lacks access (403 without a rate limit)."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class RateLimited(UpstreamError):
    """Still limited after waiting as long as we are allowed to."""

    def __init__(self, service: str, reset_in_seconds: float | None) -> None:
        super().__init__(service, reset_in_seconds)
        self.service = service
        self.reset_in_seconds = reset_in_seconds


class ServiceUnavailable(UpstreamError):
    """A remote service kept failing (5xx, connection refused, timeout) after retries."""

    def __init__(self, service: str, detail: str = "") -> None:
        super().__init__(service, detail)
        self.service = service
        self.detail = detail


class GitFailed(UpstreamError):
    """The git CLI failed in a way we did not expect; `detail` is its first line of stderr."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class LLMFailure(UpstreamError):
    """An analysis by the model could not be had; `kind` says why, `setting` what to check.

    `str()` is a short phrase without secrets, kept with the analysis and shown in reports.
    """

    KINDS: ClassVar[dict[str, str]] = {
        "auth": "the endpoint refused OPENAI_API_KEY",
        "model": "the endpoint does not know the model in DIGEST_LLM_MODEL",
        "unreachable": "the endpoint in OPENAI_BASE_URL could not be reached",
        "rate_limited": "the endpoint kept answering 429 (rate limited)",
        "server": "the endpoint kept failing (5xx)",
        "timeout": "the analysis timed out",
        "truncated": "the answer was cut off at the token limit",
        "invalid": "the answer was not valid JSON for the schema, even after one repair",
        "refused": "the endpoint refused the request",
        "empty": "the answer was empty",
    }

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail

    def __str__(self) -> str:
        text = self.KINDS.get(self.kind, "the analysis failed")
        return f"{text} ({self.detail})" if self.detail else text

    @property
    def disables_endpoint(self) -> bool:
        """After these, every further call would fail the same way: stop calling."""
        return self.kind in ("auth", "model")
