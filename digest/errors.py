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


class SlackRefused(UpstreamError):
    """Slack refused a configured token; `setting` names it (the token is never shown)."""

    def __init__(self, setting: str, error: str) -> None:
        super().__init__(setting, error)
        self.setting = setting
        self.error = error


class NothingToServe(UsageError):
    """`digest serve` without any chat platform configured."""


class FeishuNeedsKey(UsageError):
    """Feishu's HTTP callback without FEISHU_ENCRYPT_KEY could not be checked at all."""


class AskNeedsLLM(UsageError):
    """`/digest ask` without an LLM endpoint configured."""


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


class ServiceUnreachable(ServiceUnavailable):
    """No connection to a remote service at all (refused, no route, no DNS): often no network."""


class PostRefused(UpstreamError):
    """A chat platform refused a post for good (the bot left the channel, a missing scope);
    `error` is the platform's code. Retrying the same post cannot help."""

    def __init__(self, platform: str, error: str) -> None:
        super().__init__(f"{platform} refused the post: {error}")
        self.platform = platform
        self.error = error


class GitFailed(UpstreamError):
    """The git CLI failed in a way we did not expect; `detail` is its first line of stderr."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class LLMFailure(UpstreamError):
    """An answer from the model could not be had; `kind` says why, `detail` quotes the endpoint.

    `str()` is a short phrase without secrets, kept with the analysis and shown in reports;
    `detail` is the provider's own message (redacted, one line) or what was counted. `host` names
    the endpoint, for the failures that are about the account rather than the request.
    """

    KINDS: ClassVar[dict[str, str]] = {
        "auth": "the endpoint refused OPENAI_API_KEY",
        "forbidden": "the endpoint denied access to the model (HTTP 403)",
        "model": "the endpoint does not know the model in DIGEST_LLM_MODEL",
        "path": "the endpoint has no chat completions at OPENAI_BASE_URL (HTTP 404)",
        "billing": "out of credit at {host}",
        "stream_only": "the model answers only streamed calls",
        "api_version": "Azure refused the API version in OPENAI_API_VERSION",
        "unreachable": "the endpoint in OPENAI_BASE_URL could not be reached",
        "rate_limited": "the endpoint kept answering 429 (rate limited)",
        "server": "the endpoint kept failing (5xx)",
        "timeout": "the analysis timed out",
        "truncated": "the answer was cut off at the token limit",
        "invalid": "the answer was not valid JSON for the schema, even after one repair",
        "refused": "the endpoint refused the request",
        "empty": "the answer was empty",
    }
    # After these, every further call would fail the same way: stop calling.
    DISABLING: ClassVar[frozenset[str]] = frozenset(
        {"auth", "forbidden", "model", "path", "billing", "stream_only", "api_version"}
    )

    def __init__(self, kind: str, detail: str = "", host: str = "") -> None:
        super().__init__(kind, detail, host)
        self.kind = kind
        self.detail = detail
        self.host = host

    def __str__(self) -> str:
        text = self.KINDS.get(self.kind, "the analysis failed").format(
            host=self.host or "the endpoint"
        )
        return f"{text} ({self.detail})" if self.detail else text

    @property
    def disables_endpoint(self) -> bool:
        return self.kind in self.DISABLING


# ---- the `/digest ...` command grammar (bot/chat/grammar.py parses; bot/chat/messages.py words) --
# They live here, not in bot/chat/, so that bot/chat/messages.py can name them while
# the grammar imports the messages (no import cycle).


class CommandError(UsageError):
    """A chat command that does not parse.

    `command` is the subcommand it was for ("subscribe", "lookup" for `<sha>`; None when the
    first word was not understood); `usage` is the line to show after the sentence. The parser
    fills both in.
    """

    command: str | None = None
    usage: str = ""


class InputTooLong(CommandError):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length, limit)
        self.length = length
        self.limit = limit


class UnknownCommand(CommandError):
    def __init__(self, word: str, suggestion: str | None = None) -> None:
        super().__init__(word)
        self.word = word
        self.suggestion = suggestion


class BadRepoName(CommandError):
    """`local_paths`: a local clone's path would have been accepted here (`digest chat`)."""

    def __init__(self, text: str, local_paths: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.local_paths = local_paths


class BadSha(CommandError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class BadCommitUrl(CommandError):
    """A URL that is not a commit page of a GitHub host we serve."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class BadDate(CommandError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class BadOption(CommandError):
    """`reason` says what a valid value looks like ("use zh or en")."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(name, value, reason)
        self.name = name
        self.value = value
        self.reason = reason


class UnknownOption(CommandError):
    def __init__(self, name: str, suggestion: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.suggestion = suggestion


class DuplicateOption(CommandError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class TooManyArguments(CommandError):
    def __init__(self, extra: tuple[str, ...]) -> None:
        super().__init__(*extra)
        self.extra = extra


class MissingArgument(CommandError):
    """`what` is a noun phrase: "a repository (owner/name)"."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class LocalPathRefused(CommandError):
    """A local path where only GitHub repositories are allowed (`digest serve` without
    DIGEST_ALLOW_LOCAL_PATHS): a chat user must not read the server's disk."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class NotFollowed(UsageError):
    """A channel command about a repository the channel does not follow (None: it follows
    none at all). `repo` is as the user should read it: owner/name, or a clone's name and path."""

    def __init__(self, repo: str | None) -> None:
        super().__init__(repo)
        self.repo = repo


class QuestionTooLong(CommandError):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(length, limit)
        self.length = length
        self.limit = limit
