"""The worker is woken across processes: NOTIFY at commit on PostgreSQL, LISTEN in the
worker; on a SQLite file, the worker watches its change counter (PRAGMA data_version)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from store.db import make_engine
from store.models import OutboxKind
from store.notify import listen, listens, notify_workers
from store.outbox import OutboxEntry, enqueue
from tests.helpers import wait_for

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_a_committed_enqueue_wakes_a_listener_on_another_connection(engine: Engine) -> None:
    assert listens(engine)
    woken: list[int] = []
    stopping, ready = threading.Event(), threading.Event()
    other = make_engine(engine.url.render_as_string(hide_password=False))  # another "process"
    listener = threading.Thread(
        target=listen, args=(other, lambda: woken.append(1), stopping, ready)
    )
    listener.start()
    try:
        assert ready.wait(timeout=15), "the listener never listened"
        with Session(engine) as session:  # a transaction that is rolled back wakes no one
            enqueue(
                session=session, entries=[OutboxEntry(OutboxKind.NOTICE, "C1", None, {})], now=NOW
            )
            session.rollback()
        with Session(engine) as session:
            entries = [OutboxEntry(OutboxKind.NOTICE, "C1", None, {"n": n}) for n in range(3)]
            enqueue(session=session, entries=entries, now=NOW)
            assert not woken  # not before the commit
            session.commit()
        wait_for(lambda: woken)
        assert len(woken) == 1  # once a transaction, however many entries it queued
    finally:
        stopping.set()
        listener.join(timeout=10)
        other.dispose()


def test_an_in_memory_sqlite_database_has_no_one_to_wake() -> None:
    memory = make_engine("sqlite://")
    try:
        assert not listens(memory)  # no other process can share it
        with Session(memory) as session:  # nothing to send, nothing fails
            notify_workers(session)
            session.commit()
    finally:
        memory.dispose()
