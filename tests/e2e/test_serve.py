"""`handoff serve` as a separate process, spoken to over real HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import RULES_TOML, TEAM_TOML, demo, lead_body

TOKEN = "e2e-token"


def start(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Starts `handoff serve --port 0`; gets the process and its base URL."""
    script = Path(sys.executable).parent / "handoff"
    process = subprocess.Popen(
        [script, "serve", "--port", "0"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"Uvicorn running on (http://\S+)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise AssertionError("handoff serve did not start:\n" + "".join(seen))


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_API_TOKEN": TOKEN}
    process, url = start(tmp_path, env)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_serve_takes_leads_over_http(server: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
        body = lead_body("E1", employees=100, country="US", activities=[demo()])
        first = client.post("/api/leads", json=body, headers=auth)
        assert first.status_code == 200
        assert first.json()["handoff"]["rep"] == "U0ALICE"
        assert (
            client.post("/api/leads", json=body, headers=auth).json()["handoff"]
            == (first.json()["handoff"])
        )
        assert client.post("/api/leads", json=body).status_code == 401


def test_serve_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {k: v for k, v in os.environ.items() if k != "HANDOFF_API_TOKEN"}
    done = subprocess.run(
        [Path(sys.executable).parent / "handoff", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "HANDOFF_API_TOKEN is not set" in done.stderr
