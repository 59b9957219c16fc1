"""Speed to lead: from `POST /api/leads` to the card reaching Slack, one lead a second,
against a real `handoff serve` (its worker in the same process) and the local Slack
sandbox, which answers in about a millisecond. The card's arrival is the moment the
sandbox received chat.postMessage. On SQLite, and on PostgreSQL when
$HANDOFF_TEST_POSTGRES_URL is set (a fresh schema).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bot.sandbox.slack_api import SlackSandbox
from tests.bench.common import BENCH_TOKEN, Result, bench_databases, serve_env
from tests.helpers import RULES_TOML, TEAM_TOML, demo, lead_body, running_serve

LEADS = 30


def _measure(database_url: str, folder: Path) -> list[float]:
    """Gets the milliseconds from each post to its card, one lead a second."""
    (folder / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    with SlackSandbox() as sandbox:
        env = serve_env(database_url, sandbox.url)
        latencies = []
        with running_serve(folder, env) as url, httpx.Client(base_url=url, timeout=10) as client:
            time.sleep(2)  # the worker takes its lease
            for number in range(LEADS):
                began = time.time()
                body = lead_body(f"S{number}", employees=100, country="US", activities=[demo()])
                response = client.post(
                    "/api/leads", json=body, headers={"Authorization": f"Bearer {BENCH_TOKEN}"}
                )
                response.raise_for_status()
                while len(sandbox.calls_to("chat.postMessage")) <= number:
                    if time.time() - began > 10:
                        raise RuntimeError(f"card {number} did not arrive in 10 s")
                    time.sleep(0.001)
                arrived = sandbox.calls_to("chat.postMessage")[number].at
                latencies.append((arrived - began) * 1000)
                time.sleep(max(0.0, 1.0 - (time.time() - began)))
    return latencies


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "speed") as found:
        for label, url in found:
            latencies = sorted(_measure(url, Path(tmp)))
            p50 = statistics.median(latencies)
            p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
            details = {"leads": LEADS, "every_s": 1, "max_ms": round(latencies[-1], 1)}
            results += [
                Result(
                    f"speed to lead, intake to card, {label} (p50)",
                    p50,
                    "ms",
                    target=50,
                    higher_is_better=False,
                    details=details,
                ),
                Result(
                    f"speed to lead, intake to card, {label} (p99)",
                    p99,
                    "ms",
                    target=250,
                    higher_is_better=False,
                ),
            ]
    return results
