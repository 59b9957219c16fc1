"""A CRM that hangs never delays a Slack card: the worker sends each from its own job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.crm.deliver import CrmDeliverer
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import ingest_leads
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer
from bot.runtime.worker import Worker
from bot.sandbox.slack_api import SlackSandbox
from bot.slack.surface import SlackSurface, web_client
from tests.bot.crm.conftest import WEBHOOK_SECRET, Crm
from tests.helpers import demo, lead_body, wait_for


def test_cards_go_out_while_the_webhook_receiver_hangs(crm: Crm, engine: Engine) -> None:
    crm.standin.slow("/hooks/", 5)  # each event to the receiver takes 5 s to answer
    assert crm.config.team is not None
    with SlackSandbox() as slack:
        slack_sender = Deliverer(
            engine=engine,
            surface=SlackSurface(web_client(token="xoxb-test", api_url=slack.url)),
            team=crm.config.team,
            reasons=DEFAULT_REJECT_REASONS,
            clock=lambda: datetime.now(UTC),
            pacer=Pacer(rate=50, burst=50),
        )
        crm_sender = CrmDeliverer(
            engine=engine,
            config=crm.config,
            rules=crm.config.scoring,
            hubspot=None,
            salesforce=None,
            environ={"HANDOFF_WEBHOOK_SECRET": WEBHOOK_SECRET}.get,
        )
        worker = Worker(
            engine=engine,
            team=crm.config.team,
            sla=None,
            reasons=DEFAULT_REJECT_REASONS,
            deliverer=slack_sender,
            crm=crm_sender,
            lease_ttl=timedelta(seconds=3),
        )
        worker.start()
        try:
            assert crm.config.scoring is not None
            for number in range(3):
                from bot.handoffs.intake import Context

                lead = LeadIn.model_validate(
                    lead_body(f"L{number}", employees=200, country="US", activities=[demo()])
                )
                with Session(engine) as session:
                    context = Context(
                        rules=crm.config.scoring, team=crm.config.team, now=datetime.now(UTC)
                    )
                    ingest_leads(session=session, leads=[lead], context=context)
                    session.commit()
                began = time.monotonic()
                wait_for(lambda: len(slack.channel("C0123LEADS")) >= number + 1, timeout=5)  # noqa: B023
                assert time.monotonic() - began < 3  # not behind the 5-second webhook calls
            assert len(crm.standin.calls_to("POST", "^/hooks/ops$")) >= 1  # it was trying
        finally:
            worker.stop()
