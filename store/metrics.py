"""Hand-off metrics for a period, aggregated in the database (SQLite and PostgreSQL alike).

The period's cohort is the hand-offs created in [start, end): their current status,
response times (decided_at - created_at), deadline compliance and what became of their
leads. Each pass over the cohort is one statement: statuses, deadlines and per-rep rows
come from one GROUP BY (tier, rep, status) whose few rows are added up here; both
percentiles of every tier come from one window-function query (SQLite has no percentile
function), interpolating linearly between the two nearest ranks, as numpy does by default.
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
    Outcome,
    Rep,
    ScoreSnapshot,
    ShadowScore,
    table,
)

DECIDED = (HandoffStatus.ACCEPTED, HandoffStatus.REJECTED)
QUANTILES = (0.5, 0.9)
OPPORTUNITY_STAGES = ("opportunity", "closed_won", "closed_lost")
SCORE_BANDS = ((20, "<20"), (40, "20-39"), (60, "40-59"), (80, "60-79"))
TOP_BAND = "80+"


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


def _share(part: int, whole: int) -> float | None:
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


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def cohort(*, session: Session, period: Period, as_of: datetime) -> dict[str, Any]:
    """Gets the period's hand-offs: distinct leads handed off (by tier), statuses, SLA
    compliance (decided within deadline / decided, overall, per tier, per rep), missed
    deadlines as of `as_of` (per tier), and per-rep rows."""
    handoffs, reps = table(Handoff), table(Rep)
    decided_with_deadline = and_(handoffs.c.status.in_(DECIDED), handoffs.c.due_at.is_not(None))
    grouped = (
        select(
            handoffs.c.tier,
            reps.c.slack_id,
            reps.c.name,
            handoffs.c.status,
            func.count(),
            _count_if(decided_with_deadline),
            _count_if(and_(decided_with_deadline, handoffs.c.decided_at <= handoffs.c.due_at)),
            _count_if(_breached(as_of)),
        )
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(_in(period))
        .group_by(handoffs.c.tier, reps.c.slack_id, reps.c.name, handoffs.c.status)
    )
    connection = session.connection()
    rows = [_Group(*row) for row in connection.execute(grouped)]
    distinct_leads = (
        select(handoffs.c.tier, func.count(distinct(handoffs.c.lead_id)))
        .where(_in(period))
        .group_by(handoffs.c.tier)
    )
    by_tier = {str(tier): int(count) for tier, count in connection.execute(distinct_leads)}
    total = connection.execute(
        select(func.count(distinct(handoffs.c.lead_id))).where(_in(period))
    ).scalar_one()
    return {"handed_off": int(total), "by_tier": by_tier, **_added_up(rows)}


@dataclass(frozen=True)
class _Group:
    tier: str
    rep: str | None
    name: str | None
    status: str
    count: int
    decided: int | None
    on_time: int | None
    late: int | None


def _added_up(rows: list[_Group]) -> dict[str, Any]:
    """Adds the (tier, rep, status) groups up into the digest's totals."""
    statuses: Counter[str] = Counter()
    breaches: Counter[str] = Counter()
    compliance: dict[str, dict[str, list[int]]] = {"tier": defaultdict(lambda: [0, 0])}
    compliance["rep"] = defaultdict(lambda: [0, 0])
    reps: dict[str, dict[str, Any]] = {}
    for row in rows:
        statuses[row.status] += row.count
        if row.late:
            breaches[row.tier] += int(row.late)
        for key, value in (("tier", row.tier), ("rep", row.rep)):
            if value is not None and row.decided:
                compliance[key][value][0] += int(row.on_time or 0)
                compliance[key][value][1] += int(row.decided)
        if row.rep is not None:
            rep = reps.setdefault(row.rep, _rep_row(row.rep, row.name))
            rep["handed_off"] += row.count
            rep["breached"] += int(row.late or 0)
            if row.status in rep:
                rep[row.status] += row.count
    tier_parts = compliance["tier"].values()
    overall = _share(sum(p[0] for p in tier_parts), sum(p[1] for p in tier_parts))
    return {
        "statuses": dict(statuses),
        "sla_compliance": {
            "overall": overall,
            "by_tier": {k: _share(*v) for k, v in sorted(compliance["tier"].items())},
            "by_rep": {k: _share(*v) for k, v in sorted(compliance["rep"].items())},
        },
        "breaches": sum(breaches.values()),
        "breaches_by_tier": dict(sorted(breaches.items())),
        "reps": [reps[key] for key in sorted(reps)],
    }


