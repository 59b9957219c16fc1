"""What a benchmark reports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.db import make_engine


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
