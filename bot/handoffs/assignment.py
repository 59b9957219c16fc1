"""Handing leads to reps: route, create pending hand-offs with deadlines, queue the cards.

Used by intake (new qualifying leads) and by reassignment (a breach, a rep away).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import SlaConfig, TeamConfig
from bot.handoffs.deadlines import deadlines
from bot.handoffs.routing import Rotation
from scoring.rules import Tier
from store.handoffs import OpenHandoff, create_handoffs
from store.models import Handoff
from store.outbox import OutboxEntry, enqueue
from store.reps import routing_slots, save_turns


@dataclass(frozen=True)
class NewHandoff:
    """A lead to hand to a rep: which score it goes with, its tier, its territory."""

    lead_id: int
    snapshot_id: int
    tier: Tier
    territory: Any
    held: frozenset[int] = frozenset()  # reps who held the lead before: never again


def hand_to_reps(
    *,
    session: Session,
    items: list[NewHandoff],
    team: TeamConfig,
    sla: SlaConfig | None,
    now: datetime,
    send_at: datetime | None = None,
) -> dict[int, OpenHandoff]:
    """Routes each lead, creates its pending hand-off at `now` and queues its card (to go
    out from `send_at`, by default `now`); gets the new hand-offs by lead id."""
    if not items:
        return {}
    rotation = Rotation(routing_slots(session=session), territory_field=team.territory_field)
    assignments = [rotation.assign(item.territory, held=item.held) for item in items]
    save_turns(session=session, turns=rotation.changed)
    ids = create_handoffs(
        session=session,
        rows=[
            {
                "lead_id": item.lead_id,
                "snapshot_id": item.snapshot_id,
                "rep_id": assignment.rep.id if assignment.rep else None,
                "tier": item.tier.value,
                "unassigned_reason": assignment.reason,
                "channel": team.channel,
                "created_at": now,
                **deadlines(sla, item.tier, now).columns(),
            }
            for item, assignment in zip(items, assignments, strict=True)
        ],
    )
    entries = [OutboxEntry.card(handoff_id=handoff_id, channel=team.channel) for handoff_id in ids]
    if team.dm_reps:  # a copy in the rep's direct messages (a user id posts to the app's DM)
        entries += [
            OutboxEntry.dm_copy(handoff_id=handoff_id, rep_slack_id=a.rep.slack_id)
            for handoff_id, a in zip(ids, assignments, strict=True)
            if a.rep is not None
        ]
    enqueue(session=session, entries=entries, now=send_at or now)
    return {
        item.lead_id: OpenHandoff(
            handoff_id, "pending", a.rep.slack_id if a.rep else None, a.reason
        )
        for item, handoff_id, a in zip(items, ids, assignments, strict=True)
    }


def queue_card_update(*, session: Session, handoff: Handoff, now: datetime) -> None:
    """Queues a redraw of a hand-off's card (after a decision or a reassignment), to go
    out from `now`."""
    assert handoff.id is not None
    entry = OutboxEntry.card_update(handoff_id=handoff.id, channel=handoff.channel)
    enqueue(session=session, entries=[entry], now=now)
