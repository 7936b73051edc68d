"""What a command gives back (Reply) and what it may touch (Services, Context).

The platform layer (`digest serve`, `digest chat`, a test) builds the Services once and a Context
per command; bot/chat/execute.py turns a Command into a Reply; each platform shows the Reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.chat.commands import PREFIX, Command
from bot.chat.turns import Turns
from bot.delivery.poster import Poster
from bot.ops.settings import Settings
from bot.store.database import Store
from bot.store.records import Subscription, Target
from digest.analysis.base import Analyzer
from digest.models import AnalyzedCommit, Digest
from digest.sources.base import CommitSource

if TYPE_CHECKING:  # the LLM client loads with an LLM analyzer, not with every command
    from digest.analysis.ask import Asker


class ReplyKind(StrEnum):
    HELP = "help"
    INFO = "info"
    ERROR = "error"
    ANALYSIS = "analysis"
    SUBSCRIPTIONS = "subscriptions"
    DIGESTS = "digests"
    ANSWER = "answer"  # `ask`: `text` is the answer, `question` the question, `title` the commit
    STATUS = "status"  # `status`: where the channel's digests stand


@dataclass(frozen=True)
class Reply:
    """What the platform shows. Errors are for the asker alone (`ephemeral`)."""

    kind: ReplyKind
    text: str
    ephemeral: bool = False
    usage: str | None = None
    analysis: AnalyzedCommit | None = None
    subscriptions: tuple[Subscription, ...] = ()
    digests: tuple[Digest, ...] = ()
    question: str | None = None
    title: str | None = None


@dataclass
class Services:
    """What commands use, the same for every channel of a process: injected by the platform
    layer (`digest serve`, `digest chat`, a test)."""

    settings: Settings
    store: Store
    open_source: Callable[[str], CommitSource]
    analyzer: Analyzer
    clock: Callable[[], datetime]
    on_change: Callable[[], Awaitable[None]] | None = None
    # Told of every command (None for one that did not parse), for the metrics.
    on_command: Callable[[str, Command | None], None] | None = None
    # Answers `ask` questions; None when no LLM endpoint is configured.
    asker: Asker | None = None
    github_hosts: frozenset[str] = field(default_factory=lambda: frozenset({"github.com"}))
    # How commands start here: "/digest " in Slack and Feishu, "" at the `digest chat` prompt.
    prefix: str = PREFIX
    # Whether a repository may be a local clone's path (`digest chat`; `serve` only with
    # DIGEST_ALLOW_LOCAL_PATHS: the paths are the server's).
    local_paths: bool = False
    # The platforms' posters, for links to posted digests in `status` (none: no links).
    posters: Mapping[str, Poster] = field(default_factory=dict)
    # Commands worked on at once after their ack (DIGEST_COMMAND_CONCURRENCY), in turn.
    turns: Turns = field(default_factory=lambda: Turns(4))


@dataclass(frozen=True)
class Context:
    """One command's context: where it was typed, by whom, and the services it may touch."""

    target: Target
    user: str
    services: Services
