"""Fire times: cron in a time zone (DST transitions in two zones), 6-field cron, fixed
intervals, validation, and the catch-up plan of a late fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from services.errors import ApiError
from services.schedule_times import plan_fire, timing

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(expr: str, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The next `count` fires after `after`, in the zone's local time."""
    schedule = timing(expr, None, str(zone))
    found, moment = [], after
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment.astimezone(zone))
    return found


def _elapsed(earlier: datetime, later: datetime) -> timedelta:
    """Real time between two moments (subtracting in one zone gives wall-clock time)."""
    return later.astimezone(UTC) - earlier.astimezone(UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("zone", "day_before", "jump_day"),
    [
        (BERLIN, datetime(2026, 3, 28, 12, tzinfo=UTC), 29),
        (NEW_YORK, datetime(2026, 3, 7, 12, tzinfo=UTC), 8),
    ],
)
def test_cron__a_daily_fire_in_the_skipped_hour_runs_at_the_jump(
    zone: ZoneInfo, day_before: datetime, jump_day: int
) -> None:
    """Spring forward skips 02:00-03:00: the 02:30 fire runs at 03:00 that day, as
    Debian's cron does, and at 02:30 the days after."""
    got = fires("30 2 * * *", zone, day_before, 2)
    assert got == [local(zone, 2026, 3, jump_day, 3, 0), local(zone, 2026, 3, jump_day + 1, 2, 30)]
    assert _elapsed(got[0], got[1]) == timedelta(hours=23, minutes=30)


@pytest.mark.parametrize(
    ("zone", "expr", "after", "first", "second"),
    [
        (
            BERLIN,
            "30 2 * * *",
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 summer time (+02:00)
            datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
        ),
        (
            NEW_YORK,
            "30 1 * * *",
            datetime(2026, 10, 31, 12, tzinfo=UTC),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 daylight time (-04:00)
            datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
        ),
    ],
)
def test_cron__a_daily_fire_in_the_repeated_hour_runs_once(
    zone: ZoneInfo, expr: str, after: datetime, first: datetime, second: datetime
) -> None:
    """Fall back repeats an hour: a fire at a fixed time in it runs once, not twice."""
    # (compared in UTC: Python never equates an ambiguous local time with another zone's)
    assert [f.astimezone(UTC) for f in fires(expr, zone, after, 2)] == [first, second]
    assert _elapsed(first, second) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("zone", "after"),
    [
        (BERLIN, datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),
        (NEW_YORK, datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
    ],
)
def test_cron__an_hourly_fire_runs_in_both_repeated_hours(zone: ZoneInfo, after: datetime) -> None:
    """Jobs more frequent than hourly run normally: once in each of the repeated hours,
    always an hour apart in real time."""
    got = fires("0 * * * *", zone, after, 3)
    assert [_elapsed(a, b) for a, b in pairwise(got)] == [timedelta(hours=1)] * 2
    assert got[0].hour == got[1].hour
    assert got[0].utcoffset() != got[1].utcoffset()


def test_cron__six_fields_put_seconds_first() -> None:
    got = fires("*/20 * * * * *", ZoneInfo("UTC"), datetime(2026, 1, 1, tzinfo=UTC), 3)
    assert [g.second for g in got] == [20, 40, 0]


def test_interval__fires_every_interval_after_the_last() -> None:
    every = timing("", timedelta(minutes=10), "")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert every.next_after(start) == start + timedelta(minutes=10)
    assert every.timezone == "UTC"


@pytest.mark.parametrize(
    ("cron", "interval", "zone", "field"),
    [
        ("", None, "", "cron"),
        ("* * * * *", timedelta(minutes=1), "", "cron"),
        ("* * * *", None, "", "cron"),
        ("* * * * * * *", None, "", "cron"),
        ("0 0 31 2 *", None, "", "cron"),
        ("banana * * * *", None, "", "cron"),
        ("* * * * *", None, "Nowhere/Land", "timezone"),
        ("* * * * *", None, "../etc/passwd", "timezone"),
        ("", timedelta(milliseconds=999), "", "interval"),
    ],
)
def test_timing__bad_input_names_its_field(
    cron: str, interval: timedelta | None, zone: str, field: str
) -> None:
    with pytest.raises(ApiError) as caught:
        timing(cron, interval, zone)
    assert caught.value.metadata["field"] == field


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=1)


def test_plan__a_fire_within_the_window_starts() -> None:
    every_minute = timing("* * * * *", None, "UTC")
    plan = plan_fire(every_minute, NOW - timedelta(seconds=59), WINDOW, NOW)
    assert plan.start
    assert plan.missed == 0
    assert plan.next_fire_at == NOW


def test_plan__fires_older_than_the_window_are_skipped_and_counted_at_once() -> None:
    every_minute = timing("* * * * *", None, "UTC")
    plan = plan_fire(every_minute, NOW - timedelta(minutes=10), WINDOW, NOW)
    # 11:50 ... 11:58 are older than 11:59: nine fires, the first and eight more.
    assert not plan.start
    assert plan.missed == 8
    assert plan.next_fire_at == NOW - timedelta(minutes=1)


def test_plan__an_interval_counts_its_misses_without_walking_them() -> None:
    every_second = timing("", timedelta(seconds=1), "")
    plan = plan_fire(every_second, NOW - timedelta(days=2), WINDOW, NOW)
    assert not plan.start
    assert plan.missed + 1 == int((timedelta(days=2) - WINDOW).total_seconds())
    assert plan.next_fire_at == NOW - WINDOW


def test_plan__a_zero_window_skips_every_late_fire() -> None:
    every_minute = timing("* * * * *", None, "UTC")
    plan = plan_fire(every_minute, NOW - timedelta(seconds=1), timedelta(0), NOW)
    assert not plan.start
    assert plan.missed == 0
    assert plan.next_fire_at == NOW
