"""When a subscription's digests are due, and which commits each one shows: pure functions.

No I/O and no clock: every instant comes in as an argument, every answer is an aware UTC
datetime. A subscription fires at its `at` in its `tz` once per local day (Monday to Friday
only when `weekdays_only`); the local date of a fire is its period, the unit a run is claimed by.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from bot.store.records import Subscription
from digest.analysis.noise import is_bot
from digest.models import Commit
from digest.window import resolve_tz

# A week holds at least five fires, so this many days hold `n` of them with room to spare.
_DAYS_PER_FIVE_FIRES = 7


def _at(sub: Subscription) -> time:
    hours, _, minutes = sub.at.partition(":")
    return time(int(hours), int(minutes))


def _fires_on(day: date, sub: Subscription) -> bool:
    return not sub.weekdays_only or day.weekday() < 5


def _first_after_gap(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The first UTC instant in [before, after] whose offset is already the later one."""
    later = after.astimezone(zone).utcoffset()
    lo, hi = before, after
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == later:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def local_instant(day: date, at: time, zone: tzinfo) -> datetime:
    """`at` on `day` in `zone`, as UTC: an ambiguous time is its first occurrence, a time
    skipped by a clock change is the moment the clocks jumped (the next valid instant)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # Nonexistent: fold=1 reads the wall time with the offset after the jump, fold=0 before;
    # the jump lies between the two readings.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _first_after_gap(min(first, second), max(first, second), zone)


def period_fire(sub: Subscription, period: str) -> datetime:
    """The scheduled instant on the local date `period` (ignoring weekdays_only)."""
    return local_instant(date.fromisoformat(period), _at(sub), resolve_tz(sub.tz))


def fire_times(sub: Subscription, after: datetime, until: datetime) -> list[datetime]:
    """The scheduled instants in (after, until], oldest first, at most one per local date."""
    zone = resolve_tz(sub.tz)
    at = _at(sub)
    day = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date() + timedelta(days=1)
    fires: list[datetime] = []
    seen: set[date] = set()
    while day <= last:
        if _fires_on(day, sub):
            instant = local_instant(day, at, zone)
            local_day = instant.astimezone(zone).date()
            # A day skipped whole (Samoa, 2011-12-30) lands on the next date: fire once there.
            if after < instant <= until and local_day not in seen:
                seen.add(local_day)
                fires.append(instant)
        day += timedelta(days=1)
    return fires


def period_of(sub: Subscription, fire: datetime) -> str:
    """The local date (YYYY-MM-DD in the subscription's zone) of a fire."""
    return fire.astimezone(resolve_tz(sub.tz)).date().isoformat()


def previous_fire(sub: Subscription, fire: datetime) -> datetime:
    """The scheduled instant before `fire`: Friday's for a weekdays-only Monday."""
    earlier = fire_times(sub, fire - timedelta(days=8), fire - timedelta(microseconds=1))
    return earlier[-1]


def due_fires(
    sub: Subscription, last_period: str | None, now: datetime, max_catch_up: int
) -> list[datetime]:
    """The fires not yet run at `now`, oldest first: the newest `max_catch_up` of them.

    `last_period` is the latest period whose run is finished (posted, skipped or failed).
    Never a fire before the subscription was created, so a new subscription waits for its
    first scheduled time instead of posting at once; a late fire (the bot was down) is still
    due, however late, within the catch-up bound.
    """
    if max_catch_up < 1:
        return []
    floor = sub.created_at - timedelta(microseconds=1)
    if last_period is not None:
        zone = resolve_tz(sub.tz)
        next_day = date.fromisoformat(last_period) + timedelta(days=1)
        start_of_next = datetime.combine(next_day, time(0), tzinfo=zone).astimezone(UTC)
        floor = max(floor, start_of_next - timedelta(microseconds=1))
    weeks = max_catch_up // 5 + 2
    floor = max(floor, now - timedelta(days=_DAYS_PER_FIVE_FIRES * weeks))
    fires = fire_times(sub, floor, now)
    if last_period is not None:
        fires = [f for f in fires if period_of(sub, f) > last_period]
    return fires[-max_catch_up:]


def partition(commits: Iterable[Commit], fires: Sequence[datetime]) -> list[list[Commit]]:
    """Split one landed range between several missed fires by committer date.

    Part i holds the commits of [fires[i-1], fires[i]); older ones go to the first part,
    newer ones to the last, so every commit is in exactly one part.
    """
    if not fires:
        raise ValueError("partition needs at least one fire")
    parts: list[list[Commit]] = [[] for _ in fires]
    for commit in commits:
        index = min(bisect_right(fires, commit.committed_at), len(fires) - 1)
        parts[index].append(commit)
    return parts


# -- paths and authors -------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _path_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: `**` spans directories, `*` and `?` stay inside one segment.

    A pattern without `/` matches a name at any depth (`*.md`); one with `/` is anchored at the
    root (`src/**`). A pattern also matches everything under a directory it names (`docs`).
    """
    text = pattern.strip().lstrip("/")
    if "/" not in text.rstrip("/"):
        text = "**/" + text
    text = text.rstrip("/")
    out = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?")


def path_matches(path: str, patterns: Iterable[str]) -> bool:
    return any(_path_regex(p).fullmatch(path) for p in patterns if p.strip())


def touches(commit: Commit, patterns: Sequence[str]) -> bool:
    """Whether any file of the commit (old or new name) matches; a capped file list counts."""
    if not [p for p in patterns if p.strip()]:
        return True
    for change in commit.files:
        names = (change.path, change.previous_path) if change.previous_path else (change.path,)
        if any(path_matches(name, patterns) for name in names):
            return True
    # GitHub lists at most 3,000 files: the unseen ones might match, so keep the commit.
    return commit.files_incomplete


def excluded(commit: Commit, exclude: Sequence[str]) -> bool:
    """An author named in `exclude` (name, login or e-mail, any case), or a bot for `bots`."""
    wanted = {e.strip().lower() for e in exclude if e.strip()}
    if not wanted:
        return False
    if "bots" in wanted and is_bot(commit):
        return True
    identities = (commit.author_name, commit.author_login, commit.author_email)
    return any(i is not None and i.strip().lower() in wanted for i in identities)


def select(commits: Iterable[Commit], sub: Subscription) -> list[Commit]:
    """The commits the subscription wants: touching its paths, by authors it does not exclude."""
    return [c for c in commits if touches(c, sub.paths) and not excluded(c, sub.exclude)]
