"""What a benchmark reports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bot.config import TeamConfig
from bot.handoffs.team import sync_team
from store.db import make_engine
from store.migrate import upgrade


@dataclass(frozen=True)
class Result:
    """One measured number, its unit, and the target it is held to (if any)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        """Tells whether the target was met (None when there is no target)."""
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def verdict(self) -> str:
        """Gets "ok", "BELOW TARGET" or "" for the table."""
        return {None: "", True: "ok", False: "BELOW TARGET"}[self.met]

    def to_dict(self) -> dict[str, Any]:
        """Gets the result as written to bench-report.json."""
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "target": self.target,
            "higher_is_better": self.higher_is_better,
            "met": self.met,
            **({"details": self.details} if self.details else {}),
        }


BENCH_TOKEN = "bench-token-0123456789abcdef0123456789"


def serve_env(database_url: str, slack_api_url: str) -> dict[str, str]:
    """Gets the environment of a `handoff serve` under benchmark: the database, the API
    token (BENCH_TOKEN) and Slack at the sandbox's URL (by HTTP, not Socket Mode)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HANDOFF_API_TOKEN": BENCH_TOKEN,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": slack_api_url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


@contextmanager
def bench_databases(folder: Path, name: str) -> Iterator[list[tuple[str, str]]]:
    """Gets (label, URL) for a fresh SQLite file and, when $HANDOFF_TEST_POSTGRES_URL is
    set, a fresh PostgreSQL schema (dropped afterwards)."""
    found = [("SQLite", f"sqlite:///{folder / f'{name}.db'}")]
    base = os.environ.get("HANDOFF_TEST_POSTGRES_URL")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if base:
        with make_engine(base).begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        found.append(("PostgreSQL", url.render_as_string(hide_password=False)))
    try:
        yield found
    finally:
        if base:
            with make_engine(base).begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def bulk_insert(engine: Engine, table: str, columns: str, rows: Iterable[Sequence[Any]]) -> None:
    """Writes rows (values for the space-separated `columns`) straight into a table, the
    fastest way each database takes them:
    SQLite's executemany (times as the naive UTC text UTCDateTime stores), PostgreSQL's
    COPY. Used to fill a benchmark's database; the code under test never writes this way."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns.split())
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns.split())
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [[_sqlite(value) for value in row] for row in rows],
            )
        raw.commit()
    finally:
        raw.close()


def migrated_engine(url: str, team: TeamConfig) -> Engine:
    """Gets an engine on a fresh database, migrated, with the team's reps in it."""
    engine = make_engine(url)
    upgrade(engine)
    sync_team(engine=engine, team=team)
    return engine


def analyze(engine: Engine) -> None:
    """Refreshes the planner's statistics after a fill, as a database in use has them."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite DateTime text, naive UTC
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def children_peak_mb() -> float:
    """Gets the peak resident memory (VmHWM, in MB) of this process's child processes,
    the largest of them: a `handoff serve` started by the benchmark. Linux only (/proc)."""
    peaks = [0.0]
    for listing in Path("/proc/self/task").glob("*/children"):
        for pid in listing.read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # it ended meanwhile
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)
