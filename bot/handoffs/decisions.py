"""Accept, reject and claim: who may decide, and the one transition that wins.

No Slack here: listeners in `bot/slack/` call these with the acting user's id and show
the result. Every transition out of `pending` is a single conditional UPDATE, so when two
people click at once exactly one wins and the other is told who did. The card update is
queued in the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot.config import Disposition, RejectReason, SlaConfig, TeamConfig
from bot.handoffs.assignment import PickRefused, queue_card_update
from bot.handoffs.cards import lead_name
from bot.handoffs.feedback import expect_feedback
from bot.handoffs.notices import NoticeKind, notice_about, queue_notice
from bot.handoffs.reassign import Move, candidates, reassign
from bot.handoffs.verdicts import DONE, Actor, Decision, Verdict
from store.handoffs import leave_pending
from store.lead_events import LeadEvent, record_events
from store.leads import set_disposition
from store.models import Handoff, HandoffStatus, Lead, LeadDisposition, MoveReason, Rep
from store.reps import configured_reps

NOTE_MAX = 3000

__all__ = [
    "DONE",
    "NOTE_MAX",
    "Actor",
    "Decision",
    "RejectProblem",
    "Verdict",
    "about",
    "accept",
    "claim",
    "may_decide",
    "may_reject",
    "reassign_by_manager",
    "reject",
    "reject_problems",
    "remind_rep",
]


class RejectProblem(StrEnum):
    """What is wrong with a reject form (see templates/reject_problem.txt.j2)."""

    NO_REASON = "no_reason"
    NOTE_REQUIRED = "note_required"
    NOTE_TOO_LONG = "note_too_long"


def about(*, session: Session, handoff_id: int, decision: Decision) -> Decision:
    """Adds which lead a decision is about, so that every answer names it."""
    handoff = session.get(Handoff, handoff_id)
    lead = session.get(Lead, handoff.lead_id) if handoff else None
    if lead is None:
        return decision
    name = lead_name(lead.first_name, lead.last_name, lead.email, lead.external_id)
    return replace(decision, lead=f"{name} ({lead.company})" if lead.company else name)


def may_decide(*, session: Session, handoff: Handoff, actor: Actor) -> Decision:
    """Tells whether `actor` may accept or reject this hand-off, and if not, why: its rep
    while active, their manager, or for an unassigned lead any active rep."""
    reps = {rep.id: rep for rep in configured_reps(session=session)}
    assigned = reps.get(handoff.rep_id) if handoff.rep_id else None
    if assigned is None and handoff.rep_id is None:
        if _active_rep(session, actor) is not None:
            return Decision(Verdict.DONE)
        return Decision(Verdict.NOT_SALES)
    if assigned is not None and actor.slack_id == assigned.manager_slack_id:
        return Decision(Verdict.DONE)
    if assigned is not None and actor.slack_id == assigned.slack_id and assigned.active:
        return Decision(Verdict.DONE)
    return Decision(Verdict.NOT_YOURS, who=assigned.slack_id if assigned else None)


def _active_rep(session: Session, actor: Actor) -> Rep | None:
    """Gets the clicker as an active rep in the config (None: not one)."""
    return next(
        (r for r in configured_reps(session=session) if r.slack_id == actor.slack_id and r.active),
        None,
    )


def _already(session: Session, handoff_id: int) -> Decision:
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    assert handoff is not None
    if handoff.status == HandoffStatus.PENDING:
        return Decision(Verdict.CHANGED_HANDS)
    return Decision(Verdict.ALREADY, who=handoff.decided_by, status=handoff.status)


def _authorised(session: Session, handoff_id: int, actor: Actor) -> Handoff | Decision:
    """Gets the hand-off if `actor` may decide on it, else the Decision saying why not."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(Verdict.GONE)
    allowed = may_decide(session=session, handoff=handoff, actor=actor)
    return handoff if allowed.ok else allowed


