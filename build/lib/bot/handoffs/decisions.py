"""Accept, reject and claim: who may decide, and the one transition that wins.

No Slack here: listeners in `bot/slack/` call these with the acting user's id and show
the result. Every transition out of `pending` is a single conditional UPDATE, so when two
people click at once exactly one wins and the other is told who did. The card update is
queued in the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session

from bot.config import Disposition, RejectReason, SlaConfig, TeamConfig
from bot.handoffs.assignment import queue_card_update
from bot.handoffs.reassign import reassign
from bot.messaging.sender import MESSAGE
from bot.slack.text import escape, mention, mrkdwn
from store.models import Handoff, HandoffStatus, Lead, LeadDisposition, table
from store.outbox import enqueue
from store.reps import configured_reps

NOTE_MAX = 3000


@dataclass(frozen=True)
class Decision:
    """How a click went: `ok`, or `message` saying why not (shown only to the clicker)."""

    ok: bool
    message: str = ""


@dataclass(frozen=True)
class Actor:
    """Who clicked, and what they may do."""

    slack_id: str


def may_decide(*, session: Session, handoff: Handoff, actor: Actor) -> Decision:
    """Tells whether `actor` may accept or reject this hand-off, and if not, why."""
    reps = {rep.id: rep for rep in configured_reps(session=session)}
    assigned = reps.get(handoff.rep_id) if handoff.rep_id else None
    if assigned is None and handoff.rep_id is None:
        if any(rep.slack_id == actor.slack_id for rep in reps.values()):
            return Decision(True)
        return Decision(False, "Only the sales team can take unassigned leads.")
    if assigned is not None and actor.slack_id in (assigned.slack_id, assigned.manager_slack_id):
        return Decision(True)
    owner = f"<@{assigned.slack_id}>" if assigned else "its rep"
    return Decision(False, f"This lead is {owner}'s: only they or their manager can decide.")


def _already(session: Session, handoff_id: int) -> Decision:
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    assert handoff is not None
    who = f"<@{handoff.decided_by}>" if handoff.decided_by else "someone else"
    if handoff.status == HandoffStatus.PENDING:
        return Decision(False, "This lead changed hands meanwhile: try again.")
    return Decision(False, f"Already {handoff.status} by {who}.")


def _transition(session: Session, handoff_id: int, values: dict[str, object]) -> bool:
    handoffs = table(Handoff)
    statement = (
        update(handoffs)
        .where(handoffs.c.id == handoff_id, handoffs.c.status == HandoffStatus.PENDING)
        .values(**values)
    )
    return session.connection().execute(statement).rowcount == 1


def _authorised(session: Session, handoff_id: int, actor: Actor) -> Handoff | Decision:
    """Gets the hand-off if `actor` may decide on it, else the Decision saying why not."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(False, "This lead is no longer in the system.")
    allowed = may_decide(session=session, handoff=handoff, actor=actor)
    return handoff if allowed.ok else allowed


def accept(*, session: Session, handoff_id: int, actor: Actor, now: datetime) -> Decision:
    """Accepts a pending hand-off for `actor`, if they may."""
    handoff = _authorised(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    values = {"status": HandoffStatus.ACCEPTED, "decided_at": now, "decided_by": actor.slack_id}
    if not _transition(session, handoff_id, values):
        return _already(session, handoff_id)
    queue_card_update(session=session, handoff=handoff, now=now)
    return Decision(True)


def claim(*, session: Session, handoff_id: int, actor: Actor, now: datetime) -> Decision:
    """Gives an unassigned pending hand-off to the rep who claims it (and accepts it)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(False, "This lead is no longer in the system.")
    rep = next((r for r in configured_reps(session=session) if r.slack_id == actor.slack_id), None)
    if rep is None:
        return Decision(False, "Only the sales team can claim leads.")
    if handoff.rep_id is not None:
        return Decision(False, "This lead already has an owner.")
    values = {
        "status": HandoffStatus.ACCEPTED,
        "decided_at": now,
        "decided_by": actor.slack_id,
        "rep_id": rep.id,
    }
    if not _transition(session, handoff_id, values):
        return _already(session, handoff_id)
    queue_card_update(session=session, handoff=handoff, now=now)
    return Decision(True)


def reject_problems(*, reason: RejectReason | None, note: str) -> dict[str, str]:
    """Checks a reject form; gets {"reason" | "note": problem}, empty when fine."""
    if reason is None:
        return {"reason": "Choose why this lead is not sales-ready."}
    if reason.note_required and not note.strip():
        return {"note": f"Add a note: “{escape(reason.label)}” needs one."}
    if len(note) > NOTE_MAX:
        return {"note": f"Keep the note under {NOTE_MAX} characters."}
    return {}


def reject(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    reason: RejectReason,
    note: str,
    now: datetime,
) -> Decision:
    """Rejects a pending hand-off with a reason; sends the lead back to nurture or
    disqualifies it, as the reason says."""
    handoff = _authorised(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    values = {
        "status": HandoffStatus.REJECTED,
        "decided_at": now,
        "decided_by": actor.slack_id,
        "reject_reason": reason.code,
        "reject_note": note.strip() or None,
    }
    if not _transition(session, handoff_id, values):
        return _already(session, handoff_id)
    disposition = (
        LeadDisposition.DISQUALIFIED
        if reason.disposition is Disposition.DISQUALIFY
        else LeadDisposition.NURTURE
    )
    leads = table(Lead)
    session.connection().execute(
        update(leads).where(leads.c.id == handoff.lead_id).values(disposition=disposition)
    )
    queue_card_update(session=session, handoff=handoff, now=now)
    return Decision(True)


def _managed(session: Session, handoff_id: int, actor: Actor) -> Handoff | Decision:
    """Gets a pending hand-off if `actor` manages its rep, else the Decision saying why not."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(False, "This lead is no longer in the system.")
    if handoff.status != HandoffStatus.PENDING:
        who = f"<@{handoff.decided_by}>" if handoff.decided_by else "the system"
        return Decision(False, f"Already {handoff.status} by {who}.")
    rep = next((r for r in configured_reps(session=session) if r.id == handoff.rep_id), None)
    if rep is None or rep.manager_slack_id != actor.slack_id:
        return Decision(False, "Only the rep's manager can do this.")
    return handoff


def remind_rep(*, session: Session, handoff_id: int, actor: Actor, now: datetime) -> Decision:
    """Queues a nudge from the manager to the rep who holds the lead."""
    handoff = _managed(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    rep = next(r for r in configured_reps(session=session) if r.id == handoff.rep_id)
    text = mrkdwn(
        "remind_from_manager.md.j2",
        manager=mention(actor.slack_id),
        lead_id=handoff.lead_id,
        handoff_id=handoff.id,
    )
    enqueue(
        session=session,
        entries=[
            {
                "kind": MESSAGE,
                "channel": rep.slack_id,
                "handoff_id": handoff.id,
                "payload": {"text": text},
            }
        ],
        now=now,
    )
    return Decision(True, f"Reminded <@{rep.slack_id}>.")


def reassign_by_manager(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    team: TeamConfig,
    sla: SlaConfig | None,
    now: datetime,
) -> Decision:
    """Moves the lead to the next eligible rep, at the manager's request."""
    handoff = _managed(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    new = reassign(session=session, handoff_id=handoff_id, team=team, sla=sla, now=now)
    if new is None:
        return _already(session, handoff_id)
    target = f"<@{new.rep_slack_id}>" if new.rep_slack_id else "nobody (posted for anyone to claim)"
    return Decision(True, f"Reassigned to {target}.")
