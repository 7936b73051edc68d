"""What the store keeps about channels: subscriptions, digest runs and cursors (frozen values)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from digest.models import Importance, Language


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Target(Record):
    """Where a digest or a reply goes: a channel of a workspace (Slack team, Feishu tenant)."""

    platform: str  # "slack" | "feishu" | "terminal"
    workspace: str
    channel: str


class Subscription(Record):
    id: int
    target: Target
    repo: str  # owner/name
    branch: str | None  # None: the repository's default branch
    at: str  # "HH:MM" in `tz`
    tz: str
    language: Language
    min_importance: Importance  # the lowest importance shown in the post
    paths: tuple[str, ...]  # globs; empty = everything
    exclude: tuple[str, ...]  # author names/logins, or "bots"
    weekdays_only: bool
    post_empty: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class RunState(StrEnum):
    CLAIMED = "claimed"  # a replica is building the digest
    POSTING = "posting"  # the digest is being posted; on takeover, look for the post first
    POSTED = "posted"
    SKIPPED = "skipped"  # nothing to post (an empty day)
    FAILED = "failed"  # gave up after the allowed attempts

    @property
    def finished(self) -> bool:
        return self in (RunState.POSTED, RunState.SKIPPED, RunState.FAILED)


class DigestRun(Record):
    """One (subscription, period) digest. `owner` is "" while no replica holds it (after a
    failed attempt, until `lease_until`, when it may be tried again)."""

    id: int
    subscription_id: int
    period: str  # the local date of the scheduled post, YYYY-MM-DD
    state: RunState
    owner: str
    lease_until: datetime
    attempts: int  # claims made, takeovers and retries included
    message_ids: tuple[str, ...]  # of the parts out, in the post's order (the main post first)
    error: str | None  # the last failure, passing (retried) or not
    base_sha: str | None
    head_sha: str | None
    created_at: datetime
    updated_at: datetime
    failures: int = 0  # attempts whose own work failed: these, and only these, lead to giving up
    takeovers: int = 0  # claims taken from a replica whose lease ran out (a crash, not a failure)
    retries: int = 0  # passing failures retried inside attempts (a lookup, the database away)
    posted_at: datetime | None = None  # when the last part went out


class Cursor(Record):
    """The branch head a subscription's last posted (or skipped) digest covered."""

    subscription_id: int
    branch: str
    head_sha: str
    period: str
    updated_at: datetime
