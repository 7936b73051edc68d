"""What a run posts: the commits of one or more due fires, by landed range or by date window.

Reads the source and nothing else; the store's facts (cursor, runs) come in as values.

The cursor says what earlier digests covered. After an ordinary run it is (head, period): every
commit reachable from head. A catch-up batch posts several fires out of one landed range
base..head; its earlier parts leave the cursor at (base, period) while their run rows record
base and head, meaning "base, plus the commits of base..head dated before the fire of period".
A batch broken off by a crash resumes from exactly that, so each commit is posted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.delivery.schedule import fire_times, partition, period_fire, previous_fire
from bot.store.records import Cursor, DigestRun, RunState, Subscription
from digest.models import Commit, Language, RepoRef, Window
from digest.sources.base import CommitSink, CommitSource
from digest.window import window_between

# The date-window fallback reaches this far past `now`, for committer clocks that run ahead.
CLOCK_SKEW = timedelta(days=1)


class Fallback(StrEnum):
    """Why a date window stood in for the landed range."""

    FIRST = "first"  # no earlier digest to continue from
    BRANCH = "branch"  # the subscription now follows another branch
    FORCE_PUSH = "force-push"  # the last digest's head is no longer on the branch


@dataclass(frozen=True)
class Plan:
    """The parts of one batch: parts[i] and windows[i] belong to fires[i]."""

    repo: RepoRef
    branch: str
    head: str | None  # None: the repository has no commits
    base: str | None  # the landed range's start; None for a date window
    fires: tuple[datetime, ...]
    parts: tuple[tuple[Commit, ...], ...]
    windows: tuple[Window, ...]
    fallback: Fallback | None
    previous_branch: str | None = None

    def cursor_after(
        self, sub: Subscription, index: int, period: str, now: datetime
    ) -> Cursor | None:
        """Where the cursor goes when part `index` is finished (see the module docstring)."""
        final = index == len(self.fires) - 1
        return cursor_for(sub, self.branch, period, self.base, self.head, final=final, now=now)


def cursor_for(
    sub: Subscription,
    branch: str,
    period: str,
    base: str | None,
    head: str | None,
    *,
    final: bool,
    now: datetime,
) -> Cursor | None:
    """A final part moves the cursor to head; an earlier one keeps base (a window: no move)."""
    sha = head if final else base
    if sha is None:
        return None
    return Cursor(
        subscription_id=sub.id, branch=branch, head_sha=sha, period=period, updated_at=now
    )


def last_covered(runs: Sequence[DigestRun]) -> str | None:
    """The latest period whose digest went out or was found empty: where "since" starts."""
    done = [r.period for r in runs if r.state in (RunState.POSTED, RunState.SKIPPED)]
    return max(done) if done else None


def since_for(sub: Subscription, runs: Sequence[DigestRun], first_fire: datetime) -> datetime:
    """The start of the first part: the fire of the previous post, or, before any went out
    (the first digests failed), the start of the subscription's first window."""
    before = previous_fire(sub, first_fire)
    covered = last_covered(runs)
    if covered is not None:
        return min(before, period_fire(sub, covered))
    made = sub.created_at - timedelta(microseconds=1)
    first = fire_times(sub, made, made + timedelta(days=8))
    return min(before, previous_fire(sub, first[0])) if first else before


