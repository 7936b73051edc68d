"""The platform-neutral poster: what Slack, Feishu and the terminal implement to deliver digests.

A post is a sequence of parts (bot/delivery/parts.py). A poster renders a post into its parts
(pure), sends one part at a time, and looks up which parts of a run's post are out, by the key
each part carries where the platform can show it again (Slack: message metadata; Feishu: the
message `uuid`, for which Feishu hands back the first message). The order, the resume and the
retries are bot/delivery/delivering.py's, the same for every platform.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bot.delivery.links import ReportLinks, report_name
from bot.delivery.parts import Part, PartKind
from bot.store.records import Target
from digest.models import Digest, Importance
from digest.render.markdown import render_markdown


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


@dataclass(frozen=True)
class ReportFile:
    """The Markdown report attached to a post whose report has no web page to link."""

    name: str
    text: str


class Poster(Protocol):
    platform: str

    def parts(self, post: Post) -> list[Part]:
        """The post's parts, in the order they go out; the first is the main message."""
        ...

    async def send(self, target: Target, run_key: str, part: Part, out: Mapping[str, str]) -> str:
        """Send one part, keyed by `part_key(run_key, part.name)`; `out` holds the ids of the
        parts already out (replies go in the first part's thread). Returns its message id."""
        ...

    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]:
        """Which of `parts` the platform shows as out (name -> message id); `out` are those
        known already, `since` when the run began (no part of it is older). A platform that
        cannot be searched returns {} and relies on its de-duplication of repeated sends."""
        ...

    async def notify(self, target: Target, key: str, text: str) -> str:
        """Post a short plain message (a run that gave up says so), keyed by `key`."""
        ...

    async def permalink(self, target: Target, message_id: str) -> str | None:
        """A link to a message the poster made, when the platform has one."""
        ...


ClientT = TypeVar("ClientT")


class ChatPoster(ABC, Generic[ClientT]):
    """What the Slack and Feishu posters share: their platform client, where a post links the
    full report (the web page, or None to attach the file), and posting a whole digest at once
    (`/digest now`, which has no run to resume)."""

    platform: str

    def __init__(self, client: ClientT, links: ReportLinks | None = None) -> None:
        self.client = client
        self.links = links or ReportLinks()

    @abstractmethod
    def parts(self, post: Post) -> list[Part]: ...

    @staticmethod
    def report_part(digest: Digest, report_url: str | None) -> list[Part]:
        """The report file as the last part, when there is no page to link (`report_url` None)."""
        if report_url is not None:
            return []
        report = ReportFile(report_name(digest), render_markdown(digest))
        return [Part("file", PartKind.FILE, report)]

    @abstractmethod
    async def send(
        self, target: Target, run_key: str, part: Part, out: Mapping[str, str]
    ) -> str: ...

    @abstractmethod
    async def find(
        self,
        target: Target,
        run_key: str,
        parts: Sequence[Part],
        out: Mapping[str, str],
        since: datetime | None,
    ) -> dict[str, str]: ...

    @abstractmethod
    async def notify(self, target: Target, key: str, text: str) -> str: ...

    async def permalink(self, target: Target, message_id: str) -> str | None:
        return None

    async def post_digest(self, target: Target, post: Post) -> tuple[str, ...]:
        """Every part of the post, in order; the message ids, the main post first."""
        from bot.delivery.delivering import deliver_all  # it imports this module

        return await deliver_all(self, target, post)
