"""The outbox: Slack calls written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from store.models import Outbox, OutboxStatus, table


def enqueue(*, session: Session, entries: Sequence[dict[str, Any]], now: datetime) -> None:
    """Queues Slack calls (each: kind, channel, payload, handoff_id) to go out as soon as
    the sender gets to them."""
    if entries:
        values = [
            {
                **entry,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for entry in entries
        ]
        session.connection().execute(insert(table(Outbox)), values)
