"""Whether the database can be written right now, asked cheaply and briefly: /healthz
must answer within seconds even while another process holds a lock."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from sqlalchemy import Engine, text

PROBE = "healthz-probe"


def probe_write(engine: Engine, *, timeout_s: float) -> None:
    """Writes a row in a transaction that is rolled back; raises when the database cannot
    be written (read-only, full, locked longer than `timeout_s`, down)."""
    now = datetime.now(UTC).isoformat()
    if engine.dialect.name == "sqlite":
        # Its own short-lived connection: the app's pool (one connection) may be busy,
        # and the busy timeout must be short here.
        path = engine.url.database or ":memory:"
        uri = str(engine.url.query.get("uri", "")).lower() == "true"  # file:…?mode=ro
        if uri:
            options = "&".join(f"{k}={v}" for k, v in engine.url.query.items() if k != "uri")
            path = f"{path}?{options}" if options else path
        lite = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, uri=uri)
        try:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute(
                "INSERT INTO worker_lease (name, holder, expires_at) VALUES (?, ?, ?)",
                (PROBE, PROBE, now),
            )
            lite.execute("ROLLBACK")
        finally:
            lite.close()
        return
    milliseconds = int(timeout_s * 1000)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
            conn.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
            conn.execute(
                text(
                    "INSERT INTO worker_lease (name, holder, expires_at)"
                    " VALUES (:name, :name, now())"
                ),
                {"name": PROBE},
            )
        finally:
            transaction.rollback()
