"""Shadow scores: every new lead scored by a candidate rule set beside the live one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("routable", sa.Boolean(), nullable=False),
        sa.Column("rules_version", sa.String(length=100), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["score_snapshot.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shadow_score_lead_id", "shadow_score", ["lead_id"], unique=False)
    op.create_index("ix_shadow_score_snapshot_id", "shadow_score", ["snapshot_id"], unique=False)
    op.create_index("ix_shadow_score_computed_at", "shadow_score", ["computed_at"], unique=False)


def downgrade() -> None:
    op.drop_table("shadow_score")
