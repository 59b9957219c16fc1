"""Queries on reps: syncing them from the config, and their state for routing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlmodel import Session, col

from store.models import Handoff, HandoffStatus, Rep, table


@dataclass
class RepSlot:
    """A rep as routing sees them: eligibility, their turn, and their pending load.

    `pending` is exact up to `capacity` (counting further is never needed), and 0 for a
    rep without a capacity.
    """

    id: int
    slack_id: str
    active: bool
    out_of_office: bool
    territories: list[str] = field(default_factory=list)
    capacity: int | None = None
    position: int = 0
    turn: int = 0
    pending: int = 0
    name: str = ""


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


def configured_reps(*, session: Session) -> list[Rep]:
    """Gets the reps currently in the config."""
    return list(session.scalars(select(Rep).where(col(Rep.in_config).is_(True))))


def find_rep(*, session: Session, slack_id: str) -> Rep | None:
    """Gets a rep by Slack user id."""
    return session.scalars(select(Rep).where(col(Rep.slack_id) == slack_id)).first()


def routing_slots(*, session: Session, lock: bool = True) -> list[RepSlot]:
    """Gets every rep in the config as a routing slot (`lock=False`: only to look).

    The rows stay locked (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises
    writers) until the transaction ends, so two processes routing at once take turns
    instead of handing two leads to the same rep.
    """
    reps, handoffs = table(Rep), table(Handoff)
    # Pending hand-offs are counted only for reps with a capacity; routing keeps those at
    # or under it, so each count reads an index range bounded by capacity, not history.
    pending = (
        select(func.count())
        .where(handoffs.c.rep_id == reps.c.id, handoffs.c.status == HandoffStatus.PENDING)
        .scalar_subquery()
    )
    load = case((reps.c.capacity.is_(None), 0), else_=pending).label("pending")
    # Locked in one fixed order (by id): two transactions routing at once on PostgreSQL
    # wait for each other instead of deadlocking.
    query = select(reps, load).where(reps.c.in_config.is_(True)).order_by(reps.c.id)
    if lock:
        query = query.with_for_update(of=reps)
    return [
        RepSlot(
            id=rep.id,
            slack_id=rep.slack_id,
            active=rep.active,
            out_of_office=rep.out_of_office,
            territories=list(rep.territories or []),
            capacity=rep.capacity,
            position=rep.position,
            turn=rep.last_assigned_seq,
            pending=rep.pending,
            name=rep.name,
        )
        for rep in session.connection().execute(query)
    ]


def save_turns(*, session: Session, turns: Mapping[int, int]) -> None:
    """Stores reps' new round-robin turns ({rep id: turn})."""
    if turns:
        reps = table(Rep)
        statement = (
            update(reps)
            .where(reps.c.id == bindparam("rep_id"))
            .values(last_assigned_seq=bindparam("turn"))
        )
        rows = [{"rep_id": rep_id, "turn": turn} for rep_id, turn in turns.items()]
        session.connection().execute(statement, rows)


def set_out_of_office(*, session: Session, slack_id: str, away: bool) -> Rep | None:
    """Marks a rep out of office (or back); gets the rep, or None if unknown."""
    rep = find_rep(session=session, slack_id=slack_id)
    if rep is not None:
        rep.out_of_office = away
        session.add(rep)
        session.flush()
    return rep
