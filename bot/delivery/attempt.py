"""One claim of one run (an Attempt), and how an attempt whose own work failed ends: counted,
then tried again later by any replica, or, after the allowed failures, given up with a short
notice in the channel (DESIGN §7: nothing lost in silence)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.lease import Lease
from bot.delivery.notices import gave_up_notice, plain_reason
from bot.delivery.outcomes import Outcome, RunOutcome
from bot.delivery.parts import part_key
from bot.delivery.poster import Poster
from bot.delivery.retry import Backoff, Retrier
from bot.ops.logs import short_error
from bot.store.database import Store
from bot.store.records import DigestRun, Subscription

log = logging.getLogger(__name__)

# A failed attempt is tried again after lease * 2 ** (failures - 1), at most this long.
MOST_BETWEEN_ATTEMPTS = timedelta(hours=1)


def run_key(run: DigestRun) -> str:
    """The key a post carries, so a replica that takes the run over can find its parts."""
    return f"digest-run-{run.id}"


@dataclass
class Attempt:
    """One claim of one run, and what it needs on the way."""

    sub: Subscription
    run: DigestRun
    lease: Lease
    retrier: Retrier
    what: str  # "digest of o/r for 2026-02-05 to slack:C1 (run 7)", for the log
    sent: int = 0  # parts this attempt sent


class Failure:
    """Records a failed attempt, and gives the run up after `max_attempts` of them."""

    def __init__(
        self,
        store: Store,
        replica: str,
        *,
        lease: timedelta,
        max_attempts: int,
        clock: Callable[[], datetime],
        backoff: Backoff,
        explain: Callable[[BaseException], str],
    ) -> None:
        self.store = store
        self.replica = replica
        self.lease = lease
        self.max_attempts = max_attempts
        self.clock = clock
        self.backoff = backoff
        self.explain = explain
        self.noticed = False

    async def record(self, a: Attempt, exc: BaseException, poster: Poster | None) -> RunOutcome:
        sub, run = a.sub, a.run
        error = short_error(exc)
        failures = run.failures + 1
        give_up = failures >= self.max_attempts
        retry_at = self.clock() + min(self.lease * 2 ** (failures - 1), MOST_BETWEEN_ATTEMPTS)
        try:
            recorded = await self.store.fail_run(
                run.id,
                self.replica,
                error=error,
                retries=a.retrier.retries,
                give_up=give_up,
                retry_at=retry_at,
            )
        except Exception as again:  # not even that: the claim expires and someone retries
            log.warning("%s: failed (%s); cannot record it: %s", a.what, error, short_error(again))
            return RunOutcome(sub.id, run.period, Outcome.RETRY_LATER, detail=error)
        if not recorded:
            log.warning("%s: failed (%s) after its claim was lost", a.what, error)
            return RunOutcome(sub.id, run.period, Outcome.NOT_CLAIMED, detail="lease lost")
        if not give_up:
            log.warning(
                "%s: failed (attempt %d of %d): %s; tried again from %s",
                a.what,
                failures,
                self.max_attempts,
                error,
                retry_at.isoformat(timespec="seconds"),
            )
            return RunOutcome(
                sub.id, run.period, Outcome.RETRY_LATER, detail=error, retry_at=retry_at
            )
        log.error("%s: gave up after %d failed attempts: %s", a.what, failures, error)
        if poster is not None:
            await self._notice(a, exc, failures, poster)
        return RunOutcome(sub.id, run.period, Outcome.FAILED, detail=error)

    async def _notice(self, a: Attempt, exc: BaseException, attempts: int, poster: Poster) -> None:
        """Say in the channel that this digest will not come, and how to get it anyway."""
        sub = a.sub
        try:
            reason = self.explain(exc)
        except Exception:
            reason = plain_reason(exc)
        text = gave_up_notice(sub.language, sub.repo, a.run.period, reason, attempts)
        key = part_key(run_key(a.run), "notice")
        retrier = Retrier(self.backoff, a.what)
        try:
            await retrier.run(
                "posting the failure notice", lambda: poster.notify(sub.target, key, text)
            )
        except Exception as again:
            log.error("%s: the failure notice could not be posted: %s", a.what, short_error(again))
            return
        log.info("%s: the failure notice is posted", a.what)
        self.noticed = True
