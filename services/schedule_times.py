"""When a schedule fires: cron expressions (5 fields, or 6 with seconds first) read in an
IANA time zone by cronsim, which follows Debian's cron at DST transitions (a fire in a
skipped hour runs at the jump; a repeated hour fires once), or a fixed interval.

Fire times are absolute (UTC), so every server computes the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from services.errors import invalid

DEFAULT_TIMEZONE = "UTC"
DEFAULT_CATCHUP_WINDOW = timedelta(minutes=1)
MAX_CATCHUP_WINDOW = timedelta(days=365)
MIN_INTERVAL = timedelta(seconds=1)
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
"""The next fire of an expression that fires no more."""
MAX_COUNTED_MISSES = 100_000
"""A cron schedule's missed fires are counted one by one up to this many per catch-up
(an outage of days under a per-second cron); beyond it the count stops there."""


@dataclass(frozen=True, slots=True)
class Timing:
    """A schedule's cron expression in its zone, or its interval."""

    cron: str | None
    interval: timedelta | None
    timezone: str

    def next_after(self, moment: datetime) -> datetime:
        """The first fire strictly after `moment`."""
        if self.interval is not None:
            return moment + self.interval
        assert self.cron is not None  # validated: exactly one of cron and interval
        local = moment.astimezone(ZoneInfo(self.timezone))
        try:
            return next(CronSim(self.cron, local)).astimezone(UTC)
        except StopIteration:  # no fire within cronsim's 50 years: in effect, never
            return NEVER


def timing(cron: str, interval: timedelta | None, timezone: str) -> Timing:
    """A validated timing, or INVALID_ARGUMENT naming the bad field."""
    if bool(cron) == (interval is not None):
        raise invalid("cron", "exactly one of cron and interval is required")
    zone = timezone or DEFAULT_TIMEZONE
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", "must be an IANA time zone such as Europe/Berlin") from None
    if interval is not None:
        if interval < MIN_INTERVAL:
            raise invalid("interval", "must be at least 1 second")
        return Timing(None, interval, zone)
    if len(cron.split()) not in (5, 6):
        raise invalid("cron", "must have 5 fields, or 6 with seconds first")
    try:
        next(CronSim(cron, datetime.now(tz)))
    except (CronSimError, StopIteration) as exc:
        raise invalid("cron", f"is not a cron expression that ever fires: {exc}") from None
    return Timing(cron, None, zone)


@dataclass(frozen=True, slots=True)
class FirePlan:
    """What to do with a schedule's due fire `fire_at`."""

    fire_at: datetime
    start: bool
    """False when the fire is older than the catch-up window: skipped and counted."""
    missed: int
    """Further fires skipped with it (those older than the window after it)."""
    next_fire_at: datetime


def plan_fire(
    timing: Timing, fire_at: datetime, catchup_window: timedelta, now: datetime
) -> FirePlan:
    """The due fire starts its run when it is at most `catchup_window` late. Otherwise it
    and every later fire older than the window are skipped at once, and the schedule
    moves on to its first fire within the window (fired next, if due)."""
    oldest = now - catchup_window
    if fire_at >= oldest:
        return FirePlan(fire_at, True, 0, timing.next_after(fire_at))
    if timing.interval is not None:
        late = -((fire_at - oldest) // timing.interval)  # fires in [fire_at, oldest)
        return FirePlan(fire_at, False, late - 1, fire_at + late * timing.interval)
    missed, following = 0, timing.next_after(fire_at)
    while following < oldest and missed < MAX_COUNTED_MISSES:
        missed, following = missed + 1, timing.next_after(following)
    if following < oldest:
        following = timing.next_after(oldest)
    return FirePlan(fire_at, False, missed, following)
