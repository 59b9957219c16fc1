"""Shared fixtures: the repository's paths and the real public data in ../shared/data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from store.db import make_engine
from store.migrate import upgrade
from tests.helpers import shared_data_dir


@pytest.fixture
def shared_data() -> Path:
    """The real data sets; skipped where absent, but a failure in CI (which has them)."""
    path = shared_data_dir()
    if not path.is_dir():
        message = f"real data not found at {path} (set HANDOFF_SHARED_DATA)"
        if os.environ.get("HANDOFF_REQUIRE_SHARED_DATA"):
            pytest.fail(message)
        pytest.skip(message)
    return path


POSTGRES_ENV = "HANDOFF_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new schema on the PostgreSQL server
    named by $HANDOFF_TEST_POSTGRES_URL (skipped without it, but a failure in CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        message = f"set {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot run in CI: {message}")
        pytest.skip(message)
    schema = f"handoff_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh database with every migration applied."""
    made = make_engine(database_url)
    upgrade(made)
    yield made
    made.dispose()
