"""Queries on leads and their activities, a batch at a time.

Intake works on batches (one lead from the API, hundreds from an import), so each step
is one statement for the whole batch rather than one per lead. Statements are Core and
run on the session's connection (same transaction): the ORM's execution layer would
cost more than the statements themselves on this hot path.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from store.models import Activity, Lead, LeadDisposition, table

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
LeadKey = tuple[str, str]  # (source_system, external_id)
_EMPTY_LEAD: dict[str, Any] = {
    **dict.fromkeys(STANDARD_FIELDS),
    "attributes": {},
    "disposition": LeadDisposition.OPEN,
}


def insert_for(session: Session, model: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """Gets an INSERT that can take ON CONFLICT clauses, for this session's database."""
    # The Core table, not the ORM entity: the ORM's bulk-persistence layer costs more
    # than the insert itself for rows that need no ORM behaviour.
    target = table(model)
    dialect = session.get_bind().dialect.name
    return postgresql.insert(target) if dialect == "postgresql" else sqlite.insert(target)


def insert_ids(
    *, session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], key: str
) -> list[int]:
    """Inserts rows; gets their ids in the order given. `key` names a column whose value
    tells the rows apart when no two rows share it (a batch's lead_id, one row a lead)."""
    target = table(model)
    keys = [row[key] for row in rows]
    connection = session.connection()
    if len(set(keys)) == len(keys):
        # Matched by key, so the rows go in a few multi-row statements. Asking the
        # database for RETURNING in parameter order instead makes SQLAlchemy insert one
        # row per statement on SQLite (it has no sentinel to sort by there).
        statement = insert(target).returning(target.c.id, target.c[key])
        found = {row_key: row_id for row_id, row_key in connection.execute(statement, list(rows))}
        return [found[row_key] for row_key in keys]
    statement = insert(target).returning(target.c.id, sort_by_parameter_order=True)
    return [row.id for row in connection.execute(statement, list(rows))]


def load_leads(
    *, session: Session, keys: Sequence[LeadKey], lock: bool = False
) -> dict[LeadKey, dict[str, Any]]:
    """Gets the stored leads among `keys` as dicts of their columns (locked for update
    when `lock`, so concurrent requests for one lead queue up on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    if not keys:
        return {}
    leads = table(Lead)
    # One `source_system = ? AND external_id IN (...)` term per source system, not a
    # row-value IN: SQLite renders `(a, b) IN (VALUES ...)`, which it answers by scanning
    # the whole table instead of searching the unique index.
    by_system: dict[str, list[str]] = defaultdict(list)
    for source_system, external_id in keys:
        by_system[source_system].append(external_id)
    query = select(leads).where(
        or_(
            *(
                and_(leads.c.source_system == system, leads.c.external_id.in_(ids))
                for system, ids in by_system.items()
            )
        )
    )
    if lock:
        query = query.with_for_update()
    return {
        (row.source_system, row.external_id): dict(row._mapping) for row in session.execute(query)
    }


def insert_leads(
    *, session: Session, rows: Sequence[dict[str, Any]], now: datetime
) -> dict[LeadKey, int]:
    """Inserts the leads that are new; gets their ids. A lead that already exists is
    skipped (absent from the result), for the caller to update."""
    if not rows:
        return {}
    values = [
        # Every row names every column: one executemany needs rows of one shape.
        {**_EMPTY_LEAD, **row, "created_at": now, "updated_at": now}
        for row in rows
    ]
    leads = table(Lead)
    statement = (
        insert_for(session, Lead)
        .on_conflict_do_nothing(index_elements=["source_system", "external_id"])
        .returning(leads.c.id, leads.c.source_system, leads.c.external_id)
    )
    result = session.connection().execute(statement, values)
    return {(row.source_system, row.external_id): row.id for row in result}


def update_lead(*, session: Session, lead_id: int, values: dict[str, Any], now: datetime) -> None:
    """Writes the given fields of a stored lead."""
    leads = table(Lead)
    statement = update(leads).where(leads.c.id == lead_id).values(**values, updated_at=now)
    session.connection().execute(statement)


def merged(stored: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Gets the columns to write when `values` update a stored lead: given fields replace
    stored ones; attributes merge (a partial update must not erase the others)."""
    out = {name: values[name] for name in STANDARD_FIELDS if name in values}
    if values.get("attributes"):
        out["attributes"] = {**(stored.get("attributes") or {}), **values["attributes"]}
    return out


def lead_fields(lead: dict[str, Any]) -> dict[str, Any]:
    """Gets the fields the scoring rules see: custom attributes, then the standard fields."""
    fields = dict(lead.get("attributes") or {})
    for name in STANDARD_FIELDS:
        if lead.get(name) is not None:
            fields[name] = lead[name]
    return fields


def add_activities(
    *, session: Session, rows: Sequence[dict[str, Any]], now: datetime
) -> Counter[int]:
    """Adds activities (each with its lead_id), skipping event ids a lead already has;
    gets how many were new per lead."""
    if not rows:
        return Counter()
    values = [{**row, "created_at": now} for row in rows]
    # RETURNING, not rowcount: drivers disagree on rowcount for a many-row insert.
    statement = (
        insert_for(session, Activity)
        .on_conflict_do_nothing(index_elements=["lead_id", "external_id"])
        .returning(table(Activity).c.lead_id)
    )
    return Counter(lead_id for (lead_id,) in session.connection().execute(statement, values))


def activities_by_lead(
    *, session: Session, lead_ids: Iterable[int]
) -> dict[int, list[tuple[str, datetime]]]:
    """Gets (kind, occurred_at) of every activity of each lead."""
    ids = list(lead_ids)
    out: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    if not ids:
        return out
    activities = table(Activity)
    query = select(activities.c.lead_id, activities.c.kind, activities.c.occurred_at).where(
        activities.c.lead_id.in_(ids)
    )
    for lead_id, kind, when in session.connection().execute(query):
        out[lead_id].append((kind, when))
    return out


def set_disposition(*, session: Session, lead_id: int, disposition: LeadDisposition) -> None:
    """Records what sales said the lead is: back to nurture, or disqualified."""
    leads = table(Lead)
    session.connection().execute(
        update(leads).where(leads.c.id == lead_id).values(disposition=disposition)
    )
