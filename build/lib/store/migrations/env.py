"""Alembic environment: run by `store.migrate.upgrade`, on the connection it passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

# Any number taken once for this project: processes that start together (web and
# worker) queue on it instead of racing to create the same tables on PostgreSQL.
MIGRATION_LOCK_ID = 724_311_001


def run(connection: Connection) -> None:
    """Runs the migrations on one connection, in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `handoff db upgrade`, not the alembic command")
run(connection)
