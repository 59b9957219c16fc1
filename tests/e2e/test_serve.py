"""`handoff serve` as a separate process, spoken to over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import RULES_TOML, TEAM_TOML, demo, lead_body, running_serve

TOKEN = "e2e-token-0123456789abcdef0123456789"


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_API_TOKEN": TOKEN}
    with running_serve(tmp_path, env) as url:
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
