"""A lead's journey (the chain of its hand-offs, why each move happened) and the feedback
sales owes after Accept.

Existing hand-offs are chained as the application would have: a hand-off that follows a
reassigned one of the same lead continues its chain.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.add_column(sa.Column("chain_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_handed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("step", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("moved_because", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("feedback_due_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("feedback_next_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("feedback_asks", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("feedback", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("feedback_at", UTCDateTime(), nullable=True))
        batch.add_column(
            # A literal default: an SQL expression would make Alembic rebuild the table on
            # SQLite, and dropping `handoff` fails on the outbox rows that point at it.
            sa.Column("feedback_postponed", sa.Boolean(), nullable=False, server_default="0")
        )
    op.create_index("ix_handoff_chain_id", "handoff", ["chain_id"], unique=False)
    op.create_index("ix_handoff_feedback_next_at", "handoff", ["feedback_next_at"], unique=False)
    _chain_existing()


def _chain_existing() -> None:
    """Links each lead's hand-offs that followed a move into one chain."""
    bind = op.get_bind()
    handoff = sa.table(
        "handoff",
        sa.column("id", sa.Integer()),
        sa.column("lead_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", UTCDateTime()),
        sa.column("chain_id", sa.Integer()),
        sa.column("first_handed_at", UTCDateTime()),
        sa.column("step", sa.Integer()),
    )
    rows = bind.execute(
        sa.select(handoff.c.id, handoff.c.lead_id, handoff.c.status, handoff.c.created_at).order_by(
            handoff.c.lead_id, handoff.c.id
        )
    ).all()
    updates: list[dict[str, object]] = []
    previous = None  # (lead_id, status, chain_id, first_handed_at, step)
    for row in rows:
        if previous is not None and previous[0] == row.lead_id and previous[1] == "reassigned":
            chain, first, step = previous[2], previous[3], previous[4] + 1
        else:
            chain, first, step = row.id, row.created_at, 1
        updates.append({"b_id": row.id, "b_chain": chain, "b_first": first, "b_step": step})
        previous = (row.lead_id, row.status, chain, first, step)
    statement = (
        handoff.update()
        .where(handoff.c.id == sa.bindparam("b_id"))
        .values(
            chain_id=sa.bindparam("b_chain"),
            first_handed_at=sa.bindparam("b_first"),
            step=sa.bindparam("b_step"),
        )
    )
    for start in range(0, len(updates), BATCH):
        bind.execute(statement, updates[start : start + BATCH])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Dropping columns rebuilds the table on SQLite: the rows that point at hand-offs
        # (outbox, notifications) are checked at commit, once the table is back.
        op.execute("PRAGMA defer_foreign_keys = ON")
    op.drop_index("ix_handoff_feedback_next_at", table_name="handoff")
    op.drop_index("ix_handoff_chain_id", table_name="handoff")
    with op.batch_alter_table("handoff") as batch:
        for column in (
            "feedback_postponed",
            "feedback_at",
            "feedback",
            "feedback_asks",
            "feedback_next_at",
            "feedback_due_at",
            "moved_because",
            "step",
            "first_handed_at",
            "chain_id",
        ):
            batch.drop_column(column)
