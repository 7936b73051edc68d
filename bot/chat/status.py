"""`/digest status` in words: for each subscription of the channel, the last digest (its day,
when it was posted, a link), the next one due, and the last failure with what was retried: the
proof of delivery (and of a delivery that did not happen) a team can check for itself."""

from __future__ import annotations

from datetime import datetime

from bot.chat.commands import PREFIX, shown_repo, typed_repo
from bot.delivery.status import DeliveryStatus
from bot.store.records import DigestRun, RunState, Subscription
from digest.window import resolve_tz


def _local(when: datetime, tz: str) -> str:
    return when.astimezone(resolve_tz(tz)).strftime("%Y-%m-%d %H:%M")


def _times(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _tries(run: DigestRun) -> str:
    """What was retried: failed attempts (which count), passing retries and takeovers (not)."""
    parts = []
    if run.failures:
        parts.append(_times(run.failures, "failed attempt"))
    if run.retries:
        parts.append(_times(run.retries, "passing error") + " retried")
    if run.takeovers:
        parts.append(_times(run.takeovers, "takeover") + " after a crash")
    return ", ".join(parts)


def status_lines(
    sub: Subscription, status: DeliveryStatus, link: str | None, prefix: str = PREFIX
) -> list[str]:
    """The lines of one subscription (times in its zone); `prefix` starts the command hint."""
    tz = sub.tz
    branch = f" ({sub.branch})" if sub.branch else ""
    days = "weekdays" if sub.weekdays_only else "daily"
    lines = [f"• {shown_repo(sub.repo)}{branch}: {days} at {sub.at} {tz}"]
    posted = status.last_posted
    if posted is None:
        lines.append("   last digest: none posted yet")
    else:
        when = _local(posted.posted_at or posted.updated_at, tz)
        where = f" · {link}" if link else ""
        extra = _tries(posted)
        lines.append(
            f"   last digest: {posted.period}, posted {when}, "
            f"{_times(len(posted.message_ids), 'message')}{where}"
            + (f" ({extra})" if extra else "")
        )
    running = status.under_way
    if running is not None:
        if running.owner:
            doing = "being posted" if running.state == RunState.POSTING else "being made"
            lines.append(f"   now: the digest of {running.period} is {doing}")
        else:
            again = _local(running.lease_until, tz)
            lines.append(f"   now: the digest of {running.period} is tried again from {again}")
    if status.next_due is not None:
        lines.append(f"   next: {_local(status.next_due, tz)}")
    failure = status.last_failure
    if failure is not None and (posted is None or failure.period >= posted.period):
        error = failure.error or "an error"
        tries = _tries(failure)
        tried = f"; {tries}" if tries else ""
        if failure.state == RunState.FAILED:
            lines.append(
                f"   last failure: {failure.period}, given up at {_local(failure.updated_at, tz)}"
                f": {error}{tried}. {prefix}now {typed_repo(sub.repo)} makes it again."
            )
        elif failure.state == RunState.POSTED:
            lines.append(f"   last failure: {failure.period}, posted in the end{tried}: {error}")
        else:
            lines.append(f"   last failure: {failure.period}{tried}: {error}")
    return lines
