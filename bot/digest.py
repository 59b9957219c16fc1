"""The weekly digest: one period's numbers, for Slack and for the terminal."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import RejectReason, TeamConfig
from store.metrics import (
    Period,
    leads_in,
    reject_reasons,
    rep_rows,
    response_minutes,
    sla_compliance,
    status_counts,
)

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_period(week: str | None, *, team: TeamConfig, now: datetime) -> tuple[str, Period]:
    """Gets an ISO week ("2026-W47"; default: the week of `now`) as a period in the team's
    time zone, Monday 00:00 to Monday 00:00."""
    zone = ZoneInfo(team.timezone)
    if week is None:
        year, number, _ = now.astimezone(zone).isocalendar()
    else:
        found = WEEK.match(week)
        if not found:
            raise ValueError(f"{week!r} is not an ISO week: write e.g. 2026-W47")
        year, number = int(found.group(1)), int(found.group(2))
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {number}") from None
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return f"{year}-W{number:02d}", Period(start, end)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def metrics(
    *, session: Session, week: str, period: Period, reasons: list[RejectReason]
) -> dict[str, Any]:
    """Gets the digest's numbers for a period."""
    sources = leads_in(session=session, period=period)
    counts = status_counts(session=session, period=period)
    statuses = counts["statuses"]
    accepted, rejected = statuses.get("accepted", 0), statuses.get("rejected", 0)
    labels = {reason.code: reason.label for reason in reasons}
    total_in = sum(sources.values())
    return {
        "period": week,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "leads_in": total_in,
        "leads_in_by_source": sources,
        "handed_off": counts["handed_off"],
        "handed_off_by_tier": counts["by_tier"],
        "accepted": accepted,
        "rejected": rejected,
        "pending": statuses.get("pending", 0),
        "reassigned": statuses.get("reassigned", 0),
        "acceptance_rate": _rate(accepted, accepted + rejected),
        "lead_to_mql_rate": _rate(counts["handed_off"], total_in),
        "mql_to_sql_rate": _rate(accepted, counts["handed_off"]),
        "response_minutes": response_minutes(session=session, period=period),
        "sla_compliance": sla_compliance(session=session, period=period),
        "reject_reasons": [
            {**row, "label": labels.get(row["code"], row["code"])}
            for row in reject_reasons(session=session, period=period)
        ],
        "reps": rep_rows(session=session, period=period),
    }
