"""Queries on hand-offs and the score snapshots they point at, a batch at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, literal, or_, select, union, update
from sqlmodel import Session

from store.leads import insert_ids
from store.models import (
    Handoff,
    HandoffStatus,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Rep,
    ScoreSnapshot,
    ShadowScore,
    table,
)

OPEN_STATUSES = (HandoffStatus.PENDING, HandoffStatus.ACCEPTED)


@dataclass(frozen=True)
class OpenHandoff:
    """A lead's hand-off that is still pending or was accepted."""

    id: int
    status: str
    rep_slack_id: str | None
    unassigned_reason: str | None


def add_snapshots(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Records scores; gets their ids, in the order given."""
    if not rows:
        return []
    return insert_ids(session=session, model=ScoreSnapshot, rows=rows, key="lead_id")


def add_shadow_scores(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Records leads' scores under the shadow rules."""
    if rows:
        session.connection().execute(insert(table(ShadowScore)), list(rows))


def open_handoffs(*, session: Session, lead_ids: Iterable[int]) -> dict[int, OpenHandoff]:
    """Gets each lead's newest pending or accepted hand-off, for the leads that have one."""
    ids = list(lead_ids)
    if not ids:
        return {}
    handoffs, reps = table(Handoff), table(Rep)
    query = (
        select(
            handoffs.c.lead_id,
            handoffs.c.id,
            handoffs.c.status,
            reps.c.slack_id,
            handoffs.c.unassigned_reason,
        )
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(handoffs.c.lead_id.in_(ids), handoffs.c.status.in_(OPEN_STATUSES))
        .order_by(handoffs.c.id)
    )
    return {
        lead_id: OpenHandoff(handoff_id, status, slack_id, reason)
        for lead_id, handoff_id, status, slack_id, reason in session.connection().execute(query)
    }


def create_handoffs(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Creates pending hand-offs; gets their ids, in the order given."""
    if not rows:
        return []
    values = [
        {
            **row,
            "first_handed_at": row.get("first_handed_at") or row["created_at"],
            "status": HandoffStatus.PENDING,
        }
        for row in rows
    ]
    handoffs = table(Handoff)
    ids = insert_ids(session=session, model=Handoff, rows=values, key="lead_id")
    # A hand-off that starts a chain is its own chain.
    session.connection().execute(
        update(handoffs)
        .where(handoffs.c.id.in_(ids), handoffs.c.chain_id.is_(None))
        .values(chain_id=handoffs.c.id)
    )
    return ids


def _chain_of(handoff_id: int) -> Any:
    """A subquery: the chain id of a hand-off."""
    handoffs = table(Handoff)
    return select(handoffs.c.chain_id).where(handoffs.c.id == handoff_id).scalar_subquery()


@cache
def _chain_members() -> Any:
    """The hand-off table under another name, for the chain's ids (made once: an alias's
    columns are slow to build)."""
    return table(Handoff).alias("chain_member")


def _in_chain(handoff_id: int) -> ColumnElement[bool]:
    """A condition on the hand-off table: the row is the hand-off or one of its chain.

    Written as `id IN (the hand-off UNION its chain's ids)`, not as `id = … OR chain_id
    = …`: SQLite answers that OR by scanning the whole table (a card drawn at a million
    hand-offs took a tenth of a second), this through the primary key and the chain
    index."""
    handoffs, members = table(Handoff), _chain_members()
    chain = select(members.c.id).where(members.c.chain_id == _chain_of(handoff_id))
    return handoffs.c.id.in_(union(select(literal(handoff_id)), chain))


def record_posted(
    *, session: Session, handoff_id: int, channel: str, ts: str, posted_at: datetime
) -> None:
    """Records where a lead's card was posted (the first post only), on every hand-off of
    its chain: one card per lead."""
    handoffs = table(Handoff)
    session.connection().execute(
        update(handoffs)
        .where(
            _in_chain(handoff_id),
            handoffs.c.message_ts.is_(None),
        )
        .values(channel=channel, message_ts=ts, posted_at=posted_at)
    )


def posted_at(*, session: Session, handoff_id: int) -> tuple[str | None, str | None]:
    """Gets (channel, message ts) of a hand-off's card: its own when it has one (hand-offs
    from before chains each had a card), else the newest of its chain's; ts is None until
    it is posted."""
    handoffs = table(Handoff)
    own = (
        session.connection()
        .execute(
            select(handoffs.c.channel, handoffs.c.message_ts).where(handoffs.c.id == handoff_id)
        )
        .first()
    )
    if own is None or own.message_ts is not None:
        return (own.channel, own.message_ts) if own else (None, None)
    found = (
        select(handoffs.c.channel, handoffs.c.message_ts)
        .where(handoffs.c.chain_id == _chain_of(handoff_id), handoffs.c.message_ts.is_not(None))
        .order_by(handoffs.c.id.desc())
        .limit(1)
    )
    row = session.connection().execute(found).first()
    return (row.channel, row.message_ts) if row else (own.channel, None)


def card_on_its_way(*, session: Session, handoff_id: int) -> bool:
    """Tells whether the card of a hand-off's lead is still queued to be posted (due, in
    flight in another sender, or backing off), as opposed to posted or given up."""
    handoffs, outbox = table(Handoff), table(Outbox)
    query = (
        select(outbox.c.id)
        .join(handoffs, handoffs.c.id == outbox.c.handoff_id)
        .where(
            outbox.c.kind == OutboxKind.POST_CARD,
            outbox.c.status == OutboxStatus.PENDING,
            _in_chain(handoff_id),
        )
        .limit(1)
    )
    return session.connection().execute(query).first() is not None


def newest_of_chain(*, session: Session, handoff_id: int) -> int:
    """Gets the newest hand-off of a hand-off's chain (the one its card shows)."""
    handoffs = table(Handoff)
    query = select(handoffs.c.id).where(_in_chain(handoff_id))
    return int(max(session.connection().execute(query).scalars()))


