"""Lead upserts and activity de-duplication, a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlmodel import Session

from store.leads import (
    activities_by_lead,
    add_activities,
    insert_ids,
    insert_leads,
    lead_fields,
    load_leads,
    merged,
    update_lead,
)
from store.models import ScoreSnapshot, table

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_insert_then_load_then_update_merging_attributes(engine: Engine) -> None:
    with Session(engine) as session:
        ids = insert_leads(
            session=session,
            rows=[
                {
                    "source_system": "web",
                    "external_id": "A",
                    "email": "a@x.com",
                    "country": "US",
                    "attributes": {"tier": "gold"},
                },
                {"source_system": "hubspot", "external_id": "A"},
            ],
            now=NOW,
        )
        assert set(ids) == {("web", "A"), ("hubspot", "A")}
        session.commit()
    with Session(engine) as session:
        stored = load_leads(session=session, keys=[("web", "A"), ("web", "missing")])
        assert list(stored) == [("web", "A")]
        row = stored[("web", "A")]
        changes = merged(row, {"title": "CTO", "attributes": {"tech": ["hubspot"]}})
        assert changes == {"title": "CTO", "attributes": {"tier": "gold", "tech": ["hubspot"]}}
        update_lead(session=session, lead_id=row["id"], values=changes, now=NOW)
        session.commit()
        again = load_leads(session=session, keys=[("web", "A")])[("web", "A")]
        assert lead_fields(again) == {
            "tier": "gold",
            "tech": ["hubspot"],
            "email": "a@x.com",
            "title": "CTO",
            "country": "US",
        }
        assert again["disposition"] == "open"


def test_inserting_an_existing_lead_is_skipped_not_an_error(engine: Engine) -> None:
    with Session(engine) as session:
        insert_leads(session=session, rows=[{"source_system": "web", "external_id": "A"}], now=NOW)
        again = insert_leads(
            session=session,
            rows=[
                {"source_system": "web", "external_id": "A"},
                {"source_system": "web", "external_id": "B"},
            ],
            now=NOW,
        )
        assert list(again) == [("web", "B")]


def test_activities_are_added_once_per_event_id(engine: Engine) -> None:
    with Session(engine) as session:
        ids = insert_leads(
            session=session, rows=[{"source_system": "web", "external_id": "A"}], now=NOW
        )
        lead_id = ids[("web", "A")]
        event = {
            "lead_id": lead_id,
            "external_id": "e1",
            "kind": "demo_request",
            "occurred_at": NOW,
            "properties": {},
        }
        other = {**event, "external_id": "e2", "kind": "email_open"}
        assert add_activities(session=session, rows=[event], now=NOW) == {lead_id: 1}
        assert add_activities(session=session, rows=[event, other], now=NOW) == {lead_id: 1}
        session.commit()
        kinds = sorted(
            kind for kind, _ in activities_by_lead(session=session, lead_ids=[lead_id])[lead_id]
        )
        assert kinds == ["demo_request", "email_open"]


def test_insert_ids_gets_ids_in_the_order_given_with_or_without_a_telling_key(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        ids = insert_leads(
            session=session,
            rows=[{"source_system": "web", "external_id": name} for name in "ABC"],
            now=NOW,
        )
        a, b, c = (ids[("web", name)] for name in "ABC")

        def snapshot(lead_id: int, total: float) -> dict[str, object]:
            return {
                "lead_id": lead_id,
                "fit": 0.0,
                "intent": 0.0,
                "total": total,
                "tier": "nurture",
                "routable": False,
                "factors": [],
                "rules_version": "v1",
                "computed_at": NOW,
            }

        snapshots = table(ScoreSnapshot)
        for leads in ([c, a, b], [b, b, a]):  # each lead once, then one lead twice
            rows = [snapshot(lead_id, float(i)) for i, lead_id in enumerate(leads)]
            got = insert_ids(session=session, model=ScoreSnapshot, rows=rows, key="lead_id")
            query = select(snapshots.c.id, snapshots.c.lead_id, snapshots.c.total)
            stored = {row.id: (row.lead_id, row.total) for row in session.execute(query)}
            assert [stored[snapshot_id] for snapshot_id in got] == [
                (row["lead_id"], row["total"]) for row in rows
            ]
