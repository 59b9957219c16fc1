"""`handoff serve` against the local Slack sandbox, with clicks signed as Slack signs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.sandbox.slack_api import SlackSandbox
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.simulator import home_opened_event
from store.db import make_engine
from store.models import Handoff, Lead
from tests.helpers import (
    RULES_TOML,
    TEAM_TOML,
    block_actions,
    demo,
    lead_body,
    running_serve,
    sign,
    signed,
    slash_command,
    submission,
    wait_for,
)

TOKEN = "e2e-token-0123456789abcdef0123456789"
SECRET = "e2e-signing-secret"
CHANNEL = "C0123LEADS"


@dataclass
class Stack:
    """A running `handoff serve`, the sandbox it talks to, and its database."""

    url: str
    sandbox: SlackSandbox
    database_url: str

    def post_lead(self, external_id: str) -> dict[str, Any]:
        body = lead_body(
            external_id, first_name="<!channel>", employees=100, country="US", activities=[demo()]
        )
        response = httpx.post(
            f"{self.url}/api/leads",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def slack(self, payload: dict[str, Any], *, secret: str = SECRET) -> httpx.Response:
        """Sends an interaction to /slack/events, signed as Slack signs it."""
        body, headers = signed(payload, secret)
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def handoff(self, handoff_id: int) -> Handoff:
        engine = make_engine(self.database_url)
        try:
            with Session(engine, expire_on_commit=False) as session:
                found = session.get(Handoff, handoff_id)
                assert found is not None
                return found
        finally:
            engine.dispose()


def serve_env(database_url: str, sandbox: SlackSandbox) -> dict[str, str]:
    """The environment of a `handoff serve` (or `handoff sweep`) talking to the sandbox."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HANDOFF_API_TOKEN": TOKEN,
        "SLACK_BOT_TOKEN": "xoxb-e2e",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": sandbox.url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    with SlackSandbox() as sandbox:
        env = serve_env(database_url, sandbox)
        with running_serve(tmp_path, env) as url:
            yield Stack(url, sandbox, database_url)


def click(action: ActionId, handoff_id: int, user: str, ts: str) -> dict[str, Any]:
    """A click on a card's button in the team channel."""
    return block_actions(action, handoff_id, user, channel=CHANNEL, ts=ts)


def posted_card(stack: Stack) -> dict[str, Any]:
    messages = wait_for(lambda: stack.sandbox.channel(CHANNEL))
    return dict(messages[0])


def test_lead_to_card_to_accept(stack: Stack) -> None:
    response = stack.post_lead("A1")
    handoff_id = response["handoff"]["id"]
    card = posted_card(stack)
    assert card["metadata"]["event_payload"] == {"handoff_id": handoff_id}
    assert "<!channel>" not in json.dumps(card)
    assert stack.slack(click(ActionId.ACCEPT, handoff_id, "U0ALICE", card["ts"])).status_code == 200
    updated = wait_for(lambda: stack.sandbox.calls_to("chat.update"))
    assert updated[0].args["ts"] == card["ts"]
    assert "Accepted by <@U0ALICE>" in json.dumps(stack.sandbox.channel(CHANNEL)[0]["blocks"])
    handoff = stack.handoff(handoff_id)
    assert (handoff.status, handoff.decided_by, handoff.message_ts) == (
        "accepted",
        "U0ALICE",
        card["ts"],
    )


def test_second_click_and_wrong_rep_are_told_why(stack: Stack) -> None:
    handoff_id = stack.post_lead("A2")["handoff"]["id"]
    ts = posted_card(stack)["ts"]
    assert stack.slack(click(ActionId.ACCEPT, handoff_id, "U0CHLOE", ts)).status_code == 200
    wait_for(lambda: stack.sandbox.calls_to("chat.postEphemeral"))
    refused = stack.sandbox.calls_to("chat.postEphemeral")[0].args
    assert refused["user"] == "U0CHLOE"
    # Every answer names the lead (escaped: this one is called "<!channel>").
    assert refused["text"] == (
        "&lt;!channel&gt; is <@U0ALICE>'s: only they or their manager can decide."
    )
    assert stack.handoff(handoff_id).status == "pending"
    stack.slack(click(ActionId.ACCEPT, handoff_id, "U0ALICE", ts))
    stack.slack(click(ActionId.ACCEPT, handoff_id, "U0DANA", ts))  # the manager, too late
    late = wait_for(lambda: stack.sandbox.calls_to("chat.postEphemeral")[1:])[0].args
    assert (late["user"], late["text"]) == (
        "U0DANA",
        "&lt;!channel&gt;: already accepted by <@U0ALICE>.",
    )


