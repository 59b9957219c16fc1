"""Hand-off metrics for a period, aggregated in the database (SQLite and PostgreSQL alike).

The period's cohort is the hand-offs created in [start, end): their current status,
response times (decided_at - created_at) and deadline compliance. Percentiles are read
with ORDER BY / LIMIT / OFFSET (SQLite has no percentile function), interpolating
linearly between the two nearest ranks, as numpy does by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, select
from sqlmodel import Session

from store.models import Handoff, HandoffStatus, Lead, Rep, table

DECIDED = (HandoffStatus.ACCEPTED, HandoffStatus.REJECTED)


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime


def _minutes(session: Session) -> ColumnElement[Any]:
    handoffs = table(Handoff)
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", handoffs.c.decided_at - handoffs.c.created_at) / 60.0
    return (func.julianday(handoffs.c.decided_at) - func.julianday(handoffs.c.created_at)) * 1440.0


def _in(period: Period) -> ColumnElement[bool]:
    handoffs = table(Handoff)
    return and_(handoffs.c.created_at >= period.start, handoffs.c.created_at < period.end)


def leads_in(*, session: Session, period: Period) -> dict[str, int]:
    """Gets how many leads came in, by source ("unknown" when none was given)."""
    leads = table(Lead)
    source = func.coalesce(leads.c.source, "unknown")
    query = (
        select(source, func.count())
        .where(leads.c.created_at >= period.start, leads.c.created_at < period.end)
        .group_by(source)
    )
    return {str(name): int(count) for name, count in session.connection().execute(query)}


def status_counts(*, session: Session, period: Period) -> dict[str, Any]:
    """Gets hand-offs of the period: distinct leads handed off (by tier) and statuses."""
    handoffs = table(Handoff)
    by_tier = (
        select(handoffs.c.tier, func.count(distinct(handoffs.c.lead_id)))
        .where(_in(period))
        .group_by(handoffs.c.tier)
    )
    statuses = (
        select(handoffs.c.status, func.count()).where(_in(period)).group_by(handoffs.c.status)
    )
    connection = session.connection()
    tiers = {str(tier): int(count) for tier, count in connection.execute(by_tier)}
    counted = {str(status): int(count) for status, count in connection.execute(statuses)}
    total = connection.execute(
        select(func.count(distinct(handoffs.c.lead_id))).where(_in(period))
    ).scalar_one()
    return {"handed_off": int(total), "by_tier": tiers, "statuses": counted}


def percentiles(query: Select[Any], session: Session, *quantiles: float) -> list[float | None]:
    """Gets quantiles of a one-column query's values, computed by the database."""
    inner = query.subquery()
    value = inner.c[0]
    count = session.connection().execute(select(func.count()).select_from(inner)).scalar_one()
    out: list[float | None] = []
    for q in quantiles:
        if not count:
            out.append(None)
            continue
        position = q * (count - 1)
        low = int(position)
        rows = (
            session.connection()
            .execute(select(value).order_by(value).limit(2).offset(low))
            .scalars()
            .all()
        )
        below = float(rows[0])
        above = float(rows[1]) if len(rows) > 1 else below
        out.append(below + (above - below) * (position - low))
    return out


def response_minutes(*, session: Session, period: Period) -> dict[str, dict[str, float | None]]:
    """Gets median and p90 minutes from hand-off to decision, per tier."""
    handoffs = table(Handoff)
    tiers = (
        session.connection()
        .execute(
            select(handoffs.c.tier).distinct().where(_in(period), handoffs.c.status.in_(DECIDED))
        )
        .scalars()
        .all()
    )
    out = {}
    for tier in sorted(tiers):
        query = select(_minutes(session)).where(
            _in(period), handoffs.c.status.in_(DECIDED), handoffs.c.tier == tier
        )
        median, p90 = percentiles(query, session, 0.5, 0.9)
        out[str(tier)] = {"median": _r(median), "p90": _r(p90)}
    return out


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def sla_compliance(*, session: Session, period: Period) -> dict[str, Any]:
    """Gets the share of decided hand-offs (with a deadline) decided in time: overall,
    per tier, per rep."""
    handoffs, reps = table(Handoff), table(Rep)
    on_time = func.sum(case((handoffs.c.decided_at <= handoffs.c.due_at, 1), else_=0))
    base = and_(_in(period), handoffs.c.status.in_(DECIDED), handoffs.c.due_at.is_not(None))
    connection = session.connection()

    def share(row: Any) -> float | None:
        return round(int(row[1] or 0) / int(row[0]), 4) if row and row[0] else None

    overall = connection.execute(select(func.count(), on_time).where(base)).first()
    by_tier = {
        str(tier): share((count, good))
        for tier, count, good in connection.execute(
            select(handoffs.c.tier, func.count(), on_time).where(base).group_by(handoffs.c.tier)
        )
    }
    by_rep = {
        str(slack_id): share((count, good))
        for slack_id, count, good in connection.execute(
            select(reps.c.slack_id, func.count(), on_time)
            .select_from(handoffs.join(reps, reps.c.id == handoffs.c.rep_id))
            .where(base)
            .group_by(reps.c.slack_id)
        )
    }
    return {"overall": share(overall), "by_tier": by_tier, "by_rep": by_rep}


def reject_reasons(*, session: Session, period: Period, limit: int = 3) -> list[dict[str, Any]]:
    """Gets the most common reject reasons with counts and a sample note."""
    handoffs = table(Handoff)
    query = (
        select(handoffs.c.reject_reason, func.count(), func.max(handoffs.c.reject_note))
        .where(_in(period), handoffs.c.status == HandoffStatus.REJECTED)
        .group_by(handoffs.c.reject_reason)
        .order_by(func.count().desc(), handoffs.c.reject_reason)
        .limit(limit)
    )
    return [
        {"code": str(code), "count": int(count), "sample_note": note}
        for code, count, note in session.connection().execute(query)
    ]


def rep_rows(*, session: Session, period: Period) -> list[dict[str, Any]]:
    """Gets per-rep counts: handed off, accepted, rejected, pending, reassigned away."""
    handoffs, reps = table(Handoff), table(Rep)

    def count_of(status: str) -> Any:
        return func.sum(case((handoffs.c.status == status, 1), else_=0))

    query = (
        select(
            reps.c.slack_id,
            reps.c.name,
            func.count(),
            count_of(HandoffStatus.ACCEPTED),
            count_of(HandoffStatus.REJECTED),
            count_of(HandoffStatus.PENDING),
            count_of(HandoffStatus.REASSIGNED),
        )
        .select_from(handoffs.join(reps, reps.c.id == handoffs.c.rep_id))
        .where(_in(period))
        .group_by(reps.c.slack_id, reps.c.name)
        .order_by(reps.c.slack_id)
    )
    return [
        {
            "rep": slack_id,
            "name": name,
            "handed_off": int(total),
            "accepted": int(acc or 0),
            "rejected": int(rej or 0),
            "pending": int(pend or 0),
            "reassigned": int(moved or 0),
        }
        for slack_id, name, total, acc, rej, pend, moved in session.connection().execute(query)
    ]
