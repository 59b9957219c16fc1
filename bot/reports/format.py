"""The one place numbers become words: durations, percentages, amounts, tier names.
Every surface (Slack, the terminal, JSON's companions) formats through these, so a
figure reads the same wherever it is shown. Also renders templates for a terminal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.handoffs.deadlines import Terms
from bot.resources import environment
from scoring.rules import Tier

TIER_LABELS = {
    Tier.HIGH_PRIORITY: "High priority",
    Tier.SQL: "SQL",
    Tier.MQL: "MQL",
    Tier.NURTURE: "Nurture",
}


def tier_label(tier: Tier | str) -> str:
    """Gets a tier as people read it ("High priority", "MQL")."""
    return TIER_LABELS[Tier(tier)]


def duration(minutes: float) -> str:
    """Says how long a number of minutes is, as people say it: "under a minute", "7 min",
    "1 h 44 min", "6 days 20 h" (whole minutes; days from 48 hours on)."""
    if minutes < 1:
        return "under a minute"
    total = round(minutes)
    if total < 60:
        return f"{total} min"
    hours, rest = divmod(total, 60)
    if hours < 48:
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} days" + (f" {hours} h" if hours else "")


def sla_terms(terms: Terms) -> str:
    """Says a tier's SLA as people say it ("15 min", "4 h of business time")."""
    amount = duration(terms.minutes)
    return f"{amount} of business time" if terms.business_time else amount


def time_left(due_at: datetime | None, now: datetime) -> str:
    """Says how long is left before a deadline, or how long ago it passed."""
    if due_at is None:
        return "no deadline"
    left = due_at - now
    minutes = left.total_seconds() / 60
    if left >= timedelta(0):
        return f"{duration(minutes)} left"
    return f"overdue by {duration(-minutes)}"


def next_action(configured: str | None, tier: Tier, terms: Terms | None) -> str:
    """Says what the rep should do next: the config's words for the tier, else worded
    from its SLA so that it agrees with the deadline ("Call within 15 min")."""
    if configured:
        return configured
    if terms is None:
        return "Follow up"
    verb = "Call" if tier is Tier.HIGH_PRIORITY else "Reach out"
    return f"{verb} within {sla_terms(terms)}"


MOVE_WORDS = {
    "breach": "after an SLA breach",
    "away": "while they were out of office",
    "inactive": "as they are no longer active",
    "manager": "by their manager",
}


FEEDBACK_WORDS = {
    "connected": "Connected",
    "meeting_booked": "Meeting booked",
    "no_answer_yet": "No answer yet",
    "not_a_fit": "Not a fit",
    "none": "not answered",
}


def feedback_label(answer: str) -> str:
    """Says a rep's answer to "How did it go?" as the button said it."""
    return FEEDBACK_WORDS.get(answer, answer)


def moved_because(why: str | None) -> str:
    """Says why a lead moved ("after an SLA breach")."""
    return MOVE_WORDS.get(why or "", "")


def ordinal(n: int) -> str:
    """Gets "1st", "2nd", "3rd", "11th"…"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def owners(n: int) -> str:
    """Gets "1 owner", "2 owners"."""
    return f"{n} owner" if n == 1 else f"{n} owners"


def pct(value: float | None) -> str:
    """Formats a share as a percentage ("n/a" when there is nothing to divide)."""
    return "n/a" if value is None else f"{value * 100:.0f}%"


def delta(value: float | None, *, percent: bool = False) -> str:
    """Formats a change from last week (nothing when unchanged or unknown)."""
    if value is None or value == 0:
        return ""
    shown = f"{value * 100:+.0f} pts" if percent else f"{value:+g}"
    return f" ({shown} vs last week)"


def minutes(value: float | None) -> str:
    """Formats a response time given in minutes."""
    return "n/a" if value is None else duration(value)


def money(value: float) -> str:
    """Formats a won amount."""
    return f"{value:,.0f}"


FORMATTERS = {
    "pct": pct,
    "delta": delta,
    "minutes": minutes,
    "money": money,
    "tier_label": tier_label,
    "ordinal": ordinal,
    "feedback_label": feedback_label,
    "owners": owners,
    "moved_because": moved_because,
}

_TERMINAL = environment(lambda value: "" if value is None else value)


def terminal(template: str, **values: Any) -> str:
    """Renders a template for a terminal: nothing escaped (it is not going to Slack)."""
    return _TERMINAL.get_template(template).render(**values).strip()
