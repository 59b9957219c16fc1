"""Lead upserts and activity de-duplication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from store.leads import activities_of, add_activities, lead_fields, upsert_lead

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_upsert_creates_then_updates_and_merges_attributes(engine: Engine) -> None:
    with Session(engine) as session:
        lead, created = upsert_lead(
            session=session,
            source_system="web",
            external_id="A",
            values={"email": "a@x.com", "country": "US", "attributes": {"tier": "gold"}},
            now=NOW,
        )
        assert created
        session.commit()
    later = NOW + timedelta(hours=1)
    with Session(engine) as session:
        lead, created = upsert_lead(
            session=session,
            source_system="web",
            external_id="A",
            values={"title": "CTO", "attributes": {"tech": ["hubspot"]}},
            now=later,
        )
        session.commit()
        assert not created
        assert (lead.email, lead.title, lead.country) == ("a@x.com", "CTO", "US")
        assert lead.attributes == {"tier": "gold", "tech": ["hubspot"]}
        assert lead.updated_at == later
        assert lead.created_at == NOW
        assert lead_fields(lead) == {
            "tier": "gold",
            "tech": ["hubspot"],
            "email": "a@x.com",
            "title": "CTO",
            "country": "US",
        }


def test_same_id_from_another_source_is_another_lead(engine: Engine) -> None:
    with Session(engine) as session:
        a, _ = upsert_lead(
            session=session, source_system="web", external_id="1", values={}, now=NOW
        )
        b, created = upsert_lead(
            session=session, source_system="hubspot", external_id="1", values={}, now=NOW
        )
        assert created
        assert a.id != b.id


def test_activities_are_added_once_per_event_id(engine: Engine) -> None:
    with Session(engine) as session:
        lead, _ = upsert_lead(
            session=session, source_system="web", external_id="A", values={}, now=NOW
        )
        assert lead.id is not None
        event = {"external_id": "e1", "kind": "demo_request", "occurred_at": NOW, "properties": {}}
        other = {**event, "external_id": "e2", "kind": "email_open"}
        assert add_activities(session=session, lead_id=lead.id, activities=[event], now=NOW) == 1
        assert (
            add_activities(session=session, lead_id=lead.id, activities=[event, other], now=NOW)
            == 1
        )
        session.commit()
        assert sorted(kind for kind, _ in activities_of(session=session, lead_id=lead.id)) == [
            "demo_request",
            "email_open",
        ]
