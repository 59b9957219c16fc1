"""The weekly digest: one period's numbers, for Slack and for the terminal."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.config import DigestConfig, RejectReason, TeamConfig
from bot.reports.charts import charts_available
from bot.reports.numbers import Change, DigestNumbers, SlaCounts
from store.metrics import (
    Period,
    anything_in,
    cohort,
    escalations,
    leads_in,
    reject_reasons,
    response_minutes,
)
from store.models import HandoffStatus, NotificationKind
from store.outbox import OutboxEntry, already_sent, claim_notification, enqueue
from store.outcome_metrics import outcome_conversion

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
    *,
    session: Session,
    week: str,
    period: Period,
    reasons: list[RejectReason],
    as_of: datetime | None = None,
) -> DigestNumbers:
    """Gets the digest's numbers for a period's hand-offs as they stand at `as_of` (by
    default the period's end): a deadline that has passed by then without a decision is
    breached, whether it fell inside the period or after it."""
    as_of = period.end if as_of is None else as_of
    sources = leads_in(session=session, period=period)
    handed = cohort(session=session, period=period, as_of=as_of)
    statuses = handed["statuses"]
    accepted, rejected = statuses.get("accepted", 0), statuses.get("rejected", 0)
    labels = {reason.code: reason.label for reason in reasons}
    total_in = sum(sources.values())
    numbers = {
        "period": week,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "leads_in": total_in,
        "leads_in_by_source": sources,
        "handed_off": handed["leads"],
        "handed_off_by_tier": handed["leads_by_tier"],
        "handed_off_rate": _rate(handed["leads"], total_in),
        "leads_accepted": handed["leads_accepted"],
        "lead_acceptance_rate": _rate(handed["leads_accepted"], handed["leads"]),
        "handoffs": handed["handoffs"],
        "handoffs_by_tier": {tier: row["handoffs"] for tier, row in handed["tiers"].items()},
        **{status.value: statuses.get(status.value, 0) for status in HandoffStatus},
        "decided": accepted + rejected,
        "acceptance_rate": _rate(accepted, accepted + rejected),
        **_deadlines(handed, response_minutes(session=session, period=period)),
        "escalations": escalations(session=session, period=period),
        "reject_reasons": [
            {**row, "label": labels.get(row["code"], row["code"])}
            for row in reject_reasons(session=session, period=period)
        ],
        "unassigned": handed["unassigned"],
        "reps": handed["reps"],
        "feedback": handed["feedback"],
        "outcomes": outcome_conversion(session=session, period=period),
    }
    return DigestNumbers.model_validate(numbers)


def _deadlines(
    handed: dict[str, Any], response: dict[str, dict[str, float | None]]
) -> dict[str, Any]:
    """The SLA part of the digest: per tier (every tier that had hand-offs) and overall."""
    tiers = handed["tiers"]
    none = {"median": None, "p90": None}
    return {
        "response_minutes": {tier: response.get(tier, none) for tier in tiers},
        "tiers": [
            {
                "tier": tier,
                **row,
                "median_minutes": response.get(tier, none)["median"],
                "p90_minutes": response.get(tier, none)["p90"],
            }
            for tier, row in tiers.items()
        ],
        "sla": handed["sla"],
        "sla_compliance": {
            "overall": SlaCounts.model_validate(handed["sla"]).compliance,
            "by_tier": {tier: row["compliance"] for tier, row in tiers.items()},
            "by_rep": {rep["rep"]: rep["compliance"] for rep in handed["reps"]},
        },
        "breaches": handed["sla"]["breached"],
        "breaches_by_tier": {t: row["breached"] for t, row in tiers.items() if row["breached"]},
    }


def _difference(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else round(now - then, 4)


def with_change(current: DigestNumbers, previous: DigestNumbers) -> DigestNumbers:
    """Adds `change`: the difference from the previous period for the headline numbers."""
    keys = [name for name in Change.model_fields if name != "sla_compliance"]
    change = {key: _difference(getattr(current, key), getattr(previous, key)) for key in keys}
    change["sla_compliance"] = _difference(
        current.sla_compliance.overall, previous.sla_compliance.overall
    )
    return current.model_copy(update={"change": Change.model_validate(change)})


def last_scheduled(config: DigestConfig, *, timezone: str, now: datetime) -> datetime | None:
    """Gets the most recent scheduled posting time at or before `now` (APScheduler's cron
    trigger does the calendar arithmetic, daylight saving included)."""
    hour, minute = (int(part) for part in config.time.split(":"))
    trigger = CronTrigger(day_of_week=config.day, hour=hour, minute=minute, timezone=timezone)
    # The first firing after (now - 7 days) is the latest one at or before now; the search
    # start is exclusive of last week's firing itself (+1 µs), or that one would come back.
    start = now - timedelta(days=7) + timedelta(microseconds=1)
    found: datetime | None = trigger.get_next_fire_time(None, start)
    return found if found is not None and found <= now else None


def week_so_far(
    *, session: Session, team: TeamConfig, reasons: list[RejectReason], now: datetime
) -> DigestNumbers:
    """Gets this week's numbers so far (as a manager's App Home shows them)."""
    label, period = week_period(None, team=team, now=now)
    return metrics(session=session, week=label, period=period, reasons=reasons, as_of=now)


def weekly_numbers(
    *,
    session: Session,
    team: TeamConfig,
    reasons: list[RejectReason],
    week: str | None,
    now: datetime,
) -> DigestNumbers:
    """Gets a week's numbers with their change from the week before."""
    label, period = week_period(week, team=team, now=now)
    before_label, before = week_period(None, team=team, now=period.start - timedelta(days=1))
    current = metrics(session=session, week=label, period=period, reasons=reasons, as_of=now)
    previous = metrics(
        session=session, week=before_label, period=before, reasons=reasons, as_of=now
    )
    return with_change(current, previous)


