"""A burst of 60 routable leads: how long until every card has reached its owner.

The 60 leads go in as one `POST /api/leads/batch` to a real `handoff serve` (its worker in
the same process) with the local Slack sandbox, which holds posts to Slack's pace (one a
second per conversation after a burst of 3, HTTP 429 beyond). Ten reps take them in turn.
Timed from the POST to the sandbox receiving the last card, in two modes:

- `team.notify = "channel"`: every card goes through the one team channel, so the last
  owner waits for the 59 cards before theirs;
- `"dm"`: each card goes to its rep's DM, paced per DM, so each rep's six cards go out at
  Slack's pace for that DM, beside everyone else's.

Slack's pace is the floor: no sender can beat it. It is printed beside each figure, and
the target is that floor plus 10% and a second. On SQLite, and on PostgreSQL when
$HANDOFF_TEST_POSTGRES_URL is set (a fresh schema).
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bot.sandbox.slack_api import SlackSandbox
from bot.sandbox.slack_state import Call
from tests.bench.common import BENCH_TOKEN, Result, bench_databases, serve_env
from tests.helpers import RULES_TOML, demo, lead_body, running_serve

LEADS = 60
REPS = 10
BURST, RATE = 3, 1.0  # Slack's: a burst of 3, then one a second per conversation


def _config(mode: str) -> str:
    reps = "".join(
        f'[[team.reps]]\nslack_id = "U0REP{i:02d}"\nname = "Rep {i}"\nmanager = "U0DANA"\n'
        for i in range(REPS)
    )
    return (
        RULES_TOML
        + '[team]\ntimezone = "America/New_York"\nchannel = "C0123LEADS"\n'
        + f'notify = {{ mql = "{mode}", sql = "{mode}", high_priority = "{mode}" }}\n'
        + reps
    )


def floor_s(per_owner: Counter[str]) -> float:
    """Gets the least time Slack's pace allows for every owner to get all theirs."""
    most = max(per_owner.values())
    return max(0.0, (most - BURST) / RATE)


def _burst(database_url: str, folder: Path, mode: str) -> tuple[float, Counter[str]]:
    """Gets the seconds from the POST to the last card, and the cards per owner."""
    (folder / "handoff.toml").write_text(_config(mode))
    with SlackSandbox() as sandbox:
        env = serve_env(database_url, sandbox.url)
        leads = [
            lead_body(f"B{mode}{i}", employees=100, country="US", activities=[demo()])
            for i in range(LEADS)
        ]
        with running_serve(folder, env) as url, httpx.Client(base_url=url, timeout=30) as client:
            time.sleep(2)  # the worker takes its lease
            began = time.time()
            response = client.post(
                "/api/leads/batch",
                json={"leads": leads},
                headers={"Authorization": f"Bearer {BENCH_TOKEN}"},
            )
            response.raise_for_status()
            while len(cards := _cards(sandbox)) < LEADS:
                if time.time() - began > 180:
                    raise RuntimeError(f"{len(cards)} of {LEADS} cards in 180 s ({mode})")
                time.sleep(0.01)
            return max(call.at for call in cards) - began, Counter(
                str(call.args["channel"]) for call in cards
            )


def _cards(sandbox: SlackSandbox) -> list[Call]:
    return [
        call
        for call in sandbox.calls_to("chat.postMessage")
        if "metadata" in call.args and "thread_ts" not in call.args
    ]


def run() -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp), "burst") as found:
        for label, url in found:
            for mode in ("channel", "dm"):
                folder = Path(tmp) / f"{label}-{mode}"
                folder.mkdir()
                seconds, per_owner = _burst(
                    url.replace("burst.db", f"burst-{mode}.db"), folder, mode
                )
                floor = floor_s(per_owner)
                results.append(
                    Result(
                        f"burst of {LEADS} to every owner, notify={mode}, {label}"
                        f" (Slack's pace: {floor:.0f} s)",
                        seconds,
                        "s",
                        target=math.ceil((floor * 1.1 + 1) * 10) / 10,
                        higher_is_better=False,
                        details={
                            "leads": LEADS,
                            "reps": REPS,
                            "owners": len(per_owner),
                            "most_for_one_owner": max(per_owner.values()),
                            "slack_pace_floor_s": floor,
                        },
                    )
                )
    return results
