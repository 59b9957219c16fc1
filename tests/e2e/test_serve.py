"""`handoff serve` as a separate process, spoken to over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from store.db import make_engine
from tests.helpers import RULES_TOML, TEAM_TOML, demo, lead_body, serving_tests_config, wait_for

TOKEN = "e2e-token-0123456789abcdef0123456789"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    with serving_tests_config(tmp_path, database_url, TOKEN) as url:
        yield url


def test_serve_takes_leads_over_http(server: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server, timeout=10) as client:
        health = client.get("/healthz").json()
        assert (health["status"], health["database"], health["outbox"]["dead"]) == ("ok", "ok", 0)
        body = lead_body("E1", employees=100, country="US", activities=[demo()])
        first = client.post("/api/leads", json=body, headers=auth)
        assert first.status_code == 200
        assert first.json()["handoff"]["rep"] == "U0ALICE"
        assert (
            client.post("/api/leads", json=body, headers=auth).json()["handoff"]
            == (first.json()["handoff"])
        )
        assert client.post("/api/leads", json=body).status_code == 401


def serve_refused(workdir: Path, token: str | None) -> subprocess.CompletedProcess[str]:
    """Starts `handoff serve` with that API token (None: unset), expecting a refusal."""
    (workdir / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {k: v for k, v in os.environ.items() if k != "HANDOFF_API_TOKEN"}
    if token is not None:
        env["HANDOFF_API_TOKEN"] = token
    return subprocess.run(
        [Path(sys.executable).parent / "handoff", "serve"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    done = serve_refused(tmp_path, None)
    assert done.returncode == 2
    assert "HANDOFF_API_TOKEN is not set" in done.stderr


def test_serve_refuses_a_short_token_and_says_how_to_make_one(tmp_path: Path) -> None:
    done = serve_refused(tmp_path, "x")
    assert done.returncode == 2
    assert "HANDOFF_API_TOKEN has 1 characters: use at least 32" in done.stderr
    assert "secrets.token_urlsafe(32)" in done.stderr


def _started(command: list[str | Path], cwd: Path, env: dict[str, str], ready: str) -> Any:
    """Starts a process and reads its output until a line containing `ready`."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if ready in line:
            return process
    raise AssertionError("".join(seen))


def test_sigterm_finishes_gives_the_lease_up_and_exits_0(tmp_path: Path, database_url: str) -> None:
    """What a Procfile platform sends on every deploy: the next worker takes over at once."""
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_API_TOKEN": TOKEN}
    script = Path(sys.executable).parent / "handoff"
    process = _started([script, "serve", "--port", "0"], tmp_path, env, "Uvicorn running")
    engine = make_engine(database_url)
    try:
        wait_for(lambda: _lease_holder(engine) is not None)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, out
        assert "stopped by SIGTERM" in out
        assert _lease_holder(engine) is None
    finally:
        if process.poll() is None:
            process.kill()
        engine.dispose()


def _lease_holder(engine: Engine) -> str | None:
    with engine.connect() as connection:
        holder = connection.execute(text("SELECT holder FROM worker_lease")).scalar()
    return str(holder) if holder is not None else None


def _idle_in_transaction(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT pid, query FROM pg_stat_activity"
                    " WHERE state = 'idle in transaction' AND datname = current_database()"
                )
            ).all()
        )


def test_a_frozen_worker_is_replaced_within_the_lease_time_and_stands_down_when_it_wakes(
    tmp_path: Path, database_url: str
) -> None:
    """SIGSTOP: the process lives and keeps its connections, but does nothing (a paused
    container, a stalled VM). A second worker takes over once the lease expires; the
    first, resumed, learns it lost the lease and does not run the jobs.

    PostgreSQL only: on SQLite a process frozen inside a write transaction (every job's
    pass is one, however short) holds the database file's lock, and nothing else can
    write until it resumes; processes that may be paused need PostgreSQL (README)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite: a frozen writer holds the file's lock (see the docstring)")
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_LEASE_TTL_S": "3"}
    script = Path(sys.executable).parent / "handoff"
    engine = make_engine(database_url)
    first = _started([script, "worker"], tmp_path, env, "handoff worker: running")
    second = None
    try:
        assert wait_for(lambda: _lease_holder(engine) is not None)
        frozen = _lease_holder(engine)
        assert frozen is not None
        assert f":{first.pid}:" in frozen
        # Its start-up sweep done (a process frozen inside a transaction holds that
        # transaction's locks until it resumes, on any database), no connection of its
        # sits idle in a transaction between the lease's renewals.
        time.sleep(1)
        if engine.dialect.name == "postgresql":
            assert wait_for(lambda: _idle_in_transaction(engine) == [], timeout=5), (
                _idle_in_transaction(engine)
            )
        first.send_signal(signal.SIGSTOP)
        second = _started([script, "worker"], tmp_path, env, "handoff worker: running")
        assert wait_for(lambda: _lease_holder(engine) not in (None, frozen), timeout=10)
        assert f":{second.pid}:" in str(_lease_holder(engine))
        first.send_signal(signal.SIGCONT)
        time.sleep(3)  # a few of its lease job's turns (every second with a 3-second lease)
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=30)
        assert "lost the lease" in out, out
        assert f":{second.pid}:" in str(_lease_holder(engine))
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait()
            if process is not None and process.stdout is not None:
                process.stdout.close()
        engine.dispose()


def test_the_demo_removes_its_temporary_files_on_sigterm(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    script = Path(sys.executable).parent / "handoff"
    command: list[str | Path] = [script, "demo", "--port", "0", "--no-browser", "--leads", "1"]
    process = _started(command, tmp_path, env, "lead 1/1")
    assert list(temp.iterdir())  # its temporary database
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert list(temp.iterdir()) == []


def test_sixteen_clients_send_a_thousand_leads_and_every_one_is_stored(
    server: str, database_url: str
) -> None:
    """16 clients at once, 1,000 leads, about half handed off (routing locks the reps):
    every answer is 200 and every lead is stored once, with no deadlock on PostgreSQL
    (issue 16, point 2: 3 to 4 of 1,000 were 500s)."""
    from concurrent.futures import ThreadPoolExecutor

    auth = {"Authorization": f"Bearer {TOKEN}"}

    def client(first: int) -> list[int]:
        """One client: every 16th lead from `first`, over one kept-alive connection."""
        codes = []
        with httpx.Client(base_url=server, timeout=60) as http:
            for i in range(first, 1000, 16):
                routable = i % 2 == 0
                body = lead_body(
                    f"C{i}",
                    employees=100 if routable else 3,
                    country="US",
                    activities=[demo(f"e{i}-{k}") for k in range(3)] if routable else [],
                )
                codes.append(http.post("/api/leads", json=body, headers=auth).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = [code for part in pool.map(client, range(16)) for code in part]
    assert codes.count(200) == 1000, {code: codes.count(code) for code in set(codes)}
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            leads = connection.execute(text("SELECT count(*) FROM lead")).scalar()
            handed = connection.execute(
                text("SELECT count(DISTINCT lead_id) FROM handoff")
            ).scalar()
    finally:
        engine.dispose()
    assert leads == 1000
    assert 0 < int(handed or 0) <= 500
