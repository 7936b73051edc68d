"""The one place named errors become words: one sentence each, never a secret or a traceback."""

from __future__ import annotations

from bot.chat.commands import PREFIX
from bot.store.errors import StoreError
from digest.errors import (
    AmbiguousSha,
    AskNeedsLLM,
    AuthenticationFailed,
    BadCommitUrl,
    BadDate,
    BadOption,
    BadRepoName,
    BadSha,
    BranchNotFound,
    CommandError,
    CommitNotFound,
    DigestError,
    DuplicateOption,
    FeishuNeedsKey,
    GitFailed,
    InputTooLong,
    InvalidDate,
    InvalidRepo,
    InvalidSha,
    InvalidWindow,
    LLMFailure,
    LocalPathRefused,
    MissingArgument,
    NotAGitRepository,
    NotFollowed,
    NothingToServe,
    PostRefused,
    QuestionTooLong,
    RateLimited,
    RepoNotFound,
    ServiceUnavailable,
    ServiceUnreachable,
    SlackRefused,
    TooManyArguments,
    UnknownCommand,
    UnknownOption,
    UnknownTimeZone,
    UsageError,
)
from digest.redact import redact


def _wait_words(seconds: float | None) -> str:
    if seconds is None:
        return "later"
    if seconds < 90:
        return f"in about {max(1, round(seconds))} seconds"
    return f"in about {round(seconds / 60)} minutes"


def _shown(text: str, limit: int = 60) -> str:
    """User text quoted for a sentence: clipped, and with control characters escaped (one line)."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _invocation(error: CommandError, prefix: str) -> str:
    """How the command was typed: `/digest subscribe` in Slack, `subscribe` in `digest chat`."""
    words = [prefix.strip(), "" if error.command in (None, "lookup") else error.command or ""]
    return " ".join(word for word in words if word) or "A commit lookup"


def _quoted(said: str) -> str:
    """A provider's own words, redacted and on one line, as a parenthesis; or nothing."""
    line = " ".join(redact(said).split())
    return f" (“{line[:200]}”)" if line else ""


def _did_you_mean(suggestion: str | None) -> str:
    return f"; did you mean {suggestion!r}?" if suggestion else "."


_SETTING = {"GitHub": "GITHUB_API_URL"}  # where a service's address is configured


