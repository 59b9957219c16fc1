"""The outbox: Slack calls written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.models import Notification, Outbox, OutboxStatus, table


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


@dataclass(frozen=True)
class PendingEntry:
    """An outbox entry still to go out (due now or later)."""

    id: int
    kind: str
    channel: str | None
    handoff_id: int | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


def pending_entries(*, session: Session, limit: int) -> list[PendingEntry]:
    """Gets pending entries, oldest first: the order they must go out in."""
    outbox = table(Outbox)
    query = (
        select(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.channel,
            outbox.c.handoff_id,
            outbox.c.attempts,
            outbox.c.created_at,
            outbox.c.next_attempt_at,
        )
        .where(outbox.c.status == OutboxStatus.PENDING)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [PendingEntry(*row) for row in session.connection().execute(query)]


def claim(*, session: Session, entry_id: int, now: datetime, lease_until: datetime) -> bool:
    """Takes an entry for one attempt (counted now, before the call, so that a crash
    mid-call is known to the next try); False when another sender has it."""
    outbox = table(Outbox)
    statement = (
        update(outbox)
        .where(
            outbox.c.id == entry_id,
            outbox.c.status == OutboxStatus.PENDING,
            outbox.c.next_attempt_at <= now,
        )
        .values(attempts=outbox.c.attempts + 1, next_attempt_at=lease_until)
    )
    return session.connection().execute(statement).rowcount == 1


def finish(
    *,
    session: Session,
    entry_id: int,
    status: OutboxStatus,
    now: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
    uncount: bool = False,
) -> None:
    """Records how an attempt ended: sent, dead, or pending again at `next_attempt_at`
    (`uncount`: the attempt does not count, as for a rate limit)."""
    outbox = table(Outbox)
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status is OutboxStatus.SENT:
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if uncount:
        values["attempts"] = outbox.c.attempts - 1
    session.connection().execute(update(outbox).where(outbox.c.id == entry_id).values(**values))


def claim_notification(
    *, session: Session, key: str, kind: str, handoff_id: int | None, level: int, now: datetime
) -> bool:
    """Records that a notification is being sent; False when it already was. The unique
    key is inserted before sending (never checked, then inserted): two sweeps at once
    cannot both win."""
    notifications = table(Notification)
    dialect = session.get_bind().dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert_into(notifications)
        .values(key=key, kind=kind, handoff_id=handoff_id, level=level, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(notifications.c.id)
    )
    return session.connection().execute(statement).first() is not None


def already_sent(*, session: Session, key: str) -> bool:
    """Tells whether a notification with this key was recorded (a cheap look before doing
    the work of one; `claim_notification` stays the guard against sending twice)."""
    notifications = table(Notification)
    query = select(notifications.c.id).where(notifications.c.key == key).limit(1)
    return session.connection().execute(query).first() is not None


def message_payload(*, session: Session, entry_id: int) -> dict[str, Any]:
    """Gets the payload of a message entry (its text, and what else to show)."""
    outbox = table(Outbox)
    payload = (
        session.connection()
        .execute(select(outbox.c.payload).where(outbox.c.id == entry_id))
        .scalar_one()
    )
    return dict(payload or {})
