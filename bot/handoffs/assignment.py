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
from store.lead_events import LeadEvent, record_events
from store.models import Handoff
from store.outbox import OutboxEntry, enqueue
from store.reps import routing_slots, save_turns


class PickRefused(Exception):
    """The rep a manager picked could not take the lead after all (they filled up or went
    away since the list was drawn): the caller rolls the move back."""


@dataclass(frozen=True)
class Continues:
    """The chain a moved lead's new hand-off continues: its card stays where it is."""

    chain_id: int
    first_handed_at: datetime
    step: int  # the new hand-off's
    channel: str | None
    message_ts: str | None
    posted_at: datetime | None

    @classmethod
    def after(cls, old: Handoff) -> Continues:
        """Gets the chain the hand-off after `old` continues."""
        assert old.id is not None
        return cls(
            chain_id=old.chain_id or old.id,
            first_handed_at=old.first_handed_at or old.created_at,
            step=old.step + 1,
            channel=old.channel,
            message_ts=old.message_ts,
            posted_at=old.posted_at,
        )


@dataclass(frozen=True)
class NewHandoff:
    """A lead to hand to a rep: which score it goes with, its tier, its territory."""

    lead_id: int
    snapshot_id: int
    tier: Tier
    territory: Any
    held: frozenset[int] = frozenset()  # reps who held the lead before: never again
    continues: Continues | None = None  # a move: the chain (and card) it belongs to
    pick: int | None = None  # the rep a manager chose (they must be eligible)


def _row(item: NewHandoff, rep_id: int | None, reason: str | None, channel: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "lead_id": item.lead_id,
        "snapshot_id": item.snapshot_id,
        "rep_id": rep_id,
        "tier": item.tier.value,
        "unassigned_reason": reason,
        "channel": channel,
        "chain_id": None,  # a new chain: its own id
        "first_handed_at": None,  # a new chain: now
        "step": 1,
        "message_ts": None,
        "posted_at": None,
    }
    if item.continues is not None:
        chain = item.continues
        row |= {
            "chain_id": chain.chain_id,
            "first_handed_at": chain.first_handed_at,
            "step": chain.step,
            # Not posted yet: the card goes where the new hand-off's does.
            "channel": channel if chain.message_ts is None else (chain.channel or channel),
            "message_ts": chain.message_ts,
            "posted_at": chain.posted_at,
        }
    return row


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
    out from `send_at`, by default `now`); gets the new hand-offs by lead id. A moved lead
    keeps its one card: it is redrawn in place, and a reply in its thread names the new
    owner."""
    if not items:
        return {}
    rotation = Rotation(routing_slots(session=session), territory_field=team.territory_field)
    assignments = [
        rotation.assign(item.territory, held=item.held, pick=item.pick) for item in items
    ]
    for item, assignment in zip(items, assignments, strict=True):
        if item.pick is not None and assignment.rep is None:
            raise PickRefused(assignment.reason or "the rep cannot take it now")
    save_turns(session=session, turns=rotation.changed)
    ids = create_handoffs(
        session=session,
        rows=[
            _row(
                item,
                a.rep.id if a.rep else None,
                a.reason,
                _card_channel(team.notify_for(item.tier), a.rep.slack_id if a.rep else None, team),
            )
            | {"created_at": now, **deadlines(sla, item.tier, now).columns()}
            for item, a in zip(items, assignments, strict=True)
        ],
    )
    entries = _card_entries(items, ids, assignments, team)
    enqueue(session=session, entries=entries, now=send_at or now)
    for event, moved in ((LeadEvent.HANDED_OFF, False), (LeadEvent.MOVED, True)):
        told = [
            h for item, h in zip(items, ids, strict=True) if (item.continues is not None) == moved
        ]
        record_events(session=session, event=event, handoff_ids=told, now=now)
    return {
        item.lead_id: OpenHandoff(
            handoff_id, "pending", a.rep.slack_id if a.rep else None, a.reason
        )
        for item, handoff_id, a in zip(items, ids, assignments, strict=True)
    }


def _card_entries(
    items: list[NewHandoff], ids: list[int], assignments: list[Any], team: TeamConfig
) -> list[OutboxEntry]:
    """Gets the Slack calls new hand-offs make, by where their tier's cards go
    (`team.notify`): a card in the channel or in the rep's DM, and with "both" a copy in
    the rep's DM. A moved lead keeps its card where it is: it is redrawn, a reply in its
    thread names the new owner, and a tier told by DM sends the new owner a copy."""
    entries: list[OutboxEntry] = []
    for item, handoff_id, assignment in zip(items, ids, assignments, strict=True):
        notify = team.notify_for(item.tier)
        rep = assignment.rep.slack_id if assignment.rep is not None else None
        if item.continues is None:
            channel = _card_channel(notify, rep, team)
            entries.append(OutboxEntry.card(handoff_id=handoff_id, channel=channel))
        else:
            posted = item.continues.message_ts is not None
            # Not posted yet (still queued, or given up): it goes where the new hand-off's
            # card goes (the new owner's DM in "dm" mode), drawn as it stands then; the
            # sender posts a chain's card once, whichever entry comes first.
            channel = (item.continues.channel if posted else None) or _card_channel(
                notify, rep, team
            )
            if not posted:
                entries.append(OutboxEntry.card(handoff_id=handoff_id, channel=channel))
            entries.append(OutboxEntry.card_update(handoff_id=handoff_id, channel=channel))
            entries.append(OutboxEntry.moved(handoff_id=handoff_id, channel=channel))
            if rep is None and channel[:1] in ("D", "U", "W"):
                # The card is in a rep's DM and nobody could take the lead: a copy in the
                # channel, where anyone may claim it.
                copy = OutboxEntry.dm_copy(handoff_id=handoff_id, rep_slack_id=team.channel)
                entries.append(copy)
        if rep is not None and notify != "channel" and channel != rep:
            # a copy in the rep's direct messages (a user id posts to the app's DM)
            entries.append(OutboxEntry.dm_copy(handoff_id=handoff_id, rep_slack_id=rep))
    return entries


def _card_channel(notify: str, rep: str | None, team: TeamConfig) -> str:
    """Gets where a new lead's card goes: the rep's DM (their user id) when the tier is
    told by DM only and a rep took it, else the team channel."""
    return rep if notify == "dm" and rep is not None else team.channel


def queue_card_update(*, session: Session, handoff: Handoff, now: datetime) -> None:
    """Queues a redraw of a hand-off's card (after a decision or a reassignment), to go
    out from `now`."""
    assert handoff.id is not None
    entry = OutboxEntry.card_update(handoff_id=handoff.id, channel=handoff.channel)
    enqueue(session=session, entries=[entry], now=now)