@dataclass(frozen=True)
class Leg:
    """One hand-off of a lead's journey: who held it and how it ended."""

    id: int
    step: int
    rep_slack_id: str | None
    status: str
    moved_because: str | None
    created_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    first_handed_at: datetime


def journey(*, session: Session, handoff_id: int) -> list[Leg]:
    """Gets the hand-offs of a hand-off's chain, first to newest."""
    handoffs, reps = table(Handoff), table(Rep)
    query = (
        select(
            handoffs.c.id,
            handoffs.c.step,
            reps.c.slack_id.label("rep_slack_id"),
            handoffs.c.status,
            handoffs.c.moved_because,
            handoffs.c.created_at,
            handoffs.c.due_at,
            handoffs.c.decided_at,
            handoffs.c.decided_by,
            func.coalesce(handoffs.c.first_handed_at, handoffs.c.created_at).label(
                "first_handed_at"
            ),
        )
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(_in_chain(handoff_id))
        .order_by(handoffs.c.id)
    )
    return [Leg(**row._asdict()) for row in session.connection().execute(query)]


def pending_deadlines(
    *, session: Session, except_version: str | None
) -> list[tuple[int, str, datetime]]:
    """Gets (id, tier, created_at) of pending hand-offs whose deadlines came from another
    policy version."""
    handoffs = table(Handoff)
    differs = (
        handoffs.c.policy_version.is_not(None)
        if except_version is None
        else handoffs.c.policy_version.is_distinct_from(except_version)
    )
    query = select(handoffs.c.id, handoffs.c.tier, handoffs.c.created_at).where(
        handoffs.c.status == HandoffStatus.PENDING, differs
    )
    return [(row.id, row.tier, row.created_at) for row in session.connection().execute(query)]


def set_deadlines(*, session: Session, handoff_id: int, values: dict[str, object]) -> None:
    """Stores a hand-off's deadlines (due_at, warn_at, policy_version)."""
    handoffs = table(Handoff)
    session.connection().execute(
        update(handoffs).where(handoffs.c.id == handoff_id).values(**values)
    )


