"""Waking the worker across processes: on PostgreSQL, a transaction that queues outbox
entries or lead events sends NOTIFY on one channel (delivered at commit, once per
transaction however many it queued), and the worker LISTENs on it, so a card queued by a
web-only process goes out at once instead of at the worker's next tick. SQLite has no
NOTIFY: there the worker reads the file's change counter (PRAGMA data_version) every 50 ms
and wakes when another connection committed, so a card queued by another process (an
import, say) goes out within that. Within the same process the wake is direct
(bot.runtime.worker).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlmodel import Session

log = logging.getLogger(__name__)

CHANNEL = "handoff_outbox"
RECONNECT_S = 5.0
WATCH_EVERY_S = 0.05  # SQLite: how often the worker looks at the file's change counter


def notify_workers(session: Session) -> None:
    """Tells the worker, at commit, that there is something to send (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def listens(engine: Engine) -> bool:
    """Tells whether other processes' work can wake the worker: PostgreSQL (NOTIFY), or a
    SQLite file (its change counter); not an in-memory SQLite database."""
    if engine.dialect.name == "postgresql":
        return True
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def listen(
    engine: Engine,
    on_notify: Callable[[], None],
    stopping: threading.Event,
    ready: threading.Event | None = None,
) -> None:
    """LISTENs until `stopping` is set, calling `on_notify` for each notification (run it
    in a thread; `ready` is set once it listens). A lost connection is opened again after
    RECONNECT_S seconds; meanwhile the worker's tick still finds the work."""
    if engine.dialect.name == "sqlite":
        _watch_sqlite(engine, on_notify, stopping, ready)
        return
    import psycopg  # the PostgreSQL driver; only this database needs it

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stopping.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                if ready is not None:
                    ready.set()
                while not stopping.is_set():
                    for _ in connection.notifies(timeout=0.5, stop_after=1):
                        on_notify()
        except psycopg.Error as exc:
            log.warning(
                "worker: LISTEN %s failed (%s); retrying in %.0f s", CHANNEL, exc, RECONNECT_S
            )
            stopping.wait(RECONNECT_S)


def _watch_sqlite(
    engine: Engine,
    on_change: Callable[[], None],
    stopping: threading.Event,
    ready: threading.Event | None,
) -> None:
    """Calls `on_change` within WATCH_EVERY_S of any other connection committing a change
    to the SQLite file (`PRAGMA data_version`: a read of a counter, not of a table)."""
    connection = sqlite3.connect(str(engine.url.database), timeout=5, check_same_thread=False)
    try:
        seen = connection.execute("PRAGMA data_version").fetchone()[0]
        if ready is not None:
            ready.set()
        while not stopping.wait(WATCH_EVERY_S):
            try:
                version = connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error as exc:  # the file is busy or gone: the tick covers it
                log.debug("worker: data_version unreadable (%s)", exc)
                continue
            if version != seen:
                seen = version
                on_change()
    finally:
        connection.close()
