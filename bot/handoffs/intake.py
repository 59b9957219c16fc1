"""Intake: leads or activities in -> stored, scored, and (when they qualify) handed off.

One pipeline for every path in: the API sends a batch of one lead, `handoff import` a
batch of hundreds. Each step is one statement for the whole batch, and everything
happens in the caller's transaction: leads, activities, score snapshots, hand-offs and
the outbox entries for their Slack cards commit together or not at all. Nothing here
waits on Slack; the outbox sender posts the cards later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import SlaConfig, TeamConfig
from bot.handoffs.assignment import NewHandoff, hand_to_reps
from bot.handoffs.inputs import LeadIn, StandaloneActivityIn
from scoring import Activity as ScoredActivity
from scoring import Score, ScoringRules, compiled
from store.handoffs import OpenHandoff, add_shadow_scores, add_snapshots, open_handoffs
from store.leads import (
    LeadKey,
    activities_by_lead,
    add_activities,
    insert_leads,
    lead_fields,
    load_leads,
    merged,
    update_lead,
)
from store.models import LeadDisposition


class UnknownLead(LookupError):
    """An activity names a lead that was never taken in."""


@dataclass(frozen=True)
class Context:
    """What intake needs besides the request: the rules, the team, the time."""

    rules: ScoringRules
    team: TeamConfig
    now: datetime
    sla: SlaConfig | None = None


@dataclass(frozen=True)
class Intake:
    """What intake did with one lead."""

    lead_id: int
    external_id: str
    created: bool
    activities_added: int
    score: Score
    handoff: OpenHandoff | None
    handed_off: bool

    def to_response(self) -> dict[str, Any]:
        """Gets the API response: {lead_id, score, handoff}."""
        handoff = None
        if self.handoff is not None:
            handoff = {
                "id": self.handoff.id,
                "status": self.handoff.status,
                "rep": self.handoff.rep_slack_id,
            }
        return {
            "lead_id": self.lead_id,
            "score": self.score.to_dict(external_id=self.external_id),
            "handoff": handoff,
        }


@dataclass
class _Lead:
    """One lead on its way through the pipeline."""

    id: int
    external_id: str
    created: bool
    disposition: str
    fields: dict[str, Any]
    added: int = 0
    activities: list[tuple[str, datetime]] = field(default_factory=list)


def ingest_leads(*, session: Session, leads: Sequence[LeadIn], context: Context) -> list[Intake]:
    """Upserts leads with their activities, scores them, and hands off those that qualify.

    A lead given twice in one batch is handled twice, in order, as two requests would be.
    """
    out: list[Intake] = []
    for part in _unique_runs(leads):
        out.extend(_ingest_unique(session, part, context))
    return out


def _unique_runs(leads: Sequence[LeadIn]) -> list[list[LeadIn]]:
    runs: list[list[LeadIn]] = [[]]
    seen: set[LeadKey] = set()
    for lead in leads:
        key = (lead.source_system, lead.external_id)
        if key in seen:
            runs.append([])
            seen.clear()
        seen.add(key)
        runs[-1].append(lead)
    return [run for run in runs if run]


def _ingest_unique(session: Session, leads: list[LeadIn], context: Context) -> list[Intake]:
    keys = [(lead.source_system, lead.external_id) for lead in leads]
    values = [lead.values() for lead in leads]
    # Insert first: a new lead costs one statement; those that already exist are skipped
    # by the insert, then read (and locked) to be updated.
    ids = insert_leads(
        session=session,
        rows=[
            {"source_system": key[0], "external_id": key[1], **given}
            for key, given in zip(keys, values, strict=True)
        ],
        now=context.now,
    )
    stored = load_leads(session=session, keys=[k for k in keys if k not in ids], lock=True)
    states = [
        _state(session, lead.external_id, given, key, stored, ids, context.now)
        for lead, given, key in zip(leads, values, keys, strict=True)
    ]
    rows = [
        {**activity.row(), "lead_id": state.id}
        for lead, state in zip(leads, states, strict=True)
        for activity in lead.activities
    ]
    added = add_activities(session=session, rows=rows, now=context.now)
    # A new lead's history is what this batch gave it; only stored leads need reading.
    history = activities_by_lead(session=session, lead_ids=[s.id for s in states if not s.created])
    for lead, state in zip(leads, states, strict=True):
        state.added = added[state.id]
        state.activities = history.get(state.id, []) if not state.created else _given(lead)
    return _score_and_route(session, states, context)


def _given(lead: LeadIn) -> list[tuple[str, datetime]]:
    """Gets a new lead's activities, once per event id (as the database keeps them)."""
    unique = {activity.event_id(): activity for activity in reversed(lead.activities)}
    return [(a.kind, a.occurred_at) for a in unique.values()]


