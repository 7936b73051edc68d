"""The chat's commands as values, and their usage lines (DESIGN.md §5), platform-neutral.

bot/chat/grammar.py turns text into these values; bot/chat/execute.py carries them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

from digest.models import Importance, Language

MAX_INPUT_CHARS = 2_000
MAX_QUESTION_CHARS = 500
# How Slack and Feishu users start a command; at the `digest chat` prompt there is none.
PREFIX = "/digest "
# The longest repository a subscription can hold: owner/name, or a local clone's absolute path.
MAX_REPO_CHARS = 1_024

USAGE: dict[str, str] = {
    "help": "/digest help [command]",
    "lookup": "/digest <sha> | owner/repo@<sha> | <commit URL>",
    "subscribe": (
        "/digest subscribe owner/repo [branch:main] [at:09:00] [tz:Asia/Shanghai] [lang:zh|en]"
        " [min:high|medium|low] [paths:src/**,lib/**] [exclude:bots,alice] [days:all|weekdays]"
        " [empty:skip|post]"
    ),
    "unsubscribe": "/digest unsubscribe owner/repo",
    "list": "/digest list",
    "now": "/digest now [owner/repo] [YYYY-MM-DD]",
    "ask": "/digest ask <sha> | owner/repo@<sha> | <commit URL> <question>",
    "status": "/digest status [owner/repo]",
}
_OVERVIEW = (
    "/digest <sha> | ask <sha> <question> | subscribe owner/repo [options] | list | now | status"
)


def with_prefix(text: str, prefix: str = PREFIX) -> str:
    """A usage line or hint as typed where commands start with `prefix` ("" in `digest chat`)."""
    return prefix + text.removeprefix(PREFIX) if text.startswith(PREFIX) else text


def usage_for(command: str | None, prefix: str = PREFIX) -> str:
    """The usage line shown after an error: one subcommand's (a key of USAGE), or the overview."""
    return "usage: " + with_prefix(USAGE.get(command or "", _OVERVIEW + " | help"), prefix)


def is_local_path(repo: str) -> bool:
    """Whether a repository argument names a local clone: it is written as a path (`/abs`,
    `./rel`, `../rel`, `~/rel`, `.`), never guessed from what happens to exist on the disk.
    No `owner/name` can start so."""
    return repo in (".", "..", "~") or repo.startswith(("/", "./", "../", "~/"))


def typed_repo(repo: str) -> str:
    """A repository as a command takes it: a path with spaces in quotes, to stay one word."""
    return f'"{repo}"' if any(ch.isspace() for ch in repo) else repo


def shown_repo(repo: str) -> str:
    """A subscription's repository as people read it: owner/name, or a clone's name and path."""
    if not repo.startswith("/"):
        return repo
    name = repo.rstrip("/").rsplit("/", 1)[-1] or repo
    return f"{name} ({repo})"


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None  # a key of USAGE


@dataclass(frozen=True, slots=True)
class Lookup:
    repo: str | None  # None: search the channel's subscriptions
    sha: str  # 7-40 lowercase hex


@dataclass(frozen=True, slots=True)
class SubscribeOptions:
    """What a subscribe command sets; None = not given, so an update keeps it.

    The field names are the store's settable columns: the given ones pass on as they are.
    """

    branch: str | None = None
    at: str | None = None  # "HH:MM", zero-padded
    tz: str | None = None  # an IANA name that resolves
    language: Language | None = None
    min_importance: Importance | None = None
    paths: tuple[str, ...] | None = None  # globs; () = everything (`paths:none`)
    exclude: tuple[str, ...] | None = None  # logins/names or "bots"; () = nobody
    weekdays_only: bool | None = None
    post_empty: bool | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    repo: str
    options: SubscribeOptions = SubscribeOptions()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    repo: str


@dataclass(frozen=True, slots=True)
class ListSubscriptions:
    pass


@dataclass(frozen=True, slots=True)
class Now:
    repo: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """A question about one commit, answered by the LLM from its diff."""

    repo: str | None
    sha: str
    question: str


@dataclass(frozen=True, slots=True)
class Status:
    """Where the channel's digests stand: the last posted, the next due, the last failure."""

    repo: str | None = None  # None: every subscription of the channel


Command: TypeAlias = (
    Help | Lookup | Subscribe | Unsubscribe | ListSubscriptions | Now | Ask | Status
)
