"""The database layer on SQLite and PostgreSQL: migrations, types, locking."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import DateTime, Engine, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel

from store.db import make_engine
from store.migrate import current_revision, head_revision, upgrade
from store.models import Handoff, Lead, ScoreSnapshot
from store.types import UTCDateTime
from tests.helpers import REPO


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    assert upgrade(engine) == head_revision()


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    local = datetime.fromisoformat("2026-11-20T10:00:00-05:00")
    with Session(engine) as session:
        session.add(Lead(source_system="s", external_id="1", created_at=local, updated_at=local))
        session.commit()
    with Session(engine) as session:
        lead = session.scalars(select(Lead)).one()
        assert lead.created_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        assert lead.created_at.tzinfo is UTC


def test_sqlite_stores_datetimes_as_sqlalchemy_datetime_text() -> None:
    # UTCDateTime binds in one step on SQLite: the text must stay what DATETIME wrote.
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    plus_two = timezone(timedelta(hours=2))
    for value in (
        datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 20, 9, 30, 1, 5, tzinfo=plus_two),
        datetime(999, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    ):
        expected = theirs(value.astimezone(UTC).replace(tzinfo=None))
        assert ours(value) == ours(value) == expected
    assert ours(None) is None


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Lead(source_system="s", external_id="1", created_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def _lead_with_snapshot(session: Session) -> tuple[Lead, ScoreSnapshot]:
    lead = Lead(source_system="s", external_id="1")
    session.add(lead)
    session.flush()
    assert lead.id is not None
    snapshot = ScoreSnapshot(
        lead_id=lead.id,
        fit=1,
        intent=1,
        total=2,
        tier="mql",
        routable=True,
        rules_version="v",
        computed_at=datetime.now(UTC),
    )
    session.add(snapshot)
    session.flush()
    return lead, snapshot


def test_at_most_one_pending_handoff_per_lead(engine: Engine) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        lead, snapshot = _lead_with_snapshot(session)
        assert lead.id is not None
        assert snapshot.id is not None
        lead_id, snapshot_id = lead.id, snapshot.id
        for status in ("accepted", "pending"):
            session.add(
                Handoff(
                    lead_id=lead_id,
                    snapshot_id=snapshot_id,
                    tier="mql",
                    status=status,
                    created_at=now,
                )
            )
        session.commit()
        session.add(
            Handoff(
                lead_id=lead_id,
                snapshot_id=snapshot_id,
                tier="mql",
                status="pending",
                created_at=now,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            ScoreSnapshot(
                lead_id=999,
                fit=1,
                intent=1,
                total=2,
                tier="mql",
                routable=True,
                rules_version="v",
                computed_at=datetime.now(UTC),
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_plain_postgresql_url_uses_psycopg3() -> None:
    engine = make_engine("postgresql://user@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"


WRITER = """
import sys
from datetime import UTC, datetime
from sqlmodel import Session
from bot.handoffs.intake import ingest_leads
from bot.handoffs.inputs import LeadIn
from bot.handoffs.team import sync_team
from store.db import make_engine
from tests.helpers import context

engine = make_engine(sys.argv[1])
ctx = context()
sync_team(engine=engine, team=ctx.team)
for i in range(int(sys.argv[3])):
    with Session(engine) as session:
        body = {"source_system": "web", "external_id": f"{sys.argv[2]}-{i}", "employees": 100,
                "country": "US", "activities": [{"id": "d", "kind": "demo_request",
                "occurred_at": "2026-11-20T10:00:00Z"}]}
        ingest_leads(session=session, leads=[LeadIn.model_validate(body)], context=ctx)
        session.commit()
"""


def test_two_processes_write_one_sqlite_file_without_locking_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    upgrade(engine)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen(
            [sys.executable, script, url, name, "150"],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    try:
        errors = [writer.communicate(timeout=120)[1] for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    assert [w.returncode for w in writers] == [0, 0], errors
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 300
        assert session.scalar(select(func.count()).select_from(Handoff)) == 300
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_upgrading_chains_the_hand_offs_a_lead_already_had(database_url: str) -> None:
    """Migration 0006 on a database of the previous version: a hand-off that followed a
    move of the same lead continues that lead's chain; any other starts its own."""
    engine = make_engine(database_url)
    try:
        assert upgrade(engine, "0005") == "0005"
        at = "2026-11-20 10:00:00"
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO lead (id, source_system, external_id, attributes, disposition,"
                    " created_at, updated_at) VALUES (1, 's', '1', '{}', 'open', :at, :at),"
                    " (2, 's', '2', '{}', 'open', :at, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO score_snapshot (id, lead_id, fit, intent, total, tier, routable,"
                    " factors, rules_version, computed_at) VALUES"
                    " (1, 1, 1, 1, 2, 'sql', true, '[]', 'v', :at),"
                    " (2, 2, 1, 1, 2, 'sql', true, '[]', 'v', :at)"
                ),
                {"at": at},
            )
            for handoff_id, lead, status in (
                (1, 1, "reassigned"),
                (2, 2, "rejected"),
                (3, 1, "reassigned"),
                (4, 1, "pending"),
                (5, 2, "pending"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO handoff (id, lead_id, snapshot_id, tier, status, created_at)"
                        " VALUES (:id, :lead, :lead, 'sql', :status, :at)"
                    ),
                    {"id": handoff_id, "lead": lead, "status": status, "at": at},
                )
            # Rows that point at hand-offs, as every installation has (cards, reminders).
            connection.execute(
                text(
                    "INSERT INTO outbox (kind, channel, payload, handoff_id, status, attempts,"
                    " next_attempt_at, created_at) VALUES"
                    " ('post_card', 'C1', '{}', 1, 'sent', 1, :at, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO notification (key, kind, handoff_id, level, created_at)"
                    " VALUES ('reminder:4', 'reminder', 4, 0, :at)"
                ),
                {"at": at},
            )
        assert upgrade(engine) == head_revision()
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, chain_id, step FROM handoff ORDER BY id")
            ).all()
        assert [tuple(row) for row in rows] == [
            (1, 1, 1),
            (2, 2, 1),
            (3, 1, 2),
            (4, 1, 3),
            (5, 5, 1),
        ]
    finally:
        engine.dispose()
