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
from bot.handoffs.cards import load_card
from bot.handoffs.reassign import reassign
from bot.messaging.sender import MESSAGE
from bot.reports.format import tier_label
from bot.slack.text import date_token, mention, mrkdwn
from scoring.rules import Tier
from store.handoffs import OverdueHandoff, overdue, pending_of_away_reps
from store.outbox import claim_notification, enqueue


@dataclass(frozen=True)
class Sent:
    """One notification the sweep queued."""

    kind: str
    level: int
    handoff_id: int
    to: str

    def __str__(self) -> str:
        if self.kind == "reassignment":
            return f"hand-off {self.handoff_id} reassigned to {self.to}"
        what = "reminder" if self.kind == "reminder" else f"escalation level {self.level}"
        return f"{what} for hand-off {self.handoff_id} to {self.to}"


def _late(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


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
            self._reassign(handoff_id) for handoff_id in pending_of_away_reps(session=self.session)
        ]
        for handoff in overdue(session=self.session, now=self.now):
            if Tier(handoff.tier) not in self.sla.tiers:
                continue
            calendar = calendar_of(self.sla, Tier(handoff.tier))
            if not calendar.is_open(self.now):
                continue  # business-hours tiers wait for the next opening
            sent += self._remind(handoff) + self._escalate(handoff)
        return sent

    def _key(self, kind: str, handoff: OverdueHandoff, level: int) -> str:
        return f"{kind}:{handoff.id}:{level}:{handoff.policy_version}:{handoff.due_at.isoformat()}"

    def _send(
        self,
        kind: str,
        handoff: OverdueHandoff,
        level: int,
        to: str,
        text: str,
        *,
        actions: bool = False,
    ) -> list[Sent]:
        key = self._key(kind, handoff, level)
        if not claim_notification(
            session=self.session,
            key=key,
            kind=kind,
            handoff_id=handoff.id,
            level=level,
            now=self.now,
        ):
            return []
        enqueue(
            session=self.session,
            entries=[
                {
                    "kind": MESSAGE,
                    "channel": to,
                    "handoff_id": handoff.id,
                    # The manager's DM carries the Reassign / Remind rep / Take it buttons.
                    "payload": {"text": text, "escalation_actions": actions},
                }
            ],
            now=self.send_from,
        )
        return [Sent(kind, level, handoff.id, to)]

    def _values(self, handoff: OverdueHandoff) -> dict[str, object]:
        card = load_card(
            session=self.session,
            handoff_id=handoff.id,
            team=self.team,
            reasons=self.reasons,
            sla=self.sla,
        )
        late = max((self.now - handoff.due_at).total_seconds() / 60, 0)
        return {
            "name": card.name,
            "company": card.company,
            "tier_label": tier_label(card.tier),
            "next_action": card.next_action,
            "due": date_token(handoff.due_at),
            "late": _late(late),
            "rep": mention(handoff.rep_slack_id) if handoff.rep_slack_id else "nobody",
        }

    def _remind(self, handoff: OverdueHandoff) -> list[Sent]:
        if handoff.warn_at is None or handoff.warn_at > self.now or handoff.rep_slack_id is None:
            return []
        if handoff.due_at <= self.now:
            return []  # past the deadline: escalation's turn
        text = mrkdwn("reminder.md.j2", **self._values(handoff))
        return self._send("reminder", handoff, 0, handoff.rep_slack_id, text)

    def _escalate(self, handoff: OverdueHandoff) -> list[Sent]:
        sent: list[Sent] = []
        calendar = calendar_of(self.sla, Tier(handoff.tier))
        for level, step in enumerate(self.sla.escalation, start=1):
            if add_business_time(handoff.due_at, step.after, calendar) > self.now:
                break
            values = self._values(handoff)
            if step.notify == "manager" and handoff.manager_slack_id:
                text = mrkdwn("escalation_manager.md.j2", **values)
                fired = self._send(
                    "escalation", handoff, level, handoff.manager_slack_id, text, actions=True
                )
            else:  # the channel, or no manager to tell
                channel = self.sla.escalation_channel or self.team.channel
                text = mrkdwn("escalation_channel.md.j2", level=level, **values)
                fired = self._send("escalation", handoff, level, channel, text)
            sent += fired
            if fired and step.reassign:
                sent.append(self._reassign(handoff.id))
                break  # the lead has a new hand-off, with its own deadline
        return sent

    def _reassign(self, handoff_id: int) -> Sent:
        new = reassign(
            session=self.session, handoff_id=handoff_id, team=self.team, sla=self.sla, now=self.now
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