def test_reject_needs_a_reason_and_a_note_for_other(stack: Stack) -> None:
    handoff_id = stack.post_lead("A3")["handoff"]["id"]
    ts = posted_card(stack)["ts"]
    assert stack.slack(click(ActionId.REJECT, handoff_id, "U0ALICE", ts)).status_code == 200
    opened = wait_for(lambda: stack.sandbox.calls_to("views.open"))[0].args
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert view["callback_id"] == CallbackId.REJECT
    assert json.loads(view["private_metadata"])["handoff_id"] == handoff_id
    no_note = stack.slack(submission(handoff_id, "U0ALICE", "other", None)).json()
    assert no_note["response_action"] == "errors"
    assert set(no_note["errors"]) == {BlockId.REJECT_NOTE}
    assert stack.handoff(handoff_id).status == "pending"
    done = stack.slack(submission(handoff_id, "U0ALICE", "other", "Wants a free plan"))
    assert (done.status_code, done.text) == (200, "")
    handoff = stack.handoff(handoff_id)
    assert (handoff.status, handoff.reject_reason, handoff.reject_note) == (
        "rejected",
        "other",
        "Wants a free plan",
    )
    wait_for(lambda: stack.sandbox.calls_to("chat.update"))
    assert "Rejected by <@U0ALICE>: *Other*: Wants a free plan" in json.dumps(
        stack.sandbox.channel(CHANNEL)[0]["blocks"]
    )
    engine = make_engine(stack.database_url)
    with Session(engine) as session:
        assert session.scalars(select(col(Lead.disposition))).one() == "nurture"
    engine.dispose()


def test_unsigned_or_forged_requests_are_refused(stack: Stack) -> None:
    handoff_id = stack.post_lead("A4")["handoff"]["id"]
    ts = posted_card(stack)["ts"]
    forged = stack.slack(click(ActionId.ACCEPT, handoff_id, "U0ALICE", ts), secret="guess")
    assert forged.status_code == 401
    assert stack.handoff(handoff_id).status == "pending"


SLA_TOML = """
[sla]
escalation_channel = "C0456ESCAL"
[sla.tiers.sql]
respond_within = "1h"
calendar = "24x7"
warn_before = "15m"
[[sla.escalation]]
after = "0m"
notify = "manager"
[[sla.escalation]]
after = "1h"
notify = "channel"
reassign = true
"""


