"""Day windows in a time zone, and the parsing of --date / --since / --until.

A window is half-open, [start, end), on the committer date. A calendar day D in zone Z is
[D 00:00, D+1 00:00) in Z, which is 23 or 25 hours long on the days clocks change.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import InvalidDate, InvalidWindow, UnknownTimeZone
from digest.models import Window

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Zone names are letters, digits and / _ + -; anything else (paths, "..") is refused up front.
_ZONE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_+\-]{0,63}$")


def resolve_tz(name: str) -> ZoneInfo:
    """An IANA zone by name, or UnknownTimeZone."""
    if not _ZONE_RE.fullmatch(name) or ".." in name:
        raise UnknownTimeZone(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(name) from None


def parse_day(text: str) -> date:
    """`YYYY-MM-DD`, or InvalidDate."""
    if not _DATE_RE.fullmatch(text.strip()):
        raise InvalidDate(text)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate(text) from None


def day_window(day: date, tz_name: str) -> Window:
    """The calendar day `day` in zone `tz_name`."""
    tz = resolve_tz(tz_name)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return Window(start=start, end=end, tz=tz_name, day=day.isoformat())


def parse_point(text: str, tz_name: str, *, is_end: bool = False) -> datetime:
    """An ISO date or date-time; naive values are read in `tz_name`.

    A bare date as the end of a range means the end of that day, so `--since 2026-02-01
    --until 2026-02-05` covers five whole days.
    """
    tz = resolve_tz(tz_name)
    raw = text.strip()
    if _DATE_RE.fullmatch(raw):
        day = parse_day(raw)
        if is_end:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=tz)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidDate(text) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def window_between(start: datetime, end: datetime, tz_name: str) -> Window:
    """[start, end) shown in `tz_name`; a range of exactly one calendar day keeps its day."""
    if start >= end:
        raise InvalidWindow("start must be before end")
    tz = resolve_tz(tz_name)
    local_start = start.astimezone(tz)
    day: str | None = None
    if local_start.timetz().replace(tzinfo=None) == time(0):
        candidate = day_window(local_start.date(), tz_name)
        if candidate.start == start and candidate.end == end:
            day = candidate.day
    return Window(start=start, end=end, tz=tz_name, day=day)


def parse_window(
    *,
    tz_name: str,
    now: datetime,
    day: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Window:
    """The window the user asked for: `--date D`, or `--since S [--until U]`, else today."""
    resolve_tz(tz_name)
    if day is not None and (since is not None or until is not None):
        raise InvalidWindow("--date cannot be combined with --since or --until")
    if day is not None:
        return day_window(parse_day(day), tz_name)
    if since is None and until is not None:
        raise InvalidWindow("--until needs --since")
    if since is not None:
        start = parse_point(since, tz_name)
        end = parse_point(until, tz_name, is_end=True) if until is not None else now
        if start >= end:
            raise InvalidWindow("--since must be before --until (or before now)")
        return window_between(start, end, tz_name)
    today = now.astimezone(resolve_tz(tz_name)).date()
    return day_window(today, tz_name)
