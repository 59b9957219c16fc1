"""Digest metrics over 1,000,000 hand-offs on SQLite.

A year of hand-offs (about 19,000 a week, 10 reps, every status, reject reasons, escalations
and outcomes) is written straight into a migrated database with the driver's executemany,
then timed: the weekly digest as the worker builds it (the week and the week before, for
the change), and the same metrics over the whole year in one period (all 1,000,000 rows).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.team import sync_team
from bot.reports.digest import metrics, weekly_numbers
from bot.reports.numbers import DigestNumbers
from store.db import make_engine
from store.metrics import Period
from store.migrate import upgrade
from tests.bench.common import Result
from tests.helpers import team

HANDOFFS = 1_000_000
START = datetime(2025, 11, 24, 5, 0, tzinfo=UTC)  # Monday 00:00 in New York
YEAR = timedelta(weeks=52)
REPS = [{"slack_id": f"U0REP{i:02d}", "name": f"Rep {i}", "manager": "U0DANA"} for i in range(10)]
TEAM = team(reps=REPS)
SOURCES = ("organic search", "paid search", "referral", "direct traffic", "webinar", "email")
TIERS = ("mql", "sql", "high_priority")
REASONS = [r.code for r in DEFAULT_REJECT_REASONS]


def _stamp(when: datetime) -> str:
    # SQLAlchemy's SQLite DateTime text (naive UTC), as UTCDateTime stores it.
    return when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _rows(rng: random.Random) -> Iterator[tuple[Any, ...]]:
    step = YEAR / HANDOFFS
    for i in range(1, HANDOFFS + 1):
        created = START + step * i
        roll = rng.random()
        status = (
            "accepted"
            if roll < 0.6
            else "rejected"
            if roll < 0.85
            else "pending"
            if roll < 0.95
            else "reassigned"
        )
        decided = created + timedelta(minutes=rng.expovariate(1 / 120))
        yield (
            i,
            created,
            decided if status != "pending" else None,
            status,
            TIERS[i % 3],
            1 + i % len(REPS),
            rng.choice(REASONS) if status == "rejected" else None,
            rng.choice(SOURCES),
            rng.uniform(20, 100),
        )


def _fill(engine: Engine) -> None:
    rng = random.Random(1_000_000)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        leads, snapshots, handoffs, notes, outcomes = [], [], [], [], []
        for i, created, decided, status, tier, rep, reason, source, total in _rows(rng):
            at = _stamp(created)
            leads.append((i, "bench", f"L{i}", source, "{}", "open", at, at))
            snapshots.append((i, i, total / 2, total / 2, total, tier, 1, "[]", "bench", at))
            due = _stamp(created + timedelta(hours=4))
            handoffs.append(
                (
                    i,
                    i,
                    i,
                    rep,
                    tier,
                    status,
                    at,
                    due,
                    _stamp(decided) if decided else None,
                    reason,
                    f"note {i}" if reason else None,
                )
            )
            if i % 20 == 0:
                notes.append((f"escalation:{i}:1", "escalation", i, 1, due))
            if i % 25 == 0:
                stage = "closed_won" if i % 50 == 0 else "opportunity"
                outcomes.append((i, stage, 5000.0 if stage == "closed_won" else None, at, at))
        cursor.executemany(
            "INSERT INTO lead (id, source_system, external_id, source, attributes, disposition,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            leads,
        )
        cursor.executemany(
            "INSERT INTO score_snapshot (id, lead_id, fit, intent, total, tier, routable,"
            " factors, rules_version, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            snapshots,
        )
        cursor.executemany(
            "INSERT INTO handoff (id, lead_id, snapshot_id, rep_id, tier, status, created_at,"
            " due_at, decided_at, reject_reason, reject_note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            handoffs,
        )
        cursor.executemany(
            "INSERT INTO notification (key, kind, handoff_id, level, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            notes,
        )
        cursor.executemany(
            "INSERT INTO outcome (lead_id, stage, amount, occurred_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            outcomes,
        )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _timed(step: Any) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'digest.db'}")
        upgrade(engine)
        sync_team(engine=engine, team=TEAM)
        started = time.perf_counter()
        _fill(engine)
        fill_s = time.perf_counter() - started
        now = START + YEAR - timedelta(days=1)  # the year's last week, so far
        with Session(engine) as session:

            def weekly() -> DigestNumbers:
                return weekly_numbers(
                    session=session, team=TEAM, reasons=DEFAULT_REJECT_REASONS, week=None, now=now
                )

            def year() -> DigestNumbers:
                return metrics(
                    session=session,
                    week="year",
                    period=Period(START, START + YEAR + timedelta(days=1)),
                    reasons=DEFAULT_REJECT_REASONS,
                )

            weekly_runs = [_timed(weekly) for _ in range(5)]
            year_s, whole = _timed(year)
        engine.dispose()
    week_s = statistics.median(seconds for seconds, _ in weekly_runs)
    numbers = weekly_runs[0][1]
    assert whole["handed_off"] == HANDOFFS, whole["handed_off"]
    details = {
        "handoffs": HANDOFFS,
        "database": "sqlite",
        "fill_seconds": round(fill_s, 1),
        "week": numbers["period"],
        "week_handed_off": numbers["handed_off"],
    }
    return [
        Result(
            "digest: weekly numbers (week + week before), 1,000,000 hand-offs (median of 5)",
            week_s * 1000,
            "ms",
            2000,
            higher_is_better=False,
            details=details,
        ),
        Result(
            "digest: metrics of one period holding all 1,000,000 hand-offs",
            year_s * 1000,
            "ms",
            2000,
            higher_is_better=False,
            details=details,
        ),
    ]
