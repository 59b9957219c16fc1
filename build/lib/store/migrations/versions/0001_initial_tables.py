"""Initial tables: lead, activity, score_snapshot, rep, handoff, outbox, notification, outcome.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_system", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("company", sa.String(length=300), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("industry", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_system", "external_id", name="uq_lead_source"),
    )
    op.create_table(
        "rep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("manager_slack_id", sa.String(length=50), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("territories", JSONType, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("out_of_office", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("last_assigned_seq", sa.Integer(), nullable=False),
        sa.Column("in_config", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slack_id"),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("properties", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "external_id", name="uq_activity_event"),
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "stage", name="uq_outcome_stage"),
    )
    op.create_index("ix_outcome_lead_id", "outcome", ["lead_id"], unique=False)

    op.create_table(
        "score_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("fit", sa.Float(), nullable=False),
        sa.Column("intent", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("routable", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.String(length=1000), nullable=True),
        sa.Column("factors", JSONType, nullable=False),
        sa.Column("rules_version", sa.String(length=100), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_score_snapshot_lead_id", "score_snapshot", ["lead_id"], unique=False)

    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("unassigned_reason", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("message_ts", sa.String(length=50), nullable=True),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("warn_at", UTCDateTime(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=50), nullable=True),
        sa.Column("reject_reason", sa.String(length=100), nullable=True),
        sa.Column("reject_note", sa.String(length=3000), nullable=True),
        sa.Column("policy_version", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["rep_id"],
            ["rep.id"],
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["score_snapshot.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_lead_id", "handoff", ["lead_id"], unique=False)
    op.create_index("ix_handoff_rep_status", "handoff", ["rep_id", "status"], unique=False)
    op.create_index("ix_handoff_status_due", "handoff", ["status", "due_at"], unique=False)
    op.create_index(
        "uq_handoff_one_pending",
        "handoff",
        ["lead_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notification_handoff_id", "notification", ["handoff_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_outbox_handoff_id", "outbox", ["handoff_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_handoff_id", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")

    op.drop_table("outbox")
    op.drop_index("ix_notification_handoff_id", table_name="notification")

    op.drop_table("notification")
    op.drop_index(
        "uq_handoff_one_pending",
        table_name="handoff",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_handoff_status_due", table_name="handoff")
    op.drop_index("ix_handoff_rep_status", table_name="handoff")
    op.drop_index("ix_handoff_lead_id", table_name="handoff")

    op.drop_table("handoff")
    op.drop_index("ix_score_snapshot_lead_id", table_name="score_snapshot")

    op.drop_table("score_snapshot")
    op.drop_index("ix_outcome_lead_id", table_name="outcome")

    op.drop_table("outcome")
    op.drop_table("activity")
    op.drop_table("rep")
    op.drop_table("lead")
