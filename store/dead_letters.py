"""Outbox entries that did not go out: listed, counted, re-queued or dropped by an admin
(`handoff outbox list|retry|drop`), and counted in /healthz."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true, update
from sqlmodel import Session

from store.models import Outbox, OutboxStatus, table

# A pending entry due longer ago than this is overdue: the sender is behind or stopped.
OVERDUE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Letter:
    """One outbox entry as an admin sees it."""

    id: int
    kind: str
    channel: str | None
    handoff_id: int | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None

    @property
    def error_code(self) -> str | None:
        """Gets Slack's error code of the last failure ("channel_not_found")."""
        return self.last_error.split(":", 1)[0].strip() if self.last_error else None


@dataclass(frozen=True)
class Which:
    """Which entries a command is about: by id, by error code, or all (of a status)."""

    ids: Sequence[int] = ()
    error: str | None = None
    every: bool = False

    def condition(self) -> ColumnElement[bool]:
        """Gets the WHERE clause that picks the entries (none when nothing was named)."""
        outbox = table(Outbox)
        if self.ids:
            return outbox.c.id.in_(list(self.ids))
        if self.error:
            return outbox.c.last_error.like(f"{self.error}%")
        return true() if self.every else outbox.c.id.is_(None)


def letters(
    *, session: Session, status: OutboxStatus | None, which: Which, limit: int
) -> list[Letter]:
    """Gets entries of a status (None: any), oldest first, at most `limit`."""
    outbox = table(Outbox)
    wanted: list[ColumnElement[bool]] = [which.condition()]
    if status is not None:
        wanted.append(outbox.c.status == status)
    query = (
        select(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.channel,
            outbox.c.handoff_id,
            outbox.c.status,
            outbox.c.attempts,
            outbox.c.created_at,
            outbox.c.next_attempt_at,
            outbox.c.last_error,
        )
        .where(and_(*wanted))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [Letter(**row._asdict()) for row in session.connection().execute(query)]


def health(*, session: Session, now: datetime) -> dict[str, Any]:
    """Gets the outbox's health: entries dead, pending, and overdue (due more than
    OVERDUE_AFTER ago), with the oldest dead entry's time."""
    outbox = table(Outbox)
    pending = outbox.c.status == OutboxStatus.PENDING
    overdue = and_(pending, outbox.c.next_attempt_at <= now - OVERDUE_AFTER)
    dead = outbox.c.status == OutboxStatus.DEAD
    row = (
        session.connection()
        .execute(
            select(
                func.count().filter(dead),
                func.count().filter(pending),
                func.count().filter(overdue),
            ).where(outbox.c.status.in_([OutboxStatus.DEAD, OutboxStatus.PENDING]))
        )
        .one()
    )
    return {"dead": int(row[0]), "pending": int(row[1]), "overdue": int(row[2])}


def retry(*, session: Session, which: Which, now: datetime) -> int:
    """Puts dead entries back in the queue, due now, with their tries and their give-up
    clock reset; they keep their place (id order) in their channel. Gets how many."""
    outbox = table(Outbox)
    statement = (
        update(outbox)
        .where(outbox.c.status == OutboxStatus.DEAD, which.condition())
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            last_error=None,
        )
    )
    return int(session.connection().execute(statement).rowcount)


def drop(*, session: Session, which: Which) -> int:
    """Marks dead entries as dropped: they stay in the table, out of every count."""
    outbox = table(Outbox)
    statement = (
        update(outbox)
        .where(outbox.c.status == OutboxStatus.DEAD, which.condition())
        .values(status=OutboxStatus.DROPPED)
    )
    return int(session.connection().execute(statement).rowcount)
