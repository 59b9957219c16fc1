"""The feedback sales owes after Accept: "How did it go?".

Accepting a lead sets its feedback deadline (`[sla] feedback_within` on
`feedback_calendar`). At the deadline the sweep asks whoever accepted it, by DM, with the
answers as buttons; one reminder follows `feedback_reminder_after` later. An answer is
stored with the lead as an activity (kind `sales_feedback`), which calibration and reports
read like any other; "No answer yet" moves the deadline once and asks again then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session

from bot.config import RejectReason, SlaConfig, TeamConfig
from bot.handoffs.calendar import (
    TWENTY_FOUR_SEVEN,
    Calendar,
    add_business_time,
    calendar_from,
    calendar_of,
)
from bot.handoffs.notices import NoticeKind, notice_about, queue_notice
from bot.handoffs.outcomes import SALES_FEEDBACK
from bot.handoffs.verdicts import Actor, Decision, Verdict
from scoring.rules import Tier
from store.lead_events import LeadEvent, record_events
from store.models import (
    Activity,
    Feedback,
    Handoff,
    HandoffStatus,
    NotificationKind,
    Rep,
    table,
)
from store.outbox import claim_notification

ACTIVITY_KIND = SALES_FEEDBACK


def _calendar(sla: SlaConfig) -> Calendar:
    name = sla.feedback_calendar
    return TWENTY_FOUR_SEVEN if name == "24x7" else calendar_from(sla.calendars[name])


def expect_feedback(
    *, session: Session, handoff_id: int, sla: SlaConfig | None, now: datetime
) -> None:
    """Sets the feedback deadline of a hand-off just accepted (none without an SLA policy,
    or with `ask_feedback = false`)."""
    if sla is None or not sla.ask_feedback:
        return
    due = add_business_time(now, sla.feedback_within, _calendar(sla))
    handoffs = table(Handoff)
    session.connection().execute(
        update(handoffs)
        .where(handoffs.c.id == handoff_id)
        .values(feedback_due_at=due, feedback_next_at=due, feedback_asks=0)
    )


@dataclass(frozen=True)
class Asked:
    """One feedback ask the sweep queued."""

    handoff_id: int
    to: str
    reminder: bool


def ask_due(
    *,
    session: Session,
    now: datetime,
    team: TeamConfig,
    sla: SlaConfig,
    reasons: list[RejectReason],
    send_from: datetime,
) -> list[Asked]:
    """Asks for every feedback due at `now` (once each: a Notification key per ask), and
    schedules the reminder after a first ask."""
    handoffs = table(Handoff)
    asked = []
    for handoff_id, to, next_at, asks, tier in _due(session, now):
        if Tier(tier) in sla.tiers and not calendar_of(sla, Tier(tier)).is_open(now):
            continue  # asked when the tier's working hours open, like its reminders
        reminder = asks >= 1
        key = f"{NotificationKind.FEEDBACK}:{handoff_id}:{asks}:{next_at.isoformat()}"
        later = (
            None
            if reminder
            else add_business_time(now, sla.feedback_reminder_after, _calendar(sla))
        )
        session.connection().execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(feedback_asks=asks + 1, feedback_next_at=later)
        )
        if to is None or not claim_notification(
            session=session,
            key=key,
            kind=NotificationKind.FEEDBACK,
            handoff_id=handoff_id,
            level=asks,
            now=now,
        ):
            continue
        notice = notice_about(
            session=session,
            kind=NoticeKind.FEEDBACK,
            handoff_id=handoff_id,
            team=team,
            reasons=reasons,
            sla=sla,
            now=now,
            reminder=reminder,
        )
        queue_notice(session=session, to=to, notice=notice, send_at=send_from)
        asked.append(Asked(handoff_id, to, reminder))
    return asked


def _due(session: Session, now: datetime) -> list[Any]:
    """Gets (id, who accepted, when, asks so far, tier) of the feedback asks due at `now`."""
    handoffs = table(Handoff)
    query = (
        select(
            handoffs.c.id,
            handoffs.c.decided_by,
            handoffs.c.feedback_next_at,
            handoffs.c.feedback_asks,
            handoffs.c.tier,
        )
        .where(handoffs.c.feedback_next_at <= now, handoffs.c.status == HandoffStatus.ACCEPTED)
        .order_by(handoffs.c.feedback_next_at)
    )
    return list(session.connection().execute(query))


def _may_answer(session: Session, handoff: Handoff, actor: Actor) -> bool:
    rep = session.get(Rep, handoff.rep_id) if handoff.rep_id else None
    allowed = {handoff.decided_by, rep.slack_id if rep else None}
    allowed.add(rep.manager_slack_id if rep else None)
    return actor.slack_id in allowed - {None}


def answer(
    *,
    session: Session,
    handoff_id: int,
    actor: Actor,
    given: Feedback,
    sla: SlaConfig | None,
    now: datetime,
    reason: RejectReason | None = None,
    note: str = "",
) -> Decision:
    """Records a rep's answer to "How did it go?" (`reason`, `note`: why not a fit)."""
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    if handoff is None:
        return Decision(Verdict.GONE)
    if not _may_answer(session, handoff, actor):
        return Decision(Verdict.NOT_YOURS, who=handoff.decided_by)
    if handoff.feedback not in (None, Feedback.NO_ANSWER_YET):
        return Decision(Verdict.ALREADY, who=None, status="answered")
    values: dict[str, object] = {
        "feedback": given,
        "feedback_at": handoff.feedback_at or now,
        "feedback_next_at": None,
    }
    postponed = given is Feedback.NO_ANSWER_YET and not handoff.feedback_postponed
    if postponed and sla is not None:
        later = add_business_time(now, sla.feedback_within, _calendar(sla))
        values |= {"feedback_postponed": True, "feedback_next_at": later, "feedback_asks": 0}
    handoffs = table(Handoff)
    open_ = or_(handoffs.c.feedback.is_(None), handoffs.c.feedback == Feedback.NO_ANSWER_YET)
    # One conditional UPDATE: of two answers at once, one is recorded and the other told.
    statement = update(handoffs).where(handoffs.c.id == handoff_id, open_).values(**values)
    if session.connection().execute(statement).rowcount != 1:
        return Decision(Verdict.ALREADY, who=None, status="answered")
    properties = {"answer": given.value, "by": actor.slack_id, "handoff_id": handoff_id}
    if reason is not None:
        properties |= {"reason": reason.code, "reason_label": reason.label}
    if note.strip():
        properties["note"] = note.strip()
    session.connection().execute(
        insert(table(Activity)).values(
            lead_id=handoff.lead_id,
            external_id=f"{ACTIVITY_KIND}:{handoff_id}:{given.value}:{now.isoformat()}",
            kind=ACTIVITY_KIND,
            occurred_at=now,
            properties=properties,
            created_at=now,
        )
    )
    record_events(session=session, event=LeadEvent.FEEDBACK, handoff_ids=[handoff_id], now=now)
    verdict = Verdict.FEEDBACK_POSTPONED if postponed else Verdict.FEEDBACK_SAVED
    return Decision(verdict, status=given.value)
