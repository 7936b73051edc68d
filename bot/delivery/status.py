"""Where a subscription's deliveries stand, from its run rows (for `/digest status`): the last
digest posted, a run under way, the last failure and what was retried, the next one due.

Pure: runs and the time in, a frozen value out; bot/chat puts it into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.schedule import fire_times
from bot.store.records import DigestRun, RunState, Subscription


@dataclass(frozen=True)
class DeliveryStatus:
    last_posted: DigestRun | None  # the newest period posted
    under_way: DigestRun | None  # the newest period claimed or being posted, not finished
    last_failure: DigestRun | None  # the newest period that met an error, whatever came of it
    next_due: datetime | None  # the next scheduled time after now

    @property
    def gave_up(self) -> bool:
        failure = self.last_failure
        return failure is not None and failure.state == RunState.FAILED


def delivery_status(sub: Subscription, runs: Sequence[DigestRun], now: datetime) -> DeliveryStatus:
    """`runs` in any order; only the newest of each kind counts."""
    newest = sorted(runs, key=lambda r: r.period, reverse=True)
    posted = next((r for r in newest if r.state == RunState.POSTED), None)
    under_way = next((r for r in newest if not r.state.finished), None)
    failure = next((r for r in newest if r.error or r.failures), None)
    upcoming = fire_times(sub, now, now + timedelta(days=8))
    return DeliveryStatus(posted, under_way, failure, upcoming[0] if upcoming else None)
