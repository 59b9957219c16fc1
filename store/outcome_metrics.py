"""Where hand-offs led: conversion to opportunity and closed-won by score band and source,
revenue by tier, the factors of rejected leads, and live-versus-shadow scores. Aggregated
in the database over a period's cohort (see store.metrics)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlmodel import Session

from store.metrics import OPPORTUNITY_STAGES, Period, in_period, rate_of
from store.models import (
    Handoff,
    HandoffStatus,
    Lead,
    Outcome,
    ScoreSnapshot,
    ShadowScore,
    table,
)

SCORE_BANDS = ((20, "<20"), (40, "20-39"), (60, "40-59"), (80, "60-79"))
TOP_BAND = "80+"


def _per_lead_results() -> tuple[ColumnElement[Any], ...]:
    """Gets, aggregated per lead over its outcomes: reached an opportunity (0/1), won
    (0/1), and the amount won."""
    outcomes = table(Outcome)
    won = outcomes.c.stage == "closed_won"
    return (
        func.max(case((outcomes.c.stage.in_(OPPORTUNITY_STAGES), 1), else_=0)).label("opp"),
        func.max(case((won, 1), else_=0)).label("won"),
        func.sum(case((won, func.coalesce(outcomes.c.amount, 0)), else_=0)).label("amount"),
    )


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
        .where(in_period(period), has_outcome)
        .group_by(handoffs.c.lead_id)
        .subquery()
    )
    per_lead = (
        select(
            converted.c.total,
            func.coalesce(leads.c.source, "unknown").label("source"),
            *_per_lead_results(),
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
        .where(in_period(period))
        .group_by(band)
    )
    source = func.coalesce(leads.c.source, "unknown")
    by_source = (
        select(source, func.count(distinct(handoffs.c.lead_id)))
        .select_from(handoffs.join(leads, leads.c.id == handoffs.c.lead_id))
        .where(in_period(period))
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
        "opportunity_rate": rate_of(opp, total),
        "win_rate": rate_of(wins, total),
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
        .where(in_period(period))
        .group_by(handoffs.c.lead_id)
        .subquery()
    )
    results = (
        select(
            outcomes.c.lead_id,
            *_per_lead_results(),
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
        .where(in_period(period), handoffs.c.status == HandoffStatus.REJECTED)
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


def feedback_answers(*, session: Session, period: Period) -> dict[str, int]:
    """Gets what sales answered to "How did it go?" about the period's accepted hand-offs,
    by answer, with those not answered (yet) as "none"."""
    handoffs = table(Handoff)
    query = (
        select(handoffs.c.feedback, func.count())
        .where(in_period(period), handoffs.c.status == HandoffStatus.ACCEPTED)
        .group_by(handoffs.c.feedback)
    )
    return {
        str(answer or "none"): int(count) for answer, count in session.connection().execute(query)
    }
