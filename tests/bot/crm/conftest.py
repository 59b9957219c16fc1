"""A CRM stand-in, the app's API and the CRM sender on one database, with a clock that
moves only when told."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col
from standardwebhooks import Webhook

from bot.config import HandoffConfig
from bot.crm.deliver import CrmDeliverer
from bot.crm.hubspot import HubSpot, signature_v3
from bot.crm.salesforce import Salesforce
from bot.handoffs.team import sync_team
from bot.runtime.api import AppState, create_api
from bot.sandbox.crm_standin import CrmStandIn
from bot.sandbox.standin_hubspot import HUBSPOT_TOKEN
from bot.sandbox.standin_salesforce import SALESFORCE_CLIENT
from store.lead_events import unfanned as unfanned_events
from store.models import CRM_OUTBOX_KINDS, Handoff, Outbox, OutboxStatus
from tests.helpers import NOW, RULES_TOML, TOKEN

HUBSPOT_SECRET = "c4a1f0e2-hubspot-app-client-secret"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ALICE_OWNER, BEN_OWNER = "7001", "7002"
ALICE_SF = "005000000000002AAA"

# The tests' rules with 45 points for size: a contact of the right size alone is an MQL.
CONFIG = (
    RULES_TOML.replace("points = 30", "points = 45", 1)
    + """
[team]
timezone = "America/New_York"
channel = "C0123LEADS"
territory_field = "country"
[[team.reps]]
slack_id = "U0ALICE"
name = "Alice"
email = "alice@acme.test"
manager = "U0DANA"
territories = ["US"]
[[team.reps]]
slack_id = "U0BEN"
name = "Ben"
email = "ben@acme.test"
hubspot_owner_id = "7002"
territories = ["GB"]
[crm.hubspot]
api_url = "{url}"
portal_id = 4242
[crm.hubspot.activities]
demo_requested = "demo_request"
[crm.salesforce]
login_url = "{url}"
api_version = "v62.0"
[[webhooks.out]]
url = "{url}/hooks/ops"
"""
)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Crm:
    standin: CrmStandIn
    engine: Engine
    config: HandoffConfig
    clock: Clock
    api: TestClient
    sender: CrmDeliverer

    def hubspot_post(
        self, events: list[dict[str, Any]], *, secret: str = HUBSPOT_SECRET, age_s: float = 0
    ) -> Any:
        """Posts a batch as HubSpot signs it (v3), `age_s` seconds ago."""
        body = json.dumps(events).encode()
        stamp = str(int((self.clock.now().timestamp() - age_s) * 1000))
        uri = "http://testserver/webhooks/hubspot"
        signature = signature_v3(secret=secret, method="POST", uri=uri, body=body, timestamp=stamp)
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": stamp,
        }
        return self.api.post("/webhooks/hubspot", content=body, headers=headers)

    def signed_post(self, payload: dict[str, Any], *, message_id: str = "msg_1") -> Any:
        """Posts to /webhooks/leads as a Standard Webhooks sender does."""
        body = json.dumps(payload).encode()
        now = datetime.now(UTC)  # the package checks the window against the wall clock
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(WEBHOOK_SECRET).sign(message_id, now, body),
        }
        return self.api.post("/webhooks/leads", content=body, headers=headers)

    def drain(self, rounds: int = 60, step_s: float = 15) -> None:
        """Runs the CRM sender until nothing of its kinds is pending."""
        for _ in range(rounds):
            self.sender.run()
            with Session(self.engine) as session:
                unfanned = unfanned_events(session=session, limit=1)
            if not self.pending() and not unfanned:
                return
            self.clock.advance(step_s)
        raise AssertionError(f"still pending: {self.pending()}")

    def pending(self) -> list[Any]:
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(Outbox).where(
                        col(Outbox.kind).in_(CRM_OUTBOX_KINDS),
                        col(Outbox.status) == OutboxStatus.PENDING,
                    )
                )
            )

    def handoff_of(self, source: str, external_id: str) -> Handoff:
        from store.models import Lead

        with Session(self.engine) as session:
            lead = session.scalars(
                select(Lead).where(
                    col(Lead.source_system) == source, col(Lead.external_id) == external_id
                )
            ).one()
            return session.scalars(
                select(Handoff)
                .where(col(Handoff.lead_id) == lead.id)
                .order_by(col(Handoff.id).desc())
            ).first()  # type: ignore[return-value]


@pytest.fixture
def crm(engine: Engine) -> Iterator[Crm]:
    with CrmStandIn() as standin:
        config = HandoffConfig.model_validate(tomllib.loads(CONFIG.format(url=standin.url)))
        assert config.team is not None
        assert config.scoring is not None
        sync_team(engine=engine, team=config.team)
        clock = Clock()
        state = AppState(
            engine=engine,
            rules=config.scoring,
            team=config.team,
            api_token=TOKEN,
            clock=clock.now,
            hubspot=config.crm.hubspot,
            hubspot_secret=HUBSPOT_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )
        sender = CrmDeliverer(
            engine=engine,
            config=config,
            rules=config.scoring,
            hubspot=HubSpot(api_url=standin.url, token=HUBSPOT_TOKEN),
            salesforce=Salesforce(standin.url, "v62.0", *SALESFORCE_CLIENT),
            clock=clock.now,
            environ={"HANDOFF_WEBHOOK_SECRET": WEBHOOK_SECRET}.get,
        )
        standin.add_owner(ALICE_OWNER, "alice@acme.test", "Alice", "Adams")
        standin.add_owner(BEN_OWNER, "ben@acme.test", "Ben", "Brown")
        standin.add_sf_user(ALICE_SF, "alice@acme.test")
        with TestClient(create_api(state)) as api:
            yield Crm(standin, engine, config, clock, api, sender)
        sender.close()


def contact_event(
    contact_id: int, event_id: int, kind: str = "contact.creation", **more: Any
) -> dict[str, Any]:
    """An event as HubSpot's webhooks send it."""
    return {
        "eventId": event_id,
        "subscriptionId": 12345,
        "portalId": 4242,
        "appId": 54321,
        "occurredAt": int(NOW.timestamp() * 1000),
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": contact_id,
        "changeSource": "CRM",
        **more,
    }
