"""Reassignment: a pending hand-off moves to the next eligible rep who has not held the
lead yet (none left: it waits unassigned, for anyone to claim), with a fresh deadline. The
new hand-off continues the lead's chain: same card, redrawn, with a reply in its thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config import SlaConfig, TeamConfig
from bot.handoffs.assignment import Continues, NewHandoff, hand_to_reps
from bot.handoffs.routing import eligible
from scoring.rules import Tier
from store.handoffs import OpenHandoff, leave_pending, owners_of
from store.leads import lead_fields
from store.models import Handoff, HandoffStatus, Lead, MoveReason
from store.reps import RepSlot, routing_slots


@dataclass(frozen=True)
class Move:
    """Why a lead moves, who moved it (a Slack id; None: the sweep) and, when a manager
    chose, to whom (a rep id)."""

    why: MoveReason
    by: str | None = None
    to: int | None = None


def _lead(session: Session, handoff_id: int) -> tuple[Handoff, Lead]:
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    assert handoff is not None, f"hand-off {handoff_id} vanished"
    lead = session.get(Lead, handoff.lead_id)
    assert lead is not None, f"hand-off {handoff_id} has no lead"
    return handoff, lead


def candidates(*, session: Session, handoff_id: int, team: TeamConfig) -> list[RepSlot]:
    """Gets the reps a pending lead could move to now (eligible, never held it)."""
    handoff, lead = _lead(session, handoff_id)
    territory = lead_fields(lead.model_dump()).get(team.territory_field)
    held = frozenset(owners_of(session=session, lead_id=handoff.lead_id))
    return eligible(
        routing_slots(session=session, lock=False),
        territory=territory,
        territory_field=team.territory_field,
        held=held,
    )


def reassign(
    *,
    session: Session,
    handoff_id: int,
    team: TeamConfig,
    sla: SlaConfig | None,
    now: datetime,
    move: Move,
    send_at: datetime | None = None,
) -> OpenHandoff | None:
    """Moves a pending hand-off to another rep; gets the new hand-off (None when it was
    no longer pending: decided or moved meanwhile)."""
    moved = leave_pending(
        session=session,
        handoff_id=handoff_id,
        values={
            "status": HandoffStatus.REASSIGNED,
            "decided_at": now,
            "decided_by": move.by,
            "moved_because": move.why,
        },
    )
    if not moved:
        return None
    old, lead = _lead(session, handoff_id)
    territory = lead_fields(lead.model_dump()).get(team.territory_field)
    held = frozenset(owners_of(session=session, lead_id=old.lead_id))
    item = NewHandoff(
        old.lead_id,
        old.snapshot_id,
        Tier(old.tier),
        territory,
        held,
        continues=Continues.after(old),
        pick=move.to,
    )
    created = hand_to_reps(
        session=session, items=[item], team=team, sla=sla, now=now, send_at=send_at
    )
    return created[old.lead_id]
