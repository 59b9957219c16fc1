"""Business time on a New York 9-to-5 calendar with holidays, and across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.handoffs.calendar import (
    TWENTY_FOUR_SEVEN,
    Calendar,
    add_business_time,
    business_time_between,
    next_opening,
)

NY = ZoneInfo("America/New_York")
NINE_TO_FIVE = [(time(9), time(17))]
OFFICE = Calendar(
    timezone="America/New_York",
    windows=dict.fromkeys(range(5), NINE_TO_FIVE),
    holidays=frozenset({date(2026, 12, 25), date(2027, 1, 1)}),
)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (ny(2026, 11, 23, 10), 4, ny(2026, 11, 23, 14)),  # Monday, inside hours
        (ny(2026, 11, 23, 7), 1, ny(2026, 11, 23, 10)),  # before opening
        (ny(2026, 11, 23, 16), 4, ny(2026, 11, 24, 12)),  # runs past closing
        (ny(2026, 11, 23, 22), 1, ny(2026, 11, 24, 10)),  # at night
        (ny(2026, 11, 27, 16), 2, ny(2026, 11, 30, 10)),  # Friday -> Monday
        (ny(2026, 11, 28, 12), 1, ny(2026, 11, 30, 10)),  # Saturday
        (ny(2026, 12, 24, 16), 2, ny(2026, 12, 28, 10)),  # over Christmas (a Friday)
        (ny(2026, 11, 23, 9), 24, ny(2026, 11, 25, 17)),  # "24h" = three working days
        (ny(2026, 11, 23, 17), 0, ny(2026, 11, 24, 9)),  # zero from closing: next opening
    ],
)
def test_add_business_time(start: datetime, hours: int, expected: datetime) -> None:
    assert add_business_time(start, timedelta(hours=hours), OFFICE) == expected


def test_several_windows_a_day() -> None:
    split = Calendar(
        timezone="America/New_York", windows={0: [(time(9), time(12)), (time(13), time(17))]}
    )
    assert add_business_time(ny(2026, 11, 23, 11), timedelta(hours=2), split) == ny(
        2026, 11, 23, 14
    )
    assert business_time_between(ny(2026, 11, 23, 8), ny(2026, 11, 23, 18), split) == timedelta(
        hours=7
    )


def test_dst_changes_both_ways() -> None:
    all_day = Calendar(
        timezone="America/New_York", windows={day: [(time(0), time(0))] for day in range(7)}
    )
    # 2026-03-08: clocks jump 02:00 -> 03:00, a 23-hour day; 2026-11-01: a 25-hour day.
    assert business_time_between(ny(2026, 3, 8), ny(2026, 3, 9), all_day) == timedelta(hours=23)
    assert business_time_between(ny(2026, 11, 1), ny(2026, 11, 2), all_day) == timedelta(hours=25)
    # A 9-to-5 day is 8 hours on either side of a change.
    assert business_time_between(ny(2026, 3, 9, 0), ny(2026, 3, 10, 0), OFFICE) == timedelta(
        hours=8
    )
    assert add_business_time(ny(2026, 3, 6, 16), timedelta(hours=2), OFFICE) == ny(2026, 3, 9, 10)
    assert add_business_time(ny(2026, 10, 30, 16), timedelta(hours=2), OFFICE) == ny(
        2026, 11, 2, 10
    )
    # Same wall time, different UTC offset before and after the change.
    assert ny(2026, 3, 9, 10).astimezone(UTC).hour == 14
    assert ny(2026, 3, 6, 10).astimezone(UTC).hour == 15


def test_twenty_four_seven_counts_every_second() -> None:
    start = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    assert add_business_time(start, timedelta(minutes=15), TWENTY_FOUR_SEVEN) == start + timedelta(
        minutes=15
    )
    assert TWENTY_FOUR_SEVEN.is_open(start)


def test_is_open_and_next_opening() -> None:
    assert OFFICE.is_open(ny(2026, 11, 23, 9))
    assert not OFFICE.is_open(ny(2026, 11, 23, 17))
    assert not OFFICE.is_open(ny(2026, 12, 25, 12))  # holiday
    assert next_opening(ny(2026, 11, 28, 3), OFFICE) == ny(2026, 11, 30, 9)


def test_no_working_hours_is_an_error() -> None:
    closed = Calendar(timezone="UTC", windows={})
    with pytest.raises(ValueError, match="no working hours"):
        add_business_time(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1), closed)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=60 * 24 * 10).map(lambda m: timedelta(minutes=m))


@given(instants, durations)
def test_between_inverts_add(start: datetime, duration: timedelta) -> None:
    end = add_business_time(start, duration, OFFICE)
    assert end >= start
    assert business_time_between(start, end, OFFICE) == duration


@given(instants, durations, durations)
def test_add_is_monotonic(start: datetime, a: timedelta, b: timedelta) -> None:
    low, high = sorted((a, b))
    assert add_business_time(start, low, OFFICE) <= add_business_time(start, high, OFFICE)