def test_sweep_escalates_to_the_manager_who_reassigns(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML + SLA_TOML)
    with SlackSandbox() as sandbox:
        env = serve_env(database_url, sandbox)
        with running_serve(tmp_path, env) as url:
            stack = Stack(url, sandbox, database_url)
            handoff_id = stack.post_lead("E1")["handoff"]["id"]
            due = stack.handoff(handoff_id).due_at
            assert due is not None
            at = (due + timedelta(minutes=1)).isoformat()
            done = subprocess.run(
                [Path(sys.executable).parent / "handoff", "sweep", "--now", at, "--simulate"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert f"escalation level 1 for hand-off {handoff_id} to U0DANA" in done.stdout
            (dm,) = wait_for(lambda: stack.sandbox.channel("U0DANA"))
            assert "SLA breach: <@U0ALICE> has not answered" in dm["text"]
            assert "(score " in dm["text"]
            blocks = {b.get("block_id"): b for b in dm["blocks"]}
            assert "/archives/C0123LEADS/p" in json.dumps(dm["blocks"])  # the card's permalink
            actions = [e["action_id"] for e in blocks[BlockId.ESCALATION]["elements"]]
            assert actions == [
                ActionId.ESCALATION_REASSIGN,
                ActionId.ESCALATION_PICK,
                ActionId.ESCALATION_REMIND,
                ActionId.ESCALATION_TAKE,
            ]
            payload = block_actions(
                ActionId.ESCALATION_REASSIGN,
                handoff_id,
                "U0DANA",
                channel="D0DANA",
                ts=dm["ts"],
                block_id=BlockId.ESCALATION,
                message=dm,
            )
            assert stack.slack(payload).status_code == 200
            # The DM is redrawn in place, its buttons gone, saying what happened.

            def redraws() -> list[dict[str, Any]]:
                calls = stack.sandbox.calls_to("chat.update")
                return [c.args for c in calls if c.args["channel"] == "D0DANA"]

            redrawn = wait_for(redraws)[0]
            assert "&lt;!channel&gt;: reassigned to <@U0CHLOE>." in json.dumps(redrawn["blocks"])
            assert BlockId.ESCALATION not in json.dumps(redrawn["blocks"])
            # One card per lead: redrawn with the new owner, and a reply in its thread.
            reply = wait_for(
                lambda: [m for m in stack.sandbox.channel(CHANNEL) if "thread_ts" in m][1:]
            )[0]
            assert "moved from <@U0ALICE> by their manager. Now <@U0CHLOE>'s" in reply["text"]
            (card,) = [m for m in stack.sandbox.channel(CHANNEL) if m["ts"] == reply["thread_ts"]]
            assert "2nd owner" in json.dumps(card["blocks"])
            assert len([m for m in stack.sandbox.channel(CHANNEL) if "metadata" in m]) == 1
            assert stack.handoff(handoff_id).status == "reassigned"
            # The very same request again (a replay) is answered and does nothing.
            assert stack.slack(payload).status_code == 200
            # A new click on the stale DM says who acted: "you", for the manager who did it.
            again = block_actions(
                ActionId.ESCALATION_REASSIGN,
                handoff_id,
                "U0DANA",
                channel="D0DANA",
                ts=dm["ts"],
                block_id=BlockId.ESCALATION,
                message=dm,
            )
            assert stack.slack(again).status_code == 200
            late = wait_for(lambda: redraws()[1:])[0]
            assert "already reassigned by you" in json.dumps(late["blocks"])
            assert len(redraws()) == 2  # the replay redrew nothing


def test_slash_command_and_home_tab_over_http(stack: Stack) -> None:
    stack.post_lead("CMD-1")
    body, headers = sign(slash_command("queue", "U0ALICE"), SECRET)
    answer = httpx.post(f"{stack.url}/slack/events", content=body, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["response_type"] == "ephemeral"
    assert "*Your pending leads (1)*" in answer.json()["text"]
    assert "&lt;!channel&gt;" in answer.json()["text"]
    body, headers = sign(home_opened_event("U0ALICE"), SECRET, "application/json")
    opened = httpx.post(f"{stack.url}/slack/events", content=body, headers=headers, timeout=10)
    assert opened.status_code == 200
    home = wait_for(lambda: stack.sandbox.home("U0ALICE"))
    assert "Your pending leads (1)" in json.dumps(home["blocks"])


def test_serve_resolves_a_channel_name_joins_it_and_posts_there(
    tmp_path: Path, database_url: str
) -> None:
    """`channel = "#sales-leads"`, a public channel the app was never added to: at start
    serve finds its id, joins it, and cards go there (history works for reconciling)."""
    team = TEAM_TOML.replace('channel = "C0123LEADS"', 'channel = "#sales-leads"')
    (tmp_path / "handoff.toml").write_text(RULES_TOML + team)
    with SlackSandbox() as sandbox:
        sandbox.add_channel("C0123LEADS", "sales-leads", member=False)
        with running_serve(tmp_path, serve_env(database_url, sandbox)) as url:
            assert sandbox.calls_to("conversations.join")
            stack = Stack(url, sandbox, database_url)
            stack.post_lead("N1")
            (card,) = wait_for(lambda: sandbox.channel("C0123LEADS"))
            assert "metadata" in card
