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

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, or_, select
from sqlmodel import Session

from store.models import (
    Handoff,
    HandoffStatus,
    Lead,
    Notification,
    Outcome,
    Rep,
    ScoreSnapshot,
    table,
)

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


def rep_rows(*, session: Session, period: Period, as_of: datetime) -> list[dict[str, Any]]:
    """Gets per-rep counts: handed off, accepted, rejected, pending, reassigned away, and
    deadlines missed (as of `as_of`)."""
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
            func.sum(case((_breached(as_of), 1), else_=0)),
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
            "breached": int(late or 0),
        }
        for slack_id, name, total, acc, rej, pend, moved, late in session.connection().execute(
            query
        )
    ]


def _breached(as_of: datetime) -> ColumnElement[bool]:
    """A hand-off that missed its deadline: decided (or moved on) after it, or still
    undecided when it passed."""
    handoffs = table(Handoff)
    return and_(
        handoffs.c.due_at.is_not(None),
        or_(
            handoffs.c.decided_at > handoffs.c.due_at,
            and_(handoffs.c.decided_at.is_(None), handoffs.c.due_at <= as_of),
        ),
    )


def breaches(*, session: Session, period: Period, as_of: datetime) -> dict[str, Any]:
    """Gets the period's missed deadlines (as of `as_of`), per tier, and the escalations
    sent for the period's hand-offs."""
    handoffs, notes = table(Handoff), table(Notification)
    connection = session.connection()
    by_tier = {
        str(tier): int(count)
        for tier, count in connection.execute(
            select(handoffs.c.tier, func.count())
            .where(_in(period), _breached(as_of))
            .group_by(handoffs.c.tier)
        )
    }
    escalations = connection.execute(
        select(func.count())
        .select_from(notes.join(handoffs, handoffs.c.id == notes.c.handoff_id))
        .where(_in(period), notes.c.kind == "escalation")
    ).scalar_one()
    return {
        "breaches": sum(by_tier.values()),
        "breaches_by_tier": by_tier,
        "escalations": int(escalations),
    }


SCORE_BANDS = ((None, 20, "<20"), (20, 40, "20-39"), (40, 60, "40-59"), (60, 80, "60-79"))
TOP_BAND = (80, "80+")


def _band(total: ColumnElement[Any]) -> ColumnElement[Any]:
    whens = [(total < high, label) for _, high, label in SCORE_BANDS]
    return case(*whens, else_=TOP_BAND[1])


def outcome_conversion(*, session: Session, period: Period) -> dict[str, Any] | None:
    """Gets how the period's handed-off leads converted (opportunity, closed-won, won
    amount) by score band at hand-off and by source; None while they have no outcomes."""
    handoffs, snapshots, leads, outcomes = (
        table(Handoff),
        table(ScoreSnapshot),
        table(Lead),
        table(Outcome),
    )
    cohort = (
        select(handoffs.c.lead_id, func.max(snapshots.c.total).label("total"))
        .select_from(handoffs.join(snapshots, snapshots.c.id == handoffs.c.snapshot_id))
        .where(_in(period))
        .group_by(handoffs.c.lead_id)
        .subquery()
    )
    won = outcomes.c.stage == "closed_won"
    results = (
        select(
            outcomes.c.lead_id,
            func.max(case((outcomes.c.stage.in_(OPPORTUNITY_STAGES), 1), else_=0)).label("opp"),
            func.max(case((won, 1), else_=0)).label("won"),
            func.sum(case((won, func.coalesce(outcomes.c.amount, 0)), else_=0)).label("amount"),
        )
        .group_by(outcomes.c.lead_id)
        .subquery()
    )
    joined = cohort.join(leads, leads.c.id == cohort.c.lead_id).outerjoin(
        results, results.c.lead_id == cohort.c.lead_id
    )
    measures = (
        func.count(),
        func.sum(func.coalesce(results.c.opp, 0)),
        func.sum(func.coalesce(results.c.won, 0)),
        func.sum(func.coalesce(results.c.amount, 0)),
        func.count(results.c.lead_id),
    )
    connection = session.connection()
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, key in (("by_score_band", _band(cohort.c.total)), ("by_source", leads.c.source)):
        key = func.coalesce(key, "unknown")
        query = select(key, *measures).select_from(joined).group_by(key).order_by(key)
        rows[name] = [
            _conversion(str(label), *values) for label, *values in connection.execute(query)
        ]
    if not any(row["with_outcome"] for row in rows["by_source"]):
        return None
    return rows


OPPORTUNITY_STAGES = ("opportunity", "closed_won", "closed_lost")


def _conversion(
    label: str, handed_off: int, opportunities: Any, won: Any, amount: Any, with_outcome: int
) -> dict[str, Any]:
    total = int(handed_off)
    return {
        "label": label,
        "handed_off": total,
        "with_outcome": int(with_outcome),
        "opportunities": int(opportunities or 0),
        "closed_won": int(won or 0),
        "won_amount": round(float(amount or 0), 2),
        "opportunity_rate": round(int(opportunities or 0) / total, 4) if total else None,
        "win_rate": round(int(won or 0) / total, 4) if total else None,
    }
