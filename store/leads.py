"""Queries on leads and their activities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.models import Activity, Lead

STANDARD_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "employees",
    "industry",
    "country",
    "source",
)


def find_lead(
    *, session: Session, source_system: str, external_id: str, lock: bool = False
) -> Lead | None:
    """Gets a lead by its source system and id (locked for update when `lock`)."""
    query = select(Lead).where(
        col(Lead.source_system) == source_system, col(Lead.external_id) == external_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def upsert_lead(
    *, session: Session, source_system: str, external_id: str, values: dict[str, Any], now: datetime
) -> tuple[Lead, bool]:
    """Creates or updates a lead; gets it and whether it was created.

    The row stays locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), so two requests for one lead queue up.
    """
    lead = find_lead(
        session=session, source_system=source_system, external_id=external_id, lock=True
    )
    if lead is not None:
        _apply(lead, values, now)
        return lead, False
    lead = Lead(
        source_system=source_system, external_id=external_id, created_at=now, updated_at=now
    )
    _apply(lead, values, now)
    try:
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:
        # Another transaction created it between our look and our insert: update theirs.
        found = find_lead(
            session=session, source_system=source_system, external_id=external_id, lock=True
        )
        assert found is not None
        _apply(found, values, now)
        return found, False
    return lead, True


def _apply(lead: Lead, values: dict[str, Any], now: datetime) -> None:
    for name in STANDARD_FIELDS:
        if name in values:
            setattr(lead, name, values[name])
    if values.get("attributes"):
        # Merge: a partial update (one new custom field) must not erase the others.
        lead.attributes = {**(lead.attributes or {}), **values["attributes"]}
    lead.updated_at = now


def lead_fields(lead: Lead) -> dict[str, Any]:
    """Gets the fields the scoring rules see: custom attributes, then the standard fields."""
    fields = dict(lead.attributes or {})
    for name in STANDARD_FIELDS:
        value = getattr(lead, name)
        if value is not None:
            fields[name] = value
    return fields


def _insert_ignoring_duplicates(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Activity).on_conflict_do_nothing(
            index_elements=["lead_id", "external_id"]
        )
    return sqlite.insert(Activity).on_conflict_do_nothing(index_elements=["lead_id", "external_id"])


def add_activities(
    *, session: Session, lead_id: int, activities: Sequence[dict[str, Any]], now: datetime
) -> int:
    """Adds activities to a lead, skipping event ids it already has; gets how many were new."""
    if not activities:
        return 0
    rows = [{**activity, "lead_id": lead_id, "created_at": now} for activity in activities]
    # RETURNING, not rowcount: drivers disagree on rowcount for a many-row insert.
    statement = _insert_ignoring_duplicates(session).returning(col(Activity.id))
    return len(session.execute(statement, rows).all())


def activities_of(*, session: Session, lead_id: int) -> Iterable[tuple[str, datetime]]:
    """Gets (kind, occurred_at) of every activity of a lead."""
    query = select(col(Activity.kind), col(Activity.occurred_at)).where(
        col(Activity.lead_id) == lead_id
    )
    return [(kind, when) for kind, when in session.execute(query)]
