"""The real Bolt app over a fresh database, its Web API calls answered (and recorded) by the
local Slack sandbox: what the listener tests drive with signed requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.team import sync_team
from bot.sandbox.slack_api import SlackSandbox
from bot.slack.app import create_app
from bot.slack.deps import Deps
from bot.slack.simulator import home_opened_event
from bot.slack.surface import web_client
from store.models import Handoff
from tests.helpers import NOW, context, demo, lead_body, sign, signed, slash_command, wait_for
from tests.scenarios import SLA

SECRET = "home-secret"


@dataclass
class Bolt:
    """The Bolt app over a fresh database, with a clock the test moves."""

    app: App
    sandbox: SlackSandbox
    engine: Engine
    now: list[datetime] = field(default_factory=lambda: [NOW])

    def send(self, body: str, content_type: str) -> Any:
        raw, headers = sign(body, SECRET, content_type)
        response = self.app.dispatch(
            BoltRequest(body=raw, headers={k.lower(): [v] for k, v in headers.items()})
        )
        assert response.status == 200, response.body
        return json.loads(response.body) if response.body else None

    def command(self, text: str, user: str) -> str:
        answer = self.send(slash_command(text, user), "application/x-www-form-urlencoded")
        assert answer["response_type"] == "ephemeral"
        return str(answer["text"])

    def open_home(self, user: str) -> str:
        with self.republished():
            self.send(home_opened_event(user), "application/json")
        return self.home_text(user)

    def click(self, payload: dict[str, Any], *, republishes: bool = True) -> None:
        body, headers = signed(payload, SECRET)
        with self.republished() if republishes else nullcontext():
            response = self.app.dispatch(
                BoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})
            )
        assert response.status == 200

    @contextmanager
    def republished(self) -> Iterator[None]:
        """Waits for the Home tab to be published once more: Bolt acks first and runs the
        rest of a listener in the background, as Slack's 3-second rule wants."""
        before = len(self.sandbox.calls_to("views.publish"))
        yield
        wait_for(lambda: len(self.sandbox.calls_to("views.publish")) > before)

    def home_text(self, user: str) -> str:
        view = self.sandbox.home(user)
        assert view is not None, f"no Home tab published for {user}"
        return json.dumps(view["blocks"], ensure_ascii=False)


@pytest.fixture
def bolt(engine: Engine) -> Iterator[Bolt]:
    """The Bolt app on a fresh database (both kinds), with the sandbox answering."""
    with SlackSandbox() as sandbox:
        ctx = context()
        sync_team(engine=engine, team=ctx.team)
        clock = [NOW]
        deps = Deps(
            engine=engine,
            team=ctx.team,
            reasons=DEFAULT_REJECT_REASONS,
            clock=lambda: clock[0],
            sla=SLA,
        )
        client = web_client(token="xoxb-test", api_url=sandbox.url)
        yield Bolt(
            create_app(client=client, signing_secret=SECRET, deps=deps), sandbox, engine, clock
        )


def hand_off(engine: Engine, external_id: str, **fields: Any) -> int:
    ctx = context()
    body = LeadIn.model_validate(
        lead_body(external_id, employees=100, country="US", activities=[demo()], **fields)
    )
    with Session(engine) as session:
        (outcome,) = ingest_leads(
            session=session,
            leads=[body],
            context=Context(rules=ctx.rules, team=ctx.team, now=NOW, sla=SLA),
        )
        session.commit()
    assert outcome.handoff is not None
    return outcome.handoff.id


def status(engine: Engine, handoff_id: int) -> str:
    with Session(engine) as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        return found.status
