"""App Home and `/handoff`, dispatched as signed requests through the real Bolt app,
with its Web API calls answered (and recorded) by the local Slack sandbox."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session

from bot.slack.ids import ActionId
from store.reps import find_rep
from tests.bot.slack.listeners.bolt import Bolt, bolt, hand_off, status
from tests.helpers import (
    NOW,
    home_click,
    submission,
    wait_for,
)

__all__ = ["bolt"]  # the fixture, used by name


def test_a_reps_home_lists_their_leads_and_accepting_there_updates_it(bolt: Bolt) -> None:
    first = hand_off(bolt.engine, "H1", first_name="Ada", last_name="<!channel>", company="Acme")
    text = bolt.open_home("U0ALICE")
    assert "Your pending leads (1)" in text
    assert "*Ada &lt;!channel&gt;* · Acme" in text
    assert "SQL · score 70 · 4 h left" in text  # 4 business hours in the example policy
    assert ActionId.ACCEPT in text
    bolt.click(home_click(ActionId.ACCEPT, first, "U0ALICE"))
    assert status(bolt.engine, first) == "accepted"
    after = bolt.home_text("U0ALICE")
    assert "You accepted Ada &lt;!channel&gt; (Acme)." in after  # Home says what happened
    assert "Your pending leads (0)" in after
    assert "Nothing waiting" in after


def test_a_click_that_fails_says_why_on_the_home_tab(bolt: Bolt) -> None:
    lead = hand_off(bolt.engine, "H2")
    bolt.click(home_click(ActionId.ACCEPT, lead, "U0CHLOE"))
    assert status(bolt.engine, lead) == "pending"
    assert "only they or their manager can decide" in bolt.home_text("U0CHLOE")


def test_rejecting_from_home_opens_the_dialog_and_republishes_after(bolt: Bolt) -> None:
    lead = hand_off(bolt.engine, "H3")
    bolt.click(home_click(ActionId.REJECT, lead, "U0ALICE"), republishes=False)
    (opened,) = wait_for(lambda: bolt.sandbox.calls_to("views.open"))
    view = opened.args["view"]
    assert json.loads(view["private_metadata"]) == {
        "handoff_id": lead,
        "from_home": True,
        "dm": None,
    }
    bolt.click(submission(lead, "U0ALICE", "no_budget", "", from_home=True))
    assert status(bolt.engine, lead) == "rejected"
    after = bolt.home_text("U0ALICE")
    assert "You rejected " in after
    assert "Your pending leads (0)" in after


def test_a_managers_home_shows_the_team_breaches_and_the_week(bolt: Bolt) -> None:
    hand_off(bolt.engine, "H4", first_name="Late")
    hand_off(bolt.engine, "H5", first_name="Fresh")
    bolt.now[0] = NOW + timedelta(hours=4, minutes=5)  # past the 4-hour deadline of both
    text = bolt.open_home("U0DANA")
    assert "Your team this week" in text
    assert "*Leads in:* 2 · *leads handed off:* 2" in text
    assert "*SLA compliance:* 0% (0 within of 2 due)" in text  # both deadlines passed
    assert "Team's pending leads (2), 2 past deadline" in text
    assert "overdue by 5 min" in text
    assert ActionId.ESCALATION_REASSIGN in text
    assert ActionId.ESCALATION_PICK in text  # a pick of the eligible reps, as in the DM
    assert "first handed off 4 h 5 min ago" in text
    assert "Your pending leads" not in text  # Dana is a manager, not a rep


def test_someone_outside_the_team_is_told_how_to_join(bolt: Bolt) -> None:
    assert "You are not in the sales team list" in bolt.open_home("U0STRANGER")


def test_slash_command_help_and_unknown_subcommands(bolt: Bolt) -> None:
    assert "`/handoff queue`" in bolt.command("", "U0ALICE")
    assert "`/handoff queue`" in bolt.command("help", "U0ALICE")
    unknown = bolt.command("frobnicate now", "U0ALICE")
    assert unknown.startswith("I don't know `frobnicate`.")
    assert "`/handoff stats [week]`" in unknown


def test_slash_command_queue(bolt: Bolt) -> None:
    hand_off(bolt.engine, "Q1", first_name="Queued", company="Initech")
    mine = bolt.command("queue", "U0ALICE")
    assert "*Your pending leads (1)*" in mine
    assert "*Queued* · Initech · SQL · score 70 · 4 h left" in mine
    team = bolt.command("queue", "U0DANA")
    assert "*Your team's pending leads (1)*" in team
    assert "<@U0ALICE>" in team
    assert "takes nothing after it" in bolt.command("queue please", "U0ALICE")


def test_slash_command_stats(bolt: Bolt) -> None:
    hand_off(bolt.engine, "S1")
    stats = bolt.command("stats", "U0ALICE")
    assert stats.startswith(":bar_chart: *Lead hand-off digest, 2026-W47*")
    assert "*Leads in:* 1" in stats
    assert "*Leads in:* 0" in bolt.command("stats 2026-W40", "U0ALICE")
    bad = bolt.command("stats last-week", "U0ALICE")
    assert bad.startswith("'last-week' is not an ISO week")
    assert "`/handoff stats 2026-W47`" in bad


def test_slash_command_out_of_office(bolt: Bolt) -> None:
    hand_off(bolt.engine, "O1")
    away = bolt.command("ooo on", "U0ALICE")
    assert "You are out of office" in away
    assert "your 1 pending lead(s) move to a colleague" in away
    with Session(bolt.engine) as session:
        rep = find_rep(session=session, slack_id="U0ALICE")
        assert rep is not None
        assert rep.out_of_office
    assert "Welcome back" in bolt.command("ooo OFF", "U0ALICE")
    assert "Say `on` or `off`" in bolt.command("ooo maybe", "U0ALICE")
    assert "not in the sales team list" in bolt.command("ooo on", "U0STRANGER")


def test_a_redelivered_event_does_its_work_once(bolt: Bolt) -> None:
    """Slack redelivers an event it got no timely answer for (X-Slack-Retry-Num): the same
    event_id publishes Home once (issue 15, point 6)."""
    from bot.slack.simulator import home_opened_event

    event = home_opened_event("U0ALICE")
    bolt.open_home("U0ALICE")  # a first, different event: one publish
    before = len(bolt.sandbox.calls_to("views.publish"))
    with bolt.republished():
        bolt.send(event, "application/json")
    bolt.send(event, "application/json")  # the redelivery
    import time

    time.sleep(0.5)  # what a second publish would need to show
    assert len(bolt.sandbox.calls_to("views.publish")) == before + 1
