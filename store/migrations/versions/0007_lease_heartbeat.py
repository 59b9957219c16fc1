"""The worker lease on both databases: when it was taken and last renewed, so /healthz can
tell who runs the background jobs and whether they are alive.

PostgreSQL used an advisory lock, which a frozen (stopped, not dead) leader kept forever;
it now uses the same expiring row as SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("worker_lease") as batch:
        batch.add_column(sa.Column("taken_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("renewed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_lease") as batch:
        batch.drop_column("renewed_at")
        batch.drop_column("taken_at")
