"""Named errors. Each carries the facts; `bot/` turns them into words in one place."""

from __future__ import annotations


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
