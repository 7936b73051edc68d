"""APScheduler jobs from the subscriptions table; each job runs what is due (DESIGN §7).

One cron job per subscription fires at its time; a tick every minute reconciles the jobs with
the database (the one truth: a subscription made through another replica is scheduled here
within a minute) and runs whatever is still due — catch-up after downtime, runs whose claim
expired on a replica that died. Jobs live in memory: replicas share nothing but the database,
where the run claims make each digest go out once.

A replica holds at most `max_claims` runs at once, so the replicas share a busy minute and one
crash delays few channels. A run held elsewhere (or waiting for its retry) is looked at again
the moment its lease ends, not at the next tick: a dead replica's runs move within a lease.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from bot.delivery.notices import plain_reason
from bot.delivery.poster import Poster
from bot.delivery.retry import Backoff
from bot.delivery.run import Outcome, Runner, RunOutcome
from bot.delivery.schedule import due_fires, period_of
from bot.ops.logs import short_error
from bot.store.database import Store
from bot.store.records import Subscription
from digest.analysis.base import Analyzer
from digest.sources.base import CommitSource
from digest.window import resolve_tz

log = logging.getLogger(__name__)

TICK_JOB = "tick"


def job_id(subscription_id: int) -> str:
    return f"sub-{subscription_id}"


def cron_trigger(sub: Subscription) -> Any:
    """The subscription's time in its zone, every day or Monday to Friday."""
    hour, _, minute = sub.at.partition(":")
    return CronTrigger(
        hour=int(hour),
        minute=int(minute),
        day_of_week="mon-fri" if sub.weekdays_only else "*",
        timezone=resolve_tz(sub.tz),
    )


def _schedule_key(sub: Subscription) -> tuple[str, str, bool]:
    return (sub.at, sub.tz, sub.weekdays_only)


