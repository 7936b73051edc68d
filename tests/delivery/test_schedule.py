"""The schedule's pure decisions: fire times across zones and clock changes, what is due,
how a landed range is split between missed fires, and which commits a subscription wants."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.schedule import (
    due_fires,
    fire_times,
    partition,
    path_matches,
    period_fire,
    period_of,
    previous_fire,
    select,
)
from bot.store.records import Subscription, Target
from digest.models import Commit, FileChange, FileStatus, Importance

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sub(**values: Any) -> Subscription:
    fields: dict[str, Any] = {
        "id": 1,
        "target": Target(platform="slack", workspace="T", channel="C"),
        "repo": "octo/demo",
        "branch": None,
        "at": "09:00",
        "tz": "Asia/Shanghai",
        "language": "en",
        "min_importance": Importance.LOW,
        "paths": (),
        "exclude": (),
        "weekdays_only": False,
        "post_empty": False,
        "created_by": "U",
        "created_at": T0,
        "updated_by": "U",
        "updated_at": T0,
    }
    fields.update(values)
    return Subscription(**fields)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def local(text: str, tz: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def commit(
    n: int,
    committed: datetime,
    files: tuple[str, ...] = ("src/a.py",),
    *,
    author: str = "Alice",
    email: str | None = "alice@example.com",
    login: str | None = None,
    previous: str | None = None,
    incomplete: bool = False,
) -> Commit:
    return Commit(
        repo="octo/demo",
        sha=hashlib.sha1(str(n).encode(), usedforsecurity=False).hexdigest(),
        author_name=author,
        author_email=email,
        author_login=login,
        authored_at=committed,
        committed_at=committed,
        message=f"change {n}",
        files=tuple(
            FileChange(
                path=p,
                previous_path=previous,
                status=FileStatus.RENAMED if previous else FileStatus.MODIFIED,
            )
            for p in files
        ),
        files_incomplete=incomplete,
    )


# -- fire times -------------------------------------------------------------------------------


def test_daily_fires_in_a_zone_without_clock_changes() -> None:
    s = sub(at="09:00", tz="Asia/Shanghai")
    fires = fire_times(s, utc("2026-02-04T00:00:00+00:00"), utc("2026-02-07T01:00:00+00:00"))
    assert fires == [
        utc("2026-02-04T01:00:00+00:00"),
        utc("2026-02-05T01:00:00+00:00"),
        utc("2026-02-06T01:00:00+00:00"),
        utc("2026-02-07T01:00:00+00:00"),  # `until` is inclusive
    ]
    assert all(f.tzinfo is UTC for f in fires)
    # `after` is exclusive.
    assert fire_times(s, fires[0], fires[1]) == [fires[1]]
    assert [period_of(s, f) for f in fires] == [
        "2026-02-04",
        "2026-02-05",
        "2026-02-06",
        "2026-02-07",
    ]


def test_period_is_the_local_date_not_the_utc_one() -> None:
    s = sub(at="20:00", tz="America/Los_Angeles")
    (fire,) = fire_times(s, utc("2026-02-05T12:00:00+00:00"), utc("2026-02-06T12:00:00+00:00"))
    assert fire == utc("2026-02-06T04:00:00+00:00")  # 20:00 PST on the 5th
    assert period_of(s, fire) == "2026-02-05"
    assert period_fire(s, "2026-02-05") == fire


def test_the_hour_stays_local_across_a_dst_change() -> None:
    s = sub(at="09:00", tz="America/New_York")
    fires = fire_times(s, local("2026-03-06T12:00", s.tz), local("2026-03-10T12:00", s.tz))
    # 03-07 09:00 EST; from 03-08 (clocks jump at 02:00) 09:00 EDT.
    assert [f.hour for f in fires] == [14, 13, 13, 13]
    assert [f.astimezone(ZoneInfo(s.tz)).hour for f in fires] == [9, 9, 9, 9]


def test_a_time_skipped_by_the_clocks_fires_when_they_jump() -> None:
    s = sub(at="02:30", tz="America/New_York")
    fires = fire_times(s, local("2026-03-07T12:00", s.tz), local("2026-03-09T12:00", s.tz))
    # 2026-03-08 02:00 EST jumps to 03:00 EDT = 07:00 UTC: the next valid instant.
    assert fires == [utc("2026-03-08T07:00:00+00:00"), utc("2026-03-09T06:30:00+00:00")]
    assert period_of(s, fires[0]) == "2026-03-08"
    london = sub(at="01:30", tz="Europe/London")
    (fire,) = fire_times(london, utc("2026-03-29T00:00:00+00:00"), utc("2026-03-29T12:00:00+00:00"))
    assert fire == utc("2026-03-29T01:00:00+00:00")  # 02:00 BST, the first instant after the gap


def test_an_ambiguous_time_fires_once_at_its_first_occurrence() -> None:
    s = sub(at="01:30", tz="America/New_York")
    fires = fire_times(s, local("2026-10-31T12:00", s.tz), local("2026-11-02T12:00", s.tz))
    # 01:30 happens twice on 2026-11-01 (EDT, then EST): once, the first (05:30 UTC).
    assert fires == [utc("2026-11-01T05:30:00+00:00"), utc("2026-11-02T06:30:00+00:00")]


def test_a_day_skipped_whole_fires_once_on_the_next_date() -> None:
    s = sub(at="09:00", tz="Pacific/Apia")  # Samoa skipped 2011-12-30 entirely
    fires = fire_times(s, local("2011-12-28T12:00", s.tz), local("2012-01-01T12:00", s.tz))
    assert [period_of(s, f) for f in fires] == ["2011-12-29", "2011-12-31", "2012-01-01"]


def test_weekdays_only_folds_the_weekend_into_monday() -> None:
    s = sub(weekdays_only=True)
    # 2026-02-06 is a Friday, 02-09 the Monday after.
    fires = fire_times(s, local("2026-02-05T12:00", s.tz), local("2026-02-10T12:00", s.tz))
    assert [period_of(s, f) for f in fires] == ["2026-02-06", "2026-02-09", "2026-02-10"]
    assert previous_fire(s, fires[1]) == fires[0]  # Monday's window starts on Friday
    daily = sub()
    monday = period_fire(daily, "2026-02-09")
    assert period_of(daily, previous_fire(daily, monday)) == "2026-02-08"


ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 1, 15, 30, 59]),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1)),
    days=st.integers(1, 20),
    weekdays=st.booleans(),
)
def test_fires_are_ordered_one_per_local_day(
    zone: str, hour: int, minute: int, start: datetime, days: int, weekdays: bool
) -> None:
    s = sub(at=f"{hour:02d}:{minute:02d}", tz=zone, weekdays_only=weekdays)
    after = start.replace(tzinfo=UTC)
    until = after + timedelta(days=days)
    fires = fire_times(s, after, until)
    periods = [period_of(s, f) for f in fires]
    assert fires == sorted(set(fires))
    assert periods == sorted(set(periods))
    assert all(after < f <= until for f in fires)
    assert len(fires) >= (days - 1) * (5 / 7 if weekdays else 1) - 2
    for earlier, later in itertools.pairwise(fires):
        assert previous_fire(s, later) == earlier
    if weekdays:
        assert all(date.fromisoformat(p).weekday() < 5 for p in periods)


# -- due fires ---------------------------------------------------------------------------------


def test_a_new_subscription_never_posts_for_a_time_before_it_was_made() -> None:
    s = sub(created_at=local("2026-02-05T10:00", "Asia/Shanghai"))
    assert due_fires(s, None, local("2026-02-05T23:00", s.tz), 3) == []
    # Its first fire is the next 09:00, however late the bot gets to it.
    first = period_fire(s, "2026-02-06")
    assert due_fires(s, None, first - timedelta(seconds=1), 3) == []
    assert due_fires(s, None, first, 3) == [first]
    assert due_fires(s, None, first + timedelta(hours=5), 3) == [first]
    # Down for days right after subscribing: still nothing from before it was made.
    later = local("2026-02-12T12:00", s.tz)
    due = due_fires(s, None, later, 10)
    assert period_of(s, due[0]) == "2026-02-06"
    assert all(f >= s.created_at for f in due)


def test_due_fires_follow_the_last_finished_period_and_keep_the_newest() -> None:
    s = sub()
    now = local("2026-02-10T09:30", s.tz)
    assert [period_of(s, f) for f in due_fires(s, "2026-02-09", now, 3)] == ["2026-02-10"]
    assert due_fires(s, "2026-02-10", now, 3) == []
    # Four missed days, a bound of three: the newest three, oldest first.
    missed = due_fires(s, "2026-02-05", now, 3)
    assert [period_of(s, f) for f in missed] == ["2026-02-08", "2026-02-09", "2026-02-10"]
    assert due_fires(s, "2026-02-05", now, 0) == []
    # Today's period is done even if the time moved later since: one digest a day.
    assert due_fires(sub(at="18:00"), "2026-02-10", local("2026-02-10T19:00", s.tz), 3) == []


def test_due_fires_on_weekdays_only() -> None:
    s = sub(weekdays_only=True)
    monday = local("2026-02-09T09:00", s.tz)
    assert [period_of(s, f) for f in due_fires(s, "2026-02-06", monday, 3)] == ["2026-02-09"]
    saturday = local("2026-02-07T12:00", s.tz)
    assert due_fires(s, "2026-02-06", saturday, 3) == []


# -- partition ---------------------------------------------------------------------------------


def test_partition_splits_by_committer_date_and_keeps_every_commit_once() -> None:
    fires = [utc("2026-02-06T01:00:00+00:00"), utc("2026-02-07T01:00:00+00:00")]
    old = commit(1, utc("2025-06-01T00:00:00+00:00"))  # merged today, dated long ago
    first = commit(2, fires[0] - timedelta(seconds=1))
    on_fire = commit(3, fires[0])  # exactly at the fire: the next window (half-open)
    second = commit(4, fires[1] - timedelta(hours=1))
    newer = commit(5, fires[1] + timedelta(hours=3))  # landed after the last fire
    parts = partition([newer, second, on_fire, first, old], fires)
    assert [[c.sha for c in p] for p in parts] == [
        [first.sha, old.sha],
        [newer.sha, second.sha, on_fire.sha],
    ]
    assert partition([], fires) == [[], []]
    assert partition([old, newer], fires[:1]) == [[old, newer]]
    with pytest.raises(ValueError):
        partition([old], [])


@given(
    offsets=st.lists(st.integers(-10_000, 10_000), max_size=40),
    gaps=st.lists(st.integers(1, 3_000), min_size=1, max_size=6),
)
def test_partition_is_a_partition(offsets: list[int], gaps: list[int]) -> None:
    fires: list[datetime] = []
    at = T0
    for gap in gaps:
        at += timedelta(minutes=gap)
        fires.append(at)
    commits = [commit(i, T0 + timedelta(minutes=m)) for i, m in enumerate(offsets)]
    parts = partition(commits, fires)
    assert len(parts) == len(fires)
    assert sorted(c.sha for p in parts for c in p) == sorted(c.sha for c in commits)
    for i, part in enumerate(parts):
        for c in part:
            if i > 0:
                assert c.committed_at >= fires[i - 1]
            if i < len(fires) - 1:
                assert c.committed_at < fires[i]


# -- select ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("src/**", "src/a.py", True),
        ("src/**", "src/deep/er/a.py", True),
        ("src/**", "lib/src/a.py", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/deep/a.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/**/*.py", "src/x/y/a.pyc", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/guide/intro.md", True),
        ("*.md", "docs/guide/intro.mdx", False),
        ("docs", "docs/a.md", True),
        ("docs/", "docs/a.md", True),
        ("docs", "mydocs/a.md", False),
        ("/lib/**", "lib/x.c", True),
        ("a?c.txt", "abc.txt", True),
        ("a?c.txt", "a/c.txt", False),
        ("[bot].py", "b.py", False),  # brackets are literal, not a class
    ],
)
def test_path_globs(pattern: str, path: str, matches: bool) -> None:
    assert path_matches(path, [pattern]) is matches


def test_select_by_paths() -> None:
    when = T0
    src = commit(1, when, ("src/app.py", "README.md"))
    docs = commit(2, when, ("docs/a.md",))
    renamed_out = commit(3, when, ("attic/app.py",), previous="src/app.py")
    capped = commit(4, when, ("vendor/x.c",), incomplete=True)
    empty = commit(5, when, ())
    every = [src, docs, renamed_out, capped, empty]
    assert select(every, sub()) == every  # no paths: everything
    chosen = select(every, sub(paths=("src/**",)))
    assert chosen == [src, renamed_out, capped]  # a capped file list might hide a match


def test_select_excludes_authors_and_bots() -> None:
    when = T0
    alice = commit(1, when, author="Alice Liddell", email="alice@example.com", login="alice")
    bob = commit(2, when, author="Bob", email="Bob@Example.com")
    bot = commit(3, when, author="dependabot[bot]", email="49699333+dependabot[bot]@users.x")
    carol = commit(4, when, author="Carol", email=None)
    every = [alice, bob, bot, carol]
    assert select(every, sub(exclude=("ALICE",))) == [bob, bot, carol]  # login, any case
    assert select(every, sub(exclude=("alice liddell",))) == [bob, bot, carol]
    assert select(every, sub(exclude=("bob@example.com",))) == [alice, bot, carol]
    assert select(every, sub(exclude=("bots",))) == [alice, bob, carol]
    assert select(every, sub(exclude=("bots", "carol"), paths=("src/**",))) == [alice, bob]
    assert select(every, sub(exclude=("ali",))) == every  # whole names only