def _rep_row(slack_id: str, name: str | None) -> dict[str, Any]:
    return {
        "rep": slack_id,
        "name": name,
        "handed_off": 0,
        "accepted": 0,
        "rejected": 0,
        "pending": 0,
        "reassigned": 0,
        "breached": 0,
    }


def response_minutes(*, session: Session, period: Period) -> dict[str, dict[str, float | None]]:
    """Gets median and p90 minutes from hand-off to decision, per tier: one query ranks
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
        .where(_in(period), handoffs.c.status.in_(DECIDED))
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
        .where(_in(period), handoffs.c.status == HandoffStatus.REJECTED)
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
        .where(_in(period), notes.c.kind == "escalation")
    )
    return int(session.connection().execute(query).scalar_one())


def _band(total: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(*[(total < high, label) for high, label in SCORE_BANDS], else_=TOP_BAND)


def outcome_conversion(*, session: Session, period: Period) -> dict[str, Any] | None:
    """Gets how the period's handed-off leads converted (opportunity, closed-won, won
    amount) by score band at hand-off and by source; None while they have no outcomes.

    Two kinds of pass: the cohort counted by band and by source (through the created_at
    index), and the few cohort leads that have outcomes, aggregated per lead first so a
    lead with several hand-offs or outcomes counts once.
    """
    handoffs, snapshots, leads, outcomes = (
        table(Handoff),
        table(ScoreSnapshot),
        table(Lead),
        table(Outcome),
    )
    has_outcome = select(outcomes.c.id).where(outcomes.c.lead_id == handoffs.c.lead_id).exists()
    converted = (
        select(handoffs.c.lead_id, func.max(snapshots.c.total).label("total"))
        .select_from(handoffs.join(snapshots, snapshots.c.id == handoffs.c.snapshot_id))
        .where(_in(period), has_outcome)
        .group_by(handoffs.c.lead_id)
        .subquery()
    )
    won = outcomes.c.stage == "closed_won"
    per_lead = (
        select(
            converted.c.total,
            func.coalesce(leads.c.source, "unknown").label("source"),
            func.max(case((outcomes.c.stage.in_(OPPORTUNITY_STAGES), 1), else_=0)).label("opp"),
            func.max(case((won, 1), else_=0)).label("won"),
            func.sum(case((won, func.coalesce(outcomes.c.amount, 0)), else_=0)).label("amount"),
        )
        .select_from(
            converted.join(leads, leads.c.id == converted.c.lead_id).join(
                outcomes, outcomes.c.lead_id == converted.c.lead_id
            )
        )
        .group_by(converted.c.lead_id, converted.c.total, leads.c.source)
        .subquery()
    )
    connection = session.connection()
    results: dict[str, dict[str, tuple[Any, ...]]] = {}
    for name, key in (("by_score_band", _band(per_lead.c.total)), ("by_source", per_lead.c.source)):
        query = select(
            key,
            func.count(),
            func.sum(per_lead.c.opp),
            func.sum(per_lead.c.won),
            func.sum(per_lead.c.amount),
        ).group_by(key)
        results[name] = {str(row[0]): tuple(row[1:]) for row in connection.execute(query)}
    if not results["by_source"]:
        return None
    totals = _cohort_by_band_and_source(session=session, period=period)
    return {
        name: [
            _conversion(label, handed, *results[name].get(label, (0, 0, 0, 0)))
            for label, handed in sorted(totals[name].items())
        ]
        for name in ("by_score_band", "by_source")
    }


def _cohort_by_band_and_source(*, session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Gets how many distinct leads the period handed off, by score band and by source."""
    handoffs, snapshots, leads = table(Handoff), table(ScoreSnapshot), table(Lead)
    band = _band(snapshots.c.total)
    by_band = (
        select(band, func.count(distinct(handoffs.c.lead_id)))
        .select_from(handoffs.join(snapshots, snapshots.c.id == handoffs.c.snapshot_id))
        .where(_in(period))
        .group_by(band)
    )
    source = func.coalesce(leads.c.source, "unknown")
    by_source = (
        select(source, func.count(distinct(handoffs.c.lead_id)))
        .select_from(handoffs.join(leads, leads.c.id == handoffs.c.lead_id))
        .where(_in(period))
        .group_by(source)
    )
    connection = session.connection()
    return {
        "by_score_band": {str(k): int(v) for k, v in connection.execute(by_band)},
        "by_source": {str(k): int(v) for k, v in connection.execute(by_source)},
    }


