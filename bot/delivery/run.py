"""One subscription's due digests: claim -> plan -> build -> post -> record (DESIGN §7).

Exactly once rests on the store and on the parts: a run is claimed before anything is built,
marked POSTING before its first part goes out, each part recorded as it goes out, and finished
with the message ids and the new cursor in one transaction once every part is out. A replica
that dies leaves its claim to expire after a short lease; whoever takes it over asks the platform
which parts are out and sends the rest. A crash or a lost lease is never a failed attempt; a
passing failure is retried inside the attempt; after `max_attempts` failures of the run's own
work the run gives up, says so in the channel, and counts in /metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.delivery.attempt import Attempt, Failure, run_key
from bot.delivery.delivering import deliver
from bot.delivery.lease import Lease, LeaseLost
from bot.delivery.notices import plain_reason
from bot.delivery.outcomes import Outcome, RunObserver, RunOutcome
from bot.delivery.plan import Plan, make_plan, notes_for
from bot.delivery.poster import Post, Poster
from bot.delivery.retry import Backoff, Retrier, is_transient
from bot.delivery.schedule import fire_times, period_of, select
from bot.ops.logs import short_error
from bot.store.database import Store
from bot.store.records import Cursor, RunState, Subscription
from digest.analysis.base import Analyzer
from digest.errors import DigestError
from digest.models import Commit
from digest.pipeline import AnalysisPipeline
from digest.service import analysable, assemble_digest, context_of
from digest.sources.base import CommitSource
from digest.sources.links import MessageContext
from digest.window import resolve_tz

__all__ = ["Outcome", "RunObserver", "RunOutcome", "Runner", "run_key"]

log = logging.getLogger(__name__)

# A post later than this after its fire says that it is a catch-up.
LATE = timedelta(hours=1)


class NoPoster(LookupError):
    def __init__(self, platform: str) -> None:
        super().__init__(f"no poster for platform {platform!r}")


@dataclass
class _Batch:
    """What one batch has read so far: the source it opened and the plan it made."""

    source: CommitSource | None = None
    pipeline: AnalysisPipeline | None = None  # analyses started as the commits are read
    plan: Plan | None = None
    offset: int = 0  # the index in the batch's fires where plan.fires starts
    late: list[str] = field(default_factory=list)


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
        backoff: Backoff | None = None,
        explain: Callable[[BaseException], str] = plain_reason,
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
        # Never wait longer than a third of the lease between tries: a database back after an
        # outage is used within that, not after a long backoff.
        chosen = backoff or Backoff()
        self.backoff = replace(chosen, most=min(chosen.most, lease.total_seconds() / 3))
        self.explain = explain

    async def run_batch(
        self, sub: Subscription, fires: Sequence[datetime], now: datetime
    ) -> list[RunOutcome]:
        """Run `fires` oldest first; stop at the first that is not finished here and now."""
        outcomes: list[RunOutcome] = []

        def wanted(commit: Commit) -> bool:
            return analysable(commit) and bool(select([commit], sub))

        async with AnalysisPipeline(
            self.analyzer, sub.language, concurrency=self.concurrency, keep=wanted
        ) as pipeline:
            batch = _Batch(pipeline=pipeline)
            try:
                for index in range(len(fires)):
                    outcome = await self._attempt(sub, list(fires), index, now, batch)
                    if self.observer is not None:
                        self.observer.run_finished(sub, outcome)
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

    async def _attempt(
        self, sub: Subscription, fires: list[datetime], index: int, now: datetime, batch: _Batch
    ) -> RunOutcome:
        fire = fires[index]
        period = period_of(sub, fire)
        claimed_at = self.clock()  # the lease is ours until claimed_at + lease, by our clock
        try:
            claim = await self.store.claim_run(sub.id, period, self.replica, self.lease)
            held = None if claim is not None else await self.store.run_of(sub.id, period)
        except Exception as exc:  # the database is away: the scheduler tries again soon
            if not is_transient(exc):
                raise
            return RunOutcome(sub.id, period, Outcome.RETRY_LATER, detail=short_error(exc))
        if claim is None:
            retry_at = held.lease_until if held is not None and not held.state.finished else None
            return RunOutcome(sub.id, period, Outcome.NOT_CLAIMED, retry_at=retry_at)
        run = claim.run
        what = (
            f"digest of {sub.repo} for {period} to {sub.target.platform}:{sub.target.channel} "
            f"(run {run.id})"
        )
        if claim.taken_over:
            log.info("%s: taken over from %s, whose lease ran out", what, claim.previous_owner)
            self._event(sub, "takeover")
        else:
            log.info("%s: claimed by %s (attempt %d)", what, self.replica, run.attempts)
        if self.observer is not None:
            self.observer.run_started(sub, fire, self.clock())
        lease = Lease(
            self.store,
            run.id,
            self.replica,
            self.lease,
            self.clock,
            held_until=claimed_at + self.lease,
            what=what,
        )
        retrier = Retrier(
            self.backoff,
            what,
            before=lease.ensure,
            on_retry=lambda _step: self._event(sub, "retry"),
        )
        attempt = Attempt(sub, run, lease, retrier, what)
        try:
            async with lease:
                return await self._work(attempt, fires, index, now, batch)
        except LeaseLost as lost:
            log.warning("%s: stopped, %s (not counted as an attempt)", what, lost.reason)
            return RunOutcome(sub.id, period, Outcome.NOT_CLAIMED, detail="lease lost")
        except Exception as exc:  # the run's own work failed: count it, retry later or give up
            return await self._failed(attempt, exc)

    async def _work(
        self, a: Attempt, fires: list[datetime], index: int, now: datetime, batch: _Batch
    ) -> RunOutcome:
        sub, run = a.sub, a.run
        # A run that had begun posting is resumed: the platform is asked which parts are out
        # before anything is sent, and when the store knows of parts out already, the rest
        # shows the same commits (the run's recorded head), whatever landed since.
        resuming = run.state == RunState.POSTING
        known: dict[str, str] = {}
        if resuming:
            known = await a.retrier.run("reading the parts", lambda: self.store.parts_of(run.id))
        if resuming or batch.plan is None:
            batch.plan = await self._plan(a, fires, index, now, batch, pinned=bool(known))
            batch.offset = index
        plan, part = batch.plan, index - batch.offset
        commits = select(plan.parts[part], sub)
        fire = plan.fires[part]
        cursor_after = plan.cursor_after(sub, part, run.period, self.clock())
        detail = plan.fallback.value if plan.fallback is not None else None
        if resuming:
            batch.plan = None  # its plan was its own: later fires read the branch afresh
        if not commits and not sub.post_empty:
            await self._mark_posting(a, plan)
            await self._finish(a, RunState.SKIPPED, (), {}, cursor_after)
            log.info("%s: nothing to post (an empty day); the cursor moves on", a.what)
            return RunOutcome(sub.id, run.period, Outcome.SKIPPED, detail=detail)
        poster = self._poster(sub)
        digest = await a.retrier.run(
            "analysing",
            lambda: assemble_digest(
                plan.repo,
                plan.branch,
                plan.windows[part],
                commits,
                self.analyzer,
                language=sub.language,
                now=self.clock,
                concurrency=self.concurrency,
                pipeline=batch.pipeline,
            ),
        )
        late = self.clock() - fire > LATE
        due = fire.astimezone(resolve_tz(sub.tz)).strftime("%Y-%m-%d %H:%M") if late else None
        notes = notes_for(plan, sub.language, late_since=due)
        post = Post(digest, run_key(run), notes, sub.min_importance)
        parts = poster.parts(post)
        # What this post covers, before its first part goes out (again on a resume: a run
        # resumed with nothing known out read the branch afresh).
        await self._mark_posting(a, plan)
        state = await deliver(
            poster,
            sub.target,
            post.run_key,
            parts,
            a.retrier,
            known=known,
            unsure=resuming,
            since=run.created_at,
            recorded=lambda name, mid: self._record_part(a, name, mid),
            on_event=lambda event, count: self._delivered(a, event, count),
        )
        ids = state.message_ids(parts)
        if await self._finish(a, RunState.POSTED, ids, state.out, cursor_after):
            # Only the replica that recorded it says so: a claim lost meanwhile is the new
            # owner's to record (and to log), once it has found the parts out.
            log.info(
                "%s: posted; %d parts out, %d of them sent by this attempt",
                a.what,
                len(state.out),
                a.sent,
            )
        outcome = Outcome.FOUND_EXISTING if resuming and a.sent == 0 else Outcome.POSTED
        return RunOutcome(sub.id, run.period, outcome, ids, len(commits), detail)

    async def _plan(
        self,
        a: Attempt,
        fires: list[datetime],
        index: int,
        now: datetime,
        batch: _Batch,
        *,
        pinned: bool,
    ) -> Plan:
        """Read the branch for fires[index:]; a run `pinned` to its recorded head reads up to
        it, and alone when nothing was due after it when it was first claimed."""
        sub, run = a.sub, a.run
        source = batch.source = batch.source or self.open_source(sub.repo)
        head = run.head_sha if pinned else None
        alone = head is not None and not fire_times(sub, fires[index], run.created_at)
        planned = fires[index : index + 1] if alone else fires[index:]
        cursor = await a.retrier.run("reading the cursor", lambda: self.store.get_cursor(sub.id))
        runs = await a.retrier.run("reading the runs", lambda: self.store.runs(sub.id))

        sink = None
        if batch.pipeline is not None:
            # Streamed: each commit gets its pull request (or its message's numbers) and is
            # analysed as soon as it is read.
            batch.pipeline.context = context_of(source) or MessageContext()
            sink = batch.pipeline.feed

        async def plan(head: str | None) -> Plan:
            return await make_plan(
                source, sub, planned, now=now, cursor=cursor, runs=runs, head=head, on_commit=sink
            )

        try:
            return await a.retrier.run("reading the repository", lambda: plan(head))
        except DigestError as exc:
            if head is None:
                raise
            # Rewritten away: the rest of the post shows the branch as it is now.
            log.warning("%s: its head %s cannot be read (%s)", a.what, head, short_error(exc))
            return await a.retrier.run("reading the repository", lambda: plan(None))

    async def _mark_posting(self, a: Attempt, plan: Plan) -> None:
        marked = await a.retrier.run(
            "marking the run as posting",
            lambda: self.store.mark_posting(
                a.run.id, self.replica, base_sha=plan.base, head_sha=plan.head
            ),
        )
        if not marked:
            raise LeaseLost("taken over by another replica")

    async def _finish(
        self,
        a: Attempt,
        state: RunState,
        ids: tuple[str, ...],
        parts: Mapping[str, str],
        cursor: Cursor | None,
    ) -> bool:
        """Record the run's end; False when another replica had taken the run over."""
        # Not guarded by the lease: the store's compare-and-set on the owner is the guard,
        # and a post that is out must be recorded even when the lease ran out meanwhile.
        done = await a.retrier.run(
            "recording the run",
            lambda: self.store.finish_run(
                a.run.id,
                self.replica,
                state,
                message_ids=ids,
                cursor=cursor,
                parts=parts,
                retries=a.retrier.retries,
            ),
            guarded=False,
        )
        if not done:
            # Out, but another replica took the run over: it finds the parts by their keys.
            log.warning("%s: its claim was lost before it was recorded", a.what)
        return bool(done)

    async def _record_part(self, a: Attempt, name: str, message_id: str) -> None:
        """Best effort: the platform remembers the part too, and the run's end records all."""
        try:
            await self.store.record_part(a.run.id, name, message_id)
        except Exception as exc:
            log.warning(
                "%s: part %s is out but not recorded yet: %s", a.what, name, short_error(exc)
            )

    async def _failed(self, a: Attempt, exc: Exception) -> RunOutcome:
        poster = self.posters.get(a.sub.target.platform)
        ending = Failure(
            self.store,
            self.replica,
            lease=self.lease,
            max_attempts=self.max_attempts,
            clock=self.clock,
            backoff=self.backoff,
            explain=self.explain,
        )
        outcome = await ending.record(a, exc, poster)
        if outcome.outcome == Outcome.FAILED and ending.noticed:
            self._event(a.sub, "notice")
        return outcome

    def _delivered(self, a: Attempt, event: str, count: int) -> None:
        if event == "part-sent":
            a.sent += count
        self._event(a.sub, event, count)

    def _event(self, sub: Subscription, event: str, count: int = 1) -> None:
        if self.observer is not None:
            self.observer.delivery_event(sub, event, count)

    def _poster(self, sub: Subscription) -> Poster:
        poster = self.posters.get(sub.target.platform)
        if poster is None:
            raise NoPoster(sub.target.platform)
        return poster