def post_if_due(
    *,
    session: Session,
    team: TeamConfig,
    digest: DigestConfig,
    reasons: list[RejectReason],
    now: datetime,
) -> str | None:
    """Queues the digest of the week before the last scheduled time, once per week (a run
    missed during downtime is posted late, once); gets the week posted, if any. A week
    with nothing in it (no leads, no hand-offs: a new installation) is not posted."""
    scheduled = last_scheduled(digest, timezone=team.timezone, now=now)
    if scheduled is None:
        return None
    week, period = week_period(None, team=team, now=scheduled - timedelta(days=7))
    key = f"digest:{week}"
    # Checked every minute by the worker: the cheap looks first, the numbers only when due.
    if already_sent(session=session, key=key) or not anything_in(session=session, period=period):
        return None
    numbers = weekly_numbers(session=session, team=team, reasons=reasons, week=week, now=now)
    if not claim_notification(
        session=session, key=key, kind=NotificationKind.DIGEST, handoff_id=None, level=0, now=now
    ):
        return None
    queue_digest(session=session, team=team, digest=digest, numbers=numbers, now=now)
    return week


def queue_digest(
    *,
    session: Session,
    team: TeamConfig,
    digest: DigestConfig,
    numbers: DigestNumbers,
    now: datetime,
) -> None:
    """Queues a week's digest for the digest channel, and its chart when the `charts`
    extra is installed (drawn when sent)."""
    channel = digest_channel(team=team, digest=digest)
    data = numbers.model_dump(mode="json")
    entries = [OutboxEntry.digest(channel=channel, numbers=data)]
    if charts_available():
        entries.append(OutboxEntry.digest_chart(channel=channel, numbers=data))
    enqueue(session=session, entries=entries, now=now)


def digest_channel(*, team: TeamConfig, digest: DigestConfig) -> str:
    """Gets where the digest goes: [digest] channel, else team.digest_channel, else the
    team channel."""
    return digest.channel or team.digest_channel or team.channel
