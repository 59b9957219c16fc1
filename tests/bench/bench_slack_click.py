"""Accept-click ack latency: `handoff serve` beside a bare Bolt app that only acks.

Both run as separate processes on this machine. 20 clients click at once, each on its
own card (so every click is a real decision: a database transition, a card update queued,
the sender woken), for ROUNDS rounds; the time is from sending the signed request to
receiving Slack's required acknowledgement. The bare app is the floor: Bolt's own
request handling, signature check and dispatch, through the same FastAPI mount.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.sandbox.slack_api import SlackSandbox
from tests.bench.common import BENCH_TOKEN, Result, bench_databases, serve_env
from tests.helpers import (
    RULES_TOML,
    TEAM_TOML,
    block_actions,
    demo,
    lead_body,
    running_serve,
    running_server,
    signed,
)

CLICKS = 20
ROUNDS = 10
SECRET = "bench-secret"

BARE_APP = """
import sys
import uvicorn
from fastapi import FastAPI
from slack_bolt import App
from slack_sdk import WebClient
from bot.slack.app import mount

client = WebClient(token="xoxb-bare", base_url=sys.argv[2])  # the sandbox: Bolt calls auth.test
app = App(signing_secret=sys.argv[1], client=client, token_verification_enabled=False)

@app.action("handoff_accept")
def accept(ack):
    ack()

api = FastAPI()
mount(api, app, signing_secret=sys.argv[1])
uvicorn.run(api, host="127.0.0.1", port=0, log_level="info")
"""


async def _rounds(url: str, targets: list[tuple[int, str]]) -> list[float]:
    latencies: list[float] = []
    # Signed up front, so that the client's own work does not share the CPU with the
    # server while it is being measured.
    requests = {
        (h, u): signed(
            block_actions("handoff_accept", h, u, channel="C0123LEADS", ts="1.1"), SECRET
        )
        for h, u in targets
    }
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one(handoff_id: int, user: str) -> None:
            body, headers = requests[(handoff_id, user)]
            start = time.perf_counter()
            response = await client.post("/slack/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - start)
            response.raise_for_status()

        for round_start in range(0, len(targets), CLICKS):
            batch = targets[round_start : round_start + CLICKS]
            await asyncio.gather(*(one(h, u) for h, u in batch))
    return latencies


def _handoffs(url: str) -> list[tuple[int, str]]:
    targets = []
    with httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}
    ) as client:
        for i in range(CLICKS * ROUNDS):
            body = lead_body(f"B{i}", employees=100, country="US", activities=[demo()])
            handoff = client.post("/api/leads", json=body).json()["handoff"]
            targets.append((handoff["id"], handoff["rep"]))
    return targets


@contextmanager
def _bare_app(api_url: str) -> Iterator[str]:
    script = Path(tempfile.mkdtemp()) / "bare.py"
    script.write_text(BARE_APP)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with running_server(
        [sys.executable, script, SECRET, api_url], cwd=script.parent, env=env
    ) as url:
        yield url


def _cuts(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def _measure(database_url: str, folder: Path) -> tuple[list[float], list[float]]:
    """Gets the ack latencies of `handoff serve` on the database, then of the bare app."""
    with SlackSandbox() as sandbox:
        env = {**serve_env(database_url, sandbox.url), "SLACK_SIGNING_SECRET": SECRET}
        with running_serve(folder, env) as url:
            ours = asyncio.run(_rounds(url, _handoffs(url)))
        with _bare_app(sandbox.url) as url:
            bare = asyncio.run(_rounds(url, [(i, "U0ALICE") for i in range(CLICKS * ROUNDS)]))
    return ours, bare


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "click") as found:
        for label, url in found:
            folder = Path(tmp) / label
            folder.mkdir()
            (folder / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
            results += _results(label, *_measure(url, folder))
    return results


def _results(label: str, ours: list[float], bare: list[float]) -> list[Result]:
    ours_p50, ours_p99 = _cuts(ours)
    bare_p50, bare_p99 = _cuts(bare)
    details = {
        "concurrent_clicks": CLICKS,
        "rounds": ROUNDS,
        "bare_bolt_p50_ms": round(bare_p50, 1),
        "bare_bolt_p99_ms": round(bare_p99, 1),
    }
    return [
        Result(f"Accept click ack, {label}: p50", ours_p50, "ms", details=details),
        Result(
            f"Accept click ack, {label}: p99",
            ours_p99,
            "ms",
            100,
            higher_is_better=False,
            details=details,
        ),
        Result(f"bare Bolt app ack (same run, {label}): p50", bare_p50, "ms"),
        Result(f"bare Bolt app ack (same run, {label}): p99", bare_p99, "ms"),
        Result(
            f"Accept click p99 / bare Bolt p99, {label}",
            ours_p99 / bare_p99,
            "x",
            1.2,
            higher_is_better=False,
            details=details,
        ),
    ]
