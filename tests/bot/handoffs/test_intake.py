"""Intake: store, score, route and queue the card, in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from bot.handoffs.inputs import LeadIn, StandaloneActivityIn
from bot.handoffs.intake import Context, Intake, ingest_activity, ingest_leads
from bot.handoffs.team import sync_team
from store.models import Handoff, Lead, LeadDisposition, Outbox, ScoreSnapshot
from tests.helpers import context, demo, lead_body


def ingest(engine: Engine, body: dict[str, Any], ctx: Context | None = None) -> Intake:
    ctx = ctx or context()
    sync_team(engine=engine, team=ctx.team)
    with Session(engine, expire_on_commit=False) as session:
        (outcome,) = ingest_leads(session=session, leads=[LeadIn.model_validate(body)], context=ctx)
        session.commit()
    return outcome


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_qualifying_lead_is_handed_off_with_its_card_queued(engine: Engine) -> None:
    outcome = ingest(engine, lead_body("A", employees=100, country="US", activities=[demo()]))
    assert outcome.created
    assert outcome.handed_off
    assert outcome.score.total == 70
    response = outcome.to_response()
    assert outcome.handoff is not None
    assert response["handoff"] == {"id": outcome.handoff.id, "status": "pending", "rep": "U0ALICE"}
    with Session(engine) as session:
        handoff = session.scalars(select(Handoff)).one()
        snapshot = session.get(ScoreSnapshot, handoff.snapshot_id)
        assert snapshot is not None
        assert (handoff.tier, handoff.channel, snapshot.total) == ("sql", "C0123LEADS", 70)
        entry = session.scalars(select(Outbox)).one()
        assert (entry.kind, entry.payload, entry.handoff_id) == (
            "post_card",
            {"handoff_id": handoff.id},
            handoff.id,
        )


def test_replay_never_double_counts_or_hands_off_twice(engine: Engine) -> None:
    body = lead_body("A", employees=100, country="US", activities=[demo()])
    first = ingest(engine, body)
    again = ingest(engine, body)
    assert not again.created
    assert again.activities_added == 0
    assert not again.handed_off
    assert again.score.total == first.score.total
    assert again.to_response()["handoff"] == first.to_response()["handoff"]
    assert (count(engine, Lead), count(engine, Handoff), count(engine, Outbox)) == (1, 1, 1)


def test_activity_lifts_a_nurture_lead_over_the_threshold(engine: Engine) -> None:
    nurture = ingest(engine, lead_body("A", employees=100, country="US"))
    assert (nurture.score.tier.value, nurture.handoff) == ("nurture", None)
    ctx = context()
    activity = StandaloneActivityIn.model_validate(
        {"source_system": "web", "lead_external_id": "A", **demo()}
    )
    with Session(engine, expire_on_commit=False) as session:
        lifted = ingest_activity(session=session, activity_in=activity, context=ctx)
        session.commit()
    assert lifted.handed_off
    assert lifted.score.tier.value == "sql"
    assert count(engine, Handoff) == 1


def test_blocked_lead_is_scored_but_never_handed_off(engine: Engine) -> None:
    outcome = ingest(
        engine,
        lead_body(
            "F",
            employees=100,
            country="FR",
            activities=[demo(), demo("e2", "2026-11-19T10:00:00Z")],
        ),
    )
    assert outcome.score.blocked == "Non-serviceable region"
    assert outcome.handoff is None
    assert count(engine, ScoreSnapshot) == 1


def test_disqualified_lead_is_never_handed_off_again(engine: Engine) -> None:
    ingest(engine, lead_body("A", employees=100, country="US"))
    with Session(engine) as session:
        lead = session.scalars(select(Lead)).one()
        lead.disposition = LeadDisposition.DISQUALIFIED
        session.add(lead)
        session.commit()
    outcome = ingest(engine, lead_body("A", activities=[demo()]))
    assert outcome.score.routable
    assert outcome.handoff is None


def test_no_eligible_rep_creates_an_unassigned_handoff_with_the_reason(engine: Engine) -> None:
    ctx = context(reps=[{"slack_id": "U0GB", "name": "GB only", "territories": ["GB"]}])
    outcome = ingest(engine, lead_body("A", employees=100, country="US", activities=[demo()]), ctx)
    assert outcome.handed_off
    assert outcome.handoff is not None
    assert outcome.handoff.rep_slack_id is None
    assert outcome.handoff.unassigned_reason == "no available rep covers leads with country 'US'"
    assert outcome.to_response()["handoff"]["rep"] is None
    with Session(engine) as session:
        stored = session.scalars(select(Handoff)).one()
        assert stored.unassigned_reason == outcome.handoff.unassigned_reason


def test_a_batch_shares_reps_in_turn_and_handles_repeats_in_order(engine: Engine) -> None:
    ctx = context()
    sync_team(engine=engine, team=ctx.team)
    bodies = [
        lead_body("A", employees=100, country="US", activities=[demo()]),
        lead_body("B", employees=100, country="US", activities=[demo()]),
        lead_body("C", employees=100, country="US"),
        lead_body("C", activities=[demo()]),  # the same lead again: now it qualifies
        lead_body("D", employees=100, country="US", activities=[demo()]),
    ]
    with Session(engine) as session:
        outcomes = ingest_leads(
            session=session, leads=[LeadIn.model_validate(b) for b in bodies], context=ctx
        )
        session.commit()
    reps = [o.handoff.rep_slack_id if o.handoff else None for o in outcomes]
    assert reps == ["U0ALICE", "U0CHLOE", None, "U0ALICE", "U0CHLOE"]
    assert [o.created for o in outcomes] == [True, True, True, False, True]
    assert count(engine, Handoff) == 4
    assert count(engine, Outbox) == 4


def test_capacity_counts_pending_handoffs(engine: Engine) -> None:
    # Ben covers GB with capacity 2; Chloe covers anywhere.
    reps = [{"slack_id": "U0BEN", "name": "Ben", "territories": ["GB"], "capacity": 2}]
    ctx = context(reps=reps)
    for name in "ABC":
        ingest(engine, lead_body(name, employees=100, country="GB", activities=[demo()]), ctx)
    with Session(engine) as session:
        handoffs = session.scalars(select(Handoff).order_by(col(Handoff.id))).all()
        assert [h.rep_id is not None for h in handoffs] == [True, True, False]
        assert handoffs[2].unassigned_reason == "every eligible rep is at capacity"
