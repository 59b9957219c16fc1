"""Lead events (hand-off, decision, move, breach, feedback) recorded with the change they
tell of, and fanned out later by the worker to the CRMs and webhook receivers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlmodel import Session

from store.models import LeadEventRecord, table
from store.notify import notify_workers


class LeadEvent(StrEnum):
    """The events, named as webhook receivers see them (`type`)."""

    HANDED_OFF = "lead.handed_off"
    ACCEPTED = "handoff.accepted"
    REJECTED = "handoff.rejected"
    BREACHED = "handoff.breached"
    MOVED = "handoff.moved"
    FEEDBACK = "lead.feedback"


@dataclass(frozen=True)
class EventRow:
    """One recorded event."""

    id: int
    event: str
    handoff_id: int
    created_at: datetime


def record_events(
    *, session: Session, event: LeadEvent, handoff_ids: Sequence[int], now: datetime
) -> None:
    """Records that `event` happened to each of these hand-offs at `now`."""
    if handoff_ids:
        session.connection().execute(
            insert(table(LeadEventRecord)),
            [{"event": event, "handoff_id": h, "created_at": now} for h in handoff_ids],
        )
        notify_workers(session)  # the worker's CRM job fans it out


def unfanned(*, session: Session, limit: int) -> list[EventRow]:
    """Gets the events not fanned out yet, oldest first."""
    events = table(LeadEventRecord)
    query = (
        select(events.c.id, events.c.event, events.c.handoff_id, events.c.created_at)
        .where(events.c.fanned_out_at.is_(None))
        .order_by(events.c.id)
        .limit(limit)
    )
    return [EventRow(*row) for row in session.connection().execute(query)]


def fanned_out(*, session: Session, ids: Sequence[int], now: datetime) -> None:
    """Marks events as fanned out."""
    if ids:
        events = table(LeadEventRecord)
        session.connection().execute(
            update(events).where(events.c.id.in_(list(ids))).values(fanned_out_at=now)
        )
