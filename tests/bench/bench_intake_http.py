"""Intake over HTTP on SQLite: 16 concurrent clients against a real `handoff serve`.

A fresh SQLite file; 16 asyncio clients post leads (each with three activities; about
half qualify and are handed off) as fast as they get answers.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.bench.common import Result
from tests.helpers import RULES_TOML, TEAM_TOML, running_serve

CLIENTS = 16
HTTP_LEADS = 4000
TOKEN = "bench-token-0123456789abcdef0123456789"
HANDOFF = Path(sys.executable).parent / "handoff"


def lead(i: int, rng: random.Random) -> dict[str, Any]:
    kinds = ["demo_request", "pricing_page_view", "email_open", "webinar_attended"]
    return {
        "source_system": "bench",
        "external_id": f"L{i}",
        "email": f"lead{i}@example.com",
        "employees": rng.choice([10, 120, 800, 5000]),
        "country": rng.choice(["US", "GB", "CA", "FR"]),
        "activities": [
            {
                "id": f"e{i}-{k}",
                "kind": rng.choice(kinds),
                "occurred_at": f"2026-11-{rng.randint(1, 19):02d}T10:00:00Z",
            }
            for k in range(3)
        ],
    }


async def _load(url: str) -> tuple[float, list[float], int]:
    rng = random.Random(11)
    bodies = [lead(i, rng) for i in range(HTTP_LEADS)]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def client_loop() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                response = await client.post("/api/leads", json=body)
                latencies.append(time.perf_counter() - start)
                failures += response.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    return time.perf_counter() - start, latencies, failures


def _http() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "HANDOFF_API_TOKEN": TOKEN,
        }
        with running_serve(folder, env) as url:
            elapsed, latencies, failures = asyncio.run(_load(url))
    cuts = statistics.quantiles(latencies, n=100)
    details = {"leads": HTTP_LEADS, "clients": CLIENTS, "failures": failures, "database": "sqlite"}
    return [
        Result(
            "intake HTTP: throughput, 16 clients",
            HTTP_LEADS / elapsed,
            "leads/s",
            300,
            details=details,
        ),
        Result("intake HTTP: p50 latency", cuts[49] * 1000, "ms", details=details),
        Result(
            "intake HTTP: p99 latency",
            cuts[98] * 1000,
            "ms",
            100,
            higher_is_better=False,
            details=details,
        ),
    ]


def run() -> list[Result]:
    return _http()
