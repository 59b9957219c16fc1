"""Outcomes (opportunity, closed-won, closed-lost) of leads, and leads with what became
of them, for calibration and revenue reports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from store.leads import activities_by_lead, insert_for, lead_fields
from store.models import Lead, Outcome, table

STAGES = ("opportunity", "closed_won", "closed_lost")


def record_outcomes(*, session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Records outcomes (lead_id, stage, amount, occurred_at), one per lead and stage: a
    repeat replaces the amount and date, so sending the same outcome twice changes
    nothing. Gets how many rows were written."""
    if not rows:
        return 0
    statement = insert_for(session, Outcome).values([{**row, "created_at": now} for row in rows])
    statement = statement.on_conflict_do_update(
        index_elements=["lead_id", "stage"],
        set_={
            "amount": statement.excluded.amount,
            "occurred_at": statement.excluded.occurred_at,
        },
    )
    session.connection().execute(statement)
    return len(rows)


def known_leads(
    *, session: Session, batch: int = 2000
) -> Iterator[tuple[dict[str, Any], list[tuple[str, datetime]], bool]]:
    """Yields every lead's fields, activities and whether it closed (won), a batch at a
    time."""
    leads, outcomes = table(Lead), table(Outcome)
    won = (
        select(outcomes.c.lead_id)
        .where(outcomes.c.stage == "closed_won", outcomes.c.lead_id == leads.c.id)
        .exists()
    )
    last = 0
    while True:
        rows = [
            dict(row._mapping)
            for row in session.connection().execute(
                select(leads, won.label("won"))
                .where(leads.c.id > last)
                .order_by(leads.c.id)
                .limit(batch)
            )
        ]
        if not rows:
            return
        acts = activities_by_lead(session=session, lead_ids=[row["id"] for row in rows])
        for row in rows:
            yield lead_fields(row), acts.get(row["id"], []), bool(row["won"])
        last = rows[-1]["id"]
