"""HubSpot in and out against the stand-in, on SQLite and PostgreSQL: a signed
contact.creation batch makes one lead and one card; Accept and Reject reach the contact;
a deal won becomes an outcome the revenue report counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.decisions import accept, reject
from bot.handoffs.verdicts import Actor
from bot.reports.revenue import revenue_report
from store.models import Activity, Lead, Notification, Outbox, OutboxKind, Outcome
from tests.bot.crm.conftest import ALICE_OWNER, Crm, contact_event

REASONS = {r.code: r for r in DEFAULT_REJECT_REASONS}


def count(crm: Crm, model: type, *where: Any) -> int:
    with Session(crm.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def new_contact(crm: Crm, contact_id: str, event_id: int, **properties: str) -> None:
    crm.standin.add_contact(
        contact_id,
        email=f"{contact_id}@bigco.test",
        firstname="Pat",
        lastname="Lee",
        company="BigCo",
        numemployees="250",
        country="US",
        **properties,
    )
    response = crm.hubspot_post([contact_event(int(contact_id), event_id)])
    assert response.status_code == 200, response.text


def test_a_signed_batch_sent_twice_makes_one_lead_and_one_card(crm: Crm) -> None:
    crm.standin.add_contact("501", email="pat@bigco.test", numemployees="250", country="US")
    batch = [contact_event(501, 1)]
    assert crm.hubspot_post(batch).json() == {"received": 1, "new": 1}
    assert crm.hubspot_post(batch).json() == {"received": 1, "new": 0}  # HubSpot's retry
    crm.drain()
    assert (
        count(crm, Lead, col(Lead.source_system) == "hubspot", col(Lead.external_id) == "501") == 1
    )
    assert count(crm, Outbox, col(Outbox.kind) == OutboxKind.POST_CARD) == 1
    handoff = crm.handoff_of("hubspot", "501")
    assert handoff.status == "pending"
    with Session(crm.engine) as session:  # the card links to the contact's record
        lead = session.scalars(select(Lead).where(col(Lead.external_id) == "501")).one()
    assert lead.attributes["record_url"] == "https://app.hubspot.com/contacts/4242/record/0-1/501"
    # Handed off: the contact's owner is the rep (found by email) and its status NEW.
    contact = crm.standin.contacts["501"]
    assert (contact["hubspot_owner_id"], contact["hs_lead_status"]) == (ALICE_OWNER, "NEW")
    assert len(crm.standin.calls_to("GET", r"^/crm/v3/owners$")) == 1


def test_bad_or_stale_signatures_get_401_and_store_nothing(crm: Crm) -> None:
    crm.standin.add_contact("501", numemployees="250", country="US")
    batch = [contact_event(501, 1)]
    assert crm.hubspot_post(batch, secret="not-the-secret").status_code == 401
    assert crm.hubspot_post(batch, age_s=301).status_code == 401
    unsigned = crm.api.post("/webhooks/hubspot", json=batch)
    assert unsigned.status_code == 401
    assert "X-HubSpot-Signature-v3" in unsigned.json()["detail"]
    assert count(crm, Notification) == 0
    assert count(crm, Outbox) == 0
    assert crm.hubspot_post([{"nope": 1}]).status_code == 400


def test_accept_sets_owner_and_status_and_leaves_a_note(crm: Crm) -> None:
    new_contact(crm, "501", 1)
    crm.drain()
    handoff = crm.handoff_of("hubspot", "501")
    assert handoff.id is not None
    with Session(crm.engine) as session:
        done = accept(
            session=session, handoff_id=handoff.id, actor=Actor("U0ALICE"), now=crm.clock.now()
        )
        session.commit()
    assert done.status == "accepted"
    crm.drain()
    contact = crm.standin.contacts["501"]
    assert (contact["hubspot_owner_id"], contact["hs_lead_status"]) == (ALICE_OWNER, "IN_PROGRESS")
    (note,) = crm.standin.notes
    assert "Accepted in Slack by Alice" in note["properties"]["hs_note_body"]
    assert note["associations"][0]["to"]["id"] == "501"


def test_a_disqualifying_reject_sets_unqualified_with_a_note_of_the_reason(crm: Crm) -> None:
    new_contact(crm, "502", 2)
    crm.drain()
    handoff = crm.handoff_of("hubspot", "502")
    assert handoff.id is not None
    with Session(crm.engine) as session:
        reject(
            session=session,
            handoff_id=handoff.id,
            actor=Actor("U0ALICE"),
            reason=REASONS["not_icp"],
            note="Agency <reseller> & not the buyer",
            now=crm.clock.now(),
        )
        session.commit()
    crm.drain()
    assert crm.standin.contacts["502"]["hs_lead_status"] == "UNQUALIFIED"
    (note,) = crm.standin.notes
    body = note["properties"]["hs_note_body"]
    assert "Rejected in Slack by Alice" in body
    assert "Reason: Not our ideal customer." in body
    assert "Agency &lt;reseller&gt; &amp; not the buyer" in body  # escaped: the body is HTML


def test_a_property_change_named_in_the_config_becomes_an_activity(crm: Crm) -> None:
    crm.standin.add_contact("503", numemployees="20", country="US", demo_requested="")
    crm.hubspot_post([contact_event(503, 3)])
    crm.drain()
    assert count(crm, Outbox, col(Outbox.kind) == OutboxKind.POST_CARD) == 0  # 0 points: nurture
    crm.standin.contacts["503"]["demo_requested"] = "true"
    changed = contact_event(
        503,
        4,
        kind="contact.propertyChange",
        propertyName="demo_requested",
        propertyValue="true",
    )
    crm.hubspot_post(
        [
            changed,
            contact_event(
                503,
                5,
                kind="contact.propertyChange",
                propertyName="hs_lead_status",
                propertyValue="NEW",
            ),
        ]
    )
    crm.drain()
    assert count(crm, Activity, col(Activity.kind) == "demo_request") == 1
    assert count(crm, Outbox, col(Outbox.kind) == OutboxKind.POST_CARD) == 1  # 40 points: MQL


def test_a_deal_moved_to_closed_won_is_an_outcome_the_revenue_report_counts(crm: Crm) -> None:
    new_contact(crm, "501", 1)
    crm.drain()
    crm.standin.add_deal("9001", ["501", "999"], dealstage="closedwon", amount="12000")
    deal = contact_event(
        9001, 7, kind="deal.propertyChange", propertyName="dealstage", propertyValue="closedwon"
    )
    assert crm.hubspot_post([deal]).status_code == 200
    crm.drain()
    with Session(crm.engine) as session:
        (outcome,) = session.scalars(select(Outcome)).all()
        assert (outcome.stage, outcome.amount) == ("closed_won", 12000.0)
        assert crm.config.team is not None
        report = revenue_report(
            session=session,
            team=crm.config.team,
            reasons=DEFAULT_REJECT_REASONS,
            months=[crm.clock.now().strftime("%Y-%m")],
        )
    won = sum(row.closed_won for row in report.cohorts)
    amount = sum(row.won_amount for row in report.cohorts)
    assert (won, amount) == (1, 12000.0)
