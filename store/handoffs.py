"""Queries on hand-offs and the score snapshots they point at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from scoring import Score
from store.models import Handoff, HandoffStatus, ScoreSnapshot


def add_snapshot(*, session: Session, lead_id: int, score: Score, now: datetime) -> ScoreSnapshot:
    """Records a lead's score at `now`."""
    snapshot = ScoreSnapshot(
        lead_id=lead_id,
        fit=score.fit,
        intent=score.intent,
        total=score.total,
        tier=score.tier.value,
        routable=score.routable,
        blocked=score.blocked,
        factors=[factor.to_dict() for factor in score.factors],
        rules_version=score.rules_version,
        computed_at=now,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def open_handoff(*, session: Session, lead_id: int) -> Handoff | None:
    """Gets the lead's hand-off that is pending or accepted, if any."""
    query = (
        select(Handoff)
        .where(
            col(Handoff.lead_id) == lead_id,
            col(Handoff.status).in_([HandoffStatus.PENDING, HandoffStatus.ACCEPTED]),
        )
        .order_by(col(Handoff.id).desc())
    )
    return session.scalars(query).first()


def create_handoff(
    *,
    session: Session,
    lead_id: int,
    snapshot: ScoreSnapshot,
    rep_id: int | None,
    unassigned_reason: str | None,
    channel: str,
    now: datetime,
) -> Handoff:
    """Creates a pending hand-off of a lead."""
    handoff = Handoff(
        lead_id=lead_id,
        snapshot_id=snapshot.id,  # type: ignore[arg-type]
        rep_id=rep_id,
        tier=snapshot.tier,
        status=HandoffStatus.PENDING,
        unassigned_reason=unassigned_reason,
        channel=channel,
        created_at=now,
    )
    session.add(handoff)
    session.flush()
    return handoff