async def make_plan(
    source: CommitSource,
    sub: Subscription,
    fires: Sequence[datetime],
    *,
    now: datetime,
    cursor: Cursor | None,
    runs: Sequence[DigestRun],
    head: str | None = None,
    on_commit: CommitSink | None = None,
) -> Plan:
    """Read the branch once and split what it brought between `fires` (oldest first).

    `head`: the head to read up to instead of the branch's, for a run resumed half-posted (its
    remaining parts must show what its first ones showed, whatever landed since).
    `on_commit`: told of each commit read as it arrives (its analysis starts meanwhile).
    """
    repo = await source.repo()
    branch = sub.branch or await source.default_branch()
    head = head or await source.head(branch)
    since = since_for(sub, runs, fires[0])
    windows = tuple(
        window_between(since if i == 0 else fires[i - 1], fire, sub.tz)
        for i, fire in enumerate(fires)
    )
    empty = tuple(() for _ in fires)
    if head is None:
        return Plan(repo, branch, None, None, tuple(fires), empty, windows, None)

    fallback: Fallback | None = None
    if cursor is None:
        fallback = Fallback.FIRST
    elif cursor.branch != branch:
        fallback = Fallback.BRANCH
    elif cursor.head_sha != head and not await source.is_ancestor(cursor.head_sha, head):
        fallback = Fallback.FORCE_PUSH

    commits: list[Commit] | None = None
    if cursor is not None and fallback is None:
        commits = await _landed(source, sub, cursor, head, runs, on_commit)
        if commits is None:  # the interrupted batch's head was rewritten away
            fallback = Fallback.FORCE_PUSH
    if commits is None:
        # Pinned to the head sha, so the cursor set to head covers exactly what is listed.
        window = window_between(since, max(now, fires[-1]) + CLOCK_SKEW, sub.tz)
        commits = await source.commits_in_window(head, window, on_commit=on_commit)
    parts = tuple(tuple(p) for p in partition(commits, fires))
    return Plan(
        repo=repo,
        branch=branch,
        head=head,
        base=cursor.head_sha if fallback is None and cursor is not None else None,
        fires=tuple(fires),
        parts=parts,
        windows=windows,
        fallback=fallback,
        previous_branch=cursor.branch if fallback == Fallback.BRANCH and cursor else None,
    )


async def _landed(
    source: CommitSource,
    sub: Subscription,
    cursor: Cursor,
    head: str,
    runs: Sequence[DigestRun],
    on_commit: CommitSink | None,
) -> list[Commit] | None:
    """cursor..head, less what an interrupted batch already posted; None if that cannot be told."""
    commits = (
        await source.compare(cursor.head_sha, head, on_commit=on_commit)
        if cursor.head_sha != head
        else []
    )
    batch = next((r for r in runs if r.period == cursor.period), None)
    if (
        batch is None
        or batch.base_sha != cursor.head_sha
        or batch.head_sha is None
        or batch.head_sha == cursor.head_sha
    ):
        return commits  # an ordinary cursor: everything reachable from it was covered
    cutoff = period_fire(sub, cursor.period)
    if batch.head_sha == head:
        earlier = commits
    elif await source.is_ancestor(batch.head_sha, head):
        earlier = await source.compare(cursor.head_sha, batch.head_sha)
    else:
        return None
    posted = {c.sha for c in earlier if c.committed_at < cutoff}
    return [c for c in commits if c.sha not in posted]


# -- notes for the reader ---------------------------------------------------------------------

_NOTES: dict[Language, dict[str, str]] = {
    "zh": {
        Fallback.FIRST: (
            "这是本订阅的第一份摘要：按提交时间窗口列出提交，之后的摘要按合入的提交范围列出。"
        ),
        Fallback.BRANCH: "跟踪的分支由 {old} 改为 {new}：本次按提交时间窗口列出提交。",
        Fallback.FORCE_PUSH: (
            "分支 {new} 被强制推送过（上次摘要的 head 已不在分支上）：本次按提交时间窗口列出提交。"
        ),
        "late": "补发：本摘要原定于 {due} 发送，机器人当时不在线。",
    },
    "en": {
        Fallback.FIRST: (
            "First digest of this subscription: commits are listed by committer date; "
            "later digests list exactly what landed."
        ),
        Fallback.BRANCH: (
            "The branch changed from {old} to {new}: commits are listed by committer date."
        ),
        Fallback.FORCE_PUSH: (
            "Branch {new} was force-pushed (the last digest's head is no longer on it): "
            "commits are listed by committer date."
        ),
        "late": "Catch-up: this digest was due at {due}, when the bot was offline.",
    },
}


def notes_for(plan: Plan, language: Language, *, late_since: str | None) -> tuple[str, ...]:
    """One-line remarks: why a date window stood in, and that a post comes late."""
    texts = _NOTES.get(language, _NOTES["en"])
    notes: list[str] = []
    if plan.fallback is not None:
        notes.append(texts[plan.fallback].format(old=plan.previous_branch, new=plan.branch))
    if late_since is not None:
        notes.append(texts["late"].format(due=late_since))
    return tuple(notes)
