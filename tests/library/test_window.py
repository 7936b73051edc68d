"""Day windows and the parsing of --date / --since / --until."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.errors import InvalidDate, InvalidWindow, UnknownTimeZone
from digest.window import day_window, parse_point, parse_window, resolve_tz, window_between

NOW = datetime(2026, 2, 6, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def test_day_window_is_midnight_to_midnight_in_the_zone() -> None:
    w = day_window(date(2026, 2, 5), "Asia/Shanghai")
    assert w.start == datetime(2026, 2, 4, 16, 0, tzinfo=UTC)
    assert w.end == datetime(2026, 2, 5, 16, 0, tzinfo=UTC)
    assert w.day == "2026-02-05"
    assert w.tz == "Asia/Shanghai"


def test_day_window_across_a_clock_change_is_23_hours() -> None:
    w = day_window(date(2026, 3, 8), "America/New_York")
    assert w.end.astimezone(UTC) - w.start.astimezone(UTC) == timedelta(hours=23)


def test_parse_window_date() -> None:
    w = parse_window(tz_name="UTC", now=NOW, day="2026-02-05")
    assert (w.start, w.end) == (
        datetime(2026, 2, 5, tzinfo=UTC),
        datetime(2026, 2, 6, tzinfo=UTC),
    )


def test_parse_window_defaults_to_today_in_the_zone() -> None:
    w = parse_window(tz_name="Asia/Shanghai", now=NOW)
    assert w.day == "2026-02-06"
    w = parse_window(tz_name="America/Los_Angeles", now=NOW)
    assert w.day == "2026-02-05"


def test_since_until_dates_cover_whole_days() -> None:
    w = parse_window(tz_name="UTC", now=NOW, since="2026-02-01", until="2026-02-05")
    assert w.start == datetime(2026, 2, 1, tzinfo=UTC)
    assert w.end == datetime(2026, 2, 6, tzinfo=UTC)
    assert w.day is None


def test_since_one_day_keeps_the_day() -> None:
    w = parse_window(tz_name="UTC", now=NOW, since="2026-02-01", until="2026-02-01")
    assert w.day == "2026-02-01"


def test_since_alone_runs_until_now() -> None:
    w = parse_window(tz_name="UTC", now=NOW, since="2026-02-05T12:00")
    assert w.start == datetime(2026, 2, 5, 12, tzinfo=UTC)
    assert w.end == NOW


def test_naive_times_are_read_in_the_zone_and_offsets_are_kept() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_point("2026-02-05T08:00", "Asia/Shanghai") == datetime(
        2026, 2, 5, 8, tzinfo=shanghai
    )
    assert parse_point("2026-02-05T08:00Z", "Asia/Shanghai") == datetime(2026, 2, 5, 8, tzinfo=UTC)
    assert parse_point("2026-02-05T08:00:00-07:00", "UTC") == datetime(2026, 2, 5, 15, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/02/05", "yesterday", "", "2026-2-5"])
def test_invalid_dates(bad: str) -> None:
    with pytest.raises(InvalidDate):
        parse_window(tz_name="UTC", now=NOW, day=bad)


def test_invalid_combinations() -> None:
    with pytest.raises(InvalidWindow):
        parse_window(tz_name="UTC", now=NOW, day="2026-02-05", since="2026-02-01")
    with pytest.raises(InvalidWindow):
        parse_window(tz_name="UTC", now=NOW, until="2026-02-01")
    with pytest.raises(InvalidWindow):
        parse_window(tz_name="UTC", now=NOW, since="2026-02-05", until="2026-02-01")
    with pytest.raises(InvalidWindow):
        window_between(NOW, NOW, "UTC")


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../../etc/passwd", "", "Asia/Shanghai\n"])
def test_unknown_zones(bad: str) -> None:
    with pytest.raises(UnknownTimeZone):
        resolve_tz(bad)
    with pytest.raises(UnknownTimeZone):
        parse_window(tz_name=bad, now=NOW)
