"""Intake over HTTP: 16 concurrent clients against a real `handoff serve`, on SQLite and
(with $HANDOFF_TEST_POSTGRES_URL) PostgreSQL.

16 asyncio clients post leads (each with three activities; about half qualify and are
handed off) as fast as they get answers: one a request to POST /api/leads, then in
batches to POST /api/leads/batch (new leads, on the same server).
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

from tests.bench.common import Result, bench_databases, children_peak_mb
from tests.helpers import RULES_TOML, TEAM_TOML, running_serve

CLIENTS = 16
HTTP_LEADS = 4000
BATCH = 100  # leads a request in the batch form (up to 500 allowed)
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


async def _load(url: str, *, batch: int, offset: int = 0) -> tuple[float, list[float], int, int]:
    """Posts HTTP_LEADS leads from CLIENTS clients, one a request or `batch` a request;
    gets (seconds, latency of each request, failed requests, leads handed off)."""
    rng = random.Random(11)
    bodies = [lead(offset + i, rng) for i in range(HTTP_LEADS)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for first in range(0, len(bodies), batch):
        queue.put_nowait(bodies[first : first + batch])
    latencies: list[float] = []
    failures = handed_off = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def client_loop() -> None:
        nonlocal failures, handed_off
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
            while not queue.empty():
                leads = queue.get_nowait()
                start = time.perf_counter()
                if batch == 1:
                    response = await client.post("/api/leads", json=leads[0])
                else:
                    response = await client.post("/api/leads/batch", json={"leads": leads})
                latencies.append(time.perf_counter() - start)
                failures += response.status_code != 200
                if response.status_code == 200:
                    answer = response.json()
                    handed_off += (
                        bool(answer.get("handoff")) if batch == 1 else answer["handed_off"]
                    )

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    return time.perf_counter() - start, latencies, failures, handed_off


def _http(label: str, database_url: str, folder: Path) -> list[Result]:
    (folder / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_API_TOKEN": TOKEN}
    results = []
    with running_serve(folder, env) as url:
        elapsed, latencies, failures, handed = asyncio.run(_load(url, batch=1))
        cuts = statistics.quantiles(latencies, n=100)
        details = {
            "leads": HTTP_LEADS,
            "clients": CLIENTS,
            "failures": failures,
            "handed_off": handed,
            "database": label,
        }
        results += [
            Result(
                f"intake HTTP, {label}: throughput, 16 clients",
                HTTP_LEADS / elapsed,
                "leads/s",
                1000,
                details=details,
            ),
            Result(f"intake HTTP, {label}: p50 latency", cuts[49] * 1000, "ms"),
            Result(
                f"intake HTTP, {label}: p99 latency",
                cuts[98] * 1000,
                "ms",
                50,
                higher_is_better=False,
            ),
        ]
        elapsed, latencies, failures, handed = asyncio.run(
            _load(url, batch=BATCH, offset=HTTP_LEADS)  # new leads, not the same again
        )
        details = {
            "leads": HTTP_LEADS,
            "batch": BATCH,
            "clients": CLIENTS,
            "failures": failures,
            "handed_off": handed,
            "database": label,
        }
        results.append(
            Result(
                f"intake HTTP batch of {BATCH}, {label}: throughput, 16 clients",
                HTTP_LEADS / elapsed,
                "leads/s",
                5000,
                details=details,
            )
        )
        peak = children_peak_mb()  # after both loads, the worker's sends included
    results.append(
        Result(
            f"peak memory of handoff serve under the intake load, {label}",
            peak,
            "MB",
            150,
            higher_is_better=False,
            details={"measure": "VmHWM of the serve process", "database": label},
        )
    )
    return results


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "intake") as found:
        for label, url in found:
            folder = Path(tmp) / label
            folder.mkdir()
            results += _http(label, url, folder)
    return results
