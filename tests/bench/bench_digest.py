"""Digest metrics as the hand-off table grows: 10,000, 100,000 and 1,000,000 hand-offs,
on SQLite and on PostgreSQL (when $HANDOFF_TEST_POSTGRES_URL is set).

A year of hand-offs (about 19,000 a week, 10 reps, every status, reject reasons,
escalations and outcomes) is written straight into a migrated database, newest first: at
10,000 rows the table holds the last half week, at 100,000 the last five weeks, at
1,000,000 the whole year. At each size two things are timed: the weekly digest as the
worker builds it (the year's last week and the week before, for the change), which reads
only its weeks however long the history, and the same metrics over one period holding
every hand-off in the table.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.reports.digest import metrics, weekly_numbers
from bot.reports.numbers import DigestNumbers
from store.metrics import Period
from tests.bench.common import Result, analyze, bench_databases, bulk_insert, migrated_engine
from tests.helpers import team

HANDOFFS = 1_000_000
SIZES = (10_000, 100_000, 1_000_000)
START = datetime(2025, 11, 24, 5, 0, tzinfo=UTC)  # Monday 00:00 in New York
YEAR = timedelta(weeks=52)
REPS = [{"slack_id": f"U0REP{i:02d}", "name": f"Rep {i}", "manager": "U0DANA"} for i in range(10)]
TEAM = team(reps=REPS)
SOURCES = ("organic search", "paid search", "referral", "direct traffic", "webinar", "email")
TIERS = ("mql", "sql", "high_priority")
REASONS = [r.code for r in DEFAULT_REJECT_REASONS]


def _rows(rng: random.Random, ids: range) -> Iterator[tuple[Any, ...]]:
    step = YEAR / HANDOFFS
    for i in ids:
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


def _fill(engine: Engine, ids: range) -> None:
    """Writes hand-offs `ids` (with their leads, scores, escalations and outcomes)."""
    rng = random.Random(ids.start)
    leads, snapshots, handoffs, notes, outcomes = [], [], [], [], []
    for i, created, decided, status, tier, rep, reason, source, total in _rows(rng, ids):
        leads.append((i, "bench", f"L{i}", source, "{}", "open", created, created))
        snapshots.append((i, i, total / 2, total / 2, total, tier, True, "[]", "bench", created))
        due = created + timedelta(hours=4)
        note = f"note {i}" if reason else None
        handoffs.append((i, i, i, rep, tier, status, created, due, decided, reason, note))
        if i % 20 == 0:
            notes.append((f"escalation:{i}:1", "escalation", i, 1, due))
        if i % 25 == 0:
            stage = "closed_won" if i % 50 == 0 else "opportunity"
            outcomes.append((i, stage, 5000.0 if stage == "closed_won" else None, created, created))
    for name, columns, rows in (
        ("lead", LEAD, leads),
        ("score_snapshot", SNAPSHOT, snapshots),
        ("handoff", HANDOFF, handoffs),
        ("notification", NOTIFICATION, notes),
        ("outcome", OUTCOME, outcomes),
    ):
        bulk_insert(engine, name, columns, rows)
    analyze(engine)


LEAD = "id source_system external_id source attributes disposition created_at updated_at"
SNAPSHOT = "id lead_id fit intent total tier routable factors rules_version computed_at"
HANDOFF = (
    "id lead_id snapshot_id rep_id tier status created_at due_at decided_at reject_reason"
    " reject_note"
)
NOTIFICATION = "key kind handoff_id level created_at"
OUTCOME = "lead_id stage amount occurred_at created_at"


def _timed(step: Callable[[], DigestNumbers]) -> tuple[float, DigestNumbers]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def _measure(engine: Engine, size: int) -> tuple[float, float, DigestNumbers]:
    """Gets the weekly digest's median time of 5, one period of everything's, and the
    week's numbers."""
    now = START + YEAR - timedelta(days=1)  # the year's last week, so far
    with Session(engine) as session:

        def weekly() -> DigestNumbers:
            return weekly_numbers(
                session=session, team=TEAM, reasons=DEFAULT_REJECT_REASONS, week=None, now=now
            )

        def everything() -> DigestNumbers:
            return metrics(
                session=session,
                week="all",
                period=Period(START, START + YEAR + timedelta(days=1)),
                reasons=DEFAULT_REJECT_REASONS,
            )

        weekly_runs = [_timed(weekly) for _ in range(5)]
        whole_s, whole = _timed(everything)
    assert whole.handoffs == size, (whole.handoffs, size)
    week_s = statistics.median(seconds for seconds, _ in weekly_runs)
    return week_s, whole_s, weekly_runs[0][1]


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "digest") as found:
        for label, url in found:
            engine = migrated_engine(url, TEAM)
            filled = 0
            for size in SIZES:  # newest first: each stage adds older history
                started = time.perf_counter()
                _fill(engine, range(HANDOFFS - size + 1, HANDOFFS - filled + 1))
                fill_s = time.perf_counter() - started
                filled = size
                week_s, whole_s, numbers = _measure(engine, size)
                details = {
                    "handoffs": size,
                    "fill_seconds": round(fill_s, 1),
                    "week": numbers.period,
                    "week_handoffs": numbers.handoffs,
                }
                results += [
                    Result(
                        f"digest, {label}: weekly numbers, {size:,} hand-offs in the table",
                        week_s * 1000,
                        "ms",
                        2000,
                        higher_is_better=False,
                        details=details,
                    ),
                    Result(
                        f"digest, {label}: one period holding all {size:,} hand-offs",
                        whole_s * 1000,
                        "ms",
                        2000 if size == HANDOFFS else None,
                        higher_is_better=False,
                        details=details,
                    ),
                ]
            engine.dispose()
    return results
