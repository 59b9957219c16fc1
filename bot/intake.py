"""Intake: a lead or an activity in -> stored, scored, and (when it qualifies) handed off.

Everything happens in the caller's transaction: the lead, its activities, the score
snapshot, the hand-off and the outbox entry for its Slack card commit together or not at
all. Nothing here waits on Slack; the outbox sender posts the card later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import TeamConfig
from bot.intake_models import LeadIn, StandaloneActivityIn
from bot.routing import assign
from scoring import Activity as ScoredActivity
from scoring import Score, ScoringRules, compiled
from store.handoffs import add_snapshot, create_handoff, open_handoff
from store.leads import activities_of, add_activities, find_lead, lead_fields, upsert_lead
from store.models import Handoff, Lead, LeadDisposition, Rep
from store.outbox import enqueue

POST_CARD = "post_card"


class UnknownLead(LookupError):
    """An activity names a lead that was never taken in."""


@dataclass(frozen=True)
class Intake:
    """What one intake call did."""

    lead: Lead
    created: bool
    activities_added: int
    score: Score
    handoff: Handoff | None
    handed_off: bool
    rep: Rep | None

    def to_response(self) -> dict[str, Any]:
        """Gets the API response: {lead_id, score, handoff}."""
        handoff = None
        if self.handoff is not None:
            handoff = {
                "id": self.handoff.id,
                "status": self.handoff.status,
                "rep": self.rep.slack_id if self.rep else None,
            }
        return {
            "lead_id": self.lead.id,
            "score": self.score.to_dict(external_id=self.lead.external_id),
            "handoff": handoff,
        }


@dataclass(frozen=True)
class Context:
    """What intake needs besides the request: the rules, the team, the time."""

    rules: ScoringRules
    team: TeamConfig
    now: datetime


def ingest_lead(*, session: Session, lead_in: LeadIn, context: Context) -> Intake:
    """Upserts a lead with its activities, scores it, and hands it off if it qualifies."""
    lead, created = upsert_lead(
        session=session,
        source_system=lead_in.source_system,
        external_id=lead_in.external_id,
        values=lead_in.values(),
        now=context.now,
    )
    added = add_activities(
        session=session,
        lead_id=_id(lead),
        activities=[activity.row() for activity in lead_in.activities],
        now=context.now,
    )
    return _score_and_route(
        session=session, lead=lead, created=created, added=added, context=context
    )


def ingest_activity(
    *, session: Session, activity_in: StandaloneActivityIn, context: Context
) -> Intake:
    """Adds one activity to a known lead and re-scores it: a nurture lead that crosses
    the threshold is handed off then."""
    lead = find_lead(
        session=session,
        source_system=activity_in.source_system,
        external_id=activity_in.lead_external_id,
        lock=True,
    )
    if lead is None:
        raise UnknownLead(
            f"no lead with source_system {activity_in.source_system!r} and external_id "
            f"{activity_in.lead_external_id!r}: post it to /api/leads first"
        )
    added = add_activities(
        session=session, lead_id=_id(lead), activities=[activity_in.row()], now=context.now
    )
    return _score_and_route(session=session, lead=lead, created=False, added=added, context=context)


def _id(lead: Lead) -> int:
    if lead.id is None:
        raise RuntimeError("lead has no id: it was not flushed")
    return lead.id


def _score_and_route(
    *, session: Session, lead: Lead, created: bool, added: int, context: Context
) -> Intake:
    activities = [
        ScoredActivity(kind, when)
        for kind, when in activities_of(session=session, lead_id=_id(lead))
    ]
    fields = lead_fields(lead)
    result = compiled(context.rules).score(fields, activities, context.now)
    snapshot = add_snapshot(session=session, lead_id=_id(lead), score=result, now=context.now)
    handoff = open_handoff(session=session, lead_id=_id(lead))
    handed_off = False
    rep: Rep | None = None
    qualifies = result.routable and lead.disposition != LeadDisposition.DISQUALIFIED
    if handoff is None and qualifies:
        territory = fields.get(context.team.territory_field)
        assignment = assign(
            session=session, territory=territory, territory_field=context.team.territory_field
        )
        rep = assignment.rep
        handoff = create_handoff(
            session=session,
            lead_id=_id(lead),
            snapshot=snapshot,
            rep_id=rep.id if rep else None,
            unassigned_reason=assignment.reason,
            channel=context.team.channel,
            now=context.now,
        )
        enqueue(
            session=session,
            kind=POST_CARD,
            channel=context.team.channel,
            payload={"handoff_id": handoff.id},
            handoff_id=handoff.id,
            now=context.now,
        )
        handed_off = True
    elif handoff is not None and handoff.rep_id is not None:
        rep = session.get(Rep, handoff.rep_id)
    return Intake(lead, created, added, result, handoff, handed_off, rep)
