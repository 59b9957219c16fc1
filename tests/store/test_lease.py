"""The single-worker lease on SQLite (a row that expires) and PostgreSQL (advisory lock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from store.db import is_sqlite
from store.lease import AdvisoryLease, TableLease, make_lease
from tests.helpers import wait_for

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_table_lease_is_exclusive_renewable_and_expires(engine: Engine) -> None:
    first, second = TableLease(engine, "a", TTL), TableLease(engine, "b", TTL)
    assert first.acquire(at(0))
    assert not second.acquire(at(1))
    assert first.acquire(at(10))  # renewed: now expires at 40 s
    assert not second.acquire(at(35))
    assert second.acquire(at(41))  # the first stopped renewing: taken over
    assert not first.acquire(at(42))
    second.release()
    assert first.acquire(at(43))


def test_lease_fits_the_database_and_an_advisory_lock_is_freed_with_its_holder(
    engine: Engine,
) -> None:
    lease = make_lease(engine, holder="x", ttl=TTL)
    if is_sqlite(engine):
        assert isinstance(lease, TableLease)  # SQLite: the table lease, tested above
        return
    assert isinstance(lease, AdvisoryLease)
    first, second = AdvisoryLease(engine), AdvisoryLease(engine)
    assert first.acquire(at(0))
    assert first.acquire(at(1))
    assert not second.acquire(at(1))
    first.release()
    assert second.acquire(at(2))
    assert second.connection is not None
    second.connection.invalidate()  # the process died: its connection is gone
    # The server frees the lock once it sees the connection close: soon, not at once.
    assert wait_for(lambda: first.acquire(at(3)), timeout=10)
    first.release()
