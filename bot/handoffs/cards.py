"""What a lead card says, gathered from the database. No Slack here: `bot/slack/blocks/cards.py`
turns a `Card` into Block Kit, and another chat surface could render it otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import (
    Disposition,
    RejectReason,
    SlaConfig,
    TeamConfig,
)
from bot.handoffs.deadlines import Terms, terms
from scoring.rules import Tier
from store.handoffs import Leg, journey, successor_rep
from store.models import Handoff, HandoffStatus, Lead, Rep, ScoreSnapshot

TOP_FACTORS = 5

__all__ = ["Card", "Leg", "lead_name", "load_card"]


@dataclass(frozen=True)
class Card:
    """Everything a lead card shows, for one hand-off in its current state."""

    handoff_id: int
    status: str
    name: str
    title: str | None
    company: str | None
    details: str
    source: str
    source_system: str
    external_id: str
    fit: float
    intent: float
    total: float
    tier: Tier
    rules_version: str
    factors: list[dict[str, Any]]
    rep_slack_id: str | None
    unassigned_reason: str | None
    next_action: str | None  # the config's own words for the tier, if any
    due_at: datetime | None
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reject_label: str | None = None
    reject_note: str | None = None
    disposition: str | None = None
    sla: Terms | None = None
    reassigned_to: str | None = None
    breached: bool = False
    record_url: str | None = None  # the lead's record in its CRM (attribute record_url)
    journey: tuple[Leg, ...] = ()  # the lead's hand-offs up to this one, first to this

    @property
    def first_handed_at(self) -> datetime:
        """When the lead was first handed off (its age counts from here)."""
        return self.journey[0].first_handed_at if self.journey else self.created_at

    @property
    def moves(self) -> tuple[Leg, ...]:
        """The earlier hand-offs that ended in a move, in order."""
        return tuple(leg for leg in self.journey[:-1] if leg.status == HandoffStatus.REASSIGNED)

    @property
    def owners(self) -> int:
        """How many reps have held the lead, this hand-off's included."""
        return len({leg.rep_slack_id for leg in self.journey if leg.rep_slack_id})


def _name(lead: Lead) -> str:
    return lead_name(lead.first_name, lead.last_name, lead.email, lead.external_id)


def lead_name(first: str | None, last: str | None, email: str | None, external_id: str) -> str:
    """Gets what a lead is called: their name, else their email, else their id."""
    full = " ".join(part for part in (first, last) if part)
    return full or email or f"Lead {external_id}"


def _details(lead: Lead) -> str:
    parts = [
        f"{lead.employees:,} employees" if lead.employees is not None else None,
        lead.industry,
        lead.country,
        lead.email,
    ]
    return " · ".join(part for part in parts if part)


_URL = re.compile(r"https?://[^\s<>|]+")


def record_url(attributes: dict[str, Any]) -> str | None:
    """Gets a lead's CRM record link from its `record_url` attribute (set by HubSpot's
    intake, or sent by the CRM); None unless it is a plain http(s) URL."""
    value = attributes.get("record_url")
    return value if isinstance(value, str) and _URL.fullmatch(value) and len(value) <= 500 else None


def load_card(
    *,
    session: Session,
    handoff_id: int,
    team: TeamConfig,
    reasons: list[RejectReason],
    sla: SlaConfig | None = None,
) -> Card:
    """Gets the card of a hand-off as it stands now."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise LookupError(f"no hand-off {handoff_id}")
    lead = session.get(Lead, handoff.lead_id)
    snapshot = session.get(ScoreSnapshot, handoff.snapshot_id)
    assert lead is not None, f"hand-off {handoff_id} has no lead"
    assert snapshot is not None, f"hand-off {handoff_id} has no score snapshot"
    rep = session.get(Rep, handoff.rep_id) if handoff.rep_id else None
    reason = next((r for r in reasons if r.code == handoff.reject_reason), None)
    tier = Tier(snapshot.tier)
    return Card(
        handoff_id=handoff_id,
        status=handoff.status,
        name=_name(lead),
        title=lead.title,
        company=lead.company,
        details=_details(lead),
        source=lead.source or "unknown",
        source_system=lead.source_system,
        external_id=lead.external_id,
        record_url=record_url(lead.attributes),
        fit=snapshot.fit,
        intent=snapshot.intent,
        total=snapshot.total,
        tier=tier,
        rules_version=snapshot.rules_version,
        factors=[f for f in snapshot.factors if f["points"]][:TOP_FACTORS],
        rep_slack_id=rep.slack_id if rep else None,
        unassigned_reason=handoff.unassigned_reason,
        next_action=team.next_action.get(tier),
        due_at=handoff.due_at,
        created_at=handoff.created_at,
        decided_by=handoff.decided_by,
        decided_at=handoff.decided_at,
        reject_label=reason.label if reason else handoff.reject_reason,
        reject_note=handoff.reject_note,
        disposition=(reason.disposition if reason else Disposition.NURTURE).value,
        sla=terms(sla, tier),
        reassigned_to=successor_rep(session=session, handoff_id=handoff_id, lead_id=lead.id or 0)
        if handoff.status == HandoffStatus.REASSIGNED
        else None,
        breached=bool(
            handoff.due_at and handoff.decided_at and handoff.decided_at > handoff.due_at
        ),
        journey=tuple(
            leg for leg in journey(session=session, handoff_id=handoff_id) if leg.id <= handoff_id
        ),
    )
