"""The single-worker lease: exactly one process runs the background jobs.

SQLite: a row in `worker_lease`, taken and renewed in BEGIN IMMEDIATE transactions
(see store.db), expiring `ttl` after its last renewal, so a worker that dies is replaced
by a waiting one. PostgreSQL: `pg_try_advisory_lock` on a connection kept open by the
holder; the server releases it the moment that connection or process goes away.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, insert, text, update
from sqlalchemy.exc import DBAPIError

from store.db import is_sqlite
from store.models import WorkerLease, table

LEASE_NAME = "worker"
ADVISORY_LOCK_ID = 724_311_002  # one number for this project's worker lock


class Lease(Protocol):
    """A lease one process holds at a time."""

    def acquire(self, now: datetime) -> bool:
        """Takes or renews the lease; tells whether this process holds it now."""
        ...

    def release(self) -> None:
        """Gives the lease up (a dead process's lease expires or is freed on its own)."""
        ...


class TableLease:
    """The lease as a row with an expiry time."""

    def __init__(self, engine: Engine, holder: str, ttl: timedelta) -> None:
        self.engine, self.holder, self.ttl = engine, holder, ttl

    def acquire(self, now: datetime) -> bool:
        """Renews our lease, or takes an expired one, or the first one."""
        leases = table(WorkerLease)
        values = {"holder": self.holder, "expires_at": now + self.ttl}
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(leases)
                .where(
                    leases.c.name == LEASE_NAME,
                    (leases.c.holder == self.holder) | (leases.c.expires_at < now),
                )
                .values(**values)
            ).rowcount
            if taken:
                return True
            exists = connection.execute(leases.select().where(leases.c.name == LEASE_NAME)).first()
            if exists is None:
                connection.execute(insert(leases).values(name=LEASE_NAME, **values))
                return True
        return False

    def release(self) -> None:
        """Lets the lease expire now."""
        leases = table(WorkerLease)
        with self.engine.begin() as connection:
            connection.execute(
                leases.delete().where(leases.c.name == LEASE_NAME, leases.c.holder == self.holder)
            )


class AdvisoryLease:
    """The lease as a PostgreSQL advisory lock on a connection this process keeps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def acquire(self, now: datetime) -> bool:
        """Checks our lock is still ours, or tries to take it."""
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                self.connection = None  # the connection (and with it the lock) is gone
        connection = self.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID}
        ).scalar()
        connection.commit()
        if got:
            self.connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        """Unlocks and closes the connection."""
        if self.connection is not None:
            # Closing a pooled connection keeps the database session (and its lock) alive
            # in the pool, so unlock explicitly; a broken connection is dropped instead.
            try:
                self.connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID}
                )
                self.connection.commit()
            except DBAPIError:
                self.connection.invalidate()
            self.connection.close()
            self.connection = None


def make_lease(engine: Engine, *, holder: str, ttl: timedelta) -> Lease:
    """Gets the lease fit for the database."""
    return TableLease(engine, holder, ttl) if is_sqlite(engine) else AdvisoryLease(engine)
