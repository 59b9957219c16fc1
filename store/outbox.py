"""The outbox: chat calls written in the same transaction as the change they announce,
each entry built by one typed constructor (`OutboxEntry.card`, `.notice`, `.digest`…)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.models import (
    Notification,
    NotificationKind,
    Outbox,
    OutboxKind,
    OutboxStatus,
    table,
)
from store.notify import notify_workers


@dataclass(frozen=True)
class OutboxEntry:
    """A chat call to make: built by one of the constructors below, one per kind."""

    kind: OutboxKind
    channel: str | None
    handoff_id: int | None
    payload: dict[str, Any]

    @classmethod
    def card(cls, *, handoff_id: int, channel: str) -> OutboxEntry:
        """Posts a hand-off's card in the team channel."""
        return cls(OutboxKind.POST_CARD, channel, handoff_id, {"handoff_id": handoff_id})

    @classmethod
    def dm_copy(cls, *, handoff_id: int, rep_slack_id: str) -> OutboxEntry:
        """Posts a copy of a hand-off's card in its rep's DM (or, given a channel id, in
        that channel), not redrawn later."""
        return cls(OutboxKind.POST_DM_COPY, rep_slack_id, handoff_id, {"handoff_id": handoff_id})

    @classmethod
    def card_update(cls, *, handoff_id: int, channel: str | None) -> OutboxEntry:
        """Redraws a hand-off's card where it was posted."""
        return cls(OutboxKind.UPDATE_CARD, channel, handoff_id, {"handoff_id": handoff_id})

    @classmethod
    def moved(cls, *, handoff_id: int, channel: str) -> OutboxEntry:
        """Replies in the thread of a moved lead's card, naming its new owner."""
        return cls(OutboxKind.THREAD_REPLY, channel, handoff_id, {"handoff_id": handoff_id})

    @classmethod
    def notice(cls, *, handoff_id: int, to: str, notice: dict[str, Any]) -> OutboxEntry:
        """Sends a notice about a hand-off (a reminder, an escalation, a nudge) to a user's
        DM or a channel; `notice` is its data, worded by the chat surface."""
        return cls(OutboxKind.NOTICE, to, handoff_id, {"notice": notice})

    @classmethod
    def ops_alert(cls, *, channel: str, text: str) -> OutboxEntry:
        """Tells the people who run the app something (mrkdwn we wrote)."""
        return cls(OutboxKind.OPS_ALERT, channel, None, {"text": text})

    @classmethod
    def digest(cls, *, channel: str, numbers: dict[str, Any]) -> OutboxEntry:
        """Posts a week's digest."""
        return cls(OutboxKind.DIGEST, channel, None, {"numbers": numbers})

    @classmethod
    def digest_chart(cls, *, channel: str, numbers: dict[str, Any]) -> OutboxEntry:
        """Shares the digest's chart, drawn when it is sent."""
        return cls(OutboxKind.DIGEST_CHART, channel, None, {"numbers": numbers})

    @classmethod
    def crm(cls, kind: OutboxKind, record: str, known: Any, payload: dict[str, Any]) -> OutboxEntry:
        """A write to a CRM record, or a webhook about it (`record`: the outbox channel that
        keeps one record's writes in order; `known`: the event's facts)."""
        return cls(kind, record, int(known.handoff["id"]), payload)

    @classmethod
    def hubspot_event(cls, *, event: dict[str, Any]) -> OutboxEntry:
        """A HubSpot webhook event to take in, in order per object."""
        return cls(OutboxKind.HUBSPOT_IN, f"hubspot-in:{event.get('objectId')}", None, event)

    @classmethod
    def revenue_report(cls, *, channel: str, report: dict[str, Any]) -> OutboxEntry:
        """Posts a revenue report."""
        return cls(OutboxKind.REVENUE_REPORT, channel, None, {"report": report})


def enqueue(*, session: Session, entries: Sequence[OutboxEntry], now: datetime) -> None:
    """Queues chat calls to go out as soon as the sender gets to them."""
    if entries:
        values = [
            {
                "kind": entry.kind,
                "channel": entry.channel,
                "handoff_id": entry.handoff_id,
                "payload": entry.payload,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for entry in entries
        ]
        session.connection().execute(insert(table(Outbox)), values)
        notify_workers(session)


@dataclass(frozen=True)
class PendingEntry:
    """An outbox entry still to go out (due now or later)."""

    id: int
    kind: OutboxKind
    channel: str | None
    handoff_id: int | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


def pending_entries(
    *, session: Session, limit: int, kinds: Sequence[OutboxKind] | None = None
) -> list[PendingEntry]:
    """Gets pending entries (of `kinds`, else of every kind), oldest first: the order
    they must go out in."""
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
    if kinds is not None:
        query = query.where(outbox.c.kind.in_(list(kinds)))
    return [
        PendingEntry(row.id, OutboxKind(row.kind), *row[2:])
        for row in session.connection().execute(query)
    ]


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
    *,
    session: Session,
    key: str,
    kind: NotificationKind,
    handoff_id: int | None,
    level: int,
    now: datetime,
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


def forget_requests(*, session: Session, before: datetime) -> int:
    """Deletes the records of Slack requests older than `before` (Slack redelivers and a
    signature is valid for minutes, not days); gets how many."""
    notifications = table(Notification)
    statement = delete(notifications).where(
        notifications.c.kind == NotificationKind.SLACK_REQUEST,
        notifications.c.created_at < before,
    )
    return int(session.connection().execute(statement).rowcount)
