"""Reassignment: a pending hand-off moves to the next eligible rep who has not held the
lead yet (none left: it waits unassigned, for anyone to claim), with a fresh deadline;
the old card says where it went."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.config import SlaConfig, TeamConfig
from bot.handoffs.assignment import NewHandoff, hand_to_reps, queue_card_update
from scoring.rules import Tier
from store.handoffs import OpenHandoff, leave_pending, owners_of
from store.leads import lead_fields
from store.models import Handoff, HandoffStatus, Lead


def reassign(
    *,
    session: Session,
    handoff_id: int,
    team: TeamConfig,
    sla: SlaConfig | None,
    now: datetime,
    send_at: datetime | None = None,
) -> OpenHandoff | None:
    """Moves a pending hand-off to another rep; gets the new hand-off (None when it was
    no longer pending: decided or moved meanwhile)."""
    moved = leave_pending(
        session=session,
        handoff_id=handoff_id,
        values={"status": HandoffStatus.REASSIGNED, "decided_at": now},
    )
    if not moved:
        return None
    old = session.get(Handoff, handoff_id, populate_existing=True)
    lead = session.get(Lead, old.lead_id) if old else None
    assert old is not None, f"hand-off {handoff_id} vanished"
    assert lead is not None, f"hand-off {handoff_id} has no lead"
    territory = lead_fields(lead.model_dump()).get(team.territory_field)
    held = frozenset(owners_of(session=session, lead_id=old.lead_id))
    item = NewHandoff(old.lead_id, old.snapshot_id, Tier(old.tier), territory, held)
    created = hand_to_reps(
        session=session, items=[item], team=team, sla=sla, now=now, send_at=send_at
    )
    queue_card_update(session=session, handoff=old, now=send_at or now)
    return created[old.lead_id]
