"""What happened to a lead, told to the CRMs and webhook receivers: one event per change,
recorded in the same transaction as the change, then fanned out by the worker to each
configured target as its own outbox entry (bot.crm.outbound)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from store.lead_events import LeadEvent
from store.models import Handoff, Lead, Rep, ScoreSnapshot, table

__all__ = ["Facts", "LeadEvent", "facts"]


@dataclass(frozen=True)
class Facts:
    """A hand-off and its lead as an event reports them."""

    lead: dict[str, Any]
    handoff: dict[str, Any]
    rep: dict[str, Any] | None

    def data(self) -> dict[str, Any]:
        """Gets the event's `data`, as webhook receivers get it."""
        return {"lead": self.lead, "handoff": self.handoff, "rep": self.rep}


def facts(*, session: Session, handoff_id: int) -> Facts | None:
    """Gets a hand-off, its lead and its rep as they stand (None: deleted since)."""
    row = _row(session, handoff_id)
    if row is None:
        return None
    lead = {
        "id": row["lead_id"],
        "source_system": row["source_system"],
        "external_id": row["external_id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "company": row["company"],
        "title": row["title"],
        "country": row["country"],
        "disposition": row["disposition"],
    }
    handoff = {
        "id": row["id"],
        "status": row["status"],
        "tier": row["tier"],
        "score": row["score"],
        "created_at": _iso(row["created_at"]),
        "due_at": _iso(row["due_at"]),
        "first_handed_at": _iso(row["first_handed_at"]),
        "step": row["step"],
        "moved_because": row["moved_because"],
        "decided_at": _iso(row["decided_at"]),
        "decided_by": row["decided_by"],
        "reject_reason": row["reject_reason"],
        "reject_note": row["reject_note"],
        "feedback": row["feedback"],
        "feedback_at": _iso(row["feedback_at"]),
    }
    rep = None
    if row["rep_slack_id"] is not None:
        rep = {"slack_id": row["rep_slack_id"], "name": row["rep_name"], "email": row["rep_email"]}
    return Facts(lead, handoff, rep)


def _row(session: Session, handoff_id: int) -> Any:
    handoffs, leads, reps, snapshots = (
        table(Handoff),
        table(Lead),
        table(Rep),
        table(ScoreSnapshot),
    )
    return (
        session.connection()
        .execute(
            select(
                handoffs,
                leads.c.source_system,
                leads.c.external_id,
                leads.c.email,
                leads.c.first_name,
                leads.c.last_name,
                leads.c.company,
                leads.c.title,
                leads.c.country,
                leads.c.disposition,
                reps.c.slack_id.label("rep_slack_id"),
                reps.c.name.label("rep_name"),
                reps.c.email.label("rep_email"),
                snapshots.c.total.label("score"),
            )
            .join(leads, leads.c.id == handoffs.c.lead_id)
            .join(snapshots, snapshots.c.id == handoffs.c.snapshot_id)
            .outerjoin(reps, reps.c.id == handoffs.c.rep_id)
            .where(handoffs.c.id == handoff_id)
        )
        .mappings()
        .first()
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
