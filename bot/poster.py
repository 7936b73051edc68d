"""The platform-neutral poster: what Slack, Feishu and the terminal implement to deliver digests.

Exactly-once delivery needs the platform's help after a crash between "posted" and "recorded":
every post carries a run key, and `find_digest` looks a key up (Slack: message metadata; Feishu:
the message uuid). A poster that cannot look anything up returns None, and the run posts again.
"""

from __future__ import annotations

from typing import Protocol

from bot.records import Target
from bot.reports import report_url
from digest.models import Digest, Importance


class Poster(Protocol):
    platform: str

    async def post_digest(
        self,
        target: Target,
        digest: Digest,
        *,
        run_key: str,
        notes: tuple[str, ...] = (),
        min_importance: Importance = Importance.LOW,
    ) -> tuple[str, ...]:
        """Post the digest; return the ids of the messages made (the first is the main post).

        `notes` are one-line remarks for the reader, e.g. that a date window stood in for the
        landed range on a first digest or after a force-push. Items below `min_importance`
        are counted but not detailed (the subscription's `min:` option).
        """
        ...

    async def find_digest(self, target: Target, run_key: str) -> tuple[str, ...] | None:
        """The message ids of an earlier post with this run key, or None."""
        ...


def report_name(digest: Digest) -> str:
    """The file name of a digest's Markdown report, as attached to a post."""
    period = digest.window.day or digest.window.start.strftime("%Y-%m-%d")
    return f"digest-{digest.repo.full_name.replace('/', '-')}-{period}.md"


class ReportLinks:
    """Where a post links the full report: the signed web page, or None to attach the file."""

    def __init__(self, public_url: str | None, report_key: str | None) -> None:
        self.public_url = public_url
        self.report_key = report_key

    def report_url(self, digest: Digest) -> str | None:
        if not self.public_url or digest.window.day is None:
            return None
        return report_url(self.public_url, digest.repo, digest.window.day, self.report_key)
