"""Decisions on a hand-off: who may, and exactly one winner when clicks race."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.decisions import (
    Actor,
    Decision,
    RejectProblem,
    Verdict,
    about,
    accept,
    claim,
    reassign_by_manager,
    reject,
    reject_problems,
    remind_rep,
)
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import ingest_leads
from bot.handoffs.notices import Notice, NoticeKind
from bot.handoffs.team import sync_team
from bot.slack.text import decision_text, notice_text, reject_problem_text
from store.models import Handoff, Lead, Outbox, OutboxKind
from tests.helpers import NOW, context, demo, lead_body

OTHER = next(r for r in DEFAULT_REJECT_REASONS if r.code == "other")
NOT_ICP = next(r for r in DEFAULT_REJECT_REASONS if r.code == "not_icp")


def hand_off(engine: Engine, **team_changes: Any) -> int:
    ctx = context(**team_changes)
    sync_team(engine=engine, team=ctx.team)
    body = LeadIn.model_validate(lead_body("A", employees=100, country="US", activities=[demo()]))
    with Session(engine) as session:
        (outcome,) = ingest_leads(session=session, leads=[body], context=ctx)
        session.commit()
    assert outcome.handoff is not None
    return outcome.handoff.id


def decide(engine: Engine, step: object, **kwargs: object) -> Decision:
    with Session(engine) as session:
        result: Decision = step(session=session, now=NOW + timedelta(minutes=7), **kwargs)  # type: ignore[operator]
        session.commit()
    return result


def test_only_the_rep_or_their_manager_may_decide(engine: Engine) -> None:
    handoff_id = hand_off(engine)
    refused = decide(engine, accept, handoff_id=handoff_id, actor=Actor("U0CHLOE"))
    assert refused == Decision(Verdict.NOT_YOURS, who="U0ALICE")
    assert not refused.ok
    assert decide(engine, accept, handoff_id=handoff_id, actor=Actor("U0DANA")).ok
    with Session(engine) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        assert (handoff.status, handoff.decided_by) == ("accepted", "U0DANA")
        kinds = session.scalars(select(col(Outbox.kind)).order_by(col(Outbox.id))).all()
        assert kinds == ["post_card", "update_card"]


def test_racing_clicks_have_exactly_one_winner(engine: Engine) -> None:
    handoff_id = hand_off(engine)
    results: list[Decision] = []
    start = threading.Barrier(4)

    def click(actor: str) -> None:
        start.wait()
        results.append(decide(engine, accept, handoff_id=handoff_id, actor=Actor(actor)))

    threads = [
        threading.Thread(target=click, args=(who,))
        for who in ("U0ALICE", "U0DANA", "U0ALICE", "U0DANA")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.ok for r in results) == 1
    assert all(
        r.verdict is Verdict.ALREADY and r.status == "accepted" and (r.who or "").startswith("U0")
        for r in results
        if not r.ok
    )


def test_claim_is_for_unassigned_leads_and_team_members(engine: Engine) -> None:
    handoff_id = hand_off(
        engine,
        reps=[
            {"slack_id": "U0GB", "name": "GB", "territories": ["GB"]},
            {"slack_id": "U0ZED", "name": "Zed", "active": False, "territories": ["US"]},
        ],
    )
    outsider = decide(engine, claim, handoff_id=handoff_id, actor=Actor("U0STRANGER"))
    assert outsider == Decision(Verdict.NOT_SALES_CLAIM)
    # An inactive rep is no longer on the team's roster for new work.
    inactive = decide(engine, claim, handoff_id=handoff_id, actor=Actor("U0ZED"))
    assert inactive == Decision(Verdict.NOT_SALES_CLAIM)
    assert decide(engine, accept, handoff_id=handoff_id, actor=Actor("U0ZED")) == Decision(
        Verdict.NOT_SALES
    )
    assert decide(engine, claim, handoff_id=handoff_id, actor=Actor("U0GB")).ok
    again = decide(engine, claim, handoff_id=handoff_id, actor=Actor("U0GB"))
    assert again == Decision(Verdict.HAS_OWNER)


def test_accept_on_an_unassigned_card_gives_the_lead_to_the_clicker(engine: Engine) -> None:
    handoff_id = hand_off(engine, reps=[{"slack_id": "U0GB", "name": "GB", "territories": ["GB"]}])
    assert decide(engine, accept, handoff_id=handoff_id, actor=Actor("U0GB")) == Decision(
        Verdict.DONE, status="accepted"
    )
    with Session(engine) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        assert (handoff.status, handoff.decided_by, handoff.rep_id) == ("accepted", "U0GB", 1)


def test_reject_checks_the_form_and_sets_the_disposition(engine: Engine) -> None:
    assert reject_problems(reason=None, note="") == {"reason": RejectProblem.NO_REASON}
    assert reject_problems(reason=OTHER, note="  ") == {"note": RejectProblem.NOTE_REQUIRED}
    assert reject_problems(reason=OTHER, note="x" * 3001) == {"note": RejectProblem.NOTE_TOO_LONG}
    worded = {p: reject_problem_text(p, OTHER) for p in RejectProblem}
    assert worded == {
        RejectProblem.NO_REASON: "Choose why this lead is not sales-ready.",
        RejectProblem.NOTE_REQUIRED: "Add a note: “Other” needs one.",
        RejectProblem.NOTE_TOO_LONG: "Keep the note under 3000 characters.",
    }
    assert reject_problems(reason=NOT_ICP, note="") == {}
    handoff_id = hand_off(engine)
    assert decide(
        engine, reject, handoff_id=handoff_id, actor=Actor("U0ALICE"), reason=NOT_ICP, note=""
    ).ok
    with Session(engine) as session:
        assert session.scalars(select(col(Lead.disposition))).one() == "disqualified"
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        assert (handoff.status, handoff.reject_reason, handoff.reject_note) == (
            "rejected",
            "not_icp",
            None,
        )


def test_managers_escalation_actions(engine: Engine) -> None:
    handoff_id = hand_off(engine)
    ctx = context()
    needs = {"team": ctx.team, "reasons": DEFAULT_REJECT_REASONS, "sla": None}
    not_manager = decide(engine, remind_rep, handoff_id=handoff_id, actor=Actor("U0CHLOE"), **needs)
    assert not_manager == Decision(Verdict.NOT_MANAGER)
    reminded = decide(engine, remind_rep, handoff_id=handoff_id, actor=Actor("U0DANA"), **needs)
    assert reminded == Decision(Verdict.REMINDED, who="U0ALICE")
    with Session(engine) as session:
        nudge = session.scalars(select(Outbox).where(col(Outbox.kind) == OutboxKind.NOTICE)).one()
        assert nudge.channel == "U0ALICE"
        notice = Notice.model_validate(nudge.payload["notice"])
        assert (notice.kind, notice.sender_slack_id) == (NoticeKind.NUDGE, "U0DANA")
        assert notice_text(notice).startswith(":wave: <@U0DANA> asks you to follow up on *")
    moved = decide(
        engine,
        reassign_by_manager,
        handoff_id=handoff_id,
        actor=Actor("U0DANA"),
        team=ctx.team,
        sla=None,
    )
    assert moved == Decision(Verdict.REASSIGNED, who="U0CHLOE")
    again = decide(
        engine,
        reassign_by_manager,
        handoff_id=handoff_id,
        actor=Actor("U0DANA"),
        team=ctx.team,
        sla=None,
    )
    assert again == Decision(Verdict.ALREADY, who="U0DANA", status="reassigned")


def test_a_lead_never_goes_back_to_a_rep_who_held_it(engine: Engine) -> None:
    """Alice (US) lets it go, Chloe (anywhere) too: Ben covers only GB, so nobody eligible is
    left, and the lead waits for anyone to claim it instead of bouncing back to Alice."""
    first = hand_off(engine)
    team = context().team

    def move(handoff_id: int) -> tuple[Decision, Handoff]:
        decision = decide(
            engine,
            reassign_by_manager,
            handoff_id=handoff_id,
            actor=Actor("U0DANA"),
            team=team,
            sla=None,
        )
        with Session(engine) as session:
            newest = session.scalars(select(Handoff).order_by(col(Handoff.id).desc())).first()
        assert newest is not None
        return decision, newest

    decision, second = move(first)
    assert decision == Decision(Verdict.REASSIGNED, who="U0CHLOE")
    assert second.id is not None
    decision, third = move(second.id)
    assert decision == Decision(Verdict.REASSIGNED, who=None)
    assert third.rep_id is None
    assert third.unassigned_reason == "every eligible rep has held this lead already"
    with Session(engine) as session:
        named = about(session=session, handoff_id=second.id, decision=decision)
    assert decision_text(named) == "Lead A: reassigned to nobody (posted for anyone to claim)."


def test_a_pick_that_is_no_longer_eligible_moves_nothing(engine: Engine) -> None:
    """The manager picked from the list; by the time the move runs the rep cannot take it
    (here: away). Nothing moves, and the manager is told to pick another."""
    from store.reps import set_out_of_office

    handoff_id = hand_off(engine)
    with Session(engine) as session:
        set_out_of_office(session=session, slack_id="U0CHLOE", away=True)
        session.commit()
    picked = decide(
        engine,
        reassign_by_manager,
        handoff_id=handoff_id,
        actor=Actor("U0DANA"),
        team=context().team,
        sla=None,
        to="U0CHLOE",
    )
    assert picked == Decision(Verdict.NOT_ELIGIBLE, who="U0CHLOE")
    with Session(engine) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        assert handoff.status == "pending"
        assert session.scalars(select(Handoff)).all() == [handoff]
