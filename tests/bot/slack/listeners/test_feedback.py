"""The 48-hour feedback (issue 13, point 10): after Accept, "How did it go?" at the deadline
with the answers as buttons, one reminder, "No answer yet" moving the deadline once, "Not a
fit" asking why; answers stored with the lead and counted in the digest."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.decisions import Actor, accept
from bot.handoffs.sweep import sweep
from bot.reports.digest import metrics, week_period
from bot.slack.ids import ActionId, BlockId
from bot.slack.simulator import click_payload
from store.models import Activity, Handoff, Rep
from tests.bot.slack.listeners.bolt import Bolt, bolt, hand_off
from tests.bot.slack.listeners.test_nudges import deliver, redrawn
from tests.helpers import NOW, context, wait_for
from tests.scenarios import SLA

__all__ = ["bolt"]  # the fixture, used by name

SUNDAY = datetime(2026, 11, 22, 15, 1, tzinfo=UTC)  # 48 h after Friday's accept: closed
MONDAY = datetime(2026, 11, 23, 14, 1, tzinfo=UTC)  # 09:01 in New York: the calendar opens


def accepted(bolt: Bolt, external_id: str, **fields: Any) -> int:
    """Hands a lead off and has its owner accept it at NOW; gets the hand-off."""
    lead = hand_off(bolt.engine, external_id, **fields)
    with Session(bolt.engine) as session:
        found = session.get(Handoff, lead)
        assert found is not None
        owner = session.get(Rep, found.rep_id)
        assert owner is not None
        decided = accept(
            session=session, handoff_id=lead, actor=Actor(owner.slack_id), now=NOW, sla=SLA
        )
        assert decided.ok
        session.commit()
    return lead


def swept(bolt: Bolt, at: datetime) -> list[str]:
    with Session(bolt.engine) as session:
        sent = sweep(
            session=session, now=at, team=context().team, sla=SLA, reasons=DEFAULT_REJECT_REASONS
        )
        session.commit()
    bolt.now[0] = at
    deliver(bolt, at)
    return [str(s) for s in sent if s.kind == "feedback"]


def asks(bolt: Bolt) -> list[dict[str, Any]]:
    return [m for m in bolt.sandbox.channel("U0ALICE") if ":speech_balloon:" in m["text"]]


def answer(bolt: Bolt, dm: dict[str, Any], label: str) -> None:
    buttons = next(b for b in dm["blocks"] if b.get("block_id") == BlockId.FEEDBACK)["elements"]
    button = next(e for e in buttons if e["text"]["text"] == label)
    action = {**button, "block_id": BlockId.FEEDBACK}
    payload = click_payload(
        user="U0ALICE",
        action=action,
        trigger_id=f"{int(time.time())}.U0ALICE.1",
        channel="D0ALICE",  # the app's DM with Alice, as Slack sends it
        message=dm,
    )
    bolt.click(payload, republishes=False)


def handoff(bolt: Bolt, handoff_id: int) -> Handoff:
    with Session(bolt.engine) as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        return found


def test_asked_at_the_deadline_when_the_calendar_opens_then_reminded_once(bolt: Bolt) -> None:
    lead = accepted(bolt, "F1", first_name="Fay")
    assert handoff(bolt, lead).feedback_due_at == NOW + timedelta(hours=48)
    assert swept(bolt, NOW + timedelta(hours=47)) == []
    assert swept(bolt, SUNDAY) == []  # the SQL tier's business calendar is closed
    assert swept(bolt, MONDAY) == [f"feedback ask for hand-off {lead} to U0ALICE"]
    assert swept(bolt, MONDAY + timedelta(minutes=5)) == []
    (dm,) = asks(bolt)
    assert "How did it go with *Fay" in dm["text"]
    labels = [
        e["text"]["text"]
        for b in dm["blocks"]
        if b.get("block_id") == BlockId.FEEDBACK
        for e in b["elements"]
    ]
    assert labels == ["Connected", "Meeting booked", "No answer yet", "Not a fit"]
    assert "/archives/C0123LEADS/p" in json.dumps(dm["blocks"])
    later = MONDAY + timedelta(hours=24)
    assert swept(bolt, later) == [f"feedback reminder for hand-off {lead} to U0ALICE"]
    assert swept(bolt, later + timedelta(days=3)) == []  # a reminder once, then nothing
    assert "Still waiting: how did it go" in asks(bolt)[-1]["text"]


def test_an_answer_is_stored_with_the_lead_and_redraws_the_ask(bolt: Bolt) -> None:
    lead = accepted(bolt, "F2", first_name="Gus")
    swept(bolt, MONDAY)
    (dm,) = asks(bolt)
    answer(bolt, dm, "Meeting booked")
    wait_for(lambda: handoff(bolt, lead).feedback == "meeting_booked")
    assert handoff(bolt, lead).feedback_at == MONDAY
    with Session(bolt.engine) as session:
        (activity,) = session.scalars(
            select(Activity).where(col(Activity.kind) == "sales_feedback")
        ).all()
    assert activity.properties["answer"] == "meeting_booked"
    assert activity.properties["by"] == "U0ALICE"
    update = redrawn(bolt, "U0ALICE")[-1]
    shown = json.dumps(update["blocks"], ensure_ascii=False)
    assert "Thanks: Gus" in shown
    assert "marked “Meeting booked”" in shown
    assert BlockId.FEEDBACK not in shown
    assert swept(bolt, MONDAY + timedelta(days=2)) == []  # answered: no reminder


def test_no_answer_yet_moves_the_deadline_once(bolt: Bolt) -> None:
    lead = accepted(bolt, "F3")
    swept(bolt, MONDAY)
    answer(bolt, asks(bolt)[0], "No answer yet")
    wait_for(lambda: handoff(bolt, lead).feedback_postponed)
    again = handoff(bolt, lead).feedback_next_at
    assert again == MONDAY + timedelta(hours=48)
    assert swept(bolt, again - timedelta(minutes=1)) == []
    assert swept(bolt, again + timedelta(minutes=1)) == [
        f"feedback ask for hand-off {lead} to U0ALICE"
    ]
    answer(bolt, asks(bolt)[-1], "No answer yet")
    wait_for(lambda: handoff(bolt, lead).feedback_next_at is None)  # moved once only
    assert swept(bolt, again + timedelta(days=5)) == []


def test_not_a_fit_asks_why_and_the_digest_counts_feedback_on_time(bolt: Bolt) -> None:
    lead = accepted(bolt, "F4", first_name="Ned")
    late = accepted(bolt, "F5")
    swept(bolt, MONDAY)
    dm = next(m for m in asks(bolt) if "Ned" in m["text"])
    answer(bolt, dm, "Not a fit")
    wait_for(lambda: bolt.sandbox.calls_to("views.open"))
    view = bolt.sandbox.state.modals["U0ALICE"]
    assert view["callback_id"] == "handoff_not_a_fit_modal"
    form = {
        "type": "view_submission",
        "team": {"id": "T0SANDBOX"},
        "user": {"id": "U0ALICE"},
        "view": {
            **view,
            "state": {
                "values": {
                    BlockId.NOT_A_FIT_REASON: {
                        ActionId.NOT_A_FIT_REASON: {"selected_option": {"value": "not_icp"}}
                    },
                    BlockId.NOT_A_FIT_NOTE: {ActionId.NOT_A_FIT_NOTE: {"value": "Too small"}},
                }
            },
        },
    }
    bolt.click(form, republishes=False)
    assert handoff(bolt, lead).feedback == "not_a_fit"
    with Session(bolt.engine) as session:
        found = session.scalars(select(Activity).where(col(Activity.kind) == "sales_feedback"))
        (activity,) = found.all()
    assert (activity.properties["reason"], activity.properties["note"]) == ("not_icp", "Too small")
    assert handoff(bolt, late).feedback is None
    week, period = week_period("2026-W47", team=context().team, now=MONDAY)
    with Session(bolt.engine) as session:
        numbers = metrics(
            session=session,
            week=week,
            period=period,
            reasons=DEFAULT_REJECT_REASONS,
            as_of=MONDAY + timedelta(hours=1),
        )
    # Both were due Sunday: Ned's answer came Monday (late), the other never came.
    assert (numbers.feedback.due, numbers.feedback.on_time) == (2, 0)
    assert sum(r.feedback_due for r in numbers.reps) == numbers.feedback.due
    (alice,) = [r for r in numbers.reps if r.rep == "U0ALICE"]
    assert (alice.feedback_due, alice.feedback_on_time, alice.feedback_rate) == (1, 0, 0.0)
