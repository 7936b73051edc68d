"""One subscription's due digests: claim -> plan -> build -> post -> record (DESIGN §7).

Exactly once rests on the store: a run is claimed before anything is built, marked POSTING
before the post goes out, finished with the message ids and the new cursor in one transaction.
A replica that dies leaves its claim to expire; whoever takes it over asks the platform whether
the post went out before posting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.delivery.plan import Plan, cursor_for, make_plan, notes_for
from bot.delivery.poster import Post, Poster
from bot.delivery.schedule import fire_times, period_of, select
from bot.store.database import Store
from bot.store.records import DigestRun, RunState, Subscription
from digest.analysis.base import Analyzer
from digest.redact import redact
from digest.service import assemble_digest
from digest.sources.base import CommitSource
from digest.window import resolve_tz

log = logging.getLogger(__name__)

# A post later than this after its fire says that it is a catch-up.
LATE = timedelta(hours=1)


class Outcome(StrEnum):
    POSTED = "posted"
    SKIPPED = "skipped"  # nothing to show (an empty day); the cursor moved on
    FOUND_EXISTING = "found-existing"  # a taken-over run had been posted: recorded, not reposted
    NOT_CLAIMED = "not-claimed"  # another replica has it, it is done, or our claim was lost
    FAILED = "failed"  # gave up after max_attempts
    RETRY_LATER = "retry-later"  # failed this time; the claim expires and someone retries


@dataclass(frozen=True)
class RunOutcome:
    subscription_id: int
    period: str
    outcome: Outcome
    message_ids: tuple[str, ...] = ()
    commits: int = 0  # commits in the digest (after the subscription's filters)
    detail: str | None = None  # the fallback taken, or the error

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
    """Told of each fire's run: when this replica starts it (it holds the claim), and how
    every attempt ended. bot/ops/metrics.py turns these into figures."""

    def run_started(self, sub: Subscription, fire: datetime, started: datetime) -> None: ...

    def run_finished(self, sub: Subscription, outcome: RunOutcome) -> None: ...


class NoPoster(LookupError):
    def __init__(self, platform: str) -> None:
        super().__init__(f"no poster for platform {platform!r}")


@dataclass
class _Lease:
    lost: bool = False


@dataclass
class _Batch:
    """What one batch has read so far: the source it opened and the plan it made."""

    source: CommitSource | None = None
    plan: Plan | None = None
    offset: int = 0  # the index in the batch's fires where plan.fires starts
    late: list[str] = field(default_factory=list)


def short_error(exc: BaseException) -> str:
    """`Type: first line`, redacted and bounded: fit for a log line and the run row."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return redact(text)[:300]