def _state(
    session: Session,
    external_id: str,
    values: dict[str, Any],
    key: LeadKey,
    stored: dict[LeadKey, dict[str, Any]],
    ids: dict[LeadKey, int],
    now: datetime,
) -> _Lead:
    if key in ids:
        return _Lead(ids[key], external_id, True, LeadDisposition.OPEN, lead_fields(values))
    row = stored[key]
    changes = merged(row, values)
    if changes:
        update_lead(session=session, lead_id=row["id"], values=changes, now=now)
    return _Lead(row["id"], external_id, False, row["disposition"], lead_fields({**row, **changes}))


def ingest_activity(
    *, session: Session, activity_in: StandaloneActivityIn, context: Context
) -> Intake:
    """Adds one activity to a known lead and re-scores it: a nurture lead that crosses
    the threshold is handed off then."""
    key = (activity_in.source_system, activity_in.lead_external_id)
    row = load_leads(session=session, keys=[key], lock=True).get(key)
    if row is None:
        raise UnknownLead(
            f"no lead with source_system {activity_in.source_system!r} and external_id "
            f"{activity_in.lead_external_id!r}: post it to /api/leads first"
        )
    state = _Lead(row["id"], row["external_id"], False, row["disposition"], lead_fields(row))
    added = add_activities(
        session=session, rows=[{**activity_in.row(), "lead_id": state.id}], now=context.now
    )
    state.added = added[state.id]
    state.activities = activities_by_lead(session=session, lead_ids=[state.id]).get(state.id, [])
    return _score_and_route(session, [state], context)[0]


def _score_and_route(session: Session, states: list[_Lead], context: Context) -> list[Intake]:
    engine = compiled(context.rules)
    scores = [
        engine.score(s.fields, [ScoredActivity(k, w) for k, w in s.activities], context.now)
        for s in states
    ]
    snapshot_ids = add_snapshots(
        session=session,
        rows=[
            _snapshot_row(s.id, score, context.now) for s, score in zip(states, scores, strict=True)
        ],
    )
    shadow = context.rules.shadow_rules
    if shadow is not None:  # scored beside the live rules, never routed
        _shadow_scores(session, states, snapshot_ids, shadow, context.now)
    existing = open_handoffs(session=session, lead_ids=[s.id for s in states if not s.created])
    to_hand_off = [
        i
        for i, (s, score) in enumerate(zip(states, scores, strict=True))
        if score.routable and s.id not in existing and s.disposition != LeadDisposition.DISQUALIFIED
    ]
    created = _hand_off(
        session,
        [states[i] for i in to_hand_off],
        [scores[i] for i in to_hand_off],
        [snapshot_ids[i] for i in to_hand_off],
        context,
    )
    handoffs = {**existing, **created}
    return [
        Intake(s.id, s.external_id, s.created, s.added, score, handoffs.get(s.id), s.id in created)
        for s, score in zip(states, scores, strict=True)
    ]


def _shadow_scores(
    session: Session,
    states: list[_Lead],
    snapshot_ids: list[int],
    shadow: ScoringRules,
    now: datetime,
) -> None:
    engine = compiled(shadow)
    rows = []
    for state, snapshot_id in zip(states, snapshot_ids, strict=True):
        acts = [ScoredActivity(k, w) for k, w in state.activities]
        score = engine.score(state.fields, acts, now)
        rows.append(
            {
                "lead_id": state.id,
                "snapshot_id": snapshot_id,
                "total": score.total,
                "tier": score.tier.value,
                "routable": score.routable,
                "rules_version": score.rules_version,
                "computed_at": now,
            }
        )
    add_shadow_scores(session=session, rows=rows)


def _snapshot_row(lead_id: int, score: Score, now: datetime) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "fit": score.fit,
        "intent": score.intent,
        "total": score.total,
        "tier": score.tier.value,
        "routable": score.routable,
        "blocked": score.blocked,
        "factors": [factor.to_dict() for factor in score.factors],
        "rules_version": score.rules_version,
        "computed_at": now,
    }


def _hand_off(
    session: Session,
    states: list[_Lead],
    scores: list[Score],
    snapshot_ids: list[int],
    context: Context,
) -> dict[int, OpenHandoff]:
    territory_field = context.team.territory_field
    items = [
        NewHandoff(state.id, snapshot_id, score.tier, state.fields.get(territory_field))
        for state, score, snapshot_id in zip(states, scores, snapshot_ids, strict=True)
    ]
    return hand_to_reps(
        session=session, items=items, team=context.team, sla=context.sla, now=context.now
    )
