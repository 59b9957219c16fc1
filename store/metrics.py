"""Hand-off metrics for a period, aggregated in the database (SQLite and PostgreSQL alike).

The period's cohort is the hand-offs created in [start, end): their current status,
speed to lead (decided_at - the lead's first hand-off), deadline compliance, the feedback
sales owed after Accept, and what became of their leads. Each pass over the cohort is one
statement: statuses, deadlines and per-rep rows come from one GROUP BY (tier, rep, status)
whose few rows are added up here; both percentiles of every tier come from one
window-function query (SQLite has no percentile function), interpolating linearly between
the two nearest ranks, as numpy does by default.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, distinct, func, or_, select
from sqlmodel import Session

from store.models import (
    Handoff,
    HandoffStatus,
    Lead,
    Notification,
    Rep,
    table,
)

DECIDED = (HandoffStatus.ACCEPTED, HandoffStatus.REJECTED)
QUANTILES = (0.5, 0.9)
OPPORTUNITY_STAGES = ("opportunity", "closed_won", "closed_lost")


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime


def _minutes(session: Session) -> ColumnElement[Any]:
    """Speed to lead: from the lead's first hand-off (before any move) to the decision."""
    handoffs = table(Handoff)
    first = func.coalesce(handoffs.c.first_handed_at, handoffs.c.created_at)
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", handoffs.c.decided_at - first) / 60.0
    return (func.julianday(handoffs.c.decided_at) - func.julianday(first)) * 1440.0


def in_period(period: Period) -> ColumnElement[bool]:
    handoffs = table(Handoff)
    return and_(handoffs.c.created_at >= period.start, handoffs.c.created_at < period.end)


