"""Notices about a hand-off: a reminder to its rep, a breach told to the manager or a
channel, a manager's nudge. The workflow says who is told what, as data; the chat surface
words it (templates/notice_*.md.j2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from bot.config import RejectReason, SlaConfig, TeamConfig
from bot.handoffs.cards import load_card
from bot.handoffs.deadlines import Terms
from bot.handoffs.reassign import candidates
from scoring.rules import Tier
from store.outbox import OutboxEntry, enqueue

MAX_CANDIDATES = 100  # a select's options


class NoticeKind(StrEnum):
    """Which notice it is."""

    REMINDER = "reminder"  # to the rep, before the deadline
    BREACH_TO_MANAGER = "breach_manager"  # to the rep's manager, with their actions
    BREACH_TO_CHANNEL = "breach_channel"  # to the escalation channel
    NUDGE = "nudge"  # the manager's "Remind rep", to the rep
    FEEDBACK = "feedback"  # "How did it go?", to the rep who accepted, with answer buttons


class Notice(BaseModel):
    """What a notice says: the lead, its deadline, how late, who holds it, who sent it."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    handoff_id: int
    lead_name: str
    company: str | None
    tier: Tier
    next_action: str | None
    sla: Terms | None = None
    due_at: datetime | None
    late_minutes: float = 0.0
    rep_slack_id: str | None = None
    sender_slack_id: str | None = None
    level: int = 0
    score: float | None = None
    # A breach told to a manager: the reps they may pick as the new owner (id, name).
    candidates: list[tuple[str, str]] = []
    reminder: bool = False  # a second ask (feedback)
    accepted_at: datetime | None = None


def notice_about(
    *,
    session: Session,
    kind: NoticeKind,
    handoff_id: int,
    team: TeamConfig,
    reasons: list[RejectReason],
    sla: SlaConfig | None,
    now: datetime,
    level: int = 0,
    sender_slack_id: str | None = None,
    reminder: bool = False,
) -> Notice:
    """Gets a notice about a hand-off as it stands at `now`."""
    card = load_card(session=session, handoff_id=handoff_id, team=team, reasons=reasons, sla=sla)
    picks: list[tuple[str, str]] = []
    if kind is NoticeKind.BREACH_TO_MANAGER:
        picks = [
            (rep.slack_id, rep.name)
            for rep in candidates(session=session, handoff_id=handoff_id, team=team)
        ][:MAX_CANDIDATES]
    late = (now - card.due_at).total_seconds() / 60 if card.due_at else 0.0
    return Notice(
        kind=kind,
        handoff_id=handoff_id,
        lead_name=card.name,
        company=card.company,
        tier=card.tier,
        next_action=card.next_action,
        sla=card.sla,
        due_at=card.due_at,
        late_minutes=max(late, 0.0),
        rep_slack_id=card.rep_slack_id,
        sender_slack_id=sender_slack_id,
        level=level,
        score=card.total,
        candidates=picks,
        reminder=reminder,
        accepted_at=card.decided_at if card.status == "accepted" else None,
    )


def queue_notice(
    *,
    session: Session,
    to: str,
    notice: Notice,
    send_at: datetime,
) -> None:
    """Queues a notice for a user's DM or a channel, to go out from `send_at`."""
    entry = OutboxEntry.notice(
        handoff_id=notice.handoff_id, to=to, notice=notice.model_dump(mode="json")
    )
    enqueue(session=session, entries=[entry], now=send_at)
