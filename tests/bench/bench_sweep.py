"""One SLA sweep over 100,000 pending hand-offs on SQLite: none due, then 1,000 due.

The hand-offs are written straight into a migrated database (bulk inserts), then one
`sweep(session, now)` is timed: the work the worker does every minute.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, update
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS, SlaConfig
from bot.handoffs.sweep import sweep
from bot.handoffs.team import sync_team
from store.db import make_engine
from store.migrate import upgrade
from store.models import Handoff, Lead, ScoreSnapshot, table
from tests.bench.common import Result
from tests.helpers import team

PENDING = 100_000
DUE = 1_000
REPO = Path(__file__).resolve().parents[2]
SLA = SlaConfig.model_validate(tomllib.loads((REPO / "handoff.example.toml").read_text())["sla"])
# Monday 2026-11-23 15:00 UTC = 10:00 in New York: the business calendar is open.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _fill(engine: Engine) -> None:
    created = NOW - timedelta(minutes=1)
    later = NOW + timedelta(days=3)
    with engine.begin() as connection:
        connection.execute(
            insert(table(Lead)),
            [
                {
                    "id": i,
                    "source_system": "bench",
                    "external_id": f"L{i}",
                    "attributes": {},
                    "disposition": "open",
                    "created_at": created,
                    "updated_at": created,
                    "first_name": f"Lead {i}",
                }
                for i in range(1, PENDING + 1)
            ],
        )
        connection.execute(
            insert(table(ScoreSnapshot)),
            [
                {
                    "id": i,
                    "lead_id": i,
                    "fit": 40,
                    "intent": 40,
                    "total": 80,
                    "tier": "sql",
                    "routable": True,
                    "factors": [],
                    "rules_version": "bench",
                    "computed_at": created,
                }
                for i in range(1, PENDING + 1)
            ],
        )
        connection.execute(
            insert(table(Handoff)),
            [
                {
                    "id": i,
                    "lead_id": i,
                    "snapshot_id": i,
                    "rep_id": 1 + i % 3,
                    "tier": "sql",
                    "status": "pending",
                    "channel": "C0123LEADS",
                    "created_at": created,
                    "due_at": later,
                    "warn_at": later - timedelta(hours=1),
                    "policy_version": "bench",
                }
                for i in range(1, PENDING + 1)
            ],
        )


def _sweep(engine: Engine) -> tuple[float, int]:
    start = time.perf_counter()
    with Session(engine) as session:
        sent = sweep(session=session, now=NOW, team=team(), sla=SLA, reasons=DEFAULT_REJECT_REASONS)
        session.commit()
    return (time.perf_counter() - start) * 1000, len(sent)


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'sweep.db'}")
        upgrade(engine)
        sync_team(engine=engine, team=team())
        _fill(engine)
        idle = [_sweep(engine) for _ in range(5)]
        assert all(count == 0 for _, count in idle), idle
        handoffs = table(Handoff)
        with engine.begin() as connection:
            connection.execute(
                update(handoffs)
                .where(handoffs.c.id <= DUE)
                .values(due_at=NOW - timedelta(minutes=5), warn_at=NOW - timedelta(hours=1))
            )
        busy_ms, queued = _sweep(engine)
        engine.dispose()
    details = {"pending": PENDING, "due": DUE, "database": "sqlite", "queued": queued}
    return [
        Result(
            "sweep: 100,000 pending, none due (median of 5)",
            statistics.median(ms for ms, _ in idle),
            "ms",
            50,
            higher_is_better=False,
            details=details,
        ),
        Result(
            "sweep: 100,000 pending, 1,000 due: all queued",
            busy_ms,
            "ms",
            2000,
            higher_is_better=False,
            details=details,
        ),
    ]