def rate_of(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


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


def has_handoffs(*, session: Session, period: Period) -> bool:
    """Tells whether any hand-off was made in the period."""
    query = select(table(Handoff).c.id).where(in_period(period)).limit(1)
    return session.connection().execute(query).first() is not None


def anything_in(*, session: Session, period: Period) -> bool:
    """Tells whether any lead came in or any hand-off was made in the period."""
    leads = table(Lead)
    query = select(leads.c.id).where(
        leads.c.created_at >= period.start, leads.c.created_at < period.end
    )
    in_leads = session.connection().execute(query.limit(1)).first() is not None
    return in_leads or has_handoffs(session=session, period=period)


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


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _within() -> ColumnElement[bool]:
    """A hand-off decided (accepted or rejected) by its deadline."""
    handoffs = table(Handoff)
    return and_(
        handoffs.c.status.in_(DECIDED),
        handoffs.c.due_at.is_not(None),
        handoffs.c.decided_at <= handoffs.c.due_at,
    )


def _not_yet_due(as_of: datetime) -> ColumnElement[bool]:
    """A pending hand-off whose deadline has not passed yet: left out of compliance."""
    handoffs = table(Handoff)
    return and_(handoffs.c.status == HandoffStatus.PENDING, handoffs.c.due_at > as_of)


def _feedback_due(as_of: datetime) -> ColumnElement[bool]:
    """An accepted hand-off whose feedback deadline has passed, or that was answered."""
    handoffs = table(Handoff)
    return and_(
        handoffs.c.status == HandoffStatus.ACCEPTED,
        handoffs.c.feedback_due_at.is_not(None),
        or_(handoffs.c.feedback_due_at <= as_of, handoffs.c.feedback_at.is_not(None)),
    )


def _feedback_on_time() -> ColumnElement[bool]:
    """Feedback given (any answer, "No answer yet" included) by its first deadline."""
    handoffs = table(Handoff)
    return and_(
        handoffs.c.feedback_at.is_not(None), handoffs.c.feedback_at <= handoffs.c.feedback_due_at
    )


def cohort(*, session: Session, period: Period, as_of: datetime) -> dict[str, Any]:
    """Gets the period's hand-offs: how many (by tier, by status), how many distinct leads
    they were (handed off, and accepted by sales), where each stands against its deadline
    as of `as_of` (within, breached, not yet due, moved before it, no deadline), SLA
    compliance (within / (within + breached)) overall, per tier and per rep, and per-rep
    rows. A breach counts against the rep who held the hand-off at its deadline."""
    handoffs, reps = table(Handoff), table(Rep)
    # Claimed: handed off to nobody, then taken by a rep (who did not hold it at its deadline).
    claimed = handoffs.c.unassigned_reason.is_not(None).label("claimed")
    grouped = (
        select(
            handoffs.c.tier,
            reps.c.slack_id,
            reps.c.name,
            handoffs.c.status,
            func.count(),
            count_if(_within()),
            count_if(_breached(as_of)),
            count_if(_not_yet_due(as_of)),
            count_if(handoffs.c.due_at.is_(None)),
            count_if(_feedback_due(as_of)),
            count_if(_feedback_on_time()),
            claimed,
        )
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(in_period(period))
        .group_by(handoffs.c.tier, reps.c.slack_id, reps.c.name, handoffs.c.status, claimed)
    )
    connection = session.connection()
    rows = [_Group(*row) for row in connection.execute(grouped)]
    return {**_distinct_leads(session, period), **_added_up(rows)}


def _distinct_leads(session: Session, period: Period) -> dict[str, Any]:
    handoffs = table(Handoff)
    leads = func.count(distinct(handoffs.c.lead_id))
    accepted = func.count(
        distinct(case((handoffs.c.status == HandoffStatus.ACCEPTED, handoffs.c.lead_id)))
    )
    connection = session.connection()
    by_tier = {
        str(tier): int(count)
        for tier, count in connection.execute(
            select(handoffs.c.tier, leads).where(in_period(period)).group_by(handoffs.c.tier)
        )
    }
    total, with_accept = connection.execute(select(leads, accepted).where(in_period(period))).one()
    return {"leads": int(total), "leads_by_tier": by_tier, "leads_accepted": int(with_accept)}


@dataclass(frozen=True)
class _Group:
    tier: str
    rep: str | None
    name: str | None
    status: str
    count: int
    within: int | None
    breached: int | None
    not_yet_due: int | None
    no_deadline: int | None
    feedback_due: int | None
    feedback_on_time: int | None
    claimed: bool

    @property
    def moved_in_time(self) -> int:
        """Moved on before its deadline, undecided: neither within nor breached."""
        accounted = (self.within or 0) + (self.breached or 0) + (self.not_yet_due or 0)
        return self.count - accounted - (self.no_deadline or 0)


SLA_PARTS = ("within", "breached", "not_yet_due", "moved_in_time", "no_deadline")


def _added_up(rows: list[_Group]) -> dict[str, Any]:
    """Adds the (tier, rep, status) groups up into the digest's totals."""
    statuses: Counter[str] = Counter()
    sla: Counter[str] = Counter()
    tiers: dict[str, Counter[str]] = defaultdict(Counter)
    reps: dict[str, dict[str, Any]] = {}
    unassigned = 0
    feedback: Counter[str] = Counter()
    for row in rows:
        statuses[row.status] += row.count
        asked = {"due": int(row.feedback_due or 0), "on_time": int(row.feedback_on_time or 0)}
        feedback.update(asked)
        parts = {name: int(getattr(row, name) or 0) for name in SLA_PARTS}
        sla.update(parts)
        tiers[row.tier].update({"handoffs": row.count, **parts})
        if row.rep is None:
            unassigned += row.count
            continue
        rep = reps.setdefault(row.rep, _rep_row(row.rep, row.name))
        rep["handoffs"] += row.count
        rep["within"] += parts["within"]
        rep["feedback_due"] += asked["due"]
        rep["feedback_on_time"] += asked["on_time"]
        if not row.claimed:  # a breach counts against the rep who held it at the deadline
            rep["breached"] += parts["breached"]
        if row.status in rep:
            rep[row.status] += row.count
    for rep in reps.values():
        rep["compliance"] = rate_of(rep["within"], rep["within"] + rep["breached"])
        rep["feedback_rate"] = rate_of(rep["feedback_on_time"], rep["feedback_due"])
    return {
        "handoffs": sum(statuses.values()),
        "statuses": dict(statuses),
        "sla": {name: sla[name] for name in SLA_PARTS},
        "tiers": {
            tier: {
                **{name: parts[name] for name in ("handoffs", *SLA_PARTS)},
                "compliance": rate_of(parts["within"], parts["within"] + parts["breached"]),
            }
            for tier, parts in sorted(tiers.items())
        },
        "unassigned": unassigned,
        "reps": [reps[key] for key in sorted(reps)],
        "feedback": {
            "due": feedback["due"],
            "on_time": feedback["on_time"],
            "rate": rate_of(feedback["on_time"], feedback["due"]),
        },
    }


def _rep_row(slack_id: str, name: str | None) -> dict[str, Any]:
    return {
        "rep": slack_id,
        "name": name,
        "handoffs": 0,
        "accepted": 0,
        "rejected": 0,
        "pending": 0,
        "reassigned": 0,
        "within": 0,
        "breached": 0,
        "feedback_due": 0,
        "feedback_on_time": 0,
    }


def response_minutes(*, session: Session, period: Period) -> dict[str, dict[str, float | None]]:
    """Gets median and p90 speed to lead (minutes from the lead's first hand-off to the
    decision), per tier of the deciding hand-off: one query ranks
    every decision within its tier and keeps the ranks the quantiles fall between."""
    handoffs = table(Handoff)
    minutes = _minutes(session).label("minutes")
    ranked = (
        select(
            handoffs.c.tier,
            minutes,
            (func.row_number().over(partition_by=handoffs.c.tier, order_by=minutes) - 1).label(
                "rank"
            ),
            func.count().over(partition_by=handoffs.c.tier).label("n"),
        )
        .where(in_period(period), handoffs.c.status.in_(DECIDED))
        .subquery()
    )
    wanted = []
    for q in QUANTILES:
        low = _floor(session, q * (ranked.c.n - 1))
        wanted += [ranked.c.rank == low, ranked.c.rank == low + 1]
    query = select(ranked.c.tier, ranked.c.rank, ranked.c.n, ranked.c.minutes).where(or_(*wanted))
    values: dict[str, dict[int, float]] = defaultdict(dict)
    sizes: dict[str, int] = {}
    for tier, rank, n, value in session.connection().execute(query):
        values[str(tier)][int(rank)] = float(value)
        sizes[str(tier)] = int(n)
    return {
        tier: {
            name: _r(_interpolate(values[tier], sizes[tier], q))
            for name, q in zip(("median", "p90"), QUANTILES, strict=True)
        }
        for tier in sorted(values)
    }


def _floor(session: Session, value: ColumnElement[Any]) -> ColumnElement[Any]:
    # SQLite's CAST truncates (the same as floor for these non-negative positions), and
    # its floor() exists only when built with the math functions; PostgreSQL's CAST rounds.
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(value)
    return cast(value, Integer)


def _interpolate(ranked: dict[int, float], n: int, q: float) -> float:
    position = q * (n - 1)
    low = int(position)
    below = ranked[low]
    above = ranked.get(low + 1, below)
    return below + (above - below) * (position - low)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def reject_reasons(*, session: Session, period: Period, limit: int = 3) -> list[dict[str, Any]]:
    """Gets the most common reject reasons with counts and a sample note."""
    handoffs = table(Handoff)
    query = (
        select(handoffs.c.reject_reason, func.count(), func.max(handoffs.c.reject_note))
        .where(in_period(period), handoffs.c.status == HandoffStatus.REJECTED)
        .group_by(handoffs.c.reject_reason)
        .order_by(func.count().desc(), handoffs.c.reject_reason)
        .limit(limit)
    )
    return [
        {"code": str(code), "count": int(count), "sample_note": note}
        for code, count, note in session.connection().execute(query)
    ]


def escalations(*, session: Session, period: Period) -> int:
    """Gets how many escalations were sent for the period's hand-offs."""
    handoffs, notes = table(Handoff), table(Notification)
    query = (
        select(func.count())
        .select_from(notes.join(handoffs, handoffs.c.id == notes.c.handoff_id))
        .where(in_period(period), notes.c.kind == "escalation")
    )
    return int(session.connection().execute(query).scalar_one())
