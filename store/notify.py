"""Waking the worker across processes: on PostgreSQL, a transaction that queues outbox
entries or lead events sends NOTIFY on one channel (delivered at commit, once per
transaction however many it queued), and the worker LISTENs on it, so a card queued by a
web-only process goes out at once instead of at the worker's next tick. SQLite has no such
thing: there the worker's one-second tick finds the entry (within the same process, the
wake is direct: bot.runtime.worker).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlmodel import Session

log = logging.getLogger(__name__)

CHANNEL = "handoff_outbox"
RECONNECT_S = 5.0


def notify_workers(session: Session) -> None:
    """Tells the worker, at commit, that there is something to send (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def listens(engine: Engine) -> bool:
    """Tells whether the database can wake the worker (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


def listen(
    engine: Engine,
    on_notify: Callable[[], None],
    stopping: threading.Event,
    ready: threading.Event | None = None,
) -> None:
    """LISTENs until `stopping` is set, calling `on_notify` for each notification (run it
    in a thread; `ready` is set once it listens). A lost connection is opened again after
    RECONNECT_S seconds; meanwhile the worker's tick still finds the work."""
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