def _conversion(
    label: str, handed_off: int, with_outcome: Any, opportunities: Any, won: Any, amount: Any
) -> dict[str, Any]:
    total, opp, wins = int(handed_off), int(opportunities or 0), int(won or 0)
    return {
        "label": label,
        "handed_off": total,
        "with_outcome": int(with_outcome or 0),
        "opportunities": opp,
        "closed_won": wins,
        "won_amount": round(float(amount or 0), 2),
        "opportunity_rate": _share(opp, total),
        "win_rate": _share(wins, total),
    }


def revenue_by_tier(*, session: Session, period: Period) -> list[dict[str, Any]]:
    """Gets, per tier, what the period's hand-offs became: leads handed off, accepted,
    opportunities, closed-won and the amount won (each lead counted once)."""
    handoffs, outcomes = table(Handoff), table(Outcome)
    cohort = (
        select(
            handoffs.c.lead_id,
            func.max(handoffs.c.tier).label("tier"),
            func.max(case((handoffs.c.status == HandoffStatus.ACCEPTED, 1), else_=0)).label(
                "accepted"
            ),
        )
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
        .where(outcomes.c.lead_id.in_(select(cohort.c.lead_id)))
        .group_by(outcomes.c.lead_id)
        .subquery()
    )
    query = (
        select(
            cohort.c.tier,
            func.count(),
            func.sum(cohort.c.accepted),
            func.sum(func.coalesce(results.c.opp, 0)),
            func.sum(func.coalesce(results.c.won, 0)),
            func.sum(func.coalesce(results.c.amount, 0)),
        )
        .select_from(cohort.outerjoin(results, results.c.lead_id == cohort.c.lead_id))
        .group_by(cohort.c.tier)
        .order_by(cohort.c.tier)
    )
    rows = []
    for tier, handed, accepted, opportunities, closed, amount in session.connection().execute(
        query
    ):
        handed_off, won_amount = int(handed), round(float(amount or 0), 2)
        rows.append(
            {
                "tier": str(tier),
                "handed_off": handed_off,
                "accepted": int(accepted or 0),
                "opportunities": int(opportunities or 0),
                "closed_won": int(closed or 0),
                "won_amount": won_amount,
                "won_per_handoff": round(won_amount / handed_off, 2) if handed_off else None,
            }
        )
    return rows


def rejected_factors(*, session: Session, period: Period) -> list[list[dict[str, Any]]]:
    """Gets the score factors of the period's rejected hand-offs (to see which signals
    sales keeps turning down)."""
    handoffs, snapshots = table(Handoff), table(ScoreSnapshot)
    query = (
        select(snapshots.c.factors)
        .select_from(handoffs.join(snapshots, snapshots.c.id == handoffs.c.snapshot_id))
        .where(_in(period), handoffs.c.status == HandoffStatus.REJECTED)
    )
    return [list(factors or []) for (factors,) in session.connection().execute(query)]


def shadow_pairs(*, session: Session, period: Period) -> list[tuple[Any, ...]]:
    """Gets, for leads scored in the period by both rule sets: live total, tier and
    routable; shadow total, tier and routable; whether the lead closed (won)."""
    shadows, snapshots, outcomes = table(ShadowScore), table(ScoreSnapshot), table(Outcome)
    won = (
        select(outcomes.c.id)
        .where(outcomes.c.lead_id == shadows.c.lead_id, outcomes.c.stage == "closed_won")
        .exists()
    )
    query = (
        select(
            snapshots.c.total,
            snapshots.c.tier,
            snapshots.c.routable,
            shadows.c.total,
            shadows.c.tier,
            shadows.c.routable,
            won,
        )
        .select_from(shadows.join(snapshots, snapshots.c.id == shadows.c.snapshot_id))
        .where(shadows.c.computed_at >= period.start, shadows.c.computed_at < period.end)
    )
    return [tuple(row) for row in session.connection().execute(query)]
