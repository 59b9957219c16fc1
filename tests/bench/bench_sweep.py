"""One SLA sweep (the work the worker does every minute) as the pending hand-offs grow:
10,000, 100,000 and 1,000,000, none of them due, then 1,000 of the 1,000,000 due. On
SQLite and on PostgreSQL (when $HANDOFF_TEST_POSTGRES_URL is set).

The hand-offs (with their leads and scores) are written straight into a migrated
database, then one `sweep(session, now)` is timed at each size.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS, SlaConfig
from bot.handoffs.sweep import sweep
from store.models import Handoff, Rep, table
from tests.bench.common import Result, analyze, bench_databases, bulk_insert, migrated_engine
from tests.helpers import team

SIZES = (10_000, 100_000, 1_000_000)
DUE = 1_000
REPO = Path(__file__).resolve().parents[2]
SLA = SlaConfig.model_validate(tomllib.loads((REPO / "handoff.example.toml").read_text())["sla"])
# Monday 2026-11-23 15:00 UTC = 10:00 in New York: the business calendar is open.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _fill(engine: Engine, ids: range, reps: list[int]) -> None:
    """Writes pending hand-offs `ids`, due in three days, with their leads and scores,
    shared among `reps`."""
    created = NOW - timedelta(minutes=1)
    later = NOW + timedelta(days=3)
    warn = later - timedelta(hours=1)
    bulk_insert(
        engine,
        "lead",
        "id source_system external_id first_name attributes disposition created_at updated_at",
        ((i, "bench", f"L{i}", f"Lead {i}", "{}", "open", created, created) for i in ids),
    )
    bulk_insert(
        engine,
        "score_snapshot",
        "id lead_id fit intent total tier routable factors rules_version computed_at",
        ((i, i, 40, 40, 80, "sql", True, "[]", "bench", created) for i in ids),
    )
    bulk_insert(
        engine,
        "handoff",
        "id lead_id snapshot_id rep_id tier status channel created_at due_at warn_at"
        " policy_version",
        (
            (
                i,
                i,
                i,
                reps[i % len(reps)],
                "sql",
                "pending",
                "C0123LEADS",
                created,
                later,
                warn,
                "bench",
            )
            for i in ids
        ),
    )
    analyze(engine)


def _uncapped_reps(engine: Engine) -> list[int]:
    reps = table(Rep)
    with engine.connect() as connection:
        query = select(reps.c.id).where(reps.c.capacity.is_(None)).order_by(reps.c.id)
        return list(connection.execute(query).scalars())


def _sweep(engine: Engine) -> tuple[float, int]:
    start = time.perf_counter()
    with Session(engine) as session:
        sent = sweep(session=session, now=NOW, team=team(), sla=SLA, reasons=DEFAULT_REJECT_REASONS)
        session.commit()
    return (time.perf_counter() - start) * 1000, len(sent)


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "sweep") as found:
        for label, url in found:
            engine = migrated_engine(url, team())
            # Held by the reps without a capacity: routing never gives a rep more than
            # theirs, so a capped rep's pending count stays that small.
            uncapped = _uncapped_reps(engine)
            filled = 0
            for size in SIZES:
                _fill(engine, range(filled + 1, size + 1), uncapped)
                filled = size
                idle = [_sweep(engine) for _ in range(5)]
                assert all(count == 0 for _, count in idle), idle
                results.append(
                    Result(
                        f"sweep, {label}: {size:,} pending, none due (median of 5)",
                        statistics.median(ms for ms, _ in idle),
                        "ms",
                        50,
                        higher_is_better=False,
                        details={"pending": size},
                    )
                )
            handoffs = table(Handoff)
            with engine.begin() as connection:
                connection.execute(
                    update(handoffs)
                    .where(handoffs.c.id <= DUE)
                    .values(due_at=NOW - timedelta(minutes=5), warn_at=NOW - timedelta(hours=1))
                )
            busy_ms, queued = _sweep(engine)
            engine.dispose()
            results.append(
                Result(
                    f"sweep, {label}: {filled:,} pending, {DUE:,} due: all queued",
                    busy_ms,
                    "ms",
                    2000,
                    higher_is_better=False,
                    details={"pending": filled, "due": DUE, "queued": queued},
                )
            )
    return results
