"""Salesforce through the signed generic webhook, events out to a webhook receiver, and
what a CRM outage does, against the stand-in on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session, col
from standardwebhooks import Webhook

from bot.handoffs.decisions import accept
from bot.handoffs.verdicts import Actor
from store.models import Outbox, OutboxKind, OutboxStatus
from tests.bot.crm.conftest import ALICE_SF, WEBHOOK_SECRET, Crm, contact_event

SF_LEAD = "00Q000000000001AAA"
# What a Salesforce Flow's HTTP callout posts for a new Lead (README: Salesforce).
FLOW_PAYLOAD = {
    "source_system": "salesforce",
    "external_id": SF_LEAD,
    "email": "jo@globex.test",
    "first_name": "Jo",
    "last_name": "Doe",
    "company": "Globex",
    "employees": 400,
    "country": "US",
    "source": "Web",
}


def accept_as_alice(crm: Crm, source: str, external_id: str) -> None:
    handoff = crm.handoff_of(source, external_id)
    assert handoff.id is not None
    with Session(crm.engine) as session:
        accept(session=session, handoff_id=handoff.id, actor=Actor("U0ALICE"), now=crm.clock.now())
        session.commit()


def test_a_flow_lead_round_trips_to_salesforce_through_an_expired_session(crm: Crm) -> None:
    crm.standin.add_sf_lead(SF_LEAD, Company="Globex", LastName="Doe")
    response = crm.signed_post(FLOW_PAYLOAD)
    assert response.status_code == 200, response.text
    assert response.json()["handoff"]["rep"] == "U0ALICE"
    crm.drain()
    lead = crm.standin.sf_leads[SF_LEAD]
    assert (lead["OwnerId"], lead["Status"]) == (ALICE_SF, "Open - Not Contacted")
    crm.standin.expire_salesforce_tokens()  # the session ends: the next call answers 401
    accept_as_alice(crm, "salesforce", SF_LEAD)
    crm.drain()
    assert crm.standin.sf_leads[SF_LEAD]["Status"] == "Working - Contacted"
    (task,) = crm.standin.sf_tasks
    assert (task["WhoId"], task["Status"], task["Subject"]) == (
        SF_LEAD,
        "Completed",
        "Lead accepted in Slack",
    )
    assert "Accepted in Slack by Alice" in task["Description"]
    assert crm.sender.salesforce is not None
    assert crm.sender.salesforce.refreshes == 2  # the first token, and one after the 401
    assert len(crm.standin.calls_to("POST", "/services/oauth2/token")) == 2


def test_unsigned_or_tampered_generic_webhooks_get_401_and_bad_fields_422(crm: Crm) -> None:
    assert crm.api.post("/webhooks/leads", json=FLOW_PAYLOAD).status_code == 401
    body = json.dumps(FLOW_PAYLOAD).encode()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_9",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign("msg_9", now, body),
    }
    tampered = body.replace(b"Globex", b"Initech")
    assert crm.api.post("/webhooks/leads", content=tampered, headers=headers).status_code == 401
    refused = crm.signed_post({**FLOW_PAYLOAD, "employees": True})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "employees"


def test_events_reach_the_webhook_receiver_signed_with_a_stable_id(crm: Crm) -> None:
    crm.standin.add_sf_lead(SF_LEAD)
    crm.signed_post(FLOW_PAYLOAD)
    crm.drain()
    accept_as_alice(crm, "salesforce", SF_LEAD)
    crm.drain()
    deliveries = crm.standin.received["ops"]
    kinds = [json.loads(d.headers["raw-body"])["type"] for d in deliveries]
    assert kinds == ["lead.handed_off", "handoff.accepted"]
    for delivery in deliveries:
        headers = {k: v for k, v in delivery.headers.items() if k.startswith("webhook-")}
        Webhook(WEBHOOK_SECRET).verify(delivery.headers["raw-body"], headers)
    accepted = json.loads(deliveries[1].headers["raw-body"])
    assert accepted["data"]["rep"]["slack_id"] == "U0ALICE"
    assert accepted["data"]["lead"]["external_id"] == SF_LEAD
    assert deliveries[0].headers["webhook-id"] != deliveries[1].headers["webhook-id"]


def test_a_hubspot_outage_loses_nothing_and_writes_arrive_once_in_order(crm: Crm) -> None:
    crm.standin.add_contact("501", numemployees="250", country="US")
    crm.hubspot_post([contact_event(501, 1)])
    crm.sender.run()  # the contact is read, the lead handed off (its event fans out next)
    crm.standin.fail("/crm/v3/objects/contacts", status=503, times=10_000)
    accept_as_alice(crm, "hubspot", "501")
    for _ in range(8):  # two minutes of outage, a pass every 15 s
        crm.sender.run()
        crm.clock.advance(15)
    with Session(crm.engine) as session:
        statuses = set(session.scalars(select(col(Outbox.status))).all())
    assert OutboxStatus.DEAD not in statuses
    assert crm.standin.contacts["501"].get("hs_lead_status") is None
    crm.standin.heal()
    crm.drain(step_s=120)
    patches = [
        c.body["properties"]
        for c in crm.standin.calls_to("PATCH", "/contacts/501")
        if c.body and "hs_lead_status" in c.body["properties"]
    ]
    written = crm.standin.contacts["501"]["hs_lead_status"]
    assert written == "IN_PROGRESS"
    # During the outage one write probed at a time (the later one waited its turn); after
    # it, NEW then IN_PROGRESS, each arrived once.
    arrived = [p["hs_lead_status"] for p in patches]
    assert arrived[-2:] == ["NEW", "IN_PROGRESS"]
    assert set(arrived[:-2]) <= {"NEW"}


def test_a_refusal_is_dead_at_once_with_what_hubspot_said(crm: Crm) -> None:
    crm.standin.add_contact("501", numemployees="250", country="US")
    crm.hubspot_post([contact_event(501, 1)])
    crm.sender.run()
    crm.standin.fail("/crm/v3/objects/contacts/501", status=401, times=5)
    crm.sender.run()
    with Session(crm.engine) as session:
        dead = session.scalars(select(Outbox).where(col(Outbox.status) == OutboxStatus.DEAD)).one()
    assert dead.last_error is not None
    assert "HubSpot answered 401" in dead.last_error
    assert "Check HUBSPOT_ACCESS_TOKEN" in dead.last_error
    with Session(crm.engine) as session:  # and the team is told, once an hour at most
        (alert,) = session.scalars(
            select(Outbox).where(col(Outbox.kind) == OutboxKind.OPS_ALERT)
        ).all()
    assert "handoff outbox retry --all" in alert.payload["text"]