@dataclass(frozen=True)
class OverdueHandoff:
    """A pending hand-off past its warning time or deadline, with who to tell."""

    id: int
    tier: str
    due_at: datetime
    warn_at: datetime | None
    policy_version: str | None
    channel: str | None
    rep_slack_id: str | None
    manager_slack_id: str | None
    lead_id: int


def overdue(*, session: Session, now: datetime) -> list[OverdueHandoff]:
    """Gets pending hand-offs whose warning time or deadline has passed."""
    handoffs, reps = table(Handoff), table(Rep)
    query = (
        select(
            handoffs.c.id,
            handoffs.c.tier,
            handoffs.c.due_at,
            handoffs.c.warn_at,
            handoffs.c.policy_version,
            handoffs.c.channel,
            reps.c.slack_id,
            reps.c.manager_slack_id,
            handoffs.c.lead_id,
        )
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(
            # Two index ranges, (status, warn_at) and (status, due_at): the cost follows
            # what is due, not how many hand-offs are pending.
            or_(
                and_(handoffs.c.status == HandoffStatus.PENDING, handoffs.c.warn_at <= now),
                and_(handoffs.c.status == HandoffStatus.PENDING, handoffs.c.due_at <= now),
            ),
        )
        .order_by(handoffs.c.due_at)
    )
    return [OverdueHandoff(*row) for row in session.connection().execute(query)]


def successor_rep(*, session: Session, handoff_id: int, lead_id: int) -> str | None:
    """Gets the Slack id of the rep who got the lead after this hand-off (if anyone)."""
    handoffs, reps = table(Handoff), table(Rep)
    query = (
        select(reps.c.slack_id)
        .select_from(handoffs.outerjoin(reps, reps.c.id == handoffs.c.rep_id))
        .where(handoffs.c.lead_id == lead_id, handoffs.c.id > handoff_id)
        .order_by(handoffs.c.id)
        .limit(1)
    )
    return session.connection().execute(query).scalar()


def pending_of_away_reps(*, session: Session) -> list[tuple[int, bool]]:
    """Gets the pending hand-offs of reps who are out of office or no longer active, as
    (hand-off id, whether its rep is inactive)."""
    handoffs, reps = table(Handoff), table(Rep)
    # The few away reps first, then their hand-offs through the (rep_id, status) index:
    # the cost follows the away reps' queues, not every pending hand-off.
    away = {
        rep_id: not active
        for rep_id, active in session.connection().execute(
            select(reps.c.id, reps.c.active).where(
                or_(reps.c.out_of_office.is_(True), reps.c.active.is_(False))
            )
        )
    }
    if not away:
        return []
    query = (
        select(handoffs.c.id, handoffs.c.rep_id)
        .where(handoffs.c.rep_id.in_(list(away)), handoffs.c.status == HandoffStatus.PENDING)
        .order_by(handoffs.c.id)
    )
    return [(row.id, away[row.rep_id]) for row in session.connection().execute(query)]


def leave_pending(*, session: Session, handoff_id: int, values: dict[str, object]) -> bool:
    """Moves a hand-off out of `pending` (accepted, rejected, reassigned…) with `values`, in
    one conditional UPDATE: True for the one caller that wins when several try at once,
    False when it was no longer pending."""
    handoffs = table(Handoff)
    statement = (
        update(handoffs)
        .where(handoffs.c.id == handoff_id, handoffs.c.status == HandoffStatus.PENDING)
        .values(**values)
    )
    return session.connection().execute(statement).rowcount == 1


def owners_of(*, session: Session, lead_id: int) -> list[int]:
    """Gets the reps who have held a lead, in the order they got it (each once)."""
    handoffs = table(Handoff)
    query = (
        select(handoffs.c.rep_id)
        .where(handoffs.c.lead_id == lead_id, handoffs.c.rep_id.is_not(None))
        .order_by(handoffs.c.id)
    )
    return list(dict.fromkeys(int(rep) for rep in session.connection().execute(query).scalars()))
