"""Nudges you can act on (issue 13, points 3 and 5): the reminder and the manager's "Remind
rep" carry the card's Accept / Reject and a link to the card; the breach DM shows the score,
the link and a pick of the new owner; once acted on, each DM is redrawn in place without its
buttons, and a late click says who acted. Through the real Bolt app and the local Slack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.sweep import sweep
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer
from bot.sandbox.slack_rules import dm_id
from bot.slack.ids import ActionId, BlockId
from bot.slack.simulator import click_payload
from bot.slack.surface import SlackSurface, web_client
from store.handoffs import newest_of_chain
from tests.bot.slack.listeners.bolt import Bolt, bolt, hand_off, status
from tests.helpers import context, home_click, submission, wait_for
from tests.scenarios import SLA

__all__ = ["bolt"]  # the fixture, used by name

WARNED = datetime(2026, 11, 20, 18, 1, tzinfo=UTC)  # an hour before the 4-hour deadline
LATE = datetime(2026, 11, 20, 19, 1, tzinfo=UTC)  # a minute past it


def deliver(bolt: Bolt, at: datetime) -> None:
    """Sends what the outbox holds, as the worker would."""
    Deliverer(
        engine=bolt.engine,
        surface=SlackSurface(web_client(token="xoxb-test", api_url=bolt.sandbox.url)),
        team=context().team,
        reasons=DEFAULT_REJECT_REASONS,
        sla=SLA,
        clock=lambda: at,
        pacer=Pacer(sleep=lambda _: None),
    ).deliver_due()


def swept(bolt: Bolt, at: datetime) -> None:
    with Session(bolt.engine) as session:
        sweep(session=session, now=at, team=context().team, sla=SLA, reasons=DEFAULT_REJECT_REASONS)
        session.commit()
    bolt.now[0] = at
    deliver(bolt, at)


def block(message: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in message["blocks"] if b.get("block_id") == block_id)


def click(bolt: Bolt, user: str, dm: dict[str, Any], action: dict[str, Any]) -> None:
    payload = click_payload(
        user=user,
        action=action,
        trigger_id=f"{int(time.time())}.{user}.1",
        channel=dm_id(user),
        message=dm,
    )
    bolt.click(payload, republishes=False)


def redrawn(bolt: Bolt, channel: str, count: int = 1) -> list[dict[str, Any]]:
    """Waits for a DM's redraws (chat.update calls in that DM)."""

    def updates() -> list[dict[str, Any]]:
        calls = bolt.sandbox.calls_to("chat.update")
        found = [c.args for c in calls if c.args["channel"] == dm_id(channel)]
        return found if len(found) >= count else []

    found: list[dict[str, Any]] = wait_for(updates)
    return found


def test_the_reminder_has_the_cards_buttons_and_link_and_is_redrawn_after_accept(
    bolt: Bolt,
) -> None:
    lead = hand_off(bolt.engine, "N1", first_name="Nadia", company="Nimbus")
    deliver(bolt, bolt.now[0])
    swept(bolt, WARNED)
    (dm,) = bolt.sandbox.channel("U0ALICE")
    assert "Reminder: *Nadia" in dm["text"]
    assert "/archives/C0123LEADS/p" in json.dumps(dm["blocks"])  # the card's permalink
    actions = block(dm, BlockId.NOTICE_ACTIONS)["elements"]
    assert [(e["action_id"], e["value"]) for e in actions] == [
        (ActionId.ACCEPT, str(lead)),
        (ActionId.REJECT, str(lead)),
    ]
    click(bolt, "U0ALICE", dm, {**actions[0], "block_id": BlockId.NOTICE_ACTIONS})
    wait_for(lambda: status(bolt.engine, lead) == "accepted")
    (update,) = redrawn(bolt, "U0ALICE")
    shown = json.dumps(update["blocks"])
    assert "You accepted Nadia" in shown
    assert BlockId.NOTICE_ACTIONS not in shown  # no stale buttons left


