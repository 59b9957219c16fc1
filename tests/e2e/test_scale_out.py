"""Scale-out on PostgreSQL: two `handoff serve --web-only` processes and one `handoff
worker` on one database take 2,000 leads from 16 clients. Every lead is stored once, every
card is posted once, and each conversation gets its cards in the order they were queued.

The cards go to each rep's DM (`team.notify = "dm"`, 100 reps): Slack takes about one
message a second per conversation, so 2,000 cards through one channel would take over
half an hour; by DM they go out in well under a minute, at Slack's pace for each DM (the
sandbox enforces it, with 429 and Retry-After beyond).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.sandbox.slack_api import SlackSandbox
from store.db import make_engine
from store.migrate import upgrade
from tests.helpers import RULES_TOML, demo, lead_body, running_server, wait_for

TOKEN = "e2e-token-0123456789abcdef0123456789"
LEADS, CLIENTS, REPS = 2000, 16, 100


def _config() -> str:
    reps = "".join(
        f'[[team.reps]]\nslack_id = "U0R{i:03d}"\nname = "Rep {i}"\nmanager = "U0DANA"\n'
        for i in range(REPS)
    )
    return (
        RULES_TOML
        + '[team]\ntimezone = "America/New_York"\nchannel = "C0123LEADS"\n'
        + 'notify = { mql = "dm", sql = "dm", high_priority = "dm" }\n'
        + reps
    )


def _send(servers: list[str], first: int) -> list[int]:
    """One client: every 16th lead from `first`, to the two servers in turn, then its
    first lead once more (a retry: stored once all the same)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    codes = []
    with ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(base_url=url, timeout=60)) for url in servers]
        numbers = [*range(first, LEADS, CLIENTS), first]
        for turn, i in enumerate(numbers):
            body = lead_body(f"S{i}", employees=100, country="US", activities=[demo(f"e{i}")])
            response = clients[turn % 2].post("/api/leads", json=body, headers=auth)
            codes.append(response.status_code)
    return codes


def test_two_web_processes_and_a_worker_take_2000_leads_once_each_in_order(
    tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out is for PostgreSQL: SQLite takes one writer at a time")
    (tmp_path / "handoff.toml").write_text(_config())
    engine = make_engine(database_url)
    upgrade(engine)  # once, before the three processes start
    script = Path(sys.executable).parent / "handoff"
    with SlackSandbox() as sandbox, ExitStack() as stack:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HANDOFF_API_TOKEN": TOKEN,
            "SLACK_BOT_TOKEN": "xoxb-scale-out",
            "SLACK_SIGNING_SECRET": "scale-out-secret",
            "SLACK_API_URL": sandbox.url,
        }
        env.pop("SLACK_APP_TOKEN", None)
        web = [script, "serve", "--web-only", "--port", "0"]
        servers = [
            stack.enter_context(running_server(web, cwd=tmp_path, env=env)) for _ in range(2)
        ]
        worker = subprocess.Popen(
            [script, "worker"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(worker.wait, 30)
        stack.callback(worker.terminate)
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            parts = pool.map(lambda first: _send(servers, first), range(CLIENTS))
            codes = [code for part in parts for code in part]
        assert codes.count(200) == LEADS + CLIENTS, {c: codes.count(c) for c in set(codes)}
        assert wait_for(lambda: _count(sandbox) >= LEADS, timeout=120), _count(sandbox)
        assert worker.poll() is None
    with engine.connect() as connection:
        leads = connection.execute(
            text("SELECT count(*), count(DISTINCT external_id) FROM lead")
        ).one()
        queued: dict[int, int] = {
            int(handoff_id): int(entry)
            for handoff_id, entry in connection.execute(
                text("SELECT handoff_id, id FROM outbox WHERE kind = 'post_card'")
            )
        }
        pending = connection.execute(
            text("SELECT count(*) FROM outbox WHERE status <> 'sent'")
        ).scalar()
    engine.dispose()
    assert tuple(leads) == (LEADS, LEADS)
    assert pending == 0
    posted = _cards(sandbox)  # what Slack holds, per DM, in the order it got them
    assert sorted(h for ids in posted.values() for h in ids) == sorted(queued)  # each once
    assert len(posted) == REPS
    for rep, ids in posted.items():
        entries = [queued[handoff_id] for handoff_id in ids]
        assert entries == sorted(entries), rep  # in the order they were queued


def _cards(sandbox: SlackSandbox) -> dict[str, list[int]]:
    """Gets the hand-off ids of the cards in each rep's DM, oldest first."""
    found = {}
    for i in range(REPS):
        rep = f"U0R{i:03d}"
        cards = [m for m in sandbox.channel(rep) if "metadata" in m]
        if cards:
            found[rep] = [int(m["metadata"]["event_payload"]["handoff_id"]) for m in cards]
    return found


def _count(sandbox: SlackSandbox) -> int:
    return sum(len(ids) for ids in _cards(sandbox).values())
