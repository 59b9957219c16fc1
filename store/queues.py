"""Who has what waiting: pending hand-offs per rep, for App Home and `/handoff queue`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from store.models import Handoff, HandoffStatus, Lead, Rep, ScoreSnapshot, table


@dataclass(frozen=True)
class QueuedHandoff:
    """A pending hand-off with what a queue line shows of its lead."""

    id: int
    tier: str
    due_at: datetime | None
    created_at: datetime
    rep_slack_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    external_id: str
    company: str | None
    total: float
    first_handed_at: datetime
    step: int


def pending_of(
    *, session: Session, rep_slack_ids: Sequence[str], limit: int
) -> tuple[list[QueuedHandoff], int]:
    """Gets the reps' pending hand-offs, soonest deadline first (at most `limit`), and
    how many there are in all."""
    handoffs, reps, leads, snapshots = table(Handoff), table(Rep), table(Lead), table(ScoreSnapshot)
    where = (handoffs.c.status == HandoffStatus.PENDING, reps.c.slack_id.in_(list(rep_slack_ids)))
    joined = handoffs.join(reps, reps.c.id == handoffs.c.rep_id)
    query = (
        select(
            handoffs.c.id,
            handoffs.c.tier,
            handoffs.c.due_at,
            handoffs.c.created_at,
            reps.c.slack_id,
            leads.c.first_name,
            leads.c.last_name,
            leads.c.email,
            leads.c.external_id,
            leads.c.company,
            snapshots.c.total,
            func.coalesce(handoffs.c.first_handed_at, handoffs.c.created_at),
            handoffs.c.step,
        )
        .select_from(
            joined.join(leads, leads.c.id == handoffs.c.lead_id).join(
                snapshots, snapshots.c.id == handoffs.c.snapshot_id
            )
        )
        .where(*where)
        .order_by(handoffs.c.due_at.is_(None), handoffs.c.due_at, handoffs.c.created_at)
        .limit(limit)
    )
    connection = session.connection()
    rows = [QueuedHandoff(*tuple(row)) for row in connection.execute(query)]
    total = connection.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    return rows, int(total)
