"""The platform-neutral poster: what Slack, Feishu and the terminal implement to deliver digests.

Exactly-once delivery needs the platform's help after a crash between "posted" and "recorded":
every post carries a run key, and `find_digest` looks a key up (Slack: message metadata; Feishu:
the message uuid). A poster that cannot look anything up returns None, and the run posts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bot.delivery.links import ReportLinks
from bot.store.records import Target
from digest.models import Digest, Importance


@dataclass(frozen=True)
class Post:
    """What one digest post carries, whatever the platform.

    `notes` are one-line remarks for the reader, e.g. that a date window stood in for the
    landed range on a first digest or after a force-push. Items below `min_importance` are
    counted but not detailed (the subscription's `min:` option).
    """

    digest: Digest
    run_key: str
    notes: tuple[str, ...] = ()
    min_importance: Importance = Importance.LOW


class Poster(Protocol):
    platform: str

    async def post_digest(self, target: Target, post: Post) -> tuple[str, ...]:
        """Post the digest; return the ids of the messages made (the first is the main post)."""
        ...

    async def find_digest(self, target: Target, run_key: str) -> tuple[str, ...] | None:
        """The message ids of an earlier post with this run key, or None."""
        ...


ClientT = TypeVar("ClientT")


class ChatPoster(Generic[ClientT]):
    """What the Slack and Feishu posters share: their platform client and where a post links
    the full report (the web page, or None to attach the file)."""

    def __init__(self, client: ClientT, links: ReportLinks | None = None) -> None:
        self.client = client
        self.links = links or ReportLinks()
