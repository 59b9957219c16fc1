"""Queries on reps: syncing them from the config, and their load for routing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from store.models import Handoff, HandoffStatus, Rep


@dataclass(frozen=True)
class RepLoad:
    """A rep with what routing needs to know: their pending hand-offs."""

    rep: Rep
    pending: int


def sync_reps(*, session: Session, reps: Sequence[dict[str, Any]]) -> list[Rep]:
    """Makes the Rep table match the config: adds and updates reps, retires missing ones.

    A rep removed from the config keeps its row (hand-offs point at it) but takes no
    new leads. Out-of-office and the round-robin turn are runtime state, kept as is.
    """
    existing = {rep.slack_id: rep for rep in session.scalars(select(Rep))}
    synced = []
    for position, values in enumerate(reps):
        rep = existing.pop(values["slack_id"], None) or Rep(slack_id=values["slack_id"], name="")
        for key, value in values.items():
            setattr(rep, key, value)
        rep.position = position
        rep.in_config = True
        session.add(rep)
        synced.append(rep)
    for retired in existing.values():
        retired.in_config = False
        session.add(retired)
    session.flush()
    return synced


def find_rep(*, session: Session, slack_id: str) -> Rep | None:
    """Gets a rep by Slack user id."""
    return session.scalars(select(Rep).where(col(Rep.slack_id) == slack_id)).first()


def routing_candidates(*, session: Session) -> list[RepLoad]:
    """Gets every rep in the config with their pending hand-off count, in round-robin order.

    The rows stay locked (FOR UPDATE on PostgreSQL) until the transaction ends, so two
    processes routing at once take turns instead of handing two leads to the same rep.
    """
    pending = (
        select(col(Handoff.rep_id), func.count().label("pending"))
        .where(col(Handoff.status) == HandoffStatus.PENDING, col(Handoff.rep_id).is_not(None))
        .group_by(col(Handoff.rep_id))
        .subquery()
    )
    query = (
        select(Rep, func.coalesce(pending.c.pending, 0))
        .outerjoin(pending, pending.c.rep_id == col(Rep.id))
        .where(col(Rep.in_config).is_(True))
        .order_by(col(Rep.last_assigned_seq), col(Rep.position))
        .with_for_update(of=Rep)
    )
    return [RepLoad(rep=rep, pending=count) for rep, count in session.execute(query)]


def mark_assigned(*, session: Session, rep: Rep) -> None:
    """Moves a rep to the back of the round-robin queue."""
    newest = session.scalar(select(func.coalesce(func.max(col(Rep.last_assigned_seq)), 0)))
    turn = (newest or 0) + 1
    session.execute(update(Rep).where(col(Rep.id) == rep.id).values(last_assigned_seq=turn))
    session.refresh(rep)


def set_out_of_office(*, session: Session, slack_id: str, away: bool) -> Rep | None:
    """Marks a rep out of office (or back); gets the rep, or None if unknown."""
    rep = find_rep(session=session, slack_id=slack_id)
    if rep is not None:
        rep.out_of_office = away
        session.add(rep)
        session.flush()
    return rep
