"""The one place engines are made: SQLite (the embedded default) or PostgreSQL.

SQLite is set up for several processes sharing one file:
- WAL journal, so readers never block the writer and the writer never blocks readers;
- a busy timeout, so a writer waits for the lock instead of failing;
- every transaction opened with BEGIN IMMEDIATE. pysqlite's default (a deferred BEGIN,
  upgraded to a write lock at the first write) can fail with "database is locked" even
  with a busy timeout, when two readers both try to upgrade: SQLite cannot wait for a
  lock the other holds. Taking the write lock up front makes the busy timeout effective.
  This is SQLAlchemy's documented recipe ("Serializable isolation / Savepoints /
  Transactional DDL" in the pysqlite dialect docs).
- foreign keys enforced (off by default in SQLite);
- synchronous=NORMAL, which in WAL mode survives any crash of the application and loses
  at most the last commits on a power cut or OS crash (https://sqlite.org/wal.html).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, QueuePool, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///handoff.db"
SQLITE_BUSY_TIMEOUT_S = 30.0


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    """Creates the engine for a database URL (sqlite:///FILE or postgresql+psycopg://...)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        # `postgresql://` would pick psycopg2, which is not installed; psycopg 3 is.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    # One connection per process. Every transaction takes the write lock up front, so
    # only one can run at a time anyway; with one pooled connection, a process's threads
    # queue for it in order, instead of each holding a connection and polling SQLite's
    # busy handler, which sleeps up to 100 ms between tries (p99 latency in the seconds
    # under 16 concurrent requests). Other processes still wait on the busy timeout.
    pool = {"poolclass": QueuePool, "pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
    engine = create_engine(url, connect_args=connect_args, **{**pool, **kwargs})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine: Engine) -> bool:
    """Tells whether the engine is SQLite."""
    return engine.dialect.name == "sqlite"
