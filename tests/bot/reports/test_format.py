"""Numbers as words: one way to say a duration, a share, a deadline, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.handoffs.deadlines import Terms
from bot.reports.format import duration, next_action, pct, sla_terms, time_left
from scoring.rules import Tier


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (0.4, "under a minute"),
        (1, "1 min"),
        (59.4, "59 min"),
        (60, "1 h"),
        (104, "1 h 44 min"),
        (47 * 60 + 59, "47 h 59 min"),
        (48 * 60, "2 days"),
        (6 * 24 * 60 + 20 * 60 + 10, "6 days 20 h"),
    ],
)
def test_durations_read_as_people_say_them(minutes: float, said: str) -> None:
    assert duration(minutes) == said


def test_deadlines_and_shares() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert time_left(now + timedelta(minutes=15), now) == "15 min left"
    assert time_left(now - timedelta(days=7), now) == "overdue by 7 days"
    assert time_left(None, now) == "no deadline"
    assert sla_terms(Terms(24 * 60, business_time=True)) == "24 h of business time"
    assert (pct(None), pct(0.5)) == ("n/a", "50%")


def test_the_next_action_agrees_with_the_deadline_unless_the_config_words_it() -> None:
    business_day = Terms(24 * 60, business_time=True)
    assert next_action(None, Tier.MQL, business_day) == ("Reach out within 24 h of business time")
    assert next_action(None, Tier.HIGH_PRIORITY, Terms(15, business_time=False)) == (
        "Call within 15 min"
    )
    assert next_action("Call today", Tier.SQL, business_day) == "Call today"
    assert next_action(None, Tier.SQL, None) == "Follow up"