def test_rejecting_from_the_reminder_settles_it_after_the_dialog(bolt: Bolt) -> None:
    lead = hand_off(bolt.engine, "N2", first_name="Rita")
    deliver(bolt, bolt.now[0])
    swept(bolt, WARNED)
    (dm,) = bolt.sandbox.channel("U0ALICE")
    reject = {
        **block(dm, BlockId.NOTICE_ACTIONS)["elements"][1],
        "block_id": BlockId.NOTICE_ACTIONS,
    }
    click(bolt, "U0ALICE", dm, reject)
    (opened,) = wait_for(lambda: bolt.sandbox.calls_to("views.open"))
    state = json.loads(opened.args["view"]["private_metadata"])
    assert state["dm"]["channel"] == "D0ALICE"  # the DM the click came from
    form = submission(lead, "U0ALICE", "no_budget", "")
    form["view"]["private_metadata"] = opened.args["view"]["private_metadata"]
    bolt.click(form, republishes=False)
    wait_for(lambda: status(bolt.engine, lead) == "rejected")
    (update,) = redrawn(bolt, "U0ALICE")
    assert "You rejected Rita" in json.dumps(update["blocks"])


def test_the_breach_dm_shows_the_score_and_lets_the_manager_pick_the_new_owner(
    bolt: Bolt,
) -> None:
    lead = hand_off(bolt.engine, "N3", first_name="Pia")
    deliver(bolt, bolt.now[0])
    swept(bolt, LATE)
    (dm,) = bolt.sandbox.channel("U0DANA")
    assert "(score 70)" in dm["text"]
    assert "/archives/C0123LEADS/p" in json.dumps(dm["blocks"])
    elements = block(dm, BlockId.ESCALATION)["elements"]
    (pick,) = [e for e in elements if e["action_id"] == ActionId.ESCALATION_PICK]
    # Alice held it; Ben covers only GB: Chloe is the one eligible rep.
    assert [o["text"]["text"] for o in pick["options"]] == ["Chloe"]
    chosen = {
        "action_id": ActionId.ESCALATION_PICK,
        "block_id": BlockId.ESCALATION,
        "type": "static_select",
        "selected_option": pick["options"][0],
    }
    click(bolt, "U0DANA", dm, chosen)
    wait_for(lambda: status(bolt.engine, lead) == "reassigned")
    with Session(bolt.engine) as session:
        new = newest_of_chain(session=session, handoff_id=lead)
    assert new != lead
    (update,) = redrawn(bolt, "U0DANA")
    shown = json.dumps(update["blocks"])
    assert "reassigned to <@U0CHLOE>" in shown
    assert BlockId.ESCALATION not in shown
    # The same click again (a stale DM elsewhere, a double click): who acted is "you".
    click(bolt, "U0DANA", dm, chosen)
    late = redrawn(bolt, "U0DANA", 2)[1]
    assert "already reassigned by you" in json.dumps(late["blocks"])


def test_remind_rep_keeps_the_other_actions_and_the_nudge_can_be_acted_on(bolt: Bolt) -> None:
    lead = hand_off(bolt.engine, "N4", first_name="Remy")
    deliver(bolt, bolt.now[0])
    swept(bolt, LATE)
    (dm,) = bolt.sandbox.channel("U0DANA")
    remind = next(
        e
        for e in block(dm, BlockId.ESCALATION)["elements"]
        if e["action_id"] == ActionId.ESCALATION_REMIND
    )
    click(bolt, "U0DANA", dm, {**remind, "block_id": BlockId.ESCALATION})
    (update,) = redrawn(bolt, "U0DANA")
    kept = [e["action_id"] for e in block(update, BlockId.ESCALATION)["elements"]]
    assert ActionId.ESCALATION_REMIND not in kept
    assert ActionId.ESCALATION_REASSIGN in kept
    assert "Reminded <@U0ALICE> about Remy" in json.dumps(update["blocks"])
    deliver(bolt, LATE)
    nudge = wait_for(lambda: [m for m in bolt.sandbox.channel("U0ALICE") if ":wave:" in m["text"]])[
        0
    ]
    assert "<@U0DANA> asks you to follow up on *Remy" in nudge["text"]
    buttons = [e["action_id"] for e in block(nudge, BlockId.NOTICE_ACTIONS)["elements"]]
    assert buttons == [ActionId.ACCEPT, ActionId.REJECT]
    assert status(bolt.engine, lead) == "pending"


