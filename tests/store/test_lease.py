"""The single-worker lease: a row that its holder renews and that expires, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from store.lease import TableLease, lease_state

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
    assert second.acquire(at(41))  # the first stopped renewing (dead or frozen): taken over
    assert not first.acquire(at(42))  # the frozen one wakes up and learns it lost
    second.release()
    assert first.acquire(at(43))


def test_the_lease_tells_who_holds_it_since_when_and_their_last_renewal(engine: Engine) -> None:
    lease = TableLease(engine, "host:7:abc", TTL)
    with Session(engine) as session:
        assert lease_state(session=session) is None
    assert lease.acquire(at(0))
    assert lease.acquire(at(20))
    with Session(engine) as session:
        state = lease_state(session=session)
    assert state is not None
    assert state.report(at(25)) == {
        "holder": "host:7:abc",
        "held_s": 25,
        "renewed_s_ago": 5,
        "expired": False,
    }
    assert state.report(at(51))["expired"]
    lease.release()
    with Session(engine) as session:
        assert lease_state(session=session) is None


def test_of_many_workers_starting_at_once_exactly_one_takes_the_lease(engine: Engine) -> None:
    """The first-ever row, inserted by all of them at the same moment, and then an expired
    row, taken by all of them at the same moment."""
    for moment in (at(0), at(100)):
        won = _race(engine, [f"w{i}-{moment.second}" for i in range(8)], moment)
        assert len(won) == 1, won


def _race(engine: Engine, names: list[str], moment: datetime) -> list[str]:
    """Gets who took the lease of `names` trying at the same moment."""
    start = threading.Barrier(len(names))
    won: list[str] = []

    def compete(name: str) -> None:
        lease = TableLease(engine, name, TTL)
        start.wait()
        if lease.acquire(moment):
            won.append(name)

    threads = [threading.Thread(target=compete, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won