def describe(error: DigestError, prefix: str | None = PREFIX) -> str:
    """One English sentence for the person who typed the command.

    `prefix` is how commands start where they typed it: `/digest ` in Slack and Feishu, "" at
    the `digest chat` prompt, None on the `digest` command line; hints are written to match.
    """
    chat = prefix if prefix is not None else PREFIX
    match error:
        case InvalidDate(value=value):
            return f"Invalid date {value!r}: use YYYY-MM-DD or an ISO date-time."
        case InvalidWindow(reason=reason):
            return f"Invalid time window: {reason}."
        case UnknownTimeZone(name=name):
            return f"Unknown time zone {name!r}: use an IANA name such as Asia/Shanghai or UTC."
        case InvalidRepo(value=value, reason=reason):
            why = f" ({reason})" if reason else ""
            return f"{value!r} is not a local git repository, an owner/name or a GitHub URL{why}."
        case InvalidSha(value=value):
            return f"{value!r} is not a commit: give 7 to 40 hex characters, a branch or a tag."
        case NotAGitRepository(path=path):
            return f"{path} is not a git repository."
        case RepoNotFound(repo=repo):
            return (
                f"Repository {repo} was not found on GitHub, or it is private and "
                "GITHUB_TOKEN cannot see it."
            )
        case BranchNotFound(repo=repo, branch=branch):
            return f"Branch {branch!r} does not exist in {repo}."
        case AmbiguousSha(repo=repo, prefix=prefix, candidates=candidates):
            shown = ", ".join(c[:12] for c in candidates[:5])
            more = f" (matches {shown})" if shown else ""
            return f"{prefix} is ambiguous in {repo}{more}: give more characters of the sha."
        case CommitNotFound(repo=repo, ref=ref):
            return f"Commit {ref!r} was not found in {repo}."
        case AuthenticationFailed(service=service):
            return f"{service} refused the credentials: check GITHUB_TOKEN and its access."
        case SlackRefused(setting=setting, error=code):
            return (
                f"Slack refused {setting} ({redact(code)}): check the token and the app's settings."
            )
        case FeishuNeedsKey():
            return (
                "Feishu's HTTP callback needs FEISHU_ENCRYPT_KEY (and FEISHU_VERIFICATION_TOKEN) "
                "so that every request can be checked; or set FEISHU_LONG_CONNECTION=true."
            )
        case QuestionTooLong(length=length, limit=limit):
            return f"The question is {length} characters long; ask in at most {limit}."
        case AskNeedsLLM():
            instead = "digest show REPO SHA" if prefix is None else f"{prefix}<sha>"
            return (
                "Questions need an LLM endpoint: set OPENAI_API_KEY (or OPENAI_BASE_URL); "
                f"{instead} explains a commit without one."
            )
        case LocalPathRefused(path=path):
            return (
                f"{_shown(path)} is a local path, and this bot follows GitHub repositories only: "
                "give owner/name or a GitHub URL."
            )
        case NothingToServe():
            return (
                "No chat platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                "(HTTP) or SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) for Slack, "
                "FEISHU_APP_ID and FEISHU_APP_SECRET for Feishu; `digest chat` works without any."
            )
        case RateLimited(service=service, reset_in_seconds=seconds):
            return f"{service}'s rate limit is exhausted; try again {_wait_words(seconds)}."
        case ServiceUnreachable(service=service):
            if prefix == PREFIX:  # in Slack or Feishu: the bot's server is offline
                return f"{service} did not answer (no network?); try again later."
            setting = f" and {_SETTING[service]}" if service in _SETTING else ""
            local = ", or give the path of a local clone instead" if service == "GitHub" else ""
            return f"{service} did not answer (no network?): check the connection{setting}{local}."
        case PostRefused(platform=platform, error=code):
            return (
                f"{platform} refused the post ({redact(code)}): check that the bot is still "
                "in the channel and has the scopes it needs."
            )
        case ServiceUnavailable(service=service, detail=detail):
            why = f" ({redact(detail)})" if detail else ""
            return f"{service} is not answering properly{why}; try again later."
        case NotFollowed(repo=None):
            return f"This channel follows no repository yet: {chat}subscribe owner/repo first."
        case NotFollowed(repo=repo):
            return f"This channel does not follow {repo}: {chat}subscribe {repo} first."
        case LLMFailure(kind="auth"):
            return (
                f"The LLM endpoint refused the key{_quoted(error.detail)}: check OPENAI_API_KEY "
                "(and OPENAI_BASE_URL)."
            )
        case LLMFailure(kind="model", detail=model):
            return f"The LLM endpoint has no model {model!r}: check DIGEST_LLM_MODEL."
        case LLMFailure(kind="billing", detail=said, host=host):
            return (
                f"LLM calls stopped: out of credit at {host or 'the endpoint'}{_quoted(said)}; "
                "top up the account's balance, then run again."
            )
        case LLMFailure(kind="forbidden", detail=said):
            return (
                f"The LLM endpoint denied access{_quoted(said)}: check that OPENAI_API_KEY may "
                "use DIGEST_LLM_MODEL."
            )
        case LLMFailure(kind="path", detail=said):
            return (
                f"The LLM endpoint has no chat completions at OPENAI_BASE_URL{_quoted(said)}: "
                "check the URL (OpenAI-compatible servers usually end in /v1)."
            )
        case LLMFailure(kind="stream_only", detail=said):
            return (
                f"The model answers only streamed calls{_quoted(said)}: turn its thinking off "
                'with DIGEST_LLM_EXTRA_BODY={"enable_thinking": false}, or choose another model.'
            )
        case LLMFailure(kind="api_version", detail=said):
            return (
                f"Azure refused the API version{_quoted(said)}: set OPENAI_API_VERSION to a newer "
                "one (reasoning deployments need 2024-12-01-preview or later), or use the v1 URL "
                "https://RESOURCE.openai.azure.com/openai/v1."
            )
        case LLMFailure():
            return f"The LLM analysis failed: {error}."
        case StoreError(url=url, detail=detail):
            return (
                f"The database {url} cannot be used ({redact(detail)}): check DIGEST_DATABASE_URL."
            )
        case GitFailed(detail=detail):
            return f"git failed: {redact(detail)}"
        case InputTooLong(length=length, limit=limit):
            return f"The command is too long ({length} characters; the limit is {limit})."
        case UnknownCommand(word=word, suggestion=suggestion):
            return f"{_shown(word)} is not a command or a commit sha{_did_you_mean(suggestion)}"
        case BadRepoName(text=text, local_paths=True):
            return (
                f"{_shown(text)} is not a repository: give owner/name, its GitHub URL "
                "or the path of a local clone (./repo)."
            )
        case BadRepoName(text=text):
            return f"{_shown(text)} is not a repository: give owner/name or its GitHub URL."
        case BadSha(text=text):
            return f"{_shown(text)} is not a commit sha: give 7 to 40 hex characters."
        case BadCommitUrl(text=text):
            return (
                f"{_shown(text)} is not a commit URL: use one like "
                "https://github.com/owner/name/commit/<sha>."
            )
        case BadDate(text=text):
            return f"{_shown(text)} is not a date: use YYYY-MM-DD."
        case BadOption(name=name, value=value, reason=reason):
            return f"Invalid value {_shown(value)} for {name}: {reason}."
        case UnknownOption(name=name, suggestion=suggestion):
            return f"{_invocation(error, chat)} has no option {_shown(name)}" + _did_you_mean(
                suggestion
            )
        case DuplicateOption(name=name):
            return f"Option {_shown(name)} is given more than once."
        case TooManyArguments(extra=extra):
            shown = ", ".join(_shown(word, 40) for word in extra[:3])
            more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
            noun = "argument" if len(extra) == 1 else "arguments"
            return f"{_invocation(error, chat)} does not take the {noun} {shown}{more}."
        case MissingArgument(what=what):
            return f"{_invocation(error, chat)} needs {what}."
        case UsageError():
            return f"Invalid input: {error}."
        case _:
            return f"The digest could not be made: {type(error).__name__}."


def explain_failure(error: BaseException) -> str:
    """Why a scheduled digest could not be made or posted, in one sentence (the notice in its
    channel, and `/digest status`); an error we did not name says only its kind."""
    if isinstance(error, DigestError):
        return describe(error)
    return f"An internal error ({type(error).__name__}) stopped it."


def exit_status(error: DigestError) -> int:
    """2 for what the user typed wrong, 1 for what failed upstream."""
    return 2 if isinstance(error, UsageError) else 1