class DigestScheduler:
    """Schedules and runs every subscription's digests on this replica."""

    def __init__(
        self,
        store: Store,
        open_source: Callable[[str], CommitSource],
        analyzer: Analyzer,
        posters: Mapping[str, Poster],
        *,
        clock: Callable[[], datetime],
        replica: str,
        lease: timedelta = timedelta(seconds=60),
        max_catch_up: int = 3,
        max_attempts: int = 3,
        concurrency: int = 8,
        max_claims: int = 3,
        tick: timedelta = timedelta(minutes=1),
        misfire_grace: timedelta = timedelta(hours=1),
        backoff: Backoff | None = None,
        explain: Callable[[BaseException], str] = plain_reason,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_catch_up = max_catch_up
        self.runner = Runner(
            store,
            open_source,
            analyzer,
            posters,
            clock=clock,
            replica=replica,
            lease=lease,
            max_attempts=max_attempts,
            concurrency=concurrency,
            backoff=backoff,
            explain=explain,
        )
        self._claims = asyncio.Semaphore(max(1, max_claims))
        self._tick_every = tick
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            job_defaults={
                "misfire_grace_time": int(misfire_grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self._scheduled: dict[int, tuple[str, str, bool]] = {}
        # The latest finished period seen per subscription: spares the database a query per
        # subscription per tick when nothing can be due.
        self._settled: dict[int, str] = {}
        self._busy: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rechecks: dict[int, asyncio.Task[Any]] = {}  # subscription id -> a pending look
        self._reconciling = asyncio.Lock()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Schedule every subscription, then tick at once (catch-up) and every minute."""
        self._scheduler.start()
        await self.reconcile()
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self._tick_every.total_seconds(), timezone=UTC),
            id=TICK_JOB,
            # APScheduler keeps wall time; the injected clock only decides what is due.
            next_run_time=datetime.now(UTC),
            replace_existing=True,
        )

    async def shutdown(self) -> None:
        """Stop scheduling; runs in flight are cancelled and their claims left to expire."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._rechecks.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # the scheduler shuts down on the loop's next turn

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def get_jobs(self) -> list[Any]:
        return list(self._scheduler.get_jobs())

    def notify_changed(self) -> None:
        """A subscription changed here: reconcile now rather than at the next tick."""
        self._spawn(self._reconcile_quietly())

    # -- reconcile ----------------------------------------------------------------------------

    async def reconcile(self) -> list[Subscription]:
        """Make the jobs match the subscriptions table; return the subscriptions read."""
        async with self._reconciling:  # one at a time, so an older read never lands last
            subs = self._ours(await self.store.all_subscriptions())
            self._apply(subs)
        return subs

    def _ours(self, subs: list[Subscription]) -> list[Subscription]:
        """The subscriptions this process can post: `digest chat` never claims (and so never
        fails) the runs of Slack channels that share its database, nor `serve` the terminal's."""
        return [s for s in subs if s.target.platform in self.runner.posters]

    def _apply(self, subs: list[Subscription]) -> None:
        wanted = {s.id for s in subs}
        for gone in set(self._scheduled) - wanted:
            with suppress(JobLookupError):
                self._scheduler.remove_job(job_id(gone))
            del self._scheduled[gone]
            self._settled.pop(gone, None)
            self._busy.pop(gone, None)
        for sub in subs:
            key = _schedule_key(sub)
            if self._scheduled.get(sub.id) == key:
                continue
            try:
                trigger = cron_trigger(sub)
            except Exception as exc:  # a bad row must not stop the others being scheduled
                log.warning("cannot schedule subscription %s: %s", sub.id, short_error(exc))
                continue
            if sub.id in self._scheduled:
                self._scheduler.reschedule_job(job_id(sub.id), trigger=trigger)
            else:
                self._scheduler.add_job(
                    self._on_cron,
                    trigger,
                    args=[sub.id],
                    id=job_id(sub.id),
                    name=f"digest {sub.repo}",
                    replace_existing=True,
                )
            self._scheduled[sub.id] = key

    # -- running ------------------------------------------------------------------------------

    async def run_once(self, now: datetime) -> list[RunOutcome]:
        """Run what is due at `now` for every subscription: what the jobs do, on demand."""
        return await self._run_all(self._ours(await self.store.all_subscriptions()), now)

    async def run_subscription(self, sub: Subscription, fire: datetime) -> RunOutcome:
        """Run one fire of one subscription, whatever else is due."""
        async with self._claims:
            outcomes = await self.runner.run_batch(sub, [fire], self.clock())
        return outcomes[0]

    async def run_due(self, sub: Subscription, now: datetime) -> list[RunOutcome]:
        """The subscription's due fires, oldest first, unless this replica is already on it."""
        lock = self._busy.setdefault(sub.id, asyncio.Lock())
        if lock.locked():
            return []
        async with lock:
            try:
                return await self._run_due(sub, now)
            except Exception as exc:  # the database went away: looked at again soon
                log.warning("digests of subscription %s: %s", sub.id, short_error(exc))
                fires = due_fires(sub, self._settled.get(sub.id), now, self.max_catch_up)
                period = period_of(sub, fires[0]) if fires else ""
                outcome = RunOutcome(sub.id, period, Outcome.RETRY_LATER, detail=short_error(exc))
                self._recheck_later(sub.id, [outcome])
                return [outcome]

    async def _run_due(self, sub: Subscription, now: datetime) -> list[RunOutcome]:
        if not due_fires(sub, self._settled.get(sub.id), now, self.max_catch_up):
            return []
        runs = await self.store.runs(sub.id)
        finished = [r.period for r in runs if r.state.finished]
        if finished:
            self._settle(sub.id, max(finished))
        fires = due_fires(sub, self._settled.get(sub.id), now, self.max_catch_up)
        if not fires:
            return []
        async with self._claims:  # at most max_claims runs held by this replica at once
            outcomes = await self.runner.run_batch(sub, fires, now)
        for outcome in outcomes:
            if outcome.settled:
                self._settle(sub.id, outcome.period)
        self._recheck_later(sub.id, outcomes)
        return outcomes

    def _settle(self, subscription_id: int, period: str) -> None:
        known = self._settled.get(subscription_id)
        if known is None or period > known:
            self._settled[subscription_id] = period

    async def _run_all(self, subs: list[Subscription], now: datetime) -> list[RunOutcome]:
        results = await asyncio.gather(*(self.run_due(s, now) for s in subs))
        return [outcome for outcomes in results for outcome in outcomes]

    def _recheck_later(self, subscription_id: int, outcomes: list[RunOutcome]) -> None:
        """Look at the subscription again when the run it could not finish may be claimed:
        the end of the holder's lease, or the retry time of a failed attempt; soon, when the
        database was away."""
        if not self._scheduler.running or not outcomes or outcomes[-1].settled:
            return
        last = outcomes[-1]
        if last.retry_at is not None:
            wait = (last.retry_at - self.clock()).total_seconds()
        elif last.outcome == Outcome.RETRY_LATER or last.detail == "lease lost":
            wait = min(5.0, self._tick_every.total_seconds())
        else:
            return
        # Past the tick the tick looks anyway; a moment after the lease, as clocks differ.
        wait = max(0.0, wait) + random.uniform(0.2, 1.0)  # noqa: S311 (jitter, not secrecy)
        if wait > self._tick_every.total_seconds() or subscription_id in self._rechecks:
            return
        self._rechecks[subscription_id] = self._spawn(self._recheck(subscription_id, wait))

    async def _recheck(self, subscription_id: int, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            self._rechecks.pop(subscription_id, None)
        await self._on_cron(subscription_id)

    async def _on_cron(self, subscription_id: int) -> None:
        """A subscription's time came: read it afresh (it may have changed or gone), run it."""
        try:
            sub = await self.store.get_subscription(subscription_id)
        except Exception as exc:  # the database is away: look again soon
            log.warning("cron of subscription %s: %s", subscription_id, short_error(exc))
            again = RunOutcome(subscription_id, "", Outcome.RETRY_LATER, detail=short_error(exc))
            self._recheck_later(subscription_id, [again])
            return
        if sub is not None:
            await self.run_due(sub, self.clock())

    async def _reconcile_quietly(self) -> list[Subscription] | None:
        try:
            return await self.reconcile()
        except Exception as exc:  # the next tick tries again
            log.warning("reconcile failed: %s", short_error(exc))
            return None

    async def _tick(self) -> None:
        subs = await self._reconcile_quietly()
        if subs is not None:
            await self._run_all(subs, self.clock())

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
