"""Business time: deadlines that only run during working hours. Pure: no clock reads.

A `Calendar` is an IANA time zone, working windows per weekday (several a day allowed),
and holidays. Windows are wall-clock times in that zone; durations inside them are real
elapsed time, so a window on a daylight-saving day still lasts what the clock says
unless the change falls inside it (then it lasts an hour more or less, as it really
does). `TWENTY_FOUR_SEVEN` counts every second.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import CalendarConfig, SlaConfig
from scoring.rules import Tier

MAX_DAYS = 3 * 366  # a deadline further than this is a configuration mistake


@dataclass(frozen=True)
class Calendar:
    """Working hours: windows per weekday (0 = Monday) in `timezone`, minus holidays."""

    timezone: str
    windows: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False

    @property
    def zone(self) -> ZoneInfo:
        """Gets the time zone."""
        return ZoneInfo(self.timezone)

    def day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """Gets a day's working windows as aware UTC instants."""
        if day in self.holidays:
            return []
        zone = self.zone
        out = []
        for start, end in self.windows.get(day.weekday(), ()):
            opens = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            closes = _end_of(day, end, zone)
            if closes > opens:
                out.append((opens, closes))
        return out

    def windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yields working windows that end after `start`, in order (at most MAX_DAYS)."""
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            for opens, closes in self.day_windows(first + timedelta(days=offset)):
                if closes > start:
                    yield opens, closes

    def is_open(self, instant: datetime) -> bool:
        """Tells whether `instant` is inside working hours."""
        if self.always:
            return True
        day = instant.astimezone(self.zone).date()
        return any(
            opens <= instant < closes
            for d in (day - timedelta(days=1), day)
            for opens, closes in self.day_windows(d)
        )


def _end_of(day: date, end: time, zone: ZoneInfo) -> datetime:
    # "24:00" is stored as midnight: the end of the day, i.e. the next day's start.
    if end == time(0, 0):
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


TWENTY_FOUR_SEVEN = Calendar(timezone="UTC", always=True)


def add_business_time(start: datetime, duration: timedelta, calendar: Calendar) -> datetime:
    """Gets the instant when `duration` of working time has passed since `start`.

    A start outside working hours counts from the next opening; a zero duration gives
    `start` itself when open, else the next opening.
    """
    if duration < timedelta(0):
        raise ValueError(f"negative duration {duration}")
    if calendar.always:
        return start + duration
    remaining = duration
    for opens, closes in calendar.windows_from(start):
        begin = max(opens, start)
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError(f"no working hours within {MAX_DAYS} days of {start.isoformat()}")


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Gets the working time between two instants (zero when `b` is not after `a`)."""
    if b <= a:
        return timedelta(0)
    if calendar.always:
        return b - a
    total = timedelta(0)
    for opens, closes in calendar.windows_from(a):
        if opens >= b:
            break
        total += min(closes, b) - max(opens, a)
    return total


def next_opening(instant: datetime, calendar: Calendar) -> datetime:
    """Gets `instant` if working hours are open then, else when they next open."""
    return add_business_time(instant, timedelta(0), calendar)


def calendar_from(config: CalendarConfig) -> Calendar:
    """Gets the business-time calendar a `[sla.calendars.NAME]` section describes."""
    return Calendar(
        timezone=config.timezone,
        windows=config.windows(),
        holidays=frozenset(config.holidays),
    )


def calendar_of(sla: SlaConfig, tier: Tier) -> Calendar:
    """Gets the calendar a tier's deadline runs on."""
    name = sla.tiers[tier].calendar
    return TWENTY_FOUR_SEVEN if name == "24x7" else calendar_from(sla.calendars[name])
