"""The database as the processes open it: migrations applied at start, one explanation
when it cannot be reached, and a context manager that always disposes of the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import make_engine
from store.migrate import current_revision, head_revision, upgrade

HINT = "Check DATABASE_URL (e.g. sqlite:///handoff.db or postgresql+psycopg://user@host/db)."


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message says which and what to check."""


def shown_url(url: str) -> str:
    """Gets a database URL fit to print (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(url: str, exc: OperationalError) -> DatabaseUnavailable:
    """Gets the error to show for a database that cannot be reached."""
    return DatabaseUnavailable(f"{shown_url(url)}: cannot reach the database: {exc.orig}\n{HINT}")


def open_database(database_url: str, *, migrate: bool = True) -> tuple[Engine, str | None]:
    """Connects and applies pending migrations; gets the engine and its revision. Without
    `migrate` nothing is changed: a database that is missing or not up to date is refused."""
    if not migrate:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
            raise DatabaseUnavailable(f"{shown_url(database_url)}: no such database file")
    engine = make_engine(database_url)
    try:
        revision = upgrade(engine) if migrate else current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise unavailable(database_url, exc) from None
    if not migrate and revision != (newest := head_revision()):
        engine.dispose()
        raise DatabaseUnavailable(
            f"{shown_url(database_url)}: at revision {revision or '(empty)'}, not the newest "
            f"({newest}): run `handoff db upgrade` first"
        )
    return engine, revision


@contextmanager
def database(database_url: str, *, migrate: bool = True) -> Iterator[Engine]:
    """An engine on the database, up to date, disposed of when the block ends (without
    `migrate`, a database not up to date is refused rather than upgraded)."""
    engine, _ = open_database(database_url, migrate=migrate)
    try:
        yield engine
    finally:
        engine.dispose()


def revisions(database_url: str, *, upgrade_first: bool) -> tuple[str | None, str | None]:
    """Gets the database's migration revision and the newest one, after applying pending
    migrations when asked (`handoff db upgrade`); raises DatabaseUnavailable."""
    engine = make_engine(database_url)
    try:
        revision = upgrade(engine) if upgrade_first else current_revision(engine)
    except OperationalError as exc:
        raise unavailable(database_url, exc) from None
    finally:
        engine.dispose()
    return revision, head_revision()