def test_a_chosen_reason_that_needs_a_note_marks_it_required_at_once(bolt: Bolt) -> None:
    lead = hand_off(bolt.engine, "N5")
    bolt.click(home_click(ActionId.REJECT, lead, "U0ALICE"), republishes=False)
    (opened,) = wait_for(lambda: bolt.sandbox.calls_to("views.open"))
    view = bolt.sandbox.state.modals["U0ALICE"]
    reason = {
        "action_id": ActionId.REJECT_REASON,
        "block_id": BlockId.REJECT_REASON,
        "type": "static_select",
        "selected_option": {"value": "other"},
    }
    bolt.click(
        click_payload(
            user="U0ALICE", action=reason, trigger_id=f"{int(time.time())}.U0ALICE.1", view=view
        ),
        republishes=False,
    )
    (update,) = wait_for(lambda: bolt.sandbox.calls_to("views.update"))
    note = next(
        b for b in update.args["view"]["blocks"] if b.get("block_id") == BlockId.REJECT_NOTE
    )
    assert (note["label"]["text"], note["optional"]) == ("Note for marketing (required)", False)
    assert opened.args["view"]["blocks"][1]["dispatch_action"] is True


def test_a_replayed_remind_rep_sends_one_nudge(bolt: Bolt) -> None:
    """The same signed "Remind rep" click, sent three times within Slack's 5 minutes: the
    work is done once (issue 16, point 8)."""
    hand_off(bolt.engine, "N6", first_name="Rex")
    deliver(bolt, bolt.now[0])
    swept(bolt, LATE)
    (dm,) = bolt.sandbox.channel("U0DANA")
    elements = block(dm, BlockId.ESCALATION)["elements"]
    remind = next(e for e in elements if e["action_id"] == ActionId.ESCALATION_REMIND)
    payload = click_payload(
        user="U0DANA",
        action={**remind, "block_id": BlockId.ESCALATION},
        trigger_id=f"{int(time.time())}.U0DANA.1",
        channel="D0DANA",
        message=dm,
    )
    for _ in range(3):
        bolt.click(payload, republishes=False)
    redrawn(bolt, "U0DANA")
    deliver(bolt, LATE)
    nudges = [m for m in bolt.sandbox.channel("U0ALICE") if ":wave:" in m["text"]]
    assert len(nudges) == 1


def test_click_failures_reach_the_clicker(bolt: Bolt) -> None:
    """A dialog Slack will not open (the click came too late), then a private answer Slack
    refuses (the clicker is not in the channel): each still reaches the clicker (issue 15,
    point 5)."""
    from tests.helpers import block_actions

    lead = hand_off(bolt.engine, "N7")
    bolt.sandbox.fail("views.open", error="expired_trigger_id")
    reject = block_actions(ActionId.REJECT, lead, "U0ALICE", channel="C0123LEADS", ts="1.0")
    bolt.click(reject, republishes=False)
    told = wait_for(lambda: bolt.sandbox.calls_to("chat.postEphemeral"))[0].args
    assert "The Reject dialog did not open (Slack said `expired_trigger_id`" in told["text"]
    assert "click Reject again" in told["text"]
    bolt.sandbox.fail("chat.postEphemeral", error="user_not_in_channel")
    wrong = block_actions(ActionId.ACCEPT, lead, "U0CHLOE", channel="C0123LEADS", ts="1.0")
    bolt.click(wrong, republishes=False)
    dm = wait_for(lambda: [m for m in bolt.sandbox.channel("U0CHLOE") if "only they" in m["text"]])
    assert "only they or their manager can decide" in dm[0]["text"]
