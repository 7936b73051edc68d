"""What a run ends with, and who is told of a run's progress (bot/ops/metrics.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.store.records import Subscription


class Outcome(StrEnum):
    POSTED = "posted"
    SKIPPED = "skipped"  # nothing to show (an empty day); the cursor moved on
    FOUND_EXISTING = "found-existing"  # a taken-over run's parts were all out: recorded
    NOT_CLAIMED = "not-claimed"  # another replica has it, it is done, or our claim was lost
    FAILED = "failed"  # gave up after max_attempts
    RETRY_LATER = "retry-later"  # failed this time (or the database is away); tried again later


@dataclass(frozen=True)
class RunOutcome:
    subscription_id: int
    period: str
    outcome: Outcome
    message_ids: tuple[str, ...] = ()
    commits: int = 0  # commits in the digest (after the subscription's filters)
    detail: str | None = None  # the fallback taken, or the error
    retry_at: datetime | None = None  # when the run may be claimed again (unfinished runs)

    @property
    def settled(self) -> bool:
        """The period's run is finished, whoever finished it."""
        return self.outcome in (
            Outcome.POSTED,
            Outcome.SKIPPED,
            Outcome.FOUND_EXISTING,
            Outcome.FAILED,
        )


class RunObserver(Protocol):
    """Told of each fire's run: when this replica starts it (it holds the claim), how every
    attempt ended, and what happened on the way (a takeover, parts found out, a resume, a
    retry, a notice). bot/ops/metrics.py turns these into figures."""

    def run_started(self, sub: Subscription, fire: datetime, started: datetime) -> None: ...

    def run_finished(self, sub: Subscription, outcome: RunOutcome) -> None: ...

    def delivery_event(self, sub: Subscription, event: str, count: int = 1) -> None: ...
