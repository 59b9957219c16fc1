"""Indexes for the digest: hand-offs and leads by creation time (every metric is a period).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_handoff_created", "handoff", ["created_at"], unique=False)
    op.create_index("ix_lead_created", "lead", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_lead_created", table_name="lead")
    op.drop_index("ix_handoff_created", table_name="handoff")
