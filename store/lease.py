"""The single-worker lease: exactly one process runs the background jobs.

A row in `worker_lease`, on SQLite and PostgreSQL alike: the holder renews it every
third of its time to live; one that stops renewing, because it died or because it is
frozen (SIGSTOP, a paused container, a stalled VM), is replaced when the row expires.
Each renewal is its own short transaction, so no connection is held between them.
(An advisory lock on PostgreSQL was freed when its holder died, but a frozen holder kept
it, and with it the jobs, forever.)

SQLite takes the row in BEGIN IMMEDIATE transactions (see store.db); PostgreSQL's row
lock makes the conditional UPDATE atomic, and two first-ever inserts collide on the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.models import WorkerLease, table

LEASE_NAME = "worker"


class TableLease:
    """The lease as a row with an expiry time."""

    def __init__(self, engine: Engine, holder: str, ttl: timedelta) -> None:
        self.engine, self.holder, self.ttl = engine, holder, ttl

    def acquire(self, now: datetime) -> bool:
        """Renews our lease, or takes an expired one, or the first one; tells whether this
        process holds it now."""
        leases = table(WorkerLease)
        expires = now + self.ttl
        try:
            with self.engine.begin() as connection:
                renewed = connection.execute(
                    update(leases)
                    .where(leases.c.name == LEASE_NAME, leases.c.holder == self.holder)
                    .values(expires_at=expires, renewed_at=now)
                ).rowcount
                if renewed:
                    return True
                taken = connection.execute(
                    update(leases)
                    .where(leases.c.name == LEASE_NAME, leases.c.expires_at < now)
                    .values(holder=self.holder, expires_at=expires, taken_at=now, renewed_at=now)
                ).rowcount
                if taken:
                    return True
                exists = connection.execute(
                    select(leases.c.name).where(leases.c.name == LEASE_NAME)
                ).first()
                if exists is not None:
                    return False
                connection.execute(
                    insert(leases).values(
                        name=LEASE_NAME,
                        holder=self.holder,
                        expires_at=expires,
                        taken_at=now,
                        renewed_at=now,
                    )
                )
                return True
        except IntegrityError:  # another process inserted the first row at the same moment
            return False

    def release(self) -> None:
        """Gives the lease up now, so a waiting worker takes over at its next try."""
        leases = table(WorkerLease)
        with self.engine.begin() as connection:
            connection.execute(
                leases.delete().where(leases.c.name == LEASE_NAME, leases.c.holder == self.holder)
            )


@dataclass(frozen=True)
class LeaseState:
    """Who holds the lease, for how long, and when they last renewed it."""

    holder: str
    taken_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime

    def report(self, now: datetime) -> dict[str, Any]:
        """Gets the lease as /healthz shows it (ages in whole seconds)."""

        def age(moment: datetime | None) -> int | None:
            return None if moment is None else max(int((now - moment).total_seconds()), 0)

        return {
            "holder": self.holder,
            "held_s": age(self.taken_at),
            "renewed_s_ago": age(self.renewed_at),
            "expired": self.expires_at < now,
        }


def lease_state(*, session: Session) -> LeaseState | None:
    """Gets the worker lease as it stands (None: no worker has run or the last one
    stopped and gave it up)."""
    leases = table(WorkerLease)
    row = (
        session.connection()
        .execute(
            select(
                leases.c.holder, leases.c.taken_at, leases.c.renewed_at, leases.c.expires_at
            ).where(leases.c.name == LEASE_NAME)
        )
        .first()
    )
    return None if row is None else LeaseState(*row)