def may_reject(*, session: Session, handoff_id: int, actor: Actor) -> Decision:
    """Tells whether `actor` may open the reject dialog of a hand-off (it is still pending
    and theirs to decide), and if not, why."""
    handoff = _authorised(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    if handoff.status != HandoffStatus.PENDING:
        return Decision(Verdict.ALREADY, who=handoff.decided_by, status=handoff.status)
    return Decision(Verdict.DONE)


def accept(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    now: datetime,
    sla: SlaConfig | None = None,
) -> Decision:
    """Accepts a pending hand-off for `actor`, if they may; the feedback it now owes is
    due by the policy's `feedback_within`."""
    handoff = _authorised(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    if handoff.rep_id is None:  # Accept on an unassigned card: the clicker claims it
        return claim(session=session, handoff_id=handoff_id, actor=actor, now=now, sla=sla)
    values = {"status": HandoffStatus.ACCEPTED, "decided_at": now, "decided_by": actor.slack_id}
    if not leave_pending(session=session, handoff_id=handoff_id, values=values):
        return _already(session, handoff_id)
    expect_feedback(session=session, handoff_id=handoff_id, sla=sla, now=now)
    queue_card_update(session=session, handoff=handoff, now=now)
    record_events(session=session, event=LeadEvent.ACCEPTED, handoff_ids=[handoff_id], now=now)
    return Decision(Verdict.DONE, status=HandoffStatus.ACCEPTED)


def claim(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    now: datetime,
    sla: SlaConfig | None = None,
) -> Decision:
    """Gives an unassigned pending hand-off to the rep who claims it (and accepts it)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(Verdict.GONE)
    rep = _active_rep(session, actor)
    if rep is None:
        return Decision(Verdict.NOT_SALES_CLAIM)
    if handoff.rep_id is not None:
        return Decision(Verdict.HAS_OWNER)
    values = {
        "status": HandoffStatus.ACCEPTED,
        "decided_at": now,
        "decided_by": actor.slack_id,
        "rep_id": rep.id,
    }
    if not leave_pending(session=session, handoff_id=handoff_id, values=values):
        return _already(session, handoff_id)
    expect_feedback(session=session, handoff_id=handoff_id, sla=sla, now=now)
    queue_card_update(session=session, handoff=handoff, now=now)
    record_events(session=session, event=LeadEvent.ACCEPTED, handoff_ids=[handoff_id], now=now)
    return Decision(Verdict.DONE, status=HandoffStatus.ACCEPTED)


def reject_problems(*, reason: RejectReason | None, note: str) -> dict[str, RejectProblem]:
    """Checks a reject form; gets {"reason" | "note": problem}, empty when fine."""
    if reason is None:
        return {"reason": RejectProblem.NO_REASON}
    if reason.note_required and not note.strip():
        return {"note": RejectProblem.NOTE_REQUIRED}
    if len(note) > NOTE_MAX:
        return {"note": RejectProblem.NOTE_TOO_LONG}
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
    if not leave_pending(session=session, handoff_id=handoff_id, values=values):
        return _already(session, handoff_id)
    disposition = (
        LeadDisposition.DISQUALIFIED
        if reason.disposition is Disposition.DISQUALIFY
        else LeadDisposition.NURTURE
    )
    set_disposition(session=session, lead_id=handoff.lead_id, disposition=disposition)
    queue_card_update(session=session, handoff=handoff, now=now)
    record_events(session=session, event=LeadEvent.REJECTED, handoff_ids=[handoff_id], now=now)
    return Decision(Verdict.DONE, status=HandoffStatus.REJECTED)


def _managed(session: Session, handoff_id: int, actor: Actor) -> Handoff | Decision:
    """Gets a pending hand-off if `actor` manages its rep, else the Decision saying why not."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Decision(Verdict.GONE)
    if handoff.status != HandoffStatus.PENDING:
        return Decision(Verdict.ALREADY, who=handoff.decided_by, status=handoff.status)
    rep = next((r for r in configured_reps(session=session) if r.id == handoff.rep_id), None)
    if rep is None or rep.manager_slack_id != actor.slack_id:
        return Decision(Verdict.NOT_MANAGER)
    return handoff


def remind_rep(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    team: TeamConfig,
    reasons: list[RejectReason],
    sla: SlaConfig | None,
    now: datetime,
) -> Decision:
    """Queues a nudge from the manager to the rep who holds the lead."""
    handoff = _managed(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    rep = next(r for r in configured_reps(session=session) if r.id == handoff.rep_id)
    notice = notice_about(
        session=session,
        kind=NoticeKind.NUDGE,
        handoff_id=handoff_id,
        team=team,
        reasons=reasons,
        sla=sla,
        now=now,
        sender_slack_id=actor.slack_id,
    )
    queue_notice(session=session, to=rep.slack_id, notice=notice, send_at=now)
    return Decision(Verdict.REMINDED, who=rep.slack_id)


def reassign_by_manager(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    team: TeamConfig,
    sla: SlaConfig | None,
    now: datetime,
    to: str | None = None,
) -> Decision:
    """Moves the lead to the next eligible rep, or to the rep the manager picked (`to`, a
    Slack id), at the manager's request."""
    handoff = _managed(session, handoff_id, actor)
    if isinstance(handoff, Decision):
        return handoff
    pick = None
    if to is not None:
        found = candidates(session=session, handoff_id=handoff_id, team=team)
        chosen = next((r for r in found if r.slack_id == to), None)
        if chosen is None:
            return Decision(Verdict.NOT_ELIGIBLE, who=to)
        pick = chosen.id
    move = Move(MoveReason.MANAGER, by=actor.slack_id, to=pick)
    try:
        new = reassign(
            session=session, handoff_id=handoff_id, team=team, sla=sla, now=now, move=move
        )
    except PickRefused:  # eligible when listed, not any more: nothing moved
        session.rollback()
        return Decision(Verdict.NOT_ELIGIBLE, who=to)
    if new is None:
        return _already(session, handoff_id)
    return Decision(Verdict.REASSIGNED, who=new.rep_slack_id)