class Runner:
    """Runs due fires of a subscription, oldest first; every dependency is injected."""

    def __init__(
        self,
        store: Store,
        open_source: Callable[[str], CommitSource],
        analyzer: Analyzer,
        posters: Mapping[str, Poster],
        *,
        clock: Callable[[], datetime],
        replica: str,
        lease: timedelta,
        max_attempts: int = 3,
        concurrency: int = 8,
        observer: RunObserver | None = None,
    ) -> None:
        if lease <= timedelta(0) or max_attempts < 1:
            raise ValueError("lease must be positive and max_attempts at least 1")
        self.store = store
        self.open_source = open_source
        self.analyzer = analyzer
        self.posters = posters
        self.clock = clock
        self.replica = replica
        self.lease = lease
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.observer = observer

    async def run_batch(
        self, sub: Subscription, fires: Sequence[datetime], now: datetime
    ) -> list[RunOutcome]:
        """Run `fires` oldest first; stop at the first that is not finished here and now."""
        outcomes: list[RunOutcome] = []
        batch = _Batch()
        try:
            for index in range(len(fires)):
                outcome = await self._run_one(sub, list(fires), index, now, batch)
                outcomes.append(outcome)
                if outcome.outcome not in (Outcome.POSTED, Outcome.SKIPPED):
                    if outcome.outcome != Outcome.FOUND_EXISTING:
                        break
                    batch.plan = None  # the cursor moved under the plan: read again
        finally:
            if batch.source is not None:
                with suppress(Exception):
                    await batch.source.aclose()
        return outcomes

    async def _run_one(
        self, sub: Subscription, fires: list[datetime], index: int, now: datetime, batch: _Batch
    ) -> RunOutcome:
        outcome = await self._attempt(sub, fires, index, now, batch)
        if self.observer is not None:
            self.observer.run_finished(sub, outcome)
        return outcome

    async def _attempt(
        self, sub: Subscription, fires: list[datetime], index: int, now: datetime, batch: _Batch
    ) -> RunOutcome:
        fire = fires[index]
        period = period_of(sub, fire)
        claim = await self.store.claim_run(sub.id, period, self.replica, self.lease)
        if claim is None:
            return RunOutcome(sub.id, period, Outcome.NOT_CLAIMED)
        if self.observer is not None:
            self.observer.run_started(sub, fire, self.clock())
        run = claim.run
        try:
            async with self._lease_kept(run) as lease:
                if claim.taken_over and run.state == RunState.POSTING:
                    found = await self._find_existing(sub, run, fire, batch)
                    if found is not None:
                        return found
                if batch.plan is None:
                    batch.source = batch.source or self.open_source(sub.repo)
                    cursor = await self.store.get_cursor(sub.id)
                    runs = await self.store.runs(sub.id)
                    batch.plan = await make_plan(
                        batch.source, sub, fires[index:], now=now, cursor=cursor, runs=runs
                    )
                    batch.offset = index
                return await self._deliver(sub, run, batch.plan, index - batch.offset, lease)
        except Exception as exc:  # any failure: retry after the lease, or give up
            return await self._failed(sub, run, exc)

    async def _deliver(
        self, sub: Subscription, run: DigestRun, plan: Plan, part: int, lease: _Lease
    ) -> RunOutcome:
        commits = select(plan.parts[part], sub)
        fire = plan.fires[part]
        cursor = plan.cursor_after(sub, part, run.period, self.clock())
        detail = plan.fallback.value if plan.fallback is not None else None
        lost = RunOutcome(sub.id, run.period, Outcome.NOT_CLAIMED, detail="lease lost")
        if not commits and not sub.post_empty:
            if lease.lost or not await self._mark_posting(run, plan):
                return lost
            if not await self.store.finish_run(
                run.id, self.replica, RunState.SKIPPED, cursor=cursor
            ):
                return lost
            return RunOutcome(sub.id, run.period, Outcome.SKIPPED, detail=detail)
        poster = self._poster(sub)
        digest = await assemble_digest(
            plan.repo,
            plan.branch,
            plan.windows[part],
            commits,
            self.analyzer,
            language=sub.language,
            now=self.clock,
            concurrency=self.concurrency,
        )
        if lease.lost or not await self._mark_posting(run, plan):
            return lost
        late = self.clock() - fire > LATE
        due = fire.astimezone(resolve_tz(sub.tz)).strftime("%Y-%m-%d %H:%M") if late else None
        notes = notes_for(plan, sub.language, late_since=due)
        post = Post(digest, run_key(run), notes, sub.min_importance)
        ids = await poster.post_digest(sub.target, post)
        if not await self.store.finish_run(
            run.id, self.replica, RunState.POSTED, message_ids=ids, cursor=cursor
        ):
            # Posted, but another replica took the run over: it will find the post by its key.
            log.warning("digest run %s lost its claim after posting", run.id)
        return RunOutcome(sub.id, run.period, Outcome.POSTED, ids, len(commits), detail)

    async def _mark_posting(self, run: DigestRun, plan: Plan) -> bool:
        return await self.store.mark_posting(
            run.id, self.replica, base_sha=plan.base, head_sha=plan.head
        )

    async def _find_existing(
        self, sub: Subscription, run: DigestRun, fire: datetime, batch: _Batch
    ) -> RunOutcome | None:
        """A run taken over while POSTING: if its post went out, record it and post nothing."""
        ids = await self._poster(sub).find_digest(sub.target, run_key(run))
        if ids is None:
            return None
        cursor = None
        if run.head_sha is not None:
            # Its plan had later parts if the next fire had passed when it was claimed; when
            # unsure, keep base: a commit may then show twice, but none is lost.
            final = not fire_times(sub, fire, run.created_at)
            batch.source = batch.source or self.open_source(sub.repo)
            branch = sub.branch or await batch.source.default_branch()
            cursor = cursor_for(
                sub, branch, run.period, run.base_sha, run.head_sha, final=final, now=self.clock()
            )
        await self.store.finish_run(
            run.id, self.replica, RunState.POSTED, message_ids=ids, cursor=cursor
        )
        return RunOutcome(sub.id, run.period, Outcome.FOUND_EXISTING, ids)

    async def _failed(self, sub: Subscription, run: DigestRun, exc: Exception) -> RunOutcome:
        error = short_error(exc)
        log.warning(
            "digest of subscription %s for %s failed (attempt %s of %s): %s",
            sub.id,
            run.period,
            run.attempts,
            self.max_attempts,
            error,
        )
        if run.attempts < self.max_attempts:
            return RunOutcome(sub.id, run.period, Outcome.RETRY_LATER, detail=error)
        try:
            await self.store.finish_run(run.id, self.replica, RunState.FAILED, error=error)
        except Exception as again:
            log.warning("cannot record the failed run %s: %s", run.id, short_error(again))
            return RunOutcome(sub.id, run.period, Outcome.RETRY_LATER, detail=error)
        return RunOutcome(sub.id, run.period, Outcome.FAILED, detail=error)

    def _poster(self, sub: Subscription) -> Poster:
        poster = self.posters.get(sub.target.platform)
        if poster is None:
            raise NoPoster(sub.target.platform)
        return poster

    @asynccontextmanager
    async def _lease_kept(self, run: DigestRun) -> AsyncIterator[_Lease]:
        """Extend the claim every lease/3 while the run works; note when it was lost."""
        state = _Lease()

        async def keep() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                try:
                    kept = await self.store.extend_lease(run.id, self.replica, self.lease)
                except Exception as exc:
                    log.warning("cannot extend the lease of run %s: %s", run.id, short_error(exc))
                    continue
                if not kept:
                    log.warning("digest run %s was taken over by another replica", run.id)
                    state.lost = True
                    return

        keeper = asyncio.create_task(keep())
        try:
            yield state
        finally:
            keeper.cancel()
            with suppress(asyncio.CancelledError):
                await keeper


def run_key(run: DigestRun) -> str:
    """The key a post carries, so a replica that takes the run over can find it."""
    return f"digest-run-{run.id}"
