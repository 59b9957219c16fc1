"""The SLA sweep: reminders before a deadline, escalation levels after it. Pure of
clocks: `sweep(session, now)` does what is due at `now`, and can be run for any instant.

Every send is made idempotent by inserting its Notification row (unique key) first, in
the same transaction as the outbox entry that carries the message: a level fires once,
however many sweeps run, and catching up after downtime sends each overdue level once.
Tiers on a business calendar only notify while it is open; 24x7 tiers at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config import RejectReason, SlaConfig, TeamConfig
from bot.handoffs.calendar import add_business_time, calendar_of
from bot.handoffs.feedback import ask_due
from bot.handoffs.notices import NoticeKind, notice_about, queue_notice
from bot.handoffs.reassign import Move, reassign
from scoring.rules import Tier
from store.handoffs import OverdueHandoff, overdue, pending_of_away_reps
from store.lead_events import LeadEvent, record_events
from store.models import MoveReason, NotificationKind
from store.outbox import claim_notification


@dataclass(frozen=True)
class Sent:
    """One notification the sweep queued."""

    kind: str  # a NotificationKind (reminder, escalation, feedback), or "reassignment"
    level: int
    handoff_id: int
    to: str

    def __str__(self) -> str:
        if self.kind == "reassignment":
            return f"hand-off {self.handoff_id} reassigned to {self.to}"
        if self.kind == NotificationKind.FEEDBACK:
            what = "feedback reminder" if self.level else "feedback ask"
            return f"{what} for hand-off {self.handoff_id} to {self.to}"
        what = "reminder" if self.kind == "reminder" else f"escalation level {self.level}"
        return f"{what} for hand-off {self.handoff_id} to {self.to}"


@dataclass
class Sweep:
    """One pass over the overdue hand-offs."""

    session: Session
    now: datetime
    team: TeamConfig
    sla: SlaConfig
    reasons: list[RejectReason]
    send_from: datetime

    def run(self) -> list[Sent]:
        sent = [
            self._reassign(handoff_id, MoveReason.INACTIVE if inactive else MoveReason.AWAY)
            for handoff_id, inactive in pending_of_away_reps(session=self.session)
        ]
        for handoff in overdue(session=self.session, now=self.now):
            if Tier(handoff.tier) not in self.sla.tiers:
                continue
            calendar = calendar_of(self.sla, Tier(handoff.tier))
            if not calendar.is_open(self.now):
                continue  # business-hours tiers wait for the next opening
            sent += self._remind(handoff) + self._escalate(handoff)
        asked = ask_due(
            session=self.session,
            now=self.now,
            team=self.team,
            sla=self.sla,
            reasons=self.reasons,
            send_from=self.send_from,
        )
        sent += [
            Sent(NotificationKind.FEEDBACK, int(a.reminder), a.handoff_id, a.to) for a in asked
        ]
        return sent

    def _key(self, kind: NotificationKind, handoff: OverdueHandoff, level: int) -> str:
        return f"{kind}:{handoff.id}:{level}:{handoff.policy_version}:{handoff.due_at.isoformat()}"

    def _send(self, handoff: OverdueHandoff, kind: NoticeKind, level: int, to: str) -> list[Sent]:
        sent_as = (
            NotificationKind.REMINDER
            if kind is NoticeKind.REMINDER
            else NotificationKind.ESCALATION
        )
        if not claim_notification(
            session=self.session,
            key=self._key(sent_as, handoff, level),
            kind=sent_as,
            handoff_id=handoff.id,
            level=level,
            now=self.now,
        ):
            return []
        notice = notice_about(
            session=self.session,
            kind=kind,
            handoff_id=handoff.id,
            team=self.team,
            reasons=self.reasons,
            sla=self.sla,
            now=self.now,
            level=level,
        )
        queue_notice(session=self.session, to=to, notice=notice, send_at=self.send_from)
        return [Sent(sent_as, level, handoff.id, to)]

    def _remind(self, handoff: OverdueHandoff) -> list[Sent]:
        if handoff.warn_at is None or handoff.warn_at > self.now or handoff.rep_slack_id is None:
            return []
        if handoff.due_at <= self.now:
            return []  # past the deadline: escalation's turn
        return self._send(handoff, NoticeKind.REMINDER, 0, handoff.rep_slack_id)

    def _escalate(self, handoff: OverdueHandoff) -> list[Sent]:
        sent: list[Sent] = []
        calendar = calendar_of(self.sla, Tier(handoff.tier))
        for level, step in enumerate(self.sla.escalation, start=1):
            if add_business_time(handoff.due_at, step.after, calendar) > self.now:
                break
            if step.notify == "manager" and handoff.manager_slack_id:
                # The manager's DM carries the Reassign / Remind rep / Take it buttons.
                kind, to = NoticeKind.BREACH_TO_MANAGER, handoff.manager_slack_id
            else:  # the channel, or no manager to tell
                kind = NoticeKind.BREACH_TO_CHANNEL
                to = self.sla.escalation_channel or self.team.channel
            fired = self._send(handoff, kind, level, to)
            sent += fired
            if fired and level == 1:  # the breach itself, told once to the CRMs
                record_events(
                    session=self.session,
                    event=LeadEvent.BREACHED,
                    handoff_ids=[handoff.id],
                    now=self.now,
                )
            # An unassigned lead stays where anyone can claim it: moving it would only
            # post it again, with a fresh deadline to breach.
            if fired and step.reassign and handoff.rep_slack_id is not None:
                sent.append(self._reassign(handoff.id, MoveReason.BREACH))
                break  # the lead has a new hand-off, with its own deadline
        return sent

    def _reassign(self, handoff_id: int, why: MoveReason) -> Sent:
        new = reassign(
            session=self.session,
            handoff_id=handoff_id,
            team=self.team,
            sla=self.sla,
            now=self.now,
            move=Move(why),
            send_at=self.send_from,
        )
        to = (new.rep_slack_id or "nobody (unassigned)") if new else "nobody (already moved)"
        return Sent("reassignment", 0, handoff_id, to)


def sweep(
    *,
    session: Session,
    now: datetime,
    team: TeamConfig,
    sla: SlaConfig | None,
    reasons: list[RejectReason],
    send_from: datetime | None = None,
) -> list[Sent]:
    """Queues every reminder and escalation due at `now` that was not sent yet.
    (`send_from`: when the messages may go out; by default `now`.)"""
    if sla is None:
        return []
    return Sweep(session, now, team, sla, reasons, send_from or now).run()
