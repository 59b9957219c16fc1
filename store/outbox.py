"""The outbox: Slack calls written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from store.models import Outbox, OutboxStatus


def enqueue(
    *,
    session: Session,
    kind: str,
    channel: str | None,
    payload: dict[str, Any],
    handoff_id: int | None,
    now: datetime,
) -> Outbox:
    """Queues one Slack call to go out as soon as the sender gets to it."""
    entry = Outbox(
        kind=kind,
        channel=channel,
        payload=payload,
        handoff_id=handoff_id,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry
